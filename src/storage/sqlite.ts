import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { join } from 'node:path';
import {
  StoreError,
  prefixSuccessor,
  type BucketRecord,
  type DeleteObjectResult,
  type ListVersionsPage,
  type ListVersionsQuery,
  type PutObjectResult,
  type RestoreRecord,
  type VersionRecord,
  type VersioningStatus,
  type ListObjectsPage,
  type ListedObject,
  type ListObjectsQuery,
  type MetadataStore,
  type DocumentRepository,
  type LogsRepository,
  type ObjectAttrs,
  type ObjectRecord,
  type PartRecord,
  type PutCondition,
  type UploadRecord,
  type S3Repository,
  type Transaction,
  type KeyVersion,
} from './metadata.js';
import { log } from '../util/log.js';
import { versionId as newVersionId } from '../util/ids.js';
import { SqliteLogsRepository } from './sqlite-logs.js';
import { Checkpointer } from './checkpointer.js';
import { BodyLog, isLogId, parseLogId, segmentRange } from './body-log.js';

/**
 * SQLite metadata store (better-sqlite3, WAL). WAL with synchronous=NORMAL survives
 * kill -9 of the process for every committed transaction; `fsync` mode uses FULL so a
 * commit also survives power loss.
 */
/** Append only: a data dir at version N has run exactly the first N entries. (Exported for the migration test.) */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE buckets (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     region TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     owner_id TEXT NOT NULL
   );
   CREATE TABLE objects (
     bucket_id INTEGER NOT NULL,
     key TEXT NOT NULL,
     size INTEGER NOT NULL,
     etag TEXT NOT NULL,
     last_modified INTEGER NOT NULL,
     storage_class TEXT NOT NULL,
     headers TEXT NOT NULL,
     checksum TEXT,
     body_kind TEXT NOT NULL,
     body_id TEXT NOT NULL,
     PRIMARY KEY (bucket_id, key)
   ) WITHOUT ROWID;
   CREATE INDEX objects_body ON objects(body_id);
   CREATE TABLE inline_bodies (
     id TEXT PRIMARY KEY,
     data BLOB NOT NULL
   ) WITHOUT ROWID;`,
  `ALTER TABLE objects ADD COLUMN parts TEXT;
   CREATE TABLE uploads (
     upload_id TEXT PRIMARY KEY,
     bucket_id INTEGER NOT NULL,
     key TEXT NOT NULL,
     initiated INTEGER NOT NULL,
     storage_class TEXT NOT NULL,
     headers TEXT NOT NULL,
     checksum_algorithm TEXT,
     checksum_type TEXT
   ) WITHOUT ROWID;
   CREATE INDEX uploads_by_key ON uploads(bucket_id, key, upload_id);
   CREATE TABLE parts (
     upload_id TEXT NOT NULL,
     part_number INTEGER NOT NULL,
     size INTEGER NOT NULL,
     etag TEXT NOT NULL,
     last_modified INTEGER NOT NULL,
     checksum TEXT,
     body_kind TEXT NOT NULL,
     body_id TEXT NOT NULL,
     PRIMARY KEY (upload_id, part_number)
   ) WITHOUT ROWID;
   CREATE INDEX parts_body ON parts(body_id);`,
  `CREATE TABLE documents (
     account TEXT NOT NULL,
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     doc TEXT NOT NULL,
     PRIMARY KEY (account, kind, id)
   ) WITHOUT ROWID;`,
  `CREATE TABLE bucket_configs (
     bucket_id INTEGER NOT NULL,
     name TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (bucket_id, name)
   ) WITHOUT ROWID;`,
  // CloudWatch Logs (src/storage/sqlite-logs.ts).
  `CREATE TABLE log_groups (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     account TEXT NOT NULL,
     region TEXT NOT NULL,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     retention_days INTEGER,
     kms_key_id TEXT,
     log_group_class TEXT NOT NULL,
     deletion_protection INTEGER NOT NULL DEFAULT 0,
     tags TEXT NOT NULL,
     stored_bytes INTEGER NOT NULL DEFAULT 0,
     UNIQUE (account, region, name)
   );
   CREATE TABLE log_streams (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     group_id INTEGER NOT NULL,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     first_event INTEGER,
     last_event INTEGER NOT NULL DEFAULT -1,
     last_ingestion INTEGER,
     UNIQUE (group_id, name)
   );
   CREATE INDEX log_streams_by_last_event ON log_streams(group_id, last_event, name);
   CREATE TABLE log_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     group_id INTEGER NOT NULL,
     stream_id INTEGER NOT NULL,
     timestamp INTEGER NOT NULL,
     ingestion_time INTEGER NOT NULL,
     message TEXT NOT NULL
   );
   CREATE INDEX log_events_by_stream ON log_events(stream_id, timestamp, seq);
   CREATE INDEX log_events_by_group ON log_events(group_id, timestamp, seq);`,
  // S3 versioning. `objects` keeps exactly the current version of each key when that
  // version is an object, so GET, PUT and listing stay one-table index operations.
  // Every other version (noncurrent objects, and all delete markers, current or not) is in
  // `object_versions`, clustered by (bucket, key, version_key): a key's versions newest
  // first. version_key is the version id (util/ids.ts, newest sorts first); a null
  // version written while versioning is suspended gets one too (its place in time) and
  // says "null" to clients. Never-versioned objects, existing ones included, have '~'
  // (UNVERSIONED_KEY), which sorts after every generated id: older than any version to come.
  `ALTER TABLE buckets ADD COLUMN versioning TEXT;
   ALTER TABLE objects ADD COLUMN version_key TEXT NOT NULL DEFAULT '~';
   ALTER TABLE objects ADD COLUMN null_version INTEGER NOT NULL DEFAULT 1;
   CREATE TABLE object_versions (
     bucket_id INTEGER NOT NULL,
     key TEXT NOT NULL,
     version_key TEXT NOT NULL,
     null_version INTEGER NOT NULL,
     delete_marker INTEGER NOT NULL,
     size INTEGER,
     etag TEXT,
     last_modified INTEGER NOT NULL,
     storage_class TEXT,
     headers TEXT,
     checksum TEXT,
     body_kind TEXT,
     body_id TEXT,
     parts TEXT,
     -- When a newer version was written (NULL: this is the current delete marker).
     noncurrent_since INTEGER,
     PRIMARY KEY (bucket_id, key, version_key)
   ) WITHOUT ROWID;
   CREATE INDEX object_versions_body ON object_versions(body_id) WHERE body_kind = 'file';
   CREATE INDEX object_versions_null ON object_versions(bucket_id, key) WHERE null_version = 1;`,
  // S3 tags, ACLs and object owners, per version, in a table of their own keyed like the
  // versions: the rows that move between objects and object_versions never carry them, and
  // a version without any costs nothing. Buckets from before Object Ownership behaved as
  // BucketOwnerEnforced (the bucket owner owned every object): now they say so.
  `CREATE TABLE object_attrs (
     bucket_id INTEGER NOT NULL,
     key TEXT NOT NULL,
     version_key TEXT NOT NULL,
     attrs TEXT NOT NULL,
     PRIMARY KEY (bucket_id, key, version_key)
   ) WITHOUT ROWID;
   INSERT OR IGNORE INTO bucket_configs (bucket_id, name, value)
     SELECT id, 'ownershipControls', '{"ObjectOwnership":"BucketOwnerEnforced"}' FROM buckets;`,
  // S3 server-side encryption and archive restores, per version (services/s3/sse.ts,
  // storage-class.ts): JSON, NULL meaning SSE-S3 and never restored, so existing rows need
  // no rewrite. An upload carries the encryption its object will get.
  `ALTER TABLE objects ADD COLUMN sse TEXT;
   ALTER TABLE objects ADD COLUMN restore TEXT;
   ALTER TABLE object_versions ADD COLUMN sse TEXT;
   ALTER TABLE object_versions ADD COLUMN restore TEXT;
   ALTER TABLE uploads ADD COLUMN sse TEXT;`,
  // S3 lifecycle (services/s3/lifecycle-worker.ts) and access logging: the buckets having
  // a configuration, found by its name; current objects by age; other versions by when
  // they stopped being current (NULL first: the current delete markers). A sweep reads only
  // the rows that became due since the last one.
  `CREATE INDEX bucket_configs_by_name ON bucket_configs(name);
   CREATE INDEX objects_by_age ON objects(bucket_id, last_modified);
   CREATE INDEX object_versions_by_noncurrent ON object_versions(bucket_id, noncurrent_since);`,
  // Inline bodies in a rowid table: WITHOUT ROWID keeps whole rows in the key's b-tree,
  // which SQLite advises against for rows this large (4 KiB bodies: a leaf each). Measured
  // on 30,000 4 KiB bodies: a read 9.0 → 4.9 µs, an insert 20 → 15 µs. Same name, same
  // columns, so no statement changes; existing bodies are copied once.
  `CREATE TABLE inline_bodies_rowid (id TEXT PRIMARY KEY, data BLOB NOT NULL);
   INSERT INTO inline_bodies_rowid (id, data) SELECT id, data FROM inline_bodies;
   DROP TABLE inline_bodies;
   ALTER TABLE inline_bodies_rowid RENAME TO inline_bodies;`,
  // Inline bodies keyed by an integer, the table's rowid: a TEXT primary key is a second
  // b-tree beside the rows, written on every insert. Measured on PUT-shaped batches of
  // 4 KiB bodies: the insert 4.4 → 1.7 µs, the whole write ~30 → ~27 µs. Each body keeps
  // the rowid it had; the records name it in decimal. The body_id indexes only ever
  // answer "is this blob file still used?", so they now hold file bodies only, and
  // inline writes skip them.
  `UPDATE objects SET body_id = COALESCE((SELECT i.rowid FROM inline_bodies i WHERE i.id = objects.body_id), body_id) WHERE body_kind = 'inline';
   UPDATE object_versions SET body_id = COALESCE((SELECT i.rowid FROM inline_bodies i WHERE i.id = object_versions.body_id), body_id) WHERE body_kind = 'inline';
   UPDATE parts SET body_id = COALESCE((SELECT i.rowid FROM inline_bodies i WHERE i.id = parts.body_id), body_id) WHERE body_kind = 'inline';
   CREATE TABLE inline_bodies_int (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
   INSERT INTO inline_bodies_int (id, data) SELECT rowid, data FROM inline_bodies;
   DROP TABLE inline_bodies;
   ALTER TABLE inline_bodies_int RENAME TO inline_bodies;
   DROP INDEX objects_body;
   CREATE INDEX objects_body ON objects(body_id) WHERE body_kind = 'file';
   DROP INDEX parts_body;
   CREATE INDEX parts_body ON parts(body_id) WHERE body_kind = 'file';`,
  // Small bodies in the body log (body-log.ts): the records name them by position, and
  // these indexes find the ones still alive in a segment (an id range) when its space is
  // reclaimed. Ids only grow, so each write adds to the right edge. Older inline bodies
  // (decimal ids, in inline_bodies) stay where they are and sort before every log id.
  `CREATE INDEX objects_inline ON objects(body_id) WHERE body_kind = 'inline';
   CREATE INDEX object_versions_inline ON object_versions(body_id) WHERE body_kind = 'inline';
   CREATE INDEX parts_inline ON parts(body_id) WHERE body_kind = 'inline';`,
];

class SqliteDocumentRepository implements DocumentRepository {
  private readonly getSt: Statement;
  private readonly listSt: Statement;
  private readonly putSt: Statement;
  private readonly deleteSt: Statement;
  private readonly accountsSt: Statement;

  constructor(db: Database.Database) {
    this.getSt = db.prepare('SELECT doc FROM documents WHERE account = ? AND kind = ? AND id = ?');
    this.listSt = db.prepare('SELECT doc FROM documents WHERE account = ? AND kind = ? ORDER BY id');
    this.putSt = db.prepare('INSERT INTO documents (account, kind, id, doc) VALUES (?, ?, ?, ?) ON CONFLICT (account, kind, id) DO UPDATE SET doc = excluded.doc');
    this.deleteSt = db.prepare('DELETE FROM documents WHERE account = ? AND kind = ? AND id = ?');
    this.accountsSt = db.prepare('SELECT DISTINCT account FROM documents ORDER BY account');
  }

  async get<T>(account: string, kind: string, id: string): Promise<T | undefined> {
    const r = this.getSt.get(account, kind, id) as { doc: string } | undefined;
    return r ? (JSON.parse(r.doc) as T) : undefined;
  }

  async list<T>(account: string, kind: string): Promise<T[]> {
    return (this.listSt.all(account, kind) as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as T);
  }

  async put(account: string, kind: string, id: string, doc: unknown): Promise<void> {
    this.putSt.run(account, kind, id, JSON.stringify(doc));
  }

  async delete(account: string, kind: string, id: string): Promise<boolean> {
    return this.deleteSt.run(account, kind, id).changes > 0;
  }

  async accounts(): Promise<string[]> {
    return (this.accountsSt.all() as Array<{ account: string }>).map((r) => r.account);
  }
}

interface UploadRow {
  upload_id: string;
  bucket_id: number;
  key: string;
  initiated: number;
  storage_class: string;
  headers: string;
  checksum_algorithm: string | null;
  checksum_type: 'FULL_OBJECT' | 'COMPOSITE' | null;
  sse: string | null;
}

function toUpload(r: UploadRow): UploadRecord {
  return {
    sse: r.sse ? JSON.parse(r.sse) : undefined,
    uploadId: r.upload_id,
    bucketId: r.bucket_id,
    key: r.key,
    initiated: r.initiated,
    storageClass: r.storage_class,
    headers: JSON.parse(r.headers),
    checksumAlgorithm: r.checksum_algorithm ?? undefined,
    checksumType: r.checksum_type ?? undefined,
  };
}

interface PartRow {
  upload_id: string;
  part_number: number;
  size: number;
  etag: string;
  last_modified: number;
  checksum: string | null;
  body_kind: 'inline' | 'file';
  body_id: string;
}

function toPart(r: PartRow): PartRecord {
  return {
    uploadId: r.upload_id,
    partNumber: r.part_number,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    checksum: r.checksum ?? undefined,
    body: { kind: r.body_kind, id: r.body_id },
  };
}

interface ObjectRow {
  bucket_id: number;
  key: string;
  size: number;
  etag: string;
  last_modified: number;
  storage_class: string;
  headers: string;
  checksum: string | null;
  body_kind: 'inline' | 'file';
  body_id: string;
  parts: string | null;
  version_key: string;
  null_version: number;
  sse: string | null;
  restore: string | null;
}

/** A row of object_versions: an object version (as in `objects`) or a delete marker. */
interface VersionRow extends ObjectRow {
  delete_marker: number;
  noncurrent_since: number | null;
}

function toObject(r: ObjectRow): ObjectRecord {
  const rec: ObjectRecord = {
    bucketId: r.bucket_id,
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    headers: JSON.parse(r.headers),
    checksum: r.checksum ? JSON.parse(r.checksum) : undefined,
    body: { kind: r.body_kind, id: r.body_id },
    parts: undefined,
    versionId: publicVersionId(r),
    sse: r.sse ? JSON.parse(r.sse) : undefined,
    restore: r.restore ? JSON.parse(r.restore) : undefined,
  };
  if (r.parts) setParts(rec, r.parts);
  return rec;
}

/**
 * The `parts` column: the part sizes as a JSON array, or, when the parts have checksums
 * (GetObjectAttributes lists them), {"sizes": […], "checksums": […], "numbers": […]}.
 */
function setParts(rec: ObjectRecord, text: string): void {
  const p = JSON.parse(text) as number[] | { sizes: number[]; checksums: string[]; numbers: number[] };
  if (Array.isArray(p)) rec.parts = p;
  else {
    rec.parts = p.sizes;
    rec.partChecksums = p.checksums;
    rec.partNumbers = p.numbers;
  }
}

function partsColumn(rec: ObjectRecord): string | null {
  if (!rec.parts) return null;
  return JSON.stringify(rec.partChecksums ? { sizes: rec.parts, checksums: rec.partChecksums, numbers: rec.partNumbers ?? rec.parts.map((_, i) => i + 1) } : rec.parts);
}

/**
 * The hot reads (GetObject/HeadObject's lookup, ListObjects pages) fetch `objects` rows as
 * arrays in this column order: better-sqlite3's raw mode costs ~1.0 µs a row against
 * ~1.7 µs for a row object (measured, 1000-row pages), which more than pays for the
 * versioning columns.
 */
const OBJECT_COLUMNS = 'bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts, version_key, null_version, sse, restore';
type ObjectTuple = [number, string, number, string, number, string, string, string | null, 'inline' | 'file', string, string | null, string, number, string | null, string | null];

/**
 * A listing reads only what it shows: parsing every row's headers JSON (and fetching its
 * body and encryption columns) was a third of a 1000-key page's time in the profile. Each
 * column read costs ~50-130 µs per 1000 rows, so the version id (two columns) is read only
 * when the caller needs it (per-object owners): without it a page read went 800 → 580 µs.
 */
const LISTED_COLUMNS = 'key, size, etag, last_modified, storage_class, checksum, restore';
const LISTED_WITH_VERSION = `${LISTED_COLUMNS}, CASE WHEN null_version THEN 'null' ELSE version_key END`;
type ListedTuple = [string, number, string, number, string, string | null, string | null, string?];
type Listing = { from: Statement; after: Statement };

function tupleToListed(bucketId: number, t: ListedTuple): ListedObject {
  return {
    bucketId,
    key: t[0],
    size: t[1],
    etag: t[2],
    lastModified: t[3],
    storageClass: t[4],
    checksum: t[5] ? JSON.parse(t[5]) : undefined,
    restore: t[6] ? JSON.parse(t[6]) : undefined,
    versionId: t[7],
  };
}

function tupleToObject(t: ObjectTuple): ObjectRecord {
  const rec: ObjectRecord = {
    bucketId: t[0],
    key: t[1],
    size: t[2],
    etag: t[3],
    lastModified: t[4],
    storageClass: t[5],
    headers: JSON.parse(t[6]),
    checksum: t[7] ? JSON.parse(t[7]) : undefined,
    body: { kind: t[8], id: t[9] },
    parts: undefined,
    versionId: t[12] ? 'null' : t[11],
    sse: t[13] ? JSON.parse(t[13]) : undefined,
    restore: t[14] ? JSON.parse(t[14]) : undefined,
  };
  if (t[10]) setParts(rec, t[10]);
  return rec;
}

function publicVersionId(r: ObjectRow): string {
  return r.null_version ? 'null' : r.version_key;
}

function toVersion(r: VersionRow): VersionRecord {
  if (!r.delete_marker) return toObject(r);
  return { deleteMarker: true, bucketId: r.bucket_id, key: r.key, versionId: publicVersionId(r), lastModified: r.last_modified };
}

/** Whether a row is the version a client names with `versionId`. */
function isVersion(r: ObjectRow, versionId: string): boolean {
  return versionId === 'null' ? r.null_version === 1 : r.null_version === 0 && r.version_key === versionId;
}

/**
 * Code-point (UTF-8 byte) order, which is SQLite's BINARY collation; JavaScript's `<`
 * compares UTF-16 units and puts U+10000… below U+E000….
 */
function cmpKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800 && x < 0xe000 !== y < 0xe000) return x < 0xe000 ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The version_key of a never-versioned bucket's objects (and of those the migration found):
 * after every generated id, i.e. older than any version written once versioning is
 * configured. Such a key has only this one version, so it needs no place in time, and the
 * unversioned write path generates no id.
 */
const UNVERSIONED_KEY = '~';
/** Above every version key (ids are ASCII, and UNVERSIONED_KEY is '~'). */
const AFTER_ALL_VERSIONS = '\u{10FFFF}';

interface BucketRow {
  id: number;
  name: string;
  region: string;
  created_at: number;
  owner_id: string;
  versioning: VersioningStatus | null;
}

function toBucket(r: BucketRow): BucketRecord {
  const b: BucketRecord = { id: r.id, name: r.name, region: r.region, createdAt: r.created_at, ownerId: r.owner_id };
  if (r.versioning) b.versioning = r.versioning;
  return b;
}

/**
 * Committed bucket rows by name, for the read connection: every S3 request reads its bucket
 * (~6 µs a query on the GET path, measured). Writes to `buckets` (create, delete,
 * versioning) clear it when they run and again once their transaction has ended, so a read
 * between the write and its commit (which sees the old, still committed row) cannot leave a
 * stale entry behind.
 */
class BucketCache {
  private readonly byName = new Map<string, BucketRecord>();
  /** Set by a write to `buckets` inside the open transaction. */
  dirty = false;
  get(name: string): BucketRecord | undefined {
    return this.byName.get(name);
  }
  set(b: BucketRecord): void {
    if (this.byName.size >= 10_000) this.byName.clear();
    this.byName.set(b.name, Object.freeze(b));
  }
  clear(): void {
    this.byName.clear();
  }
}

/**
 * With --fsync, small bodies are SQLite rows (body-log.ts says why): the last row id handed
 * out, shared by a store's repositories (-1: not read yet). Ids only go up while the process
 * runs, so a record read before its body was replaced can never find another object's body
 * under its id (SQLite itself would reuse the largest rowid once that row is deleted).
 */
type InlineIds = { last: number };

/** The tables whose rows name bodies (by `body_kind` and `body_id`). */
const BODY_TABLES = ['objects', 'object_versions', 'parts'] as const;
/** Ids read per statement when measuring a segment's live bytes. */
const LIVE_SCAN_BATCH = 1000;

class SqliteS3Repository implements S3Repository {
  private readonly st: Record<string, Statement>;
  /** listObjects' statements, without and with the version id column. */
  private readonly listing: { plain: Listing; withVersions: Listing };
  /** Lifecycle's reads by age and its storage-class writes. */
  private readonly lc: Record<string, Statement>;
  /** Runs reads in one read transaction: one snapshot (a savepoint inside a write transaction). */
  private readonly snapshot: <T>(read: () => T) => T;

  /**
   * `shared` with the store's other repository: `cache`, on the read connection the cache
   * getBucket answers from, on the write connection the same cache, cleared by the writes
   * to `buckets`; `log`, where small bodies are written (body-log.ts), unless `rows`, the
   * row id counter, says they are written as rows of `inline_bodies` (--fsync).
   */
  constructor(
    private readonly db: Database.Database,
    private readonly shared: { cache: BucketCache; reads: boolean; log: BodyLog; rows?: InlineIds },
  ) {
    const inTransaction = db.transaction((read: () => unknown) => read());
    this.snapshot = <T>(read: () => T) => inTransaction(read) as T;
    const p = (sql: string) => db.prepare(sql);
    // A listing page: from a key (inclusive), or after one (exclusive) and from the prefix.
    const listing = (columns: string): Listing => ({
      from: p(`SELECT ${columns} FROM objects WHERE bucket_id = ? AND key >= ? ORDER BY key LIMIT ?`).raw(true),
      after: p(`SELECT ${columns} FROM objects WHERE bucket_id = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?`).raw(true),
    });
    this.listing = { plain: listing(LISTED_COLUMNS), withVersions: listing(LISTED_WITH_VERSION) };
    // Whether any row names a body of this kind by id (one parameter per table). The kind is
    // a literal, so each table's partial index on body_id answers.
    const namedBy = (kind: 'file' | 'inline') =>
      p(`${BODY_TABLES.map((t) => `SELECT 1 FROM ${t} WHERE body_kind = '${kind}' AND body_id = ?`).join(' UNION ALL ')} LIMIT 1`);
    this.st = {
      insertBucket: p('INSERT INTO buckets (name, region, created_at, owner_id) VALUES (?, ?, ?, ?)'),
      // Every S3 request reads its bucket: a raw row, like the object reads.
      getBucket: p('SELECT id, name, region, created_at, owner_id, versioning FROM buckets WHERE name = ?').raw(true),
      listBuckets: p('SELECT * FROM buckets WHERE name > ? AND name >= ? ORDER BY name LIMIT ?'),
      listOwnedBuckets: p('SELECT * FROM buckets WHERE name > ? AND name >= ? AND owner_id = ? ORDER BY name LIMIT ?'),
      anyObject: p('SELECT 1 FROM objects WHERE bucket_id = ? LIMIT 1'),
      anyVersion: p('SELECT 1 FROM object_versions WHERE bucket_id = ? LIMIT 1'),
      bucketVersioning: p('SELECT versioning FROM buckets WHERE id = ?'),
      setVersioning: p('UPDATE buckets SET versioning = ? WHERE id = ?'),
      deleteBucket: p('DELETE FROM buckets WHERE id = ?'),
      deleteBucketConfigs: p('DELETE FROM bucket_configs WHERE bucket_id = ?'),
      getBucketConfig: p('SELECT value FROM bucket_configs WHERE bucket_id = ? AND name = ?'),
      putBucketConfig: p('INSERT INTO bucket_configs (bucket_id, name, value) VALUES (?, ?, ?) ON CONFLICT (bucket_id, name) DO UPDATE SET value = excluded.value'),
      deleteBucketConfig: p('DELETE FROM bucket_configs WHERE bucket_id = ? AND name = ?'),
      getObject: p('SELECT * FROM objects WHERE bucket_id = ? AND key = ?'),
      upsertObject: p(
        `INSERT INTO objects (bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts, version_key, null_version, sse, restore)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (bucket_id, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,
           last_modified = excluded.last_modified, storage_class = excluded.storage_class, headers = excluded.headers,
           checksum = excluded.checksum, body_kind = excluded.body_kind, body_id = excluded.body_id, parts = excluded.parts,
           version_key = excluded.version_key, null_version = excluded.null_version, sse = excluded.sse, restore = excluded.restore`,
      ),
      // The current object becomes a noncurrent version.
      archiveCurrent: p(
        `INSERT INTO object_versions (bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts, version_key, null_version, sse, restore, delete_marker, noncurrent_since)
         SELECT bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts, version_key, null_version, sse, restore, 0, ? FROM objects WHERE bucket_id = ? AND key = ?`,
      ),
      // A noncurrent object version becomes the current one (its row moves back).
      promoteVersion: p(
        `INSERT INTO objects (bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts, version_key, null_version, sse, restore)
         SELECT bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts, version_key, null_version, sse, restore FROM object_versions WHERE bucket_id = ? AND key = ? AND version_key = ?`,
      ),
      insertMarker: p(
        `INSERT INTO object_versions (bucket_id, key, version_key, null_version, delete_marker, last_modified, noncurrent_since)
         VALUES (?, ?, ?, ?, 1, ?, NULL)`,
      ),
      newestVersion: p('SELECT * FROM object_versions WHERE bucket_id = ? AND key = ? ORDER BY version_key LIMIT 1'),
      // Without INDEXED BY the planner walks every version of the key (no statistics).
      nullVersion: p('SELECT * FROM object_versions INDEXED BY object_versions_null WHERE bucket_id = ? AND key = ? AND null_version = 1'),
      versionById: p('SELECT * FROM object_versions WHERE bucket_id = ? AND key = ? AND version_key = ? AND null_version = 0'),
      deleteVersionRow: p('DELETE FROM object_versions WHERE bucket_id = ? AND key = ? AND version_key = ?'),
      setCurrentRestore: p('UPDATE objects SET restore = ? WHERE bucket_id = ? AND key = ?'),
      setVersionRestore: p('UPDATE object_versions SET restore = ? WHERE bucket_id = ? AND key = ? AND version_key = ? AND delete_marker = 0'),
      supersede: p('UPDATE object_versions SET noncurrent_since = ? WHERE bucket_id = ? AND key = ? AND version_key = ? AND noncurrent_since IS NULL'),
      makeCurrent: p('UPDATE object_versions SET noncurrent_since = NULL WHERE bucket_id = ? AND key = ? AND version_key = ?'),
      // ListObjectVersions reads both tables in (key, version_key) order and merges them.
      curFrom: p('SELECT * FROM objects WHERE bucket_id = ? AND key >= ? ORDER BY key LIMIT ?'),
      curAfter: p('SELECT * FROM objects WHERE bucket_id = ? AND key >= ? AND (key > ? OR version_key > ?) ORDER BY key LIMIT ?'),
      verFrom: p('SELECT * FROM object_versions WHERE bucket_id = ? AND key >= ? ORDER BY key, version_key LIMIT ?'),
      verAfter: p('SELECT * FROM object_versions WHERE bucket_id = ? AND (key, version_key) > (?, ?) ORDER BY key, version_key LIMIT ?'),
      deleteObject: p('DELETE FROM objects WHERE bucket_id = ? AND key = ?'),
      getAttrs: p('SELECT attrs FROM object_attrs WHERE bucket_id = ? AND key = ? AND version_key = ?').pluck(),
      putAttrs: p('INSERT INTO object_attrs (bucket_id, key, version_key, attrs) VALUES (?, ?, ?, ?) ON CONFLICT (bucket_id, key, version_key) DO UPDATE SET attrs = excluded.attrs'),
      deleteAttrs: p('DELETE FROM object_attrs WHERE bucket_id = ? AND key = ? AND version_key = ?'),
      deleteBucketAttrs: p('DELETE FROM object_attrs WHERE bucket_id = ?'),
      // Bodies as rows (--fsync, and from before the body log), by their decimal ids.
      insertInline: p('INSERT INTO inline_bodies (id, data) VALUES (?, ?)'),
      maxInline: p('SELECT max(id) FROM inline_bodies').pluck(),
      deleteInline: p('DELETE FROM inline_bodies WHERE id = ?'),
      readInline: p('SELECT data FROM inline_bodies WHERE id = ?'),
      // Whether a row still names a log body (readInline answers only for those).
      logReferenced: namedBy('inline').pluck(),
      readObject: p(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket_id = ? AND key = ?`).raw(true),
      // GetObject: the record and its inline body in one statement (one read transaction).
      readObjectInline: p(
        `SELECT ${OBJECT_COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}, i.data FROM objects o LEFT JOIN inline_bodies i ON o.body_kind = 'inline' AND i.id = o.body_id WHERE o.bucket_id = ? AND o.key = ?`,
      ).raw(true),
      hasFileBlob: namedBy('file'),
      insertUpload: p(
        'INSERT INTO uploads (upload_id, bucket_id, key, initiated, storage_class, headers, checksum_algorithm, checksum_type, sse) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getUpload: p('SELECT * FROM uploads WHERE upload_id = ?'),
      listUploads: p('SELECT * FROM uploads WHERE bucket_id = ? AND key >= ? AND (key > ? OR upload_id > ?) ORDER BY key, upload_id LIMIT ?'),
      getPart: p('SELECT * FROM parts WHERE upload_id = ? AND part_number = ?'),
      upsertPart: p(
        `INSERT INTO parts (upload_id, part_number, size, etag, last_modified, checksum, body_kind, body_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
           checksum = excluded.checksum, body_kind = excluded.body_kind, body_id = excluded.body_id`,
      ),
      listParts: p('SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
      allParts: p('SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number'),
      deleteParts: p('DELETE FROM parts WHERE upload_id = ?'),
      deleteUpload: p('DELETE FROM uploads WHERE upload_id = ?'),
    };
    this.lc = {
      bucketsWithConfig: p(
        'SELECT b.id, b.name, b.region, b.created_at, b.owner_id, b.versioning, c.value FROM bucket_configs c INDEXED BY bucket_configs_by_name JOIN buckets b ON b.id = c.bucket_id WHERE c.name = ? ORDER BY b.id',
      ),
      objectsFrom: p(`SELECT ${OBJECT_COLUMNS} FROM objects INDEXED BY objects_by_age WHERE bucket_id = ? AND last_modified >= ? AND last_modified < ? ORDER BY last_modified, key LIMIT ?`).raw(true),
      objectsAfter: p(
        `SELECT ${OBJECT_COLUMNS} FROM objects INDEXED BY objects_by_age WHERE bucket_id = ? AND (last_modified, key) > (?, ?) AND last_modified < ? ORDER BY last_modified, key LIMIT ?`,
      ).raw(true),
      noncurrentFrom: p(
        'SELECT noncurrent_since AS at, key FROM object_versions INDEXED BY object_versions_by_noncurrent WHERE bucket_id = ? AND noncurrent_since >= ? AND noncurrent_since < ? ORDER BY noncurrent_since, key LIMIT ?',
      ),
      noncurrentAfter: p(
        'SELECT noncurrent_since AS at, key FROM object_versions INDEXED BY object_versions_by_noncurrent WHERE bucket_id = ? AND (noncurrent_since, key) > (?, ?) AND noncurrent_since < ? ORDER BY noncurrent_since, key LIMIT ?',
      ),
      currentMarkers: p(
        'SELECT key FROM object_versions INDEXED BY object_versions_by_noncurrent WHERE bucket_id = ? AND noncurrent_since IS NULL AND key > ? ORDER BY key LIMIT ?',
      ).pluck(),
      keyVersions: p('SELECT * FROM object_versions WHERE bucket_id = ? AND key = ? ORDER BY version_key'),
      setCurrentClass: p('UPDATE objects SET storage_class = ? WHERE bucket_id = ? AND key = ? AND version_key = ?'),
      setVersionClass: p('UPDATE object_versions SET storage_class = ? WHERE bucket_id = ? AND key = ? AND version_key = ? AND delete_marker = 0'),
    };
    this.logBodies = {
      range: BODY_TABLES.map((t) => p(`SELECT body_id FROM ${t} WHERE body_kind = 'inline' AND body_id >= ? AND body_id < ? ORDER BY body_id LIMIT ?`).pluck()),
      repoint: BODY_TABLES.map((t) => p(`UPDATE ${t} SET body_id = ? WHERE body_kind = 'inline' AND body_id = ?`)),
    };
    if (shared.rows && shared.rows.last < 0) shared.rows.last = (this.st.maxInline!.get() as number | null) ?? 0;
  }

  /** Per body table: a segment's ids in order, and the statement that re-points one. */
  private readonly logBodies: { range: Statement[]; repoint: Statement[] };

  /**
   * Stores a small body under a new id, which it writes into `ref` (callers pass a
   * placeholder): in the body log, where inside a write transaction the bytes are written
   * before its COMMIT (the store's drain) and outside one (autocommit) at once; with
   * --fsync, as a row.
   */
  private insertInline(ref: { id: string }, data: Buffer): void {
    const rows = this.shared.rows;
    if (rows) {
      const id = ++rows.last;
      this.st.insertInline!.run(id, data);
      ref.id = String(id);
      return;
    }
    ref.id = this.shared.log.append(data);
    if (!this.db.inTransaction) this.shared.log.flush();
  }

  async createBucket(b: Omit<BucketRecord, 'id'>): Promise<BucketRecord> {
    try {
      const info = this.st.insertBucket!.run(b.name, b.region, b.createdAt, b.ownerId);
      this.bucketsChanged();
      return { ...b, id: Number(info.lastInsertRowid) };
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreError('Conflict', `bucket ${b.name} exists`);
      throw e;
    }
  }

  private bucketsChanged(): void {
    this.shared.cache.clear();
    this.shared.cache.dirty = true;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    if (this.shared.reads) {
      const hit = this.shared.cache.get(name);
      if (hit) return hit;
    }
    const t = this.st.getBucket!.get(name) as [number, string, string, number, string, VersioningStatus | null] | undefined;
    const b = t && toBucket({ id: t[0], name: t[1], region: t[2], created_at: t[3], owner_id: t[4], versioning: t[5] });
    if (b && this.shared.reads) this.shared.cache.set(b);
    return b;
  }

  async listBuckets(q: { prefix?: string; after?: string; limit: number; ownerId?: string }): Promise<BucketRecord[]> {
    const rows = (q.ownerId === undefined
      ? this.st.listBuckets!.all(q.after ?? '', q.prefix ?? '', q.limit)
      : this.st.listOwnedBuckets!.all(q.after ?? '', q.prefix ?? '', q.ownerId, q.limit)) as BucketRow[];
    return rows.filter((r) => !q.prefix || r.name.startsWith(q.prefix)).map(toBucket);
  }

  async deleteBucket(id: number): Promise<void> {
    if (this.st.anyObject!.get(id) || this.st.anyVersion!.get(id)) throw new StoreError('Conflict', 'bucket not empty');
    this.st.deleteBucketConfigs!.run(id);
    this.st.deleteBucketAttrs!.run(id);
    this.st.deleteBucket!.run(id);
    this.bucketsChanged();
  }

  async getObject(bucketId: number, key: string, opts?: { withInline?: boolean }): Promise<ObjectRecord | undefined> {
    if (opts?.withInline) {
      const t = this.st.readObjectInline!.get(bucketId, key) as [...ObjectTuple, Buffer | null] | undefined;
      if (!t) return undefined;
      const data = t[t.length - 1] as Buffer | null;
      const rec = tupleToObject(t as unknown as ObjectTuple);
      if (data) rec.inlineData = data;
      else if (rec.body.kind === 'inline' && isLogId(rec.body.id)) rec.inlineData = this.shared.log.read(rec.body.id);
      return rec;
    }
    const t = this.st.readObject!.get(bucketId, key) as ObjectTuple | undefined;
    return t && tupleToObject(t);
  }

  async setBucketVersioning(bucketId: number, status: VersioningStatus): Promise<void> {
    this.st.setVersioning!.run(status, bucketId);
    this.bucketsChanged();
  }

  private versioningOf(bucketId: number): VersioningStatus | undefined {
    return ((this.st.bucketVersioning!.get(bucketId) as { versioning: VersioningStatus | null } | undefined)?.versioning) ?? undefined;
  }

  private currentRow(bucketId: number, key: string): ObjectRow | undefined {
    return this.st.getObject!.get(bucketId, key) as ObjectRow | undefined;
  }

  private newestVersionRow(bucketId: number, key: string): VersionRow | undefined {
    return this.st.newestVersion!.get(bucketId, key) as VersionRow | undefined;
  }

  private freeInline(r: { body_kind: string | null; body_id: string | null }): void {
    if (r.body_kind !== 'inline' || r.body_id === null) return;
    if (isLogId(r.body_id)) this.shared.log.freed(r.body_id);
    else this.st.deleteInline!.run(r.body_id);
  }

  /** A version removed for good takes its attributes (tags, ACL) with it. */
  private dropAttrs(r: { bucket_id: number; key: string; version_key: string }): void {
    this.st.deleteAttrs!.run(r.bucket_id, r.key, r.version_key);
  }

  /** The version_key of an object version (not a delete marker) named by its public id. */
  private objectVersionKey(bucketId: number, key: string, versionId: string): string | undefined {
    const cur = this.currentRow(bucketId, key);
    if (cur && isVersion(cur, versionId)) return cur.version_key;
    const r = (versionId === 'null' ? this.st.nullVersion!.get(bucketId, key) : this.st.versionById!.get(bucketId, key, versionId)) as VersionRow | undefined;
    return r && !r.delete_marker ? r.version_key : undefined;
  }

  async getObjectAttrs(bucketId: number, key: string, versionId: string): Promise<ObjectAttrs | undefined> {
    return this.snapshot(() => {
      const vk = this.objectVersionKey(bucketId, key, versionId);
      const text = vk === undefined ? undefined : (this.st.getAttrs!.get(bucketId, key, vk) as string | undefined);
      return text === undefined ? undefined : (JSON.parse(text) as ObjectAttrs);
    });
  }

  async setObjectAttrs(bucketId: number, key: string, versionId: string, attrs: ObjectAttrs | undefined): Promise<boolean> {
    return this.snapshot(() => {
      const vk = this.objectVersionKey(bucketId, key, versionId);
      if (vk === undefined) return false;
      this.writeAttrs(bucketId, key, vk, attrs);
      return true;
    });
  }

  private writeAttrs(bucketId: number, key: string, versionKey: string, attrs: ObjectAttrs | undefined): void {
    const stored = attrs && compactAttrs(attrs);
    if (stored) this.st.putAttrs!.run(bucketId, key, versionKey, JSON.stringify(stored));
    else this.st.deleteAttrs!.run(bucketId, key, versionKey);
  }

  /** Removes the key's null version from object_versions, if any; returns it. */
  private dropNullVersion(bucketId: number, key: string): VersionRow | undefined {
    const nv = this.st.nullVersion!.get(bucketId, key) as VersionRow | undefined;
    if (!nv) return undefined;
    this.st.deleteVersionRow!.run(bucketId, key, nv.version_key);
    this.freeInline(nv);
    this.dropAttrs(nv);
    return nv;
  }

  /**
   * Makes the newest version in object_versions current when `objects` has none for the
   * key: an object version moves back to `objects`, a delete marker is flagged current.
   */
  private restoreCurrent(bucketId: number, key: string): void {
    if (this.currentRow(bucketId, key)) return;
    const top = this.newestVersionRow(bucketId, key);
    if (!top) return;
    if (top.delete_marker) {
      if (top.noncurrent_since !== null) this.st.makeCurrent!.run(bucketId, key, top.version_key);
      return;
    }
    this.st.promoteVersion!.run(bucketId, key, top.version_key);
    this.st.deleteVersionRow!.run(bucketId, key, top.version_key);
  }

  async getCurrentVersion(bucketId: number, key: string): Promise<VersionRecord | undefined> {
    return this.snapshot(() => {
      const cur = this.currentRow(bucketId, key);
      if (cur) return toObject(cur);
      // With no current object, the newest other version is current: a delete marker.
      const top = this.newestVersionRow(bucketId, key);
      return top && toVersion(top);
    });
  }

  async getVersion(bucketId: number, key: string, versionId: string): Promise<VersionRecord | undefined> {
    return this.snapshot(() => {
      const cur = this.currentRow(bucketId, key);
      if (cur && isVersion(cur, versionId)) return toObject(cur);
      const r = (versionId === 'null' ? this.st.nullVersion!.get(bucketId, key) : this.st.versionById!.get(bucketId, key, versionId)) as VersionRow | undefined;
      return r && toVersion(r);
    });
  }

  async putObject(rec: ObjectRecord, inlineBody: Buffer | undefined, cond?: PutCondition): Promise<PutObjectResult> {
    const { bucketId, key } = rec;
    const cur = this.currentRow(bucketId, key);
    if (cond?.ifNoneMatch && cur) throw new StoreError('PreconditionFailed', 'If-None-Match');
    if (cond?.ifMatch !== undefined && (!cur || !etagMatches(cond.ifMatch, cur.etag))) {
      throw new StoreError(cur ? 'PreconditionFailed' : 'NotFound', 'If-Match');
    }
    const versioning = this.versioningOf(bucketId);
    // Unversioned buckets have no other versions: only look when versioning was ever on.
    const top = versioning && !cur ? this.newestVersionRow(bucketId, key) : undefined;
    const versionKey = versioning ? newVersionId(rec.lastModified, cur?.version_key ?? top?.version_key) : UNVERSIONED_KEY;
    let removed: ObjectRow | undefined;
    if (!versioning || (versioning === 'Suspended' && cur?.null_version)) {
      // The null version is replaced in place.
      removed = cur;
      if (cur) {
        this.freeInline(cur);
        this.dropAttrs(cur);
      }
    } else {
      if (cur) this.st.archiveCurrent!.run(rec.lastModified, bucketId, key);
      if (versioning === 'Suspended') {
        const nv = this.dropNullVersion(bucketId, key);
        if (nv && !nv.delete_marker) removed = nv;
        if (top && top.version_key !== nv?.version_key) this.st.supersede!.run(rec.lastModified, bucketId, key, top.version_key);
      } else if (top) {
        this.st.supersede!.run(rec.lastModified, bucketId, key, top.version_key);
      }
    }
    if (inlineBody) this.insertInline(rec.body, inlineBody);
    const nullVersion = versioning === 'Enabled' ? 0 : 1;
    this.st.upsertObject!.run(
      bucketId,
      key,
      rec.size,
      rec.etag,
      rec.lastModified,
      rec.storageClass,
      JSON.stringify(rec.headers),
      rec.checksum ? JSON.stringify(rec.checksum) : null,
      rec.body.kind,
      rec.body.id,
      partsColumn(rec),
      versionKey,
      nullVersion,
      rec.sse ? JSON.stringify(rec.sse) : null,
      rec.restore ? JSON.stringify(rec.restore) : null,
    );
    if (rec.attrs) this.writeAttrs(bucketId, key, versionKey, rec.attrs);
    return { versionId: nullVersion ? 'null' : versionKey, versioning, removed: removed && toObject(removed) };
  }

  async deleteObject(bucketId: number, key: string, at = Date.now()): Promise<DeleteObjectResult> {
    const cur = this.currentRow(bucketId, key);
    const versioning = this.versioningOf(bucketId);
    if (!versioning) {
      if (!cur) return {};
      this.st.deleteObject!.run(bucketId, key);
      this.freeInline(cur);
      this.dropAttrs(cur);
      return { removed: toObject(cur) };
    }
    const top = cur ? undefined : this.newestVersionRow(bucketId, key);
    const versionKey = newVersionId(at, cur?.version_key ?? top?.version_key);
    let removed: ObjectRow | undefined;
    if (cur) {
      if (versioning === 'Suspended' && cur.null_version) {
        removed = cur;
        this.freeInline(cur);
        this.dropAttrs(cur);
      } else {
        this.st.archiveCurrent!.run(at, bucketId, key);
      }
      this.st.deleteObject!.run(bucketId, key);
    }
    let nv: VersionRow | undefined;
    if (versioning === 'Suspended') {
      nv = this.dropNullVersion(bucketId, key);
      if (nv && !nv.delete_marker) removed = nv;
    }
    if (top && top.version_key !== nv?.version_key) this.st.supersede!.run(at, bucketId, key, top.version_key);
    const nullVersion = versioning === 'Suspended' ? 1 : 0;
    this.st.insertMarker!.run(bucketId, key, versionKey, nullVersion, at);
    return { versioning, deleteMarker: { versionId: nullVersion ? 'null' : versionKey }, removed: removed && toObject(removed) };
  }

  async setRestore(bucketId: number, key: string, versionId: string, restore: RestoreRecord): Promise<boolean> {
    const text = JSON.stringify(restore);
    const cur = this.currentRow(bucketId, key);
    if (cur && isVersion(cur, versionId)) return this.st.setCurrentRestore!.run(text, bucketId, key).changes > 0;
    const r = (versionId === 'null' ? this.st.nullVersion!.get(bucketId, key) : this.st.versionById!.get(bucketId, key, versionId)) as VersionRow | undefined;
    return !!r && this.st.setVersionRestore!.run(text, bucketId, key, r.version_key).changes > 0;
  }

  async deleteVersion(bucketId: number, key: string, versionId: string): Promise<VersionRecord | undefined> {
    const cur = this.currentRow(bucketId, key);
    if (cur && isVersion(cur, versionId)) {
      this.st.deleteObject!.run(bucketId, key);
      this.freeInline(cur);
      this.dropAttrs(cur);
      this.restoreCurrent(bucketId, key);
      return toObject(cur);
    }
    const r = (versionId === 'null' ? this.st.nullVersion!.get(bucketId, key) : this.st.versionById!.get(bucketId, key, versionId)) as VersionRow | undefined;
    if (!r) return undefined;
    this.st.deleteVersionRow!.run(bucketId, key, r.version_key);
    this.freeInline(r);
    this.dropAttrs(r);
    // Removing the current delete marker uncovers the version below it.
    if (!cur) this.restoreCurrent(bucketId, key);
    return toVersion(r);
  }

  /**
   * ListObjectVersions: a merge of two index range scans in (key, version_key) order, the
   * current objects and the other versions, fetched in batches; with a delimiter each
   * common prefix costs one seek past it. A page costs O(page size) plus the keys it
   * rolls up, never a scan of the bucket.
   */
  async listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListVersionsPage> {
    const { prefix, delimiter, limit } = q;
    const versions: ListVersionsPage['versions'] = [];
    const commonPrefixes: string[] = [];
    const done = (isTruncated: boolean): ListVersionsPage => {
      const page: ListVersionsPage = { versions, commonPrefixes, isTruncated };
      if (lastEntry?.kind === 'prefix') page.nextKeyMarker = lastEntry.prefix;
      else if (lastEntry) {
        page.nextKeyMarker = lastEntry.row.key;
        page.nextVersionIdMarker = publicVersionId(lastEntry.row);
      }
      return page;
    };
    let lastEntry: { kind: 'prefix'; prefix: string } | { kind: 'row'; row: ObjectRow } | undefined;
    // The scan position: from a key (inclusive) or after a (key, version_key).
    let pos: { from: string } | { key: string; version: string } = { from: prefix };
    if (q.keyMarker !== undefined && cmpKeys(q.keyMarker, prefix) >= 0) {
      let version = AFTER_ALL_VERSIONS;
      if (q.versionIdMarker === 'null') {
        // "null" carries no position: resume after wherever the null version is (or the whole key).
        const cur = this.currentRow(bucketId, q.keyMarker);
        const nv = cur?.null_version ? cur : (this.st.nullVersion!.get(bucketId, q.keyMarker) as VersionRow | undefined);
        if (nv) version = nv.version_key;
      } else if (q.versionIdMarker !== undefined) {
        // Ids sort by age, so a marker resumes at the right place even if that version is gone.
        version = q.versionIdMarker;
      }
      pos = { key: q.keyMarker, version };
      // Resuming inside a rolled-up prefix means skipping that whole prefix.
      const i = delimiter && q.keyMarker.startsWith(prefix) ? q.keyMarker.indexOf(delimiter, prefix.length) : -1;
      if (i >= 0) {
        const from = prefixSuccessor(q.keyMarker.slice(0, i + delimiter!.length));
        if (from === undefined) return done(false);
        pos = { from };
      }
    }
    const batch = Math.min(limit + 1, 1001);
    for (;;) {
      // Both scans see one snapshot, or a write moving a row between the tables could show it twice.
      const at = pos;
      const [curRows, verRows] = this.snapshot(() => [
        ('from' in at ? this.st.curFrom!.all(bucketId, at.from, batch) : this.st.curAfter!.all(bucketId, at.key, at.key, at.version, batch)) as ObjectRow[],
        ('from' in at ? this.st.verFrom!.all(bucketId, at.from, batch) : this.st.verAfter!.all(bucketId, at.key, at.version, batch)) as VersionRow[],
      ]);
      let ci = 0;
      let vi = 0;
      let consumed: ObjectRow | undefined;
      let jumped = false;
      for (;;) {
        const c = curRows[ci];
        const v = verRows[vi];
        // A side that filled its batch may hold more rows beyond it: fetch again from here.
        if ((c === undefined && curRows.length === batch) || (v === undefined && verRows.length === batch)) break;
        if (c === undefined && v === undefined) return done(false);
        const fromCur = v === undefined || (c !== undefined && (cmpKeys(c.key, v.key) || (c.version_key < v.version_key ? -1 : 1)) < 0);
        const r: ObjectRow = fromCur ? c! : v!;
        if (!r.key.startsWith(prefix)) return done(false);
        if (versions.length + commonPrefixes.length === limit) return done(true);
        const i = delimiter ? r.key.indexOf(delimiter, prefix.length) : -1;
        if (i >= 0) {
          const cp = r.key.slice(0, i + delimiter!.length);
          commonPrefixes.push(cp);
          lastEntry = { kind: 'prefix', prefix: cp };
          const from = prefixSuccessor(cp);
          if (from === undefined) return done(false);
          pos = { from };
          jumped = true;
          break;
        }
        versions.push({ ...toVersion(r as VersionRow), isLatest: fromCur || (r as VersionRow).noncurrent_since === null });
        lastEntry = { kind: 'row', row: r };
        consumed = r;
        if (fromCur) ci++;
        else vi++;
      }
      if (!jumped) pos = { key: consumed!.key, version: consumed!.version_key };
    }
  }

  /**
   * One index range scan per page; with a delimiter, each common prefix costs one seek
   * past it, so a page costs O(page size) whatever the bucket's size.
   */
  async listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListObjectsPage> {
    const { prefix, delimiter, limit } = q;
    const objects: ListedObject[] = [];
    const commonPrefixes: string[] = [];
    let last: string | undefined;
    let after = q.after ?? '';
    let from: string | undefined;
    // Resuming inside a rolled-up prefix means skipping that whole prefix.
    if (delimiter && after.startsWith(prefix)) {
      const i = after.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        from = prefixSuccessor(after.slice(0, i + delimiter.length));
        if (from === undefined) return { objects, commonPrefixes, isTruncated: false };
      }
    }
    const batch = Math.min(limit + 1, 1001);
    const list = q.versionIds ? this.listing.withVersions : this.listing.plain;
    for (;;) {
      const rows = (from !== undefined ? list.from.all(bucketId, from, batch) : list.after.all(bucketId, after, prefix, batch)) as ListedTuple[];
      if (rows.length === 0) return { objects, commonPrefixes, isTruncated: false, last };
      let jumped = false;
      for (const r of rows) {
        const key = r[0];
        if (!key.startsWith(prefix)) return { objects, commonPrefixes, isTruncated: false, last };
        if (objects.length + commonPrefixes.length === limit) return { objects, commonPrefixes, isTruncated: true, last };
        const i = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
        if (i >= 0) {
          const cp = key.slice(0, i + delimiter!.length);
          commonPrefixes.push(cp);
          last = cp;
          from = prefixSuccessor(cp);
          if (from === undefined) return { objects, commonPrefixes, isTruncated: false, last };
          jumped = true;
          break;
        }
        objects.push(tupleToListed(bucketId, r));
        last = key;
      }
      if (!jumped) {
        if (rows.length < batch) return { objects, commonPrefixes, isTruncated: false, last };
        after = last!;
        from = undefined;
      }
    }
  }

  /**
   * A small body by id, while a row names it: a body deleted or replaced reads as absent,
   * even though its bytes stay in the log until their segment is reclaimed. In a segment
   * being reclaimed, any id reads: its live bodies are being copied elsewhere, and a request
   * may hold an id read before its row was re-pointed.
   */
  async readInline(id: string): Promise<Buffer | undefined> {
    if (isLogId(id)) {
      const p = parseLogId(id);
      if (!p) return undefined;
      if (!this.shared.log.retiring(p.segment) && !this.st.logReferenced!.get(id, id, id)) return undefined;
      return this.shared.log.read(id);
    }
    const r = this.st.readInline!.get(id) as { data: Buffer } | undefined;
    return r?.data;
  }

  /**
   * Bytes of the segment's bodies that rows still name: read in batches, with a turn of the
   * event loop between them, so it is an estimate while writes go on.
   */
  async liveLogBytes(segment: number): Promise<number> {
    const [lo, hi] = segmentRange(segment);
    let live = 0;
    for (const range of this.logBodies.range) {
      let from = lo;
      for (;;) {
        const ids = range.all(from, hi, LIVE_SCAN_BATCH) as string[];
        for (const id of ids) live += parseLogId(id)?.length ?? 0;
        if (ids.length < LIVE_SCAN_BATCH) break;
        from = ids[ids.length - 1]! + '\0';
        await new Promise((r) => setImmediate(r));
      }
    }
    return live;
  }

  /**
   * Inside a write transaction: copies up to `limit` of the segment's live bodies to where
   * new bodies go (the log's current segment; rows with --fsync) and re-points their rows;
   * returns how many it moved (0: none left in the segment).
   */
  moveLogBodies(segment: number, limit: number): number {
    const [lo, hi] = segmentRange(segment);
    let moved = 0;
    for (let t = 0; t < BODY_TABLES.length && moved < limit; t++) {
      for (const id of this.logBodies.range[t]!.all(lo, hi, limit - moved) as string[]) {
        const data = this.shared.log.read(id);
        if (!data) throw new Error(`body log: ${id} is named by a row but its segment is gone`);
        const to = { id: '' };
        this.insertInline(to, data);
        this.logBodies.repoint[t]!.run(to.id, id);
        moved++;
      }
    }
    return moved;
  }

  async getBucketConfig(bucketId: number, name: string): Promise<string | undefined> {
    return (this.st.getBucketConfig!.get(bucketId, name) as { value: string } | undefined)?.value;
  }

  async putBucketConfig(bucketId: number, name: string, value: string | undefined): Promise<void> {
    if (value === undefined) this.st.deleteBucketConfig!.run(bucketId, name);
    else this.st.putBucketConfig!.run(bucketId, name, value);
  }

  async hasFileBlob(id: string): Promise<boolean> {
    return !!this.st.hasFileBlob!.get(id, id, id);
  }

  async createUpload(u: UploadRecord): Promise<void> {
    this.st.insertUpload!.run(u.uploadId, u.bucketId, u.key, u.initiated, u.storageClass, JSON.stringify(u.headers), u.checksumAlgorithm ?? null, u.checksumType ?? null, u.sse ? JSON.stringify(u.sse) : null);
  }

  async getUpload(uploadId: string): Promise<UploadRecord | undefined> {
    const r = this.st.getUpload!.get(uploadId) as UploadRow | undefined;
    return r && toUpload(r);
  }

  async listUploads(bucketId: number, q: { prefix: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<UploadRecord[]> {
    // Without an upload-id marker, the key marker excludes every upload of that key.
    const keyMarker = q.keyMarker ?? '';
    const idMarker = q.keyMarker !== undefined && q.uploadIdMarker !== undefined ? q.uploadIdMarker : '\u{10FFFF}';
    const from = keyMarker > q.prefix ? keyMarker : q.prefix;
    const rows = this.st.listUploads!.all(bucketId, from, keyMarker, idMarker, q.limit) as UploadRow[];
    return rows.filter((r) => r.key.startsWith(q.prefix)).map(toUpload);
  }

  async putPart(p: PartRecord, inlineBody: Buffer | undefined): Promise<PartRecord | undefined> {
    const prev = this.st.getPart!.get(p.uploadId, p.partNumber) as PartRow | undefined;
    if (prev) this.freeInline(prev);
    if (inlineBody) this.insertInline(p.body, inlineBody);
    this.st.upsertPart!.run(p.uploadId, p.partNumber, p.size, p.etag, p.lastModified, p.checksum ?? null, p.body.kind, p.body.id);
    return prev && toPart(prev);
  }

  async listParts(uploadId: string, q: { after?: number; limit: number }): Promise<PartRecord[]> {
    return (this.st.listParts!.all(uploadId, q.after ?? 0, q.limit) as PartRow[]).map(toPart);
  }

  async deleteUpload(uploadId: string): Promise<PartRecord[]> {
    const rows = this.st.allParts!.all(uploadId) as PartRow[];
    for (const r of rows) this.freeInline(r);
    this.st.deleteParts!.run(uploadId);
    this.st.deleteUpload!.run(uploadId);
    return rows.map(toPart);
  }

  async bucketsWithConfig(name: string): Promise<Array<{ bucket: BucketRecord; value: string }>> {
    return (this.lc.bucketsWithConfig!.all(name) as Array<BucketRow & { value: string }>).map((r) => ({ bucket: toBucket(r), value: r.value }));
  }

  async objectsByAge(bucketId: number, q: { from: number; to: number; after?: { lastModified: number; key: string }; limit: number }): Promise<ObjectRecord[]> {
    const rows = (q.after
      ? this.lc.objectsAfter!.all(bucketId, q.after.lastModified, q.after.key, q.to, q.limit)
      : this.lc.objectsFrom!.all(bucketId, q.from, q.to, q.limit)) as ObjectTuple[];
    return rows.map(tupleToObject);
  }

  async keysByNoncurrentSince(bucketId: number, q: { from: number; to: number; after?: { at: number; key: string }; limit: number }): Promise<Array<{ at: number; key: string }>> {
    const rows = (q.after
      ? this.lc.noncurrentAfter!.all(bucketId, q.after.at, q.after.key, q.to, q.limit)
      : this.lc.noncurrentFrom!.all(bucketId, q.from, q.to, q.limit)) as Array<{ at: number; key: string }>;
    // Several versions of a key can stop being current at one instant (a suspended
    // bucket's null version and the marker above it): one entry each.
    return rows.filter((r, i) => i === 0 || r.at !== rows[i - 1]!.at || r.key !== rows[i - 1]!.key);
  }

  async currentDeleteMarkers(bucketId: number, q: { afterKey?: string; limit: number }): Promise<string[]> {
    return this.lc.currentMarkers!.all(bucketId, q.afterKey ?? '', q.limit) as string[];
  }

  async keyVersions(bucketId: number, key: string): Promise<KeyVersion[]> {
    return this.snapshot(() => {
      const out: KeyVersion[] = [];
      const cur = this.currentRow(bucketId, key);
      if (cur) out.push({ ...toObject(cur), isLatest: true });
      for (const r of this.lc.keyVersions!.all(bucketId, key) as VersionRow[]) {
        out.push({ ...toVersion(r), isLatest: r.noncurrent_since === null, noncurrentSince: r.noncurrent_since ?? undefined });
      }
      return out;
    });
  }

  async setStorageClass(bucketId: number, key: string, versionId: string, storageClass: string): Promise<boolean> {
    return this.snapshot(() => {
      const cur = this.currentRow(bucketId, key);
      if (cur && isVersion(cur, versionId)) return this.lc.setCurrentClass!.run(storageClass, bucketId, key, cur.version_key).changes > 0;
      const r = (versionId === 'null' ? this.st.nullVersion!.get(bucketId, key) : this.st.versionById!.get(bucketId, key, versionId)) as VersionRow | undefined;
      if (!r || r.delete_marker) return false;
      return this.lc.setVersionClass!.run(storageClass, bucketId, key, r.version_key).changes > 0;
    });
  }
}

/** Attributes as stored: empty parts left out; undefined when nothing is left. */
function compactAttrs(a: ObjectAttrs): ObjectAttrs | undefined {
  const out: ObjectAttrs = {};
  if (a.tags?.length) out.tags = a.tags;
  if (a.acl) out.acl = a.acl;
  if (a.owner !== undefined) out.owner = a.owner;
  return Object.keys(out).length ? out : undefined;
}

export function etagMatches(condition: string, etag: string): boolean {
  if (condition.trim() === '*') return true;
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === etag || `"${t}"` === etag;
  });
}

