import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore, isCompound, type BlobReader } from '../../src/storage/blobs.js';

/**
 * Compound blobs (storage/blobs.ts): a multipart object's parts hard-linked into one folder
 * instead of copied. Read through one reader as the concatenation; the parts' own names can
 * go (and are never written over as spares); the compound outlives no reader and no crash.
 */
describe('compound blobs: parts linked, read as one', () => {
  let dir: string;
  let blobs: FileBlobStore;
  const MiB = 1024 * 1024;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nimbus-compound-'));
    blobs = new FileBlobStore(dir);
    blobs.init();
  });
  afterEach(async () => {
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function blob(body: Buffer): Promise<string> {
    const temp = await blobs.createTemp();
    await temp.handle.write(body);
    return blobs.commit(temp);
  }

  /** Reads [start, end] the way FileRange does: a read may return less, and the next goes on from there. */
  async function readRange(r: BlobReader, start: number, end: number): Promise<Buffer> {
    const out: Buffer[] = [];
    for (let pos = start; pos <= end; ) {
      const want = Math.min(1 + Math.floor(Math.random() * 3 * MiB), end - pos + 1);
      const { bytesRead, buffer } = await r.read(Buffer.alloc(want), 0, want, pos);
      if (bytesRead === 0) break;
      out.push(buffer.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return Buffer.concat(out);
  }

  it('reads as the concatenation of its parts, over any range and across every boundary', async () => {
    const a = randomBytes(5 * MiB + 7);
    const b = randomBytes(5 * MiB);
    const c = randomBytes(1000); // a small last part, given as bytes (the body log's)
    const id = await blobs.compose([{ id: await blob(a) }, { id: await blob(b) }, { data: c }]);
    assert.ok(isCompound(id));
    const whole = Buffer.concat([a, b, c]);
    const r = await blobs.openRead(id);
    try {
      assert.ok((await readRange(r, 0, whole.length - 1)).equals(whole));
      for (const [s, e] of [
        [a.length - 10, a.length + 10],
        [a.length + b.length - 1, whole.length - 1],
        [0, 0],
        [whole.length - 1, whole.length - 1],
      ] as const) {
        assert.ok((await readRange(r, s, e)).equals(whole.subarray(s, e + 1)), `range ${s}-${e}`);
      }
      for (let i = 0; i < 20; i++) {
        const s = Math.floor(Math.random() * whole.length);
        const e = Math.min(whole.length - 1, s + Math.floor(Math.random() * 4 * MiB));
        assert.ok((await readRange(r, s, e)).equals(whole.subarray(s, e + 1)), `range ${s}-${e}`);
      }
      const past = await r.read(Buffer.alloc(10), 0, 10, whole.length);
      assert.equal(past.bytesRead, 0, 'nothing past the end');
    } finally {
      await r.close();
    }
  });

  it('the parts can be removed after: the compound keeps their bytes, and they are never kept as spares to write over', async () => {
    const a = randomBytes(3 * MiB);
    const b = randomBytes(2 * MiB);
    const ia = await blob(a);
    const ib = await blob(b);
    const id = await blobs.compose([{ id: ia }, { id: ib }]);
    await blobs.remove(ia);
    await blobs.remove(ib);
    assert.equal(blobs.spareCount(), 0, 'linked files are unlinked, not kept for reuse');
    assert.equal(existsSync(blobs.path(ia)), false);
    // A new large upload takes no spare, so it cannot land in the compound's files.
    const temp = await blobs.createTemp(3 * MiB);
    assert.equal(temp.reused, false);
    await blobs.discard(temp);
    const r = await blobs.openRead(id);
    assert.ok((await readRange(r, 0, a.length + b.length - 1)).equals(Buffer.concat([a, b])));
    await r.close();
    for (const f of readdirSync(blobs.path(id))) assert.equal(statSync(join(blobs.path(id), f)).nlink, 1);
  });

  it('removed while read: the reader gets every byte, and the folder goes when it closes', async () => {
    const a = randomBytes(2 * MiB);
    const b = randomBytes(2 * MiB);
    const id = await blobs.compose([{ data: a }, { data: b }]);
    const r = await blobs.openRead(id);
    const first = await readRange(r, 0, MiB - 1);
    await blobs.remove(id);
    assert.ok(existsSync(blobs.path(id)), 'kept while a reader has it');
    const rest = await readRange(r, MiB, 4 * MiB - 1);
    assert.ok(Buffer.concat([first, rest]).equals(Buffer.concat([a, b])));
    await r.close();
    for (let i = 0; i < 100 && existsSync(blobs.path(id)); i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(existsSync(blobs.path(id)), false, 'deleted once the last reader closed');
  });

  it('a read that starts while it is being deleted fails with ENOENT (GET then reads the metadata again)', async () => {
    const id = await blobs.compose([{ data: randomBytes(MiB) }, { data: randomBytes(MiB) }]);
    const removing = blobs.remove(id);
    await assert.rejects(blobs.openRead(id), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    await removing;
    assert.equal(existsSync(blobs.path(id)), false);
  });

  it('a compound no row names is swept like any orphan, and a half-made one in tmp/ goes at start-up', async () => {
    const id = await blobs.compose([{ data: randomBytes(100) }, { data: randomBytes(100) }]);
    assert.equal(await blobs.sweepOrphans(async () => false, Date.now() + 1000), 1);
    assert.equal(existsSync(blobs.path(id)), false);
    // A compose that died half-way leaves its folder in tmp/ only.
    const again = new FileBlobStore(dir);
    again.init();
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
