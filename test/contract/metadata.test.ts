import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  StoreError,
  prefixSuccessor,
  type BucketRecord,
  type ListObjectsPage,
  type LogEventRecord,
  type LogGroupRecord,
  type LogStreamQuery,
  type StreamEventsQuery,
  type ListObjectsQuery,
  type ListVersionsPage,
  type ListVersionsQuery,
  type MetadataStore,
  type ObjectRecord,
} from '../../src/storage/metadata.js';
import { MIGRATIONS, SqliteMetadataStore } from '../../src/storage/sqlite.js';
import Database from 'better-sqlite3';

/**
 * The MetadataStore contract. One suite, run against every implementation: a new backend
 * (PostgreSQL) passes by adding one `metadataContract(...)` line at the bottom.
 *
 * Ordering is S3's: keys compare by UTF-8 bytes, i.e. by code point, which is not
 * JavaScript's UTF-16 `<` for characters above U+FFFF.
 */

export interface StoreFixture {
  store: MetadataStore;
  dispose(): Promise<void>;
}

/** Code-point (UTF-8 byte) order. */
export function cmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

let bodySeq = 0;
function obj(bucketId: number, key: string, over: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    bucketId,
    key,
    size: 3,
    etag: `"etag-${key}"`,
    lastModified: 1_700_000_000_000,
    storageClass: 'STANDARD',
    headers: { 'content-type': 'text/plain' },
    body: { kind: 'inline', id: `inline-${++bodySeq}` },
    versionId: 'null',
    ...over,
  };
}

function bucket(name: string, over: Partial<Omit<BucketRecord, 'id'>> = {}): Omit<BucketRecord, 'id'> {
  return { name, region: 'us-east-1', createdAt: 1_700_000_000_000, ownerId: 'owner-1', ...over };
}

