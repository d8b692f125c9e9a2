import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { awsEnv, requireAwsCli } from '../../helpers/python.js';
import { request } from 'node:http';
import { startServer, type TestServer } from '../../helpers/server.js';
import { send, sign } from '../../helpers/sign.js';

/**
 * Bodies stream: a 1 GiB PUT and GET keep the server's resident memory flat. (The same
 * code path serves 5 GiB; 1 GiB keeps CI fast.)
 */
const SIZE = 1024 * 1024 * 1024;
const CHUNK = 1024 * 1024;
let server: TestServer;

before(async () => {
  server = await startServer();
  assert.equal((await send(server.url, { method: 'PUT', path: '/large' })).status, 200);
});

after(async () => server?.dispose());

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Samples the server's RSS every 50 ms while `work` runs; returns the peak. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ peak: number; result: T }> {
  let peak = 0;
  const pid = server.proc.pid!;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
  try {
    const result = await work();
    return { peak, result };
  } finally {
    clearInterval(timer);
  }
}

function chunk(i: number): Buffer {
  const b = Buffer.alloc(CHUNK, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

/**
 * A PUT with `Expect: 100-continue` (the JS SDK's large uploads): the 100 comes only once the
 * body is wanted. Resolves with whether a 100 came, the status, and the error code if any.
 */
function putExpectingContinue(path: string, body: Buffer): Promise<{ continued: boolean; status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const headers = sign(url.host, { method: 'PUT', path, payloadHash: 'UNSIGNED-PAYLOAD' });
    headers['content-length'] = String(body.length);
    headers.expect = '100-continue';
    let continued = false;
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ continued, status: res.statusCode!, body: text }));
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', reject);
  });
}

describe('Expect: 100-continue', () => {
  it('a refused upload gets its error without the body being sent; an accepted one gets 100 and then 200', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    const refused = await putExpectingContinue('/no-such-bucket-here/k', body);
    assert.equal(refused.continued, false, 'no 100 Continue for a request refused before its body');
    assert.equal(refused.status, 404);
    assert.match(refused.body, /<Code>NoSuchBucket<\/Code>/);
    const accepted = await putExpectingContinue('/large/continued.bin', body);
    assert.equal(accepted.continued, true);
    assert.equal(accepted.status, 200);
    // The server is still up and serves the object.
    const got = await send(server.url, { method: 'GET', path: '/large/continued.bin' });
    assert.equal(got.status, 200);
  });
});

describe('large objects stream in constant memory', () => {
  it('PUT and GET of 1 GiB keep server RSS within 100 MiB of idle', async () => {
    const url = new URL(server.url);
    const idle = rssMiB(server.proc.pid!);
    const expected = createHash('md5');
    const put = await peakRss(
      () =>
        new Promise<{ status: number; etag: string }>((resolve, reject) => {
          const headers = sign(url.host, { method: 'PUT', path: '/large/1g.bin', payloadHash: 'UNSIGNED-PAYLOAD' });
          headers['content-length'] = String(SIZE);
          const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: '/large/1g.bin', headers }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, etag: String(res.headers.etag) }));
          });
          req.on('error', reject);
          let i = 0;
          const pump = () => {
            while (i < SIZE / CHUNK) {
              const c = chunk(i++);
              expected.update(c);
              if (!req.write(c)) return void req.once('drain', pump);
            }
            req.end();
          };
          pump();
        }),
    );
    assert.equal(put.result.status, 200);
    assert.equal(put.result.etag, `"${expected.digest('hex')}"`);
    assert.ok(put.peak - idle < 100, `PUT peak RSS ${put.peak.toFixed(0)} MiB vs idle ${idle.toFixed(0)} MiB`);

    const get = await peakRss(
      () =>
        new Promise<{ md5: string; bytes: number }>((resolve, reject) => {
          const headers = sign(url.host, { method: 'GET', path: '/large/1g.bin' });
          const req = request({ host: url.hostname, port: url.port, method: 'GET', path: '/large/1g.bin', headers }, (res) => {
            const h = createHash('md5');
            let bytes = 0;
            res.on('data', (d: Buffer) => {
              h.update(d);
              bytes += d.length;
            });
            res.on('end', () => resolve({ md5: h.digest('hex'), bytes }));
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end();
        }),
    );
    assert.equal(get.result.bytes, SIZE);
    assert.equal(`"${get.result.md5}"`, put.result.etag);
    assert.ok(get.peak - idle < 100, `GET peak RSS ${get.peak.toFixed(0)} MiB vs idle ${idle.toFixed(0)} MiB`);
  });
});

