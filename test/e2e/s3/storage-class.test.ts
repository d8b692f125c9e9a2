import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  CopyObjectCommand,
  GetObjectAttributesCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  RestoreObjectCommand,
  S3ServiceException,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { send, errorCode } from '../../helpers/sign.js';
import { aws, awsFails, requireAwsCli } from '../../helpers/python.js';
import { hmac, signingKey } from '../../../src/protocol/sigv4/canonical.js';
import { startNimbus, type Nimbus } from '../../../src/main.js';
import { setClockOffset } from '../../../src/util/clock.js';

/**
 * Storage classes, archived objects and RestoreObject end to end, judged by
 * @aws-sdk/client-s3 and the AWS CLI. Restores take NIMBUS_S3_RESTORE_DELAY_MS (short here)
 * and expire after their Days on Nimbus's clock, which the tests move.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html
 */
const CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;
const DAY = 86_400_000;
const DELAYS = 'Expedited=300,Standard=700,Bulk=4000';

let server: TestServer;
let s3: S3Client;

function client(url: string, offsetMs = 0): S3Client {
  return new S3Client({ endpoint: url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, systemClockOffset: offsetMs });
}

const text = (o: { Body?: { transformToString(): Promise<string> } }) => o.Body!.transformToString();

async function put(c: S3Client, bucket: string, key: string, storageClass: string, body = `body of ${key}`) {
  return c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, StorageClass: storageClass as StorageClass }));
}

async function restore(c: S3Client, bucket: string, key: string, days: number, tier?: 'Expedited' | 'Standard' | 'Bulk', versionId?: string): Promise<number> {
  const r = await c.send(new RestoreObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, RestoreRequest: { Days: days, ...(tier ? { GlacierJobParameters: { Tier: tier } } : {}) } }));
  return r.$metadata.httpStatusCode!;
}

/** Polls HEAD until the restore has completed; returns its expiry date. */
async function restored(c: S3Client, bucket: string, key: string, versionId?: string): Promise<Date> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const h = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    const m = /^ongoing-request="false", expiry-date="([^"]+)"$/.exec(h.Restore ?? '');
    if (m) return new Date(m[1]!);
    assert.equal(h.Restore, 'ongoing-request="true"', 'a restore is in progress until it completes');
    assert.ok(Date.now() < deadline, 'the restore completed');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Midnight UTC after `from + days`: "rounding the resulting time to the next day midnight UTC". */
function assertExpiry(expiry: Date, from: number, to: number, days: number): void {
  assert.equal(expiry.getTime() % DAY, 0, `${expiry.toISOString()} is a midnight UTC`);
  assert.ok(expiry.getTime() > from + days * DAY && expiry.getTime() <= to + days * DAY + DAY, `${expiry.toISOString()} is the midnight after ${days} day(s)`);
}

