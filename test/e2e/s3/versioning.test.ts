import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  DeleteBucketCommand,
  PutBucketVersioningCommand,
  GetBucketVersioningCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  CopyObjectCommand,
  GetObjectAttributesCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { send, errorCode } from '../../helpers/sign.js';
import { aws, awsFails, requireAwsCli } from '../../helpers/python.js';

/**
 * S3 versioning end to end, with @aws-sdk/client-s3 and the AWS CLI as the judges:
 * Enabled, Suspended and never-versioned buckets, delete markers, by-version reads,
 * deletes and copies, ListObjectVersions paging, DeleteObjects with versions, multipart,
 * and the version IAM actions.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 */
let server: TestServer;
let s3: S3Client;

async function text(b: { Body?: { transformToString(): Promise<string> } }): Promise<string> {
  return b.Body!.transformToString();
}

async function versionedBucket(name: string, status: 'Enabled' | 'Suspended' | undefined = 'Enabled'): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
}

async function put(bucket: string, key: string, body: string): Promise<string | undefined> {
  return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId;
}

type Entry = { kind: 'V' | 'M' | 'P'; key: string; versionId?: string; isLatest?: boolean };

/** The entries of a raw ListObjectVersions document, in document order (prefixes placed by key). */
function rawEntries(xml: string): Entry[] {
  const out: Entry[] = [];
  for (const m of xml.matchAll(/<(Version|DeleteMarker)>(.*?)<\/\1>/g)) {
    const field = (n: string) => new RegExp(`<${n}>([^<]*)</${n}>`).exec(m[2]!)?.[1];
    out.push({ kind: m[1] === 'Version' ? 'V' : 'M', key: field('Key')!, versionId: field('VersionId'), isLatest: field('IsLatest') === 'true' });
  }
  for (const m of xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)) out.push({ kind: 'P', key: m[1]! });
  // Stable: versions of one key keep their document order.
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Every entry of ListObjectVersions, walked page by page with the Next*Marker values. The
 * SDK gives Version and DeleteMarker entries as two lists; the listing order (key, then
 * newest first, the two kinds interleaved) is read from the same page's raw document.
 */
async function allVersions(bucket: string, extra: { Prefix?: string; Delimiter?: string; MaxKeys?: number } = {}) {
  const entries: Entry[] = [];
  const pages: ListObjectVersionsCommandOutput[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker, ...extra }));
    pages.push(page);
    assert.ok(pages.length < 500, 'paging terminates');
    const params: Array<[string, string | number | undefined]> = [
      ['key-marker', KeyMarker],
      ['version-id-marker', VersionIdMarker],
      ['prefix', extra.Prefix],
      ['delimiter', extra.Delimiter],
      ['max-keys', extra.MaxKeys],
    ];
    const query = ['versions=', ...params.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)].join('&');
    const raw = await send(server.url, { method: 'GET', path: `/${bucket}`, query });
    assert.equal(raw.status, 200, raw.body);
    const here = rawEntries(raw.body);
    // The SDK read the same entries.
    assert.deepEqual(
      here.filter((e) => e.kind === 'V'),
      (page.Versions ?? []).map((v) => ({ kind: 'V', key: v.Key!, versionId: v.VersionId, isLatest: v.IsLatest })),
    );
    assert.deepEqual(
      here.filter((e) => e.kind === 'M'),
      (page.DeleteMarkers ?? []).map((v) => ({ kind: 'M', key: v.Key!, versionId: v.VersionId, isLatest: v.IsLatest })),
    );
    assert.deepEqual(here.filter((e) => e.kind === 'P').map((e) => e.key), (page.CommonPrefixes ?? []).map((p) => p.Prefix));
    if (extra.MaxKeys !== undefined) assert.ok(here.length <= extra.MaxKeys);
    entries.push(...here);
    if (!page.IsTruncated) break;
    assert.equal(here.length, extra.MaxKeys ?? 1000, 'a truncated page is full');
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
    assert.ok(KeyMarker, 'a truncated page says where to go on');
  }
  return { entries, pages };
}

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('bucket versioning configuration', () => {
  it('a never-versioned bucket answers an empty <VersioningConfiguration/>', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'cfg' }));
    const got = await s3.send(new GetBucketVersioningCommand({ Bucket: 'cfg' }));
    assert.equal(got.Status, undefined);
    assert.equal(got.MFADelete, undefined);
    const raw = await send(server.url, { method: 'GET', path: '/cfg', query: 'versioning' });
    assert.equal(raw.status, 200);
    assert.match(raw.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\s*<VersioningConfiguration xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><\/VersioningConfiguration>$/);
  });

  it('Enabled and Suspended are kept; MFADelete is accepted only as Disabled; anything else is refused', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'cfg' }))).Status, 'Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'cfg' }))).Status, 'Suspended');
    const raw = await send(server.url, { method: 'GET', path: '/cfg', query: 'versioning' });
    assert.match(raw.body, /<VersioningConfiguration xmlns="[^"]+"><Status>Suspended<\/Status><\/VersioningConfiguration>/);
    const mfa = await expectError(
      s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', MFA: 'arn:aws:iam::000000000000:mfa/root 123456', VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })),
      'NotImplemented',
      501,
    );
    assert.match(mfa.message, /MFA delete/);
    await expectError(s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', VersioningConfiguration: { Status: 'On' as 'Enabled' } })), 'MalformedXML', 400);
    await expectError(s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', VersioningConfiguration: {} })), 'MalformedXML', 400);
    // Nothing above changed the state.
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'cfg' }))).Status, 'Suspended');
    await expectError(s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-bucket-v' })), 'NoSuchBucket', 404);
  });
});

