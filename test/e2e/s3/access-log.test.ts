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
  DeleteObjectsCommand,
  PutBucketVersioningCommand,
  ListObjectsV2Command,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  PutBucketLoggingCommand,
  GetBucketLoggingCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { aws, requireAwsCli } from '../../helpers/python.js';
import { hostRequest } from '../../helpers/http.js';

/**
 * Server access logging end to end with @aws-sdk/client-s3, plain fetch (anonymous, website
 * and form requests) and the AWS CLI: the configuration and its errors, then the records of
 * real requests, delivered as log objects into the target bucket and parsed field by field.
 * Records are delivered every NIMBUS_S3_ACCESS_LOG_FLUSH_MS (300 ms here).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html
 */
let server: TestServer;
let s3: S3Client;
const OTHER_ACCOUNT = '111111111111';
const ROOT_CANONICAL = /^[0-9a-f]{52}000000000000$/;

const client = (url: string, extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}) =>
  new S3Client({ endpoint: url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, ...extra });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fields of a log record, named as the log format page names them. */
const FIELDS = [
  'bucketOwner',
  'bucket',
  'time',
  'remoteIp',
  'requester',
  'requestId',
  'operation',
  'key',
  'requestUri',
  'status',
  'errorCode',
  'bytesSent',
  'objectSize',
  'totalTime',
  'turnAroundTime',
  'referer',
  'userAgent',
  'versionId',
  'hostId',
  'signatureVersion',
  'cipherSuite',
  'authenticationType',
  'hostHeader',
  'tlsVersion',
  'accessPointArn',
  'aclRequired',
  'sourceRegion',
] as const;
type Record = { [K in (typeof FIELDS)[number]]: string };

/** Splits a record as log parsers do: bracketed time, quoted strings, else space-separated. */
function parseLine(line: string): Record {
  const tokens = line.match(/\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  assert.equal(tokens.length, FIELDS.length, `a record has ${FIELDS.length} fields: ${line}`);
  const out = {} as Record;
  FIELDS.forEach((f, i) => {
    const t = tokens[i]!;
    out[f] = t.startsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
  });
  return out;
}

/** Every record delivered to `bucket` under `prefix` so far, with the keys of the log objects. */
async function delivered(bucket: string, prefix = ''): Promise<{ keys: string[]; records: Record[] }> {
  const keys: string[] = [];
  const records: Record[] = [];
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  for (const o of list.Contents ?? []) {
    keys.push(o.Key!);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }))).Body!.transformToString();
    assert.ok(body.endsWith('\n'), 'records are newline-terminated');
    for (const line of body.split('\n')) if (line) records.push(parseLine(line));
  }
  return { keys, records };
}

/** Waits for the records of these request ids to be delivered. */
async function recordsFor(bucket: string, ids: string[], prefix = ''): Promise<Map<string, Record>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { records } = await delivered(bucket, prefix);
    const byId = new Map(records.map((r) => [r.requestId, r]));
    if (ids.every((id) => byId.has(id))) return byId;
    if (Date.now() > deadline) assert.fail(`records of ${ids.filter((id) => !byId.has(id)).join(', ')} were not delivered; got ${records.map((r) => r.requestId).join(', ')}`);
    await sleep(150);
  }
}