/** The writer's automatic checkpoint, should the checkpoint worker fall behind (pages of 4 KiB: 64 MiB). */
const BACKSTOP_CHECKPOINT_PAGES = 16384;

/** How much of the database file each connection maps (address space, not memory). */
const MMAP_BYTES = 1 << 30;

/** How often the body log's space is reclaimed, and how many bodies one write transaction moves. */
const COMPACT_EVERY_MS = 5000;
const COMPACT_BATCH = 64;

/** Writes in one group commit at most (a bound on how long one COMMIT keeps the others waiting). */
const MAX_BATCH = 256;

interface Pending {
  fn: (tx: Transaction) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  hooks: Array<() => unknown>;
}

async function runHooks(hooks: Array<() => unknown>): Promise<void> {
  for (const h of hooks) {
    try {
      await h();
    } catch (e) {
      log.warn(`after-commit hook failed: ${(e as Error).message}`);
    }
  }
}

export class SqliteMetadataStore implements MetadataStore {
  readonly kind = 'sqlite';
  /** Reads outside transactions go to their own connection, so they only ever see committed data. */
  readonly s3: S3Repository;
  private readonly db: Database.Database;
  readonly docs: DocumentRepository;
  readonly logs: LogsRepository;
  private readonly readDb: Database.Database;
  private readonly writeS3: S3Repository;
  private readonly writeDocs: DocumentRepository;
  private readonly writeLogs: LogsRepository;
  private readonly queue: Pending[] = [];
  private readonly bucketCache = new BucketCache();
  /** Small bodies (body-log.ts). */
  private readonly bodyLog: BodyLog;
  /** The body log's space reclaiming: a timer, and the pass in progress. */
  private compactTimer?: NodeJS.Timeout;
  private compaction?: Promise<void>;
  private closing = false;
  private readonly checkpointer: Checkpointer;
  private draining = false;
  /** Writes wait for a WAL restart (`holdForRestart`). */
  private holding = false;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  /**
   * `restartFrames`: the WAL size (in pages) from which it is restarted (tests use a small
   * one; see checkpointer.ts). `logSegmentBytes`, `compactEveryMs`, `logRetireMs`: the body
   * log's segment size, how often its space is reclaimed (0: only when `compactBodyLog` is
   * called), and how long a reclaimed segment stays (body-log.ts).
   */
  constructor(
    dataDir: string,
    opts: { fsync?: boolean; restartFrames?: number; logSegmentBytes?: number; compactEveryMs?: number; logRetireMs?: number } = {},
  ) {
    this.bodyLog = new BodyLog(join(dataDir, 'bodies'), { segmentBytes: opts.logSegmentBytes, retireDelayMs: opts.logRetireMs });
    const rows: InlineIds | undefined = opts.fsync ? { last: -1 } : undefined;
    this.db = new Database(join(dataDir, 'metadata.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.fsync ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    // The writer reads pages too (the b-tree leaves a write changes): as memory accesses of
    // the database file, like the reader below. Writes still go through write(), so
    // durability is unchanged. A PUT-shaped SQLite loop went from ~45 to ~37 µs a write.
    this.db.pragma(`mmap_size = ${MMAP_BYTES}`);
    this.migrate();
    // Checkpoints run in a worker (checkpointer.ts); the writer's own stay as a backstop.
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    this.checkpointer = new Checkpointer(join(dataDir, 'metadata.sqlite'), opts.fsync ? 'FULL' : 'NORMAL', () => {
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    }, undefined, opts.restartFrames);
    this.writeS3 = new SqliteS3Repository(this.db, { cache: this.bucketCache, reads: false, log: this.bodyLog, rows });
    // WAL lets this reader run beside an open write transaction, seeing the last commit.
    this.readDb = new Database(join(dataDir, 'metadata.sqlite'));
    this.readDb.pragma('busy_timeout = 5000');
    // Reads of the database file as memory accesses instead of a pread per page (a 4 KiB
    // inline GET did ~12): about 6 µs less server CPU per GET, measured. WAL frames are
    // still read with pread.
    this.readDb.pragma(`mmap_size = ${MMAP_BYTES}`);
    this.s3 = new SqliteS3Repository(this.readDb, { cache: this.bucketCache, reads: true, log: this.bodyLog, rows });
    this.writeDocs = new SqliteDocumentRepository(this.db);
    this.docs = new SqliteDocumentRepository(this.readDb);
    this.writeLogs = new SqliteLogsRepository(this.db);
    this.logs = new SqliteLogsRepository(this.readDb);
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.savepoint = this.db.prepare('SAVEPOINT w');
    this.release = this.db.prepare('RELEASE w');
    this.rollbackTo = this.db.prepare('ROLLBACK TO w');
    const every = opts.compactEveryMs ?? COMPACT_EVERY_MS;
    if (every > 0) {
      this.compactTimer = setInterval(() => void this.compactBodyLog(), every);
      this.compactTimer.unref();
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /**
   * Group commit. Transactions asked for in the same turn of the event loop (concurrent
   * requests) run one after another inside one SQLite transaction, each in a savepoint of
   * its own, and share one COMMIT: a failing one rolls back to its savepoint alone. Each
   * caller's promise resolves only after that COMMIT, so "acknowledged ⇒ durable" holds for
   * every write of the batch, and --fsync pays one WAL sync per batch instead of one per
   * write. Under load the batch is whatever arrived while the previous one ran; with one
   * client it is that one transaction, started on the next turn (setImmediate).
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn: fn as (tx: Transaction) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject, hooks: [] });
      if (!this.draining && !this.holding) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        if (this.checkpointer.needRestart) {
          this.holdForRestart();
          return;
        }
        const batch = this.queue.splice(0, MAX_BATCH);
        const done: Array<[Pending, unknown]> = [];
        try {
          this.begin.run();
        } catch (e) {
          for (const p of batch) p.reject(e);
          continue;
        }
        let i = 0;
        for (; i < batch.length; i++) {
          const p = batch[i]!;
          const tx: Transaction = { s3: this.writeS3, docs: this.writeDocs, logs: this.writeLogs, afterCommit: (h) => p.hooks.push(h) };
          this.savepoint.run();
          try {
            const result = await p.fn(tx);
            this.release.run();
            done.push([p, result]);
          } catch (e) {
            if (this.db.inTransaction) {
              this.rollbackTo.run();
              this.release.run();
            }
            p.reject(e);
          }
          // A statement error can end the whole transaction (SQLITE_FULL, …): the rest start over.
          if (!this.db.inTransaction) {
            i++;
            break;
          }
        }
        this.queue.unshift(...batch.slice(i));
        try {
          if (!this.db.inTransaction) throw new Error('the transaction was rolled back by SQLite');
          // The batch's small bodies are written before the COMMIT whose rows name them.
          this.bodyLog.flush();
          this.commit.run();
          this.checkpointer.committed();
        } catch (e) {
          if (this.db.inTransaction) this.rollback.run();
          for (const [p] of done) p.reject(e);
          continue;
        } finally {
          if (this.bucketCache.dirty) {
            this.bucketCache.clear();
            this.bucketCache.dirty = false;
          }
        }
        // Hooks run after the commit and outside the batch, so slow clean-up holds up no writer.
        for (const [p, result] of done) void runHooks(p.hooks).then(() => p.resolve(result));
      }
    } finally {
      this.draining = false;
      if (this.queue.length && !this.holding) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  /**
   * Between batches: no new write transaction until the checkpoint worker has copied the
   * rest of the WAL, so the next one restarts it (see checkpointer.ts). Reads go on.
   */
  private holdForRestart(): void {
    this.holding = true;
    this.checkpointer.restart(() => {
      this.holding = false;
      if (this.queue.length && !this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * Reclaims the body log's space: a closed segment with at most half of it alive has its
   * live bodies copied to where new bodies go, a batch per write transaction, and is deleted
   * after its retire delay; one with nothing alive is deleted at once. Runs every
   * `compactEveryMs`; at most one pass at a time.
   */
  compactBodyLog(): Promise<void> {
    this.compaction ??= this.compactPass().finally(() => (this.compaction = undefined));
    return this.compaction;
  }

  private async compactPass(): Promise<void> {
    this.bodyLog.sweep();
    const writer = this.writeS3 as SqliteS3Repository;
    for (const segment of this.bodyLog.candidates()) {
      if (this.closing) return;
      // Measured on the read connection, between requests; the writes below decide for sure.
      const verdict = this.bodyLog.setLive(segment, await (this.s3 as SqliteS3Repository).liveLogBytes(segment));
      if (verdict === 'keep') continue;
      // Retiring first: ids into it keep reading while their rows are re-pointed.
      this.bodyLog.retire(segment);
      let moved = 0;
      try {
        while (!this.closing) {
          const n = await this.transaction(async () => writer.moveLogBodies(segment, COMPACT_BATCH));
          if (n === 0) break;
          moved += n;
          await new Promise((r) => setImmediate(r));
        }
      } catch (e) {
        log.warn(`body log: reclaiming segment ${segment} failed: ${(e as Error).message}`);
        this.bodyLog.unretire(segment);
        continue;
      }
      if (this.closing) this.bodyLog.unretire(segment);
      // Nothing moved: every body in it was deleted by a commit, so a request still holding
      // one of its ids would find it gone anyway (readInline checks the rows), and the
      // segment goes now. After moves, requests may hold an id that still reads: the delay
      // starts over.
      else this.bodyLog.retire(segment, moved === 0 ? 0 : undefined);
      this.bodyLog.sweep();
      await new Promise((r) => setImmediate(r));
    }
    await this.bodyLog.deleted();
  }

  /** The body log's segments (tests and diagnostics). */
  bodyLogStats(): ReturnType<BodyLog['stats']> {
    return this.bodyLog.stats();
  }

  /** Deletes the reclaimed segments now instead of after their delay (tests); resolves to how many, once they are gone. */
  async sweepBodyLog(now = Number.MAX_SAFE_INTEGER): Promise<number> {
    const n = this.bodyLog.sweep(now);
    await this.bodyLog.deleted();
    return n;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    await this.compaction;
    await this.bodyLog.deleted();
    while (this.draining || this.holding || this.queue.length) await new Promise((r) => setImmediate(r));
    await this.checkpointer.close();
    if (this.readDb.open) this.readDb.close();
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
    this.bodyLog.close();
  }
}
