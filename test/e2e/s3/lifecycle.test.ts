import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  CopyObjectCommand,
  PutBucketVersioningCommand,
  PutObjectTaggingCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutBucketLifecycleConfigurationCommand,
  GetBucketLifecycleConfigurationCommand,
  DeleteBucketLifecycleCommand,
  S3ServiceException,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { send, errorCode } from '../../helpers/sign.js';
import { aws, requireAwsCli } from '../../helpers/python.js';

/**
 * S3 Lifecycle end to end with @aws-sdk/client-s3 (and the AWS CLI): the configuration and
 * S3's validation errors, x-amz-expiration, and the background worker carrying the rules out.
 * The server runs with NIMBUS_S3_LIFECYCLE_DAY_MS=1000, so a rule's day is a second and its
 * "midnight UTC" every whole second: an object written at 12:00:00.4 with Days 1 expires at
 * 12:00:03 (creation + 1 day, rounded up to the next midnight), as S3 rounds.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 */
const DAY = 1000;
let server: TestServer;
let s3: S3Client;

const client = (url: string) => new S3Client({ endpoint: url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (lifecycle works in the background), failing after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(100);
  }
}

async function exists(Bucket: string, Key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
    return true;
  } catch (e) {
    if ((e as S3ServiceException).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

async function bucket(name: string, versioning?: 'Enabled' | 'Suspended'): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (versioning) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: versioning } }));
  return name;
}

const rules = (Bucket: string, Rules: LifecycleRule[], min?: 'varies_by_storage_class' | 'all_storage_classes_128K') =>
  s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules }, TransitionDefaultMinimumObjectSize: min }));

/** "expiry-date=…" as S3 would compute it for an object last modified in second `lastModified` with a Days rule. */
const expiryAfterDays = (lastModified: Date, days: number, ruleId: string) =>
  `expiry-date="${new Date(Math.floor(lastModified.getTime() / DAY) * DAY + days * DAY + DAY).toUTCString()}", rule-id="${ruleId}"`;

const versionsOf = async (Bucket: string, Prefix?: string) => {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
  return {
    versions: (r.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, storageClass: v.StorageClass as string | undefined })),
    markers: (r.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, latest: m.IsLatest! })),
  };
};

