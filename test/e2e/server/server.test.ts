import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startServer, freePort, CLI, type TestServer } from '../../helpers/server.js';
import { send, errorCode, sign } from '../../helpers/sign.js';
import { aws, awsFails, requireAwsCli } from '../../helpers/python.js';

/** The server process itself: CLI flags and env, health, request ids, logs, signals, 501s. */
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.dispose();
});

async function start(opts: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

describe('nimbus start', () => {
  it('answers /_nimbus/health and /_localstack/health with the version and each service', async () => {
    const s = await start();
    for (const path of ['/_nimbus/health', '/_localstack/health']) {
      const r = await fetch(s.url + path);
      assert.equal(r.status, 200);
      const doc = (await r.json()) as { version: string; services: Record<string, string> };
      assert.match(doc.version, /^\d+\.\d+\.\d+/);
      assert.equal(doc.services.s3, 'running');
      assert.equal(doc.services.sts, 'running');
      for (const svc of ['iam', 'lambda', 'apigateway', 'events', 'sqs', 'logs']) assert.ok(svc in doc.services, svc);
    }
  });

  it('takes NIMBUS_* environment variables, and flags win over them', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-env-'));
    const proc = spawn(process.execPath, [CLI, 'start', '--log-level', 'info'], {
      env: { ...process.env, NIMBUS_PORT: String(port), NIMBUS_DATA_DIR: dir, NIMBUS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.includes('Ready.'));
    assert.match(out, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`));
    assert.ok(existsSync(join(dir, 'metadata.sqlite')), 'data kept in NIMBUS_DATA_DIR');
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('--ephemeral keeps data in a temp dir that is removed at exit', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [CLI, 'start', '--ephemeral', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.includes('Ready.'));
    const dir = /data: ephemeral (\S+),/.exec(out)?.[1];
    assert.ok(dir && existsSync(dir), `temp dir announced and present: ${out}`);
    assert.equal((await send(`http://127.0.0.1:${port}`, { method: 'PUT', path: '/eph' })).status, 200);
    proc.kill('SIGINT');
    const code = await new Promise((r) => proc.once('exit', r));
    assert.equal(code, 0);
    assert.equal(existsSync(dir), false);
  });

  it('logs one line per request with method, path, service, operation, status, ms and request id', async () => {
    const s = await start({ args: ['--log-level', 'info'] });
    const r = await send(s.url, { method: 'PUT', path: '/logged' });
    const id = r.headers['x-amz-request-id'] as string;
    assert.match(id, /^[0-9A-F]{16}$/);
    assert.ok(r.headers['x-amz-id-2']);
    await waitFor(() => s.output().includes(id));
    assert.match(s.output(), new RegExp(`INFO  PUT /logged s3 CreateBucket 200 [\\d.]+ms ${id}`));
  });

  it('sends x-amzn-RequestId (and the id in the body) for query-protocol services', async () => {
    const s = await start();
    const r = await send(s.url, { method: 'POST', path: '/', service: 'sts', body: 'Action=GetCallerIdentity&Version=2011-06-15', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200, r.body);
    const id = r.headers['x-amzn-requestid'] as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.match(r.body, new RegExp(`<RequestId>${id}</RequestId>`));
    assert.match(r.body, /<Arn>arn:aws:iam::000000000000:root<\/Arn>/);
  });

  it('SIGTERM stops accepting, lets an in-flight upload finish, and closes storage', async () => {
    const s = await start();
    assert.equal((await send(s.url, { method: 'PUT', path: '/drain' })).status, 200);
    const url = new URL(s.url);
    const headers = sign(url.host, { method: 'PUT', path: '/drain/slow', payloadHash: 'UNSIGNED-PAYLOAD' });
    headers['content-length'] = '200000';
    const done = new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: '/drain/slow', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(100_000, 1));
      setTimeout(() => req.end(Buffer.alloc(100_000, 2)), 400);
    });
    await new Promise((r) => setTimeout(r, 100));
    const exited = s.stop();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(fetch(`${s.url}/_nimbus/health`), 'no new connections once stopping');
    assert.equal(await done, 200, 'the in-flight upload completed');
    assert.equal(await exited, 0);
    // Restart on the same data: the upload is there.
    const again = await start({ dataDir: s.dataDir });
    const get = await send(again.url, { method: 'HEAD', path: '/drain/slow' });
    assert.equal(get.status, 200);
    assert.equal(get.headers['content-length'], '200000');
  });

  it('an unexpected failure is InternalError 500 with the request id, never a stack trace', async () => {
    const s = await start();
    await send(s.url, { method: 'PUT', path: '/broken' });
    await send(s.url, { method: 'PUT', path: '/broken/file', body: Buffer.alloc(200_000, 3) });
    // Remove the body file behind Nimbus's back.
    const blobs = join(s.dataDir, 'blobs');
    for (const sub of readdirSync(blobs)) for (const f of readdirSync(join(blobs, sub))) unlinkSync(join(blobs, sub, f));
    const r = await send(s.url, { method: 'GET', path: '/broken/file' });
    assert.equal(r.status, 500);
    assert.equal(errorCode(r.body), 'InternalError');
    assert.doesNotMatch(r.body, /at |ENOENT|\.js/);
    const id = r.headers['x-amz-request-id'] as string;
    await waitFor(() => s.output().includes(id));
    assert.match(s.output(), new RegExp(`request ${id} GET /broken/file failed: .*ENOENT`));
    assert.equal((await fetch(`${s.url}/_nimbus/health`)).status, 200, 'still serving');
  });
});

describe('operations the models know but Nimbus does not implement yet', () => {
  it('answer 501 NotImplemented naming the operation, in every protocol', async () => {
    requireAwsCli();
    const s = await start();
    for (const [args, op] of [
      [['lambda', 'list-code-signing-configs'], 'ListCodeSigningConfigs'],
      [['iam', 'list-server-certificates'], 'ListServerCertificates'],
      // AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS (boto3 honours it), so name the endpoint.
      [['sqs', 'list-queues', '--endpoint-url', s.url], 'ListQueues'],
      [['logs', 'describe-metric-filters'], 'DescribeMetricFilters'],
      [['events', 'list-rules'], 'ListRules'],
      [['apigatewayv2', 'get-apis'], 'GetApis'],
      [['s3api', 'get-bucket-replication', '--bucket', 'x'], 'GetBucketReplication'],
      [['sts', 'decode-authorization-message', '--encoded-message', 'x'], 'DecodeAuthorizationMessage'],
    ] as const) {
      const r = awsFails(s.url, [...args]);
      assert.equal(r.status, 255, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /NotImplemented/, args.join(' '));
      assert.match(r.stderr, new RegExp(op), args.join(' '));
    }
    assert.match(aws(s.url, ['sts', 'get-caller-identity']), /000000000000/);
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
