/**
 * The metadata store interface. SQLite (embedded, WAL) implements it today; a PostgreSQL
 * implementation will fill the same interface, so callers never see SQL, rowids or any
 * other SQLite-only notion. Every method is async for that reason.
 */
export interface BucketRecord {
  id: number;
  name: string;
  region: string;
  createdAt: number;
  ownerId: string;
  /** Absent until PutBucketVersioning: the bucket is unversioned and every object is the null version. */
  versioning?: VersioningStatus;
}

/** A bucket's versioning state once configured; it can be suspended but never turned off again. */
export type VersioningStatus = 'Enabled' | 'Suspended';

/** Where an object's bytes live: inline in the metadata store, or a file in the blob store. */
export type BodyRef = { kind: 'inline'; id: string } | { kind: 'file'; id: string };

export interface ChecksumRecord {
  algorithm: string;
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface ObjectRecord {
  bucketId: number;
  key: string;
  size: number;
  /** Quoted, as S3 returns it: "\"<md5 hex>\"". */
  etag: string;
  lastModified: number;
  storageClass: string;
  /** Content-Type and the other stored representation headers, plus x-amz-meta-* (lower-case). */
  headers: Record<string, string>;
  checksum?: ChecksumRecord;
  body: BodyRef;
  /** Part sizes of an object completed from a multipart upload, in order. */
  parts?: number[];
  /**
   * When the upload had a checksum algorithm: the parts' checksums and their part numbers
   * (which need not be 1…n), in order, for GetObjectAttributes.
   */
  partChecksums?: string[];
  partNumbers?: number[];
  /** How the version is encrypted at rest; absent: SSE-S3 (AES256). */
  sse?: EncryptionRecord;
  /** The restore of an archived (GLACIER, DEEP_ARCHIVE) version, once one was requested. */
  restore?: RestoreRecord;
  /**
   * "null" for the null version (every object of an unversioned bucket, and those written
   * while versioning is suspended), else an id from util/ids.ts `versionId`. Assigned by
   * the store when the version is written; ignored on input.
   */
  versionId: string;
  deleteMarker?: false;
  /**
   * Written with the version by putObject (tags, ACL, owner); reads leave it out, as most
   * requests never need it: see getObjectAttrs.
   */
  attrs?: ObjectAttrs;
  /** The inline body, read with the record (getObject's `withInline`); absent otherwise. */
  inlineData?: Buffer;
}

/** One grant of an ACL, as stored: a canonical user (by id) or a group (by URI). */
export interface StoredGrant {
  id?: string;
  uri?: string;
  permission: 'FULL_CONTROL' | 'WRITE' | 'WRITE_ACP' | 'READ' | 'READ_ACP';
}

/**
 * What S3 keeps per object version beside its data: its tag set, its ACL and, when it is
 * not the bucket owner, the account that owns it (Object Ownership "ObjectWriter").
 */
export interface ObjectAttrs {
  tags?: Array<{ Key: string; Value: string }>;
  /** Absent: the default ACL, FULL_CONTROL for the owner only. */
  acl?: StoredGrant[];
  /** Absent: the bucket owner. */
  owner?: string;
}

/**
 * Server-side encryption of a version other than SSE-S3 (which is what a version without
 * a record has). SSE-KMS and DSSE-KMS are recorded, not applied: Nimbus has no KMS. SSE-C
 * bodies are encrypted with the customer's key (services/s3/sse-c.ts); the store keeps
 * only a salted HMAC of that key, to recognise it, never the key.
 */
export type EncryptionRecord =
  | { type: 'aws:kms' | 'aws:kms:dsse'; kmsKeyId: string; context?: string; bucketKeyEnabled?: boolean }
  | { type: 'SSE-C'; keySalt: string; keyHmac: string };

/**
 * A restore of an archived version. Its state follows from the clock alone: in progress
 * until `readyAt`, then restored until `expiresAt` (epoch ms, Nimbus's clock), then gone.
 */
export interface RestoreRecord {
  tier: 'Expedited' | 'Standard' | 'Bulk';
  days: number;
  readyAt: number;
  expiresAt: number;
}

/** A delete marker: a version without data that makes its key look deleted while it is current. */
export interface DeleteMarkerRecord {
  deleteMarker: true;
  bucketId: number;
  key: string;
  versionId: string;
  lastModified: number;
}

/** Any version of a key: an object version or a delete marker. */
export type VersionRecord = ObjectRecord | DeleteMarkerRecord;

/** What a write did: the version id it assigned and any version it removed for good. */
export interface PutObjectResult {
  /** "null" unless the bucket's versioning is Enabled. */
  versionId: string;
  /** The bucket's versioning when the write committed (read inside the write's transaction). */
  versioning?: VersioningStatus;
  /** The null version this write replaced (its file body is the caller's to delete after commit). */
  removed?: ObjectRecord;
}

export interface DeleteObjectResult {
  versioning?: VersioningStatus;
  /** The delete marker a versioned bucket got instead of a deletion. */
  deleteMarker?: { versionId: string };
  /** The object version removed for good (unversioned: the object; suspended: the null version). */
  removed?: ObjectRecord;
}

export interface ListVersionsQuery {
  prefix: string;
  delimiter?: string;
  /** Resume after this key: after all its versions, or after `versionIdMarker` of it. */
  keyMarker?: string;
  /** A version id of `keyMarker` ("null" included); only with keyMarker. */
  versionIdMarker?: string;
  limit: number;
}

export interface ListVersionsPage {
  /** Object versions and delete markers, by key then newest first. */
  versions: Array<VersionRecord & { isLatest: boolean }>;
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last entry returned: a version (key and version id) or a common prefix (key only). */
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

export interface UploadRecord {
  uploadId: string;
  bucketId: number;
  key: string;
  initiated: number;
  storageClass: string;
  headers: Record<string, string>;
  checksumAlgorithm?: string;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  /** The encryption the completed object gets (and, for SSE-C, the key every part must bring). */
  sse?: EncryptionRecord;
}

export interface PartRecord {
  uploadId: string;
  partNumber: number;
  size: number;
  etag: string;
  lastModified: number;
  checksum?: string;
  body: BodyRef;
}

export interface ListObjectsQuery {
  prefix: string;
  delimiter?: string;
  /** Exclusive lower bound (StartAfter, marker, continuation). */
  after?: string;
  limit: number;
  /** Also read each object's versionId (left undefined otherwise). */
  versionIds?: boolean;
}

/** What a listing shows of an object: no headers, body or encryption (not read for listings). */
export type ListedObject = Pick<ObjectRecord, 'bucketId' | 'key' | 'size' | 'etag' | 'lastModified' | 'storageClass' | 'checksum' | 'restore'> & { versionId?: string };

export interface ListObjectsPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned, to resume from. */
  last?: string;
}

export interface PutCondition {
  /** Fail unless the current object has this ETag (quoted). */
  ifMatch?: string;
  /** Fail if any current object exists (If-None-Match: *). */
  ifNoneMatch?: boolean;
}

/** Thrown by stores; services map these to their own error catalogue. */
export class StoreError extends Error {
  constructor(
    readonly kind: 'NotFound' | 'Conflict' | 'PreconditionFailed',
    message: string,
  ) {
    super(message);
  }
}

export interface S3Repository {
  createBucket(b: Omit<BucketRecord, 'id'>): Promise<BucketRecord>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  /** Buckets in name order; only those of `ownerId` (an account id) when given. */
  listBuckets(q: { prefix?: string; after?: string; limit: number; ownerId?: string }): Promise<BucketRecord[]>;
  /** Throws StoreError('Conflict') if the bucket still holds any version or delete marker. */
  deleteBucket(id: number): Promise<void>;
  setBucketVersioning(bucketId: number, status: VersioningStatus): Promise<void>;
  /**
   * The current version of a key, if it is an object (not a delete marker). With
   * `withInline`, an inline body comes along in `inlineData` (GET: one read instead of two).
   */
  getObject(bucketId: number, key: string, opts?: { withInline?: boolean }): Promise<ObjectRecord | undefined>;
  /** The current version of a key, delete marker or not. */
  getCurrentVersion(bucketId: number, key: string): Promise<VersionRecord | undefined>;
  /** One version of a key by id ("null" for the null version). */
  getVersion(bucketId: number, key: string, versionId: string): Promise<VersionRecord | undefined>;
  /**
   * Writes a new current version (and its inline body), as the bucket's versioning says:
   * unversioned or suspended, it is the null version and replaces any null version;
   * enabled, it gets a new version id and the previous current version is kept.
   * Conditions are checked against the current version (a delete marker counts as none).
   */
  putObject(rec: ObjectRecord, inlineBody: Buffer | undefined, cond?: PutCondition): Promise<PutObjectResult>;
  /**
   * DELETE without a version id: unversioned, removes the object; enabled, adds a delete
   * marker; suspended, removes the null version and adds a null delete marker.
   */
  deleteObject(bucketId: number, key: string, at?: number): Promise<DeleteObjectResult>;
  /**
   * Sets (replaces) the restore state of one object version ("null" for the null version);
   * returns false if the key has no such object version.
   */
  setRestore(bucketId: number, key: string, versionId: string, restore: RestoreRecord): Promise<boolean>;
  /** Removes one version for good; the next newest becomes current. Returns what was removed. */
  deleteVersion(bucketId: number, key: string, versionId: string): Promise<VersionRecord | undefined>;
  /** Current object versions only (never delete markers or noncurrent versions). */
  listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListObjectsPage>;
  /** Every version and delete marker, by key then newest first, from a (key, version) marker. */
  listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListVersionsPage>;
  readInline(id: string): Promise<Buffer | undefined>;
  createUpload(u: UploadRecord): Promise<void>;
  getUpload(uploadId: string): Promise<UploadRecord | undefined>;
  /** Uploads of a bucket ordered by (key, uploadId), after the given markers. */
  listUploads(bucketId: number, q: { prefix: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<UploadRecord[]>;
  /** Stores a part (and its inline body); returns the part it replaced. */
  putPart(p: PartRecord, inlineBody: Buffer | undefined): Promise<PartRecord | undefined>;
  listParts(uploadId: string, q: { after?: number; limit: number }): Promise<PartRecord[]>;
  /** Removes the upload and its parts' rows (and inline bodies); returns the parts. */
  deleteUpload(uploadId: string): Promise<PartRecord[]>;
  /** A bucket's named configuration document (policy, public access block, …), if set. */
  getBucketConfig(bucketId: number, name: string): Promise<string | undefined>;
  /** Sets (or, with undefined, removes) a bucket configuration document. */
  putBucketConfig(bucketId: number, name: string, value: string | undefined): Promise<void>;
  /** The attributes of one version ("null" for the null version); undefined when it has none (or does not exist). */
  getObjectAttrs(bucketId: number, key: string, versionId: string): Promise<ObjectAttrs | undefined>;
  /**
   * Replaces the attributes of one existing object version (undefined or empty removes
   * them). Returns false, changing nothing, when there is no such object version (a
   * delete marker has none). Removing a version for good removes its attributes.
   */
  setObjectAttrs(bucketId: number, key: string, versionId: string, attrs: ObjectAttrs | undefined): Promise<boolean>;
  /** All file-blob ids referenced, for the orphan sweep. */
  hasFileBlob(id: string): Promise<boolean>;

  // Lifecycle (services/s3/lifecycle-worker.ts): indexed reads by age, so a sweep costs the
  // rows that became due, never a scan of a bucket.
  /** Every bucket that has the named configuration, with its value (an index on the name). */
  bucketsWithConfig(name: string): Promise<Array<{ bucket: BucketRecord; value: string }>>;
  /**
   * Current object versions last modified in [from, to), in (lastModified, key) order,
   * resuming after `after`.
   */
  objectsByAge(bucketId: number, q: { from: number; to: number; after?: { lastModified: number; key: string }; limit: number }): Promise<ObjectRecord[]>;
  /**
   * The keys having a version that became noncurrent in [from, to), as (noncurrentSince,
   * key) pairs in that order, resuming after `after` (a key with several such versions at
   * one instant is listed once).
   */
  keysByNoncurrentSince(bucketId: number, q: { from: number; to: number; after?: { at: number; key: string }; limit: number }): Promise<Array<{ at: number; key: string }>>;
  /** Keys whose current version is a delete marker, in key order after `afterKey`. */
  currentDeleteMarkers(bucketId: number, q: { afterKey?: string; limit: number }): Promise<string[]>;
  /** Every version of one key, newest first, with when each stopped being current. */
  keyVersions(bucketId: number, key: string): Promise<KeyVersion[]>;
  /** Sets the storage class of one object version; false when there is no such object version. */
  setStorageClass(bucketId: number, key: string, versionId: string, storageClass: string): Promise<boolean>;
}

/** One version of a key as lifecycle sees it. */
export type KeyVersion = VersionRecord & {
  isLatest: boolean;
  /** When a newer version was written; undefined for the current version. */
  noncurrentSince?: number;
};

/**
 * Small entities as JSON documents keyed by account, kind and id: IAM's users, groups,
 * roles, policies, keys and sessions, Lambda's functions and versions. Services hold
 * them in an in-memory view, so a document store is all the backends need to provide.
 */
export interface DocumentRepository {
  get<T>(account: string, kind: string, id: string): Promise<T | undefined>;
  list<T>(account: string, kind: string): Promise<T[]>;
  put(account: string, kind: string, id: string, doc: unknown): Promise<void>;
  /** Returns whether something was deleted. */
  delete(account: string, kind: string, id: string): Promise<boolean>;
  /** The accounts that have any document. */
  accounts(): Promise<string[]>;
}

/** A CloudWatch Logs log group; names are unique per (account, region). */
export interface LogGroupRecord {
  id: number;
  account: string;
  region: string;
  name: string;
  createdAt: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  logGroupClass: string;
  deletionProtection: boolean;
  tags: Record<string, string>;
  /** UTF-8 bytes of the messages stored (what DescribeLogGroups reports as storedBytes). */
  storedBytes: number;
}

export interface LogStreamRecord {
  id: number;
  groupId: number;
  name: string;
  createdAt: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
}

/** One log event. `seq` is unique across the store and grows with ingestion. */
export interface LogEventRecord {
  seq: number;
  streamId: number;
  timestamp: number;
  ingestionTime: number;
  message: string;
  /** Filled by reads across a group's streams. */
  streamName?: string;
}

/** A position in event order, which is (timestamp, seq). */
export interface LogCursor {
  timestamp: number;
  seq: number;
}

export interface LogStreamQuery {
  prefix?: string;
  orderBy: 'LogStreamName' | 'LastEventTime';
  descending: boolean;
  /** Exclusive: the last stream of the previous page. */
  after?: { name: string; lastEventTimestamp?: number };
  limit: number;
}

export interface StreamEventsQuery {
  /** forward: ascending from `cursor` (exclusive); backward: descending from it (exclusive). */
  direction: 'forward' | 'backward';
  cursor?: LogCursor;
  /** Timestamps in [from, to). */
  from?: number;
  to?: number;
  limit: number;
}

export interface GroupEventsQuery {
  /** Exclusive: the last event already seen. */
  after?: LogCursor;
  /** Timestamps in [from, to). */
  from?: number;
  to?: number;
  /** Only these streams (by id); each is scanned on its own index. */
  streamIds?: number[];
  limit: number;
}

/**
 * CloudWatch Logs: groups, streams and events. Events are indexed by (stream, timestamp,
 * seq) and (group, timestamp, seq), so every read is a range scan of one page.
 */
export interface LogsRepository {
  /** Throws StoreError('Conflict') if the (account, region, name) exists. */
  createGroup(g: Omit<LogGroupRecord, 'id' | 'storedBytes'>): Promise<LogGroupRecord>;
  getGroup(account: string, region: string, name: string): Promise<LogGroupRecord | undefined>;
  /** Name order; `prefix` and `contains` (a substring) filter, `after` is exclusive. */
  listGroups(account: string, region: string, q: { prefix?: string; contains?: string; logGroupClass?: string; after?: string; limit: number }): Promise<LogGroupRecord[]>;
  /** null removes the retention policy. */
  updateGroup(id: number, patch: { retentionInDays?: number | null; tags?: Record<string, string>; deletionProtection?: boolean }): Promise<void>;
  /** Removes the group, its streams and their events. */
  deleteGroup(id: number): Promise<void>;
  /** Every group (of any account and region) that has a retention policy. */
  groupsWithRetention(): Promise<LogGroupRecord[]>;
  /** Throws StoreError('Conflict') if the stream exists in the group. */
  createStream(s: Omit<LogStreamRecord, 'id'>): Promise<LogStreamRecord>;
  getStream(groupId: number, name: string): Promise<LogStreamRecord | undefined>;
  listStreams(groupId: number, q: LogStreamQuery): Promise<LogStreamRecord[]>;
  /** Removes the stream and its events. */
  deleteStream(id: number): Promise<void>;
  /** Appends events (any order) and updates the stream's and group's statistics. */
  putEvents(groupId: number, streamId: number, events: Array<{ timestamp: number; message: string }>, ingestionTime: number): Promise<LogEventRecord[]>;
  /** One stream's events in (timestamp, seq) order, from a cursor either way. */
  streamEvents(streamId: number, q: StreamEventsQuery): Promise<LogEventRecord[]>;
  /** A group's events in (timestamp, seq) order across its streams, with their stream names. */
  groupEvents(groupId: number, q: GroupEventsQuery): Promise<LogEventRecord[]>;
  /** Deletes up to `limit` events older than `timestamp`; returns how many went. */
  deleteEventsBefore(groupId: number, timestamp: number, limit: number): Promise<number>;
}

export interface Transaction {
  readonly s3: S3Repository;
  readonly docs: DocumentRepository;
  readonly logs: LogsRepository;
  /** Runs after a successful commit (e.g. deleting a replaced object's file). */
  afterCommit(hook: () => unknown): void;
}

export interface MetadataStore {
  readonly kind: string;
  /** Reads outside a transaction. */
  readonly s3: S3Repository;
  readonly docs: DocumentRepository;
  readonly logs: LogsRepository;
  /**
   * Runs `fn` atomically. `fn` must await only this transaction's own calls; hooks
   * registered with afterCommit run once the commit is durable.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The smallest string greater than every string starting with `s` (code-point order), or undefined. */
export function prefixSuccessor(s: string): string | undefined {
  const cps = Array.from(s, (c) => c.codePointAt(0)!);
  while (cps.length && cps[cps.length - 1] === 0x10ffff) cps.pop();
  if (!cps.length) return undefined;
  let last = cps[cps.length - 1]! + 1;
  if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
  cps[cps.length - 1] = last;
  return String.fromCodePoint(...cps);
}
