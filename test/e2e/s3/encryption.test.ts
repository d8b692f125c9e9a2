import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseLogId } from '../../../src/storage/body-log.js';
import {
  S3Client,
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  DeleteBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  CopyObjectCommand,
  GetObjectAttributesCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
  ListPartsCommand,
  ListObjectsV2Command,
  DeleteObjectCommand,
  PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { send, errorCode } from '../../helpers/sign.js';
import { aws, awsFails, requireAwsCli } from '../../helpers/python.js';
import { hmac, signingKey } from '../../../src/protocol/sigv4/canonical.js';

/**
 * S3 server-side encryption end to end, judged by @aws-sdk/client-s3 and the AWS CLI:
 * the bucket default (SSE-S3 since January 2023, SSE-KMS when configured), the SSE-S3 and
 * SSE-KMS headers of every write and read, and SSE-C with bodies really encrypted at rest.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
 */
let server: TestServer;
let s3: S3Client;
const ACCOUNT = '000000000000';

const md5Hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const md5B64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const text = (o: { Body?: { transformToString(): Promise<string> } }) => o.Body!.transformToString();
const bytes = async (o: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) => Buffer.from(await o.Body!.transformToByteArray());

/** SDK v3 takes the key as base64 (or bytes) and computes the MD5 itself. */
function sseC(key: Buffer) {
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') };
}
function copySourceSseC(key: Buffer) {
  return { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key.toString('base64') };
}
/** The raw headers of an SSE-C request (for what SDKs never send: a wrong MD5, a short key). */
function sseCHeaders(key: Buffer, md5 = md5B64(key)): Record<string, string> {
  return {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': key.toString('base64'),
    'x-amz-server-side-encryption-customer-key-MD5': md5,
  };
}

async function bucket(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** The bytes Nimbus stores for a key's current version: its range of the body log, or the blob file. */
function storedBytes(bucketName: string, key: string): Buffer {
  const db = new Database(join(server.dataDir, 'metadata.sqlite'), { readonly: true });
  try {
    const row = db
      .prepare('SELECT o.body_kind AS kind, o.body_id AS id FROM objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.name = ? AND o.key = ?')
      .get(bucketName, key) as { kind: string; id: string } | undefined;
    assert.ok(row, `no stored row for ${bucketName}/${key}`);
    if (row.kind === 'inline') {
      // A small body is a range of a body-log segment, named by the id (body-log.ts).
      const at = parseLogId(row.id);
      assert.ok(at, `a body-log id: ${row.id}`);
      const segment = readFileSync(join(server.dataDir, 'bodies', `${String(at.segment).padStart(8, '0')}.log`));
      return segment.subarray(at.offset, at.offset + at.length);
    }
    const file = join(server.dataDir, 'blobs', row.id.slice(0, 2), row.id);
    assert.ok(existsSync(file), 'the blob file exists');
    // A multipart object's parts linked into a compound blob: a folder of its files, in order.
    if (statSync(file).isDirectory()) return Buffer.concat(readdirSync(file).sort().map((f) => readFileSync(join(file, f))));
    return readFileSync(file);
  } finally {
    db.close();
  }
}

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('bucket default encryption', () => {
  it('a new bucket answers the SSE-S3 rule (AWS default since January 2023), and its objects are AES256 with MD5 ETags', async () => {
    const b = await bucket('enc-default');
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    assert.deepEqual(got.ServerSideEncryptionConfiguration?.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'plain' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.equal(put.ETag, `"${md5Hex('plain')}"`);
    assert.equal(put.SSEKMSKeyId, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ServerSideEncryption, 'AES256');
  });

  it('PutBucketEncryption aws:kms applies to writes that name no encryption; DeleteBucketEncryption returns to SSE-S3', async () => {
    const b = await bucket('enc-kms-default');
    const keyId = '1234abcd-12ab-34cd-56ef-1234567890ab';
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyId }, BucketKeyEnabled: true }] },
      }),
    );
    // The key id is echoed as given; objects report it as an ARN in the bucket's region and account.
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    assert.deepEqual(got.ServerSideEncryptionConfiguration?.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyId }, BucketKeyEnabled: true }]);
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'secret' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, arn);
    assert.equal(put.BucketKeyEnabled, true);
    // "Objects … encrypted by SSE-C or SSE-KMS, have ETags that are not an MD5 digest of their object data."
    assert.match(put.ETag!, /^"[0-9a-f]{32}"$/);
    assert.notEqual(put.ETag, `"${md5Hex('secret')}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId, head.BucketKeyEnabled, head.ETag], ['aws:kms', arn, true, put.ETag]);
    const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual([get.ServerSideEncryption, get.SSEKMSKeyId, get.BucketKeyEnabled], ['aws:kms', arn, true]);
    assert.equal(await text(get), 'secret');
    // The request's own encryption wins over the default.
    const s3put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'aes', Body: 'x', ServerSideEncryption: 'AES256' }));
    assert.deepEqual([s3put.ServerSideEncryption, s3put.SSEKMSKeyId, s3put.ETag], ['AES256', undefined, `"${md5Hex('x')}"`]);

    const del = await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const reset = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    assert.deepEqual(reset.ServerSideEncryptionConfiguration?.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
    const after = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'y' }));
    assert.deepEqual([after.ServerSideEncryption, after.SSEKMSKeyId], ['AES256', undefined]);
    // Existing versions keep the encryption they were written with.
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ServerSideEncryption, 'aws:kms');
    // A second delete is a 204 too.
    assert.equal((await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
  });

  it('aws:kms without a key id uses the AWS managed key aws/s3, as an ARN; aws:kms:dsse takes no Bucket Key', async () => {
    const b = await bucket('enc-kms-managed');
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    assert.match(put.SSEKMSKeyId!, new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
    assert.equal(put.BucketKeyEnabled, undefined, 'S3 sends the Bucket Key header only when it is on');
    // The same managed key every time.
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'x', ServerSideEncryption: 'aws:kms' }))).SSEKMSKeyId, put.SSEKMSKeyId);
    await s3.send(
      new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse' }, BucketKeyEnabled: true }] } }),
    );
    const dsse = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'd', Body: 'x' }));
    assert.deepEqual([dsse.ServerSideEncryption, dsse.BucketKeyEnabled], ['aws:kms:dsse', undefined]);
    assert.equal(dsse.SSEKMSKeyId, put.SSEKMSKeyId);
  });

  it('refuses what S3 refuses: no rule, two rules, a KMS key with AES256, an unknown algorithm, a bucket that does not exist', async () => {
    const b = await bucket('enc-bad-config');
    await expectError(s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [] } })), 'MalformedXML', 400);
    const rule = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };
    await expectError(s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [rule, rule] } })), 'MalformedXML', 400);
    await expectError(
      s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'k' } }] } })),
      'InvalidArgument',
      400,
      /a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse/,
    );
    await expectError(
      s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES512' as 'AES256' } }] } })),
      'MalformedXML',
      400,
    );
    await expectError(s3.send(new GetBucketEncryptionCommand({ Bucket: 'enc-no-such-bucket' })), 'NoSuchBucket', 404);
    await expectError(s3.send(new DeleteBucketEncryptionCommand({ Bucket: 'enc-no-such-bucket' })), 'NoSuchBucket', 404);
    // Nothing was stored by the refused requests.
    assert.equal((await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
  });

  it('BlockedEncryptionTypes SSE-C refuses SSE-C writes with 403; objects already there stay readable; NONE unblocks', async () => {
    const b = await bucket('enc-block-ssec');
    const key = randomBytes(32);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'before', Body: 'old', ...sseC(key) }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] } }));
    assert.deepEqual((await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.BlockedEncryptionTypes, { EncryptionType: ['SSE-C'] });
    await expectError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: 'new', ...sseC(key) })), 'AccessDenied', 403, /blocked upload requests that specify Server Side Encryption with Customer provided keys/);
    await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ...sseC(key) })), 'AccessDenied', 403);
    await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/before`, ...copySourceSseC(key), ...sseC(key) })), 'AccessDenied', 403);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'before', ...sseC(key) }))), 'old');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'fine' }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['NONE'] } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: 'new', ...sseC(key) }));
  });
});

