import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutLogGroupDeletionProtectionCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  TagResourceCommand,
  UntagLogGroupCommand,
  UntagResourceCommand,
  paginateDescribeLogGroups,
  paginateDescribeLogStreams,
  paginateFilterLogEvents,
  paginateGetLogEvents,
  type FilteredLogEvent,
  type InputLogEvent,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { startNimbus, type Nimbus } from '../../../src/main.js';
import { appendLogEvents } from '../../../src/services/logs/index.js';
import { setClockOffset } from '../../../src/util/clock.js';

/**
 * CloudWatch Logs with the AWS SDK for JavaScript v3 against the real `nimbus start`
 * process, plus an in-process server for what a test can only reach from inside: the
 * internal append API (Lambda's) and a moved clock.
 */
let server: TestServer;
let logs: CloudWatchLogsClient;
const ACCOUNT = '000000000000';
const DAY = 86_400_000;

const client = (url: string, extra: Record<string, unknown> = {}) => new CloudWatchLogsClient({ endpoint: url, region: REGION, credentials: CREDENTIALS, ...extra });

/** The error a call fails with: its name, HTTP status and message. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  assert.fail('expected the call to fail');
}

async function group(name: string, streams: string[] = []): Promise<void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
  for (const s of streams) await logs.send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: s }));
}

async function put(g: string, s: string, events: InputLogEvent[]) {
  return logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: s, logEvents: events }));
}

const messages = (events: Array<OutputLogEvent | FilteredLogEvent> | undefined): string[] => (events ?? []).map((e) => e.message ?? '');

before(async () => {
  server = await startServer({ env: { NIMBUS_LOGS_RETENTION_SWEEP_MS: '200' } });
  logs = client(server.url);
});

after(async () => {
  logs?.destroy();
  await server?.dispose();
});

describe('log groups', () => {
  it('create with tags, KMS key and class; describe reports every field; duplicates are ResourceAlreadyExistsException', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/g/full', tags: { team: 'core' }, kmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/abc', logGroupClass: 'INFREQUENT_ACCESS' }));
    const before = Date.now();
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/g/plain' }));
    const d = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/g/' }));
    assert.deepEqual(
      d.logGroups!.map((g) => ({ ...g, creationTime: typeof g.creationTime })),
      [
        {
          logGroupName: '/g/full',
          creationTime: 'number',
          metricFilterCount: 0,
          arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/g/full:*`,
          storedBytes: 0,
          kmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/abc',
          logGroupClass: 'INFREQUENT_ACCESS',
          logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/g/full`,
          deletionProtectionEnabled: false,
        },
        {
          logGroupName: '/g/plain',
          creationTime: 'number',
          metricFilterCount: 0,
          arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/g/plain:*`,
          storedBytes: 0,
          logGroupClass: 'STANDARD',
          logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/g/plain`,
          deletionProtectionEnabled: false,
        },
      ],
    );
    assert.ok(Math.abs(d.logGroups![1]!.creationTime! - before) < 5000);
    const dup = await failure(logs.send(new CreateLogGroupCommand({ logGroupName: '/g/plain' })));
    assert.deepEqual(dup, { name: 'ResourceAlreadyExistsException', status: 400, message: 'The specified log group already exists' });
  });

  it('names are checked as AWS checks them', async () => {
    const bad = await failure(logs.send(new CreateLogGroupCommand({ logGroupName: 'has space' })));
    assert.equal(bad.name, 'InvalidParameterException');
    assert.equal(bad.status, 400);
    assert.equal(bad.message, "1 validation error detected: Value 'has space' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
    const long = await failure(logs.send(new CreateLogGroupCommand({ logGroupName: 'a'.repeat(513) })));
    assert.deepEqual(long, { name: 'InvalidParameterException', status: 400, message: 'Invalid LogGroup or LogStream, both must have length less than or equal to 512.' });
    assert.equal((await failure(logs.send(new CreateLogGroupCommand({ logGroupName: 'aws/mine' })))).name, 'InvalidParameterException');
    // "/aws/…" (with the leading slash) is what Lambda and others use, and is allowed.
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/allowed' }));
  });

  it('describe: prefix, substring pattern (brief entries), mutual exclusion, limit bounds, pages', async () => {
    for (const n of ['DataLogs', 'aws.DataLogs', 'GroupDataLogs', 'datalogs', 'Data.logs']) await logs.send(new CreateLogGroupCommand({ logGroupName: n }));
    const byPattern = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'DataLogs' }));
    assert.deepEqual(byPattern.logGroups!.map((g) => g.logGroupName), ['DataLogs', 'GroupDataLogs', 'aws.DataLogs']);
    assert.deepEqual(Object.keys(byPattern.logGroups![0]!).sort(), ['arn', 'creationTime', 'logGroupArn', 'logGroupClass', 'logGroupName', 'metricFilterCount']);
    const both = await failure(logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'x', logGroupNamePrefix: 'y' })));
    assert.deepEqual(both, { name: 'InvalidParameterException', status: 400, message: 'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.' });
    const tooMany = await failure(logs.send(new DescribeLogGroupsCommand({ limit: 51 })));
    assert.equal(tooMany.message, "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50");
    for (let i = 0; i < 7; i++) await logs.send(new CreateLogGroupCommand({ logGroupName: `/paged/${i}` }));
    const first = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/paged/', limit: 3 }));
    assert.deepEqual(first.logGroups!.map((g) => g.logGroupName), ['/paged/0', '/paged/1', '/paged/2']);
    assert.ok(first.nextToken);
    const names: string[] = [];
    for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 3 }, { logGroupNamePrefix: '/paged/' })) names.push(...page.logGroups!.map((g) => g.logGroupName!));
    assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `/paged/${i}`));
    const last = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/paged/', limit: 7 }));
    assert.equal(last.nextToken, undefined);
    assert.deepEqual(await failure(logs.send(new DescribeLogGroupsCommand({ nextToken: 'garbage' }))), { name: 'InvalidParameterException', status: 400, message: 'The specified nextToken is invalid.' });
    const ids = await logs.send(new DescribeLogGroupsCommand({ logGroupIdentifiers: ['/paged/5', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/paged/1`, '/missing'] }));
    assert.deepEqual(ids.logGroups!.map((g) => g.logGroupName), ['/paged/1', '/paged/5']);
  });

  it('delete: gone from describe, then ResourceNotFoundException', async () => {
    await group('/g/doomed', ['s']);
    await put('/g/doomed', 's', [{ timestamp: Date.now(), message: 'bye' }]);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: '/g/doomed' }));
    assert.deepEqual((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/g/doomed' }))).logGroups, []);
    assert.deepEqual(await failure(logs.send(new DeleteLogGroupCommand({ logGroupName: '/g/doomed' }))), {
      name: 'ResourceNotFoundException',
      status: 400,
      message: 'The specified log group does not exist.',
    });
    // A new group of the same name starts empty.
    await group('/g/doomed', ['s']);
    assert.deepEqual((await logs.send(new GetLogEventsCommand({ logGroupName: '/g/doomed', logStreamName: 's' }))).events, []);
  });

  it('deletion protection blocks deleting the group and its streams until turned off', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/g/protected', deletionProtectionEnabled: true }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/g/protected', logStreamName: 's' }));
    assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/g/protected' }))).logGroups![0]!.deletionProtectionEnabled, true);
    assert.equal((await failure(logs.send(new DeleteLogGroupCommand({ logGroupName: '/g/protected' })))).name, 'ValidationException');
    assert.equal((await failure(logs.send(new DeleteLogStreamCommand({ logGroupName: '/g/protected', logStreamName: 's' })))).name, 'ValidationException');
    await logs.send(new PutLogGroupDeletionProtectionCommand({ logGroupIdentifier: '/g/protected', deletionProtectionEnabled: false }));
    await logs.send(new DeleteLogGroupCommand({ logGroupName: '/g/protected' }));
  });
});

describe('log streams', () => {
  it('create, duplicate, missing group, describe fields before and after events', async () => {
    await group('/s/one', ['b', 'a']);
    assert.deepEqual(await failure(logs.send(new CreateLogStreamCommand({ logGroupName: '/s/one', logStreamName: 'a' }))), {
      name: 'ResourceAlreadyExistsException',
      status: 400,
      message: 'The specified log stream already exists',
    });
    assert.deepEqual(await failure(logs.send(new CreateLogStreamCommand({ logGroupName: '/s/none', logStreamName: 'a' }))), {
      name: 'ResourceNotFoundException',
      status: 400,
      message: 'The specified log group does not exist.',
    });
    const bad = await failure(logs.send(new CreateLogStreamCommand({ logGroupName: '/s/one', logStreamName: 'x:y' })));
    assert.equal(bad.message, "1 validation error detected: Value 'x:y' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*");
    const fresh = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/one' }))).logStreams!;
    assert.deepEqual(fresh.map((s) => ({ ...s, creationTime: typeof s.creationTime })), [
      { logStreamName: 'a', creationTime: 'number', arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/s/one:log-stream:a`, storedBytes: 0 },
      { logStreamName: 'b', creationTime: 'number', arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/s/one:log-stream:b`, storedBytes: 0 },
    ]);
    const t = Date.now();
    await put('/s/one', 'a', [{ timestamp: t - 1000, message: 'first' }, { timestamp: t, message: 'last' }]);
    const a = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/one', logStreamNamePrefix: 'a' }))).logStreams!;
    assert.equal(a.length, 1);
    assert.equal(a[0]!.firstEventTimestamp, t - 1000);
    assert.equal(a[0]!.lastEventTimestamp, t);
    assert.ok(Math.abs(a[0]!.lastIngestionTime! - Date.now()) < 5000);
    assert.match(a[0]!.uploadSequenceToken!, /^\d{56}$/);
  });

  it('order by name or last event time, descending, prefixes, pages, identifiers', async () => {
    await group('/s/order', ['c', 'a', 'b', 'p-1', 'p-2']);
    const t = Date.now();
    await put('/s/order', 'a', [{ timestamp: t - 100, message: 'a' }]);
    await put('/s/order', 'b', [{ timestamp: t - 300, message: 'b' }]);
    await put('/s/order', 'c', [{ timestamp: t - 200, message: 'c' }]);
    const names = async (input: Record<string, unknown>) => (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/order', ...input }))).logStreams!.map((s) => s.logStreamName);
    assert.deepEqual(await names({}), ['a', 'b', 'c', 'p-1', 'p-2']);
    assert.deepEqual(await names({ descending: true }), ['p-2', 'p-1', 'c', 'b', 'a']);
    assert.deepEqual(await names({ logStreamNamePrefix: 'p-' }), ['p-1', 'p-2']);
    assert.deepEqual((await names({ orderBy: 'LastEventTime', descending: true })).slice(0, 3), ['a', 'c', 'b']);
    const both = await failure(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/order', orderBy: 'LastEventTime', logStreamNamePrefix: 'p' })));
    assert.deepEqual(both, { name: 'InvalidParameterException', status: 400, message: 'Cannot order by LastEventTime with a logStreamNamePrefix.' });
    const paged: string[] = [];
    for await (const page of paginateDescribeLogStreams({ client: logs, pageSize: 2 }, { logGroupName: '/s/order', orderBy: 'LastEventTime', descending: true })) {
      assert.ok(page.logStreams!.length <= 2);
      paged.push(...page.logStreams!.map((s) => s.logStreamName!));
    }
    assert.deepEqual(paged.slice(0, 3), ['a', 'c', 'b']);
    assert.deepEqual(paged.slice(3).sort(), ['p-1', 'p-2']);
    assert.deepEqual(
      (await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/s/order`, logStreamNamePrefix: 'c' }))).logStreams!.map((s) => s.logStreamName),
      ['c'],
    );
    assert.deepEqual((await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: '/s/order', logStreamNamePrefix: 'c' }))).logStreams!.map((s) => s.logStreamName), ['c']);
    const mutual = await failure(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/order', logGroupIdentifier: '/s/order' })));
    assert.deepEqual(mutual, { name: 'ValidationException', status: 400, message: 'LogGroup name and LogGroup ARN are mutually exclusive parameters.' });
    assert.equal((await failure(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/nope' })))).message, 'The specified log group does not exist.');
  });

  it('delete: the stream and its events go, the group stays', async () => {
    await group('/s/del', ['x', 'y']);
    await put('/s/del', 'x', [{ timestamp: Date.now(), message: 'in x' }]);
    await put('/s/del', 'y', [{ timestamp: Date.now(), message: 'in y' }]);
    await logs.send(new DeleteLogStreamCommand({ logGroupName: '/s/del', logStreamName: 'x' }));
    assert.deepEqual((await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/s/del' }))).logStreams!.map((s) => s.logStreamName), ['y']);
    assert.deepEqual(messages((await logs.send(new FilterLogEventsCommand({ logGroupName: '/s/del' }))).events), ['in y']);
    assert.deepEqual(await failure(logs.send(new DeleteLogStreamCommand({ logGroupName: '/s/del', logStreamName: 'x' }))), {
      name: 'ResourceNotFoundException',
      status: 400,
      message: 'The specified log stream does not exist.',
    });
  });
});

describe('PutLogEvents', () => {
  it('stores a batch, ignores the sequence token, and reports what it stored', async () => {
    await group('/p/ok', ['s']);
    const t = Date.now();
    const r = await logs.send(new PutLogEventsCommand({ logGroupName: '/p/ok', logStreamName: 's', sequenceToken: 'not-a-real-token', logEvents: [{ timestamp: t, message: 'héllo' }, { timestamp: t, message: 'world' }] }));
    assert.match(r.nextSequenceToken!, /^\d{56}$/);
    assert.equal(r.rejectedLogEventsInfo, undefined);
    assert.deepEqual(messages((await logs.send(new GetLogEventsCommand({ logGroupName: '/p/ok', logStreamName: 's' }))).events), ['héllo', 'world']);
    assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/p/ok' }))).logGroups![0]!.storedBytes, Buffer.byteLength('héllo') + 5);
  });

  it('missing group or stream: ResourceNotFoundException in AWS words', async () => {
    await group('/p/nostream');
    const ev = [{ timestamp: Date.now(), message: 'x' }];
    assert.deepEqual(await failure(put('/p/missing', 's', ev)), { name: 'ResourceNotFoundException', status: 400, message: 'The specified log group does not exist.' });
    assert.deepEqual(await failure(put('/p/nostream', 's', ev)), { name: 'ResourceNotFoundException', status: 400, message: 'The specified log stream does not exist.' });
  });

  it('batch rules: chronological order, 24-hour span, 1,048,576 bytes with 26 per event, 10,000 events', async () => {
    await group('/p/rules', ['s']);
    const t = Date.now();
    assert.deepEqual(await failure(put('/p/rules', 's', [{ timestamp: t, message: 'b' }, { timestamp: t - 1, message: 'a' }])), {
      name: 'InvalidParameterException',
      status: 400,
      message: 'Log events in a single PutLogEvents request must be in chronological order.',
    });
    assert.equal(
      (await failure(put('/p/rules', 's', [{ timestamp: t - DAY - 1000, message: 'a' }, { timestamp: t, message: 'b' }]))).message,
      'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
    );
    // 1,048,576 bytes exactly is accepted; one byte more is not.
    const exact = [{ timestamp: t, message: 'x'.repeat(1_048_576 - 26 - 26 - 10) }, { timestamp: t, message: 'y'.repeat(10) }];
    await put('/p/rules', 's', exact);
    const over = [{ timestamp: t, message: 'x'.repeat(1_048_576 - 26 - 26 - 10) }, { timestamp: t, message: 'y'.repeat(11) }];
    assert.deepEqual(await failure(put('/p/rules', 's', over)), { name: 'InvalidParameterException', status: 400, message: 'Upload too large: 1048577 bytes exceeds limit of 1048576' });
    const many = Array.from({ length: 10_001 }, () => ({ timestamp: t, message: 'm' }));
    const tooMany = await failure(put('/p/rules', 's', many));
    assert.equal(tooMany.name, 'InvalidParameterException');
    assert.match(tooMany.message, /^1 validation error detected: Value '.*' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000$/);
    await put('/p/rules', 's', many.slice(0, 10_000));
    const empty = await failure(put('/p/rules', 's', []));
    assert.match(empty.message, /at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1/);
  });

  it('too old (14 days), expired (retention) and too new (2 hours) events are rejected by index while the rest are stored', async () => {
    await group('/p/reject', ['s']);
    const t = Date.now();
    const r = await put('/p/reject', 's', [
      { timestamp: t - 15 * DAY, message: 'ancient' },
      { timestamp: t - 14 * DAY - 60_000, message: 'old' },
      { timestamp: t - 60_000, message: 'kept 1' },
      { timestamp: t, message: 'kept 2' },
      { timestamp: t + 3 * 3_600_000, message: 'future' },
    ]);
    assert.deepEqual(r.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 2, tooNewLogEventStartIndex: 4 });
    assert.deepEqual(messages((await logs.send(new GetLogEventsCommand({ logGroupName: '/p/reject', logStreamName: 's' }))).events), ['kept 1', 'kept 2']);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/p/reject', retentionInDays: 1 }));
    const e = await put('/p/reject', 's', [{ timestamp: t - 2 * DAY, message: 'expired' }, { timestamp: t, message: 'kept 3' }]);
    assert.deepEqual(e.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
    // Every event rejected: still 200, nothing stored.
    const none = await put('/p/reject', 's', [{ timestamp: t + 3 * 3_600_000, message: 'future' }]);
    assert.deepEqual(none.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 0 });
    assert.deepEqual(messages((await logs.send(new GetLogEventsCommand({ logGroupName: '/p/reject', logStreamName: 's' }))).events), ['kept 1', 'kept 2', 'kept 3']);
  });

  it('parallel batches to one stream all land (no sequence token needed)', async () => {
    await group('/p/parallel', ['s']);
    const t = Date.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => put('/p/parallel', 's', [{ timestamp: t + i, message: `m${i}` }])));
    const got = messages((await logs.send(new GetLogEventsCommand({ logGroupName: '/p/parallel', logStreamName: 's', startFromHead: true }))).events);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});

describe('GetLogEvents', () => {
  const G = '/get/g';
  let t0: number;
  before(async () => {
    await group(G, ['s', 'empty']);
    t0 = Date.now() - 60_000;
    await put(G, 's', Array.from({ length: 25 }, (_, i) => ({ timestamp: t0 + i * 1000, message: `e${i}` })));
  });
  const get = (input: Record<string, unknown>) => logs.send(new GetLogEventsCommand({ logGroupName: G, logStreamName: 's', ...input }));

  it('without a token: the latest events (startFromHead false) or the earliest (true), ascending either way', async () => {
    const tail = await get({ limit: 5 });
    assert.deepEqual(messages(tail.events), ['e20', 'e21', 'e22', 'e23', 'e24']);
    assert.match(tail.nextForwardToken!, /^f\/\d{56}\/s$/);
    assert.match(tail.nextBackwardToken!, /^b\/\d{56}\/s$/);
    const head = await get({ limit: 5, startFromHead: true });
    assert.deepEqual(messages(head.events), ['e0', 'e1', 'e2', 'e3', 'e4']);
    const all = await get({});
    assert.equal(all.events!.length, 25);
    assert.ok(all.events!.every((e) => typeof e.ingestionTime === 'number'));
  });

  it('forward tokens page to the end, where the same token comes back (the SDK paginator stops there)', async () => {
    let r = await get({ limit: 10, startFromHead: true });
    const seen = messages(r.events);
    for (;;) {
      const next = await get({ nextToken: r.nextForwardToken, limit: 10, startFromHead: true });
      if (next.nextForwardToken === r.nextForwardToken) {
        assert.deepEqual(next.events, []);
        break;
      }
      seen.push(...messages(next.events));
      r = next;
    }
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `e${i}`));
    const viaPaginator: string[] = [];
    for await (const page of paginateGetLogEvents({ client: logs, pageSize: 7, stopOnSameToken: true }, { logGroupName: G, logStreamName: 's', startFromHead: true })) viaPaginator.push(...messages(page.events));
    assert.deepEqual(viaPaginator, seen);
    // New events appear behind the end token, like `tail -f`.
    const endToken = r.nextForwardToken;
    await put(G, 's', [{ timestamp: t0 + 30_000, message: 'late' }]);
    assert.deepEqual(messages((await get({ nextToken: endToken, startFromHead: true })).events), ['late']);
  });

  it('backward tokens page towards the start, where the same token comes back', async () => {
    let r = await get({ limit: 10 });
    const pages = [messages(r.events)];
    for (;;) {
      const prev = await get({ nextToken: r.nextBackwardToken, limit: 10 });
      if (prev.nextBackwardToken === r.nextBackwardToken) {
        assert.deepEqual(prev.events, []);
        break;
      }
      pages.push(messages(prev.events));
      r = prev;
    }
    assert.deepEqual(pages.reverse().flat().slice(0, 25), Array.from({ length: 25 }, (_, i) => `e${i}`));
    // From a backward page, the forward token comes back to where it started.
    const back = await get({ limit: 3 });
    const before = await get({ nextToken: back.nextBackwardToken, limit: 3 });
    const again = await get({ nextToken: before.nextForwardToken, limit: 3, startFromHead: true });
    assert.deepEqual(messages(again.events), messages(back.events));
  });

  it('startTime is inclusive and endTime exclusive', async () => {
    const r = await get({ startTime: t0 + 3000, endTime: t0 + 6000, startFromHead: true });
    assert.deepEqual(messages(r.events), ['e3', 'e4', 'e5']);
  });

  it('an empty stream still answers with tokens; bad tokens and names are errors', async () => {
    const r = await logs.send(new GetLogEventsCommand({ logGroupName: G, logStreamName: 'empty' }));
    assert.deepEqual(r.events, []);
    assert.ok(r.nextForwardToken && r.nextBackwardToken);
    assert.deepEqual(await failure(get({ nextToken: 'f/123/s' })), { name: 'InvalidParameterException', status: 400, message: 'The specified nextToken is invalid.' });
    assert.equal((await failure(get({ limit: 10_001 }))).message, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000");
    assert.equal((await failure(logs.send(new GetLogEventsCommand({ logGroupName: G, logStreamName: 'nope' })))).message, 'The specified log stream does not exist.');
    const byArn = await logs.send(new GetLogEventsCommand({ logGroupIdentifier: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${G}`, logStreamName: 's', limit: 1 }));
    assert.equal(byArn.events!.length, 1);
  });
});

describe('FilterLogEvents', () => {
  const G = '/filter/app';
  let t0: number;
  before(async () => {
    await group(G, ['web-1', 'web-2', 'worker']);
    t0 = Date.now() - 120_000;
    await put(G, 'web-1', [
      { timestamp: t0 + 1, message: '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 1534' },
      { timestamp: t0 + 4, message: '127.0.0.1 - frank [10/Oct/2000:13:25:16 -0700] "GET /missing.html HTTP/1.0" 404 2300' },
    ]);
    await put(G, 'web-2', [
      { timestamp: t0 + 2, message: 'ERROR Failed to process the request' },
      { timestamp: t0 + 5, message: 'WARN slow request' },
    ]);
    await put(G, 'worker', [
      { timestamp: t0 + 3, message: JSON.stringify({ level: 'error', latency: 1200, user: { id: 7 } }) },
      { timestamp: t0 + 6, message: JSON.stringify({ level: 'info', latency: 20, user: { id: 8 } }) },
    ]);
  });
  const filter = (input: Record<string, unknown>) => logs.send(new FilterLogEventsCommand({ logGroupName: G, ...input }));

  it('interleaves every stream in timestamp order, with stream name, event id and ingestion time', async () => {
    const r = await filter({});
    assert.deepEqual(r.events!.map((e) => [e.logStreamName, e.timestamp! - t0]), [['web-1', 1], ['web-2', 2], ['worker', 3], ['web-1', 4], ['web-2', 5], ['worker', 6]]);
    assert.ok(r.events!.every((e) => /^\d{56}$/.test(e.eventId!) && typeof e.ingestionTime === 'number'));
    assert.equal(new Set(r.events!.map((e) => e.eventId)).size, 6);
    assert.deepEqual(r.searchedLogStreams, []);
    assert.equal(r.nextToken, undefined);
  });

  it('filter patterns: terms, OR terms, JSON and space-delimited', async () => {
    assert.deepEqual(messages((await filter({ filterPattern: 'ERROR' })).events), ['ERROR Failed to process the request']);
    assert.deepEqual(messages((await filter({ filterPattern: '?ERROR ?WARN' })).events), ['ERROR Failed to process the request', 'WARN slow request']);
    assert.deepEqual(messages((await filter({ filterPattern: 'request -ERROR' })).events), ['WARN slow request']);
    assert.deepEqual((await filter({ filterPattern: '{ $.latency > 1000 && $.user.id = 7 }' })).events!.map((e) => JSON.parse(e.message!).level), ['error']);
    assert.deepEqual((await filter({ filterPattern: '[ip, id, user, ts, request = *missing*, status_code = 4*, bytes > 1000]' })).events!.map((e) => e.timestamp! - t0), [4]);
    const bad = await failure(filter({ filterPattern: '{ $.latency > 1000' }));
    assert.deepEqual(bad, { name: 'InvalidParameterException', status: 400, message: "If a filter pattern starts with '{' it must end with '}'" });
  });

  it('stream names, stream name prefix, and the two together', async () => {
    assert.deepEqual((await filter({ logStreamNames: ['worker', 'web-2'] })).events!.map((e) => e.logStreamName), ['web-2', 'worker', 'web-2', 'worker']);
    assert.deepEqual((await filter({ logStreamNamePrefix: 'web-' })).events!.map((e) => e.logStreamName), ['web-1', 'web-2', 'web-1', 'web-2']);
    assert.deepEqual((await filter({ logStreamNames: ['nope'] })).events, []);
    assert.equal((await failure(filter({ logStreamNames: ['worker'], logStreamNamePrefix: 'web' }))).name, 'InvalidParameterException');
  });

  it('startTime and endTime are both inclusive', async () => {
    assert.deepEqual((await filter({ startTime: t0 + 2, endTime: t0 + 4 })).events!.map((e) => e.timestamp! - t0), [2, 3, 4]);
  });

  it('pages with limit and nextToken; the paginator collects everything once', async () => {
    const first = await filter({ limit: 4 });
    assert.equal(first.events!.length, 4);
    assert.ok(first.nextToken);
    const second = await filter({ limit: 4, nextToken: first.nextToken });
    assert.deepEqual(second.events!.map((e) => e.timestamp! - t0), [5, 6]);
    assert.equal(second.nextToken, undefined);
    const all: number[] = [];
    for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 2 }, { logGroupName: G })) all.push(...page.events!.map((e) => e.timestamp! - t0));
    assert.deepEqual(all, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await failure(filter({ nextToken: 'invalid-token' })), { name: 'InvalidParameterException', status: 400, message: 'The specified nextToken is invalid.' });
    assert.equal((await failure(filter({ limit: 10_001 }))).message, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000");
    assert.equal((await failure(logs.send(new FilterLogEventsCommand({ logGroupName: '/filter/none' })))).name, 'ResourceNotFoundException');
  });

  it('a rare match in a big group: each page examines a bounded number of events, and paging finds it', async () => {
    await group('/filter/big', ['s']);
    const t = Date.now() - 3_600_000;
    for (let b = 0; b < 3; b++) await put('/filter/big', 's', Array.from({ length: 5000 }, (_, i) => ({ timestamp: t + b * 5000 + i, message: `noise ${b * 5000 + i}` })));
    await put('/filter/big', 's', [{ timestamp: t + 20_000, message: 'needle' }]);
    const first = await logs.send(new FilterLogEventsCommand({ logGroupName: '/filter/big', filterPattern: 'needle' }));
    assert.deepEqual(first.events, [], 'the first 10,000 events hold no match');
    assert.ok(first.nextToken, 'but the search is not finished');
    const found: string[] = [];
    let pages = 0;
    for await (const page of paginateFilterLogEvents({ client: logs }, { logGroupName: '/filter/big', filterPattern: 'needle' })) {
      pages++;
      found.push(...messages(page.events));
    }
    assert.deepEqual(found, ['needle']);
    assert.equal(pages, 2);
  });
});

describe('retention', () => {
  it('only AWS values are accepted; the policy shows in describe and can be removed', async () => {
    await group('/r/policy');
    const bad = await failure(logs.send(new PutRetentionPolicyCommand({ logGroupName: '/r/policy', retentionInDays: 2 })));
    assert.deepEqual(bad, {
      name: 'InvalidParameterException',
      status: 400,
      message: "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    });
    for (const days of [1, 3653]) {
      await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/r/policy', retentionInDays: days }));
      assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/r/policy' }))).logGroups![0]!.retentionInDays, days);
    }
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: '/r/policy' }));
    assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/r/policy' }))).logGroups![0]!.retentionInDays, undefined);
    assert.equal((await failure(logs.send(new PutRetentionPolicyCommand({ logGroupName: '/r/none', retentionInDays: 1 })))).message, 'The specified log group does not exist.');
    assert.equal((await failure(logs.send(new DeleteRetentionPolicyCommand({ logGroupName: '/r/none' })))).name, 'ResourceNotFoundException');
  });

  it('is enforced: expired events are never returned, and the sweep deletes them (storedBytes drops)', async () => {
    await group('/r/enforced', ['s']);
    const t = Date.now();
    // Three batches: one batch may not span more than 24 hours.
    for (const [ago, message] of [[3 * DAY, 'three days old'], [2 * DAY, 'two days old'], [0, 'fresh']] as const) await put('/r/enforced', 's', [{ timestamp: t - ago, message }]);
    const describe = async () => (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/r/enforced' }))).logGroups![0]!;
    assert.equal((await describe()).storedBytes, 'three days old'.length + 'two days old'.length + 'fresh'.length);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/r/enforced', retentionInDays: 1 }));
    // Hidden at once, whether or not the sweep has run yet.
    assert.deepEqual(messages((await logs.send(new GetLogEventsCommand({ logGroupName: '/r/enforced', logStreamName: 's', startFromHead: true }))).events), ['fresh']);
    assert.deepEqual(messages((await logs.send(new FilterLogEventsCommand({ logGroupName: '/r/enforced', startTime: 0 }))).events), ['fresh']);
    const deadline = Date.now() + 10_000;
    while ((await describe()).storedBytes !== 'fresh'.length) {
      assert.ok(Date.now() < deadline, 'the sweep deleted the expired events');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Removing the policy does not bring deleted events back.
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: '/r/enforced' }));
    assert.deepEqual(messages((await logs.send(new FilterLogEventsCommand({ logGroupName: '/r/enforced' }))).events), ['fresh']);
  });
});

describe('tags', () => {
  it('TagLogGroup, UntagLogGroup, ListTagsLogGroup and TagResource, UntagResource, ListTagsForResource see the same tags', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/t/g', tags: { env: 'testing1' } }));
    const arn = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/t/g`;
    await logs.send(new TagResourceCommand({ resourceArn: arn, tags: { test1: 'val1', test2: 'val2' } }));
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: '/t/g' }))).tags, { env: 'testing1', test1: 'val1', test2: 'val2' });
    await logs.send(new TagLogGroupCommand({ logGroupName: '/t/g', tags: { test3: 'val3', env: 'changed' } }));
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, { env: 'changed', test1: 'val1', test2: 'val2', test3: 'val3' });
    await logs.send(new UntagLogGroupCommand({ logGroupName: '/t/g', tags: ['env', 'test1'] }));
    await logs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['test3', 'absent'] }));
    assert.deepEqual((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, { test2: 'val2' });
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: '/t/g' }))).tags, { test2: 'val2' });
  });

  it('at most 50 tags; unknown groups and malformed ARNs are errors', async () => {
    await group('/t/limit');
    const arn = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/t/limit`;
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    await logs.send(new TagResourceCommand({ resourceArn: arn, tags: fifty }));
    assert.equal((await failure(logs.send(new TagResourceCommand({ resourceArn: arn, tags: { one: 'more' } })))).name, 'TooManyTagsException');
    assert.equal((await failure(logs.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/t/none` })))).name, 'ResourceNotFoundException');
    assert.equal((await failure(logs.send(new ListTagsLogGroupCommand({ logGroupName: '/t/none' })))).name, 'ResourceNotFoundException');
    assert.equal((await failure(logs.send(new ListTagsForResourceCommand({ resourceArn: 'not-an-arn' })))).name, 'InvalidParameterException');
  });
});

describe('IAM', () => {
  it('a Lambda-style policy on log-group:<name>:* allows that group only; denials are AccessDeniedException naming the resource', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await iam.send(new CreateUserCommand({ UserName: 'fn-role' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'logs:CreateLogGroup', Resource: `arn:aws:logs:us-east-1:${ACCOUNT}:*` },
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:GetLogEvents', 'logs:FilterLogEvents'], Resource: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/fn:*` },
      ],
    };
    await iam.send(new PutUserPolicyCommand({ UserName: 'fn-role', PolicyName: 'logging', PolicyDocument: JSON.stringify(policy) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'fn-role' }))).AccessKey!;
    const asFn = client(server.url, { credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    await asFn.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/fn' }));
    await asFn.send(new CreateLogStreamCommand({ logGroupName: '/aws/lambda/fn', logStreamName: '2025/01/01/[$LATEST]abc' }));
    await asFn.send(new PutLogEventsCommand({ logGroupName: '/aws/lambda/fn', logStreamName: '2025/01/01/[$LATEST]abc', logEvents: [{ timestamp: Date.now(), message: 'START' }] }));
    assert.deepEqual(messages((await asFn.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/fn' }))).events), ['START']);
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/other' }));
    const denied = await failure(asFn.send(new CreateLogStreamCommand({ logGroupName: '/aws/lambda/other', logStreamName: 's' })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.equal(denied.status, 400);
    assert.equal(
      denied.message,
      `User: arn:aws:iam::${ACCOUNT}:user/fn-role is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/other:log-stream:s because no identity-based policy allows the logs:CreateLogStream action`,
    );
    const describe = await failure(asFn.send(new DescribeLogGroupsCommand({})));
    assert.match(describe.message, new RegExp(`logs:DescribeLogGroups on resource: arn:aws:logs:us-east-1:${ACCOUNT}:log-group::log-stream: `));
    // Tags at creation need a tagging permission as well.
    const withTags = await failure(asFn.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/tagged', tags: { a: 'b' } })));
    assert.deepEqual(withTags, { name: 'AccessDeniedException', status: 400, message: `User with accountId: ${ACCOUNT} is not authorized to perform CreateLogGroup with Tags` });
    asFn.destroy();
    iam.destroy();
  });
});

describe('durability', () => {
  it('groups, streams, events, retention and tags survive a restart', async () => {
    const s = await startServer();
    const c = client(s.url);
    await c.send(new CreateLogGroupCommand({ logGroupName: '/keep', tags: { k: 'v' } }));
    await c.send(new PutRetentionPolicyCommand({ logGroupName: '/keep', retentionInDays: 7 }));
    await c.send(new CreateLogStreamCommand({ logGroupName: '/keep', logStreamName: 's' }));
    const t = Date.now();
    await c.send(new PutLogEventsCommand({ logGroupName: '/keep', logStreamName: 's', logEvents: [{ timestamp: t, message: 'one' }, { timestamp: t + 1, message: 'two' }] }));
    c.destroy();
    await s.kill();
    const again = await startServer({ dataDir: s.dataDir });
    const c2 = client(again.url);
    try {
      assert.deepEqual(messages((await c2.send(new GetLogEventsCommand({ logGroupName: '/keep', logStreamName: 's' }))).events), ['one', 'two']);
      const g = (await c2.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/keep' }))).logGroups![0]!;
      assert.equal(g.retentionInDays, 7);
      assert.equal(g.storedBytes, 6);
      assert.deepEqual((await c2.send(new ListTagsLogGroupCommand({ logGroupName: '/keep' }))).tags, { k: 'v' });
      // New events continue the stream after the old ones.
      await c2.send(new PutLogEventsCommand({ logGroupName: '/keep', logStreamName: 's', logEvents: [{ timestamp: t + 1, message: 'three' }] }));
      assert.deepEqual(messages((await c2.send(new FilterLogEventsCommand({ logGroupName: '/keep' }))).events), ['one', 'two', 'three']);
    } finally {
      c2.destroy();
      await again.stop();
      await s.dispose();
    }
  });
});

describe('in-process: the internal append API and a moved clock', () => {
  let nimbus: Nimbus;
  before(async () => {
    nimbus = await startNimbus({ port: 0, ephemeral: true, logLevel: 'warn', logsRetentionSweepMs: 100 });
  });
  after(async () => {
    setClockOffset(0);
    await nimbus?.stop();
  });

  it('appendLogEvents creates the group and stream, batches concurrent calls into few transactions, and the SDK reads it all back', async () => {
    const store = nimbus.runtime.store;
    const original = store.transaction.bind(store);
    let transactions = 0;
    (store as { transaction: typeof store.transaction }).transaction = (fn) => {
      transactions++;
      return original(fn);
    };
    const t = Date.now();
    const group = '/aws/lambda/fn';
    const stream = '2025/01/01/[$LATEST]0123456789abcdef';
    try {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          appendLogEvents(nimbus.runtime, { accountId: ACCOUNT, region: REGION, group, stream, events: [{ timestamp: t + i, message: `line ${i}` }] }),
        ),
      );
    } finally {
      (store as { transaction: typeof store.transaction }).transaction = original;
    }
    assert.ok(transactions <= 5, `200 concurrent appends took ${transactions} transactions`);
    // Out-of-order events within one call are stored in timestamp order.
    await appendLogEvents(nimbus.runtime, {
      accountId: ACCOUNT,
      region: REGION,
      group,
      stream,
      events: [
        { timestamp: t + 1001, message: 'END RequestId: r1' },
        { timestamp: t + 1000, message: 'START RequestId: r1 Version: $LATEST' },
        { timestamp: t + 1002, message: 'REPORT RequestId: r1\tDuration: 1.00 ms' },
      ],
    });
    const c = client(nimbus.url);
    try {
      const events: string[] = [];
      for await (const page of paginateFilterLogEvents({ client: c }, { logGroupName: group })) events.push(...messages(page.events));
      assert.deepEqual(events, [...Array.from({ length: 200 }, (_, i) => `line ${i}`), 'START RequestId: r1 Version: $LATEST', 'END RequestId: r1', 'REPORT RequestId: r1\tDuration: 1.00 ms']);
      const streams = (await c.send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams!;
      assert.deepEqual(streams.map((s) => s.logStreamName), [stream]);
      assert.equal(streams[0]!.lastEventTimestamp, t + 1002);
      assert.deepEqual(messages((await c.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: 'REPORT' }))).events), ['REPORT RequestId: r1\tDuration: 1.00 ms']);
    } finally {
      c.destroy();
    }
    await assert.rejects(appendLogEvents(nimbus.runtime, { accountId: ACCOUNT, region: REGION, group: 'bad name', stream, events: [] }), /invalid log group name/);
  });

  it('moving the server clock two days ahead expires a 1-day retention: reads hide the events and the sweep deletes them', async () => {
    const c = client(nimbus.url);
    await c.send(new CreateLogGroupCommand({ logGroupName: '/clock' }));
    await c.send(new CreateLogStreamCommand({ logGroupName: '/clock', logStreamName: 's' }));
    await c.send(new PutLogEventsCommand({ logGroupName: '/clock', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'today' }] }));
    await c.send(new PutRetentionPolicyCommand({ logGroupName: '/clock', retentionInDays: 1 }));
    assert.deepEqual(messages((await c.send(new GetLogEventsCommand({ logGroupName: '/clock', logStreamName: 's' }))).events), ['today']);
    c.destroy();
    // The server's clock (src/util/clock.ts) moves; a client that signs with the same offset still authenticates.
    setClockOffset(2 * DAY);
    const later = client(nimbus.url, { systemClockOffset: 2 * DAY });
    try {
      assert.deepEqual(messages((await later.send(new GetLogEventsCommand({ logGroupName: '/clock', logStreamName: 's' }))).events), []);
      const deadline = Date.now() + 10_000;
      while ((await later.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/clock' }))).logGroups![0]!.storedBytes !== 0) {
        assert.ok(Date.now() < deadline, 'the sweep deleted the expired event');
        await new Promise((r) => setTimeout(r, 50));
      }
      // "today" is now two days old: PutLogEvents rejects it as expired.
      const r = await later.send(new PutLogEventsCommand({ logGroupName: '/clock', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'stale' }] }));
      assert.deepEqual(r.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
    } finally {
      later.destroy();
      setClockOffset(0);
    }
  });
});
