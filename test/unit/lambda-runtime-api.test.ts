import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeApiServer, MAX_RESPONSE_BYTES, type InvocationOutcome } from '../../src/runtime/lambda/runtime-api.js';
import { LineSplitter, logTail, reportLine } from '../../src/runtime/lambda/logs.js';

/** The Runtime API as a runtime client sees it, driven over HTTP without a process. */
describe('Runtime API server', () => {
  const api = new RuntimeApiServer();
  after(() => api.close());

  async function endpoint() {
    const seen = { ready: 0, polls: 0, initError: null as null | { body: string; type?: string } };
    const ep = await api.open({
      onReady: () => seen.ready++,
      onPoll: () => seen.polls++,
      onInitError: (body, type) => (seen.initError = { body: body.toString(), type }),
    });
    return { ep, seen, base: `http://${ep.address}/2018-06-01/runtime` };
  }

  it('long-polls /next and hands over the invocation with its headers', async () => {
    const { ep, seen, base } = await endpoint();
    const next = fetch(`${base}/invocation/next`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.ready, 1);
    assert.equal(seen.polls, 1);
    const outcome = new Promise<InvocationOutcome>((resolve) =>
      ep.deliver({ requestId: 'r-1', payload: Buffer.from('{"a":1}'), deadlineMs: 1234, invokedFunctionArn: 'arn:x', traceId: 'Root=1-x', clientContext: '{"c":1}', cognitoIdentity: '{"i":1}' }, resolve),
    );
    const res = await next;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('lambda-runtime-aws-request-id'), 'r-1');
    assert.equal(res.headers.get('lambda-runtime-deadline-ms'), '1234');
    assert.equal(res.headers.get('lambda-runtime-invoked-function-arn'), 'arn:x');
    assert.equal(res.headers.get('lambda-runtime-trace-id'), 'Root=1-x');
    assert.equal(res.headers.get('lambda-runtime-client-context'), '{"c":1}');
    assert.equal(res.headers.get('lambda-runtime-cognito-identity'), '{"i":1}');
    assert.equal(await res.text(), '{"a":1}');
    const wrong = await fetch(`${base}/invocation/other/response`, { method: 'POST', body: '1' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    const ok = await fetch(`${base}/invocation/r-1/error`, { method: 'POST', body: '{"errorType":"E"}', headers: { 'Lambda-Runtime-Function-Error-Type': 'E' } });
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { status: 'OK' });
    const o = await outcome;
    assert.equal(o.kind, 'error');
    assert.equal(o.kind === 'error' && o.errorType, 'E');
    const again = await fetch(`${base}/invocation/r-1/response`, { method: 'POST', body: '1' });
    assert.equal(again.status, 400, 'an invocation is answered once');
    ep.close();
  });

  it('queues an invocation until the runtime asks, and refuses responses over 6 MB with 413', async () => {
    const { ep, base } = await endpoint();
    const outcome = new Promise<InvocationOutcome>((resolve) => ep.deliver({ requestId: 'r-2', payload: Buffer.from('{}'), deadlineMs: 1, invokedFunctionArn: 'a', traceId: 't' }, resolve));
    const res = await fetch(`${base}/invocation/next`);
    assert.equal(res.headers.get('lambda-runtime-aws-request-id'), 'r-2');
    assert.equal(res.headers.get('lambda-runtime-client-context'), null);
    const big = await fetch(`${base}/invocation/r-2/response`, { method: 'POST', body: Buffer.alloc(MAX_RESPONSE_BYTES + 1, 97) });
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), { errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).', errorType: 'RequestEntityTooLarge' });
    assert.equal((await outcome).kind, 'too-large');
    ep.close();
  });

  it('takes /init/error with its error type, and answers unknown paths with 404', async () => {
    const { ep, seen, base } = await endpoint();
    const r = await fetch(`${base}/init/error`, { method: 'POST', body: '{"errorType":"Runtime.X"}', headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.X' } });
    assert.equal(r.status, 202);
    assert.deepEqual(seen.initError, { body: '{"errorType":"Runtime.X"}', type: 'Runtime.X' });
    assert.equal((await fetch(`${base}/invocation/x/other`, { method: 'POST', body: '' })).status, 404);
    ep.close();
  });
});

describe('Lambda log lines', () => {
  it('formats REPORT as Lambda does', () => {
    assert.equal(reportLine({ requestId: 'id', durationMs: 1.234, billedDurationMs: 2, memoryMB: 128, maxMemoryUsedMB: 40, initDurationMs: 120.551 }), 'REPORT RequestId: id\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 120.55 ms\t\n');
    assert.equal(reportLine({ requestId: 'id', durationMs: 3000, billedDurationMs: 3000, memoryMB: 128, maxMemoryUsedMB: 40, status: 'error', errorType: 'Runtime.ExitError' }), 'REPORT RequestId: id\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError\t\n');
  });

  it('keeps the last 4 KB for the tail without splitting a character', () => {
    const events = [{ timestamp: 0, message: 'é'.repeat(3000) + '\n' }, { timestamp: 0, message: 'END\n' }];
    const tail = logTail(events);
    assert.ok(Buffer.byteLength(tail) <= 4096);
    assert.ok(tail.endsWith('END\n'));
    assert.ok(!tail.includes('\ufffd'));
  });

  it('splits output into one event per line, restoring newlines kept as \\r', () => {
    const out: string[] = [];
    const s = new LineSplitter((m) => out.push(m));
    s.push('a\r\nb');
    s.push('c\nmulti\rline\n');
    s.push('tail');
    s.flush();
    assert.deepEqual(out, ['a\n', 'bc\n', 'multi\nline\n', 'tail\n']);
  });
});