describe('SSE-S3 and SSE-KMS headers', () => {
  let b: string;
  before(async () => {
    b = await bucket('enc-headers');
  });

  it('PutObject echoes aws:kms, the key ARN, the context and the Bucket Key; GET and HEAD echo all but the context', async () => {
    const context = Buffer.from(JSON.stringify({ project: 'nimbus' })).toString('base64');
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0f0e0d0c-0b0a-4908-8706-050403020100`;
    const put = await s3.send(
      new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'data', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn, SSEKMSEncryptionContext: context, BucketKeyEnabled: true }),
    );
    assert.deepEqual([put.ServerSideEncryption, put.SSEKMSKeyId, put.SSEKMSEncryptionContext, put.BucketKeyEnabled], ['aws:kms', arn, context, true]);
    for (const out of [await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'kms' })), await s3.send(new GetObjectCommand({ Bucket: b, Key: 'kms' }))]) {
      assert.deepEqual([out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled], ['aws:kms', arn, true]);
      assert.equal((out as { SSEKMSEncryptionContext?: string }).SSEKMSEncryptionContext, undefined);
    }
    // An alias is reported in the bucket's region and account.
    const alias = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'alias', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/app' }));
    assert.equal(alias.SSEKMSKeyId, `arn:aws:kms:${REGION}:${ACCOUNT}:alias/app`);
    const dsse = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dsse', Body: 'x', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: arn }));
    assert.deepEqual([dsse.ServerSideEncryption, dsse.SSEKMSKeyId], ['aws:kms:dsse', arn]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'dsse' }))).ServerSideEncryption, 'aws:kms:dsse');
  });

  it('CopyObject takes the encryption it names, else the destination default — never the source\'s', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'copy me', ServerSideEncryption: 'aws:kms' }));
    const plain = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst-plain', CopySource: `${b}/src` }));
    assert.deepEqual([plain.ServerSideEncryption, plain.SSEKMSKeyId], ['AES256', undefined]);
    assert.equal(plain.CopyObjectResult?.ETag, `"${md5Hex('copy me')}"`);
    const kms = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst-kms', CopySource: `${b}/dst-plain`, ServerSideEncryption: 'aws:kms', BucketKeyEnabled: true }));
    assert.deepEqual([kms.ServerSideEncryption, kms.BucketKeyEnabled], ['aws:kms', true]);
    assert.match(kms.SSEKMSKeyId!, /^arn:aws:kms:/);
    // Changing only the encryption of an object by copying it onto itself is allowed.
    const inPlace = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst-plain', CopySource: `${b}/dst-plain`, ServerSideEncryption: 'aws:kms' }));
    assert.equal(inPlace.ServerSideEncryption, 'aws:kms');
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dst-plain' }))), 'copy me');
    await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src` })), 'InvalidRequest', 400, /copy an object to itself/);
  });

  it('multipart: CreateMultipartUpload, UploadPart and CompleteMultipartUpload echo SSE-KMS', async () => {
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn, BucketKeyEnabled: true }));
    assert.deepEqual([create.ServerSideEncryption, create.SSEKMSKeyId, create.BucketKeyEnabled], ['aws:kms', arn, true]);
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, PartNumber: 1, Body: 'only part' }));
    assert.deepEqual([part.ServerSideEncryption, part.SSEKMSKeyId, part.BucketKeyEnabled], ['aws:kms', arn, true]);
    assert.notEqual(part.ETag, `"${md5Hex('only part')}"`);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.deepEqual([done.ServerSideEncryption, done.SSEKMSKeyId, done.BucketKeyEnabled], ['aws:kms', arn, true]);
    assert.match(done.ETag!, /^"[0-9a-f]{32}-1"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mpu' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId], ['aws:kms', arn]);
  });

  it('invalid values are InvalidArgument in S3\'s words; reads take no SSE headers', async () => {
    await expectError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ServerSideEncryption: 'AES512' as 'AES256' })), 'InvalidArgument', 400, /^The encryption method specified is not supported$/);
    await expectError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: 'abc' })),
      'InvalidArgument',
      400,
      /Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms/,
    );
    await expectError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSEncryptionContext: Buffer.from('[1]').toString('base64') })),
      'InvalidArgument',
      400,
      /x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON/,
    );
    await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'x', ServerSideEncryption: 'aws:fsx' })), 'InvalidArgument', 400);
    const empty = await send(server.url, { method: 'PUT', path: `/${b}/x`, body: 'x', headers: { 'x-amz-server-side-encryption': '' } });
    assert.equal(empty.status, 400);
    assert.equal(errorCode(empty.body), 'InvalidArgument');
    assert.match(empty.body, /<ArgumentName>x-amz-server-side-encryption<\/ArgumentName>/);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'readme', Body: 'x' }));
    const get = await send(server.url, { method: 'GET', path: `/${b}/readme`, headers: { 'x-amz-server-side-encryption': 'AES256' } });
    assert.equal(get.status, 400);
    assert.equal(errorCode(get.body), 'InvalidArgument');
    assert.match(get.body, /x-amz-server-side-encryption header is not supported for this operation\./);
    const head = await send(server.url, { method: 'HEAD', path: `/${b}/readme`, headers: { 'x-amz-server-side-encryption-aws-kms-key-id': 'k' } });
    assert.equal(head.status, 400);
  });
});