before(async () => {
  server = await startServer({ env: { NIMBUS_S3_ACCESS_LOG_FLUSH_MS: '300', NIMBUS_S3_LIFECYCLE_DAY_MS: '1000' } });
  s3 = client(server.url);
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('logging configuration', () => {
  it('put, get, and an empty BucketLoggingStatus turning it off', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'al-config' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'al-config-logs' }));
    const off = await s3.send(new GetBucketLoggingCommand({ Bucket: 'al-config' }));
    assert.equal(off.LoggingEnabled, undefined);
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-config', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'al-config-logs', TargetPrefix: 'logs/' } } }));
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: 'al-config' }))).LoggingEnabled, { TargetBucket: 'al-config-logs', TargetPrefix: 'logs/' });
    const full = {
      TargetBucket: 'al-config-logs',
      TargetPrefix: 'p/',
      TargetGrants: [{ Grantee: { Type: 'CanonicalUser' as const, ID: 'a'.repeat(52) + OTHER_ACCOUNT }, Permission: 'READ' as const }],
      TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' as const } },
    };
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-config', BucketLoggingStatus: { LoggingEnabled: full } }));
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: 'al-config' }))).LoggingEnabled, full);
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-config', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'al-config-logs', TargetPrefix: '', TargetObjectKeyFormat: { SimplePrefix: {} } } } }));
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: 'al-config' }))).LoggingEnabled, { TargetBucket: 'al-config-logs', TargetPrefix: '', TargetObjectKeyFormat: { SimplePrefix: {} } });
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-config', BucketLoggingStatus: {} }));
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket: 'al-config' }))).LoggingEnabled, undefined);
  });

  it("refuses a target that does not exist, another account's, another region's; bad grants are MalformedXML", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'al-errors' }));
    const put = (TargetBucket: string, extra: object = {}) =>
      s3.send(new PutBucketLoggingCommand({ Bucket: 'al-errors', BucketLoggingStatus: { LoggingEnabled: { TargetBucket, TargetPrefix: 'x/', ...extra } } }));
    await expectError(put('al-no-such-target'), 'InvalidTargetBucketForLogging', 400, 'The target bucket for logging does not exist');
    const other = client(server.url, { credentials: { accessKeyId: OTHER_ACCOUNT, secretAccessKey: CREDENTIALS.secretAccessKey } });
    await other.send(new CreateBucketCommand({ Bucket: 'al-other-account' }));
    other.destroy();
    await expectError(put('al-other-account'), 'InvalidTargetBucketForLogging', 400, 'The owner for the bucket to be logged and the target bucket must be the same.');
    const eu = client(server.url, { region: 'eu-west-1' });
    await eu.send(new CreateBucketCommand({ Bucket: 'al-eu-target', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    eu.destroy();
    await expectError(put('al-eu-target'), 'CrossLocationLoggingProhibitted', 403, 'Cross S3 location logging not allowed.');
    await s3.send(new CreateBucketCommand({ Bucket: 'al-errors-logs' }));
    await expectError(put('al-errors-logs', { TargetGrants: [{ Grantee: { Type: 'CanonicalUser', ID: 'x' }, Permission: 'WRITE_ACP' }] }), 'MalformedXML', 400);
    await expectError(
      s3.send(new PutBucketLoggingCommand({ Bucket: 'al-no-such-source', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'al-errors-logs', TargetPrefix: '' } } })),
      'NoSuchBucket',
      404,
    );
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket: 'al-errors' }))).LoggingEnabled, undefined, 'nothing was stored');
  });
});