describe('a versioning-enabled bucket', () => {
  before(() => versionedBucket('ver'));

  it('every PUT is a new version with its own x-amz-version-id; GET and HEAD serve the newest, or the one named', async () => {
    const ids: string[] = [];
    for (const body of ['one', 'two', 'three']) ids.push((await put('ver', 'doc.txt', body))!);
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{32,}$/, 'opaque, URL-safe, at least 32 characters');
    const cur = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc.txt' }));
    assert.equal(await text(cur), 'three');
    assert.equal(cur.VersionId, ids[2]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'doc.txt' }))).VersionId, ids[2]);
    for (const [i, body] of ['one', 'two', 'three'].entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc.txt', VersionId: ids[i] }));
      assert.equal(await text(got), body);
      assert.equal(got.VersionId, ids[i]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'doc.txt', VersionId: ids[i] }));
      assert.equal(head.ContentLength, body.length);
      assert.equal(head.VersionId, ids[i]);
    }
    // A range of an old version.
    const part = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc.txt', VersionId: ids[0], Range: 'bytes=1-2' }));
    assert.equal(await text(part), 'ne');
    // Only the current version is listed as an object.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'ver', Prefix: 'doc' }));
    assert.deepEqual(listed.Contents?.map((c) => [c.Key, c.Size]), [['doc.txt', 5]]);
  });

  it('unknown and malformed version ids: 404 NoSuchVersion, 400 InvalidArgument', async () => {
    const id = (await put('ver', 'ids.txt', 'x'))!;
    // Same shape as a real id, but not one of this key's.
    const other = (await put('ver', 'other-key', 'y'))!;
    const missing = await expectError(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'ids.txt', VersionId: other })), 'NoSuchVersion', 404);
    assert.equal(missing.message, 'The specified version does not exist.');
    const raw = await send(server.url, { method: 'GET', path: '/ver/ids.txt', query: `versionId=${other}` });
    assert.match(raw.body, new RegExp(`<Key>ids.txt</Key><VersionId>${other}</VersionId>`));
    const bad = await expectError(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'ids.txt', VersionId: 'not-a-version' })), 'InvalidArgument', 400);
    assert.equal(bad.message, 'Invalid version id specified');
    const empty = await send(server.url, { method: 'GET', path: '/ver/ids.txt', query: 'versionId=' });
    assert.equal(empty.status, 400);
    assert.equal(errorCode(empty.body), 'InvalidArgument');
    assert.equal((await send(server.url, { method: 'HEAD', path: '/ver/ids.txt', query: `versionId=${other}` })).status, 404);
    assert.equal((await send(server.url, { method: 'HEAD', path: '/ver/ids.txt', query: 'versionId=bad' })).status, 400);
    // This key has no null version.
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'ids.txt', VersionId: 'null' })), 'NoSuchVersion', 404);
    // Deleting a version that does not exist is a 204 that names it; a malformed id is refused.
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'ids.txt', VersionId: other }));
    assert.equal(del.VersionId, other);
    assert.equal(del.DeleteMarker, undefined);
    await expectError(s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'ids.txt', VersionId: 'nope' })), 'InvalidArgument', 400);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'ids.txt', VersionId: id }))), 'x');
  });

  it('DELETE adds a delete marker: GET/HEAD are 404 with x-amz-delete-marker; the marker by id is 405; the versions stay', async () => {
    const v1 = (await put('ver', 'gone.txt', 'kept'))!;
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'gone.txt' }));
    assert.equal(del.DeleteMarker, true);
    const marker = del.VersionId!;
    assert.match(marker, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(marker, v1);
    const err = await expectError(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'gone.txt' })), 'NoSuchKey', 404);
    assert.equal(err.$response?.headers['x-amz-delete-marker'], 'true');
    assert.equal(err.$response?.headers['x-amz-version-id'], marker);
    const head = await send(server.url, { method: 'HEAD', path: '/ver/gone.txt' });
    assert.equal(head.status, 404);
    assert.equal(head.headers['x-amz-delete-marker'], 'true');
    assert.equal(head.headers['x-amz-version-id'], marker);
    // The marker named by id: 405, with the marker's headers and Allow: DELETE.
    const get405 = await send(server.url, { method: 'GET', path: '/ver/gone.txt', query: `versionId=${marker}` });
    assert.equal(get405.status, 405);
    assert.equal(errorCode(get405.body), 'MethodNotAllowed');
    assert.match(get405.body, /<Method>GET<\/Method><ResourceType>DeleteMarker<\/ResourceType>/);
    assert.equal(get405.headers['x-amz-delete-marker'], 'true');
    assert.equal(get405.headers['x-amz-version-id'], marker);
    assert.equal(get405.headers.allow, 'DELETE');
    assert.ok(get405.headers['last-modified']);
    const head405 = await expectError(s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'gone.txt', VersionId: marker })), undefined, 405);
    assert.equal(head405.$response?.headers['x-amz-delete-marker'], 'true');
    await expectError(s3.send(new GetObjectAttributesCommand({ Bucket: 'ver', Key: 'gone.txt', ObjectAttributes: ['ETag'] })), 'NoSuchKey', 404);
    // The data is still there by version, and the key is hidden from listings.
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'gone.txt', VersionId: v1 }))), 'kept');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'ver', Prefix: 'gone' }));
    assert.equal(listed.KeyCount, 0);
    // DELETE with the marker's id removes it for good: the object is back.
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'gone.txt', VersionId: marker }));
    assert.equal(undo.DeleteMarker, true);
    assert.equal(undo.VersionId, marker);
    const back = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'gone.txt' }));
    assert.equal(await text(back), 'kept');
    assert.equal(back.VersionId, v1);
  });

  it('DELETE with a versionId removes that version for good; the previous one becomes current', async () => {
    const a = (await put('ver', 'stack.txt', 'a'))!;
    const b = (await put('ver', 'stack.txt', 'b'))!;
    const c = (await put('ver', 'stack.txt', 'c'))!;
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'stack.txt', VersionId: c }));
    assert.equal(del.VersionId, c);
    assert.equal(del.DeleteMarker, undefined);
    const cur = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'stack.txt' }));
    assert.equal(await text(cur), 'b');
    assert.equal(cur.VersionId, b);
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'stack.txt', VersionId: c })), 'NoSuchVersion', 404);
    // A noncurrent version: the current one stays.
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'stack.txt', VersionId: a }));
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'stack.txt' }))), 'b');
    const { entries } = await allVersions('ver', { Prefix: 'stack.txt' });
    assert.deepEqual(entries, [{ kind: 'V', key: 'stack.txt', versionId: b, isLatest: true }]);
  });

  it('CopyObject from a version (x-amz-copy-source-version-id), and restoring an old version by copying it over the current one', async () => {
    const v1 = (await put('ver', 'restore.txt', 'good'))!;
    const v2 = (await put('ver', 'restore.txt', 'oops'))!;
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'copy-of-v1.txt', CopySource: `ver/restore.txt?versionId=${v1}` }));
    assert.equal(copy.CopySourceVersionId, v1);
    assert.ok(copy.VersionId);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'copy-of-v1.txt' }))), 'good');
    // Without a version, the source is the current one and is named in the response.
    const plain = await s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'copy-of-current.txt', CopySource: 'ver/restore.txt' }));
    assert.equal(plain.CopySourceVersionId, v2);
    // Restore: copy v1 onto the same key; it becomes a new current version, v2 stays.
    const restored = await s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'restore.txt', CopySource: `ver/restore.txt?versionId=${v1}` }));
    assert.equal(restored.CopySourceVersionId, v1);
    const v3 = restored.VersionId!;
    assert.ok(v3 && v3 !== v1 && v3 !== v2);
    const cur = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'restore.txt' }));
    assert.equal(await text(cur), 'good');
    assert.equal(cur.VersionId, v3);
    const { entries } = await allVersions('ver', { Prefix: 'restore.txt' });
    assert.deepEqual(entries.map((e) => [e.versionId, e.isLatest]), [[v3, true], [v2, false], [v1, false]]);
    // Copy-source edge cases: a malformed id, an unknown one, a delete marker.
    await expectError(s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'x', CopySource: 'ver/restore.txt?versionId=zzz' })), 'InvalidArgument', 400);
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'restore.txt' }))).VersionId!;
    const byMarker = await expectError(s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'x', CopySource: `ver/restore.txt?versionId=${marker}` })), 'InvalidRequest', 400);
    assert.match(byMarker.message, /delete marker/);
    await expectError(s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'x', CopySource: 'ver/restore.txt' })), 'NoSuchKey', 404);
    // But the versions under the marker can still be copied.
    await s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'restore.txt', CopySource: `ver/restore.txt?versionId=${v2}` }));
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'restore.txt' }))), 'oops');
  });

  it('GetObjectAttributes by version', async () => {
    const v1 = (await put('ver', 'attrs.txt', '12345'))!;
    await put('ver', 'attrs.txt', '1234567890');
    const old = await s3.send(new GetObjectAttributesCommand({ Bucket: 'ver', Key: 'attrs.txt', VersionId: v1, ObjectAttributes: ['ObjectSize', 'ETag'] }));
    assert.equal(old.ObjectSize, 5);
    assert.equal(old.VersionId, v1);
    const cur = await s3.send(new GetObjectAttributesCommand({ Bucket: 'ver', Key: 'attrs.txt', ObjectAttributes: ['ObjectSize'] }));
    assert.equal(cur.ObjectSize, 10);
    assert.notEqual(cur.VersionId, v1);
  });

  it('CompleteMultipartUpload creates a version; UploadPartCopy can copy a version', async () => {
    const v1 = (await put('ver', 'mpu.bin', 'small first version'))!;
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ver', Key: 'mpu.bin' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'ver', Key: 'mpu.bin', UploadId: up.UploadId, PartNumber: 1, Body: big }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: 'ver', Key: 'mpu.bin', UploadId: up.UploadId, PartNumber: 2, CopySource: `ver/mpu.bin?versionId=${v1}` }));
    assert.equal(p2.CopySourceVersionId, v1);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'ver',
        Key: 'mpu.bin',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] },
      }),
    );
    assert.ok(done.VersionId);
    assert.notEqual(done.VersionId, v1);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'mpu.bin' }));
    assert.equal(head.VersionId, done.VersionId);
    assert.equal(head.ContentLength, big.length + 'small first version'.length);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'mpu.bin', VersionId: v1 }))), 'small first version');
  });

  it('DeleteObjects with and without VersionId: markers are reported with DeleteMarker and DeleteMarkerVersionId', async () => {
    const a1 = (await put('ver', 'batch/a', 'a1'))!;
    const a2 = (await put('ver', 'batch/a', 'a2'))!;
    await put('ver', 'batch/b', 'b1');
    const c1 = (await put('ver', 'batch/c', 'c1'))!;
    const cMarker = (await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'batch/c' }))).VersionId!;
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'ver',
        Delete: {
          Objects: [
            { Key: 'batch/a', VersionId: a2 },
            { Key: 'batch/b' },
            { Key: 'batch/c', VersionId: cMarker },
            { Key: 'batch/never' },
            { Key: 'batch/a', VersionId: 'bad-id' },
          ],
        },
      }),
    );
    const byKey = new Map(r.Deleted!.map((d) => [`${d.Key}#${d.VersionId ?? ''}`, d]));
    assert.deepEqual({ ...byKey.get(`batch/a#${a2}`) }, { Key: 'batch/a', VersionId: a2 });
    const b = byKey.get('batch/b#')!;
    assert.equal(b.DeleteMarker, true);
    assert.match(b.DeleteMarkerVersionId!, /^[A-Za-z0-9_-]{32}$/);
    const c = byKey.get(`batch/c#${cMarker}`)!;
    assert.equal(c.DeleteMarker, true);
    assert.equal(c.DeleteMarkerVersionId, cMarker);
    // A key that never existed gets a marker too.
    assert.equal(byKey.get('batch/never#')!.DeleteMarker, true);
    assert.deepEqual(r.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['batch/a', 'bad-id', 'InvalidArgument']]);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'batch/a' }))), 'a1');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'batch/a' }))).VersionId, a1);
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'batch/b' })), 'NoSuchKey', 404);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'batch/c' }))).VersionId, c1);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'ver', Prefix: 'batch/' }));
    assert.deepEqual(listed.Contents?.map((x) => x.Key), ['batch/a', 'batch/c']);
  });
});

