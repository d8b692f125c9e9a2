import type { RequestContext } from '../../server/context.js';
import type { LogCursor, LogEventRecord } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { LogsErrors, invalidToken } from './errors.js';
import {
  DAY_MS,
  decodeToken,
  encodeToken,
  groupRefOf,
  isCursor,
  parsePositionDigits,
  positionDigits,
  requireGroup,
  requireStream,
  retentionCutoff,
  sequenceToken,
} from './common.js';
import { putEvents } from './ingest.js';
import { compileFilterPattern, FilterPatternError } from './filter-pattern.js';

/**
 * PutLogEvents, GetLogEvents and FilterLogEvents.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
 */
const MAX_BATCH_BYTES = 1_048_576;
/** Each event counts its message's UTF-8 bytes plus 26. */
const EVENT_OVERHEAD = 26;
const HOUR_MS = 3_600_000;

interface InputEvent {
  timestamp: number;
  message: string;
}

/**
 * The batch rules, in AWS's words where it has them:
 * - at most 1,048,576 bytes ("Upload too large: N bytes exceeds limit of 1048576");
 * - chronological order ("Log events in a single PutLogEvents request must be in
 *   chronological order." — still enforced, whatever older notes say);
 * - events more than 14 days old, or older than the group's retention, or more than 2 hours
 *   in the future are rejected while the rest are stored (rejectedLogEventsInfo);
 * - the events kept may not span more than 24 hours.
 * The sequence token is ignored, as AWS has done since January 2023.
 */
export async function putLogEvents(i: { logGroupName: string; logStreamName: string; logEvents: InputEvent[]; sequenceToken?: string }, ctx: RequestContext): Promise<unknown> {
  const events = i.logEvents;
  let size = 0;
  for (const e of events) size += Buffer.byteLength(e.message, 'utf8') + EVENT_OVERHEAD;
  if (size > MAX_BATCH_BYTES) throw LogsErrors.InvalidParameterException({ message: `Upload too large: ${size} bytes exceeds limit of ${MAX_BATCH_BYTES}` });
  for (let k = 1; k < events.length; k++) {
    if (events[k]!.timestamp < events[k - 1]!.timestamp) {
      throw LogsErrors.InvalidParameterException({ message: 'Log events in a single PutLogEvents request must be in chronological order.' });
    }
  }
  const store = ctx.runtime.store;
  const ref = groupRefOf(i, ctx);
  const g = await requireGroup(store, ref);
  const t = now();
  const tooOldBefore = t - 14 * DAY_MS;
  const expiredBefore = retentionCutoff(g, t);
  const tooNewAfter = t + 2 * HOUR_MS;
  const n = events.length;
  let tooOldEnd = 0;
  while (tooOldEnd < n && events[tooOldEnd]!.timestamp < tooOldBefore) tooOldEnd++;
  let expiredEnd = tooOldEnd;
  while (expiredEnd < n && events[expiredEnd]!.timestamp < expiredBefore) expiredEnd++;
  let tooNewStart = n;
  while (tooNewStart > expiredEnd && events[tooNewStart - 1]!.timestamp > tooNewAfter) tooNewStart--;
  const kept = events.slice(expiredEnd, tooNewStart);
  if (kept.length && kept[kept.length - 1]!.timestamp - kept[0]!.timestamp > DAY_MS) {
    throw LogsErrors.InvalidParameterException({ message: 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.' });
  }
  let lastSeq: number;
  if (kept.length) {
    const r = await putEvents(store, { accountId: ref.account, region: ref.region, group: ref.name, stream: i.logStreamName, events: kept.map((e) => ({ timestamp: e.timestamp, message: e.message })) });
    lastSeq = r.events[r.events.length - 1]!.seq;
  } else {
    const s = await requireStream(store, g, i.logStreamName);
    lastSeq = s.lastIngestionTime ?? 0;
  }
  const out: Record<string, unknown> = { nextSequenceToken: sequenceToken(lastSeq) };
  const rejected: Record<string, number> = {};
  if (tooOldEnd > 0) rejected.tooOldLogEventEndIndex = tooOldEnd;
  if (expiredEnd > tooOldEnd) rejected.expiredLogEventEndIndex = expiredEnd;
  if (tooNewStart < n) rejected.tooNewLogEventStartIndex = tooNewStart;
  if (Object.keys(rejected).length) out.rejectedLogEventsInfo = rejected;
  return out;
}

/** Keeps the first events (in reading order) that fit in a 1 MB response, at least one. */
function capBytes(rows: LogEventRecord[]): LogEventRecord[] {
  let bytes = 0;
  for (let k = 0; k < rows.length; k++) {
    bytes += Buffer.byteLength(rows[k]!.message, 'utf8') + EVENT_OVERHEAD;
    if (bytes > MAX_BATCH_BYTES && k > 0) return rows.slice(0, k);
  }
  return rows;
}

const TOKEN = /^([fb])\/(\d{56})\/s$/;

function token(dir: 'f' | 'b', c: LogCursor): string {
  return `${dir}/${positionDigits(c)}/s`;
}

/**
 * GetLogEvents' tokens are positions in the stream: "f/<position>/s" reads forward from
 * just after it, "b/<position>/s" backward from just before it. A read that finds nothing
 * more in its direction returns the token it was given, so "the same token back" means the
 * end (or, backward, the start) of the stream.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
 */
export async function getLogEvents(
  i: { logGroupName?: string; logGroupIdentifier?: string; logStreamName: string; startTime?: number; endTime?: number; nextToken?: string; limit?: number; startFromHead?: boolean },
  ctx: RequestContext,
): Promise<unknown> {
  const store = ctx.runtime.store;
  const g = await requireGroup(store, groupRefOf(i, ctx));
  const s = await requireStream(store, g, i.logStreamName);
  let direction: 'forward' | 'backward' = i.startFromHead ? 'forward' : 'backward';
  let cursor: LogCursor | undefined;
  if (i.nextToken !== undefined) {
    const m = TOKEN.exec(i.nextToken);
    cursor = m ? parsePositionDigits(m[2]!) : undefined;
    if (!m || !cursor) throw invalidToken();
    direction = m[1] === 'f' ? 'forward' : 'backward';
  }
  const from = Math.max(i.startTime ?? 0, retentionCutoff(g));
  const rows = capBytes(await store.logs.streamEvents(s.id, { direction, cursor, from, to: i.endTime, limit: i.limit ?? 10_000 }));
  if (direction === 'backward') rows.reverse();
  const events = rows.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime }));
  if (rows.length) {
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    return { events, nextForwardToken: token('f', last), nextBackwardToken: token('b', first) };
  }
  if (i.nextToken !== undefined && cursor) {
    // Nothing further this way: the same token back, and the way back to where it points.
    return direction === 'forward'
      ? { events, nextForwardToken: i.nextToken, nextBackwardToken: token('b', { timestamp: cursor.timestamp, seq: cursor.seq + 1 }) }
      : { events, nextForwardToken: token('f', { timestamp: cursor.timestamp, seq: Math.max(0, cursor.seq - 1) }), nextBackwardToken: i.nextToken };
  }
  const start = { timestamp: from, seq: 0 };
  return { events, nextForwardToken: token('f', start), nextBackwardToken: token('b', start) };
}

