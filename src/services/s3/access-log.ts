import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import type { BucketRecord, ObjectRecord } from '../../storage/metadata.js';
import { websiteBucketFromHost } from '../../server/resolve-service.js';
import { uriDecode, uriEncode } from '../../protocol/sigv4/canonical.js';
import { now } from '../../util/clock.js';
import { blobId, s3RequestId } from '../../util/ids.js';
import { log } from '../../util/log.js';
import { S3Errors } from './errors.js';
import { canonicalUserId, requireBucket } from './common.js';
import { storeBucketConfig } from './bucket-configs.js';
import { receiveBody } from './body-writer.js';
import { bufferChunks } from './objects.js';

/**
 * Server access logging: PutBucketLogging / GetBucketLogging, a record in S3's access log
 * format for every request to a logged bucket (failures, anonymous, website, POST Object
 * and preflight requests included) and for lifecycle's actions, and their delivery in
 * batches as objects of the target bucket, written by Nimbus itself.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html
 *
 * Which buckets are logged is held in memory (loaded at start-up from an index on the
 * configuration's name, changed by PutBucketLogging), so a request to any other bucket
 * costs one Map lookup, and nothing at all while no bucket is logged.
 */
export const LOGGING = 'logging';

interface TargetGrant {
  Grantee?: { Type?: string; ID?: string; URI?: string; EmailAddress?: string; DisplayName?: string };
  Permission?: string;
}

export interface LoggingEnabled {
  TargetBucket: string;
  TargetPrefix: string;
  TargetGrants?: TargetGrant[];
  TargetObjectKeyFormat?: { SimplePrefix?: Record<string, never>; PartitionedPrefix?: { PartitionDateSource?: 'EventTime' | 'DeliveryTime' } };
}

interface Logged {
  bucket: BucketRecord;
  config: LoggingEnabled;
}

/** Logged source buckets by name. */
const logged = new Map<string, Logged>();

interface Pending {
  source: Logged;
  /** Records with their event times (for partitions by event time). */
  records: Array<{ at: number; line: string }>;
  bytes: number;
}

/** Records not yet delivered, per source bucket. */
const pending = new Map<string, Pending>();
/** A batch this large is delivered without waiting for the timer. */
const EARLY_FLUSH_BYTES = 1 << 20;
let flushSoon: (() => void) | undefined;

type Input = Record<string, any>;

// ---------------------------------------------------------------------------------------
// PutBucketLogging / GetBucketLogging.

const GRANT_PERMISSIONS = new Set(['FULL_CONTROL', 'READ', 'WRITE']);
const GRANTEE_TYPES = new Set(['CanonicalUser', 'AmazonCustomerByEmail', 'Group']);

function checkLoggingEnabled(e: Input): LoggingEnabled {
  if (typeof e.TargetBucket !== 'string' || e.TargetBucket === '' || typeof e.TargetPrefix !== 'string') throw S3Errors.MalformedXML();
  const out: LoggingEnabled = { TargetBucket: e.TargetBucket, TargetPrefix: e.TargetPrefix };
  if (e.TargetGrants !== undefined) {
    out.TargetGrants = (e.TargetGrants as TargetGrant[]).map((g) => {
      if (!g.Grantee || !GRANTEE_TYPES.has(g.Grantee.Type ?? '') || !GRANT_PERMISSIONS.has(g.Permission ?? '')) throw S3Errors.MalformedXML();
      const grantee: NonNullable<TargetGrant['Grantee']> = { Type: g.Grantee.Type };
      for (const k of ['ID', 'URI', 'EmailAddress', 'DisplayName'] as const) if (g.Grantee[k] !== undefined) grantee[k] = g.Grantee[k];
      return { Grantee: grantee, Permission: g.Permission };
    });
  }
  const f = e.TargetObjectKeyFormat as Input | undefined;
  if (f !== undefined) {
    if ((f.SimplePrefix !== undefined) === (f.PartitionedPrefix !== undefined)) throw S3Errors.MalformedXML();
    if (f.SimplePrefix !== undefined) out.TargetObjectKeyFormat = { SimplePrefix: {} };
    else {
      const src = f.PartitionedPrefix.PartitionDateSource;
      if (src !== undefined && src !== 'EventTime' && src !== 'DeliveryTime') throw S3Errors.MalformedXML();
      out.TargetObjectKeyFormat = { PartitionedPrefix: src === undefined ? {} : { PartitionDateSource: src } };
    }
  }
  return out;
}

