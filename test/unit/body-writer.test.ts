import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { OFF_THREAD_MIN, receiveBody } from '../../src/services/s3/body-writer.js';
import { FileBlobStore } from '../../src/storage/blobs.js';
import { ServiceError } from '../../src/protocol/errors.js';

/**
 * Large bodies are hashed in a worker thread (util/md5-worker.ts) from shared batches that
 * are also written to the temp file: the ETag, the checksums and the stored bytes must be
 * exactly those of the inline path, for pieces of any size and bodies not a multiple of a batch.
 */
describe('receiveBody for large bodies (MD5 off the main thread)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-body-'));
  const blobs = new FileBlobStore(dir);
  blobs.init();
  after(() => rmSync(dir, { recursive: true, force: true }));

  const data = randomBytes(OFF_THREAD_MIN + 3 * 1024 * 1024 + 12345);
  async function* pieces(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
    let i = 0;
    for (let off = 0; off < buf.length; i++) {
      const n = sizes[i % sizes.length]!;
      yield buf.subarray(off, off + n);
      off += n;
    }
  }
  const md5 = createHash('md5').update(data).digest();
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data));

  it('gives the MD5, checksum, size and file bytes of the inline path, whatever the piece sizes', async () => {
    for (const sizes of [[65536], [1, 65535, 3], [1048576], [7, 1048577, 3000, 65536], [data.length]]) {
      const r = await receiveBody(pieces(data, sizes), blobs, 65536, { sizeHint: data.length, checksumAlgorithm: 'CRC32' });
      const expected = data;
      assert.equal(r.size, expected.length);
      assert.equal(r.md5Hex, createHash('md5').update(expected).digest('hex'));
      const c = Buffer.alloc(4);
      c.writeUInt32BE(crc32(expected));
      assert.deepEqual(r.checksum, { algorithm: 'CRC32', value: c.toString('base64') });
      assert.ok(r.temp && !r.inline);
      await r.temp.handle.close();
      assert.ok(readFileSync(r.temp.path).equals(expected));
      await blobs.discard(r.temp);
    }
  });

  it('checks Content-MD5 and the sent checksum (BadDigest), and the size limit (EntityTooLarge)', async () => {
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    await assert.rejects(receiveBody(pieces(data, [65536]), blobs, 65536, { sizeHint: data.length, contentMd5: wrongMd5 }), (e) => e instanceof ServiceError && e.code === 'BadDigest');
    await assert.rejects(
      receiveBody(pieces(data, [65536]), blobs, 65536, { sizeHint: data.length, checksumAlgorithm: 'CRC32', checksumValue: () => 'AAAAAA==' }),
      (e) => e instanceof ServiceError && e.code === 'BadDigest',
    );
    await assert.rejects(receiveBody(pieces(data, [65536]), blobs, 65536, { sizeHint: data.length }, OFF_THREAD_MIN), (e) => e instanceof ServiceError && e.code === 'EntityTooLarge');
    const ok = await receiveBody(pieces(data, [65536]), blobs, 65536, { sizeHint: data.length, contentMd5: md5.toString('base64'), checksumAlgorithm: 'CRC32', checksumValue: () => crc.toString('base64') });
    assert.equal(ok.md5Hex, md5.toString('hex'));
    await blobs.discard(ok.temp!);
  });

  it('md5: false (a multipart object concatenated from its parts) skips the MD5 and stores the same bytes, on both paths', async () => {
    for (const sizeHint of [data.length, undefined]) {
      const r = await receiveBody(pieces(data, [65536, 1048576]), blobs, 65536, { sizeHint, md5: false, checksumAlgorithm: 'CRC32' });
      assert.equal(r.md5Hex, '');
      assert.equal(r.size, data.length);
      assert.deepEqual(r.checksum, { algorithm: 'CRC32', value: crc.toString('base64') });
      await r.temp!.handle.close();
      assert.ok(readFileSync(r.temp!.path).equals(data));
      await blobs.discard(r.temp!);
    }
  });

  it('a source that fails midway leaves no temp file and the next body is still right', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield data.subarray(0, 3 * 1048576);
      throw new Error('client went away');
    }
    await assert.rejects(receiveBody(failing(), blobs, 65536, { sizeHint: data.length }), /client went away/);
    const r = await receiveBody(pieces(data, [65536]), blobs, 65536, { sizeHint: data.length });
    assert.equal(r.md5Hex, md5.toString('hex'));
    await blobs.discard(r.temp!);
  });
});