/** Records compare without their undefined optional fields (absent and undefined are the same). */
function clean<T>(v: T): T {
  if (v === undefined || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(clean) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = clean(x);
  return out as T;
}
/** A database in `dir` with the migrations before the first one containing `marker` applied. */
function schemaBefore(dir: string, marker: string): InstanceType<typeof Database> {
  const upTo = MIGRATIONS.findIndex((m) => m.includes(marker));
  assert.ok(upTo > 0, `no migration after the first contains ${marker}`);
  const raw = new Database(join(dir, 'metadata.sqlite'));
  for (const m of MIGRATIONS.slice(0, upTo)) raw.exec(m);
  raw.pragma(`user_version = ${upTo}`);
  return raw;
}

function sameRecord(actual: unknown, expected: unknown, message?: string): void {
  assert.deepEqual(clean(actual), clean(expected), message);
}

async function storeErrorOf(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a StoreError');
}

type Entry = { key: string } | { prefix: string };

/** The S3 listing rule the stores must implement, over a plain key list. */
function referenceList(keys: string[], q: ListObjectsQuery): { entries: Entry[]; isTruncated: boolean; last?: string } {
  const sorted = [...keys].sort(cmp);
  const entries: Entry[] = [];
  let lastPrefix: string | undefined;
  let more = false;
  for (const k of sorted) {
    if (!k.startsWith(q.prefix)) continue;
    const i = q.delimiter ? k.indexOf(q.delimiter, q.prefix.length) : -1;
    const entryName = i >= 0 ? k.slice(0, i + q.delimiter!.length) : k;
    // Everything returned sorts after `after`, rolled-up prefixes included.
    if (q.after !== undefined && cmp(entryName, q.after) <= 0) continue;
    if (i >= 0 && entryName === lastPrefix) continue;
    if (entries.length === q.limit) {
      more = true;
      break;
    }
    if (i >= 0) {
      lastPrefix = entryName;
      entries.push({ prefix: entryName });
    } else entries.push({ key: k });
  }
  const lastEntry = entries[entries.length - 1];
  return { entries, isTruncated: more, last: lastEntry && ('key' in lastEntry ? lastEntry.key : lastEntry.prefix) };
}

/** A page as entries in order (objects and common prefixes interleaved by name). */
function entriesOf(page: ListObjectsPage): Entry[] {
  const all: Entry[] = [...page.objects.map((o) => ({ key: o.key })), ...page.commonPrefixes.map((p) => ({ prefix: p }))];
  return all.sort((a, b) => cmp('key' in a ? a.key : a.prefix, 'key' in b ? b.key : b.prefix));
}

function summary(page: ListObjectsPage) {
  return { keys: page.objects.map((o) => o.key), prefixes: page.commonPrefixes, isTruncated: page.isTruncated, last: page.last };
}

const LIST_KEYS = [
  'a',
  'a/',
  'a/b',
  'a/b/c',
  'a/c',
  'a+b',
  'a0',
  'ab',
  'b',
  'dir/e',
  'dir/z',
  'dir/é',
  'dir/日本/1',
  'dir/日本/2',
  'dir/\uFF21', // U+FF21: above every CJK ideograph, below every emoji in code-point order…
  'dir/🙂', // …but U+1F642 is a surrogate pair, which UTF-16 order puts below U+FF21
  'dir/🙂/x',
  'z',
  'é',
  'é/x',
  '日本',
  '日本/語',
  '🙂',
];

export function metadataContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    describe('buckets', () => {
      let fx: StoreFixture;
      beforeEach(async () => (fx = await makeStore()));
      afterEach(() => fx.dispose());

      it('create, get, duplicate → Conflict, delete', async () => {
        const s = fx.store.s3;
        const created = await s.createBucket(bucket('alpha', { region: 'eu-west-1' }));
        assert.equal(typeof created.id, 'number');
        assert.deepEqual(created, { id: created.id, name: 'alpha', region: 'eu-west-1', createdAt: 1_700_000_000_000, ownerId: 'owner-1' });
        assert.deepEqual(await s.getBucket('alpha'), created);
        assert.equal(await s.getBucket('beta'), undefined);
        const dup = await storeErrorOf(s.createBucket(bucket('alpha')));
        assert.equal(dup.kind, 'Conflict');
        const other = await s.createBucket(bucket('beta'));
        assert.notEqual(other.id, created.id);
        await s.deleteBucket(created.id);
        assert.equal(await s.getBucket('alpha'), undefined);
        assert.deepEqual(await s.getBucket('beta'), other);
      });

      it('listBuckets: name order, prefix, after, limit', async () => {
        const s = fx.store.s3;
        for (const n of ['logs-2', 'data', 'logs-1', 'logs', 'zeta', 'logs-10', 'app']) await s.createBucket(bucket(n));
        const names = async (q: { prefix?: string; after?: string; limit: number }) => (await s.listBuckets(q)).map((b) => b.name);
        assert.deepEqual(await names({ limit: 100 }), ['app', 'data', 'logs', 'logs-1', 'logs-10', 'logs-2', 'zeta']);
        assert.deepEqual(await names({ limit: 3 }), ['app', 'data', 'logs']);
        assert.deepEqual(await names({ prefix: 'logs-', limit: 100 }), ['logs-1', 'logs-10', 'logs-2']);
        assert.deepEqual(await names({ prefix: 'logs', limit: 2 }), ['logs', 'logs-1']);
        assert.deepEqual(await names({ after: 'logs-1', limit: 100 }), ['logs-10', 'logs-2', 'zeta']);
        assert.deepEqual(await names({ prefix: 'logs', after: 'logs-1', limit: 1 }), ['logs-10']);
        assert.deepEqual(await names({ prefix: 'logs', after: 'logs-2', limit: 10 }), []);
        assert.deepEqual(await names({ prefix: 'logs', after: 'a', limit: 10 }), ['logs', 'logs-1', 'logs-10', 'logs-2']);
        assert.deepEqual(await names({ prefix: 'nope', limit: 10 }), []);
        const full = (await s.listBuckets({ prefix: 'zeta', limit: 1 }))[0]!;
        assert.deepEqual(full, { id: full.id, name: 'zeta', region: 'us-east-1', createdAt: 1_700_000_000_000, ownerId: 'owner-1' });
      });

      it('listBuckets with ownerId: only that account\'s buckets, still paged by name', async () => {
        const s = fx.store.s3;
        for (const [n, o] of [['b1', 'acct-a'], ['b2', 'acct-b'], ['b3', 'acct-a'], ['b4', 'acct-a']] as const) await s.createBucket(bucket(n, { ownerId: o }));
        const names = async (q: { after?: string; limit: number; ownerId?: string }) => (await s.listBuckets(q)).map((b) => b.name);
        assert.deepEqual(await names({ limit: 10, ownerId: 'acct-a' }), ['b1', 'b3', 'b4']);
        assert.deepEqual(await names({ limit: 2, ownerId: 'acct-a' }), ['b1', 'b3']);
        assert.deepEqual(await names({ after: 'b1', limit: 1, ownerId: 'acct-a' }), ['b3']);
        assert.deepEqual(await names({ limit: 10, ownerId: 'acct-b' }), ['b2']);
        assert.deepEqual(await names({ limit: 10, ownerId: 'nobody' }), []);
        assert.deepEqual(await names({ limit: 10 }), ['b1', 'b2', 'b3', 'b4']);
      });

      it('deleteBucket of a non-empty bucket → Conflict, and the bucket stays', async () => {
        const s = fx.store.s3;
        const b = await s.createBucket(bucket('full'));
        await s.putObject(obj(b.id, 'k'), Buffer.from('abc'));
        const e = await storeErrorOf(s.deleteBucket(b.id));
        assert.equal(e.kind, 'Conflict');
        assert.deepEqual(await s.getBucket('full'), b);
        await s.deleteObject(b.id, 'k');
        await s.deleteBucket(b.id);
        assert.equal(await s.getBucket('full'), undefined);
      });
    });

    describe('objects', () => {
      let fx: StoreFixture;
      let bid: number;
      let other: number;
      beforeEach(async () => {
        fx = await makeStore();
        bid = (await fx.store.s3.createBucket(bucket('objs'))).id;
        other = (await fx.store.s3.createBucket(bucket('other'))).id;
      });
      afterEach(() => fx.dispose());

      it('put, get (every field), replace returns the replaced record, delete returns the deleted one', async () => {
        const s = fx.store.s3;
        const first = obj(bid, 'dir/k é', {
          size: 11,
          headers: { 'content-type': 'application/json', 'x-amz-meta-color': 'blue' },
          checksum: { algorithm: 'CRC64NVME', value: 'rosUhgp5mIg=', type: 'FULL_OBJECT' },
          parts: [5, 6],
          storageClass: 'STANDARD_IA',
        });
        sameRecord(await s.putObject(first, Buffer.from('hello world')), { versionId: 'null' });
        sameRecord(await s.getObject(bid, 'dir/k é'), first);
        assert.equal(await s.getObject(other, 'dir/k é'), undefined);
        assert.equal(await s.getObject(bid, 'dir/k'), undefined);

        const second = obj(bid, 'dir/k é', { etag: '"second"', body: { kind: 'file', id: 'file-1' } });
        sameRecord((await s.putObject(second, undefined)).removed, first);
        sameRecord(await s.getObject(bid, 'dir/k é'), second);

        sameRecord((await s.deleteObject(bid, 'dir/k é')).removed, second);
        assert.equal(await s.getObject(bid, 'dir/k é'), undefined);
        sameRecord(await s.deleteObject(bid, 'dir/k é'), {});
      });

      it('optional fields absent stay absent', async () => {
        const s = fx.store.s3;
        const rec = obj(bid, 'plain');
        await s.putObject(rec, Buffer.from('abc'));
        const got = (await s.getObject(bid, 'plain'))!;
        assert.equal(got.checksum, undefined);
        assert.equal(got.parts, undefined);
        sameRecord(got, rec);
      });

      it('keys are exact: case, trailing slash, unicode normal forms and empty-ish keys are distinct', async () => {
        const s = fx.store.s3;
        const keys = ['K', 'k', 'k/', 'caf\u00e9', 'cafe\u0301', ' ', 'a//b', 'a/./b'];
        for (const k of keys) await s.putObject(obj(bid, k, { etag: `"${k}"` }), Buffer.from(k));
        for (const k of keys) assert.equal((await s.getObject(bid, k))!.etag, `"${k}"`, JSON.stringify(k));
        const page = await s.listObjects(bid, { prefix: '', limit: 100 });
        assert.deepEqual(page.objects.map((o) => o.key), [...keys].sort(cmp));
      });

      it('ifNoneMatch on an existing object → PreconditionFailed, nothing changes', async () => {
        const s = fx.store.s3;
        const rec = obj(bid, 'k');
        await s.putObject(rec, Buffer.from('one'));
        const attempt = obj(bid, 'k', { etag: '"two"' });
        const e = await storeErrorOf(s.putObject(attempt, Buffer.from('two'), { ifNoneMatch: true }));
        assert.equal(e.kind, 'PreconditionFailed');
        sameRecord(await s.getObject(bid, 'k'), rec);
        assert.deepEqual(await s.readInline(rec.body.id), Buffer.from('one'));
        assert.equal(await s.readInline(attempt.body.id), undefined);
        // On a missing key it is a plain put.
        assert.equal((await s.putObject(obj(bid, 'new'), Buffer.from('n'), { ifNoneMatch: true })).removed, undefined);
        assert.equal((await s.getObject(bid, 'new'))!.key, 'new');
      });

      it('ifMatch: matching ETag (quoted, unquoted, list, *) replaces; mismatch → PreconditionFailed; missing → NotFound', async () => {
        const s = fx.store.s3;
        let cur = obj(bid, 'k', { etag: '"v1"' });
        await s.putObject(cur, Buffer.from('1'));
        for (const cond of ['"v1"', 'v1', '"x", "v1"', '*']) {
          const next = obj(bid, 'k', { etag: '"v1"' });
          sameRecord((await s.putObject(next, Buffer.from('1'), { ifMatch: cond })).removed, cur, cond);
          cur = next;
        }
        const e = await storeErrorOf(s.putObject(obj(bid, 'k', { etag: '"v2"' }), Buffer.from('2'), { ifMatch: '"nope"' }));
        assert.equal(e.kind, 'PreconditionFailed');
        sameRecord(await s.getObject(bid, 'k'), cur);
        const missing = await storeErrorOf(s.putObject(obj(bid, 'absent'), Buffer.from('x'), { ifMatch: '"v1"' }));
        assert.equal(missing.kind, 'NotFound');
        assert.equal(await s.getObject(bid, 'absent'), undefined);
      });

      it('inline bodies: readable after put, gone after replace and after delete; file bodies are not inline', async () => {
        const s = fx.store.s3;
        const a = obj(bid, 'k');
        await s.putObject(a, Buffer.from([0, 1, 2, 255]));
        assert.deepEqual(await s.readInline(a.body.id), Buffer.from([0, 1, 2, 255]));
        const b = obj(bid, 'k');
        await s.putObject(b, Buffer.from('second'));
        assert.equal(await s.readInline(a.body.id), undefined);
        assert.deepEqual(await s.readInline(b.body.id), Buffer.from('second'));
        const c = obj(bid, 'k', { body: { kind: 'file', id: 'blob-c' } });
        await s.putObject(c, undefined);
        assert.equal(await s.readInline(b.body.id), undefined);
        assert.equal(await s.readInline('blob-c'), undefined);
        assert.equal(await s.hasFileBlob('blob-c'), true);
        const d = obj(bid, 'k');
        await s.putObject(d, Buffer.from('d'));
        assert.equal(await s.hasFileBlob('blob-c'), false);
        await s.deleteObject(bid, 'k');
        assert.equal(await s.readInline(d.body.id), undefined);
        assert.equal(await s.readInline('never-written'), undefined);
      });

      it('an empty inline body is stored and read back as empty', async () => {
        const s = fx.store.s3;
        const e = obj(bid, 'empty', { size: 0 });
        await s.putObject(e, Buffer.alloc(0));
        sameRecord(await s.getObject(bid, 'empty'), e);
      });

      it('the same key in two buckets is two objects', async () => {
        const s = fx.store.s3;
        await s.putObject(obj(bid, 'k', { etag: '"in-objs"' }), Buffer.from('1'));
        await s.putObject(obj(other, 'k', { etag: '"in-other"' }), Buffer.from('2'));
        assert.equal((await s.getObject(bid, 'k'))!.etag, '"in-objs"');
        assert.equal((await s.getObject(other, 'k'))!.etag, '"in-other"');
        await s.deleteObject(bid, 'k');
        assert.equal((await s.getObject(other, 'k'))!.etag, '"in-other"');
      });
    });

    describe('versions', () => {
      let fx: StoreFixture;
      let bid: number;
      beforeEach(async () => {
        fx = await makeStore();
        bid = (await fx.store.s3.createBucket(bucket('vers'))).id;
      });
      afterEach(() => fx.dispose());

      const enable = (status: 'Enabled' | 'Suspended' = 'Enabled', id = bid) => fx.store.s3.setBucketVersioning(id, status);
      /** Every version of the bucket as "key@versionId" (M for a delete marker, * for the latest). */
      const allVersions = async (id = bid) => {
        const page = await fx.store.s3.listVersions(id, { prefix: '', limit: 1000 });
        assert.equal(page.isTruncated, false);
        return page.versions.map((v) => `${v.key}@${v.deleteMarker ? 'M:' : ''}${v.versionId}${v.isLatest ? '*' : ''}`);
      };

      it('the bucket record carries its versioning; a new bucket has none', async () => {
        const s = fx.store.s3;
        assert.equal((await s.getBucket('vers'))!.versioning, undefined);
        assert.ok(!('versioning' in (await s.getBucket('vers'))!));
        await enable('Enabled');
        assert.equal((await s.getBucket('vers'))!.versioning, 'Enabled');
        await enable('Suspended');
        assert.equal((await s.getBucket('vers'))!.versioning, 'Suspended');
        assert.equal((await s.listBuckets({ limit: 10 }))[0]!.versioning, 'Suspended');
      });

      it('unversioned: every write is the null version and replaces it; no other version is kept', async () => {
        const s = fx.store.s3;
        const a = obj(bid, 'k', { etag: '"a"' });
        sameRecord(await s.putObject(a, Buffer.from('a')), { versionId: 'null' });
        const b = obj(bid, 'k', { etag: '"b"' });
        const r = await s.putObject(b, Buffer.from('b'));
        assert.equal(r.versionId, 'null');
        assert.equal(r.versioning, undefined);
        sameRecord(r.removed, a);
        assert.equal(await s.readInline(a.body.id), undefined);
        sameRecord(await s.getVersion(bid, 'k', 'null'), b);
        sameRecord(await s.getCurrentVersion(bid, 'k'), b);
        assert.deepEqual(await allVersions(), ['k@null*']);
        const d = await s.deleteObject(bid, 'k', 1);
        assert.equal(d.deleteMarker, undefined);
        sameRecord(d.removed, b);
        assert.deepEqual(await allVersions(), []);
        assert.equal(await s.getCurrentVersion(bid, 'k'), undefined);
      });

      it('enabled: every write is a new version with a unique, URL-safe, 32-character id; the newest sorts first and is current', async () => {
        const s = fx.store.s3;
        await enable();
        const ids: string[] = [];
        // Same millisecond, then a clock going backwards: ids still order newest first.
        const times = [5_000, 5_000, 5_000, 4_000, 1_000, 6_000];
        for (const [i, t] of times.entries()) {
          const r = await s.putObject(obj(bid, 'k', { etag: `"v${i}"`, lastModified: t }), Buffer.from(`v${i}`));
          assert.equal(r.versioning, 'Enabled');
          assert.equal(r.removed, undefined, 'nothing is removed while versioning is on');
          assert.match(r.versionId, /^[A-Za-z0-9_-]{32,}$/);
          ids.push(r.versionId);
        }
        assert.equal(new Set(ids).size, ids.length);
        const newestFirst = [...ids].reverse();
        assert.deepEqual([...ids].sort(), newestFirst, 'ids sort newest first');
        assert.deepEqual(await allVersions(), newestFirst.map((id, i) => `k@${id}${i === 0 ? '*' : ''}`));
        assert.equal((await s.getObject(bid, 'k'))!.versionId, ids.at(-1));
        for (const [i, id] of ids.entries()) {
          const v = (await s.getVersion(bid, 'k', id)) as ObjectRecord;
          assert.equal(v.etag, `"v${i}"`);
          assert.equal(v.versionId, id);
          assert.deepEqual(await s.readInline(v.body.id), Buffer.from(`v${i}`), 'every version keeps its body');
        }
        assert.equal(await s.getVersion(bid, 'k', 'null'), undefined);
        assert.equal(await s.getVersion(bid, 'other', ids[0]!), undefined);
        // The listing of current objects is unchanged by the other versions; it reads their
        // version ids only when asked.
        assert.deepEqual((await s.listObjects(bid, { prefix: '', limit: 10, versionIds: true })).objects.map((o) => o.versionId), [ids.at(-1)]);
        assert.deepEqual((await s.listObjects(bid, { prefix: '', limit: 10 })).objects.map((o) => [o.key, o.versionId]), [['k', undefined]]);
      });

      it('enabled: a delete adds a delete marker that hides the key; removing the marker uncovers the version below', async () => {
        const s = fx.store.s3;
        await enable();
        const v1 = await s.putObject(obj(bid, 'k', { etag: '"one"' }), Buffer.from('one'));
        await s.putObject(obj(bid, 'other'), Buffer.from('o'));
        const d = await s.deleteObject(bid, 'k', 1_800_000_000_000);
        assert.equal(d.versioning, 'Enabled');
        assert.equal(d.removed, undefined);
        const m1 = d.deleteMarker!.versionId;
        assert.match(m1, /^[A-Za-z0-9_-]{32}$/);
        assert.equal(await s.getObject(bid, 'k'), undefined);
        assert.deepEqual(await s.getCurrentVersion(bid, 'k'), { deleteMarker: true, bucketId: bid, key: 'k', versionId: m1, lastModified: 1_800_000_000_000 });
        assert.deepEqual(await s.getVersion(bid, 'k', m1), { deleteMarker: true, bucketId: bid, key: 'k', versionId: m1, lastModified: 1_800_000_000_000 });
        assert.deepEqual((await s.listObjects(bid, { prefix: '', limit: 10 })).objects.map((o) => o.key), ['other']);
        // Deleting again adds another marker on top.
        const m2 = (await s.deleteObject(bid, 'k', 1_800_000_000_001)).deleteMarker!.versionId;
        assert.deepEqual(await allVersions(), [`k@M:${m2}*`, `k@M:${m1}`, `k@${v1.versionId}`, `other@${(await s.getObject(bid, 'other'))!.versionId}*`]);
        // Removing the current marker makes the older marker current; removing that one, the object.
        const gone = await s.deleteVersion(bid, 'k', m2);
        assert.equal(gone!.deleteMarker, true);
        assert.equal(await s.getObject(bid, 'k'), undefined);
        assert.equal((await s.getCurrentVersion(bid, 'k'))!.versionId, m1);
        assert.deepEqual((await allVersions()).slice(0, 2), [`k@M:${m1}*`, `k@${v1.versionId}`]);
        await s.deleteVersion(bid, 'k', m1);
        const back = (await s.getObject(bid, 'k'))!;
        assert.equal(back.versionId, v1.versionId);
        assert.deepEqual(await s.readInline(back.body.id), Buffer.from('one'));
        assert.deepEqual((await s.listObjects(bid, { prefix: '', limit: 10 })).objects.map((o) => o.key), ['k', 'other']);
        // A put over a current marker makes the marker noncurrent.
        const m3 = (await s.deleteObject(bid, 'k', 2)).deleteMarker!.versionId;
        const v2 = await s.putObject(obj(bid, 'k'), Buffer.from('two'));
        assert.deepEqual((await allVersions()).slice(0, 3), [`k@${v2.versionId}*`, `k@M:${m3}`, `k@${v1.versionId}`]);
      });

      it('deleteVersion: the current one uncovers the previous; a noncurrent one leaves the current; unknown ids remove nothing', async () => {
        const s = fx.store.s3;
        await enable();
        const bodies = ['v1', 'v2', 'v3'].map((t) => ({ t, rec: obj(bid, 'k', { etag: `"${t}"` }) }));
        const ids: string[] = [];
        for (const b of bodies) ids.push((await s.putObject(b.rec, Buffer.from(b.t))).versionId);
        const removed = (await s.deleteVersion(bid, 'k', ids[2]!)) as ObjectRecord;
        assert.equal(removed.etag, '"v3"');
        assert.equal(removed.versionId, ids[2]);
        assert.equal(await s.readInline(bodies[2]!.rec.body.id), undefined, 'its inline body is gone');
        assert.equal((await s.getObject(bid, 'k'))!.etag, '"v2"');
        assert.equal((await s.deleteVersion(bid, 'k', ids[0]!) as ObjectRecord).etag, '"v1"');
        assert.equal((await s.getObject(bid, 'k'))!.etag, '"v2"');
        assert.deepEqual(await allVersions(), [`k@${ids[1]}*`]);
        assert.equal(await s.deleteVersion(bid, 'k', ids[0]!), undefined);
        assert.equal(await s.deleteVersion(bid, 'k', 'null'), undefined);
        assert.equal(await s.deleteVersion(bid, 'nokey', ids[1]!), undefined);
        await s.deleteVersion(bid, 'k', ids[1]!);
        assert.equal(await s.getObject(bid, 'k'), undefined);
        assert.equal(await s.getCurrentVersion(bid, 'k'), undefined);
        assert.deepEqual(await allVersions(), []);
        // File bodies of every version stay referenced until their version goes.
        const f1 = await s.putObject(obj(bid, 'f', { body: { kind: 'file', id: 'file-v1' } }), undefined);
        await s.putObject(obj(bid, 'f', { body: { kind: 'file', id: 'file-v2' } }), undefined);
        await s.deleteObject(bid, 'f', 3);
        assert.equal(await s.hasFileBlob('file-v1'), true);
        assert.equal(await s.hasFileBlob('file-v2'), true);
        const gone = (await s.deleteVersion(bid, 'f', f1.versionId)) as ObjectRecord;
        assert.deepEqual(gone.body, { kind: 'file', id: 'file-v1' });
        assert.equal(await s.hasFileBlob('file-v1'), false);
      });

      it('the null version: an object from before versioning stays addressable as "null" under the new versions', async () => {
        const s = fx.store.s3;
        const before = obj(bid, 'k', { etag: '"before"' });
        await s.putObject(before, Buffer.from('before'));
        await enable();
        const v1 = await s.putObject(obj(bid, 'k', { etag: '"after"' }), Buffer.from('after'));
        assert.notEqual(v1.versionId, 'null');
        sameRecord(await s.getVersion(bid, 'k', 'null'), before);
        assert.deepEqual(await allVersions(), [`k@${v1.versionId}*`, 'k@null']);
        // Removing the newer version makes the null version current again.
        await s.deleteVersion(bid, 'k', v1.versionId);
        sameRecord(await s.getObject(bid, 'k'), before);
        assert.deepEqual(await allVersions(), ['k@null*']);
        await s.deleteVersion(bid, 'k', 'null');
        assert.equal(await s.readInline(before.body.id), undefined);
        assert.deepEqual(await allVersions(), []);
      });

      it('suspended: writes are the null version, replacing the null version wherever it is; deletes add a null marker', async () => {
        const s = fx.store.s3;
        const n0 = obj(bid, 'k', { etag: '"n0"' });
        await s.putObject(n0, Buffer.from('n0'));
        await enable('Enabled');
        const v1 = (await s.putObject(obj(bid, 'k', { etag: '"v1"' }), Buffer.from('v1'))).versionId;
        await enable('Suspended');
        // The noncurrent null version (n0) is replaced by the new current null version.
        const n1 = obj(bid, 'k', { etag: '"n1"' });
        const r1 = await s.putObject(n1, Buffer.from('n1'));
        assert.equal(r1.versionId, 'null');
        assert.equal(r1.versioning, 'Suspended');
        sameRecord(r1.removed, n0);
        assert.equal(await s.readInline(n0.body.id), undefined);
        assert.deepEqual(await allVersions(), ['k@null*', `k@${v1}`]);
        // Another write replaces it in place.
        const n2 = obj(bid, 'k', { etag: '"n2"' });
        sameRecord((await s.putObject(n2, Buffer.from('n2'))).removed, n1);
        assert.deepEqual(await allVersions(), ['k@null*', `k@${v1}`]);
        assert.equal((await s.getObject(bid, 'k'))!.etag, '"n2"');
        // A delete removes the null version and leaves a null delete marker.
        const d = await s.deleteObject(bid, 'k', 7);
        assert.deepEqual(d.deleteMarker, { versionId: 'null' });
        sameRecord(d.removed, n2);
        assert.deepEqual(await allVersions(), ['k@M:null*', `k@${v1}`]);
        assert.deepEqual(await s.getVersion(bid, 'k', 'null'), { deleteMarker: true, bucketId: bid, key: 'k', versionId: 'null', lastModified: 7 });
        // Deleting again replaces the null marker with a new one; nothing else changes.
        const d2 = await s.deleteObject(bid, 'k', 8);
        assert.equal(d2.removed, undefined);
        assert.deepEqual(await allVersions(), ['k@M:null*', `k@${v1}`]);
        assert.equal((await s.getCurrentVersion(bid, 'k'))!.lastModified, 8);
        // A write replaces the null marker too.
        const n3 = obj(bid, 'k', { etag: '"n3"' });
        assert.equal((await s.putObject(n3, Buffer.from('n3'))).removed, undefined);
        assert.deepEqual(await allVersions(), ['k@null*', `k@${v1}`]);
        // A versioned current version is kept when a null version goes on top of it.
        await enable('Enabled');
        const v2 = (await s.putObject(obj(bid, 'k', { etag: '"v2"' }), Buffer.from('v2'))).versionId;
        await enable('Suspended');
        const n4 = obj(bid, 'k', { etag: '"n4"' });
        sameRecord((await s.putObject(n4, Buffer.from('n4'))).removed, n3);
        assert.deepEqual(await allVersions(), ['k@null*', `k@${v2}`, `k@${v1}`]);
        // Suspended delete over a versioned current version keeps it as noncurrent.
        await enable('Enabled');
        const v3 = (await s.putObject(obj(bid, 'k', { etag: '"v3"' }), Buffer.from('v3'))).versionId;
        await enable('Suspended');
        const d3 = await s.deleteObject(bid, 'k', 9);
        sameRecord(d3.removed, n4);
        assert.deepEqual(await allVersions(), ['k@M:null*', `k@${v3}`, `k@${v2}`, `k@${v1}`]);
        // Removing the null marker by id uncovers v3.
        await s.deleteVersion(bid, 'k', 'null');
        assert.equal((await s.getObject(bid, 'k'))!.versionId, v3);
      });

      it('conditions look at the current version: a delete marker counts as no object', async () => {
        const s = fx.store.s3;
        await enable();
        await s.putObject(obj(bid, 'k', { etag: '"e1"' }), Buffer.from('1'));
        await s.deleteObject(bid, 'k', 1);
        const missing = await storeErrorOf(s.putObject(obj(bid, 'k'), Buffer.from('x'), { ifMatch: '"e1"' }));
        assert.equal(missing.kind, 'NotFound');
        const r = await s.putObject(obj(bid, 'k', { etag: '"e2"' }), Buffer.from('2'), { ifNoneMatch: true });
        assert.notEqual(r.versionId, 'null');
        const e = await storeErrorOf(s.putObject(obj(bid, 'k'), Buffer.from('3'), { ifNoneMatch: true }));
        assert.equal(e.kind, 'PreconditionFailed');
        assert.equal((await allVersions()).length, 3, 'a failed condition adds no version');
      });

      it('deleteBucket is a Conflict while any version or delete marker remains', async () => {
        const s = fx.store.s3;
        await enable();
        const v = await s.putObject(obj(bid, 'k'), Buffer.from('1'));
        await s.deleteObject(bid, 'k', 1);
        assert.equal((await storeErrorOf(s.deleteBucket(bid))).kind, 'Conflict', 'a noncurrent version and a marker');
        await s.deleteVersion(bid, 'k', v.versionId);
        assert.equal((await storeErrorOf(s.deleteBucket(bid))).kind, 'Conflict', 'only a delete marker');
        await s.deleteVersion(bid, 'k', (await s.getCurrentVersion(bid, 'k'))!.versionId);
        await s.deleteBucket(bid);
        assert.equal(await s.getBucket('vers'), undefined);
      });

      it('versions of one bucket never show in another', async () => {
        const s = fx.store.s3;
        const other = (await s.createBucket(bucket('other-vers'))).id;
        await enable('Enabled', bid);
        await enable('Enabled', other);
        const a = await s.putObject(obj(bid, 'k'), Buffer.from('a'));
        await s.putObject(obj(other, 'k'), Buffer.from('b'));
        await s.deleteObject(other, 'k', 1);
        assert.deepEqual(await allVersions(bid), [`k@${a.versionId}*`]);
        assert.equal((await allVersions(other)).length, 2);
        assert.equal(await s.getVersion(other, 'k', a.versionId), undefined);
        assert.equal(await s.deleteVersion(other, 'k', a.versionId), undefined);
        assert.equal((await s.getObject(bid, 'k'))!.versionId, a.versionId);
      });
    });

    describe('encryption, restores and part checksums', () => {
      let fx: StoreFixture;
      let bid: number;
      beforeEach(async () => {
        fx = await makeStore();
        bid = (await fx.store.s3.createBucket(bucket('enc'))).id;
      });
      afterEach(() => fx.dispose());
      const kms: ObjectRecord['sse'] = { type: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/k', context: 'e30=', bucketKeyEnabled: true };
      const ssec: ObjectRecord['sse'] = { type: 'SSE-C', keySalt: 'c2FsdA==', keyHmac: 'aG1hYw==' };
      const restore = { tier: 'Standard' as const, days: 2, readyAt: 1_700_000_100_000, expiresAt: 1_700_259_200_000 };

      it('a version keeps its encryption and its parts\' checksums and numbers; reads and listings return them', async () => {
        const s = fx.store.s3;
        const a = obj(bid, 'a', { sse: kms, storageClass: 'GLACIER', parts: [5, 1], partChecksums: ['AAAAAA==', 'AQEBAQ=='], partNumbers: [2, 7], checksum: { algorithm: 'CRC32', value: 'x-2', type: 'COMPOSITE' } });
        const c = obj(bid, 'c', { sse: ssec });
        await s.putObject(a, Buffer.from('aaa'));
        await s.putObject(c, Buffer.from('ccc'));
        sameRecord(await s.getObject(bid, 'a'), a);
        sameRecord(await s.getObject(bid, 'c'), c);
        // A listing shows the checksum and the restore state; no encryption or parts.
        const listed = ({ bucketId, key, size, etag, lastModified, storageClass, checksum, versionId, restore }: ObjectRecord) => ({ bucketId, key, size, etag, lastModified, storageClass, checksum, versionId, restore });
        sameRecord((await s.listObjects(bid, { prefix: '', limit: 10, versionIds: true })).objects, [listed(a), listed(c)]);
        sameRecord((await s.listObjects(bid, { prefix: '', limit: 10 })).objects, [listed(a), listed(c)].map(({ versionId: _, ...o }) => o));
        sameRecord((await s.listVersions(bid, { prefix: '', limit: 10 })).versions.map(({ isLatest: _, ...v }) => v), [a, c]);
        // Parts without checksums keep their plain form.
        const p = obj(bid, 'p', { parts: [5, 5, 1] });
        await s.putObject(p, Buffer.from('p'));
        sameRecord(await s.getObject(bid, 'p'), p);
        assert.equal((await s.getObject(bid, 'p'))!.partChecksums, undefined);
      });

      it('setRestore sets the restore of the current version, of a noncurrent one by id and of the null version; never of a delete marker or a missing version', async () => {
        const s = fx.store.s3;
        await s.putObject(obj(bid, 'k', { storageClass: 'GLACIER' }), Buffer.from('null'));
        assert.equal(await s.setRestore(bid, 'k', 'null', restore), true);
        sameRecord((await s.getObject(bid, 'k'))!.restore, restore);
        await s.setBucketVersioning(bid, 'Enabled');
        const v1 = (await s.putObject(obj(bid, 'k', { storageClass: 'GLACIER' }), Buffer.from('v1'))).versionId;
        // A new version has no restore; the null version, now noncurrent, keeps its own.
        assert.equal((await s.getObject(bid, 'k'))!.restore, undefined);
        sameRecord(((await s.getVersion(bid, 'k', 'null')) as ObjectRecord).restore, restore);
        const later = { ...restore, days: 5 };
        assert.equal(await s.setRestore(bid, 'k', v1, later), true);
        const v2 = (await s.putObject(obj(bid, 'k'), Buffer.from('v2'))).versionId;
        sameRecord(((await s.getVersion(bid, 'k', v1)) as ObjectRecord).restore, later, 'moved to object_versions with its restore');
        assert.equal(await s.setRestore(bid, 'k', 'null', { ...restore, days: 9 }), true);
        assert.equal(((await s.getVersion(bid, 'k', 'null')) as ObjectRecord).restore!.days, 9);
        const marker = (await s.deleteObject(bid, 'k', 1_700_000_500_000)).deleteMarker!.versionId;
        assert.equal(await s.setRestore(bid, 'k', marker, restore), false);
        assert.equal(await s.setRestore(bid, 'missing', 'null', restore), false);
        // Removing the marker brings v2 back, without a restore; v1 keeps its own.
        await s.deleteVersion(bid, 'k', marker);
        assert.equal((await s.getObject(bid, 'k'))!.versionId, v2);
        assert.equal((await s.getObject(bid, 'k'))!.restore, undefined);
        await s.deleteVersion(bid, 'k', v2);
        sameRecord((await s.getObject(bid, 'k'))!.restore, later, 'promoted back with its restore');
      });

      it('overwriting an unversioned object drops its restore', async () => {
        const s = fx.store.s3;
        await s.putObject(obj(bid, 'k', { storageClass: 'DEEP_ARCHIVE' }), Buffer.from('1'));
        await s.setRestore(bid, 'k', 'null', restore);
        await s.putObject(obj(bid, 'k', { storageClass: 'DEEP_ARCHIVE' }), Buffer.from('2'));
        assert.equal((await s.getObject(bid, 'k'))!.restore, undefined);
      });

      it('an upload keeps the encryption its object will get', async () => {
        const s = fx.store.s3;
        const u = { uploadId: 'u-1', bucketId: bid, key: 'k', initiated: 1, storageClass: 'GLACIER', headers: {}, sse: ssec };
        await s.createUpload(u);
        sameRecord(await s.getUpload('u-1'), u);
        await s.createUpload({ ...u, uploadId: 'u-2', sse: undefined });
        assert.equal((await s.getUpload('u-2'))!.sse, undefined);
      });
    });

    describe('listVersions', () => {
      let fx: StoreFixture;
      let bid: number;
      /** The expected full listing: "key@id" per version, keys in code-point order, newest first. */
      let expected: Array<{ key: string; versionId: string; deleteMarker: boolean; isLatest: boolean }>;
      before(async () => {
        fx = await makeStore();
        const s = fx.store.s3;
        bid = (await s.createBucket(bucket('vlist'))).id;
        const noise = (await s.createBucket(bucket('vnoise'))).id;
        await s.setBucketVersioning(noise, 'Enabled');
        for (const k of ['a', 'dir/0', 'zz']) await s.putObject(obj(noise, k), Buffer.from(k));
        // Some keys get a null version first (written before versioning was enabled).
        const log = new Map<string, Array<{ versionId: string; deleteMarker: boolean }>>();
        const push = (k: string, v: { versionId: string; deleteMarker: boolean }) => log.set(k, [...(log.get(k) ?? []), v]);
        for (const [i, k] of LIST_KEYS.entries()) {
          if (i % 3 === 0) {
            await s.putObject(obj(bid, k), Buffer.from(k));
            push(k, { versionId: 'null', deleteMarker: false });
          }
        }
        await s.setBucketVersioning(bid, 'Enabled');
        // Writes interleaved across keys, in reverse key order, so storage order is not write order.
        for (let round = 0; round < 3; round++) {
          for (const [i, k] of [...LIST_KEYS.entries()].reverse()) {
            if ((i + round) % 4 === 3) {
              push(k, { versionId: (await s.deleteObject(bid, k, 2)).deleteMarker!.versionId, deleteMarker: true });
            } else if ((i + round) % 2 === 0 || round === 0) {
              push(k, { versionId: (await s.putObject(obj(bid, k), Buffer.from(k))).versionId, deleteMarker: false });
            }
          }
        }
        expected = [];
        for (const k of [...log.keys()].sort(cmp)) {
          const vs = [...log.get(k)!].reverse();
          vs.forEach((v, i) => expected.push({ key: k, ...v, isLatest: i === 0 }));
        }
      });
      after(() => fx.dispose());

      type VEntry = { key: string; versionId: string; deleteMarker: boolean; isLatest: boolean } | { prefix: string };
      /** The S3 rule over the expected flat listing: prefix filter, delimiter roll-up, markers, limit. */
      function reference(q: ListVersionsQuery): { entries: VEntry[]; isTruncated: boolean } {
        const out: VEntry[] = [];
        let startIdx = 0;
        if (q.keyMarker !== undefined) {
          const km = q.keyMarker;
          if (q.versionIdMarker !== undefined) {
            const at = expected.findIndex((e) => e.key === km && e.versionId === q.versionIdMarker);
            startIdx = at >= 0 ? at + 1 : expected.findIndex((e) => cmp(e.key, km) > 0);
          } else startIdx = expected.findIndex((e) => cmp(e.key, km) > 0);
          if (startIdx < 0) startIdx = expected.length;
        }
        // A marker inside a rolled-up prefix skips the rest of that prefix.
        let skipPrefix: string | undefined;
        if (q.keyMarker !== undefined && q.delimiter && q.keyMarker.startsWith(q.prefix)) {
          const i = q.keyMarker.indexOf(q.delimiter, q.prefix.length);
          if (i >= 0) skipPrefix = q.keyMarker.slice(0, i + q.delimiter.length);
        }
        let lastPrefix: string | undefined;
        for (const e of expected.slice(startIdx)) {
          if (!e.key.startsWith(q.prefix)) continue;
          if (skipPrefix !== undefined && e.key.startsWith(skipPrefix)) continue;
          const i = q.delimiter ? e.key.indexOf(q.delimiter, q.prefix.length) : -1;
          const cp = i >= 0 ? e.key.slice(0, i + q.delimiter!.length) : undefined;
          if (cp !== undefined && cp === lastPrefix) continue;
          if (out.length === q.limit) return { entries: out, isTruncated: true };
          if (cp !== undefined) {
            lastPrefix = cp;
            out.push({ prefix: cp });
          } else out.push(e);
        }
        return { entries: out, isTruncated: false };
      }
      function entriesOfVersions(page: ListVersionsPage): VEntry[] {
        const all: Array<VEntry & { sortKey: string }> = [
          ...page.versions.map((v, i) => ({ key: v.key, versionId: v.versionId, deleteMarker: v.deleteMarker === true, isLatest: v.isLatest, sortKey: `${v.key}\u0000${String(i).padStart(6, '0')}` })),
          ...page.commonPrefixes.map((p) => ({ prefix: p, sortKey: p })),
        ];
        return all.sort((a, b) => cmp(a.sortKey, b.sortKey)).map(({ sortKey: _s, ...e }) => e as VEntry);
      }
      const list = (q: ListVersionsQuery) => fx.store.s3.listVersions(bid, q);

      it('lists every version and marker by key (code-point order), newest first, with IsLatest, and nothing of another bucket', async () => {
        const page = await list({ prefix: '', limit: 1000 });
        assert.equal(page.isTruncated, false);
        assert.deepEqual(
          page.versions.map((v) => ({ key: v.key, versionId: v.versionId, deleteMarker: v.deleteMarker === true, isLatest: v.isLatest })),
          expected,
        );
        assert.ok(expected.length > 60, `a meaningful data set (${expected.length} versions)`);
        assert.ok(expected.some((e) => e.deleteMarker && e.isLatest) && expected.some((e) => e.deleteMarker && !e.isLatest));
        assert.ok(expected.some((e) => e.versionId === 'null' && !e.isLatest));
        // Object entries carry their full record; markers carry only their identity.
        const o = page.versions.find((v) => !v.deleteMarker) as ObjectRecord & { isLatest: boolean };
        assert.equal(o.etag, `"etag-${o.key}"`);
        assert.equal(o.size, 3);
        const m = page.versions.find((v) => v.deleteMarker)!;
        assert.deepEqual(Object.keys(m).sort(), ['bucketId', 'deleteMarker', 'isLatest', 'key', 'lastModified', 'versionId']);
      });

      it('the current-objects listing shows only latest, non-marker versions', async () => {
        const page = await fx.store.s3.listObjects(bid, { prefix: '', limit: 1000, versionIds: true });
        assert.deepEqual(
          page.objects.map((o) => `${o.key}@${o.versionId}`),
          expected.filter((e) => e.isLatest && !e.deleteMarker).map((e) => `${e.key}@${e.versionId}`),
        );
      });

      it('matches the S3 rule for every prefix × delimiter × marker × limit', async () => {
        const markers: Array<Pick<ListVersionsQuery, 'keyMarker' | 'versionIdMarker'>> = [
          {},
          { keyMarker: 'a' },
          { keyMarker: 'a/b' },
          { keyMarker: 'dir/' },
          { keyMarker: '\u{10FFFF}' },
        ];
        // Markers in the middle of keys' version lists (including "null" and a marker).
        for (const e of [expected[1]!, expected[5]!, expected.find((x) => x.versionId === 'null' && !x.isLatest)!, expected.find((x) => x.deleteMarker)!, expected.find((x) => x.key.startsWith('dir/日本'))!]) {
          markers.push({ keyMarker: e.key, versionIdMarker: e.versionId });
        }
        for (const prefix of ['', 'a', 'a/', 'dir/', 'é', 'nomatch'])
          for (const delimiter of [undefined, '/', '本'])
            for (const m of markers)
              for (const limit of [1, 2, 3, 1000]) {
                const q: ListVersionsQuery = { prefix, limit, ...(delimiter !== undefined && { delimiter }), ...m };
                const got = await list(q);
                const want = reference(q);
                const label = JSON.stringify(q);
                assert.deepEqual(entriesOfVersions(got), want.entries, label);
                assert.equal(got.isTruncated, want.isTruncated, label);
              }
      });

      it('resuming from nextKeyMarker / nextVersionIdMarker page by page gives exactly the full listing, pages stopping inside a key', async () => {
        let stoppedInsideAKey = false;
        for (const prefix of ['', 'a', 'dir/'])
          for (const delimiter of [undefined, '/'])
            for (const limit of [1, 2, 3, 7]) {
              const full = reference({ prefix, delimiter, limit: 100_000 }).entries;
              const seen: VEntry[] = [];
              let marker: Pick<ListVersionsQuery, 'keyMarker' | 'versionIdMarker'> = {};
              for (let pages = 0; ; pages++) {
                assert.ok(pages <= expected.length, 'listing terminates');
                const page = await list({ prefix, delimiter, limit, ...marker });
                const entries = entriesOfVersions(page);
                seen.push(...entries);
                if (!page.isTruncated) break;
                assert.equal(entries.length, limit, 'a truncated page is full');
                const last = entries.at(-1)!;
                if ('prefix' in last) {
                  assert.equal(page.nextKeyMarker, last.prefix);
                  assert.equal(page.nextVersionIdMarker, undefined);
                } else {
                  assert.equal(page.nextKeyMarker, last.key);
                  assert.equal(page.nextVersionIdMarker, last.versionId);
                  const at = expected.findIndex((x) => x.key === last.key && x.versionId === last.versionId);
                  if (expected[at + 1]?.key === last.key) stoppedInsideAKey = true;
                }
                marker = { keyMarker: page.nextKeyMarker, ...(page.nextVersionIdMarker !== undefined && { versionIdMarker: page.nextVersionIdMarker }) };
              }
              assert.deepEqual(seen, full, JSON.stringify({ prefix, delimiter, limit }));
            }
        assert.ok(stoppedInsideAKey, 'some page stopped between two versions of one key');
      });

      it('a version-id marker whose version is gone still resumes in place (ids encode their order)', async () => {
        const s = fx.store.s3;
        const b2 = (await s.createBucket(bucket('vgone'))).id;
        await s.setBucketVersioning(b2, 'Enabled');
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await s.putObject(obj(b2, 'k'), Buffer.from(String(i)))).versionId);
        await s.putObject(obj(b2, 'l'), Buffer.from('l'));
        const newestFirst = [...ids].reverse();
        await s.deleteVersion(b2, 'k', newestFirst[2]!);
        const page = await s.listVersions(b2, { prefix: '', keyMarker: 'k', versionIdMarker: newestFirst[2]!, limit: 10 });
        assert.deepEqual(page.versions.map((v) => `${v.key}@${v.versionId}`).slice(0, 2), [`k@${newestFirst[3]}`, `k@${newestFirst[4]}`]);
        assert.equal(page.versions[2]!.key, 'l');
        // Versions of one key beyond one internal batch are all listed, in order.
        const big = (await s.createBucket(bucket('vbig'))).id;
        await s.setBucketVersioning(big, 'Enabled');
        const many: string[] = [];
        await fx.store.transaction(async (tx) => {
          for (let i = 0; i < 1200; i++) many.push((await tx.s3.putObject(obj(big, 'hot'), undefined)).versionId);
          await tx.s3.putObject(obj(big, 'cold'), undefined);
        });
        const all = await s.listVersions(big, { prefix: '', limit: 1000 });
        assert.equal(all.versions.length, 1000);
        assert.equal(all.versions[0]!.key, 'cold');
        assert.deepEqual(all.versions.slice(1).map((v) => v.versionId), [...many].reverse().slice(0, 999));
        const rest = await s.listVersions(big, { prefix: '', keyMarker: all.nextKeyMarker, versionIdMarker: all.nextVersionIdMarker, limit: 1000 });
        assert.equal(rest.isTruncated, false);
        assert.deepEqual(rest.versions.map((v) => v.versionId), [...many].reverse().slice(999));
        const rolled = await s.listVersions(big, { prefix: '', delimiter: 'o', limit: 10 });
        assert.deepEqual(rolled.commonPrefixes, ['co', 'ho']);
        assert.deepEqual(rolled.versions, []);
      });
    });

    describe('object attributes (tags, ACL, owner)', () => {
      let fx: StoreFixture;
      let bid: number;
      beforeEach(async () => {
        fx = await makeStore();
        bid = (await fx.store.s3.createBucket(bucket('attrs'))).id;
      });
      afterEach(() => fx.dispose());
      const tags = (...kv: string[]) => ({ tags: kv.map((t) => ({ Key: t.split('=')[0]!, Value: t.split('=')[1]! })) });

      it('are written with the version, replaced with it when unversioned, and read by version id', async () => {
        const s = fx.store.s3;
        await s.putObject(obj(bid, 'k', { attrs: { ...tags('a=1'), acl: [{ id: 'c1', permission: 'FULL_CONTROL' }, { uri: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' }], owner: '111111111111' } }), Buffer.from('1'));
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', 'null'), {
          ...tags('a=1'),
          acl: [{ id: 'c1', permission: 'FULL_CONTROL' }, { uri: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' }],
          owner: '111111111111',
        });
        // The record read back does not carry them.
        assert.equal((await s.getObject(bid, 'k'))!.attrs, undefined);
        // An overwrite without attributes leaves none; empty parts are not kept.
        await s.putObject(obj(bid, 'k'), Buffer.from('2'));
        assert.equal(await s.getObjectAttrs(bid, 'k', 'null'), undefined);
        await s.putObject(obj(bid, 'k', { attrs: { tags: [] } }), Buffer.from('3'));
        assert.equal(await s.getObjectAttrs(bid, 'k', 'null'), undefined);
        assert.equal(await s.getObjectAttrs(bid, 'missing', 'null'), undefined);
      });

      it('setObjectAttrs replaces or removes them on an existing object version only', async () => {
        const s = fx.store.s3;
        await s.putObject(obj(bid, 'k'), Buffer.from('1'));
        assert.equal(await s.setObjectAttrs(bid, 'k', 'null', tags('x=y')), true);
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', 'null'), tags('x=y'));
        assert.equal(await s.setObjectAttrs(bid, 'k', 'null', { ...tags('x=z'), owner: 'o' }), true);
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', 'null'), { ...tags('x=z'), owner: 'o' });
        assert.equal(await s.setObjectAttrs(bid, 'k', 'null', undefined), true);
        assert.equal(await s.getObjectAttrs(bid, 'k', 'null'), undefined);
        assert.equal(await s.setObjectAttrs(bid, 'nope', 'null', tags('a=b')), false);
        assert.equal(await s.getObjectAttrs(bid, 'nope', 'null'), undefined);
        // Deleting the object takes them with it; a new object of the key starts without.
        await s.setObjectAttrs(bid, 'k', 'null', tags('x=y'));
        await s.deleteObject(bid, 'k', 5);
        await s.putObject(obj(bid, 'k'), Buffer.from('2'));
        assert.equal(await s.getObjectAttrs(bid, 'k', 'null'), undefined);
      });

      it('versioned: each version keeps its own, through becoming noncurrent and current again; removing a version removes them', async () => {
        const s = fx.store.s3;
        await s.putObject(obj(bid, 'k', { attrs: tags('v=null') }), Buffer.from('0'));
        await s.setBucketVersioning(bid, 'Enabled');
        const v1 = (await s.putObject(obj(bid, 'k', { attrs: tags('v=1') }), Buffer.from('1'))).versionId;
        const v2 = (await s.putObject(obj(bid, 'k'), Buffer.from('2'))).versionId;
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', 'null'), tags('v=null'));
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', v1), tags('v=1'));
        assert.equal(await s.getObjectAttrs(bid, 'k', v2), undefined);
        assert.equal(await s.setObjectAttrs(bid, 'k', v2, tags('v=2')), true);
        // A delete marker has no attributes and takes none.
        const marker = (await s.deleteObject(bid, 'k', 9)).deleteMarker!.versionId;
        assert.equal(await s.setObjectAttrs(bid, 'k', marker, tags('m=1')), false);
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', v2), tags('v=2'));
        // Removing the marker makes v2 current again, with its tags.
        await s.deleteVersion(bid, 'k', marker);
        assert.equal((await s.getObject(bid, 'k'))!.versionId, v2);
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', v2), tags('v=2'));
        // Removing versions for good removes their attributes (current and noncurrent).
        await s.deleteVersion(bid, 'k', v2);
        await s.deleteVersion(bid, 'k', v1);
        assert.equal(await s.getObjectAttrs(bid, 'k', v2), undefined);
        assert.equal(await s.getObjectAttrs(bid, 'k', v1), undefined);
        assert.equal(await s.setObjectAttrs(bid, 'k', v1, tags('late=1')), false);
        assert.deepEqual(await s.getObjectAttrs(bid, 'k', 'null'), tags('v=null'));
        // Suspended: the null version replaced in place loses its attributes.
        await s.setBucketVersioning(bid, 'Suspended');
        await s.putObject(obj(bid, 'k'), Buffer.from('n'));
        assert.equal(await s.getObjectAttrs(bid, 'k', 'null'), undefined);
        await s.setObjectAttrs(bid, 'k', 'null', tags('n=1'));
        await s.deleteObject(bid, 'k', 10);
        await s.deleteVersion(bid, 'k', 'null');
        await s.deleteBucket(bid);
      });

      it('a rolled-back write leaves no attributes', async () => {
        await fx.store.s3.putObject(obj(bid, 'k'), Buffer.from('1'));
        await assert.rejects(
          fx.store.transaction(async (tx) => {
            await tx.s3.setObjectAttrs(bid, 'k', 'null', tags('a=b'));
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await fx.store.s3.getObjectAttrs(bid, 'k', 'null'), undefined);
      });
    });

    describe('lifecycle reads (by age, by noncurrent time, per key)', () => {
      let fx: StoreFixture;
      let bid: number;
      beforeEach(async () => {
        fx = await makeStore();
        bid = (await fx.store.s3.createBucket(bucket('life'))).id;
      });
      afterEach(() => fx.dispose());

      it('bucketsWithConfig: only the buckets having that configuration, with its value', async () => {
        const s = fx.store.s3;
        const other = (await s.createBucket(bucket('life-2'))).id;
        await s.createBucket(bucket('life-3'));
        await s.putBucketConfig(bid, 'lifecycle', '{"a":1}');
        await s.putBucketConfig(other, 'lifecycle', '{"b":2}');
        await s.putBucketConfig(other, 'policy', '{}');
        const found = await s.bucketsWithConfig('lifecycle');
        assert.deepEqual(found.map((f) => [f.bucket.name, f.value]), [['life', '{"a":1}'], ['life-2', '{"b":2}']]);
        assert.deepEqual(await s.bucketsWithConfig('nothing'), []);
        await s.putBucketConfig(bid, 'lifecycle', undefined);
        assert.deepEqual((await s.bucketsWithConfig('lifecycle')).map((f) => f.bucket.name), ['life-2']);
      });

      it('objectsByAge: current objects in [from, to) by (lastModified, key), paged, nothing of another bucket', async () => {
        const s = fx.store.s3;
        const other = (await s.createBucket(bucket('life-2'))).id;
        for (const [k, t] of [['b', 10], ['a', 10], ['c', 5], ['d', 20], ['e', 30]] as const) await s.putObject(obj(bid, k, { lastModified: t }), Buffer.from(k));
        await s.putObject(obj(other, 'x', { lastModified: 10 }), Buffer.from('x'));
        const all = await s.objectsByAge(bid, { from: 5, to: 30, limit: 100 });
        assert.deepEqual(all.map((o) => `${o.key}@${o.lastModified}`), ['c@5', 'a@10', 'b@10', 'd@20']);
        const p1 = await s.objectsByAge(bid, { from: 0, to: 100, limit: 2 });
        assert.deepEqual(p1.map((o) => o.key), ['c', 'a']);
        const p2 = await s.objectsByAge(bid, { from: 0, to: 100, after: { lastModified: 10, key: 'a' }, limit: 2 });
        assert.deepEqual(p2.map((o) => o.key), ['b', 'd']);
        // A replaced object moves to its new time.
        await s.putObject(obj(bid, 'c', { lastModified: 40 }), Buffer.from('c2'));
        assert.deepEqual((await s.objectsByAge(bid, { from: 0, to: 100, limit: 10 })).map((o) => o.key), ['a', 'b', 'd', 'e', 'c']);
        sameRecord((await s.objectsByAge(bid, { from: 40, to: 41, limit: 1 }))[0], await s.getObject(bid, 'c'));
      });

      it('keysByNoncurrentSince: keys whose versions stopped being current in [from, to), paged; current markers by key', async () => {
        const s = fx.store.s3;
        await s.setBucketVersioning(bid, 'Enabled');
        await s.putObject(obj(bid, 'k', { lastModified: 1 }), Buffer.from('1'));
        await s.putObject(obj(bid, 'k', { lastModified: 2 }), Buffer.from('2'));
        await s.putObject(obj(bid, 'k', { lastModified: 3 }), Buffer.from('3'));
        await s.putObject(obj(bid, 'j', { lastModified: 2 }), Buffer.from('j'));
        await s.deleteObject(bid, 'j', 4);
        await s.deleteObject(bid, 'm', 5);
        assert.deepEqual(await s.keysByNoncurrentSince(bid, { from: 0, to: 100, limit: 10 }), [
          { at: 2, key: 'k' },
          { at: 3, key: 'k' },
          { at: 4, key: 'j' },
        ]);
        assert.deepEqual(await s.keysByNoncurrentSince(bid, { from: 3, to: 4, limit: 10 }), [{ at: 3, key: 'k' }]);
        assert.deepEqual(await s.keysByNoncurrentSince(bid, { from: 0, to: 100, after: { at: 2, key: 'k' }, limit: 1 }), [{ at: 3, key: 'k' }]);
        assert.deepEqual(await s.currentDeleteMarkers(bid, { limit: 10 }), ['j', 'm']);
        assert.deepEqual(await s.currentDeleteMarkers(bid, { afterKey: 'j', limit: 10 }), ['m']);
        // A marker that is no longer current leaves that list.
        await s.putObject(obj(bid, 'm', { lastModified: 6 }), Buffer.from('m'));
        assert.deepEqual(await s.currentDeleteMarkers(bid, { limit: 10 }), ['j']);
      });

      it('keyVersions: newest first, the latest flagged, each with when it stopped being current', async () => {
        const s = fx.store.s3;
        assert.deepEqual(await s.keyVersions(bid, 'k'), []);
        await s.putObject(obj(bid, 'k', { lastModified: 1 }), Buffer.from('0'));
        assert.deepEqual((await s.keyVersions(bid, 'k')).map((v) => [v.versionId, v.isLatest, v.noncurrentSince]), [['null', true, undefined]]);
        await s.setBucketVersioning(bid, 'Enabled');
        const v1 = await s.putObject(obj(bid, 'k', { lastModified: 2 }), Buffer.from('1'));
        const m = await s.deleteObject(bid, 'k', 3);
        const vs = await s.keyVersions(bid, 'k');
        assert.deepEqual(
          vs.map((v) => [v.versionId, !!v.deleteMarker, v.isLatest, v.noncurrentSince]),
          [
            [m.deleteMarker!.versionId, true, true, undefined],
            [v1.versionId, false, false, 3],
            ['null', false, false, 2],
          ],
        );
        assert.deepEqual(await s.keyVersions(bid, 'other'), []);
      });

      it('setStorageClass: the current version or a noncurrent one; never a delete marker or a missing version', async () => {
        const s = fx.store.s3;
        await s.setBucketVersioning(bid, 'Enabled');
        const v1 = await s.putObject(obj(bid, 'k', { lastModified: 1 }), Buffer.from('1'));
        const v2 = await s.putObject(obj(bid, 'k', { lastModified: 2 }), Buffer.from('2'));
        assert.equal(await s.setStorageClass(bid, 'k', v2.versionId, 'GLACIER'), true);
        assert.equal((await s.getObject(bid, 'k'))!.storageClass, 'GLACIER');
        assert.equal(await s.setStorageClass(bid, 'k', v1.versionId, 'STANDARD_IA'), true);
        assert.equal(((await s.getVersion(bid, 'k', v1.versionId)) as ObjectRecord).storageClass, 'STANDARD_IA');
        const m = await s.deleteObject(bid, 'k', 3);
        assert.equal(await s.setStorageClass(bid, 'k', m.deleteMarker!.versionId, 'GLACIER'), false);
        assert.equal(await s.setStorageClass(bid, 'k', 'null', 'GLACIER'), false);
        assert.equal(await s.setStorageClass(bid, 'nope', v1.versionId, 'GLACIER'), false);
        assert.equal(((await s.getVersion(bid, 'k', v2.versionId)) as ObjectRecord).storageClass, 'GLACIER', 'the class moves with the version');
      });
    });

    describe('documents', () => {
      let fx: StoreFixture;
      beforeEach(async () => (fx = await makeStore()));
      afterEach(() => fx.dispose());

      it('are kept per account: get, list, put (upsert), delete, accounts', async () => {
        const iam = fx.store.docs;
        await fx.store.transaction(async (tx) => {
          await tx.docs.put('111111111111', 'user', 'ann', { UserName: 'ann', n: 1 });
          await tx.docs.put('222222222222', 'user', 'ann', { UserName: 'ann', n: 2 });
          await tx.docs.put('111111111111', 'user', 'bo', { UserName: 'bo' });
          await tx.docs.put('111111111111', 'role', 'ann', { RoleName: 'ann' });
        });
        assert.deepEqual(await iam.get('111111111111', 'user', 'ann'), { UserName: 'ann', n: 1 });
        assert.deepEqual(await iam.get('222222222222', 'user', 'ann'), { UserName: 'ann', n: 2 });
        assert.equal(await iam.get('333333333333', 'user', 'ann'), undefined);
        assert.deepEqual((await iam.list<{ UserName: string }>('111111111111', 'user')).map((d) => d.UserName), ['ann', 'bo']);
        assert.deepEqual(await iam.accounts(), ['111111111111', '222222222222']);
        await fx.store.transaction(async (tx) => {
          await tx.docs.put('111111111111', 'user', 'ann', { UserName: 'ann', n: 3 });
          assert.equal(await tx.docs.delete('222222222222', 'user', 'ann'), true);
          assert.equal(await tx.docs.delete('222222222222', 'user', 'ann'), false);
        });
        assert.deepEqual(await iam.get('111111111111', 'user', 'ann'), { UserName: 'ann', n: 3 });
        assert.deepEqual(await iam.accounts(), ['111111111111']);
      });
    });

    describe('logs', () => {
      let fx: StoreFixture;
      beforeEach(async () => (fx = await makeStore()));
      afterEach(() => fx.dispose());

      const group = (name: string, over: Partial<Omit<LogGroupRecord, 'id' | 'storedBytes'>> = {}): Omit<LogGroupRecord, 'id' | 'storedBytes'> => ({
        account: '111111111111',
        region: 'us-east-1',
        name,
        createdAt: 1_700_000_000_000,
        logGroupClass: 'STANDARD',
        deletionProtection: false,
        tags: {},
        ...over,
      });
      const ev = (timestamp: number, message: string) => ({ timestamp, message });
      const msgs = (rows: LogEventRecord[]) => rows.map((r) => r.message);

      it('groups: create, get per (account, region), duplicate → Conflict, update, delete', async () => {
        const st = fx.store;
        const g = await st.transaction((tx) => tx.logs.createGroup(group('/app', { tags: { a: '1' }, kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/k', retentionInDays: 7 })));
        assert.equal(typeof g.id, 'number');
        assert.equal(g.storedBytes, 0);
        sameRecord(await st.logs.getGroup('111111111111', 'us-east-1', '/app'), g);
        assert.equal(await st.logs.getGroup('111111111111', 'eu-west-1', '/app'), undefined);
        assert.equal(await st.logs.getGroup('222222222222', 'us-east-1', '/app'), undefined);
        const dup = await storeErrorOf(st.transaction((tx) => tx.logs.createGroup(group('/app'))));
        assert.equal(dup.kind, 'Conflict');
        // The same name in another region or account is another group.
        await st.transaction((tx) => tx.logs.createGroup(group('/app', { region: 'eu-west-1' })));
        await st.transaction((tx) => tx.logs.createGroup(group('/app', { account: '222222222222' })));
        await st.transaction((tx) => tx.logs.updateGroup(g.id, { retentionInDays: null, tags: { b: '2' }, deletionProtection: true }));
        const updated = (await st.logs.getGroup('111111111111', 'us-east-1', '/app'))!;
        assert.equal(updated.retentionInDays, undefined);
        assert.deepEqual(updated.tags, { b: '2' });
        assert.equal(updated.deletionProtection, true);
        assert.equal(updated.kmsKeyId, 'arn:aws:kms:us-east-1:111111111111:key/k');
        await st.transaction((tx) => tx.logs.deleteGroup(g.id));
        assert.equal(await st.logs.getGroup('111111111111', 'us-east-1', '/app'), undefined);
        assert.ok(await st.logs.getGroup('111111111111', 'eu-west-1', '/app'));
      });

      it('listGroups: name order within one account and region, prefix, substring, class, after, limit', async () => {
        const st = fx.store;
        await st.transaction(async (tx) => {
          for (const n of ['/b/x', '/a/DataLogs', '/a/one', 'GroupDataLogs', '/a/two', 'datalogs']) await tx.logs.createGroup(group(n, n === '/a/two' ? { logGroupClass: 'INFREQUENT_ACCESS' } : {}));
          await tx.logs.createGroup(group('/a/elsewhere', { region: 'eu-west-1' }));
          await tx.logs.createGroup(group('/a/other-account', { account: '222222222222' }));
        });
        const names = async (q: { prefix?: string; contains?: string; logGroupClass?: string; after?: string; limit: number }) =>
          (await st.logs.listGroups('111111111111', 'us-east-1', q)).map((g) => g.name);
        assert.deepEqual(await names({ limit: 50 }), ['/a/DataLogs', '/a/one', '/a/two', '/b/x', 'GroupDataLogs', 'datalogs']);
        assert.deepEqual(await names({ prefix: '/a/', limit: 50 }), ['/a/DataLogs', '/a/one', '/a/two']);
        assert.deepEqual(await names({ prefix: '/a/', limit: 2 }), ['/a/DataLogs', '/a/one']);
        assert.deepEqual(await names({ prefix: '/a/', after: '/a/one', limit: 50 }), ['/a/two']);
        assert.deepEqual(await names({ contains: 'DataLogs', limit: 50 }), ['/a/DataLogs', 'GroupDataLogs']);
        assert.deepEqual(await names({ logGroupClass: 'INFREQUENT_ACCESS', limit: 50 }), ['/a/two']);
        assert.deepEqual(await names({ after: 'GroupDataLogs', limit: 50 }), ['datalogs']);
      });

      it('streams: create, duplicate → Conflict, list by name or last event time, both ways, paged', async () => {
        const st = fx.store;
        const g = await st.transaction((tx) => tx.logs.createGroup(group('/s')));
        const ids: Record<string, number> = {};
        await st.transaction(async (tx) => {
          for (const n of ['c', 'a', 'b', 'app-2', 'app-1']) ids[n] = (await tx.logs.createStream({ groupId: g.id, name: n, createdAt: 1 })).id;
        });
        assert.equal((await storeErrorOf(st.transaction((tx) => tx.logs.createStream({ groupId: g.id, name: 'a', createdAt: 2 })))).kind, 'Conflict');
        // Last events: a → 30, b → 10, c → 20; app-* have none.
        await st.transaction(async (tx) => {
          await tx.logs.putEvents(g.id, ids.a!, [ev(5, 'a1'), ev(30, 'a2')], 100);
          await tx.logs.putEvents(g.id, ids.b!, [ev(10, 'b1')], 101);
          await tx.logs.putEvents(g.id, ids.c!, [ev(20, 'c1')], 102);
        });
        const s = (await st.logs.getStream(g.id, 'a'))!;
        assert.deepEqual([s.firstEventTimestamp, s.lastEventTimestamp, s.lastIngestionTime], [5, 30, 100]);
        const fresh = (await st.logs.getStream(g.id, 'app-1'))!;
        assert.deepEqual([fresh.firstEventTimestamp, fresh.lastEventTimestamp, fresh.lastIngestionTime], [undefined, undefined, undefined]);
        const list = async (q: Partial<LogStreamQuery>) => (await st.logs.listStreams(g.id, { orderBy: 'LogStreamName', descending: false, limit: 50, ...q })).map((x) => x.name);
        assert.deepEqual(await list({}), ['a', 'app-1', 'app-2', 'b', 'c']);
        assert.deepEqual(await list({ descending: true }), ['c', 'b', 'app-2', 'app-1', 'a']);
        assert.deepEqual(await list({ prefix: 'app-' }), ['app-1', 'app-2']);
        assert.deepEqual(await list({ after: { name: 'app-2' } }), ['b', 'c']);
        assert.deepEqual(await list({ descending: true, after: { name: 'b' }, limit: 2 }), ['app-2', 'app-1']);
        assert.deepEqual(await list({ orderBy: 'LastEventTime' }), ['app-1', 'app-2', 'b', 'c', 'a']);
        assert.deepEqual(await list({ orderBy: 'LastEventTime', descending: true }), ['a', 'c', 'b', 'app-2', 'app-1']);
        assert.deepEqual(await list({ orderBy: 'LastEventTime', after: { name: 'app-2' } }), ['b', 'c', 'a']);
        assert.deepEqual(await list({ orderBy: 'LastEventTime', after: { name: 'b', lastEventTimestamp: 10 }, limit: 1 }), ['c']);
        assert.deepEqual(await list({ orderBy: 'LastEventTime', descending: true, after: { name: 'c', lastEventTimestamp: 20 } }), ['b', 'app-2', 'app-1']);
      });

      it('events: stored by (timestamp, seq) whatever the write order; stream reads both ways from a cursor, in [from, to)', async () => {
        const st = fx.store;
        const g = await st.transaction((tx) => tx.logs.createGroup(group('/e')));
        const sid = await st.transaction(async (tx) => (await tx.logs.createStream({ groupId: g.id, name: 's', createdAt: 1 })).id);
        const other = await st.transaction(async (tx) => (await tx.logs.createStream({ groupId: g.id, name: 'o', createdAt: 1 })).id);
        const written = await st.transaction(async (tx) => {
          const a = await tx.logs.putEvents(g.id, sid, [ev(300, 'c'), ev(100, 'a'), ev(200, 'b1')], 1000);
          await tx.logs.putEvents(g.id, other, [ev(150, 'other')], 1001);
          const b = await tx.logs.putEvents(g.id, sid, [ev(200, 'b2'), ev(400, 'd')], 1002);
          return [...a, ...b];
        });
        assert.deepEqual(written.map((w) => [w.message, w.streamId, w.ingestionTime]), [['c', sid, 1000], ['a', sid, 1000], ['b1', sid, 1000], ['b2', sid, 1002], ['d', sid, 1002]]);
        const seqs = written.map((w) => w.seq);
        assert.deepEqual([...seqs].sort((x, y) => x - y), seqs, 'seq grows with ingestion');
        const read = (q: Partial<StreamEventsQuery>) => st.logs.streamEvents(sid, { direction: 'forward', limit: 100, ...q });
        assert.deepEqual(msgs(await read({})), ['a', 'b1', 'b2', 'c', 'd']);
        assert.deepEqual(msgs(await read({ direction: 'backward' })), ['d', 'c', 'b2', 'b1', 'a']);
        assert.deepEqual(msgs(await read({ limit: 2 })), ['a', 'b1']);
        const b1 = written.find((w) => w.message === 'b1')!;
        assert.deepEqual(msgs(await read({ cursor: { timestamp: b1.timestamp, seq: b1.seq } })), ['b2', 'c', 'd']);
        assert.deepEqual(msgs(await read({ direction: 'backward', cursor: { timestamp: b1.timestamp, seq: b1.seq } })), ['a']);
        assert.deepEqual(msgs(await read({ from: 200, to: 400 })), ['b1', 'b2', 'c']);
        assert.deepEqual(msgs(await read({ direction: 'backward', from: 200, to: 400, limit: 2 })), ['c', 'b2']);
        assert.deepEqual(msgs(await read({ cursor: { timestamp: 400, seq: seqs[4]! } })), []);
        const got = (await read({ limit: 1 }))[0]!;
        assert.deepEqual(got, { seq: written[1]!.seq, streamId: sid, timestamp: 100, ingestionTime: 1000, message: 'a' });
        // The group saw 6 messages' bytes.
        assert.equal((await st.logs.getGroup('111111111111', 'us-east-1', '/e'))!.storedBytes, 'cab1b2d'.length + 'other'.length);
      });

      it('group reads interleave streams in (timestamp, seq) order with stream names, from a cursor, or only named streams', async () => {
        const st = fx.store;
        const g = await st.transaction((tx) => tx.logs.createGroup(group('/g')));
        const elsewhere = await st.transaction((tx) => tx.logs.createGroup(group('/elsewhere')));
        const id = async (gid: number, n: string) => st.transaction(async (tx) => (await tx.logs.createStream({ groupId: gid, name: n, createdAt: 1 })).id);
        const x = await id(g.id, 'x');
        const y = await id(g.id, 'y');
        const z = await id(g.id, 'z');
        const w = await id(elsewhere.id, 'x');
        await st.transaction(async (tx) => {
          await tx.logs.putEvents(g.id, x, [ev(1, 'x1'), ev(3, 'x3'), ev(5, 'x5')], 10);
          await tx.logs.putEvents(g.id, y, [ev(2, 'y2'), ev(3, 'y3')], 11);
          await tx.logs.putEvents(g.id, z, [ev(4, 'z4')], 12);
          await tx.logs.putEvents(elsewhere.id, w, [ev(1, 'not mine')], 13);
        });
        const all = await st.logs.groupEvents(g.id, { limit: 100 });
        assert.deepEqual(msgs(all), ['x1', 'y2', 'x3', 'y3', 'z4', 'x5']);
        assert.deepEqual(all.map((e) => e.streamName), ['x', 'y', 'x', 'y', 'z', 'x']);
        const page1 = await st.logs.groupEvents(g.id, { limit: 3 });
        const last = page1[2]!;
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { after: { timestamp: last.timestamp, seq: last.seq }, limit: 100 })), ['y3', 'z4', 'x5']);
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { from: 3, to: 5, limit: 100 })), ['x3', 'y3', 'z4']);
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { streamIds: [z, x], limit: 100 })), ['x1', 'x3', 'z4', 'x5']);
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { streamIds: [x, y], limit: 3 })), ['x1', 'y2', 'x3']);
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { streamIds: [w], limit: 100 })), [], 'a stream of another group');
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { streamIds: [x, y], after: { timestamp: 3, seq: all[2]!.seq }, limit: 100 })), ['y3', 'x5']);
      });

      it('deleteEventsBefore removes only older events of that group, in batches, and storedBytes follows', async () => {
        const st = fx.store;
        const g = await st.transaction((tx) => tx.logs.createGroup(group('/r', { retentionInDays: 1 })));
        const keep = await st.transaction((tx) => tx.logs.createGroup(group('/keep')));
        const s = await st.transaction(async (tx) => (await tx.logs.createStream({ groupId: g.id, name: 's', createdAt: 1 })).id);
        const k = await st.transaction(async (tx) => (await tx.logs.createStream({ groupId: keep.id, name: 's', createdAt: 1 })).id);
        await st.transaction(async (tx) => {
          await tx.logs.putEvents(g.id, s, [ev(1, 'old1'), ev(2, 'old2'), ev(3, 'old3'), ev(10, 'new')], 1);
          await tx.logs.putEvents(keep.id, k, [ev(1, 'other')], 1);
        });
        assert.equal(await st.transaction((tx) => tx.logs.deleteEventsBefore(g.id, 10, 2)), 2);
        assert.equal(await st.transaction((tx) => tx.logs.deleteEventsBefore(g.id, 10, 2)), 1);
        assert.equal(await st.transaction((tx) => tx.logs.deleteEventsBefore(g.id, 10, 2)), 0);
        assert.deepEqual(msgs(await st.logs.streamEvents(s, { direction: 'forward', limit: 10 })), ['new']);
        assert.equal((await st.logs.getGroup('111111111111', 'us-east-1', '/r'))!.storedBytes, 3);
        assert.deepEqual(msgs(await st.logs.streamEvents(k, { direction: 'forward', limit: 10 })), ['other']);
        assert.deepEqual((await st.logs.groupsWithRetention()).map((x) => x.name), ['/r']);
      });

      it('deleting a stream or a group removes its events; a rolled-back append leaves nothing', async () => {
        const st = fx.store;
        const g = await st.transaction((tx) => tx.logs.createGroup(group('/d')));
        const [a, b] = await st.transaction(async (tx) => [(await tx.logs.createStream({ groupId: g.id, name: 'a', createdAt: 1 })).id, (await tx.logs.createStream({ groupId: g.id, name: 'b', createdAt: 1 })).id]);
        await st.transaction(async (tx) => {
          await tx.logs.putEvents(g.id, a!, [ev(1, 'aaaa')], 1);
          await tx.logs.putEvents(g.id, b!, [ev(2, 'bb')], 1);
        });
        await assert.rejects(
          st.transaction(async (tx) => {
            await tx.logs.putEvents(g.id, a!, [ev(3, 'rolled back')], 2);
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { limit: 10 })), ['aaaa', 'bb']);
        assert.equal((await st.logs.getGroup('111111111111', 'us-east-1', '/d'))!.storedBytes, 6);
        await st.transaction((tx) => tx.logs.deleteStream(a!));
        assert.equal(await st.logs.getStream(g.id, 'a'), undefined);
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { limit: 10 })), ['bb']);
        assert.equal((await st.logs.getGroup('111111111111', 'us-east-1', '/d'))!.storedBytes, 2);
        await st.transaction((tx) => tx.logs.deleteGroup(g.id));
        assert.deepEqual(msgs(await st.logs.groupEvents(g.id, { limit: 10 })), []);
        assert.deepEqual(msgs(await st.logs.streamEvents(b!, { direction: 'forward', limit: 10 })), []);
        assert.equal(await st.logs.getStream(g.id, 'b'), undefined);
      });
    });

    describe('transactions', () => {
      let fx: StoreFixture;
      beforeEach(async () => (fx = await makeStore()));
      afterEach(() => fx.dispose());

      it('a thrown error rolls everything back and afterCommit hooks do not run', async () => {
        const st = fx.store;
        const existing = await st.s3.createBucket(bucket('existing'));
        const keep = obj(existing.id, 'keep');
        await st.s3.putObject(keep, Buffer.from('kept'));
        let hookRan = false;
        let inlineId = '';
        await assert.rejects(
          st.transaction(async (tx) => {
            const b = await tx.s3.createBucket(bucket('rolled-back'));
            const rec = obj(b.id, 'k');
            inlineId = rec.body.id;
            await tx.s3.putObject(rec, Buffer.from('gone'));
            await tx.s3.putObject(obj(existing.id, 'keep', { etag: '"changed"' }), Buffer.from('changed'));
            await tx.s3.deleteObject(existing.id, 'keep');
            // Inside the transaction its own writes are visible.
            assert.equal((await tx.s3.getObject(b.id, 'k'))!.key, 'k');
            tx.afterCommit(() => {
              hookRan = true;
            });
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(hookRan, false);
        assert.equal(await st.s3.getBucket('rolled-back'), undefined);
        assert.equal(await st.s3.readInline(inlineId), undefined);
        sameRecord(await st.s3.getObject(existing.id, 'keep'), keep);
        assert.deepEqual(await st.s3.readInline(keep.body.id), Buffer.from('kept'));
        assert.deepEqual((await st.s3.listBuckets({ limit: 10 })).map((b) => b.name), ['existing']);
      });

      it('a StoreError inside a transaction rolls back its earlier writes', async () => {
        const st = fx.store;
        const b = await st.s3.createBucket(bucket('b'));
        await st.s3.putObject(obj(b.id, 'exists'), Buffer.from('x'));
        const e = await storeErrorOf(
          st.transaction(async (tx) => {
            await tx.s3.putObject(obj(b.id, 'first'), Buffer.from('1'));
            await tx.s3.putObject(obj(b.id, 'exists'), Buffer.from('2'), { ifNoneMatch: true });
          }),
        );
        assert.equal(e.kind, 'PreconditionFailed');
        assert.equal(await st.s3.getObject(b.id, 'first'), undefined);
      });

      it('commit: the result is returned, hooks run once, in order, after the data is durable', async () => {
        const st = fx.store;
        const calls: string[] = [];
        const result = await st.transaction(async (tx) => {
          const b = await tx.s3.createBucket(bucket('committed'));
          await tx.s3.putObject(obj(b.id, 'k'), Buffer.from('v'));
          tx.afterCommit(async () => {
            // The commit is visible to a plain read when the hook runs.
            const seen = await st.s3.getBucket('committed');
            calls.push(`hook1:${seen ? (await st.s3.getObject(seen.id, 'k'))!.key : 'missing'}`);
          });
          tx.afterCommit(() => calls.push('hook2'));
          calls.push('body-done');
          return b.id;
        });
        assert.deepEqual(calls, ['body-done', 'hook1:k', 'hook2']);
        assert.equal(result, (await st.s3.getBucket('committed'))!.id);
      });

      it('reads outside a transaction never see its uncommitted writes (no dirty reads)', async () => {
        const st = fx.store;
        const b = await st.s3.createBucket(bucket('dirty'));
        const tx = st.transaction(async (t) => {
          await t.s3.putObject(obj(b.id, 'phantom'), Buffer.from('p'));
          for (let i = 0; i < 5; i++) await t.s3.getObject(b.id, 'phantom');
          throw new Error('rolled back');
        });
        const sightings: number[] = [];
        const reader = (async () => {
          for (let i = 0; i < 20; i++) if (await st.s3.getObject(b.id, 'phantom')) sightings.push(i);
        })();
        await assert.rejects(tx, /rolled back/);
        await reader;
        assert.deepEqual(sightings, [], 'a plain read saw an object that was never committed');
        assert.equal(await st.s3.getObject(b.id, 'phantom'), undefined);
      });

      it('concurrent transactions are isolated: one failing does not undo the other', async () => {
        const st = fx.store;
        const b = await st.s3.createBucket(bucket('conc'));
        const ok = st.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) await tx.s3.putObject(obj(b.id, `ok-${i}`), Buffer.from('o'));
          return 'ok';
        });
        const bad = st.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) await tx.s3.putObject(obj(b.id, `bad-${i}`), Buffer.from('b'));
          throw new Error('bad');
        });
        const ok2 = st.transaction(async (tx) => {
          await tx.s3.putObject(obj(b.id, 'ok2'), Buffer.from('o'));
        });
        const [r1, r2, r3] = await Promise.allSettled([ok, bad, ok2]);
        assert.equal(r1.status, 'fulfilled');
        assert.equal(r2.status, 'rejected');
        assert.equal(r3.status, 'fulfilled');
        const page = await st.s3.listObjects(b.id, { prefix: '', limit: 100 });
        assert.deepEqual(page.objects.map((o) => o.key), ['ok-0', 'ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok2']);
      });
    });

    describe('listObjects', () => {
      let fx: StoreFixture;
      let bid: number;
      before(async () => {
        fx = await makeStore();
        bid = (await fx.store.s3.createBucket(bucket('list'))).id;
        const noise = (await fx.store.s3.createBucket(bucket('noise'))).id;
        // Insert out of order; a neighbouring bucket's keys must never leak in.
        for (const k of [...LIST_KEYS].reverse()) await fx.store.s3.putObject(obj(bid, k), Buffer.from(k));
        for (const k of ['a', 'a/x', 'dir/0', 'zz']) await fx.store.s3.putObject(obj(noise, k), Buffer.from(k));
      });
      after(() => fx.dispose());
      const list = (q: ListObjectsQuery) => fx.store.s3.listObjects(bid, q);

      it('full listing is in UTF-8 byte (code point) order, with what a listing shows of each record', async () => {
        const page = await list({ prefix: '', limit: 1000, versionIds: true });
        assert.deepEqual(summary(page), {
          keys: ['a', 'a+b', 'a/', 'a/b', 'a/b/c', 'a/c', 'a0', 'ab', 'b', 'dir/e', 'dir/z', 'dir/é', 'dir/日本/1', 'dir/日本/2', 'dir/\uFF21', 'dir/🙂', 'dir/🙂/x', 'z', 'é', 'é/x', '日本', '日本/語', '🙂'],
          prefixes: [],
          isTruncated: false,
          last: '🙂',
        });
        const { bucketId, key, size, etag, lastModified, storageClass, checksum, versionId, restore } = obj(bid, 'a');
        sameRecord(page.objects[0], { bucketId, key, size, etag, lastModified, storageClass, checksum, versionId, restore });
      });

      it('delimiter "/" at the root: keys and rolled-up prefixes', async () => {
        assert.deepEqual(summary(await list({ prefix: '', delimiter: '/', limit: 1000 })), {
          keys: ['a', 'a+b', 'a0', 'ab', 'b', 'z', 'é', '日本', '🙂'],
          prefixes: ['a/', 'dir/', 'é/', '日本/'],
          isTruncated: false,
          last: '🙂',
        });
      });

      it('prefix "a/" with delimiter: the key equal to the prefix is an object', async () => {
        assert.deepEqual(summary(await list({ prefix: 'a/', delimiter: '/', limit: 1000 })), {
          keys: ['a/', 'a/b', 'a/c'],
          prefixes: ['a/b/'],
          isTruncated: false,
          last: 'a/c',
        });
      });

      it('prefix "dir/" with delimiter, in pages of 3', async () => {
        assert.deepEqual(summary(await list({ prefix: 'dir/', delimiter: '/', limit: 3 })), {
          keys: ['dir/e', 'dir/z', 'dir/é'],
          prefixes: [],
          isTruncated: true,
          last: 'dir/é',
        });
        assert.deepEqual(summary(await list({ prefix: 'dir/', delimiter: '/', after: 'dir/é', limit: 3 })), {
          keys: ['dir/\uFF21', 'dir/🙂'],
          prefixes: ['dir/日本/'],
          isTruncated: true,
          last: 'dir/🙂',
        });
        assert.deepEqual(summary(await list({ prefix: 'dir/', delimiter: '/', after: 'dir/🙂', limit: 3 })), {
          keys: [],
          prefixes: ['dir/🙂/'],
          isTruncated: false,
          last: 'dir/🙂/',
        });
      });

      it('a page that ends exactly at the last entry is not truncated', async () => {
        // four entries: a/, a/b, a/b/ (rolled up), a/c
        assert.deepEqual(summary(await list({ prefix: 'a/', delimiter: '/', limit: 3 })), {
          keys: ['a/', 'a/b'],
          prefixes: ['a/b/'],
          isTruncated: true,
          last: 'a/b/',
        });
        assert.deepEqual(summary(await list({ prefix: 'a/', delimiter: '/', limit: 4 })), {
          keys: ['a/', 'a/b', 'a/c'],
          prefixes: ['a/b/'],
          isTruncated: false,
          last: 'a/c',
        });
        // limit counts keys and prefixes together
        assert.deepEqual(summary(await list({ prefix: 'a/', delimiter: '/', limit: 2 })), {
          keys: ['a/', 'a/b'],
          prefixes: [],
          isTruncated: true,
          last: 'a/b',
        });
      });

      it('prefix without delimiter; shared prefixes; no match', async () => {
        assert.deepEqual(summary(await list({ prefix: 'a', limit: 4 })), { keys: ['a', 'a+b', 'a/', 'a/b'], prefixes: [], isTruncated: true, last: 'a/b' });
        assert.deepEqual(summary(await list({ prefix: 'a', after: 'a/b', limit: 4 })), { keys: ['a/b/c', 'a/c', 'a0', 'ab'], prefixes: [], isTruncated: false, last: 'ab' });
        assert.deepEqual(summary(await list({ prefix: '日本', limit: 10 })), { keys: ['日本', '日本/語'], prefixes: [], isTruncated: false, last: '日本/語' });
        assert.deepEqual(summary(await list({ prefix: 'dir/🙂', limit: 10 })), { keys: ['dir/🙂', 'dir/🙂/x'], prefixes: [], isTruncated: false, last: 'dir/🙂/x' });
        const none = await list({ prefix: 'nomatch', limit: 10 });
        assert.deepEqual(none.objects, []);
        assert.deepEqual(none.commonPrefixes, []);
        assert.equal(none.isTruncated, false);
      });

      it('after inside a rolled-up prefix skips the rest of that prefix', async () => {
        assert.deepEqual(summary(await list({ prefix: '', delimiter: '/', after: 'a/b', limit: 3 })), {
          keys: ['a0', 'ab', 'b'],
          prefixes: [],
          isTruncated: true,
          last: 'b',
        });
        assert.deepEqual(summary(await list({ prefix: '', delimiter: '/', after: 'a/', limit: 2 })), {
          keys: ['a0', 'ab'],
          prefixes: [],
          isTruncated: true,
          last: 'ab',
        });
      });

      it('a multi-character and a non-ASCII delimiter', async () => {
        assert.deepEqual(summary(await list({ prefix: '', delimiter: 'b/', limit: 100 })), {
          keys: LIST_KEYS.filter((k) => !k.startsWith('a/b/')).sort(cmp),
          prefixes: ['a/b/'],
          isTruncated: false,
          last: '🙂',
        });
        assert.deepEqual(summary(await list({ prefix: 'dir/', delimiter: '本', limit: 100 })), {
          keys: ['dir/e', 'dir/z', 'dir/é', 'dir/\uFF21', 'dir/🙂', 'dir/🙂/x'],
          prefixes: ['dir/日本'],
          isTruncated: false,
          last: 'dir/🙂/x',
        });
      });

      it('matches the S3 listing rule for every prefix × delimiter × after × limit', async () => {
        const prefixes = ['', 'a', 'a/', 'dir/', 'dir/日', 'é', '🙂', 'nomatch'];
        const delimiters = [undefined, '/', 'b', '本'];
        const afters = [undefined, '', 'a', 'a/', 'a/b', 'a/b/c', 'dir/', 'dir/日本/1', 'dir/🙂', 'é', 'zz', '\uFFFF', '\u{10FFFF}'];
        const limits = [1, 2, 3, 1000];
        for (const prefix of prefixes)
          for (const delimiter of delimiters)
            for (const after of afters)
              for (const limit of limits) {
                const q: ListObjectsQuery = { prefix, limit, ...(delimiter !== undefined && { delimiter }), ...(after !== undefined && { after }) };
                const got = await list(q);
                const want = referenceList(LIST_KEYS, q);
                const label = JSON.stringify(q);
                assert.deepEqual(entriesOf(got), want.entries, label);
                assert.equal(got.isTruncated, want.isTruncated, label);
                if (want.entries.length) assert.equal(got.last, want.last, label);
              }
      });

      it('resuming from `last` page by page gives exactly the full listing', async () => {
        for (const prefix of ['', 'a', 'a/', 'dir/', 'é']) {
          for (const delimiter of [undefined, '/', '本']) {
            const full = entriesOf(await list({ prefix, delimiter, limit: 1000 }));
            for (const limit of [1, 2, 3, 5]) {
              const seen: Entry[] = [];
              let after: string | undefined;
              for (let pages = 0; ; pages++) {
                assert.ok(pages <= LIST_KEYS.length, 'listing terminates');
                const page = await list({ prefix, delimiter, limit, ...(after !== undefined && { after }) });
                const entries = entriesOf(page);
                assert.ok(entries.length <= limit);
                seen.push(...entries);
                if (!page.isTruncated) break;
                assert.equal(entries.length, limit, 'a truncated page is full');
                assert.ok(page.last !== undefined);
                after = page.last;
              }
              assert.deepEqual(seen, full, JSON.stringify({ prefix, delimiter, limit }));
            }
          }
        }
      });

      it('pages larger than one internal batch (limit > 1000) still list everything', async () => {
        const st = fx.store;
        const big = (await st.s3.createBucket(bucket('big'))).id;
        await st.transaction(async (tx) => {
          for (let i = 0; i < 1500; i++) await tx.s3.putObject(obj(big, `k/${String(i).padStart(5, '0')}`, { body: { kind: 'file', id: `f${i}` } }), undefined);
          await tx.s3.putObject(obj(big, 'z'), Buffer.from('z'));
        });
        const all = await st.s3.listObjects(big, { prefix: '', limit: 2000 });
        assert.equal(all.objects.length, 1501);
        assert.equal(all.isTruncated, false);
        assert.equal(all.last, 'z');
        const first = await st.s3.listObjects(big, { prefix: 'k/', limit: 1200 });
        assert.equal(first.objects.length, 1200);
        assert.equal(first.isTruncated, true);
        assert.equal(first.last, 'k/01199');
        const rolled = await st.s3.listObjects(big, { prefix: '', delimiter: '/', limit: 1000 });
        assert.deepEqual(summary(rolled), { keys: ['z'], prefixes: ['k/'], isTruncated: false, last: 'z' });
      });
    });
  });
}

