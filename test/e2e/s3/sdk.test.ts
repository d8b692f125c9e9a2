import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectsCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  CopyObjectCommand,
  ListBucketsCommand,
  HeadBucketCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  GetObjectAttributesCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { send, errorCode } from '../../helpers/sign.js';

/**
 * @aws-sdk/client-s3 with default settings (CRC32 checksums on every upload since 2025),
 * path-style and virtual-hosted-style.
 */
let server: TestServer;
let s3: S3Client;
let vhost: S3Client;

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  // *.localhost does not resolve everywhere: send every host to loopback, as a browser would.
  const agent = new Agent({
    keepAlive: true,
    lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
  });
  vhost = new S3Client({
    endpoint: `http://s3.localhost:${server.port}`,
    region: REGION,
    credentials: CREDENTIALS,
    requestHandler: new NodeHttpHandler({ httpAgent: agent }),
  });
});

after(async () => {
  s3?.destroy();
  vhost?.destroy();
  await server?.dispose();
});

describe('S3 with @aws-sdk/client-s3 (path style)', () => {
  const bucket = 'sdk-path';

  it('creates a bucket, and ListBuckets/HeadBucket/GetBucketLocation see it', async () => {
    const r = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal(r.Location, `/${bucket}`);
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === bucket && b.CreationDate instanceof Date));
    assert.match(list.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    assert.equal(loc.LocationConstraint ?? '', '');
  });

  it('puts with the default CRC32 checksum and gets the bytes back', async () => {
    const body = randomBytes(100_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.bin', Body: body, ContentType: 'application/x-test', Metadata: { owner: 'yash' } }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.ok(put.ChecksumCRC32, 'the SDK sent a CRC32 and Nimbus echoes it');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.bin', ChecksumMode: 'ENABLED' }));
    const got = Buffer.from(await get.Body!.transformToByteArray());
    assert.ok(got.equals(body));
    assert.equal(get.ContentType, 'application/x-test');
    assert.equal(get.Metadata?.owner, 'yash');
    assert.equal(get.ChecksumCRC32, put.ChecksumCRC32);
    assert.equal(get.ContentLength, body.length);
  });

  it('uploads a stream of unknown length (aws-chunked with a trailing checksum)', async () => {
    const parts = [randomBytes(70_000), randomBytes(80_000), randomBytes(10)];
    const all = Buffer.concat(parts);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'stream.bin', Body: Readable.from(parts), ContentLength: all.length }));
    assert.equal(put.ETag, `"${md5(all)}"`);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin' }));
    assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(all));
  });

  for (const ChecksumAlgorithm of ['CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const) {
    it(`stores and returns a ${ChecksumAlgorithm} checksum`, async () => {
      const body = Buffer.from(`checksum ${ChecksumAlgorithm}`);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sum-${ChecksumAlgorithm}`, Body: body, ChecksumAlgorithm }));
      const member = `Checksum${ChecksumAlgorithm}` as const;
      assert.ok(put[member]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `sum-${ChecksumAlgorithm}`, ChecksumMode: 'ENABLED' }));
      assert.equal(head[member], put[member]);
      const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: `sum-${ChecksumAlgorithm}`, ObjectAttributes: ['Checksum', 'ObjectSize', 'ETag'] }));
      assert.equal(attrs.Checksum?.[member], put[member]);
      assert.equal(attrs.ObjectSize, body.length);
      assert.equal(attrs.ETag, md5(body));
    });
  }

  it('refuses a body whose checksum does not match (BadDigest) and stores nothing', async () => {
    await expectError(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-sum', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })),
      'BadDigest',
      400,
    );
    await expectError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-sum' })), 'NotFound', 404);
  });

  it('serves ranges, conditional reads and response-* overrides', async () => {
    const body = Buffer.from('0123456789abcdef');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range.txt', Body: body }));
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', Range: 'bytes=2-5' }));
    assert.equal(await r.Body!.transformToString(), '2345');
    assert.equal(r.ContentRange, 'bytes 2-5/16');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', Range: 'bytes=-3' }));
    assert.equal(await suffix.Body!.transformToString(), 'def');
    const open = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', Range: 'bytes=10-' }));
    assert.equal(await open.Body!.transformToString(), 'abcdef');
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', Range: 'bytes=100-200' })), 'InvalidRange', 416);
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', IfNoneMatch: put.ETag })), undefined, 304);
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
    const future = new Date(Date.now() + 3600_000);
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', IfModifiedSince: future })), undefined, 304);
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', IfUnmodifiedSince: new Date(Date.now() - 3600_000) })), 'PreconditionFailed', 412);
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', IfMatch: put.ETag, ResponseContentType: 'text/x-override', ResponseContentDisposition: 'attachment' }));
    assert.equal(ok.ContentType, 'text/x-override');
    assert.equal(ok.ContentDisposition, 'attachment');
    await ok.Body!.transformToString();
  });

  it('makes conditional writes atomic: If-None-Match: * and If-Match', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v1', IfNoneMatch: '*' }));
    await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfMatch: '"wrong"' })), 'PreconditionFailed', 412);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v3', IfMatch: head.ETag }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' }));
    assert.equal(await get.Body!.transformToString(), 'v3');
    // Ten racing creators: exactly one wins.
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'race', Body: `w${i}`, IfNoneMatch: '*' }))),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('copies within and across buckets with COPY and REPLACE metadata', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-other' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'copy me', Metadata: { a: '1' }, ContentType: 'text/plain' }));
    const c1 = await s3.send(new CopyObjectCommand({ Bucket: 'sdk-other', Key: 'dst', CopySource: `${bucket}/src` }));
    assert.equal(c1.CopyObjectResult?.ETag, `"${md5(Buffer.from('copy me'))}"`);
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: 'sdk-other', Key: 'dst' }));
    assert.equal(h1.Metadata?.a, '1');
    assert.equal(h1.ContentType, 'text/plain');
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src`, MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'text/html' }));
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
    assert.deepEqual(h2.Metadata, { b: '2' });
    assert.equal(h2.ContentType, 'text/html');
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src` })), 'InvalidRequest', 400);
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src`, CopySourceIfMatch: '"nope"' })), 'PreconditionFailed', 412);
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/missing` })), 'NoSuchKey', 404);
  });

  it('lists with prefix, delimiter, start-after, url encoding and pagination (v2 and v1)', async () => {
    const keys = ['photos/2026/a.jpg', 'photos/2026/b.jpg', 'photos/2025/c.jpg', 'photos/top.jpg', 'notes/x y.txt', 'notes/é+.txt'];
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: 'sdk-other', Key, Body: Key }))));
    const d = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-other', Prefix: 'photos/', Delimiter: '/' }));
    assert.deepEqual(d.CommonPrefixes?.map((c) => c.Prefix), ['photos/2025/', 'photos/2026/']);
    assert.deepEqual(d.Contents?.map((c) => c.Key), ['photos/top.jpg']);
    assert.equal(d.KeyCount, 3);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-other', StartAfter: 'photos/2025/c.jpg', Prefix: 'photos/' }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['photos/2026/a.jpg', 'photos/2026/b.jpg', 'photos/top.jpg']);
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-other', Prefix: 'notes/', EncodingType: 'url' }));
    assert.deepEqual(enc.Contents?.map((c) => decodeURIComponent(c.Key!.replace(/\+/g, ' '))), ['notes/x y.txt', 'notes/é+.txt']);
    const all: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: 'sdk-other' })) {
      pages++;
      for (const c of page.Contents ?? []) all.push(c.Key!);
    }
    assert.equal(pages, 4);
    assert.deepEqual(all, ['dst', ...keys].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b)))));
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'sdk-other', MaxKeys: 2, Delimiter: '/' }));
    assert.equal(v1.IsTruncated, true);
    assert.equal(v1.NextMarker, 'notes/');
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['dst']);
    assert.ok(v1.Contents?.every((c) => c.Owner?.ID), 'ListObjects v1 always names the owner');
    const v1b = await s3.send(new ListObjectsCommand({ Bucket: 'sdk-other', Marker: v1.NextMarker, Delimiter: '/' }));
    assert.deepEqual(v1b.CommonPrefixes?.map((c) => c.Prefix), ['photos/']);
    assert.equal(v1b.Contents, undefined);
  });

  it('deletes single objects and batches, and refuses to delete a non-empty bucket', async () => {
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: 'sdk-other' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-other', Key: 'dst' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-other', Key: 'never-existed' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-other' }));
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: 'sdk-other', Delete: { Objects: listed.Contents!.map((c) => ({ Key: c.Key! })) } }));
    assert.equal(r.Deleted?.length, listed.Contents!.length);
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-other' }));
    await expectError(s3.send(new HeadBucketCommand({ Bucket: 'sdk-other' })), 'NotFound', 404);
    await expectError(s3.send(new ListObjectsV2Command({ Bucket: 'sdk-other' })), 'NoSuchBucket', 404);
  });

  it('presigns GET and PUT URLs that work with plain fetch, and honours expiry', async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned.txt' }), { expiresIn: 60 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'via presigned put' });
    assert.equal(put.status, 200, await put.text());
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned.txt' }), { expiresIn: 60 });
    const get = await fetch(getUrl);
    assert.equal(await get.text(), 'via presigned put');
    const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned.txt' }), { expiresIn: 1, signingDate: new Date(Date.now() - 5000) });
    const r = await fetch(expired);
    assert.equal(r.status, 403);
    assert.match(await r.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    const tampered = await fetch(getUrl.replace('presigned.txt', 'other.txt'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /SignatureDoesNotMatch/);
  });

  it('names the operation in a 501 for S3 operations Nimbus does not implement yet', async () => {
    const r = await expectError(
      s3.send(new (await import('@aws-sdk/client-s3')).GetBucketAccelerateConfigurationCommand({ Bucket: bucket })),
      'NotImplemented',
      501,
    );
    assert.match(r.message, /GetBucketAccelerateConfiguration/);
  });
});

describe('S3 bucket rules and representation headers', () => {
  it('outside us-east-1 a LocationConstraint is required, and re-creating your bucket is BucketAlreadyOwnedByYou', async () => {
    const eu = new S3Client({ endpoint: server.url, region: 'eu-west-1', credentials: CREDENTIALS, forcePathStyle: true });
    try {
      // The SDK adds the client's region as LocationConstraint by itself.
      await eu.send(new CreateBucketCommand({ Bucket: 'sdk-eu-auto' }));
      assert.equal((await s3.send(new HeadBucketCommand({ Bucket: 'sdk-eu-auto' }))).BucketRegion, 'eu-west-1');
      // Without one, a request signed for eu-west-1 is refused, as by S3's regional endpoints.
      const raw = await send(server.url, { method: 'PUT', path: '/sdk-eu-none', region: 'eu-west-1' });
      assert.equal(raw.status, 400);
      assert.equal(errorCode(raw.body), 'IllegalLocationConstraintException');
      await eu.send(new CreateBucketCommand({ Bucket: 'sdk-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      await expectError(
        eu.send(new CreateBucketCommand({ Bucket: 'sdk-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
        'BucketAlreadyOwnedByYou',
        409,
      );
      const loc = await eu.send(new GetBucketLocationCommand({ Bucket: 'sdk-eu' }));
      assert.equal(loc.LocationConstraint, 'eu-west-1');
      const head = await s3.send(new HeadBucketCommand({ Bucket: 'sdk-eu' }));
      assert.equal(head.BucketRegion, 'eu-west-1');
      await expectError(
        s3.send(new CreateBucketCommand({ Bucket: 'sdk-east', CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never } })),
        'InvalidLocationConstraint',
        400,
      );
      // In us-east-1, creating a bucket you already own answers 200 (legacy behaviour).
      await s3.send(new CreateBucketCommand({ Bucket: 'sdk-twice' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'sdk-twice' }));
    } finally {
      eu.destroy();
    }
  });

  it('pages ListBuckets with max-buckets, continuation token and prefix', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await s3.send(new CreateBucketCommand({ Bucket: n }));
    const p1 = await s3.send(new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2 }));
    assert.deepEqual(p1.Buckets?.map((b) => b.Name), ['page-a', 'page-b']);
    assert.ok(p1.ContinuationToken);
    assert.equal(p1.Prefix, 'page-');
    const p2 = await s3.send(new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2, ContinuationToken: p1.ContinuationToken }));
    assert.deepEqual(p2.Buckets?.map((b) => b.Name), ['page-c']);
    assert.equal(p2.ContinuationToken, undefined);
  });

  it('stores and returns every representation header, and FetchOwner names the owner', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-headers' }));
    const expires = new Date('2030-01-02T03:04:05Z');
    await s3.send(
      new PutObjectCommand({
        Bucket: 'sdk-headers',
        Key: 'page.html.gz',
        Body: 'x',
        ContentType: 'text/html; charset=utf-8',
        ContentEncoding: 'gzip',
        ContentDisposition: 'inline; filename="page.html"',
        ContentLanguage: 'fr-CA',
        CacheControl: 'max-age=60, public',
        Expires: expires,
        Metadata: { 'Camel-Case': 'Value With Spaces' },
        StorageClass: 'STANDARD_IA',
      }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'sdk-headers', Key: 'page.html.gz' }));
    assert.equal(h.ContentType, 'text/html; charset=utf-8');
    assert.equal(h.ContentEncoding, 'gzip');
    assert.equal(h.ContentDisposition, 'inline; filename="page.html"');
    assert.equal(h.ContentLanguage, 'fr-CA');
    assert.equal(h.CacheControl, 'max-age=60, public');
    assert.equal(h.ExpiresString, expires.toUTCString());
    assert.deepEqual(h.Metadata, { 'camel-case': 'Value With Spaces' });
    assert.equal(h.StorageClass, 'STANDARD_IA');
    assert.equal(h.AcceptRanges, 'bytes');
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-headers', FetchOwner: true }));
    assert.equal(list.Contents?.[0]?.StorageClass, 'STANDARD_IA');
    assert.match(list.Contents?.[0]?.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    const noOwner = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-headers' }));
    assert.equal(noOwner.Contents?.[0]?.Owner, undefined);
  });
});

describe('S3 with @aws-sdk/client-s3 (virtual-hosted style)', () => {
  it('creates, writes, lists and reads through <bucket>.s3.localhost', async () => {
    await vhost.send(new CreateBucketCommand({ Bucket: 'sdk-vhost' }));
    const body = randomBytes(5000);
    await vhost.send(new PutObjectCommand({ Bucket: 'sdk-vhost', Key: 'dir/file with space.bin', Body: body }));
    const list = await vhost.send(new ListObjectsV2Command({ Bucket: 'sdk-vhost' }));
    assert.deepEqual(list.Contents?.map((c) => c.Key), ['dir/file with space.bin']);
    const get = await vhost.send(new GetObjectCommand({ Bucket: 'sdk-vhost', Key: 'dir/file with space.bin' }));
    assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(body));
    // The same object through path style: the two styles address the same store.
    const viaPath = await s3.send(new HeadObjectCommand({ Bucket: 'sdk-vhost', Key: 'dir/file with space.bin' }));
    assert.equal(viaPath.ContentLength, 5000);
  });
});

describe('STS with @aws-sdk/client-sts', () => {
  it('GetCallerIdentity names the root of account 000000000000', async () => {
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    const r = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(r.Account, '000000000000');
    assert.equal(r.Arn, 'arn:aws:iam::000000000000:root');
    assert.equal(r.UserId, '000000000000');
    assert.match(r.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    const bad = new STSClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: 'AKIANOPE', secretAccessKey: 'x' } });
    await assert.rejects(bad.send(new GetCallerIdentityCommand({})), (e: Error) => e.name === 'InvalidClientTokenId');
    sts.destroy();
    bad.destroy();
  });
});