before(async () => {
  server = await startServer({ env: { NIMBUS_S3_LIFECYCLE_DAY_MS: String(DAY) } });
  s3 = client(server.url);
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('lifecycle configuration', () => {
  it('put, get and delete: rules as given, IDs generated when absent, the default minimum object size', async () => {
    const B = await bucket('lc-config');
    await expectError(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B })), 'NoSuchLifecycleConfiguration', 404, 'The lifecycle configuration does not exist');
    const given: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 365 }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 90, StorageClass: 'GLACIER' }] },
      { ID: 'tagged', Status: 'Disabled', Filter: { Tag: { Key: 'temp', Value: 'yes' } }, Expiration: { Date: new Date('2031-01-01T00:00:00Z') } },
      {
        ID: 'versions',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'docs/', Tags: [{ Key: 'a', Value: '1' }], ObjectSizeGreaterThan: 1024, ObjectSizeLessThan: 1048576 } },
        NoncurrentVersionTransitions: [{ NoncurrentDays: 30, StorageClass: 'STANDARD_IA', NewerNoncurrentVersions: 2 }],
        NoncurrentVersionExpiration: { NoncurrentDays: 60, NewerNoncurrentVersions: 3 },
      },
      { ID: 'markers', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
      { Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 0 }, Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }] },
    ];
    const put = await rules(B, given);
    assert.equal(put.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
    assert.equal(got.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    assert.equal(got.Rules!.length, 5);
    assert.deepEqual(got.Rules!.slice(0, 4), given.slice(0, 4));
    const generated = got.Rules![4]!;
    assert.match(generated.ID!, /^[A-Za-z0-9+/]{20,}$/, 'S3 names a rule given without an ID');
    assert.deepEqual({ ...generated, ID: undefined }, { ...given[4], ID: undefined });
    // The header chooses the other default; a new configuration replaces the old one whole.
    const again = await rules(B, [{ ID: 'only', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }], 'varies_by_storage_class');
    assert.equal(again.TransitionDefaultMinimumObjectSize, 'varies_by_storage_class');
    const replaced = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
    assert.deepEqual(replaced.Rules, [{ ID: 'only', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    assert.equal(replaced.TransitionDefaultMinimumObjectSize, 'varies_by_storage_class');
    const del = await s3.send(new DeleteBucketLifecycleCommand({ Bucket: B }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectError(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B })), 'NoSuchLifecycleConfiguration', 404);
    await expectError(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-no-such-bucket' })), 'NoSuchBucket', 404);
    await expectError(rules('lc-no-such-bucket', [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]), 'NoSuchBucket', 404);
  });

  it('the legacy top-level Prefix (Lifecycle V1) is kept as such', async () => {
    const B = await bucket('lc-v1');
    await rules(B, [{ ID: 'old', Status: 'Enabled', Prefix: 'tmp/', Expiration: { Days: 3 } }]);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
    assert.deepEqual(got.Rules, [{ ID: 'old', Status: 'Enabled', Prefix: 'tmp/', Expiration: { Days: 3 } }]);
  });

  it("refuses what S3 refuses, in S3's words", async () => {
    const B = await bucket('lc-invalid');
    const refuse = (r: LifecycleRule[], name: string, message?: string | RegExp, min?: string) =>
      expectError(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: B, LifecycleConfiguration: { Rules: r }, TransitionDefaultMinimumObjectSize: min as never })), name, 400, message);
    const ok: LifecycleRule = { ID: 'ok', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } };
    await refuse([{ ...ok, Expiration: { Days: 0 } }], 'InvalidArgument', "'Days' for Expiration action must be a positive integer");
    await refuse([{ ...ok, Expiration: undefined, Transitions: [{ Days: 10, StorageClass: 'STANDARD_IA' }] }], 'InvalidArgument', "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'");
    await refuse([{ ...ok, Expiration: undefined, Transitions: [{ Days: 29, StorageClass: 'ONEZONE_IA' }] }], 'InvalidArgument', "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'");
    await refuse(
      [{ ...ok, Filter: { Prefix: 'p/' }, Expiration: { Days: 30 }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }],
      'InvalidArgument',
      "'Days' in the Expiration action for filter '(prefix=p/)' must be greater than 'Days' in the Transition action",
    );
    await refuse(
      [{ ...ok, Expiration: undefined, Transitions: [{ Days: 90, StorageClass: 'STANDARD_IA' }, { Days: 60, StorageClass: 'GLACIER' }] }],
      'InvalidArgument',
      "'Days' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=)' must be greater than 'Days' in the Transition action for StorageClass 'STANDARD_IA' for filter '(prefix=)'",
    );
    await refuse([{ ...ok, Expiration: undefined, Transitions: [{ Days: 40, StorageClass: 'GLACIER' }, { Days: 50, StorageClass: 'GLACIER' }] }], 'InvalidRequest', /'StorageClass' must be different for 'Transition' actions in same 'Rule'/);
    await refuse([ok, { ...ok }], 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
    await refuse([{ ...ok, ID: 'x'.repeat(256) }], 'InvalidArgument', 'ID length should not exceed allowed limit of 255');
    await refuse(
      Array.from({ length: 1001 }, (_, i) => ({ ...ok, ID: `r${i}`, Filter: { Prefix: `p${i}/` } })),
      'InvalidRequest',
      'The number of lifecycle rules must not exceed the allowed limit of 1000 rules.',
    );
    await refuse([{ ID: 'none', Status: 'Enabled', Filter: {} }], 'InvalidRequest', 'At least one action needs to be specified in a rule');
    await refuse([{ ...ok, Expiration: { Date: new Date('2030-01-01T12:00:00Z') } }], 'InvalidArgument', "'Date' must be at midnight GMT");
    await refuse([{ ...ok, Filter: { Tag: { Key: 'k', Value: 'v' } }, Expiration: { ExpiredObjectDeleteMarker: true } }], 'InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with Tags.');
    await refuse([{ ...ok, Filter: { ObjectSizeGreaterThan: 5 }, Expiration: undefined, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }], 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Object Size.');
    await refuse([{ ...ok, Expiration: undefined, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 0 } }], 'InvalidArgument', "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
    await refuse([{ ...ok, Expiration: undefined, NoncurrentVersionExpiration: { NoncurrentDays: 0 } }], 'InvalidArgument', "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
    await refuse([{ ...ok, Expiration: undefined, NoncurrentVersionExpiration: { NoncurrentDays: 3, NewerNoncurrentVersions: 0 } }], 'InvalidArgument', "'NewerNoncurrentVersions' must be a positive integer");
    await refuse([{ ...ok, Filter: { And: { ObjectSizeGreaterThan: 100, ObjectSizeLessThan: 100 } } }], 'InvalidRequest', "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.");
    await refuse([{ ...ok, Filter: { And: { Tags: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] } } }], 'InvalidRequest', 'Duplicate Tag Keys are not allowed.');
    // V1 and V2 do not mix: the first rule decides.
    await refuse([ok, { ID: 'v1', Status: 'Enabled', Prefix: 'a/', Expiration: { Days: 1 } }], 'InvalidRequest', 'Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter.');
    await refuse(
      [
        { ID: 'a', Status: 'Enabled', Prefix: 'a/', Expiration: { Days: 1 } },
        { ID: 'b', Status: 'Enabled', Prefix: 'a/b/', Expiration: { Days: 2 } },
      ],
      'InvalidRequest',
      "Found overlapping prefixes 'a/' and 'a/b/' for same action type 'Expiration'",
    );
    await refuse([ok], 'InvalidRequest', 'Invalid TransitionDefaultMinimumObjectSize found', 'all_of_them');
    // Nothing was stored by any of these.
    await expectError(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B })), 'NoSuchLifecycleConfiguration', 404);
  });

  it('documents the schema refuses are MalformedXML', async () => {
    const B = await bucket('lc-malformed');
    const put = (xml: string) =>
      send(server.url, { method: 'PUT', path: `/${B}`, query: 'lifecycle=', headers: { 'content-type': 'application/xml' }, body: `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${xml}</LifecycleConfiguration>` });
    const cases = [
      // No rule at all is not a configuration S3 stores.
      ['', 'InvalidRequest'],
      ['<Rule><ID>s</ID><Status>Maybe</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>', 'MalformedXML'],
      ['<Rule><ID>t</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>', 'MalformedXML'],
      ['<Rule><ID>f</ID><Status>Enabled</Status><Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Expiration><Days>1</Days></Expiration></Rule>', 'MalformedXML'],
      ['<Rule><ID>e</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>', 'MalformedXML'],
      ['<Rule><ID>c</ID><Status>Enabled</Status><Filter/><Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition></Rule>', 'MalformedXML'],
      ['<Rule><ID>n</ID><Status>Enabled</Status><Filter/><NoncurrentVersionExpiration><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>', 'MalformedXML'],
      ['<Rule><ID>x</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>', 'MalformedXML'],
    ] as const;
    for (const [xml, code] of cases) {
      const r = await put(xml);
      assert.equal(r.status, 400, xml);
      assert.equal(errorCode(r.body), code, `${xml}: ${r.body}`);
    }
  });
});