describe('prefixSuccessor', () => {
  it('increments the last code point', () => {
    assert.equal(prefixSuccessor('a'), 'b');
    assert.equal(prefixSuccessor('a/'), 'a0');
    assert.equal(prefixSuccessor('dir/é'), 'dir/ê');
    assert.equal(prefixSuccessor('日本'), '日札');
    assert.equal(prefixSuccessor('🙂'), '🙃');
    assert.equal(prefixSuccessor('\uFFFF'), '\u{10000}');
  });

  it('skips the surrogate range and drops trailing U+10FFFF', () => {
    assert.equal(prefixSuccessor('x\uD7FF'), 'x\uE000');
    assert.equal(prefixSuccessor('ab\u{10FFFF}'), 'ac');
    assert.equal(prefixSuccessor('a\u{10FFFF}\u{10FFFF}'), 'b');
    assert.equal(prefixSuccessor('\u{10FFFF}'), undefined);
    assert.equal(prefixSuccessor(''), undefined);
  });

  it('is above every string with the prefix and the least such bound', () => {
    const samples = ['a', 'a/', 'a/\u{10FFFF}', 'dir/日本', 'é', '🙂', 'z\uFFFF', 'x\uD7FF'];
    const extensions = ['', '\0', 'a', '/', '\uFFFF', '\u{10000}', '\u{10FFFF}\u{10FFFF}', '日本'];
    for (const s of samples) {
      const succ = prefixSuccessor(s)!;
      assert.ok(cmp(succ, s) > 0, s);
      for (const e of extensions) assert.ok(cmp(s + e, succ) < 0, `${JSON.stringify(s + e)} < succ(${JSON.stringify(s)})`);
      // Nothing between s and succ lacks the prefix: the code point just below succ's last one extends s.
      const cps = Array.from(succ, (c) => c.codePointAt(0)!);
      const below = String.fromCodePoint(...cps.slice(0, -1), cps[cps.length - 1]! - 1 === 0xdfff ? 0xd7ff : cps[cps.length - 1]! - 1);
      assert.ok(below.startsWith(s) || below === s.replace(/\u{10FFFF}+$/u, ''), s);
    }
  });
});