describe('ListObjectVersions', () => {
  /** What was written, per key, oldest first: [versionId, isMarker]. */
  const written = new Map<string, Array<[string, boolean]>>();
  const write = async (key: string, n: number) => {
    for (let i = 0; i < n; i++) written.set(key, [...(written.get(key) ?? []), [(await put('lvs', key, `${key}#${i}`))!, false]]);
  };
  const remove = async (key: string) => {
    const id = (await s3.send(new DeleteObjectCommand({ Bucket: 'lvs', Key: key }))).VersionId!;
    written.set(key, [...(written.get(key) ?? []), [id, true]]);
  };
  /** The full listing S3 gives: keys in order, each key's versions newest first, the first latest. */
  const expected = () =>
    [...written.keys()].sort().flatMap((k) =>
      [...written.get(k)!].reverse().map(([id, m], i) => ({ kind: m ? ('M' as const) : ('V' as const), key: k, versionId: id, isLatest: i === 0 })),
    );

  before(async () => {
    await versionedBucket('lvs');
    await write('docs/a.txt', 5);
    await remove('docs/a.txt');
    await write('docs/b.txt', 1);
    await write('logs/x/1', 2);
    await write('logs/y', 3);
    await remove('logs/y');
    await remove('logs/y');
    await write('logs/y', 1);
    await write('top', 7);
    await write('with space+plus', 2);
  });

  it('lists Version and DeleteMarker entries interleaved, by key then newest first, with IsLatest', async () => {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs' }));
    assert.equal(page.IsTruncated, false);
    assert.equal(page.Name, 'lvs');
    assert.equal(page.MaxKeys, 1000);
    assert.equal(page.KeyMarker, '');
    assert.equal(page.VersionIdMarker, '');
    const { entries } = await allVersions('lvs');
    assert.deepEqual(entries, expected());
    const v = page.Versions!.find((x) => x.Key === 'top' && x.IsLatest)!;
    assert.equal(v.Size, 'top#6'.length);
    assert.equal(v.StorageClass, 'STANDARD');
    assert.match(v.ETag!, /^"[0-9a-f]{32}"$/);
    assert.ok(v.Owner?.ID);
    assert.ok(v.LastModified instanceof Date);
    assert.ok(page.DeleteMarkers!.every((m) => m.Owner?.ID && m.LastModified instanceof Date));
    // On the wire the two kinds of entry are interleaved in listing order, as S3 writes them.
    const raw = await send(server.url, { method: 'GET', path: '/lvs', query: 'prefix=docs%2Fa.txt&versions=' });
    const kinds = [...raw.body.matchAll(/<(Version|DeleteMarker)>/g)].map((m) => m[1]);
    assert.deepEqual(kinds, ['DeleteMarker', 'Version', 'Version', 'Version', 'Version', 'Version']);
    assert.match(raw.body, /^<\?xml[^>]*>\s*<ListVersionsResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/);
  });

  it('pages of a few entries stop inside a key and resume from NextKeyMarker / NextVersionIdMarker, losing and repeating nothing', async () => {
    for (const MaxKeys of [1, 2, 3]) {
      const { entries, pages } = await allVersions('lvs', { MaxKeys });
      assert.deepEqual(entries, expected(), `MaxKeys ${MaxKeys}`);
      const inside = pages.filter((p) => p.IsTruncated && entries.some((e, i) => e.key === p.NextKeyMarker && e.versionId === p.NextVersionIdMarker && entries[i + 1]?.key === e.key));
      assert.ok(inside.length > 0, 'some pages end between two versions of one key');
      for (const p of pages.slice(0, -1)) assert.equal(p.MaxKeys, MaxKeys);
    }
    // Resuming inside a key's versions with a hand-made marker.
    const top = expected().filter((e) => e.key === 'top');
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs', KeyMarker: 'top', VersionIdMarker: top[2]!.versionId, MaxKeys: 2 }));
    assert.deepEqual(r.Versions?.map((v) => v.VersionId), [top[3]!.versionId, top[4]!.versionId]);
    assert.equal(r.IsTruncated, true);
    assert.equal(r.NextKeyMarker, 'top');
    assert.equal(r.NextVersionIdMarker, top[4]!.versionId);
    assert.equal(r.KeyMarker, 'top');
    assert.equal(r.VersionIdMarker, top[2]!.versionId);
    // A key marker alone skips all of that key's versions.
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs', KeyMarker: 'top' }));
    assert.deepEqual([...new Set(after.Versions?.map((v) => v.Key))], ['with space+plus']);
  });

  it('a delimiter rolls keys up into CommonPrefixes, each counted once, also across pages', async () => {
    const { entries } = await allVersions('lvs', { Delimiter: '/' });
    const want = [{ kind: 'P', key: 'docs/' }, { kind: 'P', key: 'logs/' }, ...expected().filter((e) => !e.key.includes('/'))];
    assert.deepEqual(entries, want);
    for (const MaxKeys of [1, 2, 4]) {
      const paged = await allVersions('lvs', { Delimiter: '/', MaxKeys });
      assert.deepEqual(paged.entries, want, `MaxKeys ${MaxKeys}`);
      // A page that ends on a common prefix resumes after it with only a key marker.
      const endsOnPrefix = paged.pages.find((p) => p.IsTruncated && p.NextKeyMarker === 'docs/');
      if (MaxKeys === 1) {
        assert.ok(endsOnPrefix);
        assert.equal(endsOnPrefix.NextVersionIdMarker, undefined);
      }
    }
    const logs = await allVersions('lvs', { Prefix: 'logs/', Delimiter: '/', MaxKeys: 2 });
    assert.deepEqual(logs.entries, [{ kind: 'P', key: 'logs/x/' }, ...expected().filter((e) => e.key === 'logs/y')]);
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs', Prefix: 'logs/', Delimiter: '/' }));
    assert.equal(page.Prefix, 'logs/');
    assert.equal(page.Delimiter, '/');
    assert.deepEqual(page.CommonPrefixes, [{ Prefix: 'logs/x/' }]);
  });

  it('encoding-type=url, max-keys=0, and the marker rules', async () => {
    const raw = await send(server.url, { method: 'GET', path: '/lvs', query: 'encoding-type=url&prefix=with&versions=' });
    assert.match(raw.body, /<Key>with\+space%2Bplus<\/Key>/);
    assert.match(raw.body, /<EncodingType>url<\/EncodingType>/);
    const zero = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs', MaxKeys: 0 }));
    assert.equal(zero.IsTruncated, false);
    assert.equal(zero.Versions, undefined);
    const noKey = await expectError(s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs', VersionIdMarker: expected()[0]!.versionId })), 'InvalidArgument', 400);
    assert.equal(noKey.message, 'A version-id marker cannot be specified without a key marker.');
    await expectError(s3.send(new ListObjectVersionsCommand({ Bucket: 'lvs', KeyMarker: 'top', VersionIdMarker: 'bogus' })), 'InvalidArgument', 400);
    await expectError(s3.send(new ListObjectVersionsCommand({ Bucket: 'no-such-lvs' })), 'NoSuchBucket', 404);
  });

  it('ListObjects and ListObjectsV2 show only current objects, never delete markers or old versions', async () => {
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'lvs' }));
    const current = expected().filter((e) => e.isLatest && e.kind === 'V').map((e) => e.key);
    assert.deepEqual(v2.Contents?.map((c) => c.Key), current);
    assert.ok(!current.includes('docs/a.txt'));
  });

  it('DeleteBucket is BucketNotEmpty while any version or delete marker remains', async () => {
    await versionedBucket('lvs-empty');
    const v = (await put('lvs-empty', 'k', 'x'))!;
    const m = (await s3.send(new DeleteObjectCommand({ Bucket: 'lvs-empty', Key: 'k' }))).VersionId!;
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'lvs-empty' }))).KeyCount, 0);
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: 'lvs-empty' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'lvs-empty', Key: 'k', VersionId: v }));
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: 'lvs-empty' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'lvs-empty', Key: 'k', VersionId: m }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'lvs-empty' }));
  });
});

