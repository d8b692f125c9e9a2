import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../../helpers/server.js';
import { aws, awsEnv, requireAwsCli } from '../../helpers/python.js';

/**
 * CloudWatch Logs with the AWS CLI as users type it. This machine's CLI is v1, which has
 * no `aws logs tail` (a v2 command); the test says so, and checks the API `tail` is built
 * on instead: FilterLogEvents from a start time, polled, de-duplicated by event id.
 */
let server: TestServer;
let work: string;

function awsJson<T = Record<string, any>>(args: string[]): T {
  return JSON.parse(aws(server.url, [...args, '--output', 'json'])) as T;
}

function awsRaw(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('aws', args, { env: awsEnv(server.url), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes events for --log-events file://… and returns the argument. */
function eventsFile(name: string, events: Array<{ timestamp: number; message: string }>): string {
  const p = join(work, `${name}.json`);
  writeFileSync(p, JSON.stringify(events));
  return `file://${p}`;
}

before(async () => {
  requireAwsCli();
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'nimbus-logs-cli-'));
});

after(async () => {
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('aws logs', () => {
  const t0 = Date.now() - 60_000;
  const access = '10.0.0.1 - - [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534';
  const json = '{"level":"error","latency":1200}';

  it('create-log-group, create-log-stream, put-log-events, describe-*', () => {
    aws(server.url, ['logs', 'create-log-group', '--log-group-name', '/cli/app', '--tags', 'team=core,env=dev']);
    aws(server.url, ['logs', 'create-log-stream', '--log-group-name', '/cli/app', '--log-stream-name', 'web']);
    aws(server.url, ['logs', 'create-log-stream', '--log-group-name', '/cli/app', '--log-stream-name', 'worker']);
    const put = awsJson([
      'logs',
      'put-log-events',
      '--log-group-name',
      '/cli/app',
      '--log-stream-name',
      'web',
      '--log-events',
      eventsFile('web', [
        { timestamp: t0, message: 'INFO started' },
        { timestamp: t0 + 1000, message: 'ERROR Failed to process the request' },
        { timestamp: t0 + 2000, message: access },
      ]),
    ]);
    assert.match(put.nextSequenceToken, /^\d{56}$/);
    aws(server.url, ['logs', 'put-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'worker', '--log-events', eventsFile('worker', [{ timestamp: t0 + 1500, message: json }])]);
    const groups = awsJson(['logs', 'describe-log-groups', '--log-group-name-prefix', '/cli/']);
    assert.deepEqual(groups.logGroups.map((g: any) => [g.logGroupName, g.arn, g.storedBytes]), [['/cli/app', 'arn:aws:logs:us-east-1:000000000000:log-group:/cli/app:*', 'INFO started'.length + 'ERROR Failed to process the request'.length + access.length + json.length]]);
    const streams = awsJson(['logs', 'describe-log-streams', '--log-group-name', '/cli/app', '--order-by', 'LastEventTime', '--descending']);
    assert.deepEqual(streams.logStreams.map((s: any) => [s.logStreamName, s.lastEventTimestamp]), [['web', t0 + 2000], ['worker', t0 + 1500]]);
    assert.deepEqual(awsJson(['logs', 'list-tags-log-group', '--log-group-name', '/cli/app']).tags, { team: 'core', env: 'dev' });
  });

  it('get-log-events from the head or the tail, with the tokens AWS uses', () => {
    const head = awsJson(['logs', 'get-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'web', '--start-from-head', '--limit', '2']);
    assert.deepEqual(head.events.map((e: any) => e.message), ['INFO started', 'ERROR Failed to process the request']);
    assert.match(head.nextForwardToken, /^f\/\d{56}\/s$/);
    const rest = awsJson(['logs', 'get-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'web', '--start-from-head', '--next-token', head.nextForwardToken]);
    assert.equal(rest.events.length, 1);
    const end = awsJson(['logs', 'get-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'web', '--start-from-head', '--next-token', rest.nextForwardToken]);
    assert.deepEqual(end.events, []);
    assert.equal(end.nextForwardToken, rest.nextForwardToken, 'the end of the stream gives the same token back');
    const tail = awsJson(['logs', 'get-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'web', '--limit', '1']);
    assert.deepEqual(tail.events.map((e: any) => e.message), [access]);
  });

  it('filter-log-events --filter-pattern: terms, JSON and space-delimited; across streams', () => {
    const f = (pattern: string, extra: string[] = []) => awsJson(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--filter-pattern', pattern, ...extra]).events.map((e: any) => `${e.logStreamName}: ${e.message}`);
    assert.deepEqual(f('ERROR'), ['web: ERROR Failed to process the request']);
    assert.deepEqual(f('?ERROR ?INFO'), ['web: INFO started', 'web: ERROR Failed to process the request']);
    assert.deepEqual(f('{ $.latency > 1000 }'), [`worker: ${json}`]);
    assert.deepEqual(f('[ip, id, user, ts, request = *index*, status = 404, bytes > 1000]'), [`web: ${access}`]);
    assert.deepEqual(f('', ['--log-stream-names', 'worker']), [`worker: ${json}`]);
    const all = awsJson(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--start-time', String(t0 + 1000), '--end-time', String(t0 + 1500)]);
    assert.deepEqual(all.events.map((e: any) => e.timestamp - t0), [1000, 1500]);
    const bad = awsRaw(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--filter-pattern', '{ $.latency > 1000']);
    assert.equal(bad.status, 255);
    assert.match(bad.stderr, /InvalidParameterException.*If a filter pattern starts with '\{' it must end with '\}'/);
  });

  it('the CLI pages filter-log-events by itself, and --max-items hands out a NextToken', () => {
    aws(server.url, ['logs', 'create-log-stream', '--log-group-name', '/cli/app', '--log-stream-name', 'bulk']);
    const events = Array.from({ length: 120 }, (_, i) => ({ timestamp: t0 + 10_000 + i, message: `bulk ${i}` }));
    aws(server.url, ['logs', 'put-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'bulk', '--log-events', eventsFile('bulk', events)]);
    const paged = awsJson(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--log-stream-names', 'bulk', '--page-size', '25']);
    assert.deepEqual(paged.events.map((e: any) => e.message), events.map((e) => e.message));
    const first = awsJson(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--log-stream-names', 'bulk', '--max-items', '50', '--page-size', '30']);
    assert.equal(first.events.length, 50);
    assert.ok(first.NextToken);
    const next = awsJson(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--log-stream-names', 'bulk', '--starting-token', first.NextToken, '--page-size', '30']);
    assert.deepEqual(next.events.map((e: any) => e.message), events.slice(50).map((e) => e.message));
  });

  it('logs tail is not in CLI v1; what it does (FilterLogEvents from a start time, polled, de-duplicated by eventId) works', () => {
    const version = requireAwsCli();
    if (/^aws-cli\/1\./.test(version)) {
      const r = awsRaw(['logs', 'tail', '/cli/app']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Invalid choice/);
    } else {
      // A v2 CLI prints the events of the last 10 minutes.
      assert.match(aws(server.url, ['logs', 'tail', '/cli/app']), /ERROR Failed to process the request/);
    }
    aws(server.url, ['logs', 'create-log-stream', '--log-group-name', '/cli/app', '--log-stream-name', 'live']);
    const seen = new Map<string, string>();
    let since = Date.now() - 5000;
    const poll = () => {
      for (const e of awsJson(['logs', 'filter-log-events', '--log-group-name', '/cli/app', '--log-stream-names', 'live', '--start-time', String(since)]).events) {
        seen.set(e.eventId, e.message);
        since = Math.max(since, e.timestamp);
      }
    };
    const now = Date.now();
    aws(server.url, ['logs', 'put-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'live', '--log-events', `timestamp=${now},message=first`]);
    poll();
    aws(server.url, ['logs', 'put-log-events', '--log-group-name', '/cli/app', '--log-stream-name', 'live', '--log-events', `timestamp=${now + 1},message=second`]);
    poll();
    poll();
    assert.deepEqual([...seen.values()], ['first', 'second']);
  });

  it('retention, errors and deletion', () => {
    aws(server.url, ['logs', 'put-retention-policy', '--log-group-name', '/cli/app', '--retention-in-days', '30']);
    assert.equal(awsJson(['logs', 'describe-log-groups', '--log-group-name-prefix', '/cli/app']).logGroups[0].retentionInDays, 30);
    const bad = awsRaw(['logs', 'put-retention-policy', '--log-group-name', '/cli/app', '--retention-in-days', '31']);
    assert.equal(bad.status, 255);
    assert.match(bad.stderr, /InvalidParameterException.*Member must satisfy enum value set: \[1, 3, 5, 7, 14, 30/);
    const missing = awsRaw(['logs', 'get-log-events', '--log-group-name', '/cli/none', '--log-stream-name', 'web']);
    assert.equal(missing.status, 255);
    assert.match(missing.stderr, /ResourceNotFoundException.*The specified log group does not exist\./);
    aws(server.url, ['logs', 'delete-log-stream', '--log-group-name', '/cli/app', '--log-stream-name', 'worker']);
    assert.deepEqual(awsJson(['logs', 'describe-log-streams', '--log-group-name', '/cli/app', '--log-stream-name-prefix', 'w']).logStreams.map((s: any) => s.logStreamName), ['web']);
    aws(server.url, ['logs', 'delete-log-group', '--log-group-name', '/cli/app']);
    assert.deepEqual(awsJson(['logs', 'describe-log-groups']).logGroups, []);
  });
});
