import type { Runtime } from '../../server/runtime.js';
import type { LogEventRecord, LogGroupRecord, LogStreamRecord, MetadataStore, Transaction } from '../../storage/metadata.js';
import { StoreError } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { groupNotFound, streamNotFound } from './errors.js';

/**
 * The one way events reach the store: PutLogEvents and the internal appendLogEvents API
 * (Lambda's START/END/REPORT lines and function output) both submit here. Submissions that
 * arrive while a write is being prepared or committed are written together, in one
 * transaction, so many small appends per second cost a few commits, not one each. A
 * submission resolves once its transaction has committed.
 */
export interface AppendRequest {
  accountId: string;
  region: string;
  group: string;
  stream: string;
  events: Array<{ timestamp: number; message: string }>;
}

interface Pending extends AppendRequest {
  /** Create the group and stream when missing (internal API), or fail (PutLogEvents). */
  create: boolean;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

export interface AppendResult {
  events: LogEventRecord[];
}

class LogsWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> | undefined;

  constructor(private readonly store: MetadataStore) {}

  submit(req: AppendRequest, create: boolean): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ ...req, create, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length || this.flushing || this.scheduled) {
      await (this.flushing ?? new Promise((r) => setImmediate(r)));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate lets every request already parsed in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.queue.length) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let outcomes: Array<AppendResult | Error>;
    try {
      outcomes = await this.store.transaction(async (tx) => {
        const groups = new Map<string, LogGroupRecord>();
        const streams = new Map<string, LogStreamRecord>();
        const ingestion = now();
        const out: Array<AppendResult | Error> = [];
        for (const p of batch) {
          const g = await groupFor(tx, groups, p);
          if (!g) {
            out.push(groupNotFound());
            continue;
          }
          const s = await streamFor(tx, streams, g, p);
          if (!s) {
            out.push(streamNotFound());
            continue;
          }
          out.push({ events: await tx.logs.putEvents(g.id, s.id, p.events, ingestion) });
        }
        return out;
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o instanceof Error) p.reject(o);
      else p.resolve(o);
    });
  }
}

async function groupFor(tx: Transaction, cache: Map<string, LogGroupRecord>, p: Pending): Promise<LogGroupRecord | undefined> {
  const key = JSON.stringify([p.accountId, p.region, p.group]);
  let g = cache.get(key) ?? (await tx.logs.getGroup(p.accountId, p.region, p.group));
  if (!g && p.create) {
    g = await tx.logs.createGroup({ account: p.accountId, region: p.region, name: p.group, createdAt: now(), logGroupClass: 'STANDARD', deletionProtection: false, tags: {} });
  }
  if (g) cache.set(key, g);
  return g;
}

async function streamFor(tx: Transaction, cache: Map<string, LogStreamRecord>, g: LogGroupRecord, p: Pending): Promise<LogStreamRecord | undefined> {
  const key = `${g.id}:${p.stream}`;
  let s = cache.get(key) ?? (await tx.logs.getStream(g.id, p.stream));
  if (!s && p.create) {
    try {
      s = await tx.logs.createStream({ groupId: g.id, name: p.stream, createdAt: now() });
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      s = await tx.logs.getStream(g.id, p.stream);
    }
  }
  if (s) cache.set(key, s);
  return s;
}

const writers = new WeakMap<MetadataStore, LogsWriter>();

function writerFor(store: MetadataStore): LogsWriter {
  let w = writers.get(store);
  if (!w) {
    w = new LogsWriter(store);
    writers.set(store, w);
  }
  return w;
}

/** PutLogEvents' write: the group and stream must exist (ResourceNotFoundException). */
export function putEvents(store: MetadataStore, req: AppendRequest): Promise<AppendResult> {
  return writerFor(store).submit(req, false);
}

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;

/**
 * Internal API (for Lambda): appends events to a log stream, creating the group and the
 * stream when they do not exist. Events may come in any order (they are stored in
 * timestamp order, ties in call order) and are not subject to PutLogEvents' batch rules.
 * Calls made close together share one transaction; the promise resolves once the events
 * are committed, i.e. visible to GetLogEvents and FilterLogEvents.
 *
 *   await appendLogEvents(runtime, { accountId, region, group: '/aws/lambda/fn',
 *     stream: '2025/01/01/[$LATEST]abc', events: [{ timestamp: Date.now(), message: 'START …' }] });
 */
export async function appendLogEvents(
  runtime: Pick<Runtime, 'store'>,
  req: { accountId: string; region: string; group: string; stream: string; events: Array<{ timestamp: number; message: string }> },
): Promise<void> {
  if (!GROUP_NAME.test(req.group)) throw new Error(`appendLogEvents: invalid log group name ${JSON.stringify(req.group)}`);
  if (!STREAM_NAME.test(req.stream)) throw new Error(`appendLogEvents: invalid log stream name ${JSON.stringify(req.stream)}`);
  const events = req.events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.timestamp - b.e.timestamp || a.i - b.i)
    .map(({ e }) => ({ timestamp: Math.trunc(e.timestamp), message: String(e.message) }));
  await writerFor(runtime.store).submit({ ...req, events }, true);
}

/** Waits for every pending append of this store to commit (shutdown). */
export function drainLogWrites(store: MetadataStore): Promise<void> {
  return writers.get(store)?.drain() ?? Promise.resolve();
}