export async function putBucketLogging(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const status = (input.BucketLoggingStatus ?? {}) as Input;
  // An empty BucketLoggingStatus turns logging off.
  if (status.LoggingEnabled === undefined) {
    await storeBucketConfig(ctx, bucket, LOGGING, undefined);
    logged.delete(bucket.name);
    return {};
  }
  const config = checkLoggingEnabled(status.LoggingEnabled);
  const target = await ctx.runtime.store.s3.getBucket(config.TargetBucket);
  if (!target) throw S3Errors.InvalidTargetBucketForLogging({ message: 'The target bucket for logging does not exist', TargetBucket: config.TargetBucket });
  if (target.ownerId !== bucket.ownerId) {
    throw S3Errors.InvalidTargetBucketForLogging({ message: 'The owner for the bucket to be logged and the target bucket must be the same.', TargetBucket: config.TargetBucket });
  }
  if (target.region !== bucket.region) {
    throw S3Errors.CrossLocationLoggingProhibitted({ TargetBucketLocation: target.region, SourceBucketLocation: bucket.region });
  }
  await storeBucketConfig(ctx, bucket, LOGGING, config);
  logged.set(bucket.name, { bucket, config });
  return {};
}

export async function getBucketLogging(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  // Not logged: an empty <BucketLoggingStatus/>.
  const text = await ctx.runtime.store.s3.getBucketConfig(bucket.id, LOGGING);
  return { LoggingEnabled: text === undefined ? undefined : (JSON.parse(text) as LoggingEnabled) };
}

/** A deleted bucket is no longer logged (a new bucket of that name is not, until configured). */
export function forgetAccessLogging(bucket: string): void {
  logged.delete(bucket);
}

// ---------------------------------------------------------------------------------------
// Records.

/**
 * The log's operation names (REST.<method>.<resource type>), by model operation; what is
 * not listed is REST.<method>.OBJECT or .BUCKET.
 */