describe('lifecycle worker (one lifecycle day = one second)', () => {
  it('Expiration Days, unversioned: the object goes for good at creation + days rounded up to midnight; x-amz-expiration on PUT, HEAD and GET', async () => {
    const B = await bucket('lc-days');
    await rules(B, [
      { ID: 'tmp-rule', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
      { ID: 'later', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 5 } },
    ]);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tmp/a', Body: 'a' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'tmp/a' }));
    const expected = expiryAfterDays(head.LastModified!, 1, 'tmp-rule');
    assert.equal(put.Expiration, expected, 'the earliest expiration of the rules that apply');
    assert.equal(head.Expiration, expected);
    const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'tmp/a' }));
    assert.equal(get.Expiration, expected);
    await get.Body!.transformToString();
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'keep/b', Body: 'b' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'keep/b' }))).Expiration, undefined, 'no rule, no header');
    const due = Date.parse(/expiry-date="([^"]+)"/.exec(expected)![1]!);
    await eventually('tmp/a to expire', async () => !(await exists(B, 'tmp/a')));
    assert.ok(Date.now() >= due - 50, 'not before its expiry date');
    assert.ok(await exists(B, 'keep/b'));
    const v = await versionsOf(B);
    assert.deepEqual(v.versions.map((x) => x.key), ['keep/b'], 'removed for good: no version, no marker');
    assert.deepEqual(v.markers, []);
  });

  it('Expiration by a past Date, versioned: a delete marker; suspended: a null delete marker replacing the null version', async () => {
    const V = await bucket('lc-date-versioned', 'Enabled');
    const S = await bucket('lc-date-suspended', 'Suspended');
    const rule: LifecycleRule = { ID: 'past', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Date: new Date('2020-01-01T00:00:00Z') } };
    const v1 = await s3.send(new PutObjectCommand({ Bucket: V, Key: 'old/x', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: S, Key: 'old/y', Body: 'y' }));
    await rules(V, [rule]);
    await rules(S, [rule]);
    // Objects written after the date expire too (at the next lifecycle midnight); the header names the date.
    const late = await s3.send(new PutObjectCommand({ Bucket: S, Key: 'old/late', Body: 'l' }));
    assert.equal(late.Expiration, 'expiry-date="Wed, 01 Jan 2020 00:00:00 GMT", rule-id="past"');
    await eventually('the versioned object to get a delete marker', async () => !(await exists(V, 'old/x')));
    const vv = await versionsOf(V);
    assert.deepEqual(vv.versions, [{ key: 'old/x', id: v1.VersionId!, latest: false, storageClass: 'STANDARD' }], 'the version is kept, noncurrent');
    assert.equal(vv.markers.length, 1);
    assert.equal(vv.markers[0]!.latest, true);
    await expectError(s3.send(new GetObjectCommand({ Bucket: V, Key: 'old/x' })), 'NoSuchKey', 404);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: V, Key: 'old/x', VersionId: v1.VersionId }))).VersionId, v1.VersionId);
    await eventually('the suspended bucket to get a null delete marker', async () => !(await exists(S, 'old/y')));
    await eventually('the object written after the date to expire', async () => !(await exists(S, 'old/late')));
    const sv = await versionsOf(S);
    assert.deepEqual(sv.versions, [], 'the null versions were replaced by null markers');
    assert.deepEqual(sv.markers, [
      { key: 'old/late', id: 'null', latest: true },
      { key: 'old/y', id: 'null', latest: true },
    ]);
  });

  it('x-amz-expiration names the Date of a Date rule', async () => {
    const B = await bucket('lc-date-header');
    await rules(B, [{ ID: 'future', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Date: new Date('2099-01-01T00:00:00Z') } }]);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'k' }));
    assert.equal(put.Expiration, 'expiry-date="Thu, 01 Jan 2099 00:00:00 GMT", rule-id="future"');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k' }))).Expiration, put.Expiration);
    const copy = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'k2', CopySource: `${B}/k` }));
    assert.equal(copy.Expiration, put.Expiration);
  });

  it('filters by prefix, tag and size; Disabled rules, future dates and tags set later', async () => {
    const B = await bucket('lc-filters');
    await rules(B, [
      { ID: 'control', Status: 'Enabled', Filter: { Prefix: 'control/' }, Expiration: { Days: 1 } },
      { ID: 'tagged', Status: 'Enabled', Filter: { Tag: { Key: 'expire', Value: 'yes' } }, Expiration: { Days: 1 } },
      { ID: 'small', Status: 'Enabled', Filter: { And: { Prefix: 'size/', ObjectSizeLessThan: 10 } }, Expiration: { Days: 1 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'disabled/' }, Expiration: { Days: 1 } },
      { ID: 'future', Status: 'Enabled', Filter: { Prefix: 'future/' }, Expiration: { Date: new Date('2099-01-01T00:00:00Z') } },
    ]);
    const put = (Key: string, Body: string, Tagging?: string) => s3.send(new PutObjectCommand({ Bucket: B, Key, Body, Tagging }));
    await put('control/1', 'c');
    await put('t/yes', 't', 'expire=yes');
    await put('t/no', 't', 'expire=no');
    await put('t/later', 't');
    await put('size/small', '123');
    await put('size/large', '0123456789abcdef');
    await put('disabled/1', 'd');
    await put('future/1', 'f');
    assert.match((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 't/yes' }))).Expiration!, /rule-id="tagged"/);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 't/no' }))).Expiration, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'disabled/1' }))).Expiration, undefined, 'a disabled rule expires nothing');
    // Tagged after it was written, and after the worker first saw it.
    await sleep(300);
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 't/later', Tagging: { TagSet: [{ Key: 'expire', Value: 'yes' }] } }));
    await eventually('the control object to expire', async () => !(await exists(B, 'control/1')));
    await eventually('tagged objects and the small one to expire', async () => !(await exists(B, 't/yes')) && !(await exists(B, 't/later')) && !(await exists(B, 'size/small')));
    // Another day: what no enabled rule covers is still there.
    await sleep(1500);
    for (const k of ['t/no', 'size/large', 'disabled/1', 'future/1']) assert.ok(await exists(B, k), `${k} must stay`);
  });

  it('ExpiredObjectDeleteMarker removes a delete marker left alone, not one with versions under it', async () => {
    const B = await bucket('lc-markers', 'Enabled');
    const a = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'alone', Body: 'a' }));
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'alone' }));
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'alone', VersionId: a.VersionId }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'covered', Body: 'c' }));
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'covered' }));
    const before = await versionsOf(B);
    assert.deepEqual(before.markers.map((m) => m.key).sort(), ['alone', 'covered']);
    await rules(B, [{ ID: 'markers', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } }]);
    await eventually('the lone marker to go', async () => (await versionsOf(B, 'alone')).markers.length === 0);
    const after = await versionsOf(B);
    assert.deepEqual(after.markers.map((m) => m.key), ['covered']);
    assert.deepEqual(after.versions.map((v) => v.key), ['covered']);
  });

  it('NoncurrentVersionExpiration keeps the NewerNoncurrentVersions newest and then the lone marker goes too', async () => {
    const B = await bucket('lc-noncurrent', 'Enabled');
    const ids: string[] = [];
    for (const body of ['v1', 'v2', 'v3']) ids.push((await s3.send(new PutObjectCommand({ Bucket: B, Key: 'doc', Body: body }))).VersionId!);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'gone', Body: 'g' }));
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'gone' }));
    await rules(B, [
      { ID: 'keep-one', Status: 'Enabled', Filter: { Prefix: 'doc' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
      { ID: 'clean', Status: 'Enabled', Filter: { Prefix: 'gone' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    await eventually('the oldest noncurrent version of doc to go', async () => (await versionsOf(B, 'doc')).versions.length === 2);
    assert.deepEqual((await versionsOf(B, 'doc')).versions.map((v) => [v.id, v.latest]), [
      [ids[2], true],
      [ids[1], false],
    ]);
    await eventually('gone: its version, then its lone marker', async () => {
      const v = await versionsOf(B, 'gone');
      return v.versions.length === 0 && v.markers.length === 0;
    });
    // A newer version pushes v2 out of the one kept: it goes once it has been noncurrent a day.
    const v4 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'doc', Body: 'v4' }))).VersionId!;
    await eventually('v2 to go after v3 became noncurrent', async () => (await versionsOf(B, 'doc')).versions.length === 2, 6000);
    assert.deepEqual((await versionsOf(B, 'doc')).versions.map((v) => v.id), [v4, ids[2]]);
  });

  it('transitions change the storage class (HEAD, listings), objects stay readable, small objects stay put by default', async () => {
    const B = await bucket('lc-transitions');
    await rules(B, [
      { ID: 'sized', Status: 'Enabled', Filter: { And: { Prefix: 'cold/', ObjectSizeGreaterThan: 0 } }, Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }, { Days: 2, StorageClass: 'DEEP_ARCHIVE' }] },
      { ID: 'default-size', Status: 'Enabled', Filter: { Prefix: 'plain/' }, Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }] },
    ]);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cold/a', Body: 'small but named by size' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'plain/small', Body: 'under 128 KB' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'plain/big', Body: Buffer.alloc(200 * 1024, 7) }));
    const cls = async (Key: string) => (await s3.send(new HeadObjectCommand({ Bucket: B, Key }))).StorageClass ?? 'STANDARD';
    await eventually('cold/a to move to GLACIER_IR', async () => (await cls('cold/a')) === 'GLACIER_IR');
    await eventually('plain/big to move to GLACIER_IR', async () => (await cls('plain/big')) === 'GLACIER_IR');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: B }));
    assert.deepEqual(Object.fromEntries(listed.Contents!.map((o) => [o.Key, o.StorageClass])), { 'cold/a': 'GLACIER_IR', 'plain/big': 'GLACIER_IR', 'plain/small': 'STANDARD' });
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cold/a' }))).Body!.transformToString(), 'small but named by size');
    // Down the waterfall on the second day.
    await eventually('cold/a to move on to DEEP_ARCHIVE', async () => (await cls('cold/a')) === 'DEEP_ARCHIVE', 6000);
    assert.equal(await cls('plain/small'), 'STANDARD');
  });

  it('varies_by_storage_class lets small objects go to GLACIER; noncurrent transitions move noncurrent versions only', async () => {
    const B = await bucket('lc-noncurrent-transitions', 'Enabled');
    await rules(
      B,
      [
        { ID: 'glacier', Status: 'Enabled', Filter: { Prefix: 'g/' }, Transitions: [{ Days: 0, StorageClass: 'GLACIER' }] },
        { ID: 'old-versions', Status: 'Enabled', Filter: { Prefix: 'n/' }, NoncurrentVersionTransitions: [{ NoncurrentDays: 1, StorageClass: 'GLACIER' }] },
      ],
      'varies_by_storage_class',
    );
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'g/small', Body: 'tiny' }));
    const old = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'n/doc', Body: 'old' }))).VersionId!;
    const cur = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'n/doc', Body: 'new' }))).VersionId!;
    await eventually('g/small to move to GLACIER', async () => (await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'g/small' }))).StorageClass === 'GLACIER');
    await eventually('the noncurrent version to move to GLACIER', async () => (await versionsOf(B, 'n/')).versions.find((v) => v.id === old)?.storageClass === 'GLACIER');
    assert.equal((await versionsOf(B, 'n/')).versions.find((v) => v.id === cur)?.storageClass, 'STANDARD');
  });

  it('AbortIncompleteMultipartUpload aborts uploads older than DaysAfterInitiation under the prefix', async () => {
    const B = await bucket('lc-uploads');
    await rules(B, [{ ID: 'abort', Status: 'Enabled', Filter: { Prefix: 'mpu/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    const stale = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mpu/big' }));
    await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mpu/big', UploadId: stale.UploadId, PartNumber: 1, Body: 'part' }));
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'elsewhere/big' }));
    const uploads = async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: B }))).Uploads ?? []).map((u) => u.Key);
    assert.deepEqual(await uploads(), ['elsewhere/big', 'mpu/big']);
    await eventually('the upload under mpu/ to be aborted', async () => (await uploads()).length === 1);
    assert.deepEqual(await uploads(), ['elsewhere/big']);
    await expectError(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mpu/big', UploadId: stale.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } })),
      'NoSuchUpload',
      404,
    );
    assert.ok(other.UploadId);
  });

  it('rules survive a restart and act on what came due while the server was down', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-lifecycle-'));
    let first: TestServer | undefined = await startServer({ dataDir, env: { NIMBUS_S3_LIFECYCLE_DAY_MS: String(DAY) } });
    let second: TestServer | undefined;
    const c1 = client(first.url);
    try {
      await c1.send(new CreateBucketCommand({ Bucket: 'lc-restart' }));
      await c1.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-restart', LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 2 } }] } }));
      await c1.send(new PutObjectCommand({ Bucket: 'lc-restart', Key: 'k', Body: 'k' }));
      c1.destroy();
      await first.stop();
      first = undefined;
      // Down for more than the rule's two days.
      await sleep(3200);
      second = await startServer({ dataDir, env: { NIMBUS_S3_LIFECYCLE_DAY_MS: String(DAY) } });
      const c2 = client(second.url);
      const got = await c2.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-restart' }));
      assert.deepEqual(got.Rules, [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 2 } }]);
      await eventually('k to expire after the restart', async () => {
        try {
          await c2.send(new HeadObjectCommand({ Bucket: 'lc-restart', Key: 'k' }));
          return false;
        } catch (e) {
          return (e as S3ServiceException).$metadata?.httpStatusCode === 404;
        }
      }, 5000);
      c2.destroy();
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('lifecycle with the AWS CLI', () => {
  before(() => {
    requireAwsCli();
  });

  it('put-bucket-lifecycle-configuration --lifecycle-configuration file://…, get-bucket-lifecycle-configuration, delete-bucket-lifecycle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-cli-lc-'));
    try {
      aws(server.url, ['s3api', 'create-bucket', '--bucket', 'lc-cli']);
      const file = join(dir, 'lifecycle.json');
      const config = {
        Rules: [
          { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 }, Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }] },
          { ID: 'mpu', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
        ],
      };
      writeFileSync(file, JSON.stringify(config));
      const put = JSON.parse(aws(server.url, ['s3api', 'put-bucket-lifecycle-configuration', '--bucket', 'lc-cli', '--lifecycle-configuration', `file://${file}`, '--output', 'json']) || '{}');
      assert.equal(put.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
      const got = JSON.parse(aws(server.url, ['s3api', 'get-bucket-lifecycle-configuration', '--bucket', 'lc-cli', '--output', 'json']));
      assert.deepEqual(got.Rules, config.Rules);
      assert.equal(got.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
      aws(server.url, ['s3api', 'put-object', '--bucket', 'lc-cli', '--key', 'logs/a', '--body', file]);
      const head = JSON.parse(aws(server.url, ['s3api', 'head-object', '--bucket', 'lc-cli', '--key', 'logs/a', '--output', 'json']));
      assert.match(head.Expiration, /^expiry-date="[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", rule-id="logs"$/);
      aws(server.url, ['s3api', 'delete-bucket-lifecycle', '--bucket', 'lc-cli']);
      const r = await send(server.url, { method: 'GET', path: '/lc-cli', query: 'lifecycle=' });
      assert.equal(errorCode(r.body), 'NoSuchLifecycleConfiguration');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
