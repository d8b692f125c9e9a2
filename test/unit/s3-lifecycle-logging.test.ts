import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dayStart, dueAt, expiryOf, inScope, scopeOf, transitionSizeAllowed, validateLifecycle, type LifecycleConfig } from '../../src/services/s3/lifecycle.js';
import { formatRecord, logObjectKey, logTime } from '../../src/services/s3/access-log.js';
import type { BucketRecord } from '../../src/storage/metadata.js';

const DAY = 86_400_000;

describe('lifecycle due times', () => {
  it("adds the days and rounds up to the next midnight UTC, with S3's own examples", () => {
    // "an object created on 1/1/2020 10:30 UTC with a rule to transition it after 3 days: 1/5/2020 00:00 UTC"
    assert.equal(new Date(dueAt(Date.parse('2020-01-01T10:30:00Z'), 3, DAY)).toISOString(), '2020-01-05T00:00:00.000Z');
    // HEAD of an object of 14 Aug 2018 19:57:04 under Days 60: expiry-date="Sun, 14 Oct 2018 00:00:00 GMT"
    assert.equal(new Date(dueAt(Date.parse('2018-08-14T19:57:04Z'), 60, DAY)).toUTCString(), 'Sun, 14 Oct 2018 00:00:00 GMT');
    // Exactly at midnight: still the next one.
    assert.equal(new Date(dueAt(Date.parse('2020-01-01T00:00:00Z'), 1, DAY)).toISOString(), '2020-01-03T00:00:00.000Z');
    assert.equal(dayStart(Date.parse('2020-01-01T23:59:59.999Z'), DAY), Date.parse('2020-01-01T00:00:00Z'));
  });

  it('a scaled day rounds to its own "midnights"', () => {
    assert.equal(dueAt(10_400, 1, 1000), 12_000);
    assert.equal(dueAt(10_000, 0, 1000), 11_000);
  });
});

describe('lifecycle scopes', () => {
  const cfg = (rules: unknown[], min?: string) => validateLifecycle({ Rules: rules }, min);

  it('prefix, every tag of the filter, sizes strictly between the bounds', () => {
    const s = scopeOf(cfg([{ ID: 'a', Status: 'Enabled', Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 20 } }, Expiration: { Days: 1 } }]).rules[0]!);
    const tags = [{ Key: 'k', Value: 'v' }, { Key: 'other', Value: 'x' }];
    assert.equal(inScope(s, 'p/x', 15, tags), true);
    assert.equal(inScope(s, 'q/x', 15, tags), false);
    assert.equal(inScope(s, 'p/x', 10, tags), false);
    assert.equal(inScope(s, 'p/x', 20, tags), false);
    assert.equal(inScope(s, 'p/x', 15, [{ Key: 'k', Value: 'w' }]), false);
    assert.equal(inScope(s, 'p/x', 15, undefined), false);
    assert.equal(inScope(scopeOf(cfg([{ ID: 'v1', Status: 'Enabled', Prefix: 'old/', Expiration: { Days: 1 } }]).rules[0]!), 'old/a', 0, undefined), true);
  });

  it('the 128 KB default of transitions, and what overrides it', () => {
    const c = cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 0, StorageClass: 'GLACIER' }] }]);
    const plain = scopeOf(c.rules[0]!);
    assert.equal(transitionSizeAllowed(c, plain, 'GLACIER', 131071), false);
    assert.equal(transitionSizeAllowed(c, plain, 'GLACIER', 131072), true);
    const varies: LifecycleConfig = { ...c, minimumObjectSize: 'varies_by_storage_class' };
    assert.equal(transitionSizeAllowed(varies, plain, 'GLACIER', 1), true);
    assert.equal(transitionSizeAllowed(varies, plain, 'DEEP_ARCHIVE', 1), true);
    assert.equal(transitionSizeAllowed(varies, plain, 'GLACIER_IR', 1), false);
    assert.equal(transitionSizeAllowed(c, { ...plain, greaterThan: 0 }, 'STANDARD_IA', 1), true, 'a size filter decides for itself');
  });

  it('expiryOf picks the earliest enabled Days or Date rule in scope', () => {
    const c = cfg([
      { ID: 'late', Status: 'Enabled', Filter: {}, Expiration: { Days: 10 } },
      { ID: 'soon', Status: 'Enabled', Filter: { Prefix: 'a' }, Expiration: { Days: 2 } },
      { ID: 'off', Status: 'Disabled', Filter: {}, Expiration: { Days: 1 } },
      { ID: 'markers', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const t = Date.parse('2024-03-01T08:00:00Z');
    assert.deepEqual(expiryOf(c, { key: 'a1', size: 1, lastModified: t }, undefined, DAY), { at: Date.parse('2024-03-04T00:00:00Z'), ruleId: 'soon' });
    assert.deepEqual(expiryOf(c, { key: 'b1', size: 1, lastModified: t }, undefined, DAY), { at: Date.parse('2024-03-12T00:00:00Z'), ruleId: 'late' });
    assert.equal(expiryOf(cfg([{ ID: 'm', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } }]), { key: 'x', size: 1, lastModified: t }, undefined, DAY), undefined);
  });
});

describe('access log records', () => {
  const bucket: BucketRecord = { id: 1, name: 'src', region: 'eu-west-1', createdAt: 0, ownerId: '123456789012' };

  it('27 fields in order, dashes for what is unknown, quoted fields escaped', () => {
    const line = formatRecord({
      bucketOwner: 'owner',
      bucket: 'src',
      time: Date.parse('2019-02-06T00:00:38Z'),
      remoteIp: '192.0.2.3',
      requestId: '3E57427F3EXAMPLE',
      operation: 'REST.GET.OBJECT',
      key: 'a dir/é+x.txt',
      requestUri: 'GET /src/a%20dir HTTP/1.1',
      status: 200,
      bytesSent: 0,
      objectSize: 5,
      totalTime: 7,
      userAgent: 'agent "x"',
    });
    assert.equal(
      line,
      'owner src [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT a%20dir/%C3%A9%2Bx.txt "GET /src/a%20dir HTTP/1.1" 200 - - 5 7 - "-" "agent \\"x\\"" - - - - - - - - - -',
    );
    assert.equal(line.match(/\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+/g)!.length, 27);
    assert.equal(logTime(Date.parse('2024-12-31T23:59:59Z')), '[31/Dec/2024:23:59:59 +0000]');
  });

  it('log object keys: simple and partitioned', () => {
    const at = Date.parse('2024-05-06T07:08:09Z');
    assert.match(logObjectKey({ TargetBucket: 't', TargetPrefix: 'logs/' }, bucket, at, at), /^logs\/2024-05-06-07-08-09-[0-9A-F]{16}$/);
    const partitioned = logObjectKey({ TargetBucket: 't', TargetPrefix: 'p/', TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } } }, bucket, at, Date.parse('2024-05-05T23:00:00Z'));
    assert.match(partitioned, /^p\/123456789012\/eu-west-1\/src\/2024\/05\/05\/2024-05-06-07-08-09-[0-9A-F]{16}$/);
  });
});