describe('aws s3 cp of 1 GiB (multipart, parallel parts, the CLI defaults)', () => {
  it('round-trips with the "<md5 of part md5s>-N" ETag, server RSS flat', async () => {
    requireAwsCli();
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-cp-'));
    try {
      // The file: 1 GiB of the same chunks as above; the expected multipart ETag from the
      // CLI's default 8 MiB parts.
      const file = join(dir, 'big.bin');
      const fd = openSync(file, 'w');
      const whole = createHash('sha256');
      const PART = 8 * 1024 * 1024;
      const partMd5s: Buffer[] = [];
      let part = createHash('md5');
      for (let i = 0; i < SIZE / CHUNK; i++) {
        const c = chunk(i);
        writeSync(fd, c);
        whole.update(c);
        part.update(c);
        if (((i + 1) * CHUNK) % PART === 0) {
          partMd5s.push(part.digest());
          part = createHash('md5');
        }
      }
      closeSync(fd);
      const etag = `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}"`;
      const idle = rssMiB(server.proc.pid!);
      const run = (args: string[]) =>
        new Promise<{ status: number | null; stderr: string }>((resolve) => {
          const p = spawn('aws', args, { env: awsEnv(server.url), stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          p.stderr.on('data', (d) => (stderr += d));
          p.on('exit', (status) => resolve({ status, stderr }));
        });
      const up = await peakRss(() => run(['s3', 'cp', file, 's3://large/cp/big.bin', '--only-show-errors']));
      assert.equal(up.result.status, 0, up.result.stderr);
      const head = await send(server.url, { method: 'HEAD', path: '/large/cp/big.bin' });
      assert.equal(head.headers.etag, etag);
      assert.equal(head.headers['content-length'], String(SIZE));
      const back = join(dir, 'back.bin');
      const down = await peakRss(() => run(['s3', 'cp', 's3://large/cp/big.bin', back, '--only-show-errors']));
      assert.equal(down.result.status, 0, down.result.stderr);
      const got = createHash('sha256');
      const rfd = openSync(back, 'r');
      const buf = Buffer.alloc(CHUNK * 8);
      for (let n; (n = readSync(rfd, buf, 0, buf.length, null)) > 0; ) got.update(buf.subarray(0, n));
      closeSync(rfd);
      assert.equal(got.digest('hex'), whole.digest('hex'));
      // Parallel parts (10 at a time by default) and ranged parallel downloads: memory stays flat.
      assert.ok(up.peak - idle < 150, `upload peak RSS ${up.peak.toFixed(0)} MiB vs idle ${idle.toFixed(0)} MiB`);
      assert.ok(down.peak - idle < 150, `download peak RSS ${down.peak.toFixed(0)} MiB vs idle ${idle.toFixed(0)} MiB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('large GETs that end early', () => {
  const SIZE_32M = 32 * 1024 * 1024;
  const body = Buffer.alloc(SIZE_32M);
  for (let i = 0; i < SIZE_32M; i += 4) body.writeUInt32BE(i, i);

  /** A signed GET whose body is kept as bytes. */
  function getBytes(path: string, extra: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    const url = new URL(server.url);
    const headers = { ...sign(url.host, { method: 'GET', path, headers: extra }), ...extra };
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'GET', path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  function openFds(pid: number): number {
    return readdirSync(`/proc/${pid}/fd`).length;
  }

  it('a client that drops a 32 MiB GET midway leaves the server up, the file closed, and the object whole', async () => {
    const url = new URL(server.url);
    const put = await send(server.url, { method: 'PUT', path: '/large/drop.bin', body });
    assert.equal(put.status, 200);
    const before = openFds(server.proc.pid!);
    for (let round = 0; round < 3; round++) {
      await new Promise<void>((resolve, reject) => {
        const headers = sign(url.host, { method: 'GET', path: '/large/drop.bin' });
        const req = request({ host: url.hostname, port: url.port, method: 'GET', path: '/large/drop.bin', headers }, (res) => {
          let got = 0;
          res.on('data', (d: Buffer) => {
            got += d.length;
            if (got >= 2 * 1024 * 1024) req.destroy();
          });
        });
        req.on('error', () => undefined);
        req.on('close', () => resolve());
        req.on('timeout', () => reject(new Error('timeout')));
        req.end();
      });
    }
    // The server closes each file once it sees the connection go.
    let after = openFds(server.proc.pid!);
    for (let i = 0; i < 50 && after > before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = openFds(server.proc.pid!);
    }
    assert.ok(after <= before, `open files: ${before} before, ${after} after`);
    const whole = await getBytes('/large/drop.bin');
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(body));
  });

  it('ranges of a file body, across the 1 MiB pieces the server reads, are exact', async () => {
    for (const [start, end] of [
      [0, 0],
      [1048575, 1048577],
      [3, 5 * 1048576 + 7],
      [SIZE_32M - 10, SIZE_32M - 1],
    ] as Array<[number, number]>) {
      const r = await getBytes('/large/drop.bin', { range: `bytes=${start}-${end}` });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${SIZE_32M}`);
      assert.ok(r.body.equals(body.subarray(start, end + 1)), `bytes ${start}-${end}`);
    }
  });
});