describe('access log records', () => {
  const SRC = 'al-source';
  const LOGS = 'al-target';
  let userArn = '';
  let userClient: S3Client;

  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: SRC }));
    await s3.send(new CreateBucketCommand({ Bucket: LOGS }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: SRC, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: SRC, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: LOGS, TargetPrefix: 'logs/' } } }));
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    const user = (await iam.send(new CreateUserCommand({ UserName: 'al-reader' }))).User!;
    userArn = user.Arn!;
    await iam.send(new PutUserPolicyCommand({ UserName: 'al-reader', PolicyName: 's3', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'al-reader' }))).AccessKey!;
    iam.destroy();
    userClient = client(server.url, { credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
  });

  after(() => userClient?.destroy());

  it('PUT, GET, a 404, an anonymous 403, a multipart upload, a presigned GET and a multi-object delete, field by field', async () => {
    const ids: string[] = [];
    const put = await s3.send(new PutObjectCommand({ Bucket: SRC, Key: 'dir/hello world.txt', Body: 'hello' }));
    ids.push(put.$metadata.requestId!);
    const get = await userClient.send(new GetObjectCommand({ Bucket: SRC, Key: 'dir/hello world.txt', VersionId: put.VersionId }));
    assert.equal(await get.Body!.transformToString(), 'hello');
    ids.push(get.$metadata.requestId!);
    const missing = await expectError(s3.send(new GetObjectCommand({ Bucket: SRC, Key: 'nope' })), 'NoSuchKey', 404);
    ids.push(missing.$metadata.requestId!);
    const headMissing = await expectError(s3.send(new HeadObjectCommand({ Bucket: SRC, Key: 'nope' })), 'NotFound', 404);
    ids.push(headMissing.$metadata.requestId!);
    const anon = await fetch(`${server.url}/${SRC}/dir/hello%20world.txt`, { headers: { 'user-agent': 'curl/8.0 "quoted"', referer: 'http://example.com/page' } });
    assert.equal(anon.status, 403);
    await anon.text();
    ids.push(anon.headers.get('x-amz-request-id')!);
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: SRC, Key: 'big' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: SRC, Key: 'big', UploadId: create.UploadId, PartNumber: 1, Body: 'part-one' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: SRC, Key: 'big', UploadId: create.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    ids.push(create.$metadata.requestId!, part.$metadata.requestId!, done.$metadata.requestId!);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: SRC, Key: 'big' }), { expiresIn: 60 });
    const presigned = await fetch(url);
    assert.equal(await presigned.text(), 'part-one');
    ids.push(presigned.headers.get('x-amz-request-id')!);
    const multi = await s3.send(new DeleteObjectsCommand({ Bucket: SRC, Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }));
    ids.push(multi.$metadata.requestId!);

    const byId = await recordsFor(LOGS, ids, 'logs/');
    const r = (i: number) => byId.get(ids[i]!)!;
    for (const rec of byId.values()) {
      assert.match(rec.bucketOwner, ROOT_CANONICAL);
      assert.equal(rec.bucket, SRC);
      assert.match(rec.time, /^\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]$/);
      assert.equal(rec.remoteIp, '127.0.0.1');
      assert.match(rec.hostId, /^[A-Za-z0-9+/=]{20,}$/);
      assert.equal(rec.hostHeader, new URL(server.url).host);
      assert.match(rec.totalTime, /^\d+$/);
      assert.equal(rec.cipherSuite, '-', 'plain HTTP');
      assert.equal(rec.tlsVersion, '-');
      assert.equal(rec.accessPointArn, '-');
      assert.equal(rec.aclRequired, '-');
    }
    // PUT by the account root: its canonical id; the request's key, URI, sizes; no version id in the request.
    assert.deepEqual(
      [r(0).requester, r(0).operation, r(0).key, r(0).status, r(0).errorCode, r(0).bytesSent, r(0).objectSize, r(0).versionId, r(0).signatureVersion, r(0).authenticationType],
      [r(0).bucketOwner, 'REST.PUT.OBJECT', 'dir/hello%20world.txt', '200', '-', '-', '5', '-', 'SigV4', 'AuthHeader'],
    );
    assert.match(r(0).requestUri, /^PUT \/al-source\/dir\/hello%20world\.txt\?x-id=PutObject HTTP\/1\.1$/);
    assert.match(r(0).userAgent, /^aws-sdk-js\//);
    assert.equal(r(0).referer, '-');
    // GET of a version by an IAM user: the user's ARN, the version id asked for, bytes sent.
    assert.deepEqual(
      [r(1).requester, r(1).operation, r(1).status, r(1).bytesSent, r(1).objectSize, r(1).versionId],
      [userArn, 'REST.GET.OBJECT', '200', '5', '5', put.VersionId],
    );
    assert.match(r(1).turnAroundTime, /^\d+$/);
    // The 404s carry their error code; the HEAD sends no body.
    assert.deepEqual([r(2).operation, r(2).key, r(2).status, r(2).errorCode, r(2).objectSize], ['REST.GET.OBJECT', 'nope', '404', 'NoSuchKey', '-']);
    assert.ok(Number(r(2).bytesSent) > 0, 'the error document was sent');
    assert.deepEqual([r(3).operation, r(3).status, r(3).errorCode, r(3).bytesSent], ['REST.HEAD.OBJECT', '404', 'NoSuchKey', '-']);
    // Anonymous: no requester, no signature, its own referer and user agent.
    assert.deepEqual(
      [r(4).requester, r(4).operation, r(4).status, r(4).errorCode, r(4).signatureVersion, r(4).authenticationType, r(4).referer, r(4).userAgent],
      ['-', 'REST.GET.OBJECT', '403', 'AccessDenied', '-', '-', 'http://example.com/page', 'curl/8.0 "quoted"'],
    );
    assert.equal(r(4).requestUri, 'GET /al-source/dir/hello%20world.txt HTTP/1.1');
    assert.deepEqual([r(5).operation, r(5).key, r(6).operation, r(6).key, r(6).objectSize, r(7).operation, r(7).key], [
      'REST.POST.UPLOADS',
      'big',
      'REST.PUT.PART',
      'big',
      '8',
      'REST.POST.UPLOAD',
      'big',
    ]);
    assert.deepEqual([r(8).operation, r(8).signatureVersion, r(8).authenticationType, r(8).bytesSent], ['REST.GET.OBJECT', 'SigV4', 'QueryString', '8']);
    assert.deepEqual([r(9).operation, r(9).key, r(9).status], ['REST.POST.MULTI_OBJECT_DELETE', '-', '200']);
    // Log objects are named <prefix>YYYY-mm-DD-HH-MM-SS-<16 hex>.
    for (const k of (await delivered(LOGS, 'logs/')).keys) assert.match(k, /^logs\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/);
  });

  it('a request refused before its operation is known (bad signature) is still a record of what it asked for', async () => {
    const bad = client(server.url, { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } });
    const err = await expectError(bad.send(new GetObjectCommand({ Bucket: SRC, Key: 'dir/hello world.txt' })), 'SignatureDoesNotMatch', 403);
    bad.destroy();
    const rec = (await recordsFor(LOGS, [err.$metadata.requestId!], 'logs/')).get(err.$metadata.requestId!)!;
    assert.deepEqual([rec.operation, rec.status, rec.errorCode, rec.requester, rec.signatureVersion], ['REST.GET.OBJECT', '403', 'SignatureDoesNotMatch', '-', 'SigV4']);
  });

  it('website and POST Object requests are records too', async () => {
    const site = await hostRequest(server.url, `${SRC}.s3-website.localhost:${new URL(server.url).port}`, '/index.html');
    const siteId = String(site.headers['x-amz-request-id']);
    const fd = new FormData();
    fd.append('key', 'posted.txt');
    fd.append('file', new Blob(['posted']), 'posted.txt');
    const post = await fetch(`${server.url}/${SRC}`, { method: 'POST', body: fd });
    await post.text();
    const postId = post.headers.get('x-amz-request-id')!;
    const byId = await recordsFor(LOGS, [siteId, postId], 'logs/');
    const w = byId.get(siteId)!;
    assert.deepEqual([w.operation, w.key, w.status, w.errorCode, w.requester], ['WEBSITE.GET.OBJECT', 'index.html', '404', 'NoSuchWebsiteConfiguration', '-']);
    const p = byId.get(postId)!;
    assert.deepEqual([p.operation, p.status, p.errorCode], ['REST.POST.OBJECT', String(post.status), 'AccessDenied']);
  });

  it('lifecycle actions are records of S3 itself (S3.EXPIRE.OBJECT)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'al-target', Key: 'unrelated', Body: 'x' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'al-lifecycle' }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-lifecycle', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: LOGS, TargetPrefix: 'lc/' } } }));
    await s3.send(new PutObjectCommand({ Bucket: 'al-lifecycle', Key: 'short-lived', Body: 'bye' }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'al-lifecycle', LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }] } }));
    const deadline = Date.now() + 10_000;
    let rec: Record | undefined;
    while (!rec && Date.now() < deadline) {
      rec = (await delivered(LOGS, 'lc/')).records.find((x) => x.operation === 'S3.EXPIRE.OBJECT');
      if (!rec) await sleep(200);
    }
    assert.ok(rec, 'an S3.EXPIRE.OBJECT record');
    assert.deepEqual([rec.bucket, rec.key, rec.requester, rec.objectSize, rec.requestUri, rec.status], ['al-lifecycle', 'short-lived', 'AmazonS3', '3', '-', '-']);
    assert.match(rec.requestId, /^[0-9A-F]{16}$/);
  });

  it('partitioned keys: <prefix><account>/<region>/<bucket>/YYYY/MM/DD/…', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'al-partitioned' }));
    await s3.send(
      new PutBucketLoggingCommand({
        Bucket: 'al-partitioned',
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: LOGS, TargetPrefix: 'part/', TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } } } },
      }),
    );
    const put = await s3.send(new PutObjectCommand({ Bucket: 'al-partitioned', Key: 'k', Body: 'k' }));
    await recordsFor(LOGS, [put.$metadata.requestId!], 'part/');
    const { keys } = await delivered(LOGS, 'part/');
    const d = new Date();
    const date = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    for (const k of keys) assert.match(k, new RegExp(`^part/000000000000/us-east-1/al-partitioned/${date}/\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-[0-9A-F]{16}$`));
  });

  it('a bucket without logging gets no records, and turning logging off stops them', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'al-quiet' }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-quiet', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: LOGS, TargetPrefix: 'quiet/' } } }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'al-quiet', BucketLoggingStatus: {} }));
    const after = await s3.send(new PutObjectCommand({ Bucket: 'al-quiet', Key: 'k', Body: 'k' }));
    // A request to a logged bucket after it, to know a delivery happened since.
    const marker = await s3.send(new PutObjectCommand({ Bucket: SRC, Key: 'marker', Body: 'm' }));
    await recordsFor(LOGS, [marker.$metadata.requestId!], 'logs/');
    await sleep(400);
    const quiet = await delivered(LOGS, 'quiet/');
    assert.ok(!quiet.records.some((x) => x.requestId === after.$metadata.requestId), 'no record after logging was turned off');
  });
});

