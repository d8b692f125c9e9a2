import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectAttributesCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
  S3ServiceException,
  type ChecksumAlgorithm,
  type ChecksumType,
} from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { send } from '../../helpers/sign.js';

/**
 * GetObjectAttributes' ObjectParts for multipart objects, judged by @aws-sdk/client-s3: the
 * parts are listed (like ListParts, paged by MaxParts and PartNumberMarker) for an object
 * with a COMPOSITE checksum; a FULL_OBJECT checksum, or none, gives the count alone.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
 */
let server: TestServer;
let s3: S3Client;
const B = 'attributes';
const MiB = 1024 * 1024;

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  // A 5 MiB source for UploadPartCopy: parts are copied server-side rather than sent.
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'five-mib', Body: randomBytes(5 * MiB) }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

/** A multipart object of parts `numbers` (5 MiB copies, the last one `lastSize` bytes sent). */
async function multipart(key: string, numbers: number[], opts: { algorithm?: ChecksumAlgorithm; type?: ChecksumType; lastSize?: number } = {}) {
  const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: opts.algorithm, ChecksumType: opts.type }));
  const parts: Array<{ PartNumber: number; ETag?: string; Size: number } & Record<string, unknown>> = [];
  for (const [i, n] of numbers.entries()) {
    if (i < numbers.length - 1) {
      const r = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: key, UploadId: create.UploadId, PartNumber: n, CopySource: `${B}/five-mib` }));
      parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag, Size: 5 * MiB, ...checksumOf(r.CopyPartResult) });
    } else {
      const size = opts.lastSize ?? 1000;
      const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: create.UploadId, PartNumber: n, Body: randomBytes(size), ChecksumAlgorithm: opts.algorithm }));
      parts.push({ PartNumber: n, ETag: r.ETag, Size: size, ...checksumOf(r) });
    }
  }
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: create.UploadId, MultipartUpload: { Parts: parts.map(({ Size: _size, ...p }) => p) } }),
  );
  return { parts, done };
}

function checksumOf(o: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((o ?? {}) as Record<string, unknown>)) if (/^Checksum(CRC32|CRC32C|CRC64NVME|SHA1|SHA256)$/.test(k) && typeof v === 'string') out[k] = v;
  return out;
}

describe('GetObjectAttributes ObjectParts', () => {
  it('COMPOSITE checksum: the parts with their numbers (as uploaded, not renumbered), sizes and checksums, paged by MaxParts', async () => {
    const { parts, done } = await multipart('composite', [1, 2, 4, 7, 9], { algorithm: 'CRC32' });
    const expected = parts.map((p) => ({ PartNumber: p.PartNumber, Size: p.Size, ChecksumCRC32: p.ChecksumCRC32 }));
    assert.ok(expected.every((p) => typeof p.ChecksumCRC32 === 'string'));
    const pages: Array<{ marker?: number; want: typeof expected; next: number; truncated: boolean }> = [
      { want: expected.slice(0, 2), next: 2, truncated: true },
      { marker: 2, want: expected.slice(2, 4), next: 7, truncated: true },
      { marker: 7, want: expected.slice(4), next: 9, truncated: false },
    ];
    for (const page of pages) {
      const r = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite', ObjectAttributes: ['ObjectParts'], MaxParts: 2, PartNumberMarker: page.marker?.toString() }));
      assert.deepEqual(r.ObjectParts, {
        TotalPartsCount: 5,
        PartNumberMarker: String(page.marker ?? 0),
        NextPartNumberMarker: String(page.next),
        MaxParts: 2,
        IsTruncated: page.truncated,
        Parts: page.want,
      });
    }
    // Without MaxParts: all of them (up to 1000).
    const all = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite', ObjectAttributes: ['ObjectParts', 'Checksum', 'ObjectSize', 'ETag'] }));
    assert.deepEqual(all.ObjectParts?.Parts, expected);
    assert.equal(all.ObjectParts?.MaxParts, 1000);
    assert.equal(all.ObjectParts?.IsTruncated, false);
    assert.equal(all.ObjectSize, 4 * 5 * MiB + 1000);
    assert.equal(all.ETag, done.ETag!.replace(/"/g, ''));
    // The object's composite checksum, without its "-<parts>" suffix.
    assert.deepEqual(all.Checksum, { ChecksumCRC32: done.ChecksumCRC32!.replace(/-5$/, ''), ChecksumType: 'COMPOSITE' });
    // Past the last part: an empty page.
    const empty = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite', ObjectAttributes: ['ObjectParts'], PartNumberMarker: '9' }));
    assert.deepEqual([empty.ObjectParts?.Parts, empty.ObjectParts?.IsTruncated, empty.ObjectParts?.TotalPartsCount], [undefined, false, 5]);
    // On the wire: <ObjectParts><PartsCount>…, one <Part> per part.
    const raw = await send(server.url, { method: 'GET', path: `/${B}/composite`, query: 'attributes=', headers: { 'x-amz-object-attributes': 'ObjectParts', 'x-amz-max-parts': '1' } });
    assert.equal(raw.status, 200, raw.body);
    assert.match(raw.body, /<ObjectParts><PartsCount>5<\/PartsCount>/);
    assert.equal(raw.body.match(/<Part>/g)?.length, 1);
  });

  it('a FULL_OBJECT checksum, or none, gives the part count alone; a single-part object has no ObjectParts', async () => {
    await multipart('full', [1, 2], { algorithm: 'CRC64NVME', type: 'FULL_OBJECT' });
    const full = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'full', ObjectAttributes: ['ObjectParts', 'Checksum'] }));
    assert.deepEqual(full.ObjectParts, { TotalPartsCount: 2 });
    assert.equal(full.Checksum?.ChecksumType, 'FULL_OBJECT');
    await multipart('none', [3, 5, 8]);
    assert.deepEqual((await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'none', ObjectAttributes: ['ObjectParts'] }))).ObjectParts, { TotalPartsCount: 3 });
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'single', Body: 'x', ChecksumAlgorithm: 'CRC32' }));
    const single = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'single', ObjectAttributes: ['ObjectParts', 'ObjectSize'] }));
    assert.deepEqual([single.ObjectParts, single.ObjectSize], [undefined, 1]);
  });

  it('an SSE-C multipart object needs its key for its attributes', async () => {
    const key = randomBytes(32);
    const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') };
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'ssec', ChecksumAlgorithm: 'SHA256', ...sseC }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'ssec', UploadId: create.UploadId, PartNumber: 1, CopySource: `${B}/five-mib`, ...sseC }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'ssec', UploadId: create.UploadId, PartNumber: 2, Body: 'tail', ChecksumAlgorithm: 'SHA256', ...sseC }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'ssec',
        UploadId: create.UploadId,
        ...sseC,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.CopyPartResult?.ETag, ChecksumSHA256: p1.CopyPartResult?.ChecksumSHA256 },
            { PartNumber: 2, ETag: p2.ETag, ChecksumSHA256: p2.ChecksumSHA256 },
          ],
        },
      }),
    );
    try {
      await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'ssec', ObjectAttributes: ['ObjectParts'] }));
      assert.fail('expected InvalidRequest');
    } catch (e) {
      assert.equal((e as S3ServiceException).name, 'InvalidRequest');
    }
    const r = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'ssec', ObjectAttributes: ['ObjectParts'], ...sseC }));
    assert.deepEqual(
      r.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256]),
      [
        [1, 5 * MiB, p1.CopyPartResult?.ChecksumSHA256],
        [2, 4, p2.ChecksumSHA256],
      ],
    );
  });
});