before(async () => {
  server = await startServer({ env: { NIMBUS_S3_RESTORE_DELAY_MS: DELAYS } });
  s3 = client(server.url);
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('storage classes', () => {
  it('every class of a general purpose bucket on PutObject: HEAD and GET report it (STANDARD by its absence), listings and GetObjectAttributes always', async () => {
    const b = 'sc-classes';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const c of CLASSES) {
      const out = await put(s3, b, `k/${c}`, c);
      assert.equal(out.$metadata.httpStatusCode, 200);
    }
    await put(s3, b, 'k/default', 'STANDARD');
    for (const c of CLASSES) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: `k/${c}` }));
      assert.equal(head.StorageClass, c === 'STANDARD' ? undefined : c, c);
      const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: `k/${c}`, ObjectAttributes: ['StorageClass'] }));
      assert.equal(attrs.StorageClass, c);
      if (c !== 'GLACIER' && c !== 'DEEP_ARCHIVE') {
        const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: `k/${c}` }));
        assert.equal(get.StorageClass, c === 'STANDARD' ? undefined : c);
        assert.equal(await text(get), `body of k/${c}`);
      }
    }
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'k/' }));
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'k/' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'k/' }));
    const expected = Object.fromEntries([...CLASSES.map((c) => [`k/${c}`, c]), ['k/default', 'STANDARD']]);
    assert.deepEqual(Object.fromEntries(v2.Contents!.map((o) => [o.Key, o.StorageClass])), expected);
    assert.deepEqual(Object.fromEntries(v1.Contents!.map((o) => [o.Key, o.StorageClass])), expected);
    assert.deepEqual(Object.fromEntries(versions.Versions!.map((o) => [o.Key, o.StorageClass])), expected);
  });

  it('InvalidStorageClass for EXPRESS_ONEZONE, OUTPOSTS, SNOW and unknown classes on PUT, copy and CreateMultipartUpload', async () => {
    const b = 'sc-invalid';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await put(s3, b, 'src', 'STANDARD');
    for (const c of ['EXPRESS_ONEZONE', 'OUTPOSTS', 'SNOW', 'FSX_OPENZFS', 'GLACIER_DEEP']) {
      await expectError(put(s3, b, 'bad', c), 'InvalidStorageClass', 400, /^The storage class you specified is not valid$/);
      await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'bad', CopySource: `${b}/src`, StorageClass: c as StorageClass })), 'InvalidStorageClass', 400);
      await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'bad', StorageClass: c as StorageClass })), 'InvalidStorageClass', 400);
    }
    const raw = await send(server.url, { method: 'PUT', path: `/${b}/bad`, body: 'x', headers: { 'x-amz-storage-class': 'EXPRESS_ONEZONE' } });
    assert.match(raw.body, /<StorageClassRequested>EXPRESS_ONEZONE<\/StorageClassRequested>/);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'bad' })), undefined, 404);
  });

  it('CopyObject stores the class it names, else STANDARD; copying an object onto itself with a new class changes its class', async () => {
    const b = 'sc-copy';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await put(s3, b, 'ia', 'STANDARD_IA');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'default', CopySource: `${b}/ia` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'default' }))).StorageClass, undefined, 'a copy is STANDARD unless it names a class');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'one-zone', CopySource: `${b}/ia`, StorageClass: 'ONEZONE_IA' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'one-zone' }))).StorageClass, 'ONEZONE_IA');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'ia', CopySource: `${b}/ia`, StorageClass: 'GLACIER' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'ia' }))).StorageClass, 'GLACIER');
    // And back, once restored (an archived object is not a copy source before).
    await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'ia', CopySource: `${b}/ia`, StorageClass: 'STANDARD' })), 'InvalidObjectState', 403);
    assert.equal(await restore(s3, b, 'ia', 1, 'Expedited'), 202);
    await restored(s3, b, 'ia');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'ia', CopySource: `${b}/ia`, StorageClass: 'STANDARD' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'ia' }));
    assert.deepEqual([head.StorageClass, head.Restore], [undefined, undefined], 'the STANDARD copy is a new version with no restore');
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'ia' }))), 'body of ia');
  });

  it('multipart: the class of CreateMultipartUpload shows in ListMultipartUploads and ListParts and is the object\'s', async () => {
    const b = 'sc-mpu';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big', StorageClass: 'DEEP_ARCHIVE' }));
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads?.[0]?.StorageClass, 'DEEP_ARCHIVE');
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'big', UploadId: create.UploadId, PartNumber: 1, Body: 'archived part' }));
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'big', UploadId: create.UploadId }))).StorageClass, 'DEEP_ARCHIVE');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'big', UploadId: create.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big' }))).StorageClass, 'DEEP_ARCHIVE');
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'big' })), 'InvalidObjectState', 403);
    // An archived object is no UploadPartCopy source either.
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'copy' }));
    await expectError(s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'copy', UploadId: other.UploadId, PartNumber: 1, CopySource: `${b}/big` })), 'InvalidObjectState', 403);
  });

  it('POST Object takes x-amz-storage-class', async () => {
    const b = 'sc-post';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const d = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const credential = `test/${d.slice(0, 8)}/${REGION}/s3/aws4_request`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 300_000).toISOString(),
        conditions: [{ bucket: b }, { key: 'posted' }, { 'x-amz-storage-class': 'STANDARD_IA' }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': d }],
      }),
    ).toString('base64');
    const fd = new FormData();
    const fields = { key: 'posted', 'x-amz-storage-class': 'STANDARD_IA', 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': d, policy };
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    fd.append('x-amz-signature', hmac(signingKey('test', d.slice(0, 8), REGION, 's3'), policy).toString('hex'));
    fd.append('file', new Blob(['posted body']), 'f.txt');
    const r = await fetch(`${server.url}/${b}`, { method: 'POST', body: fd });
    assert.equal(r.status, 204, await r.text());
    assert.equal(r.headers.get('x-amz-server-side-encryption'), 'AES256');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'posted' }))).StorageClass, 'STANDARD_IA');
  });
});