const OPERATIONS: Record<string, string> = {
  CreateBucket: 'REST.PUT.BUCKET',
  DeleteBucket: 'REST.DELETE.BUCKET',
  HeadBucket: 'REST.HEAD.BUCKET',
  GetBucketLocation: 'REST.GET.LOCATION',
  ListObjects: 'REST.GET.BUCKET',
  ListObjectsV2: 'REST.GET.BUCKET',
  ListObjectVersions: 'REST.GET.BUCKETVERSIONS',
  PutObject: 'REST.PUT.OBJECT',
  GetObject: 'REST.GET.OBJECT',
  HeadObject: 'REST.HEAD.OBJECT',
  DeleteObject: 'REST.DELETE.OBJECT',
  DeleteObjects: 'REST.POST.MULTI_OBJECT_DELETE',
  CopyObject: 'REST.COPY.OBJECT',
  GetObjectAttributes: 'REST.GET.OBJECT_ATTRIBUTES',
  PutBucketVersioning: 'REST.PUT.VERSIONING',
  GetBucketVersioning: 'REST.GET.VERSIONING',
  CreateMultipartUpload: 'REST.POST.UPLOADS',
  UploadPart: 'REST.PUT.PART',
  UploadPartCopy: 'REST.COPY.PART',
  CompleteMultipartUpload: 'REST.POST.UPLOAD',
  AbortMultipartUpload: 'REST.DELETE.UPLOAD',
  ListParts: 'REST.GET.UPLOAD',
  ListMultipartUploads: 'REST.GET.UPLOADS',
  PutBucketPolicy: 'REST.PUT.BUCKETPOLICY',
  GetBucketPolicy: 'REST.GET.BUCKETPOLICY',
  DeleteBucketPolicy: 'REST.DELETE.BUCKETPOLICY',
  GetBucketPolicyStatus: 'REST.GET.POLICY_STATUS',
  PutPublicAccessBlock: 'REST.PUT.PUBLIC_ACCESS_BLOCK',
  GetPublicAccessBlock: 'REST.GET.PUBLIC_ACCESS_BLOCK',
  DeletePublicAccessBlock: 'REST.DELETE.PUBLIC_ACCESS_BLOCK',
  PutBucketCors: 'REST.PUT.CORS',
  GetBucketCors: 'REST.GET.CORS',
  DeleteBucketCors: 'REST.DELETE.CORS',
  PutBucketWebsite: 'REST.PUT.WEBSITE',
  GetBucketWebsite: 'REST.GET.WEBSITE',
  DeleteBucketWebsite: 'REST.DELETE.WEBSITE',
  PutObjectTagging: 'REST.PUT.OBJECT_TAGGING',
  GetObjectTagging: 'REST.GET.OBJECT_TAGGING',
  DeleteObjectTagging: 'REST.DELETE.OBJECT_TAGGING',
  PutBucketTagging: 'REST.PUT.TAGGING',
  GetBucketTagging: 'REST.GET.TAGGING',
  DeleteBucketTagging: 'REST.DELETE.TAGGING',
  PutBucketAcl: 'REST.PUT.ACL',
  GetBucketAcl: 'REST.GET.ACL',
  PutObjectAcl: 'REST.PUT.ACL',
  GetObjectAcl: 'REST.GET.ACL',
  PutBucketOwnershipControls: 'REST.PUT.OWNERSHIP_CONTROLS',
  GetBucketOwnershipControls: 'REST.GET.OWNERSHIP_CONTROLS',
  DeleteBucketOwnershipControls: 'REST.DELETE.OWNERSHIP_CONTROLS',
  PutBucketLifecycleConfiguration: 'REST.PUT.LIFECYCLE',
  GetBucketLifecycleConfiguration: 'REST.GET.LIFECYCLE',
  DeleteBucketLifecycle: 'REST.DELETE.LIFECYCLE',
  PutBucketLogging: 'REST.PUT.LOGGING_STATUS',
  GetBucketLogging: 'REST.GET.LOGGING_STATUS',
  PutBucketEncryption: 'REST.PUT.ENCRYPTION',
  GetBucketEncryption: 'REST.GET.ENCRYPTION',
  DeleteBucketEncryption: 'REST.DELETE.ENCRYPTION',
  RestoreObject: 'REST.POST.RESTORE',
  // Requests outside the model (pseudo operations of the pipeline).
  PostObject: 'REST.POST.OBJECT',
  PreflightRequest: 'REST.OPTIONS.PREFLIGHT',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** [06/Feb/2019:00:00:38 +0000] */
export function logTime(t: number): string {
  const d = new Date(t);
  return `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000]`;
}

/** A bare field: "-" when empty, and no spaces, quotes or control characters. */
function field(v: string | number | undefined): string {
  if (v === undefined || v === '') return '-';
  return String(v).replace(/[\s"\\\x00-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A quoted field (Request-URI, Referer, User-Agent): "-" when absent. */
function quoted(v: string | undefined): string {
  return `"${v === undefined || v === '' ? '-' : v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, ' ')}"`;
}

const encodeKey = (key: string) => key.split('/').map(uriEncode).join('/');

/** The fields of one record, in the log format's order. */
export interface AccessRecord {
  bucketOwner: string;
  bucket: string;
  time: number;
  remoteIp?: string;
  requester?: string;
  requestId: string;
  operation: string;
  key?: string;
  requestUri?: string;
  status?: number;
  errorCode?: string;
  bytesSent?: number;
  objectSize?: number;
  totalTime?: number;
  turnAroundTime?: number;
  referer?: string;
  userAgent?: string;
  versionId?: string;
  hostId?: string;
  signatureVersion?: string;
  cipherSuite?: string;
  authenticationType?: string;
  hostHeader?: string;
  tlsVersion?: string;
  accessPointArn?: string;
  aclRequired?: boolean;
}

/**
 * One line: Bucket Owner, Bucket, Time, Remote IP, Requester, Request ID, Operation, Key,
 * Request-URI, HTTP status, Error Code, Bytes Sent, Object Size, Total Time, Turn-Around
 * Time, Referer, User-Agent, Version Id, Host Id, Signature Version, Cipher Suite,
 * Authentication Type, Host Header, TLS version, Access Point ARN, aclRequired, and the
 * Source Region S3 has lately appended (unknown here: "-").
 */
export function formatRecord(r: AccessRecord): string {
  return [
    field(r.bucketOwner),
    field(r.bucket),
    logTime(r.time),
    field(r.remoteIp),
    field(r.requester),
    field(r.requestId),
    field(r.operation),
    field(r.key === undefined ? undefined : encodeKey(r.key)),
    r.requestUri === undefined ? '-' : quoted(r.requestUri),
    field(r.status),
    field(r.errorCode),
    field(r.bytesSent ? r.bytesSent : undefined),
    field(r.objectSize),
    field(r.totalTime),
    field(r.turnAroundTime),
    quoted(r.referer),
    quoted(r.userAgent),
    field(r.versionId),
    field(r.hostId),
    field(r.signatureVersion),
    field(r.cipherSuite),
    field(r.authenticationType),
    field(r.hostHeader),
    field(r.tlsVersion),
    field(r.accessPointArn),
    r.aclRequired ? 'Yes' : '-',
    '-',
  ].join(' ');
}

/** The bucket and key a request addresses, as the log names them. */
function addressed(ctx: RequestContext): { bucket?: string; key?: string } {
  let bucket: string | undefined;
  let rest: string;
  if (ctx.operation?.name === 'WebsiteGetObject') {
    bucket = websiteBucketFromHost(ctx.header('host'));
    rest = ctx.rawPath.replace(/^\//, '');
  } else if (ctx.hostBucket !== undefined) {
    bucket = ctx.hostBucket;
    rest = ctx.rawPath.replace(/^\//, '');
  } else {
    const path = ctx.rawPath.replace(/^\//, '');
    const slash = path.indexOf('/');
    bucket = slash < 0 ? path : path.slice(0, slash);
    rest = slash < 0 ? '' : path.slice(slash + 1);
  }
  let key: string | undefined;
  try {
    if (bucket !== undefined) bucket = uriDecode(bucket);
    key = rest === '' ? undefined : uriDecode(rest);
  } catch {
    key = rest || undefined;
  }
  return { bucket, key };
}

/** SigV2 or SigV4, and AuthHeader or QueryString, from how the request was signed. */
function signing(ctx: RequestContext): { version?: string; type?: string } {
  const auth = ctx.header('authorization');
  if (auth?.startsWith('AWS4-')) return { version: 'SigV4', type: 'AuthHeader' };
  if (auth?.startsWith('AWS ')) return { version: 'SigV2', type: 'AuthHeader' };
  if (ctx.hasQuery('X-Amz-Signature')) return { version: 'SigV4', type: 'QueryString' };
  if (ctx.hasQuery('Signature') && ctx.hasQuery('AWSAccessKeyId')) return { version: 'SigV2', type: 'QueryString' };
  return {};
}

function operationOf(ctx: RequestContext, key: string | undefined): string {
  const name = ctx.operation?.name;
  if (name === 'WebsiteGetObject') return `WEBSITE.${ctx.method}.OBJECT`;
  if (name !== undefined && OPERATIONS[name]) return OPERATIONS[name];
  // A request refused before its operation was known (a bad signature): what it asked for.
  if (name === undefined && ctx.service) {
    try {
      const op = ctx.service.codec.resolve(ctx, ctx.service.model())?.op.name;
      if (op && OPERATIONS[op]) return OPERATIONS[op];
    } catch {
      // Fall through to the generic name.
    }
  }
  return `REST.${ctx.method}.${key === undefined ? 'BUCKET' : 'OBJECT'}`;
}

/** The object's size, for the operations that read or write one. */
function objectSize(ctx: RequestContext, operation: string): number | undefined {
  const res = ctx.res;
  if (res.statusCode >= 300) return undefined;
  const num = (v: unknown) => (v === undefined || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v));
  switch (operation) {
    case 'REST.GET.OBJECT':
    case 'WEBSITE.GET.OBJECT': {
      const range = /\/(\d+)$/.exec(String(res.getHeader('content-range') ?? ''));
      return range ? Number(range[1]) : num(res.getHeader('content-length'));
    }
    case 'REST.HEAD.OBJECT':
    case 'WEBSITE.HEAD.OBJECT':
      return num(res.getHeader('content-length'));
    case 'REST.PUT.OBJECT':
    case 'REST.PUT.PART':
    case 'REST.POST.OBJECT':
      return num(ctx.header('x-amz-decoded-content-length') ?? ctx.header('content-length'));
    default:
      return undefined;
  }
}

function requesterOf(ctx: RequestContext): string | undefined {
  const p = ctx.principal;
  if (!p || p.type === 'anonymous') return undefined;
  // The account root appears by its canonical user id; IAM identities by their ARN.
  return p.type === 'root' ? canonicalUserId(p.accountId) : p.arn;
}

function enqueue(source: Logged, at: number, line: string): void {
  let p = pending.get(source.bucket.name);
  if (!p || p.source.bucket.id !== source.bucket.id) {
    p = { source, records: [], bytes: 0 };
    pending.set(source.bucket.name, p);
  }
  p.records.push({ at, line });
  p.bytes += line.length + 1;
  if (p.bytes >= EARLY_FLUSH_BYTES) flushSoon?.();
}

/** The S3 service's after-response hook: a record for a request to a logged bucket. */
export function recordAccess(ctx: RequestContext): void {
  if (logged.size === 0) return;
  const { bucket, key } = addressed(ctx);
  const source = bucket === undefined ? undefined : logged.get(bucket);
  if (!source) return;
  const end = performance.now();
  const received = now() - (end - ctx.start);
  const operation = operationOf(ctx, key);
  const status = ctx.res.statusCode;
  const sig = signing(ctx);
  const errorCode = ctx.errorCode ?? (ctx.res.getHeader('x-amz-error-code') as string | undefined);
  const record: AccessRecord = {
    bucketOwner: canonicalUserId(source.bucket.ownerId),
    bucket: source.bucket.name,
    time: received,
    remoteIp: ctx.req.socket.remoteAddress?.replace(/^::ffff:/, ''),
    requester: requesterOf(ctx),
    requestId: ctx.requestId,
    operation,
    key,
    requestUri: `${ctx.method} ${ctx.req.url ?? '/'} HTTP/${ctx.req.httpVersion}`,
    status,
    // A 304 is no error.
    errorCode: status === 304 ? undefined : errorCode,
    bytesSent: ctx.method === 'HEAD' ? 0 : Number(ctx.res.getHeader('content-length') ?? 0) || 0,
    objectSize: objectSize(ctx, operation),
    totalTime: Math.round(end - ctx.start),
    turnAroundTime: ctx.responseAt === undefined ? undefined : Math.max(0, Math.round(ctx.responseAt - (ctx.bodyEndAt ?? ctx.start))),
    referer: ctx.header('referer'),
    userAgent: ctx.header('user-agent'),
    versionId: ctx.queryParam('versionId'),
    hostId: ctx.res.getHeader('x-amz-id-2') as string | undefined,
    signatureVersion: sig.version,
    // Nimbus speaks plain HTTP: no cipher suite, no TLS version.
    authenticationType: sig.type,
    hostHeader: ctx.header('host'),
  };
  enqueue(source, received, formatRecord(record));
}

/** A record of an action S3 takes itself (lifecycle's S3.EXPIRE.OBJECT, S3.TRANSITION.OBJECT, …). */
export function recordServiceAction(bucket: BucketRecord, operation: string, key: string, versionId: string | undefined, size: number | undefined): void {
  const source = logged.get(bucket.name);
  if (!source || source.bucket.id !== bucket.id) return;
  const at = now();
  enqueue(
    source,
    at,
    formatRecord({ bucketOwner: canonicalUserId(bucket.ownerId), bucket: bucket.name, time: at, requester: 'AmazonS3', requestId: s3RequestId(), operation, key, objectSize: size, versionId }),
  );
}

// ---------------------------------------------------------------------------------------
// Delivery.

/** YYYY-mm-DD-HH-MM-SS */
function stamp(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
}

/** The 16 upper-case hex characters that make a log object's key unique. */
function uniqueString(): string {
  return blobId().slice(0, 16).toUpperCase();
}

/**
 * A log object's key: `<prefix>YYYY-mm-DD-HH-MM-SS-<unique>` (SimplePrefix, the default), or
 * `<prefix><account>/<region>/<bucket>/YYYY/MM/DD/YYYY-mm-DD-HH-MM-SS-<unique>`
 * (PartitionedPrefix, the date being the records' or the delivery's).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html#server-log-keyname-format
 */
export function logObjectKey(cfg: LoggingEnabled, source: BucketRecord, delivered: number, partitionDate: number): string {
  const name = `${stamp(delivered)}-${uniqueString()}`;
  if (!cfg.TargetObjectKeyFormat?.PartitionedPrefix) return `${cfg.TargetPrefix}${name}`;
  const d = new Date(partitionDate);
  return `${cfg.TargetPrefix}${source.ownerId}/${source.region}/${source.name}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${name}`;
}

/** Writes a log object into the target bucket as Nimbus (no caller, no authorization). */
async function writeLogObject(runtime: Runtime, target: BucketRecord, key: string, body: Buffer): Promise<void> {
  const { store, blobs } = runtime;
  const received = await receiveBody(bufferChunks(body), blobs, runtime.config.inlineMaxBytes, {});
  const ref: ObjectRecord['body'] = received.temp ? { kind: 'file', id: await blobs.commit(received.temp) } : { kind: 'inline', id: '' }; // the store gives it its id
  const rec: ObjectRecord = {
    bucketId: target.id,
    key,
    size: received.size,
    etag: `"${received.md5Hex}"`,
    lastModified: now(),
    storageClass: 'STANDARD',
    headers: { ContentType: 'text/plain' },
    body: ref,
    versionId: 'null',
  };
  try {
    await store.transaction(async (tx) => {
      const r = await tx.s3.putObject(rec, received.inline);
      const removed = r.removed;
      if (removed?.body.kind === 'file') tx.afterCommit(() => blobs.remove(removed.body.id));
    });
  } catch (e) {
    if (ref.kind === 'file') await blobs.remove(ref.id);
    throw e;
  }
}

/** Delivers every pending batch. */
export async function flushAccessLogs(runtime: Runtime): Promise<void> {
  const batches = [...pending.values()];
  pending.clear();
  for (const p of batches) {
    const cfg = p.source.config;
    try {
      const target = await runtime.store.s3.getBucket(cfg.TargetBucket);
      if (!target) {
        log.warn(`access logs of ${p.source.bucket.name}: target bucket ${cfg.TargetBucket} does not exist; ${p.records.length} record(s) dropped`);
        continue;
      }
      const delivered = now();
      // Partitions by event time put each record under its own day.
      const groups = new Map<string, Array<{ at: number; line: string }>>();
      const byEvent = cfg.TargetObjectKeyFormat?.PartitionedPrefix?.PartitionDateSource === 'EventTime';
      for (const r of p.records) {
        const day = byEvent ? new Date(r.at).toISOString().slice(0, 10) : '';
        groups.set(day, [...(groups.get(day) ?? []), r]);
      }
      for (const records of groups.values()) {
        const key = logObjectKey(cfg, p.source.bucket, delivered, byEvent ? records[0]!.at : delivered);
        await writeLogObject(runtime, target, key, Buffer.from(records.map((r) => `${r.line}\n`).join(''), 'utf8'));
      }
    } catch (e) {
      log.warn(`access logs of ${p.source.bucket.name}: delivery failed: ${(e as Error).message}`);
    }
  }
}

export interface AccessLogs {
  /** Stops the timer and delivers what is pending. */
  stop(): Promise<void>;
}

/** Loads which buckets are logged and starts delivering their records every `flushMs`. */
export async function startAccessLogs(runtime: Runtime): Promise<AccessLogs> {
  logged.clear();
  pending.clear();
  for (const { bucket, value } of await runtime.store.s3.bucketsWithConfig(LOGGING)) logged.set(bucket.name, { bucket, config: JSON.parse(value) as LoggingEnabled });
  let flushing: Promise<void> | undefined;
  const flush = () => {
    if (flushing || pending.size === 0) return;
    flushing = flushAccessLogs(runtime).finally(() => (flushing = undefined));
  };
  flushSoon = () => setImmediate(flush);
  const timer = setInterval(flush, runtime.config.s3AccessLogFlushMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      flushSoon = undefined;
      await flushing;
      await flushAccessLogs(runtime);
      logged.clear();
    },
  };
}
