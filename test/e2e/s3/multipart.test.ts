import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  S3Client,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListPartsCommand,
  ListMultipartUploadsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  CopyObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { aws, requireAwsCli } from '../../helpers/python.js';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Multipart upload with @aws-sdk/client-s3 and the AWS CLI's automatic multipart. */
let server: TestServer;
let s3: S3Client;
const MiB = 1024 * 1024;

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

function md5(b: Buffer): Buffer {
  return createHash('md5').update(b).digest();
}

async function fails(p: Promise<unknown>, name: string, status: number): Promise<void> {
  await assert.rejects(p, (e: S3ServiceException) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata.httpStatusCode, status);
    return true;
  });
}

describe('multipart upload', () => {
  it('uploads parts, lists them, completes with the md5-of-md5s ETag, and serves parts by number', async () => {
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(1234);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'big/file.bin', ContentType: 'application/x-big', Metadata: { k: 'v' } }));
    assert.ok(UploadId);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId]), [['big/file.bin', UploadId]]);
    const r1 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'big/file.bin', UploadId, PartNumber: 1, Body: p1 }));
    const r2 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'big/file.bin', UploadId, PartNumber: 2, Body: p2 }));
    assert.equal(r1.ETag, `"${md5(p1).toString('hex')}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'big/file.bin', UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [
      [1, p1.length, r1.ETag],
      [2, p2.length, r2.ETag],
    ]);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'big/file.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }] },
      }),
    );
    const expected = `"${createHash('md5').update(Buffer.concat([md5(p1), md5(p2)])).digest('hex')}-2"`;
    assert.equal(done.ETag, expected);
    const get = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/file.bin' }));
    assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2])));
    assert.equal(get.ETag, expected);
    assert.equal(get.ContentType, 'application/x-big');
    assert.equal(get.Metadata?.k, 'v');
    const part2 = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/file.bin', PartNumber: 2 }));
    assert.equal(part2.PartsCount, 2);
    assert.equal(part2.ContentRange, `bytes ${p1.length}-${p1.length + p2.length - 1}/${p1.length + p2.length}`);
    assert.ok(Buffer.from(await part2.Body!.transformToByteArray()).equals(p2));
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    assert.equal(after.Uploads, undefined, 'a completed upload is gone');
  });

  it('Complete links the parts instead of copying them: one copy of the bytes on disk, and ranges across parts are exact', async () => {
    const key = 'linked.bin';
    const parts = [randomBytes(5 * MiB + 11), randomBytes(5 * MiB), randomBytes(3000)];
    const whole = Buffer.concat(parts);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: key }));
    const done = [];
    for (let i = 0; i < parts.length; i++) {
      const r = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    const blobBytes = () => {
      let n = 0;
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name));
          else n += statSync(join(d, e.name)).size;
        }
      };
      walk(join(server.dataDir, 'blobs'));
      return n;
    };
    const before = blobBytes();
    const c = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: key, UploadId, MultipartUpload: { Parts: done } }));
    const md5s = createHash('md5');
    for (const p of parts) md5s.update(createHash('md5').update(p).digest());
    assert.equal(c.ETag, `"${md5s.digest('hex')}-3"`);
    // The parts' files became the object's (the 3000-byte last part was in the body log: written out once).
    assert.equal(blobBytes() - before, parts[2]!.length, 'no copy of the parts was written');
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: key }))).Body!.transformToByteArray());
    assert.ok(got.equals(whole));
    for (const [s, e] of [
      [parts[0]!.length - 5, parts[0]!.length + 5],
      [parts[0]!.length + parts[1]!.length - 1, whole.length - 1],
      [1, whole.length - 2],
    ] as const) {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: key, Range: `bytes=${s}-${e}` }));
      assert.ok(Buffer.from(await r.Body!.transformToByteArray()).equals(whole.subarray(s, e + 1)), `bytes=${s}-${e}`);
    }
    const p2 = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: key, PartNumber: 2 }));
    assert.ok(Buffer.from(await p2.Body!.transformToByteArray()).equals(parts[1]!));
    // Copies read it like a file: UploadPartCopy of a range across a boundary, and CopyObject.
    const from = parts[0]!.length - 100;
    const to = parts[0]!.length + parts[1]!.length + 99;
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'copied.bin' }));
    const pc = await s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copied.bin', UploadId: up.UploadId, PartNumber: 1, CopySource: `mpu/${key}`, CopySourceRange: `bytes=${from}-${to}` }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'copied.bin', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: pc.CopyPartResult!.ETag }] } }));
    const copied = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'copied.bin' }));
    assert.ok(Buffer.from(await copied.Body!.transformToByteArray()).equals(whole.subarray(from, to + 1)), 'UploadPartCopy across the parts');
    await s3.send(new CopyObjectCommand({ Bucket: 'mpu', Key: 'whole-copy.bin', CopySource: `mpu/${key}` }));
    const wc = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'whole-copy.bin' }));
    assert.ok(Buffer.from(await wc.Body!.transformToByteArray()).equals(whole), 'CopyObject of the linked object');
    // Overwritten, the linked object goes, with every file it had.
    const withIt = blobBytes();
    await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: key, Body: 'small now' }));
    assert.equal(blobBytes(), withIt - whole.length, 'the linked files are gone with the object');
  });

  it('computes composite and full-object checksums', async () => {
    for (const [ChecksumAlgorithm, ChecksumType] of [['CRC32', 'COMPOSITE'], ['CRC32C', 'FULL_OBJECT'], ['SHA256', 'COMPOSITE'], ['CRC64NVME', 'FULL_OBJECT']] as const) {
      const Key = `sum-${ChecksumAlgorithm}`;
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key, ChecksumAlgorithm, ChecksumType }));
      const a = randomBytes(5 * MiB);
      const b = randomBytes(100);
      const ra = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key, UploadId, PartNumber: 1, Body: a, ChecksumAlgorithm }));
      const rb = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key, UploadId, PartNumber: 2, Body: b, ChecksumAlgorithm }));
      const member = `Checksum${ChecksumAlgorithm}` as const;
      assert.ok(ra[member], `${ChecksumAlgorithm} part checksum returned`);
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpu',
          Key,
          UploadId,
          ChecksumType,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: ra.ETag, [member]: ra[member] }, { PartNumber: 2, ETag: rb.ETag, [member]: rb[member] }] },
        }),
      );
      assert.equal(done.ChecksumType, ChecksumType);
      if (ChecksumType === 'COMPOSITE') assert.match(done[member] ?? '', /-2$/);
      else {
        // A full-object checksum equals the checksum of the whole body uploaded at once.
        const single = await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: `${Key}-single`, Body: Buffer.concat([a, b]), ChecksumAlgorithm }));
        assert.equal(done[member], single[member]);
      }
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[member], done[member]);
    }
  });

  it('copies a byte range of another object into a part (UploadPartCopy)', async () => {
    const src = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: 'copy-src', Body: src }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'copy-dst' }));
    const c1 = await s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copy-dst', UploadId, PartNumber: 1, CopySource: 'mpu/copy-src', CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const c2 = await s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copy-dst', UploadId, PartNumber: 2, CopySource: 'mpu/copy-src', CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}` }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'copy-dst',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult!.ETag }] },
      }),
    );
    const get = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'copy-dst' }));
    assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(src));
    await fails(
      s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copy-dst', UploadId: 'nope', PartNumber: 1, CopySource: 'mpu/copy-src' })),
      'NoSuchUpload',
      404,
    );
  });

  it('refuses small parts, wrong order, unknown parts, and answers NoSuchUpload after abort', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad' }));
    const r1 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 1, Body: 'small' }));
    const r2 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 2, Body: 'small' }));
    const complete = (parts: Array<{ PartNumber: number; ETag?: string }>) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad', UploadId, MultipartUpload: { Parts: parts } }));
    await fails(complete([{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }]), 'EntityTooSmall', 400);
    await fails(complete([{ PartNumber: 2, ETag: r2.ETag }, { PartNumber: 1, ETag: r1.ETag }]), 'InvalidPartOrder', 400);
    await fails(complete([{ PartNumber: 1, ETag: '"0123"' }]), 'InvalidPart', 400);
    await fails(complete([{ PartNumber: 3, ETag: r1.ETag }]), 'InvalidPart', 400);
    await fails(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 10001, Body: 'x' })), 'InvalidArgument', 400);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad', UploadId }));
    await fails(s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'bad', UploadId })), 'NoSuchUpload', 404);
    await fails(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 1, Body: 'x' })), 'NoSuchUpload', 404);
    await fails(s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'bad' })), 'NotFound', 404);
  });

  it('aws s3 cp of a 40 MiB file uses parallel parts and round-trips with the right ETag', () => {
    requireAwsCli();
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-mpu-'));
    try {
      const data = randomBytes(40 * MiB);
      writeFileSync(join(dir, 'up.bin'), data);
      aws(server.url, ['s3', 'cp', '--only-show-errors', join(dir, 'up.bin'), 's3://mpu/cli/up.bin']);
      const head = JSON.parse(aws(server.url, ['s3api', 'head-object', '--bucket', 'mpu', '--key', 'cli/up.bin'])) as { ETag: string; ContentLength: number };
      assert.equal(head.ContentLength, data.length);
      // The CLI uses 8 MiB parts: 5 of them.
      const parts: Buffer[] = [];
      for (let off = 0; off < data.length; off += 8 * MiB) parts.push(md5(data.subarray(off, off + 8 * MiB)));
      assert.equal(head.ETag, `"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-5"`);
      aws(server.url, ['s3', 'cp', '--only-show-errors', 's3://mpu/cli/up.bin', join(dir, 'down.bin')]);
      assert.ok(readFileSync(join(dir, 'down.bin')).equals(data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
