import type { RequestContext } from '../../server/context.js';
import type { LogCursor, LogGroupRecord, LogStreamRecord, MetadataStore } from '../../storage/metadata.js';
import { LogsErrors, groupNotFound, invalidToken, streamNotFound } from './errors.js';
import { now } from '../../util/clock.js';

/** Helpers shared by the Logs handlers: who and where, ARNs, group lookup, tokens. */
export const DAY_MS = 86_400_000;

/** Log groups belong to the caller's account, in the request's region. */
export function account(ctx: RequestContext): string {
  return ctx.principal?.accountId || ctx.runtime.config.accountId;
}

export interface GroupRef {
  account: string;
  region: string;
  name: string;
}

/** The log group ARN without the trailing ":*" (logGroupArn; what the tagging APIs take). */
export function groupArn(g: GroupRef): string {
  return `arn:aws:logs:${g.region}:${g.account}:log-group:${g.name}`;
}

export function streamArn(g: GroupRef, stream: string): string {
  return `${groupArn(g)}:log-stream:${stream}`;
}

/**
 * What IAM evaluates a log-group action on. AWS authorizes group-level actions on
 * "…:log-group:<name>:log-stream:" (its AccessDenied messages name that resource), which is
 * why policies grant "…:log-group:<name>:*"; DescribeLogGroups names no group at all.
 */
export function groupAuthArn(g: GroupRef): string {
  return `${groupArn(g)}:log-stream:`;
}

const ARN = /^arn:aws[\w-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([^:]+)(?::\*)?$/;

/** A log group named by name or ARN (logGroupIdentifier, resourceArn). */
export function parseGroupArn(arn: string): GroupRef | undefined {
  const m = ARN.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : undefined;
}

/**
 * logGroupName or logGroupIdentifier (a name or an ARN): exactly one of them.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
 */
export function groupRefOf(i: { logGroupName?: string; logGroupIdentifier?: string }, ctx: RequestContext): GroupRef {
  if (i.logGroupName !== undefined && i.logGroupIdentifier !== undefined) {
    throw LogsErrors.ValidationException({ message: 'LogGroup name and LogGroup ARN are mutually exclusive parameters.' });
  }
  const id = i.logGroupIdentifier;
  if (id !== undefined) {
    if (id.startsWith('arn:')) {
      const ref = parseGroupArn(id);
      if (!ref) throw LogsErrors.InvalidParameterException({ message: `Invalid log group identifier: ${id}` });
      return ref;
    }
    return { account: account(ctx), region: ctx.region, name: id };
  }
  if (i.logGroupName === undefined) {
    throw LogsErrors.InvalidParameterException({ message: 'Either logGroupName or logGroupIdentifier must be specified.' });
  }
  return { account: account(ctx), region: ctx.region, name: i.logGroupName };
}

/** The same, never throwing: for building the ARN to authorize before the handler runs. */
export function groupRefLoose(i: { logGroupName?: string; logGroupIdentifier?: string }, ctx: RequestContext): GroupRef {
  try {
    return groupRefOf(i, ctx);
  } catch {
    return { account: account(ctx), region: ctx.region, name: i.logGroupName ?? i.logGroupIdentifier ?? '' };
  }
}

export async function requireGroup(store: MetadataStore, ref: GroupRef): Promise<LogGroupRecord> {
  const g = await store.logs.getGroup(ref.account, ref.region, ref.name);
  if (!g) throw groupNotFound();
  return g;
}

export async function requireStream(store: MetadataStore, g: LogGroupRecord, name: string): Promise<LogStreamRecord> {
  const s = await store.logs.getStream(g.id, name);
  if (!s) throw streamNotFound();
  return s;
}

/** The oldest timestamp a group still keeps: events before it are expired (never returned). */
export function retentionCutoff(g: LogGroupRecord, at = now()): number {
  return g.retentionInDays === undefined ? 0 : at - g.retentionInDays * DAY_MS;
}

/** Retention periods PutRetentionPolicy accepts. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** 56 decimal digits naming a position in event order, as AWS's event ids and tokens look. */
export function positionDigits(c: LogCursor): string {
  return `${String(c.timestamp).padStart(16, '0')}${String(c.seq).padStart(40, '0')}`;
}

export function parsePositionDigits(d: string): LogCursor | undefined {
  if (!/^\d{56}$/.test(d)) return undefined;
  const timestamp = Number(d.slice(0, 16));
  const seq = Number(d.slice(16));
  return Number.isSafeInteger(timestamp) && Number.isSafeInteger(seq) ? { timestamp, seq } : undefined;
}

/** A sequence token (ignored on input since 2023, still returned): the stream's last write. */
export function sequenceToken(seq: number): string {
  return String(seq).padStart(56, '0');
}

/** Opaque page tokens for the Describe* and FilterLogEvents operations. */
export function encodeToken(kind: string, value: unknown): string {
  return Buffer.from(JSON.stringify([kind, value]), 'utf8').toString('base64url');
}

export function decodeToken<T>(kind: string, token: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed[0] === kind && check(parsed[1])) return parsed[1];
  } catch {
    /* fall through */
  }
  throw invalidToken();
}

export function isCursor(v: unknown): v is LogCursor {
  const c = v as LogCursor;
  return !!c && typeof c === 'object' && Number.isSafeInteger(c.timestamp) && Number.isSafeInteger(c.seq);
}