describe('sqlite migrations', () => {
  it('lifecycle reads are index range scans (no table scan of a bucket)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-plan-'));
    try {
      new SqliteMetadataStore(dir).close();
      const db = new Database(join(dir, 'metadata.sqlite'));
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
      const scan = (detail: string) => assert.doesNotMatch(detail, /SCAN|TEMP B-TREE/, detail);
      const byAge = plan('SELECT * FROM objects WHERE bucket_id = 1 AND last_modified >= 0 AND last_modified < 5 ORDER BY last_modified, key');
      assert.match(byAge, /USING INDEX objects_by_age \(bucket_id=\? AND last_modified>\? AND last_modified<\?\)/);
      scan(byAge);
      const resumed = plan("SELECT * FROM objects WHERE bucket_id = 1 AND (last_modified, key) > (3, 'k') AND last_modified < 5 ORDER BY last_modified, key");
      assert.match(resumed, /USING INDEX objects_by_age \(bucket_id=\? AND \(last_modified,key\)>\(\?,\?\) AND last_modified<\?\)/);
      scan(resumed);
      const nc = plan("SELECT noncurrent_since, key FROM object_versions WHERE bucket_id = 1 AND (noncurrent_since, key) > (3, 'k') AND noncurrent_since < 5 ORDER BY noncurrent_since, key");
      assert.match(nc, /USING (COVERING )?INDEX object_versions_by_noncurrent/);
      scan(nc);
      const markers = plan("SELECT key FROM object_versions WHERE bucket_id = 1 AND noncurrent_since IS NULL AND key > '' ORDER BY key");
      assert.match(markers, /USING (COVERING )?INDEX object_versions_by_noncurrent \(bucket_id=\? AND noncurrent_since=\? AND key>\?\)/);
      scan(markers);
      assert.match(plan("SELECT bucket_id FROM bucket_configs WHERE name = 'lifecycle'"), /USING (COVERING )?INDEX bucket_configs_by_name/);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inline bodies stored under text ids keep their bytes under integer ids; body indexes hold file bodies only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-migrate-int-'));
    try {
      const raw = schemaBefore(dir, 'inline_bodies_int');
      raw.prepare("INSERT INTO buckets (name, region, created_at, owner_id, versioning) VALUES ('old', 'us-east-1', 1, 'acct', 'Enabled')").run();
      const body = raw.prepare('INSERT INTO inline_bodies (id, data) VALUES (?, ?)');
      // Text ids in no particular order: each must keep its own bytes.
      for (const [id, data] of [['zz-current', 'current'], ['aa-old', 'old version'], ['mm-part', 'part one']]) body.run(id, Buffer.from(data));
      raw
        .prepare("INSERT INTO objects (bucket_id, key, size, etag, last_modified, storage_class, headers, body_kind, body_id, version_key, null_version) VALUES (1, 'k', 7, '\"c\"', 2000, 'STANDARD', '{}', 'inline', 'zz-current', 'v2', 0)")
        .run();
      raw
        .prepare("INSERT INTO objects (bucket_id, key, size, etag, last_modified, storage_class, headers, body_kind, body_id, version_key, null_version) VALUES (1, 'f', 3, '\"f\"', 2000, 'STANDARD', '{}', 'file', 'file-1', 'v3', 0)")
        .run();
      raw
        .prepare("INSERT INTO object_versions (bucket_id, key, version_key, null_version, delete_marker, size, etag, last_modified, storage_class, headers, body_kind, body_id, noncurrent_since) VALUES (1, 'k', 'v9', 0, 0, 11, '\"o\"', 1000, 'STANDARD', '{}', 'inline', 'aa-old', 2000)")
        .run();
      raw.prepare("INSERT INTO uploads (upload_id, bucket_id, key, initiated, storage_class, headers) VALUES ('u1', 1, 'm', 1, 'STANDARD', '{}')").run();
      raw.prepare("INSERT INTO parts (upload_id, part_number, size, etag, last_modified, body_kind, body_id) VALUES ('u1', 1, 8, '\"p\"', 1, 'inline', 'mm-part')").run();
      raw.close();

      const store = new SqliteMetadataStore(dir);
      try {
        const s = store.s3;
        const b = (await s.getBucket('old'))!;
        const cur = (await s.getObject(b.id, 'k', { withInline: true }))!;
        assert.equal(cur.inlineData?.toString(), 'current');
        assert.match(cur.body.id, /^\d+$/);
        const page = await s.listVersions(b.id, { prefix: 'k', limit: 10 });
        const old = page.versions.find((v) => !v.isLatest) as ObjectRecord | undefined;
        assert.ok(old, 'the old version is listed');
        assert.equal((await s.readInline(old.body.id))?.toString(), 'old version');
        const [part] = await s.listParts('u1', { limit: 10 });
        assert.equal((await s.readInline(part!.body.id))?.toString(), 'part one');
        assert.equal(await s.hasFileBlob('file-1'), true);
        // New bodies go to the body log (ids by position: segment, offset, length), beside the migrated ones.
        const v = await store.transaction((tx) => tx.s3.putObject(obj(b.id, 'k', { lastModified: 3000 }), Buffer.from('newest')));
        const newest = (await s.getObject(b.id, 'k', { withInline: true }))!;
        assert.equal(newest.inlineData?.toString(), 'newest');
        assert.match(newest.body.id, /^L\d{8}\.\d{11}\.6$/);
        assert.notEqual(v.versionId, 'null');
        assert.equal((await s.readInline(old.body.id))?.toString(), 'old version', 'the migrated bodies still read');
      } finally {
        await store.close();
      }
      const db = new Database(join(dir, 'metadata.sqlite'));
      try {
        const idx = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ('objects_body', 'parts_body', 'object_versions_body')").all() as Array<{ name: string; sql: string }>;
        assert.equal(idx.length, 3);
        for (const i of idx) assert.match(i.sql, /WHERE body_kind = 'file'/, i.name);
        const plan = (db.prepare("EXPLAIN QUERY PLAN SELECT 1 FROM objects WHERE body_id = ? AND body_kind = 'file'").all('x') as Array<{ detail: string }>).map((r) => r.detail).join('; ');
        assert.match(plan, /USING (COVERING )?INDEX objects_body/);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a data dir from before versioning opens with its objects as null versions, bodies intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-migrate-'));
    try {
      // The schema as it was before the versioning migration, with data in it.
      const raw = schemaBefore(dir, 'CREATE TABLE object_versions');
      raw.prepare("INSERT INTO buckets (name, region, created_at, owner_id) VALUES ('old', 'us-east-1', 1, 'acct')").run();
      const insert = raw.prepare(
        "INSERT INTO objects (bucket_id, key, size, etag, last_modified, storage_class, headers, checksum, body_kind, body_id, parts) VALUES (1, ?, 3, ?, 1000, 'STANDARD', '{}', NULL, ?, ?, NULL)",
      );
      insert.run('inline-key', '"i"', 'inline', 'body-i');
      insert.run('file-key', '"f"', 'file', 'body-f');
      raw.prepare("INSERT INTO inline_bodies (id, data) VALUES ('body-i', ?)").run(Buffer.from('old'));
      raw.close();

      const store = new SqliteMetadataStore(dir);
      try {
        const s = store.s3;
        const b = (await s.getBucket('old'))!;
        assert.equal(b.versioning, undefined);
        const i = (await s.getObject(b.id, 'inline-key'))!;
        assert.equal(i.versionId, 'null');
        // Later migrations leave old rows SSE-S3 and never restored.
        assert.deepEqual([i.sse, i.restore], [undefined, undefined]);
        assert.deepEqual(await s.readInline(i.body.id), Buffer.from('old'));
        assert.equal((await s.getVersion(b.id, 'file-key', 'null') as ObjectRecord).etag, '"f"');
        assert.equal(await s.hasFileBlob('body-f'), true);
        // Enabling versioning keeps them as the null version under new versions.
        await s.setBucketVersioning(b.id, 'Enabled');
        const v = await s.putObject(obj(b.id, 'inline-key', { lastModified: 2000 }), Buffer.from('new'));
        const page = await s.listVersions(b.id, { prefix: '', limit: 10 });
        assert.deepEqual(
          page.versions.map((x) => `${x.key}@${x.versionId}${x.isLatest ? '*' : ''}`),
          ['file-key@null*', `inline-key@${v.versionId}*`, 'inline-key@null'],
        );
        assert.deepEqual(await s.readInline(((await s.getVersion(b.id, 'inline-key', 'null')) as ObjectRecord).body.id), Buffer.from('old'));
        // Buckets from before Object Ownership say BucketOwnerEnforced, the way they behaved.
        assert.deepEqual(JSON.parse((await s.getBucketConfig(b.id, 'ownershipControls'))!), { ObjectOwnership: 'BucketOwnerEnforced' });
        assert.equal(await s.getObjectAttrs(b.id, 'file-key', 'null'), undefined);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const fsync of [false, true]) {
  // With --fsync small bodies are rows of inline_bodies instead of body-log ranges (body-log.ts).
  metadataContract(fsync ? 'sqlite --fsync' : 'sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-meta-'));
    const store = new SqliteMetadataStore(dir, { fsync });
    return {
      store,
      async dispose() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
