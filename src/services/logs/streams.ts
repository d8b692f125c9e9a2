import type { RequestContext } from '../../server/context.js';
import { StoreError, type LogGroupRecord, type LogStreamRecord } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { LogsErrors, groupNotFound, streamNotFound } from './errors.js';
import { account, decodeToken, encodeToken, groupRefOf, requireGroup, sequenceToken, streamArn } from './common.js';
import { protectedGroup } from './groups.js';

/**
 * Log streams: create, delete, describe.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
 */
export async function createLogStream(i: { logGroupName: string; logStreamName: string }, ctx: RequestContext): Promise<void> {
  try {
    await ctx.runtime.store.transaction(async (tx) => {
      const g = await tx.logs.getGroup(account(ctx), ctx.region, i.logGroupName);
      if (!g) throw groupNotFound();
      await tx.logs.createStream({ groupId: g.id, name: i.logStreamName, createdAt: now() });
    });
  } catch (e) {
    if (e instanceof StoreError && e.kind === 'Conflict') throw LogsErrors.ResourceAlreadyExistsException({ message: 'The specified log stream already exists' });
    throw e;
  }
}

export async function deleteLogStream(i: { logGroupName: string; logStreamName: string }, ctx: RequestContext): Promise<void> {
  await ctx.runtime.store.transaction(async (tx) => {
    const g = await tx.logs.getGroup(account(ctx), ctx.region, i.logGroupName);
    if (!g) throw groupNotFound();
    if (g.deletionProtection) throw protectedGroup(g);
    const s = await tx.logs.getStream(g.id, i.logStreamName);
    if (!s) throw streamNotFound();
    await tx.logs.deleteStream(s.id);
  });
}

function describe(g: LogGroupRecord, s: LogStreamRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { logStreamName: s.name, creationTime: s.createdAt };
  if (s.firstEventTimestamp !== undefined) out.firstEventTimestamp = s.firstEventTimestamp;
  if (s.lastEventTimestamp !== undefined) out.lastEventTimestamp = s.lastEventTimestamp;
  if (s.lastIngestionTime !== undefined) {
    out.lastIngestionTime = s.lastIngestionTime;
    out.uploadSequenceToken = sequenceToken(s.lastIngestionTime);
  }
  out.arn = streamArn(g, s.name);
  // "As of June 17, 2019, this parameter is no longer supported for log streams, and is always reported as zero."
  out.storedBytes = 0;
  return out;
}

type After = { name: string; lastEventTimestamp?: number };
const isAfter = (v: unknown): v is After => !!v && typeof (v as After).name === 'string' && ((v as After).lastEventTimestamp === undefined || Number.isSafeInteger((v as After).lastEventTimestamp));

export async function describeLogStreams(
  i: { logGroupName?: string; logGroupIdentifier?: string; logStreamNamePrefix?: string; orderBy?: 'LogStreamName' | 'LastEventTime'; descending?: boolean; nextToken?: string; limit?: number },
  ctx: RequestContext,
): Promise<unknown> {
  const orderBy = i.orderBy ?? 'LogStreamName';
  if (orderBy === 'LastEventTime' && i.logStreamNamePrefix !== undefined) {
    throw LogsErrors.InvalidParameterException({ message: 'Cannot order by LastEventTime with a logStreamNamePrefix.' });
  }
  const g = await requireGroup(ctx.runtime.store, groupRefOf(i, ctx));
  const limit = i.limit ?? 50;
  const after = decodeToken('streams', i.nextToken, isAfter);
  const rows = await ctx.runtime.store.logs.listStreams(g.id, { prefix: i.logStreamNamePrefix, orderBy, descending: i.descending ?? false, after, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const out: Record<string, unknown> = { logStreams: page.map((s) => describe(g, s)) };
  if (rows.length > limit) {
    const last = page[page.length - 1]!;
    out.nextToken = encodeToken('streams', { name: last.name, lastEventTimestamp: last.lastEventTimestamp });
  }
  return out;
}
