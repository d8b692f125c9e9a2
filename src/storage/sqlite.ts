import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { join } from 'node:path';
import {
  StoreError,
  prefixSuccessor,
  type BucketRecord,
  type ListObjectsPage,
  type ListObjectsQuery,
  type MetadataStore,
  type DocumentRepository,
  type LogsRepository,
  type ObjectRecord,
  type PartRecord,
  type PutCondition,
  type UploadRecord,
  type S3Repository,
  type Transaction,
} from './metadata.js';
import { log } from '../util/log.js';
import { SqliteLogsRepository } from './sqlite-logs.js';

/**
 * SQLite metadata store (better-sqlite3, WAL). WAL with synchronous=NORMAL survives
 * kill -9 of the process for every committed transaction; `fsync` mode uses FULL so a
 * commit also survives power loss.
 */
/** Append only: a data dir at version N has run exactly the first N entries. */
const MIGRATIONS: string[] = [
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
}

function toUpload(r: UploadRow): UploadRecord {
  return {
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
}

function toObject(r: ObjectRow): ObjectRecord {
  return {
    bucketId: r.bucket_id,
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    headers: JSON.parse(r.headers),
    checksum: r.checksum ? JSON.parse(r.checksum) : undefined,
    body: { kind: r.body_kind, id: r.body_id },
    parts: r.parts ? JSON.parse(r.parts) : undefined,
  };
}

interface BucketRow {
  id: number;
  name: string;
  region: string;
  created_at: number;
  owner_id: string;
}

function toBucket(r: BucketRow): BucketRecord {
  return { id: r.id, name: r.name, region: r.region, createdAt: r.created_at, ownerId: r.owner_id };
}

class SqliteS3Repository implements S3Repository {
  private readonly st: Record<string, Statement>;

  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      insertBucket: p('INSERT INTO buckets (name, region, created_at, owner_id) VALUES (?, ?, ?, ?)'),
      getBucket: p('SELECT * FROM buckets WHERE name = ?'),
      listBuckets: p('SELECT * FROM buckets WHERE name > ? AND name >= ? ORDER BY name LIMIT ?'),
      listOwnedBuckets: p('SELECT * FROM buckets WHERE name > ? AND name >= ? AND owner_id = ? ORDER BY name LIMIT ?'),
      anyObject: p('SELECT 1 FROM objects WHERE bucket_id = ? LIMIT 1'),
      deleteBucket: p('DELETE FROM buckets WHERE id = ?'),
      deleteBucketConfigs: p('DELETE FROM bucket_configs WHERE bucket_id = ?'),
      getBucketConfig: p('SELECT value FROM bucket_configs WHERE bucket_id = ? AND name = ?'),
      putBucketConfig: p('INSERT INTO bucket_configs (bucket_id, name, value) VALUES (?, ?, ?) ON CONFLICT (bucket_id, name) DO UPDATE SET value = excluded.value'),
      deleteBucketConfig: p('DELETE FROM bucket_configs WHERE bucket_id = ? AND name = ?'),
      getObject: p('SELECT * FROM objects WHERE bucket_id = ? AND key = ?'),
      upsertObject: p(
        `INSERT INTO objects (bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (bucket_id, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,
           last_modified = excluded.last_modified, storage_class = excluded.storage_class, headers = excluded.headers,
           checksum = excluded.checksum, body_kind = excluded.body_kind, body_id = excluded.body_id, parts = excluded.parts`,
      ),
      deleteObject: p('DELETE FROM objects WHERE bucket_id = ? AND key = ?'),
      insertInline: p('INSERT INTO inline_bodies (id, data) VALUES (?, ?)'),
      deleteInline: p('DELETE FROM inline_bodies WHERE id = ?'),
      readInline: p('SELECT data FROM inline_bodies WHERE id = ?'),
      listAfter: p('SELECT * FROM objects WHERE bucket_id = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?'),
      listFrom: p('SELECT * FROM objects WHERE bucket_id = ? AND key >= ? ORDER BY key LIMIT ?'),
      hasFileBlob: p("SELECT 1 FROM objects WHERE body_id = ? AND body_kind = 'file' UNION ALL SELECT 1 FROM parts WHERE body_id = ? AND body_kind = 'file' LIMIT 1"),
      insertUpload: p(
        'INSERT INTO uploads (upload_id, bucket_id, key, initiated, storage_class, headers, checksum_algorithm, checksum_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
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
  }

  async createBucket(b: Omit<BucketRecord, 'id'>): Promise<BucketRecord> {
    try {
      const info = this.st.insertBucket!.run(b.name, b.region, b.createdAt, b.ownerId);
      return { ...b, id: Number(info.lastInsertRowid) };
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreError('Conflict', `bucket ${b.name} exists`);
      throw e;
    }
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const r = this.st.getBucket!.get(name) as BucketRow | undefined;
    return r && toBucket(r);
  }

  async listBuckets(q: { prefix?: string; after?: string; limit: number; ownerId?: string }): Promise<BucketRecord[]> {
    const rows = (q.ownerId === undefined
      ? this.st.listBuckets!.all(q.after ?? '', q.prefix ?? '', q.limit)
      : this.st.listOwnedBuckets!.all(q.after ?? '', q.prefix ?? '', q.ownerId, q.limit)) as BucketRow[];
    return rows.filter((r) => !q.prefix || r.name.startsWith(q.prefix)).map(toBucket);
  }

  async deleteBucket(id: number): Promise<void> {
    if (this.st.anyObject!.get(id)) throw new StoreError('Conflict', 'bucket not empty');
    this.st.deleteBucketConfigs!.run(id);
    this.st.deleteBucket!.run(id);
  }

  async getObject(bucketId: number, key: string): Promise<ObjectRecord | undefined> {
    const r = this.st.getObject!.get(bucketId, key) as ObjectRow | undefined;
    return r && toObject(r);
  }

  async putObject(rec: ObjectRecord, inlineBody: Buffer | undefined, cond?: PutCondition): Promise<ObjectRecord | undefined> {
    const prevRow = this.st.getObject!.get(rec.bucketId, rec.key) as ObjectRow | undefined;
    if (cond?.ifNoneMatch && prevRow) throw new StoreError('PreconditionFailed', 'If-None-Match');
    if (cond?.ifMatch !== undefined && (!prevRow || !etagMatches(cond.ifMatch, prevRow.etag))) {
      throw new StoreError(prevRow ? 'PreconditionFailed' : 'NotFound', 'If-Match');
    }
    if (prevRow?.body_kind === 'inline') this.st.deleteInline!.run(prevRow.body_id);
    if (inlineBody) this.st.insertInline!.run(rec.body.id, inlineBody);
    this.st.upsertObject!.run(
      rec.bucketId,
      rec.key,
      rec.size,
      rec.etag,
      rec.lastModified,
      rec.storageClass,
      JSON.stringify(rec.headers),
      rec.checksum ? JSON.stringify(rec.checksum) : null,
      rec.body.kind,
      rec.body.id,
      rec.parts ? JSON.stringify(rec.parts) : null,
    );
    return prevRow && toObject(prevRow);
  }

  async deleteObject(bucketId: number, key: string): Promise<ObjectRecord | undefined> {
    const prevRow = this.st.getObject!.get(bucketId, key) as ObjectRow | undefined;
    if (!prevRow) return undefined;
    this.st.deleteObject!.run(bucketId, key);
    if (prevRow.body_kind === 'inline') this.st.deleteInline!.run(prevRow.body_id);
    return toObject(prevRow);
  }

  /**
   * One index range scan per page; with a delimiter, each common prefix costs one seek
   * past it, so a page costs O(page size) whatever the bucket's size.
   */
  async listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListObjectsPage> {
    const { prefix, delimiter, limit } = q;
    const objects: ObjectRecord[] = [];
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
    for (;;) {
      const rows = (from !== undefined ? this.st.listFrom!.all(bucketId, from, batch) : this.st.listAfter!.all(bucketId, after, prefix, batch)) as ObjectRow[];
      if (rows.length === 0) return { objects, commonPrefixes, isTruncated: false, last };
      let jumped = false;
      for (const r of rows) {
        if (!r.key.startsWith(prefix)) return { objects, commonPrefixes, isTruncated: false, last };
        if (objects.length + commonPrefixes.length === limit) return { objects, commonPrefixes, isTruncated: true, last };
        const i = delimiter ? r.key.indexOf(delimiter, prefix.length) : -1;
        if (i >= 0) {
          const cp = r.key.slice(0, i + delimiter!.length);
          commonPrefixes.push(cp);
          last = cp;
          from = prefixSuccessor(cp);
          if (from === undefined) return { objects, commonPrefixes, isTruncated: false, last };
          jumped = true;
          break;
        }
        objects.push(toObject(r));
        last = r.key;
      }
      if (!jumped) {
        if (rows.length < batch) return { objects, commonPrefixes, isTruncated: false, last };
        after = last!;
        from = undefined;
      }
    }
  }

  async readInline(id: string): Promise<Buffer | undefined> {
    const r = this.st.readInline!.get(id) as { data: Buffer } | undefined;
    return r?.data;
  }

  async getBucketConfig(bucketId: number, name: string): Promise<string | undefined> {
    return (this.st.getBucketConfig!.get(bucketId, name) as { value: string } | undefined)?.value;
  }

  async putBucketConfig(bucketId: number, name: string, value: string | undefined): Promise<void> {
    if (value === undefined) this.st.deleteBucketConfig!.run(bucketId, name);
    else this.st.putBucketConfig!.run(bucketId, name, value);
  }

  async hasFileBlob(id: string): Promise<boolean> {
    return !!this.st.hasFileBlob!.get(id, id);
  }

  async createUpload(u: UploadRecord): Promise<void> {
    this.st.insertUpload!.run(u.uploadId, u.bucketId, u.key, u.initiated, u.storageClass, JSON.stringify(u.headers), u.checksumAlgorithm ?? null, u.checksumType ?? null);
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
    if (prev?.body_kind === 'inline') this.st.deleteInline!.run(prev.body_id);
    if (inlineBody) this.st.insertInline!.run(p.body.id, inlineBody);
    this.st.upsertPart!.run(p.uploadId, p.partNumber, p.size, p.etag, p.lastModified, p.checksum ?? null, p.body.kind, p.body.id);
    return prev && toPart(prev);
  }

  async listParts(uploadId: string, q: { after?: number; limit: number }): Promise<PartRecord[]> {
    return (this.st.listParts!.all(uploadId, q.after ?? 0, q.limit) as PartRow[]).map(toPart);
  }

  async deleteUpload(uploadId: string): Promise<PartRecord[]> {
    const parts = (this.st.allParts!.all(uploadId) as PartRow[]).map(toPart);
    for (const p of parts) if (p.body.kind === 'inline') this.st.deleteInline!.run(p.body.id);
    this.st.deleteParts!.run(uploadId);
    this.st.deleteUpload!.run(uploadId);
    return parts;
  }
}

export function etagMatches(condition: string, etag: string): boolean {
  if (condition.trim() === '*') return true;
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === etag || `"${t}"` === etag;
  });
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
  private lock: Promise<unknown> = Promise.resolve();
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;

  constructor(dataDir: string, opts: { fsync?: boolean } = {}) {
    this.db = new Database(join(dataDir, 'metadata.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.fsync ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.writeS3 = new SqliteS3Repository(this.db);
    // WAL lets this reader run beside an open write transaction, seeing the last commit.
    this.readDb = new Database(join(dataDir, 'metadata.sqlite'));
    this.readDb.pragma('busy_timeout = 5000');
    this.s3 = new SqliteS3Repository(this.readDb);
    this.writeDocs = new SqliteDocumentRepository(this.db);
    this.docs = new SqliteDocumentRepository(this.readDb);
    this.writeLogs = new SqliteLogsRepository(this.db);
    this.logs = new SqliteLogsRepository(this.readDb);
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
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

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const hooks: Array<() => unknown> = [];
    const run = async (): Promise<T> => {
      this.begin.run();
      try {
        const result = await fn({ s3: this.writeS3, docs: this.writeDocs, logs: this.writeLogs, afterCommit: (h) => hooks.push(h) });
        this.commit.run();
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.rollback.run();
        throw e;
      }
    };
    // Serialise transactions: one SQLite connection means one open transaction at a time.
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => undefined);
    const result = await p;
    // Hooks run outside the lock so slow clean-up never holds up other writers.
    for (const h of hooks) {
      try {
        await h();
      } catch (e) {
        log.warn(`after-commit hook failed: ${(e as Error).message}`);
      }
    }
    return result;
  }

  async close(): Promise<void> {
    await this.lock;
    if (this.readDb.open) this.readDb.close();
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}
