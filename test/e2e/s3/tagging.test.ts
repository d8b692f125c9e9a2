import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  PutObjectTaggingCommand,
  GetObjectTaggingCommand,
  DeleteObjectTaggingCommand,
  PutBucketTaggingCommand,
  GetBucketTaggingCommand,
  DeleteBucketTaggingCommand,
  PutBucketVersioningCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  PutBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  type Tag,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { send } from '../../helpers/sign.js';
import { aws, awsFails, requireAwsCli } from '../../helpers/python.js';

/**
 * S3 tagging end to end with @aws-sdk/client-s3 (and the AWS CLI): object tags set by
 * PutObject, CopyObject, multipart uploads, POST Object and PutObjectTagging, per version;
 * x-amz-tagging-count; S3's limits and error words; bucket tags; and the condition keys
 * s3:ExistingObjectTag/<key> and s3:RequestObjectTag/<key> in IAM policies.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
 */
let server: TestServer;
let s3: S3Client;
const B = 'tags';

const tagSet = (o: Record<string, string>): Tag[] => Object.entries(o).map(([Key, Value]) => ({ Key, Value }));
const tagsOf = async (Key: string, VersionId?: string, Bucket = B) => (await s3.send(new GetObjectTaggingCommand({ Bucket, Key, VersionId }))).TagSet;
const tagCount = async (Key: string, VersionId?: string, Bucket = B) => (await s3.send(new HeadObjectCommand({ Bucket, Key, VersionId }))).TagCount;

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('object tags on writes', () => {
  it('PutObject with x-amz-tagging: the tags in order, x-amz-tagging-count on GET and HEAD', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'report.pdf', Body: 'pdf', Tagging: 'project=blue&classification=confidential%20data&empty=' }));
    assert.deepEqual(await tagsOf('report.pdf'), tagSet({ project: 'blue', classification: 'confidential data', empty: '' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'report.pdf' }));
    assert.equal(got.TagCount, 3);
    assert.equal(await got.Body!.transformToString(), 'pdf');
    assert.equal(await tagCount('report.pdf'), 3);
    // The raw header, as S3 sends it.
    const raw = await send(server.url, { method: 'HEAD', path: `/${B}/report.pdf` });
    assert.equal(raw.headers['x-amz-tagging-count'], '3');
    // An object without tags: an empty TagSet and no count.
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'plain', Body: 'x' }));
    assert.deepEqual(await tagsOf('plain'), []);
    assert.equal(await tagCount('plain'), undefined);
    assert.equal((await send(server.url, { method: 'HEAD', path: `/${B}/plain` })).headers['x-amz-tagging-count'], undefined);
    // A key without "=" is a tag with the empty value; "+" is a space.
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'flags', Body: 'x', Tagging: 'urgent&team=red+ops' }));
    assert.deepEqual(await tagsOf('flags'), tagSet({ urgent: '', team: 'red ops' }));
  });

  it('overwriting an object replaces its tags (none given: none left)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'over', Body: '1', Tagging: 'a=1' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'over', Body: '2' }));
    assert.deepEqual(await tagsOf('over'), []);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'over', Body: '3', Tagging: 'b=2' }));
    assert.deepEqual(await tagsOf('over'), tagSet({ b: '2' }));
    // Deleting the object takes its tags with it.
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'over' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'over', Body: '4' }));
    assert.deepEqual(await tagsOf('over'), []);
  });

  it('CopyObject: COPY (the default) keeps the source tags, REPLACE takes x-amz-tagging, an unknown directive is InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'source', Tagging: 'origin=src&keep=yes' }));
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-default', CopySource: `${B}/src` }));
    assert.deepEqual(await tagsOf('copy-default'), tagSet({ origin: 'src', keep: 'yes' }));
    // With COPY the x-amz-tagging header is ignored.
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-copy', CopySource: `${B}/src`, TaggingDirective: 'COPY', Tagging: 'ignored=1' }));
    assert.deepEqual(await tagsOf('copy-copy'), tagSet({ origin: 'src', keep: 'yes' }));
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-replace', CopySource: `${B}/src`, TaggingDirective: 'REPLACE', Tagging: 'fresh=1' }));
    assert.deepEqual(await tagsOf('copy-replace'), tagSet({ fresh: '1' }));
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-none', CopySource: `${B}/src`, TaggingDirective: 'REPLACE' }));
    assert.deepEqual(await tagsOf('copy-none'), []);
    assert.equal(await tagCount('copy-none'), undefined);
    // Copying onto another bucket too.
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-dst' }));
    await s3.send(new CopyObjectCommand({ Bucket: 'tags-dst', Key: 'c', CopySource: `${B}/src` }));
    assert.deepEqual(await tagsOf('c', undefined, 'tags-dst'), tagSet({ origin: 'src', keep: 'yes' }));
    const raw = await send(server.url, { method: 'PUT', path: `/${B}/copy-bad`, headers: { 'x-amz-copy-source': `/${B}/src`, 'x-amz-tagging-directive': 'MERGE' } });
    assert.equal(raw.status, 400);
    assert.match(raw.body, /<Code>InvalidArgument<\/Code>/);
  });

  it('CreateMultipartUpload with x-amz-tagging: the tags arrive with CompleteMultipartUpload', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'big', Tagging: 'kind=multipart&parts=2' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'big', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 1) }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'big', UploadId, PartNumber: 2, Body: 'tail' }));
    // Not before Complete.
    await expectError(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'big' })), 'NoSuchKey', 404);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: B, Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
    );
    assert.deepEqual(await tagsOf('big'), tagSet({ kind: 'multipart', parts: '2' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big' }));
    assert.equal(head.TagCount, 2);
    // The stored representation has no trace of how the tags travelled.
    assert.deepEqual(head.Metadata, {});
  });

  it('POST Object: the tagging field (a Tagging document) tags the upload', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-post' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'tags-post' }));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: 'arn:aws:s3:::tags-post/*' }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'tags-post', Policy: JSON.stringify(policy) }));
    const fd = new FormData();
    fd.append('key', 'form.txt');
    fd.append('tagging', '<Tagging><TagSet><Tag><Key>source</Key><Value>browser</Value></Tag><Tag><Key>n</Key><Value>1</Value></Tag></TagSet></Tagging>');
    fd.append('file', new Blob(['from a form']), 'form.txt');
    const r = await fetch(`${server.url}/tags-post`, { method: 'POST', body: fd });
    assert.equal(r.status, 204, await r.text());
    assert.deepEqual(await tagsOf('form.txt', undefined, 'tags-post'), tagSet({ source: 'browser', n: '1' }));
    // A malformed document is MalformedXML, and nothing is stored.
    const bad = new FormData();
    bad.append('key', 'bad.txt');
    bad.append('tagging', '<Tagging><TagSet>');
    bad.append('file', new Blob(['x']), 'bad.txt');
    const rb = await fetch(`${server.url}/tags-post`, { method: 'POST', body: bad });
    assert.equal(rb.status, 400);
    assert.match(await rb.text(), /<Code>MalformedXML<\/Code>/);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'tags-post', Key: 'bad.txt' })), 'NotFound', 404);
  });
});

describe('PutObjectTagging, GetObjectTagging, DeleteObjectTagging', () => {
  it('replace and remove the tag set; an unversioned bucket answers no x-amz-version-id', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'doc', Body: 'd', Tagging: 'a=1' }));
    const put = await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'doc', Tagging: { TagSet: tagSet({ b: '2', c: '3' }) } }));
    assert.equal(put.VersionId, undefined);
    assert.deepEqual(await tagsOf('doc'), tagSet({ b: '2', c: '3' }));
    assert.equal(await tagCount('doc'), 2);
    // The object itself is untouched.
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc' }))).Body!.transformToString(), 'd');
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'doc' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual(await tagsOf('doc'), []);
    assert.equal(await tagCount('doc'), undefined);
    // An empty tag set is allowed and leaves none.
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'doc', Tagging: { TagSet: [] } }));
    assert.deepEqual(await tagsOf('doc'), []);
  });

  it('a missing key is NoSuchKey; a missing bucket NoSuchBucket', async () => {
    await expectError(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'nope', Tagging: { TagSet: tagSet({ a: '1' }) } })), 'NoSuchKey', 404);
    await expectError(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'nope' })), 'NoSuchKey', 404);
    await expectError(s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'nope' })), 'NoSuchKey', 404);
    await expectError(s3.send(new GetObjectTaggingCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })), 'NoSuchBucket', 404);
  });

  it('by version: each version has its own tags, answered with x-amz-version-id, and they go with the version', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-ver' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'tags-ver', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'tags-ver', Key: 'k', Body: 'one', Tagging: 'v=1' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'tags-ver', Key: 'k', Body: 'two', Tagging: 'v=2&latest=yes' }))).VersionId!;
    const current = await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k' }));
    assert.equal(current.VersionId, v2);
    assert.deepEqual(current.TagSet, tagSet({ v: '2', latest: 'yes' }));
    const old = await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k', VersionId: v1 }));
    assert.equal(old.VersionId, v1);
    assert.deepEqual(old.TagSet, tagSet({ v: '1' }));
    assert.equal(await tagCount('k', v1, 'tags-ver'), 1);
    assert.equal(await tagCount('k', undefined, 'tags-ver'), 2);
    // Tagging one version leaves the other alone.
    const put = await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k', VersionId: v1, Tagging: { TagSet: tagSet({ v: 'one' }) } }));
    assert.equal(put.VersionId, v1);
    assert.deepEqual(await tagsOf('k', v1, 'tags-ver'), tagSet({ v: 'one' }));
    assert.deepEqual(await tagsOf('k', v2, 'tags-ver'), tagSet({ v: '2', latest: 'yes' }));
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k', VersionId: v2 }));
    assert.equal(del.VersionId, v2);
    assert.deepEqual(await tagsOf('k', v2, 'tags-ver'), []);
    assert.deepEqual(await tagsOf('k', v1, 'tags-ver'), tagSet({ v: 'one' }));
    // A delete marker on top: the key has no current object; by id the old versions still answer.
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'tags-ver', Key: 'k' }))).VersionId!;
    await expectError(s3.send(new GetObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k' })), 'NoSuchKey', 404);
    assert.deepEqual(await tagsOf('k', v1, 'tags-ver'), tagSet({ v: 'one' }));
    await expectError(s3.send(new PutObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k', VersionId: marker, Tagging: { TagSet: [] } })), 'MethodNotAllowed', 405);
    // Removing a version for good removes its tags.
    await s3.send(new DeleteObjectCommand({ Bucket: 'tags-ver', Key: 'k', VersionId: v1 }));
    await expectError(s3.send(new GetObjectTaggingCommand({ Bucket: 'tags-ver', Key: 'k', VersionId: v1 })), 'NoSuchVersion', 404);
    // Copying a version copies that version's tags.
    await s3.send(new CopyObjectCommand({ Bucket: 'tags-ver', Key: 'restored', CopySource: `tags-ver/k?versionId=${v2}`, TaggingDirective: 'REPLACE', Tagging: 'restored=1' }));
    assert.deepEqual(await tagsOf('restored', undefined, 'tags-ver'), tagSet({ restored: '1' }));
  });
});

describe('limits and errors, in S3\'s words', () => {
  const put = (TagSet: Tag[]) => s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'limits', Tagging: { TagSet } }));
  const putHeader = (Tagging: string) => s3.send(new PutObjectCommand({ Bucket: B, Key: 'limits-h', Body: 'x', Tagging }));
  const HEADER = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";
  before(async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'limits', Body: 'x' }));
  });

  it('10 tags per object: 11 is BadRequest, by PutObjectTagging and by header', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await put(ten);
    assert.equal((await tagsOf('limits'))!.length, 10);
    await expectError(put([...ten, { Key: 'k10', Value: 'v' }]), 'BadRequest', 400, 'Object tags cannot be greater than 10');
    await expectError(putHeader(ten.concat({ Key: 'k10', Value: 'v' }).map((t) => `${t.Key}=${t.Value}`).join('&')), 'BadRequest', 400, 'Object tags cannot be greater than 10');
    // The refused write changed nothing.
    assert.equal((await tagsOf('limits'))!.length, 10);
  });

  it('keys of 1–128 and values of 0–256 UTF-16 characters from letters, digits, spaces and + - = . _ : / @', async () => {
    await put([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }, { Key: 'é'.repeat(128), Value: '' }, { Key: 'a+b-c=d.e_f:g/h@i j', Value: 'Ünïcödé 123 +-=._:/@' }]);
    assert.equal((await tagsOf('limits'))!.length, 3);
    await expectError(put([{ Key: 'k'.repeat(129), Value: 'v' }]), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
    await expectError(put([{ Key: 'k', Value: 'v'.repeat(257) }]), 'InvalidTag', 400, 'The TagValue you have provided is invalid');
    await expectError(put([{ Key: '', Value: 'v' }]), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
    await expectError(put([{ Key: 'a*b', Value: 'v' }]), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
    await expectError(put([{ Key: 'k', Value: 'semi;colon' }]), 'InvalidTag', 400, 'The TagValue you have provided is invalid');
    // Characters outside the BMP count two.
    await expectError(put([{ Key: '🙂'.repeat(65), Value: 'v' }]), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
    await expectError(putHeader(`${'k'.repeat(129)}=v`), 'InvalidTag', 400, 'The TagKey you have provided is invalid');
    await expectError(putHeader('k=%26'), 'InvalidTag', 400, 'The TagValue you have provided is invalid');
  });

  it('duplicate keys, the aws: prefix and malformed headers', async () => {
    await expectError(put(tagSet({ a: '1' }).concat({ Key: 'a', Value: '2' })), 'InvalidTag', 400, 'Cannot provide multiple Tags with the same key');
    await expectError(put(tagSet({ 'aws:cloudformation:stack': 'x' })), 'InvalidTag', 400, 'Your TagKey cannot be prefixed with aws:');
    await expectError(putHeader('aws:x=1'), 'InvalidTag', 400, 'Your TagKey cannot be prefixed with aws:');
    await expectError(putHeader('a=1&a=2'), 'InvalidArgument', 400, HEADER);
    await expectError(putHeader('=orphan'), 'InvalidArgument', 400, HEADER);
    await expectError(putHeader('bad%zz=1'), 'InvalidArgument', 400, HEADER);
    // Nothing was written by the refused PUTs.
    await expectError(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'limits-h' })), 'NotFound', 404);
    // A body that is not a Tagging document.
    const raw = await send(server.url, { method: 'PUT', path: `/${B}/limits`, query: 'tagging=', body: '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>' });
    assert.equal(raw.status, 400);
    assert.match(raw.body, /<Code>MalformedXML<\/Code>/);
  });
});

describe('bucket tags', () => {
  it('Put, Get, Delete; none is NoSuchTagSet', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-bucket' }));
    await expectError(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-bucket' })), 'NoSuchTagSet', 404, 'The TagSet does not exist');
    const put = await s3.send(new PutBucketTaggingCommand({ Bucket: 'tags-bucket', Tagging: { TagSet: tagSet({ team: 'storage', cost: 'center 7' }) } }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-bucket' }))).TagSet, tagSet({ team: 'storage', cost: 'center 7' }));
    // Bucket tags are not object tags.
    await s3.send(new PutObjectCommand({ Bucket: 'tags-bucket', Key: 'o', Body: 'x' }));
    assert.deepEqual(await tagsOf('o', undefined, 'tags-bucket'), []);
    const del = await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'tags-bucket' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectError(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-bucket' })), 'NoSuchTagSet', 404);
  });

  it('up to 50 tags; no aws: keys; the same key rules as objects', async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `${i}` }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'tags-bucket', Tagging: { TagSet: fifty } }));
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-bucket' }))).TagSet!.length, 50);
    await expectError(
      s3.send(new PutBucketTaggingCommand({ Bucket: 'tags-bucket', Tagging: { TagSet: [...fifty, { Key: 'k50', Value: 'x' }] } })),
      'BadRequest',
      400,
      'Bucket tag count cannot be greater than 50',
    );
    await expectError(s3.send(new PutBucketTaggingCommand({ Bucket: 'tags-bucket', Tagging: { TagSet: tagSet({ 'aws:x': '1' }) } })), 'InvalidTag', 400, 'System tags cannot be added/updated by requester');
    await expectError(s3.send(new PutBucketTaggingCommand({ Bucket: 'tags-bucket', Tagging: { TagSet: [{ Key: 'k', Value: '<script>' }] } })), 'InvalidTag', 400, 'The TagValue you have provided is invalid');
    await expectError(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-nope' })), 'NoSuchBucket', 404);
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-bucket' }))).TagSet!.length, 50);
  });
});

describe('IAM condition keys', () => {
  let iam: IAMClient;
  const clients: S3Client[] = [];
  before(async () => {
    iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-iam' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'public.txt', Body: 'for everyone', Tagging: 'classification=public' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'secret.txt', Body: 'for few', Tagging: 'classification=secret' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'untagged.txt', Body: 'nothing' }));
  });
  after(() => {
    for (const c of clients) c.destroy();
    iam?.destroy();
  });
  async function userWith(name: string, statements: unknown[]): Promise<S3Client> {
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    const c = new S3Client({ endpoint: server.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, forcePathStyle: true });
    clients.push(c);
    return c;
  }

  it('s3:ExistingObjectTag/<key>: a user may read only the objects tagged classification=public', async () => {
    const reader = await userWith('tag-reader', [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectTagging'],
        Resource: 'arn:aws:s3:::tags-iam/*',
        Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'public' } },
      },
    ]);
    assert.equal(await (await reader.send(new GetObjectCommand({ Bucket: 'tags-iam', Key: 'public.txt' }))).Body!.transformToString(), 'for everyone');
    assert.equal((await reader.send(new HeadObjectCommand({ Bucket: 'tags-iam', Key: 'public.txt' }))).TagCount, 1);
    assert.deepEqual((await reader.send(new GetObjectTaggingCommand({ Bucket: 'tags-iam', Key: 'public.txt' }))).TagSet, tagSet({ classification: 'public' }));
    const denied = await expectError(reader.send(new GetObjectCommand({ Bucket: 'tags-iam', Key: 'secret.txt' })), 'AccessDenied', 403);
    assert.match(denied.message, /s3:GetObject/);
    await expectError(reader.send(new GetObjectCommand({ Bucket: 'tags-iam', Key: 'untagged.txt' })), 'AccessDenied', 403);
    await expectError(reader.send(new GetObjectTaggingCommand({ Bucket: 'tags-iam', Key: 'secret.txt' })), 'AccessDenied', 403);
    // Retagging changes the decision.
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags-iam', Key: 'secret.txt', Tagging: { TagSet: tagSet({ classification: 'public' }) } }));
    assert.equal(await (await reader.send(new GetObjectCommand({ Bucket: 'tags-iam', Key: 'secret.txt' }))).Body!.transformToString(), 'for few');
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags-iam', Key: 'secret.txt', Tagging: { TagSet: tagSet({ classification: 'secret' }) } }));
    await expectError(reader.send(new GetObjectCommand({ Bucket: 'tags-iam', Key: 'secret.txt' })), 'AccessDenied', 403);
  });

  it('s3:ExistingObjectTag in a bucket policy Deny binds even the account root', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-deny' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tags-deny', Key: 'locked', Body: 'x', Tagging: 'lock=on' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tags-deny', Key: 'open', Body: 'y' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tags-deny/*', Condition: { StringEquals: { 's3:ExistingObjectTag/lock': 'on' } } }],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'tags-deny', Policy: JSON.stringify(policy) }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'tags-deny', Key: 'locked' })), 'AccessDenied', 403);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'tags-deny', Key: 'open' }))).Body!.transformToString(), 'y');
    // s3:ExistingObjectTag is not a key of s3:PutObject: overwriting is not denied by it.
    await s3.send(new PutObjectCommand({ Bucket: 'tags-deny', Key: 'locked', Body: 'z' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'tags-deny', Key: 'locked' }))).Body!.transformToString(), 'z');
  });

  it('s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys: writes must carry project=blue and no other keys', async () => {
    const writer = await userWith('tag-writer', [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:PutObjectTagging'],
        Resource: 'arn:aws:s3:::tags-iam/*',
        Condition: {
          StringEquals: { 's3:RequestObjectTag/project': 'blue' },
          'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['project', 'owner'] },
        },
      },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::tags-iam/*' },
    ]);
    await writer.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'w/blue', Body: 'b', Tagging: 'project=blue&owner=me' }));
    assert.deepEqual(await tagsOf('w/blue', undefined, 'tags-iam'), tagSet({ project: 'blue', owner: 'me' }));
    const red = await expectError(writer.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'w/red', Body: 'r', Tagging: 'project=red' })), 'AccessDenied', 403);
    assert.match(red.message, /s3:PutObject/);
    await expectError(writer.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'w/none', Body: 'n' })), 'AccessDenied', 403);
    await expectError(writer.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'w/extra', Body: 'e', Tagging: 'project=blue&cost=1' })), 'AccessDenied', 403);
    // PutObjectTagging is held to the same keys.
    await writer.send(new PutObjectTaggingCommand({ Bucket: 'tags-iam', Key: 'w/blue', Tagging: { TagSet: tagSet({ project: 'blue' }) } }));
    await expectError(writer.send(new PutObjectTaggingCommand({ Bucket: 'tags-iam', Key: 'w/blue', Tagging: { TagSet: tagSet({ project: 'green' }) } })), 'AccessDenied', 403);
    assert.deepEqual(await tagsOf('w/blue', undefined, 'tags-iam'), tagSet({ project: 'blue' }));
    // So are CopyObject (REPLACE) and CreateMultipartUpload, which PutObject authorises.
    await writer.send(new CopyObjectCommand({ Bucket: 'tags-iam', Key: 'w/copy', CopySource: 'tags-iam/w/blue', TaggingDirective: 'REPLACE', Tagging: 'project=blue' }));
    await expectError(
      writer.send(new CopyObjectCommand({ Bucket: 'tags-iam', Key: 'w/copy2', CopySource: 'tags-iam/w/blue', TaggingDirective: 'REPLACE', Tagging: 'project=red' })),
      'AccessDenied',
      403,
    );
    await expectError(writer.send(new CreateMultipartUploadCommand({ Bucket: 'tags-iam', Key: 'w/mpu', Tagging: 'project=red' })), 'AccessDenied', 403);
    assert.ok((await writer.send(new CreateMultipartUploadCommand({ Bucket: 'tags-iam', Key: 'w/mpu', Tagging: 'project=blue' }))).UploadId);
  });

  it('tags on a write also need s3:PutObjectTagging', async () => {
    const putter = await userWith('tag-putter', [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::tags-iam/*' }]);
    await putter.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'p/plain', Body: 'x' }));
    const denied = await expectError(putter.send(new PutObjectCommand({ Bucket: 'tags-iam', Key: 'p/tagged', Body: 'x', Tagging: 'a=1' })), 'AccessDenied', 403);
    assert.match(denied.message, /s3:PutObjectTagging/);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'tags-iam', Key: 'p/tagged' })), 'NotFound', 404);
  });
});

describe('tags survive a restart', () => {
  it('object tags (per version) and bucket tags are there after the server restarts on its data dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-tags-restart-'));
    let srv = await startServer({ dataDir: dir });
    let c = new S3Client({ endpoint: srv.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
    try {
      await c.send(new CreateBucketCommand({ Bucket: 'persist' }));
      await c.send(new PutBucketVersioningCommand({ Bucket: 'persist', VersioningConfiguration: { Status: 'Enabled' } }));
      const v1 = (await c.send(new PutObjectCommand({ Bucket: 'persist', Key: 'k', Body: '1', Tagging: 'gen=1' }))).VersionId!;
      await c.send(new PutObjectCommand({ Bucket: 'persist', Key: 'k', Body: '2', Tagging: 'gen=2' }));
      await c.send(new PutBucketTaggingCommand({ Bucket: 'persist', Tagging: { TagSet: tagSet({ env: 'test' }) } }));
      c.destroy();
      await srv.kill();
      srv = await startServer({ dataDir: dir });
      c = new S3Client({ endpoint: srv.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
      assert.deepEqual((await c.send(new GetObjectTaggingCommand({ Bucket: 'persist', Key: 'k' }))).TagSet, tagSet({ gen: '2' }));
      assert.deepEqual((await c.send(new GetObjectTaggingCommand({ Bucket: 'persist', Key: 'k', VersionId: v1 }))).TagSet, tagSet({ gen: '1' }));
      assert.equal((await c.send(new HeadObjectCommand({ Bucket: 'persist', Key: 'k' }))).TagCount, 1);
      assert.deepEqual((await c.send(new GetBucketTaggingCommand({ Bucket: 'persist' }))).TagSet, tagSet({ env: 'test' }));
    } finally {
      c.destroy();
      await srv.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the AWS CLI', () => {
  before(() => requireAwsCli());
  const json = (args: string[]) => JSON.parse(aws(server.url, [...args, '--output', 'json']) || '{}');

  it('s3api put-object --tagging, put-object-tagging, get-object-tagging, delete-object-tagging, put-bucket-tagging', () => {
    aws(server.url, ['s3api', 'create-bucket', '--bucket', 'tags-cli']);
    aws(server.url, ['s3api', 'put-object', '--bucket', 'tags-cli', '--key', 'a.txt', '--tagging', 'stage=raw']);
    assert.deepEqual(json(['s3api', 'get-object-tagging', '--bucket', 'tags-cli', '--key', 'a.txt']), { TagSet: [{ Key: 'stage', Value: 'raw' }] });
    aws(server.url, ['s3api', 'put-object-tagging', '--bucket', 'tags-cli', '--key', 'a.txt', '--tagging', 'TagSet=[{Key=stage,Value=clean},{Key=owner,Value=cli}]']);
    assert.deepEqual(json(['s3api', 'get-object-tagging', '--bucket', 'tags-cli', '--key', 'a.txt']), {
      TagSet: [
        { Key: 'stage', Value: 'clean' },
        { Key: 'owner', Value: 'cli' },
      ],
    });
    assert.equal(json(['s3api', 'head-object', '--bucket', 'tags-cli', '--key', 'a.txt']).TagCount, 2);
    aws(server.url, ['s3api', 'delete-object-tagging', '--bucket', 'tags-cli', '--key', 'a.txt']);
    assert.deepEqual(json(['s3api', 'get-object-tagging', '--bucket', 'tags-cli', '--key', 'a.txt']), { TagSet: [] });
    const bad = awsFails(server.url, ['s3api', 'put-object-tagging', '--bucket', 'tags-cli', '--key', 'a.txt', '--tagging', 'TagSet=[{Key=aws:x,Value=1}]']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /InvalidTag/);
    aws(server.url, ['s3api', 'put-bucket-tagging', '--bucket', 'tags-cli', '--tagging', 'TagSet=[{Key=team,Value=data}]']);
    assert.deepEqual(json(['s3api', 'get-bucket-tagging', '--bucket', 'tags-cli']), { TagSet: [{ Key: 'team', Value: 'data' }] });
  });
});