/** Events examined per FilterLogEvents call at most: a page's cost never grows with the group. */
const SCAN_BUDGET = 10_000;
const SCAN_BATCH = 1000;

/**
 * FilterLogEvents: a group's events in (timestamp, ingestion) order across its streams,
 * filtered by stream and pattern. A page stops at `limit` matches, 1 MB, or after examining
 * 10,000 events, so it can be partly full or empty and still carry a nextToken ("Partially
 * full or empty pages don't necessarily mean that pagination is finished"); no nextToken
 * means the search is complete. searchedLogStreams is always empty, as AWS has returned it
 * since 2020. startTime and endTime are both inclusive here.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
export async function filterLogEvents(
  i: {
    logGroupName?: string;
    logGroupIdentifier?: string;
    logStreamNames?: string[];
    logStreamNamePrefix?: string;
    startTime?: number;
    endTime?: number;
    filterPattern?: string;
    nextToken?: string;
    limit?: number;
  },
  ctx: RequestContext,
): Promise<unknown> {
  if (i.logStreamNames !== undefined && i.logStreamNamePrefix !== undefined) {
    throw LogsErrors.InvalidParameterException({ message: 'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.' });
  }
  let match: (m: string) => boolean;
  try {
    match = compileFilterPattern(i.filterPattern);
  } catch (e) {
    if (e instanceof FilterPatternError) throw LogsErrors.InvalidParameterException({ message: e.message });
    throw e;
  }
  const store = ctx.runtime.store;
  const g = await requireGroup(store, groupRefOf(i, ctx));
  const after = decodeToken('filter', i.nextToken, isCursor);
  const limit = i.limit ?? 10_000;
  let streamIds: number[] | undefined;
  if (i.logStreamNames) {
    streamIds = [];
    for (const name of new Set(i.logStreamNames)) {
      const s = await store.logs.getStream(g.id, name);
      if (s) streamIds.push(s.id);
    }
    if (streamIds.length === 0) return { events: [], searchedLogStreams: [] };
  }
  const prefix = i.logStreamNamePrefix;
  const from = Math.max(i.startTime ?? 0, retentionCutoff(g));
  const to = i.endTime !== undefined ? i.endTime + 1 : undefined;
  const events: Array<Record<string, unknown>> = [];
  let bytes = 0;
  let scanned = 0;
  let cursor = after;
  let exhausted = false;
  scan: while (events.length < limit && scanned < SCAN_BUDGET && bytes < MAX_BATCH_BYTES) {
    const want = Math.min(SCAN_BATCH, SCAN_BUDGET - scanned);
    const rows = await store.logs.groupEvents(g.id, { after: cursor, from, to, streamIds, limit: want });
    for (const r of rows) {
      scanned++;
      cursor = { timestamp: r.timestamp, seq: r.seq };
      if (prefix !== undefined && !r.streamName!.startsWith(prefix)) continue;
      if (!match(r.message)) continue;
      events.push({ logStreamName: r.streamName, timestamp: r.timestamp, message: r.message, ingestionTime: r.ingestionTime, eventId: positionDigits(r) });
      bytes += Buffer.byteLength(r.message, 'utf8') + EVENT_OVERHEAD;
      if (events.length >= limit || bytes >= MAX_BATCH_BYTES) {
        exhausted = r === rows[rows.length - 1] && rows.length < want;
        break scan;
      }
    }
    if (rows.length < want) {
      exhausted = true;
      break;
    }
  }
  const out: Record<string, unknown> = { events, searchedLogStreams: [] };
  if (!exhausted && cursor) out.nextToken = encodeToken('filter', cursor);
  return out;
}