describe('a versioning-suspended bucket', () => {
  it('writes make the null version, replacing it; DELETE adds a null delete marker; versions from before stay', async () => {
    await versionedBucket('sus', 'Enabled');
    const v1 = (await put('sus', 'k', 'versioned'))!;
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'sus', VersioningConfiguration: { Status: 'Suspended' } }));
    // The PUT answer of a suspended bucket carries no version id (the null version).
    const raw = await send(server.url, { method: 'PUT', path: '/sus/k', body: 'null one' });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['x-amz-version-id'], undefined);
    const get = await s3.send(new GetObjectCommand({ Bucket: 'sus', Key: 'k' }));
    assert.equal(await text(get), 'null one');
    assert.equal(get.VersionId, 'null');
    // Another write replaces the null version: still two versions.
    assert.equal(await put('sus', 'k', 'null two'), undefined);
    let { entries } = await allVersions('sus');
    assert.deepEqual(entries, [
      { kind: 'V', key: 'k', versionId: 'null', isLatest: true },
      { kind: 'V', key: 'k', versionId: v1, isLatest: false },
    ]);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'sus', Key: 'k', VersionId: 'null' }))), 'null two');
    // DELETE: the null version goes, a null delete marker comes.
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'sus', Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal(del.VersionId, 'null');
    ({ entries } = await allVersions('sus'));
    assert.deepEqual(entries.map((e) => [e.kind, e.versionId, e.isLatest]), [['M', 'null', true], ['V', v1, false]]);
    const hidden = await expectError(s3.send(new GetObjectCommand({ Bucket: 'sus', Key: 'k' })), 'NoSuchKey', 404);
    assert.equal(hidden.$response?.headers['x-amz-version-id'], 'null');
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'sus', Key: 'k', VersionId: 'null' })), undefined, 405);
    // The versioned object is intact, and a copy onto the key in a suspended bucket is the null version.
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'sus', Key: 'k', CopySource: `sus/k?versionId=${v1}` }));
    assert.equal(copy.VersionId, undefined);
    assert.equal(copy.CopySourceVersionId, v1);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'sus', Key: 'k' }))).VersionId, 'null');
    // Suspending a bucket that was never versioned is allowed too.
    await versionedBucket('sus-fresh', 'Suspended');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'sus-fresh' }))).Status, 'Suspended');
    assert.equal(await put('sus-fresh', 'a', '1'), undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'sus-fresh', Key: 'a' }))).VersionId, 'null');
  });
});