describe('delivery on shutdown', () => {
  it('records still pending when the server stops are written before it exits', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-access-log-'));
    // A flush interval far longer than the test: only the shutdown delivers.
    let first: TestServer | undefined = await startServer({ dataDir, env: { NIMBUS_S3_ACCESS_LOG_FLUSH_MS: '600000' } });
    let second: TestServer | undefined;
    try {
      const c1 = client(first.url);
      await c1.send(new CreateBucketCommand({ Bucket: 'al-shutdown' }));
      await c1.send(new CreateBucketCommand({ Bucket: 'al-shutdown-logs' }));
      await c1.send(new PutBucketLoggingCommand({ Bucket: 'al-shutdown', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'al-shutdown-logs', TargetPrefix: '' } } }));
      const put = await c1.send(new PutObjectCommand({ Bucket: 'al-shutdown', Key: 'k', Body: 'k' }));
      assert.equal((await c1.send(new ListObjectsV2Command({ Bucket: 'al-shutdown-logs' }))).KeyCount, 0, 'nothing delivered yet');
      c1.destroy();
      assert.equal(await first.stop(), 0);
      first = undefined;
      second = await startServer({ dataDir, env: { NIMBUS_S3_ACCESS_LOG_FLUSH_MS: '600000' } });
      const c2 = client(second.url);
      const list = await c2.send(new ListObjectsV2Command({ Bucket: 'al-shutdown-logs' }));
      assert.equal(list.KeyCount, 1);
      const body = await (await c2.send(new GetObjectCommand({ Bucket: 'al-shutdown-logs', Key: list.Contents![0]!.Key }))).Body!.transformToString();
      const records = body.trim().split('\n').map(parseLine);
      assert.ok(records.some((x) => x.requestId === put.$metadata.requestId && x.operation === 'REST.PUT.OBJECT'));
      // Logging is still on after the restart.
      assert.equal((await c2.send(new GetBucketLoggingCommand({ Bucket: 'al-shutdown' }))).LoggingEnabled?.TargetBucket, 'al-shutdown-logs');
      c2.destroy();
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('logging with the AWS CLI', () => {
  before(() => {
    requireAwsCli();
  });

  it('put-bucket-logging and get-bucket-logging', () => {
    aws(server.url, ['s3api', 'create-bucket', '--bucket', 'al-cli']);
    aws(server.url, ['s3api', 'create-bucket', '--bucket', 'al-cli-logs']);
    aws(server.url, ['s3api', 'put-bucket-logging', '--bucket', 'al-cli', '--bucket-logging-status', JSON.stringify({ LoggingEnabled: { TargetBucket: 'al-cli-logs', TargetPrefix: 'cli/' } })]);
    const got = JSON.parse(aws(server.url, ['s3api', 'get-bucket-logging', '--bucket', 'al-cli', '--output', 'json']));
    assert.deepEqual(got, { LoggingEnabled: { TargetBucket: 'al-cli-logs', TargetPrefix: 'cli/' } });
    aws(server.url, ['s3api', 'put-bucket-logging', '--bucket', 'al-cli', '--bucket-logging-status', '{}']);
    assert.equal(aws(server.url, ['s3api', 'get-bucket-logging', '--bucket', 'al-cli', '--output', 'json']).trim(), '');
  });
});
