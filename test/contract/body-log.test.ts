import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyLog, isLogId, logId, parseLogId, segmentRange } from '../../src/storage/body-log.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite.js';
import type { ObjectRecord, PartRecord } from '../../src/storage/metadata.js';

/**
 * The body log (src/storage/body-log.ts): small bodies appended to segment files, written
 * before the COMMIT that names them, and their space reclaimed by segment.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nimbus-bodylog-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const segmentFile = (root: string, n: number) => join(root, `${String(n).padStart(8, '0')}.log`);

describe('body log ids', () => {
  it('name a segment, an offset and a length, and sort by position', () => {
    const ids = [
      { segment: 1, offset: 0, length: 4096 },
      { segment: 1, offset: 4096, length: 5 },
      { segment: 1, offset: 10_000_000, length: 65536 },
      { segment: 2, offset: 0, length: 0 },
      { segment: 12, offset: 7, length: 1 },
    ].map((p) => {
      const id = logId(p);
      assert.ok(isLogId(id));
      assert.deepEqual(parseLogId(id), p);
      return id;
    });
    assert.deepEqual([...ids].sort(), ids, 'text order is position order');
    const [lo, hi] = segmentRange(1);
    assert.deepEqual(
      ids.filter((id) => id >= lo && id < hi),
      ids.slice(0, 3),
      'a segment is one range of ids',
    );
  });

  it('anything else is not a log id', () => {
    for (const id of ['', '12', 'L', 'L1.2.3', 'Lxxxxxxxx.00000000000.1', 'L00000001-00000000000.1', 'L00000001.00000000000.']) {
      assert.equal(parseLogId(id), undefined, JSON.stringify(id));
    }
    assert.equal(isLogId('123'), false);
  });
});

describe('BodyLog', () => {
  it('queued bodies read back before and after they are written; the segment holds them at their offsets', () => {
    const bl = new BodyLog(dir);
    try {
      const a = bl.append(Buffer.from('alpha'));
      const b = bl.append(Buffer.from('bravo!'));
      assert.equal(bl.read(a)?.toString(), 'alpha', 'queued');
      assert.deepEqual(readdirSync(dir), ['00000001.log']);
      assert.equal(readFileSync(segmentFile(dir, 1)).length, 0, 'nothing written before flush');
      bl.flush();
      assert.equal(readFileSync(segmentFile(dir, 1)).toString(), 'alphabravo!');
      assert.equal(bl.read(b)?.toString(), 'bravo!');
      assert.deepEqual(parseLogId(b), { segment: 1, offset: 5, length: 6 });
      const empty = bl.append(Buffer.alloc(0));
      bl.flush();
      assert.equal(bl.read(empty)?.length, 0);
    } finally {
      bl.close();
    }
  });

  it('a body never straddles segments: past segmentBytes the next one starts', () => {
    const bl = new BodyLog(dir, { segmentBytes: 10 });
    try {
      const ids = ['1234', '5678', '90ab', 'a-body-larger-than-a-segment', 'x'].map((s) => bl.append(Buffer.from(s)));
      bl.flush();
      assert.deepEqual(
        ids.map((id) => parseLogId(id)!.segment),
        [1, 1, 2, 3, 4],
      );
      assert.deepEqual(
        ids.map((id) => bl.read(id)!.toString()),
        ['1234', '5678', '90ab', 'a-body-larger-than-a-segment', 'x'],
      );
      assert.equal(readFileSync(segmentFile(dir, 1)).toString(), '12345678');
    } finally {
      bl.close();
    }
  });

  it('a new process appends to a new segment and still reads the old ones', () => {
    const first = new BodyLog(dir);
    const old = first.append(Buffer.from('from before'));
    first.flush();
    first.close();
    const second = new BodyLog(dir);
    try {
      assert.equal(second.read(old)?.toString(), 'from before');
      const fresh = second.append(Buffer.from('new'));
      assert.equal(parseLogId(fresh)!.segment, 2);
      assert.deepEqual(second.candidates(), [1], 'the old segment is measured once');
    } finally {
      second.close();
    }
  });

  it('an id into a segment that does not exist reads as absent', () => {
    const bl = new BodyLog(dir);
    try {
      assert.equal(bl.read(logId({ segment: 9, offset: 0, length: 3 })), undefined);
      assert.equal(bl.read('17'), undefined);
    } finally {
      bl.close();
    }
  });
});

describe('SqliteMetadataStore with the body log', () => {
  let store: SqliteMetadataStore;
  let bucketId: number;
  let seq = 0;
  /** Segments of 64 bytes: 16-byte bodies, four a segment. */
  const open = () => new SqliteMetadataStore(dir, { logSegmentBytes: 64, compactEveryMs: 0 });

  beforeEach(async () => {
    store = open();
    bucketId = (await store.transaction((tx) => tx.s3.createBucket({ name: 'b', region: 'us-east-1', createdAt: 1, ownerId: 'o' }))).id;
  });
  afterEach(async () => {
    await store.close();
  });

  const rec = (key: string, lastModified = 1_700_000_000_000 + ++seq): ObjectRecord => ({
    bucketId,
    key,
    size: 16,
    etag: `"${key}"`,
    lastModified,
    storageClass: 'STANDARD',
    headers: {},
    body: { kind: 'inline', id: '' },
    versionId: 'null',
  });
  const body = (key: string) => Buffer.from(key.padEnd(16, '.'));
  const put = (key: string) => store.transaction((tx) => tx.s3.putObject(rec(key), body(key)));
  const current = async (key: string) => (await store.s3.getObject(bucketId, key, { withInline: true }))!;
  const segmentOf = async (key: string) => parseLogId((await current(key)).body.id)!.segment;
  const bodiesDir = () => join(dir, 'bodies');

  it('a write batch is in the log before its COMMIT: one segment write for many writes', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    await Promise.all(keys.map(put));
    for (const k of keys) assert.equal((await current(k)).inlineData?.toString(), body(k).toString(), k);
    assert.deepEqual(readdirSync(bodiesDir()).sort(), ['00000001.log', '00000002.log', '00000003.log']);
    assert.equal(
      readdirSync(bodiesDir())
        .map((f) => readFileSync(join(bodiesDir(), f)).toString())
        .join(''),
      keys.map((k) => body(k).toString()).join(''),
    );
  });

  it('a batch whose bodies cannot be written commits nothing and rejects every write of it', async () => {
    await put('before');
    const log = (store as unknown as { bodyLog: BodyLog }).bodyLog;
    const flush = log.flush.bind(log);
    log.flush = () => {
      log.flush = flush;
      flush(); // the bytes reach the file, but the batch must still not commit
      throw new Error('ENOSPC: no space left on device');
    };
    const results = await Promise.allSettled(['x1', 'x2', 'x3'].map(put));
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    for (const k of ['x1', 'x2', 'x3']) assert.equal(await store.s3.getObject(bucketId, k), undefined, k);
    await put('after');
    assert.equal((await current('after')).inlineData?.toString(), body('after').toString());
    assert.equal((await current('before')).inlineData?.toString(), body('before').toString());
  });

  it('a deleted or replaced body no longer reads by its id', async () => {
    await put('k');
    const first = (await current('k')).body.id;
    await put('k');
    assert.equal(await store.s3.readInline(first), undefined, 'replaced');
    const second = (await current('k')).body.id;
    assert.equal((await store.s3.readInline(second))?.toString(), body('k').toString());
    await store.transaction((tx) => tx.s3.deleteObject(bucketId, 'k'));
    assert.equal(await store.s3.readInline(second), undefined, 'deleted');
  });

  it('reclaiming: the live bodies of a segment at most half alive move (objects, versions, parts), then it goes', async () => {
    // Segment 1: four objects, then three deleted. Segment 2: a key's first version, a part,
    // two objects deleted for good later: half alive. Segment 3: the key's second version and
    // three objects, all alive: kept.
    for (const k of ['a', 'b', 'c', 'keep']) await put(k);
    await store.transaction((tx) => tx.s3.setBucketVersioning(bucketId, 'Enabled'));
    await store.transaction((tx) => tx.s3.putObject(rec('v'), body('v-one')));
    await store.transaction((tx) => tx.s3.createUpload({ uploadId: 'u1', bucketId, key: 'm', initiated: 1, storageClass: 'STANDARD', headers: {} }));
    const part: PartRecord = { uploadId: 'u1', partNumber: 1, size: 16, etag: '"p"', lastModified: 1, body: { kind: 'inline', id: '' } };
    await store.transaction((tx) => tx.s3.putPart(part, body('part-one')));
    const d1 = await put('d1');
    const d2 = await put('d2');
    await store.transaction((tx) => tx.s3.putObject(rec('v'), body('v-two')));
    for (const k of ['s3a', 's3b', 's3c']) await put(k);
    assert.deepEqual(await Promise.all(['keep', 'd2', 'v', 's3c'].map(segmentOf)), [1, 2, 3, 3]);
    await store.transaction(async (tx) => {
      for (const k of ['a', 'b', 'c']) assert.ok(await tx.s3.deleteVersion(bucketId, k, 'null'), k);
      assert.ok(await tx.s3.deleteVersion(bucketId, 'd1', d1.versionId));
      assert.ok(await tx.s3.deleteVersion(bucketId, 'd2', d2.versionId));
    });
    const old = { keep: (await current('keep')).body.id, part: (await store.s3.listParts('u1', { limit: 10 }))[0]!.body.id };

    await store.compactBodyLog();
    const stats = new Map(store.bodyLogStats().map((s) => [s.segment, s]));
    assert.equal(stats.get(1)?.retiring, true, 'segment 1 (a quarter alive) is reclaimed');
    assert.equal(stats.get(2)?.retiring, true, 'segment 2 (half alive) is reclaimed');
    assert.equal(stats.get(3)?.retiring, false, 'segment 3 (all alive) stays');
    assert.deepEqual([stats.get(1)?.dead, stats.get(2)?.dead, stats.get(3)?.dead], [48, 32, 0]);

    // Every live body reads under its new id, in a segment written after the reclaimed ones.
    assert.equal((await current('keep')).inlineData?.toString(), body('keep').toString());
    assert.ok((await segmentOf('keep')) > 3, 'keep moved');
    const versions = (await store.s3.listVersions(bucketId, { prefix: 'v', limit: 10 })).versions as ObjectRecord[];
    assert.deepEqual(
      (await Promise.all(versions.map((v) => store.s3.readInline(v.body.id)))).map((b) => b?.toString()),
      [body('v-two').toString(), body('v-one').toString()],
    );
    assert.ok(parseLogId(versions[1]!.body.id)!.segment > 3, 'the noncurrent version moved');
    const [movedPart] = await store.s3.listParts('u1', { limit: 10 });
    assert.notEqual(movedPart!.body.id, old.part);
    assert.equal((await store.s3.readInline(movedPart!.body.id))?.toString(), body('part-one').toString());
    // A request that read an id before it moved still reads it, until the segment is deleted.
    assert.equal((await store.s3.readInline(old.keep))?.toString(), body('keep').toString());
    assert.ok(existsSync(segmentFile(bodiesDir(), 1)));
    assert.equal(await store.sweepBodyLog(), 2);
    assert.equal(existsSync(segmentFile(bodiesDir(), 1)), false);
    assert.equal(existsSync(segmentFile(bodiesDir(), 2)), false);
    assert.equal(await store.s3.readInline(old.keep), undefined);
    assert.equal((await current('s3c')).inlineData?.toString(), body('s3c').toString(), 'the kept segment still reads');
    // A second pass finds nothing to do.
    await store.compactBodyLog();
    assert.deepEqual(store.bodyLogStats().filter((s) => s.retiring), []);
  });

  it('a segment whose bodies were all deleted goes in the same pass (nothing moved: no id into it reads)', async () => {
    for (const k of ['a', 'b', 'c', 'd', 'e']) await put(k);
    const ids = await Promise.all(['a', 'b'].map(async (k) => (await current(k)).body.id));
    for (const k of ['a', 'b', 'c', 'd']) await store.transaction((tx) => tx.s3.deleteObject(bucketId, k));
    await store.compactBodyLog();
    assert.equal(existsSync(segmentFile(bodiesDir(), 1)), false);
    assert.deepEqual(
      store.bodyLogStats().map((s) => s.segment),
      [2],
    );
    for (const id of ids) assert.equal(await store.s3.readInline(id), undefined);
    assert.equal((await current('e')).inlineData?.toString(), body('e').toString());
  });

  it('after a restart, garbage from before it is measured and reclaimed, and everything live still reads', async () => {
    for (const k of ['a', 'b', 'c', 'd', 'e']) await put(k);
    for (const k of ['a', 'b', 'c']) await store.transaction((tx) => tx.s3.deleteObject(bucketId, k));
    await store.close();
    store = open();
    assert.deepEqual(
      store.bodyLogStats().map((s) => [s.segment, s.dead]),
      [
        [1, 0],
        [2, 0],
      ],
      'a new process knows nothing of what died before it',
    );
    await put('f');
    assert.equal(await segmentOf('f'), 3, 'a new process writes a segment of its own');
    await store.compactBodyLog();
    const stats = new Map(store.bodyLogStats().map((s) => [s.segment, s]));
    assert.equal(stats.get(1)?.retiring, true, 'segment 1: only d alive');
    assert.equal(stats.get(1)?.dead, 48);
    assert.equal(stats.get(2)?.retiring, false, 'segment 2: e, all of it alive');
    await store.sweepBodyLog();
    for (const k of ['d', 'e', 'f']) assert.equal((await current(k)).inlineData?.toString(), body(k).toString(), k);
    for (const k of ['a', 'b', 'c']) assert.equal(await store.s3.getObject(bucketId, k), undefined, k);
  });

  it('with fsync, new small bodies are SQLite rows (one sync a batch); log bodies from before read, and move to rows', async () => {
    for (const k of ['a', 'b', 'c', 'd']) await put(k);
    await store.transaction((tx) => tx.s3.deleteObject(bucketId, 'a'));
    await store.transaction((tx) => tx.s3.deleteObject(bucketId, 'b'));
    await store.close();
    store = new SqliteMetadataStore(dir, { fsync: true, logSegmentBytes: 64, compactEveryMs: 0 });
    await Promise.all(['p', 'q'].map(put));
    for (const k of ['p', 'q']) {
      const r = await current(k);
      assert.match(r.body.id, /^\d+$/, `${k}: a row id`);
      assert.equal(r.inlineData?.toString(), body(k).toString());
    }
    assert.deepEqual(readdirSync(bodiesDir()), ['00000001.log'], 'no segment written with fsync');
    assert.equal((await current('c')).inlineData?.toString(), body('c').toString(), 'a log body from before');
    // Segment 1 is half alive (c, d): reclaiming moves them into rows.
    await store.compactBodyLog();
    for (const k of ['c', 'd']) {
      const r = await current(k);
      assert.match(r.body.id, /^\d+$/, `${k}: moved to a row`);
      assert.equal(r.inlineData?.toString(), body(k).toString());
    }
    await store.sweepBodyLog();
    assert.deepEqual(readdirSync(bodiesDir()), []);
    // Replacing a row body frees its row.
    const old = (await current('p')).body.id;
    await put('p');
    assert.equal(await store.s3.readInline(old), undefined);
  });
});
