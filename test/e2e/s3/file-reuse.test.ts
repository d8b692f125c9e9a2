import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';

/**
 * Large files freed by overwrites and deletes are written over by the next large upload
 * (storage/blobs.ts). Seen from a client with default settings, nothing of that may show:
 * every GET returns exactly the last PUT's bytes, and a GET that was streaming the old
 * object when it was replaced still gets the old bytes to the end.
 */
let server: TestServer;
let s3: S3Client;
const bucket = 'reuse';
const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

async function put(key: string, body: Buffer): Promise<void> {
  const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  assert.equal(r.ETag, `"${md5(body)}"`);
}

async function get(key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const spares = () => readdirSync(join(server.dataDir, 'tmp')).filter((f) => f.startsWith('spare-'));

describe('S3: large files reused after overwrites and deletes', () => {
  it('every GET returns exactly the bytes of the last PUT, shorter or longer than the file it reused', async () => {
    const a1 = randomBytes(9 * MiB);
    const a2 = randomBytes(3 * MiB);
    const b = randomBytes(2 * MiB + 333);
    const c = randomBytes(5 * MiB + 1);
    await put('a', a1);
    await put('a', a2); // frees a1's 9 MiB file
    assert.equal(spares().length, 1, 'the freed file is kept for reuse');
    await put('b', b); // written over a1's file, cut to its size
    assert.equal(spares().length, 0);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' })); // frees a2's 3 MiB file
    await put('c', c); // longer than the 3 MiB file it takes
    for (const [key, body] of [
      ['b', b],
      ['c', c],
    ] as const) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ContentLength, body.length);
      const got = await get(key);
      assert.equal(got.length, body.length);
      assert.ok(got.equals(body), `${key}: the bytes of its own PUT`);
    }
    await assert.rejects(get('a'), (e: Error) => e.name === 'NoSuchKey');
  });

  it('a GET streaming an object while it is replaced, and its file would be reused, gets the old bytes to the end', async () => {
    const old = randomBytes(24 * MiB);
    await put('streamed', old);
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed' }));
    const stream = r.Body as Readable;
    const parts: Buffer[] = [];
    // Take the first piece, then stop reading: the rest waits in the server's file.
    const first = await new Promise<Buffer>((resolve, reject) => {
      stream.once('data', (d: Buffer) => {
        stream.pause();
        resolve(d);
      });
      stream.once('error', reject);
    });
    parts.push(first);
    const replacement = randomBytes(24 * MiB);
    const other = randomBytes(24 * MiB);
    await put('streamed', replacement); // frees the file the GET is reading
    await put('other', other); // a large upload that would take a kept file
    for await (const d of stream) parts.push(d as Buffer);
    const got = Buffer.concat(parts);
    assert.equal(got.length, old.length);
    assert.ok(got.equals(old), 'the GET that began before the overwrite returns the old object, whole');
    assert.ok((await get('streamed')).equals(replacement));
    assert.ok((await get('other')).equals(other));
  });

  it('kept files are deleted when the server stops', async () => {
    await put('d', randomBytes(2 * MiB));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'd' }));
    assert.ok(spares().length >= 1);
    assert.equal(await server.stop(), 0);
    assert.deepEqual(spares(), []);
  });
});
