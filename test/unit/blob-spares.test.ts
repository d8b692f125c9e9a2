import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore, type TempBlob } from '../../src/storage/blobs.js';

/**
 * Freed large blob files are kept a few seconds and written over by the next large upload
 * (storage/blobs.ts). What must hold: a reused file holds exactly the new body (no tail of the
 * old one), a file someone is reading is never reused, small files and files over the limits
 * are unlinked as before, and kept files go after their time and at close.
 */
describe('blob files freed by overwrites and deletes are reused, safely', () => {
  let dir: string;
  let blobs: FileBlobStore;
  const MiB = 1024 * 1024;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nimbus-spares-'));
    blobs = new FileBlobStore(dir, false, 200);
    blobs.init();
  });
  afterEach(async () => {
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function write(temp: TempBlob, body: Buffer): Promise<string> {
    await temp.handle.write(body);
    temp.size = body.length;
    return blobs.commit(temp);
  }
  /** A stored blob, written to a new file (no size hint: no spare taken). */
  async function blob(body: Buffer): Promise<string> {
    return write(await blobs.createTemp(), body);
  }
  const tmpFiles = () => readdirSync(join(dir, 'tmp'));

  it('a freed large file is written over by the next large upload and cut to its size', async () => {
    const old = randomBytes(3 * MiB);
    const id = await blob(old);
    await blobs.remove(id);
    assert.equal(blobs.spareCount(), 1);
    assert.equal(existsSync(blobs.path(id)), false, 'the freed blob is gone from blobs/');
    const temp = await blobs.createTemp(2 * MiB);
    assert.equal(temp.reused, true);
    assert.equal(blobs.spareCount(), 0);
    const body = randomBytes(2 * MiB + 17);
    const id2 = await write(temp, body);
    assert.equal(statSync(blobs.path(id2)).size, body.length);
    assert.ok(readFileSync(blobs.path(id2)).equals(body), 'exactly the new bytes, none of the old tail');
    assert.deepEqual(tmpFiles(), []);
  });

  it('a reused file committed without its size is refused, not stored with the old tail', async () => {
    await blobs.remove(await blob(randomBytes(2 * MiB)));
    const temp = await blobs.createTemp(2 * MiB);
    assert.equal(temp.reused, true);
    await temp.handle.write(Buffer.from('short'));
    await assert.rejects(blobs.commit(temp), /without its size/);
    await blobs.discard(temp);
    assert.deepEqual(tmpFiles(), []);
  });

  it('a file being read is not reused: the reader gets the old bytes to the end', async () => {
    const old = randomBytes(4 * MiB);
    const id = await blob(old);
    const reader = await blobs.openRead(id);
    await blobs.remove(id);
    assert.equal(blobs.spareCount(), 0, 'not kept while a reader has it open');
    // A new large upload gets a new file; the reader's file is untouched by it.
    const temp = await blobs.createTemp(4 * MiB);
    assert.equal(temp.reused, false);
    await write(temp, Buffer.alloc(4 * MiB, 0x55));
    const got = Buffer.alloc(old.length);
    const { bytesRead } = await reader.read(got, 0, got.length, 0);
    assert.equal(bytesRead, old.length);
    assert.ok(got.equals(old));
    await reader.close();
  });

  it('a read that starts while the file is being moved stops its reuse', async () => {
    const old = randomBytes(2 * MiB);
    const id = await blob(old);
    const removing = blobs.remove(id);
    // Opened in the same turn as the remove began: it may open the file before the rename.
    const reading = blobs.openRead(id).then(
      (h) => h,
      () => undefined,
    );
    await removing;
    const h = await reading;
    if (h) {
      assert.equal(blobs.spareCount(), 0, 'a reader got the file: it must not be kept for reuse');
      const got = Buffer.alloc(old.length);
      await h.read(got, 0, got.length, 0);
      assert.ok(got.equals(old));
      await h.close();
    } else {
      // The open came after the move: ENOENT, as with an unlink (GET then re-reads the metadata).
      assert.equal(existsSync(blobs.path(id)), false);
    }
  });

  it('once the reader closes, the next freed file is kept again', async () => {
    const id = await blob(randomBytes(2 * MiB));
    const h = await blobs.openRead(id);
    await h.close();
    await blobs.remove(id);
    assert.equal(blobs.spareCount(), 1);
  });

  it('small files, small uploads and files past the limits are not kept', async () => {
    await blobs.remove(await blob(randomBytes(512 * 1024)));
    assert.equal(blobs.spareCount(), 0, 'under 1 MiB: unlinked');
    await blobs.remove(await blob(randomBytes(MiB)));
    assert.equal(blobs.spareCount(), 1);
    const small = await blobs.createTemp(100 * 1024);
    assert.equal(small.reused, false, 'an upload under 1 MiB does not take a large spare');
    await blobs.discard(small);
    const unknown = await blobs.createTemp();
    assert.equal(unknown.reused, false, 'nor one of unknown size');
    await blobs.discard(unknown);
    await blobs.remove(await blob(randomBytes(MiB)));
    await blobs.remove(await blob(randomBytes(MiB)));
    assert.equal(blobs.spareCount(), 2, 'at most two kept');
    assert.equal(tmpFiles().length, 2);
  });

  it('removals at the same time keep no more than the limit', async () => {
    const ids = await Promise.all([1, 2, 3, 4].map(() => blob(randomBytes(MiB))));
    await Promise.all(ids.map((id) => blobs.remove(id)));
    assert.equal(blobs.spareCount(), 2);
    assert.equal(tmpFiles().length, 2);
    for (const id of ids) assert.equal(existsSync(blobs.path(id)), false);
  });

  it('the best-fitting spare is taken: the smallest that is large enough', async () => {
    await blobs.remove(await blob(Buffer.alloc(5 * MiB, 1)));
    await blobs.remove(await blob(Buffer.alloc(2 * MiB, 2)));
    const t = await blobs.createTemp(Math.floor(1.5 * MiB));
    assert.equal(t.reused, true);
    assert.equal((await t.handle.stat()).size, 2 * MiB);
    await blobs.discard(t);
    const u = await blobs.createTemp(8 * MiB);
    assert.equal((await u.handle.stat()).size, 5 * MiB, 'none large enough: the largest');
    await blobs.discard(u);
  });

  it('kept files are deleted after their time, and at close', async () => {
    await blobs.remove(await blob(randomBytes(MiB)));
    assert.equal(tmpFiles().length, 1);
    // Kept 200 ms here; the unlink then runs in the thread pool.
    for (const until = Date.now() + 5000; (blobs.spareCount() || tmpFiles().length) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    assert.equal(blobs.spareCount(), 0);
    assert.deepEqual(tmpFiles(), []);
    await blobs.remove(await blob(randomBytes(MiB)));
    assert.equal(tmpFiles().length, 1);
    await blobs.close();
    assert.deepEqual(tmpFiles(), []);
  });

  it('start-up clears spares a crash left', async () => {
    await blobs.remove(await blob(randomBytes(MiB)));
    assert.equal(tmpFiles().length, 1);
    const again = new FileBlobStore(dir);
    again.init();
    assert.deepEqual(tmpFiles(), []);
    assert.equal(again.spareCount(), 0);
  });
});