describe('archived objects and RestoreObject', () => {
  const b = 'sc-archive';
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: b }));
  });

  it('GLACIER and DEEP_ARCHIVE refuse GET and copy with 403 InvalidObjectState until restored; HEAD works; GLACIER_IR reads at once', async () => {
    for (const c of ['GLACIER', 'DEEP_ARCHIVE']) {
      await put(s3, b, `cold-${c}`, c);
      const err = await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: `cold-${c}` })), 'InvalidObjectState', 403, /^The operation is not valid for the object's storage class$/);
      assert.equal((err as S3ServiceException & { StorageClass?: string }).StorageClass, c);
      await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: `cold-${c}`, Range: 'bytes=0-1' })), 'InvalidObjectState', 403);
      await expectError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/cold-${c}` })), 'InvalidObjectState', 403);
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: `cold-${c}` }));
      assert.deepEqual([head.StorageClass, head.Restore, head.ContentLength], [c, undefined, `body of cold-${c}`.length]);
    }
    const raw = await send(server.url, { method: 'GET', path: `/${b}/cold-GLACIER` });
    assert.equal(raw.status, 403);
    assert.match(raw.body, /<Code>InvalidObjectState<\/Code>.*<StorageClass>GLACIER<\/StorageClass>/s);
    await put(s3, b, 'instant', 'GLACIER_IR');
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'instant' }))), 'body of instant');
    await expectError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'copy' })), undefined, 404);
  });

  it('RestoreObject: 202, then 409 while it runs (x-amz-restore ongoing), then the copy reads until the midnight after Days; again: 200 with the new Days', async () => {
    await put(s3, b, 'frozen', 'GLACIER', 'thawed at last');
    const t0 = Date.now();
    assert.equal(await restore(s3, b, 'frozen', 2, 'Standard'), 202);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'frozen' }))).Restore, 'ongoing-request="true"');
    await expectError(s3.send(new RestoreObjectCommand({ Bucket: b, Key: 'frozen', RestoreRequest: { Days: 2 } })), 'RestoreAlreadyInProgress', 409, /^Object restore is already in progress$/);
    await expectError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'frozen' })), 'InvalidObjectState', 403);
    const expiry = await restored(s3, b, 'frozen');
    assert.ok(Date.now() - t0 >= 700, 'the Standard tier takes its delay');
    assertExpiry(expiry, t0, Date.now(), 2);
    const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'frozen' }));
    assert.equal(get.StorageClass, 'GLACIER', 'a restored object keeps its class');
    assert.equal(get.Restore, `ongoing-request="false", expiry-date="${expiry.toUTCString()}"`);
    assert.equal(await text(get), 'thawed at last');
    // A copy of the restored object is a normal STANDARD object.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'frozen-copy', CopySource: `${b}/frozen` }));
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'frozen-copy' }))), 'thawed at last');
    // Reissued once restored: 200, the expiry recomputed from now with the new Days.
    const t1 = Date.now();
    assert.equal(await restore(s3, b, 'frozen', 5), 200);
    const later = await restored(s3, b, 'frozen');
    assertExpiry(later, t1, Date.now(), 5);
    assert.ok(later > expiry);
  });

  it('tiers: DEEP_ARCHIVE has no Expedited; a faster tier upgrades a restore in progress, the same or a slower one is 409; other classes cannot be restored', async () => {
    await put(s3, b, 'deep', 'DEEP_ARCHIVE');
    await expectError(s3.send(new RestoreObjectCommand({ Bucket: b, Key: 'deep', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Expedited' } } })), 'InvalidArgument', 400, /Retrieval option is not supported by this storage class/);
    assert.equal(await restore(s3, b, 'deep', 1, 'Bulk'), 202);
    await expectError(s3.send(new RestoreObjectCommand({ Bucket: b, Key: 'deep', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Bulk' } } })), 'RestoreAlreadyInProgress', 409);
    const t = Date.now();
    assert.equal(await restore(s3, b, 'deep', 1, 'Standard'), 202, 'Bulk → Standard is an upgrade');
    await expectError(s3.send(new RestoreObjectCommand({ Bucket: b, Key: 'deep', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Bulk' } } })), 'RestoreAlreadyInProgress', 409);
    await restored(s3, b, 'deep');
    assert.ok(Date.now() - t < 3000, 'the upgraded restore finished at the Standard delay, before the Bulk one');
    for (const c of ['STANDARD', 'GLACIER_IR', 'STANDARD_IA', 'INTELLIGENT_TIERING']) {
      await put(s3, b, `warm-${c}`, c);
      await expectError(s3.send(new RestoreObjectCommand({ Bucket: b, Key: `warm-${c}`, RestoreRequest: { Days: 1 } })), 'InvalidObjectState', 403, /^Restore is not allowed for the object's current storage class$/);
    }
  });

  it('RestoreStatus in ListObjectsV2 and ListObjectVersions with x-amz-optional-object-attributes, and only then', async () => {
    const lb = 'sc-list-restore';
    await s3.send(new CreateBucketCommand({ Bucket: lb }));
    await put(s3, lb, 'a-ongoing', 'GLACIER');
    await put(s3, lb, 'b-done', 'GLACIER');
    await put(s3, lb, 'c-never', 'GLACIER');
    await put(s3, lb, 'd-standard', 'STANDARD');
    await restore(s3, lb, 'b-done', 1, 'Expedited');
    await restored(s3, lb, 'b-done');
    await restore(s3, lb, 'a-ongoing', 1, 'Bulk');
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: lb, OptionalObjectAttributes: ['RestoreStatus'] }));
    const status = Object.fromEntries(v2.Contents!.map((o) => [o.Key, o.RestoreStatus]));
    assert.deepEqual(status['a-ongoing'], { IsRestoreInProgress: true });
    assert.equal(status['b-done']?.IsRestoreInProgress, false);
    assert.equal(status['b-done']?.RestoreExpiryDate!.getTime() % DAY, 0);
    assert.equal(status['c-never'], undefined);
    assert.equal(status['d-standard'], undefined);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: lb, OptionalObjectAttributes: ['RestoreStatus'] }));
    assert.deepEqual(versions.Versions!.find((v) => v.Key === 'a-ongoing')?.RestoreStatus, { IsRestoreInProgress: true });
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: lb }));
    assert.ok(plain.Contents!.every((o) => o.RestoreStatus === undefined), 'not asked for, not listed');
  });

  it('a version of a versioned key is restored by id, and only that version', async () => {
    const vb = 'sc-versions';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await put(s3, vb, 'k', 'GLACIER', 'version one')).VersionId!;
    const v2 = (await put(s3, vb, 'k', 'GLACIER', 'version two')).VersionId!;
    assert.equal(await restore(s3, vb, 'k', 1, 'Expedited', v1), 202);
    await restored(s3, vb, 'k', v1);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v1 }))), 'version one');
    await expectError(s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k' })), 'InvalidObjectState', 403);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: vb, Key: 'k', VersionId: v2 }))).Restore, undefined);
  });

  it('refuses a missing or bad Days, an unknown tier, SELECT requests and keys that do not exist', async () => {
    await put(s3, b, 'rules', 'GLACIER');
    const body = (xml: string) => `<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${xml}</RestoreRequest>`;
    const post = (xml: string) => send(server.url, { method: 'POST', path: `/${b}/rules`, query: 'restore=', body: body(xml) });
    const noDays = await post('<GlacierJobParameters><Tier>Standard</Tier></GlacierJobParameters>');
    assert.equal(noDays.status, 400);
    assert.equal(errorCode(noDays.body), 'MalformedXML');
    const zero = await post('<Days>0</Days>');
    assert.equal(zero.status, 400);
    assert.equal(errorCode(zero.body), 'InvalidArgument');
    const tier = await post('<Days>1</Days><GlacierJobParameters><Tier>Instant</Tier></GlacierJobParameters>');
    assert.equal(errorCode(tier.body), 'MalformedXML');
    const select = await post('<Type>SELECT</Type><Tier>Standard</Tier>');
    assert.equal(select.status, 501);
    await expectError(s3.send(new RestoreObjectCommand({ Bucket: b, Key: 'no-such-key', RestoreRequest: { Days: 1 } })), 'NoSuchKey', 404);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'rules' }))).Restore, undefined, 'no refused request started a restore');
  });
});

describe('a restore expires after its Days (in-process server, clock moved)', () => {
  let nimbus: Nimbus;
  before(async () => {
    nimbus = await startNimbus({ port: 0, ephemeral: true, logLevel: 'warn', s3RestoreDelaysMs: { Expedited: 100, Standard: 200, Bulk: 300 } });
  });
  after(async () => {
    setClockOffset(0);
    await nimbus?.stop();
  });

  it('the restored copy lasts until the midnight UTC after Days: GET is refused again, HEAD has no x-amz-restore, and a new restore is 202', async () => {
    const c = client(nimbus.url);
    await c.send(new CreateBucketCommand({ Bucket: 'clock' }));
    await put(c, 'clock', 'k', 'GLACIER', 'for a day');
    assert.equal(await restore(c, 'clock', 'k', 1, 'Expedited'), 202);
    const expiry = await restored(c, 'clock', 'k');
    assert.equal(await text(await c.send(new GetObjectCommand({ Bucket: 'clock', Key: 'k' }))), 'for a day');
    c.destroy();
    // One second before the expiry the copy is still there; at the expiry it is gone.
    const before = expiry.getTime() - Date.now() - 1000;
    setClockOffset(before);
    const c1 = client(nimbus.url, before);
    try {
      assert.equal(await text(await c1.send(new GetObjectCommand({ Bucket: 'clock', Key: 'k' }))), 'for a day');
    } finally {
      c1.destroy();
    }
    const at = expiry.getTime() - Date.now() + 1;
    setClockOffset(at);
    const c2 = client(nimbus.url, at);
    try {
      await expectError(c2.send(new GetObjectCommand({ Bucket: 'clock', Key: 'k' })), 'InvalidObjectState', 403);
      const head = await c2.send(new HeadObjectCommand({ Bucket: 'clock', Key: 'k' }));
      assert.deepEqual([head.StorageClass, head.Restore], ['GLACIER', undefined]);
      assert.equal(await restore(c2, 'clock', 'k', 1, 'Expedited'), 202);
      await restored(c2, 'clock', 'k');
      assert.equal(await text(await c2.send(new GetObjectCommand({ Bucket: 'clock', Key: 'k' }))), 'for a day');
    } finally {
      c2.destroy();
      setClockOffset(0);
    }
  });
});

describe('restore state across restarts', () => {
  it('an ongoing and a completed restore survive kill -9; restarted 3 days later (NIMBUS_CLOCK_OFFSET_MS) both copies have expired', async () => {
    const first = await startServer({ env: { NIMBUS_S3_RESTORE_DELAY_MS: 'Expedited=200,Standard=60000,Bulk=60000' } });
    const c = client(first.url);
    await c.send(new CreateBucketCommand({ Bucket: 'persist' }));
    await put(c, 'persist', 'done', 'GLACIER', 'restored');
    await put(c, 'persist', 'slow', 'DEEP_ARCHIVE', 'still cold');
    await restore(c, 'persist', 'done', 1, 'Expedited');
    const expiry = await restored(c, 'persist', 'done');
    await restore(c, 'persist', 'slow', 1, 'Standard');
    c.destroy();
    await first.kill();

    const second = await startServer({ dataDir: first.dataDir, env: { NIMBUS_S3_RESTORE_DELAY_MS: 'Expedited=200,Standard=60000,Bulk=60000' } });
    const c2 = client(second.url);
    try {
      const done = await c2.send(new HeadObjectCommand({ Bucket: 'persist', Key: 'done' }));
      assert.equal(done.Restore, `ongoing-request="false", expiry-date="${expiry.toUTCString()}"`);
      assert.equal(await text(await c2.send(new GetObjectCommand({ Bucket: 'persist', Key: 'done' }))), 'restored');
      assert.equal((await c2.send(new HeadObjectCommand({ Bucket: 'persist', Key: 'slow' }))).Restore, 'ongoing-request="true"');
      await expectError(c2.send(new RestoreObjectCommand({ Bucket: 'persist', Key: 'slow', RestoreRequest: { Days: 1 } })), 'RestoreAlreadyInProgress', 409);
    } finally {
      c2.destroy();
      await second.stop();
    }

    const offset = 3 * DAY;
    const third = await startServer({ dataDir: first.dataDir, env: { NIMBUS_CLOCK_OFFSET_MS: String(offset), NIMBUS_S3_RESTORE_DELAY_MS: 'Expedited=200,Standard=60000,Bulk=60000' } });
    const c3 = client(third.url, offset);
    try {
      for (const key of ['done', 'slow']) {
        // The slow restore completed (60 s) and its one day has passed too.
        assert.equal((await c3.send(new HeadObjectCommand({ Bucket: 'persist', Key: key }))).Restore, undefined, key);
        await expectError(c3.send(new GetObjectCommand({ Bucket: 'persist', Key: key })), 'InvalidObjectState', 403);
      }
    } finally {
      c3.destroy();
      await third.stop();
      await first.dispose();
    }
  });
});

describe('the AWS CLI', () => {
  let dir: string;
  before(() => {
    requireAwsCli();
    dir = mkdtempSync(join(tmpdir(), 'nimbus-sc-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('aws s3 cp --storage-class GLACIER, aws s3api restore-object, head-object shows the restore, then the download works', async () => {
    const b = 'sc-cli';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    writeFileSync(join(dir, 'up.txt'), 'glacial');
    aws(server.url, ['s3', 'cp', join(dir, 'up.txt'), `s3://${b}/cold.txt`, '--storage-class', 'GLACIER']);
    const listed = JSON.parse(aws(server.url, ['s3api', 'list-objects-v2', '--bucket', b]));
    assert.equal(listed.Contents[0].StorageClass, 'GLACIER');
    const refused = awsFails(server.url, ['s3api', 'get-object', '--bucket', b, '--key', 'cold.txt', join(dir, 'down.txt')]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /InvalidObjectState/);
    aws(server.url, ['s3api', 'restore-object', '--bucket', b, '--key', 'cold.txt', '--restore-request', '{"Days":1,"GlacierJobParameters":{"Tier":"Bulk"}}']);
    const again = awsFails(server.url, ['s3api', 'restore-object', '--bucket', b, '--key', 'cold.txt', '--restore-request', 'Days=1,GlacierJobParameters={Tier=Bulk}']);
    assert.match(again.stderr, /RestoreAlreadyInProgress/);
    // Upgraded to Expedited, it completes within the Expedited delay.
    aws(server.url, ['s3api', 'restore-object', '--bucket', b, '--key', 'cold.txt', '--restore-request', 'Days=1,GlacierJobParameters={Tier=Expedited}']);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const head = JSON.parse(aws(server.url, ['s3api', 'head-object', '--bucket', b, '--key', 'cold.txt']));
      assert.equal(head.StorageClass, 'GLACIER');
      if (head.Restore?.startsWith('ongoing-request="false"')) break;
      assert.equal(head.Restore, 'ongoing-request="true"');
      assert.ok(Date.now() < deadline, 'the restore completed');
      await new Promise((r) => setTimeout(r, 100));
    }
    aws(server.url, ['s3api', 'get-object', '--bucket', b, '--key', 'cold.txt', join(dir, 'down.txt')]);
    assert.equal(readFileSync(join(dir, 'down.txt'), 'utf8'), 'glacial');
    aws(server.url, ['s3', 'cp', `s3://${b}/cold.txt`, join(dir, 'down2.txt')]);
    assert.equal(readFileSync(join(dir, 'down2.txt'), 'utf8'), 'glacial');
  });
});