describe('bucket policies on the encryption a write names', () => {
  it('s3:x-amz-server-side-encryption and -customer-algorithm are condition keys of PutObject, CopyObject and CreateMultipartUpload', async () => {
    const b = await bucket('enc-policy');
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await iam.send(new CreateUserCommand({ UserName: 'writer' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'writer',
        PolicyName: 'rw',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: `arn:aws:s3:::${b}/*` }] }),
      }),
    );
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'writer' }))).AccessKey!;
    iam.destroy();
    // The usual "require SSE-KMS" policy, and one that forbids SSE-C in a prefix.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'kms', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/kms/*`, Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } },
            { Sid: 'noc', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/plain/*`, Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } } },
          ],
        }),
      }),
    );
    const user = new S3Client({ endpoint: server.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, forcePathStyle: true });
    try {
      await expectError(user.send(new PutObjectCommand({ Bucket: b, Key: 'kms/a', Body: 'x' })), 'AccessDenied', 403);
      await expectError(user.send(new PutObjectCommand({ Bucket: b, Key: 'kms/a', Body: 'x', ServerSideEncryption: 'AES256' })), 'AccessDenied', 403);
      await user.send(new PutObjectCommand({ Bucket: b, Key: 'kms/a', Body: 'x', ServerSideEncryption: 'aws:kms' }));
      await expectError(user.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'kms/m' })), 'AccessDenied', 403);
      await user.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'kms/m', ServerSideEncryption: 'aws:kms' }));
      await expectError(user.send(new CopyObjectCommand({ Bucket: b, Key: 'kms/c', CopySource: `${b}/kms/a` })), 'AccessDenied', 403);
      await user.send(new CopyObjectCommand({ Bucket: b, Key: 'kms/c', CopySource: `${b}/kms/a`, ServerSideEncryption: 'aws:kms' }));
      const key = randomBytes(32);
      await expectError(user.send(new PutObjectCommand({ Bucket: b, Key: 'plain/a', Body: 'x', ...sseC(key) })), 'AccessDenied', 403);
      await user.send(new PutObjectCommand({ Bucket: b, Key: 'plain/a', Body: 'x' }));
    } finally {
      user.destroy();
    }
  });
});

describe('SSE-C', () => {
  let b: string;
  const key = randomBytes(32);
  const other = randomBytes(32);
  before(async () => {
    b = await bucket('enc-ssec');
  });

  it('put, get, HEAD and ranges with the right key; the ETag is not the MD5 and differs per upload; the stored bytes are not the plaintext', async () => {
    const body = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(40));
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: body, ...sseC(key), ContentType: 'text/plain', Metadata: { note: 'kept' } }));
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, md5B64(key));
    assert.equal(put.ServerSideEncryption, undefined, 'SSE-C writes answer no x-amz-server-side-encryption');
    assert.match(put.ETag!, /^"[0-9a-f]{32}"$/);
    assert.notEqual(put.ETag, `"${md5Hex(body)}"`);
    const again = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'small-again', Body: body, ...sseC(key) }));
    assert.notEqual(again.ETag, put.ETag, 'a fresh IV per upload');

    const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'small', ...sseC(key) }));
    assert.deepEqual([get.SSECustomerAlgorithm, get.SSECustomerKeyMD5, get.ServerSideEncryption, get.ETag, get.ContentType, get.Metadata?.note], ['AES256', md5B64(key), undefined, put.ETag, 'text/plain', 'kept']);
    assert.deepEqual(await bytes(get), body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'small', ...sseC(key) }));
    assert.deepEqual([head.ContentLength, head.SSECustomerAlgorithm, head.SSECustomerKeyMD5], [body.length, 'AES256', md5B64(key)]);
    // Ranges decrypt from the middle of an AES block and of the body.
    for (const [from, to] of [
      [0, 0],
      [5, 20],
      [15, 16],
      [17, 1000],
      [body.length - 3, body.length - 1],
    ] as const) {
      const r = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'small', Range: `bytes=${from}-${to}`, ...sseC(key) }));
      assert.equal(r.ContentRange, `bytes ${from}-${to}/${body.length}`);
      assert.deepEqual(await bytes(r), body.subarray(from, to + 1));
    }
    const suffix = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'small', Range: 'bytes=-7', ...sseC(key) }));
    assert.deepEqual(await bytes(suffix), body.subarray(body.length - 7));

    // Inline in SQLite (≤ 64 KiB): the row holds an IV and ciphertext, never the plaintext.
    const stored = storedBytes(b, 'small');
    assert.equal(stored.length, body.length + 16);
    assert.equal(stored.indexOf(body.subarray(0, 16)), -1, 'the plaintext is not in the stored bytes');
    // Listings need no key and show the stored ETag and the plaintext size.
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'small' }))).Contents!.find((o) => o.Key === 'small')!;
    assert.deepEqual([listed.ETag, listed.Size], [put.ETag, body.length]);
  });

  it('a body spilled to a file is encrypted too, and large ranges decrypt across read chunks', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 123);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'large', Body: body, ...sseC(key) }));
    const stored = storedBytes(b, 'large');
    assert.equal(stored.length, body.length + 16);
    assert.equal(stored.indexOf(body.subarray(1000, 1064)), -1);
    assert.deepEqual(await bytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'large', ...sseC(key) }))), body);
    const r = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'large', Range: 'bytes=1048570-2621450', ...sseC(key) }));
    assert.deepEqual(await bytes(r), body.subarray(1048570, 2621451));
  });

  it('without the key: 400 InvalidRequest; with another key: 403 AccessDenied; a key on an object that has none: 400', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'locked', Body: 'top secret', ...sseC(key) }));
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: 'locked' })),
      'InvalidRequest',
      400,
      /^The object was stored using a form of Server Side Encryption\. The correct parameters must be provided to retrieve the object\.$/,
    );
    await expectError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'locked' })), undefined, 400);
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'locked', ...sseC(other) })), 'AccessDenied', 403, /must provide the correct secret key/);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'locked', ...sseC(other) })), undefined, 403);
    await expectError(s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'locked', ObjectAttributes: ['ETag'] })), 'InvalidRequest', 400);
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'locked', ObjectAttributes: ['ETag', 'ObjectSize'], ...sseC(key) }));
    assert.equal(attrs.ObjectSize, 'top secret'.length);
    // A read with a key of the wrong length does not match: 403, as on AWS.
    const short = randomBytes(16);
    const r = await send(server.url, { method: 'GET', path: `/${b}/locked`, headers: sseCHeaders(short) });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.body), 'AccessDenied');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'unlocked', Body: 'x' }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'unlocked', ...sseC(key) })), 'InvalidRequest', 400, /The encryption parameters are not applicable to this object\./);
    // Deleting needs no key.
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'locked' }));
  });

  it('malformed keys and MD5s are refused in S3\'s words', async () => {
    const wrongMd5 = await send(server.url, { method: 'PUT', path: `/${b}/bad`, body: 'x', headers: sseCHeaders(key, md5B64(other)) });
    assert.equal(wrongMd5.status, 400);
    assert.equal(errorCode(wrongMd5.body), 'InvalidArgument');
    assert.match(wrongMd5.body, /The calculated MD5 hash of the key did not match the hash that was provided\./);
    const shortKey = randomBytes(16);
    const short = await send(server.url, { method: 'PUT', path: `/${b}/bad`, body: 'x', headers: sseCHeaders(shortKey) });
    assert.equal(short.status, 400);
    assert.match(short.body, /The secret key was invalid for the specified algorithm\./);
    const algo = await send(server.url, { method: 'PUT', path: `/${b}/bad`, body: 'x', headers: { ...sseCHeaders(key), 'x-amz-server-side-encryption-customer-algorithm': 'AES128' } });
    assert.equal(algo.status, 400);
    assert.equal(errorCode(algo.body), 'InvalidEncryptionAlgorithmError');
    assert.match(algo.body, /The Encryption request you specified is not valid\. Supported value: AES256\./);
    const noKey = await send(server.url, { method: 'PUT', path: `/${b}/bad`, body: 'x', headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } });
    assert.equal(noKey.status, 400);
    assert.match(noKey.body, /must provide an appropriate secret key\./);
    const noAlgo = await send(server.url, { method: 'PUT', path: `/${b}/bad`, body: 'x', headers: { 'x-amz-server-side-encryption-customer-key': key.toString('base64') } });
    assert.equal(noAlgo.status, 400);
    assert.match(noAlgo.body, /must provide a valid encryption algorithm\./);
    await expectError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'bad', Body: 'x', ServerSideEncryption: 'AES256', ...sseC(key) })),
      'InvalidArgument',
      400,
      /Server Side Encryption with Customer provided key is incompatible with the encryption method specified/,
    );
    // None of them stored anything.
    await expectError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'bad' })), undefined, 404);
  });

  it('CopyObject: into SSE-C, out of SSE-C (the source key is x-amz-copy-source-…), between two keys, and refusals', async () => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'copy-plain', Body: 'from plain' }));
    const into = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-into', CopySource: `${b}/copy-plain`, ...sseC(key) }));
    assert.deepEqual([into.SSECustomerAlgorithm, into.SSECustomerKeyMD5, into.ServerSideEncryption], ['AES256', md5B64(key), undefined]);
    assert.notEqual(into.CopyObjectResult?.ETag, `"${md5Hex('from plain')}"`);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy-into', ...sseC(key) }))), 'from plain');
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy-into' })), 'InvalidRequest', 400);

    // Out of SSE-C without the source key: the same refusal as a GET.
    await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-out', CopySource: `${b}/copy-into` })), 'InvalidRequest', 400, /stored using a form of Server Side Encryption/);
    await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-out', CopySource: `${b}/copy-into`, ...copySourceSseC(other) })), 'AccessDenied', 403);
    const out = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-out', CopySource: `${b}/copy-into`, ...copySourceSseC(key) }));
    assert.equal(out.ServerSideEncryption, 'AES256');
    assert.equal(out.CopyObjectResult?.ETag, `"${md5Hex('from plain')}"`);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy-out' }))), 'from plain');

    // Re-keying: from one customer key to another, onto the same key.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-into', CopySource: `${b}/copy-into`, ...copySourceSseC(key), ...sseC(other) }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy-into', ...sseC(key) })), 'AccessDenied', 403);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy-into', ...sseC(other) }))), 'from plain');
  });

  it('multipart: every part carries the key and is encrypted as it arrives; ranges and partNumber cross parts; UploadPartCopy from SSE-C', async () => {
    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(70 * 1024);
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ...sseC(key), ChecksumAlgorithm: 'CRC32' }));
    assert.deepEqual([create.SSECustomerAlgorithm, create.SSECustomerKeyMD5], ['AES256', md5B64(key)]);
    // A part without the key, or with another one, is refused.
    await expectError(s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, PartNumber: 1, Body: p1 })), 'InvalidRequest', 400, /Subsequent part requests must include the appropriate encryption parameters/);
    await expectError(
      s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, PartNumber: 1, Body: p1, ...sseC(other) })),
      'InvalidRequest',
      400,
      /The provided encryption parameters did not match the ones used originally\./,
    );
    const u1 = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, PartNumber: 1, Body: p1, ...sseC(key) }));
    assert.deepEqual([u1.SSECustomerAlgorithm, u1.SSECustomerKeyMD5], ['AES256', md5B64(key)]);
    assert.notEqual(u1.ETag, `"${md5Hex(p1)}"`);
    // Part 2 copied from an SSE-C object: decrypted with the source key, encrypted with the upload's.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'mpu-src', Body: p2, ...sseC(other) }));
    const u2 = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, PartNumber: 2, CopySource: `${b}/mpu-src`, ...copySourceSseC(other), ...sseC(key) }));
    assert.equal(u2.SSECustomerKeyMD5, md5B64(key));
    // ListParts needs no key.
    assert.deepEqual((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId }))).Parts?.map((p) => p.Size), [p1.length, p2.length]);
    // With a checksum algorithm, Complete needs the key (its checksum is over the plaintext).
    const parts = { Parts: [{ PartNumber: 1, ETag: u1.ETag, ChecksumCRC32: u1.ChecksumCRC32 }, { PartNumber: 2, ETag: u2.CopyPartResult?.ETag, ChecksumCRC32: u2.CopyPartResult?.ChecksumCRC32 }] };
    await expectError(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, MultipartUpload: parts })), 'InvalidArgument', 400);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: create.UploadId, MultipartUpload: parts, ...sseC(key) }));
    assert.match(done.ETag!, /^"[0-9a-f]{32}-2"$/);

    const whole = Buffer.concat([p1, p2]);
    const stored = storedBytes(b, 'mpu');
    assert.equal(stored.length, whole.length + 32, 'one IV per part');
    assert.equal(stored.indexOf(p2.subarray(0, 64)), -1);
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu' })), 'InvalidRequest', 400);
    assert.deepEqual(await bytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', ...sseC(key) }))), whole);
    const across = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', Range: `bytes=${p1.length - 10}-${p1.length + 9}`, ...sseC(key) }));
    assert.deepEqual(await bytes(across), whole.subarray(p1.length - 10, p1.length + 10));
    const part2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', PartNumber: 2, ...sseC(key) }));
    assert.equal(part2.PartsCount, 2);
    assert.deepEqual(await bytes(part2), p2);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mpu', ...sseC(key), ChecksumMode: 'ENABLED' }));
    assert.equal(head.ContentLength, whole.length);
    assert.match(head.ChecksumCRC32!, /-2$/);
  });

  it('multipart with a FULL_OBJECT checksum: Complete takes the checksum over the plaintext, the same as without encryption', async () => {
    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(1234);
    const results: Record<string, string | undefined> = {};
    for (const [name, enc] of [
      ['plain', {}],
      ['ssec', sseC(key)],
    ] as const) {
      const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: `full-${name}`, ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT', ...enc }));
      const u1 = await s3.send(new UploadPartCommand({ Bucket: b, Key: `full-${name}`, UploadId: create.UploadId, PartNumber: 1, Body: p1, ChecksumAlgorithm: 'CRC64NVME', ...enc }));
      const u2 = await s3.send(new UploadPartCommand({ Bucket: b, Key: `full-${name}`, UploadId: create.UploadId, PartNumber: 2, Body: p2, ChecksumAlgorithm: 'CRC64NVME', ...enc }));
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: `full-${name}`,
          UploadId: create.UploadId,
          ...enc,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: u1.ETag }, { PartNumber: 2, ETag: u2.ETag }] },
        }),
      );
      assert.equal(done.ChecksumType, 'FULL_OBJECT');
      results[name] = done.ChecksumCRC64NVME;
    }
    assert.ok(results.plain);
    assert.equal(results.ssec, results.plain);
    assert.deepEqual(await bytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'full-ssec', ...sseC(key) }))), Buffer.concat([p1, p2]));
  });

  it('POST Object takes the SSE-C and SSE-KMS fields and answers their headers', async () => {
    const d = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const credential = `test/${d.slice(0, 8)}/${REGION}/s3/aws4_request`;
    const postForm = async (objectKey: string, extra: Record<string, string>) => {
      const fields: Record<string, string> = { key: objectKey, ...extra, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': d };
      const conditions = [{ bucket: b }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))];
      const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 300_000).toISOString(), conditions })).toString('base64');
      const fd = new FormData();
      for (const [k, v] of Object.entries({ ...fields, policy, 'x-amz-signature': hmac(signingKey('test', d.slice(0, 8), REGION, 's3'), policy).toString('hex') })) fd.append(k, v);
      fd.append('file', new Blob(['posted secret']), 'f.txt');
      return fetch(`${server.url}/${b}`, { method: 'POST', body: fd });
    };
    const c = await postForm('posted-ssec', {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-MD5': md5B64(key),
    });
    assert.equal(c.status, 204, await c.text());
    assert.equal(c.headers.get('x-amz-server-side-encryption'), null);
    assert.equal(c.headers.get('x-amz-server-side-encryption-customer-algorithm'), 'AES256');
    assert.equal(c.headers.get('x-amz-server-side-encryption-customer-key-md5'), md5B64(key));
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'posted-ssec', ...sseC(key) }))), 'posted secret');
    assert.equal(storedBytes(b, 'posted-ssec').indexOf('posted secret'), -1);
    const k = await postForm('posted-kms', { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-bucket-key-enabled': 'true' });
    assert.equal(k.status, 204, await k.text());
    assert.equal(k.headers.get('x-amz-server-side-encryption'), 'aws:kms');
    assert.equal(k.headers.get('x-amz-server-side-encryption-bucket-key-enabled'), 'true');
    assert.match(k.headers.get('x-amz-server-side-encryption-aws-kms-key-id') ?? '', /^arn:aws:kms:/);
  });

  it('each version of a versioned key keeps its own key', async () => {
    const vb = await bucket('enc-ssec-versions');
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'one', ...sseC(key) }))).VersionId;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'two', ...sseC(other) }))).VersionId;
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v1, ...sseC(key) }))), 'one');
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v2, ...sseC(other) }))), 'two');
    await expectError(s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v1, ...sseC(other) })), 'AccessDenied', 403);
  });
});

describe('the AWS CLI', () => {
  let dir: string;
  before(() => {
    requireAwsCli();
    dir = mkdtempSync(join(tmpdir(), 'nimbus-sse-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('aws s3 cp --sse-c AES256 --sse-c-key up and down; without the key the download fails', async () => {
    const b = await bucket('enc-cli');
    const keyFile = join(dir, 'key.bin');
    const key = randomBytes(32);
    writeFileSync(keyFile, key);
    const data = randomBytes(200_000);
    writeFileSync(join(dir, 'up.bin'), data);
    aws(server.url, ['s3', 'cp', join(dir, 'up.bin'), `s3://${b}/cli.bin`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
    const stored = storedBytes(b, 'cli.bin');
    assert.equal(stored.indexOf(data.subarray(0, 64)), -1);
    aws(server.url, ['s3', 'cp', `s3://${b}/cli.bin`, join(dir, 'down.bin'), '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
    assert.deepEqual(readFileSync(join(dir, 'down.bin')), data);
    const head = JSON.parse(aws(server.url, ['s3api', 'head-object', '--bucket', b, '--key', 'cli.bin', '--sse-customer-algorithm', 'AES256', '--sse-customer-key', `fileb://${keyFile}`]));
    assert.equal(head.SSECustomerKeyMD5, md5B64(key));
    const fail = awsFails(server.url, ['s3', 'cp', `s3://${b}/cli.bin`, join(dir, 'nokey.bin')]);
    assert.notEqual(fail.status, 0);
    assert.match(fail.stderr, /400|Bad Request/);

    // Past the CLI's 8 MiB threshold: a multipart upload (the key on every part and on
    // Complete) and a download in parallel ranged GETs.
    const big = randomBytes(9 * 1024 * 1024 + 5);
    writeFileSync(join(dir, 'big.bin'), big);
    aws(server.url, ['s3', 'cp', join(dir, 'big.bin'), `s3://${b}/big.bin`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
    assert.match(JSON.parse(aws(server.url, ['s3api', 'head-object', '--bucket', b, '--key', 'big.bin', '--sse-customer-algorithm', 'AES256', '--sse-customer-key', `fileb://${keyFile}`])).ETag, /-2"$/);
    aws(server.url, ['s3', 'cp', `s3://${b}/big.bin`, join(dir, 'big-down.bin'), '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
    assert.deepEqual(readFileSync(join(dir, 'big-down.bin')), big);
    // S3 to S3, re-keyed: the source key as --sse-c-copy-source-key.
    const key2 = join(dir, 'key2.bin');
    writeFileSync(key2, randomBytes(32));
    aws(server.url, [
      's3', 'cp', `s3://${b}/cli.bin`, `s3://${b}/rekeyed.bin`,
      '--sse-c-copy-source', 'AES256', '--sse-c-copy-source-key', `fileb://${keyFile}`,
      '--sse-c', 'AES256', '--sse-c-key', `fileb://${key2}`,
    ]);
    aws(server.url, ['s3', 'cp', `s3://${b}/rekeyed.bin`, join(dir, 'rekeyed.bin'), '--sse-c', 'AES256', '--sse-c-key', `fileb://${key2}`]);
    assert.deepEqual(readFileSync(join(dir, 'rekeyed.bin')), data);
  });

  it('aws s3api put-bucket-encryption / get-bucket-encryption / delete-bucket-encryption', async () => {
    const b = await bucket('enc-cli-config');
    const before = JSON.parse(aws(server.url, ['s3api', 'get-bucket-encryption', '--bucket', b]));
    assert.deepEqual(before.ServerSideEncryptionConfiguration.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
    aws(server.url, [
      's3api',
      'put-bucket-encryption',
      '--bucket',
      b,
      '--server-side-encryption-configuration',
      JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/cli' }, BucketKeyEnabled: true }] }),
    ]);
    const got = JSON.parse(aws(server.url, ['s3api', 'get-bucket-encryption', '--bucket', b]));
    assert.deepEqual(got.ServerSideEncryptionConfiguration.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/cli' }, BucketKeyEnabled: true }]);
    writeFileSync(join(dir, 'f.txt'), 'hello');
    const put = JSON.parse(aws(server.url, ['s3api', 'put-object', '--bucket', b, '--key', 'f.txt', '--body', join(dir, 'f.txt')]));
    assert.deepEqual([put.ServerSideEncryption, put.SSEKMSKeyId, put.BucketKeyEnabled], ['aws:kms', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/cli`, true]);
    aws(server.url, ['s3api', 'delete-bucket-encryption', '--bucket', b]);
    assert.equal(JSON.parse(aws(server.url, ['s3api', 'get-bucket-encryption', '--bucket', b])).ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
  });
});