describe('a never-versioned bucket', () => {
  it('objects are the null version: no x-amz-version-id, versionId=null addresses them, ListObjectVersions lists them', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    const putRaw = await send(server.url, { method: 'PUT', path: '/plain/k', body: 'v1' });
    assert.equal(putRaw.headers['x-amz-version-id'], undefined);
    await put('plain', 'k', 'v2');
    const get = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' }));
    assert.equal(get.VersionId, undefined);
    assert.equal(await text(get), 'v2');
    const head = await send(server.url, { method: 'HEAD', path: '/plain/k' });
    assert.equal(head.headers['x-amz-version-id'], undefined);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k', VersionId: 'null' }))), 'v2');
    const { entries } = await allVersions('plain');
    assert.deepEqual(entries, [{ kind: 'V', key: 'k', versionId: 'null', isLatest: true }]);
    // A plain DELETE removes it, with no marker.
    await put('plain', 'k2', 'x');
    const del = await send(server.url, { method: 'DELETE', path: '/plain/k2' });
    assert.equal(del.status, 204);
    assert.equal(del.headers['x-amz-delete-marker'], undefined);
    assert.equal(del.headers['x-amz-version-id'], undefined);
    // DELETE ?versionId=null removes the null version too.
    await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'k', VersionId: 'null' }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' })), 'NoSuchKey', 404);
    assert.deepEqual((await allVersions('plain')).entries, []);
    await s3.send(new DeleteBucketCommand({ Bucket: 'plain' }));
  });

  it('objects written before versioning was enabled become the null version under the new versions', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'later' }));
    await put('later', 'k', 'before');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'later', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'later', Key: 'k' }))).VersionId, 'null');
    const v1 = (await put('later', 'k', 'after'))!;
    const { entries } = await allVersions('later');
    assert.deepEqual(entries, [
      { kind: 'V', key: 'k', versionId: v1, isLatest: true },
      { kind: 'V', key: 'k', versionId: 'null', isLatest: false },
    ]);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'later', Key: 'k', VersionId: 'null' }))), 'before');
  });
});

