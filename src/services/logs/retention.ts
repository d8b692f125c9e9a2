import type { MetadataStore } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { log } from '../../util/log.js';
import { retentionCutoff } from './common.js';
import { drainLogWrites } from './ingest.js';

/**
 * Retention, enforced. Reads already hide events older than a group's retention (so an
 * expired event is never returned); this sweep deletes them, in transactions of a few
 * thousand rows so writers are never held up for long, and storedBytes drops with it.
 * AWS deletes expired events "typically within 72 hours"; Nimbus every sweep interval.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
const BATCH = 5000;

export async function sweepExpiredEvents(store: MetadataStore, at = now()): Promise<number> {
  let total = 0;
  for (const g of await store.logs.groupsWithRetention()) {
    const cutoff = retentionCutoff(g, at);
    for (;;) {
      const n = await store.transaction((tx) => tx.logs.deleteEventsBefore(g.id, cutoff, BATCH));
      total += n;
      if (n < BATCH) break;
    }
  }
  return total;
}

export interface LogsBackground {
  /** Stops the sweep and waits for pending appends to commit. */
  stop(): Promise<void>;
}

/** Starts the retention sweep (now, then every `intervalMs`). */
export function startLogsBackground(store: MetadataStore, intervalMs: number): LogsBackground {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = sweepExpiredEvents(store)
      .then((n) => n && log.debug(`logs retention sweep deleted ${n} expired events`))
      .catch((e) => log.warn(`logs retention sweep failed: ${(e as Error).message}`))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  setImmediate(tick);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await drainLogWrites(store);
    },
  };
}