describe('IAM: the version operations need the version actions', () => {
  let user: S3Client;
  let iam: IAMClient;
  let v1: string;
  const policy = (actions: string[]) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: actions, Resource: ['arn:aws:s3:::iamver', 'arn:aws:s3:::iamver/*'] },
      ],
    });
  before(async () => {
    await versionedBucket('iamver');
    v1 = (await put('iamver', 'k', 'one'))!;
    await put('iamver', 'k', 'two');
    iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'p', PolicyDocument: policy(['s3:GetObject', 's3:ListBucket', 's3:DeleteObject', 's3:PutObject']) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
    user = new S3Client({ endpoint: server.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, forcePathStyle: true });
  });
  after(() => {
    user?.destroy();
    iam?.destroy();
  });

  it('s3:GetObject without s3:GetObjectVersion: the current version reads, a by-version GET or HEAD is denied', async () => {
    assert.equal(await text(await user.send(new GetObjectCommand({ Bucket: 'iamver', Key: 'k' }))), 'two');
    const denied = await expectError(user.send(new GetObjectCommand({ Bucket: 'iamver', Key: 'k', VersionId: v1 })), 'AccessDenied', 403);
    assert.match(denied.message, /s3:GetObjectVersion/);
    assert.equal((await send(server.url, { method: 'HEAD', path: '/iamver/k', query: `versionId=${v1}`, accessKey: (await user.config.credentials()).accessKeyId, secret: (await user.config.credentials()).secretAccessKey })).status, 403);
    await expectError(user.send(new ListObjectVersionsCommand({ Bucket: 'iamver' })), 'AccessDenied', 403);
    await expectError(user.send(new DeleteObjectCommand({ Bucket: 'iamver', Key: 'k', VersionId: v1 })), 'AccessDenied', 403);
    await expectError(user.send(new CopyObjectCommand({ Bucket: 'iamver', Key: 'copy', CopySource: `iamver/k?versionId=${v1}` })), 'AccessDenied', 403);
    await expectError(user.send(new GetBucketVersioningCommand({ Bucket: 'iamver' })), 'AccessDenied', 403);
    await expectError(user.send(new PutBucketVersioningCommand({ Bucket: 'iamver', VersioningConfiguration: { Status: 'Suspended' } })), 'AccessDenied', 403);
    // Per key in DeleteObjects: a version needs s3:DeleteObjectVersion.
    const batch = await user.send(new DeleteObjectsCommand({ Bucket: 'iamver', Delete: { Objects: [{ Key: 'k', VersionId: v1 }] } }));
    assert.deepEqual(batch.Errors?.map((e) => e.Code), ['AccessDenied']);
    // Nothing was removed.
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'iamver', Key: 'k', VersionId: v1 }))), 'one');
  });

  it('with the version actions granted the same requests succeed', async () => {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'reader',
        PolicyName: 'p',
        PolicyDocument: policy(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:GetObjectVersion', 's3:ListBucketVersions', 's3:DeleteObjectVersion', 's3:GetBucketVersioning']),
      }),
    );
    assert.equal(await text(await user.send(new GetObjectCommand({ Bucket: 'iamver', Key: 'k', VersionId: v1 }))), 'one');
    assert.equal((await user.send(new ListObjectVersionsCommand({ Bucket: 'iamver' }))).Versions?.length, 2);
    assert.equal((await user.send(new GetBucketVersioningCommand({ Bucket: 'iamver' }))).Status, 'Enabled');
    await user.send(new CopyObjectCommand({ Bucket: 'iamver', Key: 'copy', CopySource: `iamver/k?versionId=${v1}` }));
    // s3:DeleteObject is gone from the policy: a plain DELETE is denied, a by-version one allowed.
    await expectError(user.send(new DeleteObjectCommand({ Bucket: 'iamver', Key: 'k' })), 'AccessDenied', 403);
    await user.send(new DeleteObjectCommand({ Bucket: 'iamver', Key: 'k', VersionId: v1 }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'iamver', Key: 'k', VersionId: v1 })), 'NoSuchVersion', 404);
  });
});

describe('the AWS CLI', () => {
  let work: string;
  before(() => {
    requireAwsCli();
    work = mkdtempSync(join(tmpdir(), 'nimbus-cli-ver-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  const json = <T = Record<string, any>>(args: string[]): T => JSON.parse(aws(server.url, [...args, '--output', 'json']) || '{}') as T;

  it('s3api: put-bucket-versioning, get-bucket-versioning, put-object twice, list-object-versions, get-object --version-id, delete-object → marker, delete-object --version-id', () => {
    aws(server.url, ['s3api', 'create-bucket', '--bucket', 'cliver']);
    assert.deepEqual(json(['s3api', 'get-bucket-versioning', '--bucket', 'cliver']), {});
    aws(server.url, ['s3api', 'put-bucket-versioning', '--bucket', 'cliver', '--versioning-configuration', 'Status=Enabled']);
    assert.deepEqual(json(['s3api', 'get-bucket-versioning', '--bucket', 'cliver']), { Status: 'Enabled' });
    const f1 = join(work, 'one.txt');
    const f2 = join(work, 'two.txt');
    writeFileSync(f1, 'first body');
    writeFileSync(f2, 'second body');
    const p1 = json(['s3api', 'put-object', '--bucket', 'cliver', '--key', 'notes.txt', '--body', f1]);
    const p2 = json(['s3api', 'put-object', '--bucket', 'cliver', '--key', 'notes.txt', '--body', f2]);
    assert.ok(p1.VersionId && p2.VersionId && p1.VersionId !== p2.VersionId);
    const listed = json(['s3api', 'list-object-versions', '--bucket', 'cliver']);
    assert.deepEqual(
      listed.Versions.map((v: any) => [v.Key, v.VersionId, v.IsLatest, v.Size]),
      [
        ['notes.txt', p2.VersionId, true, 11],
        ['notes.txt', p1.VersionId, false, 10],
      ],
    );
    const out = join(work, 'got.txt');
    const got = json(['s3api', 'get-object', '--bucket', 'cliver', '--key', 'notes.txt', '--version-id', p1.VersionId, out]);
    assert.equal(got.VersionId, p1.VersionId);
    assert.equal(readFileSync(out, 'utf8'), 'first body');
    const del = json(['s3api', 'delete-object', '--bucket', 'cliver', '--key', 'notes.txt']);
    assert.equal(del.DeleteMarker, true);
    assert.ok(del.VersionId);
    const fail = awsFails(server.url, ['s3api', 'head-object', '--bucket', 'cliver', '--key', 'notes.txt']);
    assert.notEqual(fail.status, 0);
    assert.match(fail.stderr, /404|Not Found/);
    const afterDelete = json(['s3api', 'list-object-versions', '--bucket', 'cliver']);
    assert.deepEqual(afterDelete.DeleteMarkers.map((m: any) => [m.Key, m.VersionId, m.IsLatest]), [['notes.txt', del.VersionId, true]]);
    assert.equal(afterDelete.Versions.length, 2);
    // Removing the marker by id brings the object back.
    const undo = json(['s3api', 'delete-object', '--bucket', 'cliver', '--key', 'notes.txt', '--version-id', del.VersionId]);
    assert.deepEqual(undo, { DeleteMarker: true, VersionId: del.VersionId });
    assert.equal(json(['s3api', 'head-object', '--bucket', 'cliver', '--key', 'notes.txt']).VersionId, p2.VersionId);
    const gone = json(['s3api', 'delete-object', '--bucket', 'cliver', '--key', 'notes.txt', '--version-id', p2.VersionId]);
    assert.deepEqual(gone, { VersionId: p2.VersionId });
    assert.equal(json(['s3api', 'head-object', '--bucket', 'cliver', '--key', 'notes.txt']).VersionId, p1.VersionId);
  });

  it('aws s3 rm on a versioned bucket leaves delete markers, and the old versions stay', () => {
    aws(server.url, ['s3api', 'create-bucket', '--bucket', 'clirm']);
    aws(server.url, ['s3api', 'put-bucket-versioning', '--bucket', 'clirm', '--versioning-configuration', 'Status=Enabled']);
    const f = join(work, 'f.txt');
    writeFileSync(f, 'data');
    for (const k of ['a.txt', 'dir/b.txt', 'dir/c.txt']) aws(server.url, ['s3', 'cp', f, `s3://clirm/${k}`]);
    aws(server.url, ['s3', 'rm', 's3://clirm/a.txt']);
    aws(server.url, ['s3', 'rm', 's3://clirm/dir/', '--recursive']);
    assert.equal(aws(server.url, ['s3', 'ls', 's3://clirm', '--recursive']).trim(), '');
    const listed = json(['s3api', 'list-object-versions', '--bucket', 'clirm']);
    assert.deepEqual(listed.DeleteMarkers.map((m: any) => [m.Key, m.IsLatest]), [['a.txt', true], ['dir/b.txt', true], ['dir/c.txt', true]]);
    assert.deepEqual(listed.Versions.map((v: any) => [v.Key, v.IsLatest]), [['a.txt', false], ['dir/b.txt', false], ['dir/c.txt', false]]);
    const fail = awsFails(server.url, ['s3api', 'delete-bucket', '--bucket', 'clirm']);
    assert.match(fail.stderr, /BucketNotEmpty/);
  });
});
