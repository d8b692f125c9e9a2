import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LambdaEngine, TooManyRequestsError, type FunctionSpec, type InvokeResult, type SandboxMode } from '../../../src/runtime/lambda/index.js';
import { cleanupTempDirs, codeDir, json, LogCollector, spec, tempDir } from '../../helpers/lambda.js';

/**
 * The Lambda execution engine end to end: real zips of real handlers, run as runtime
 * processes speaking the Runtime API. The whole suite runs twice: with the sandbox
 * the machine offers ('auto': bubblewrap when it works) and with plain processes.
 */

const ISO = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
const STREAM = /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/;

const NODE_ECHO = {
  'index.js': `
    const instance = Math.random().toString(36).slice(2);
    let count = 0;
    exports.handler = async (event, context) => {
      count++;
      return { event, count, instance, pid: process.pid,
        context: { awsRequestId: context.awsRequestId, functionName: context.functionName, functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB, logGroupName: context.logGroupName,
          logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(), waits: context.callbackWaitsForEmptyEventLoop,
          clientContext: context.clientContext, identity: context.identity } };
    };
    exports.env = async () => ({ env: process.env, cwd: process.cwd() });
    exports.sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return { instance }; };
    exports.log = async () => { console.log('hello', { a: 1 }); console.warn('line1\\nline2'); process.stdout.write('raw out\\n'); return 'ok'; };
    exports.boom = async () => { throw new TypeError('it broke'); };
    exports.crash = async () => { process.exit(3); };
    exports.hog = async () => { const bufs = []; for (let i = 0; i < 40; i++) { bufs.push(Buffer.alloc(8 << 20, 1)); } await new Promise((r) => setTimeout(r, 5000)); return bufs.length; };
    exports.big = async () => 'x'.repeat(7 * 1024 * 1024);
    exports.tmp = async (event) => { const fs = require('fs'), path = require('path'), os = require('os');
      const p = path.join(os.tmpdir(), event.name); fs.writeFileSync(p, 'data');
      let taskWritable = true; try { fs.writeFileSync(path.join(process.env.LAMBDA_TASK_ROOT, 'w.txt'), 'x'); } catch { taskWritable = false; }
      return { tmpdir: os.tmpdir(), files: fs.readdirSync(os.tmpdir()), taskWritable, user: os.userInfo().username, root: fs.existsSync('/root') || fs.existsSync('/home') }; };
    exports.chatty = async () => { for (let i = 0; i < 30000; i++) console.log('line ' + i + ' ' + 'y'.repeat(80)); process.stdout.write('no newline'); return 'done'; };
    exports.ticker = async () => { if (!global.ticks) { global.ticks = 0; setInterval(() => global.ticks++, 10); return 0; } return global.ticks; };
    exports.throwLater = (e, ctx, cb) => { if (!e.throw) return cb(null, 'fine'); setTimeout(() => { throw new RangeError('from a timer'); }, 10); };
    exports.rejectLater = async () => { Promise.reject(new Error('nobody catches me')); await new Promise((r) => setTimeout(r, 200)); return 'late'; };
    exports.notAFunction = 42;
  `,
};

function suite(mode: 'auto' | SandboxMode) {
  describe(`Lambda engine (sandbox: ${mode})`, () => {
    let engine: LambdaEngine;
    const logs = new LogCollector();
    const warnings: string[] = [];
    let actualMode: SandboxMode;
    let nodeDir: string;

    before(async () => {
      process.env.NIMBUS_TEST_PARENT_SECRET = 'must-not-leak';
      engine = new LambdaEngine({
        baseDir: tempDir('nimbus-engine-'),
        sandbox: mode,
        onLog: logs.sink,
        log: { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      });
      actualMode = await engine.sandboxMode();
      nodeDir = await codeDir(NODE_ECHO);
    });

    after(async () => {
      await engine.shutdown();
      cleanupTempDirs();
    });

    const invoke = (fn: FunctionSpec, event: unknown = {}, opts: Partial<Parameters<LambdaEngine['invoke']>[2]> = {}): Promise<InvokeResult> =>
      engine.invoke(fn, Buffer.from(JSON.stringify(event)), { requestId: randomUUID(), ...opts });

    it(`runs in the sandbox asked for (${mode})`, async () => {
      const installed = existsSync('/usr/bin/bwrap') || existsSync('/usr/local/bin/bwrap');
      if (mode === 'none' || !installed) assert.equal(actualMode, 'none');
      else assert.ok(actualMode === 'bwrap' || warnings.some((w) => w.includes('bwrap is installed but does not work')), 'bwrap used, or the fallback explained');
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.tmp', codeDir: nodeDir });
      const r = json((await invoke(fn, { name: 'probe' })).payload);
      if (actualMode === 'bwrap') {
        assert.equal(r.tmpdir, '/tmp');
        assert.equal(r.user, 'sbx_user1051');
        assert.equal(r.root, false, 'the machine root file system is not visible');
        assert.equal(r.taskWritable, false, '/var/task is read-only in the sandbox');
      } else {
        assert.notEqual(r.tmpdir, '/tmp', 'a private TMPDIR, not the machine /tmp');
      }
    });

    it('runs an async CommonJS handler with the event and the context', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: nodeDir, memoryMB: 256, timeoutSec: 7 });
      const requestId = randomUUID();
      const res = await invoke(fn, { hello: 'world' }, { requestId, clientContext: JSON.stringify({ custom: { k: 'v' } }), cognitoIdentity: JSON.stringify({ cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' }), invokedFunctionArn: fn.functionArn + ':$LATEST' });
      assert.equal(res.functionError, undefined);
      const out = json(res.payload);
      assert.deepEqual(out.event, { hello: 'world' });
      assert.equal(out.context.awsRequestId, requestId);
      assert.equal(out.context.functionName, fn.functionName);
      assert.equal(out.context.functionVersion, '$LATEST');
      assert.equal(out.context.invokedFunctionArn, fn.functionArn + ':$LATEST');
      assert.equal(out.context.memoryLimitInMB, '256');
      assert.equal(out.context.logGroupName, fn.logGroupName);
      assert.equal(out.context.logStreamName, res.logStreamName);
      assert.match(res.logStreamName, STREAM);
      assert.ok(out.context.remaining > 5000 && out.context.remaining <= 7000, `remaining ${out.context.remaining}`);
      assert.equal(out.context.waits, true);
      assert.deepEqual(out.context.clientContext, { custom: { k: 'v' } });
      assert.deepEqual(out.context.identity, { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' });
      assert.equal(res.executedVersion, '$LATEST');
      assert.ok(res.initDurationMs !== undefined && res.initDurationMs > 0);
    });

    it('loads ES modules: .mjs, and .js under "type":"module"', async () => {
      const mjs = await codeDir({ 'app.mjs': `export const handler = async (e) => ({ esm: true, got: e.n, meta: typeof import.meta.url });` });
      let r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'app.handler', codeDir: mjs }), { n: 1 });
      assert.deepEqual(json(r.payload), { esm: true, got: 1, meta: 'string' });
      const typeModule = await codeDir({ 'package.json': '{"type":"module"}', 'src/main.js': `export async function go() { return 'module js'; }` });
      r = await invoke(spec({ runtime: 'nodejs22.x', handler: 'src/main.go', codeDir: typeModule }));
      assert.equal(json(r.payload), 'module js');
      const cjs = await codeDir({ 'h.cjs': `module.exports.nested = { fn: (e, c, cb) => cb(null, 'cjs nested') };` });
      r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'h.nested.fn', codeDir: cjs }));
      assert.equal(json(r.payload), 'cjs nested');
    });

    it('buffers awslambda.streamifyResponse handlers into one response', async () => {
      const dir = await codeDir({
        'index.mjs': `
          import { pipeline } from 'node:stream/promises';
          import { Readable } from 'node:stream';
          export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
            responseStream.setContentType('text/plain');
            await pipeline(Readable.from(['hello ', event.who, ' from ', context.functionName]), responseStream);
          });
          export const http = awslambda.streamifyResponse(async (event, stream) => {
            stream = awslambda.HttpResponseStream.from(stream, { statusCode: 201 });
            stream.write('body');
            stream.end();
          });
          export const unfinished = awslambda.streamifyResponse(async (event, stream) => { stream.write('x'); });
        `,
      });
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: dir });
      let r = await invoke(fn, { who: 'me' });
      assert.equal(r.payload.toString(), `hello me from ${fn.functionName}`);
      r = await invoke({ ...fn, handler: 'index.http', configKey: 'http' });
      assert.deepEqual(r.payload, Buffer.concat([Buffer.from('{"statusCode":201}'), Buffer.alloc(8), Buffer.from('body')]));
      r = await invoke({ ...fn, handler: 'index.unfinished', configKey: 'unfinished' });
      assert.deepEqual({ ...json(r.payload), trace: undefined }, { errorType: 'Runtime.InvalidStreamingOperation', errorMessage: 'Response stream is not finished.', trace: undefined });
    });

    it('answers callback handlers when the event loop is empty, or at once when told not to wait', async () => {
      const dir = await codeDir({
        'index.js': `
          let order = [];
          exports.waits = (e, ctx, cb) => { order = []; setTimeout(() => order.push('timer'), 150); cb(null, { order }); };
          exports.nowait = (e, ctx, cb) => { order = []; ctx.callbackWaitsForEmptyEventLoop = false; setTimeout(() => order.push('late'), 300); cb(null, { order: order.slice() }); };
          exports.fails = (e, ctx, cb) => cb(new Error('cb error'));
          exports.sync = () => { };
          exports.done = (e, ctx) => { ctx.succeed('succeeded'); };
        `,
      });
      let r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.waits', codeDir: dir }));
      assert.deepEqual(json(r.payload), { order: ['timer'] }, 'the response went out after the pending timer ran');
      const t0 = Date.now();
      r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.nowait', codeDir: dir }));
      assert.deepEqual(json(r.payload), { order: [] });
      assert.ok(Date.now() - t0 < 2000);
      r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.fails', codeDir: dir }));
      assert.equal(r.functionError, 'Unhandled');
      assert.equal(json(r.payload).errorMessage, 'cb error');
      r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.sync', codeDir: dir }));
      assert.equal(r.payload.toString(), 'null');
      r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.done', codeDir: dir }));
      assert.equal(json(r.payload), 'succeeded');
    });

    it('sets AWS environment variables, keeps reserved ones, and leaks nothing of the parent', async () => {
      const fn = spec({
        runtime: 'nodejs20.x',
        handler: 'index.env',
        codeDir: nodeDir,
        memoryMB: 512,
        environment: { MY_VAR: 'mine', AWS_REGION: 'eu-west-9', AWS_LAMBDA_FUNCTION_NAME: 'hijack', _HANDLER: 'x.y', LANG: 'C.UTF-8' },
      });
      const { env, cwd } = json((await invoke(fn)).payload);
      assert.equal(env.MY_VAR, 'mine');
      assert.equal(env.LANG, 'C.UTF-8', 'LANG is not reserved');
      assert.equal(env.AWS_REGION, 'us-east-1');
      assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
      assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, fn.functionName);
      assert.equal(env._HANDLER, 'index.env');
      assert.equal(env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
      assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '512');
      assert.equal(env.AWS_EXECUTION_ENV, 'AWS_Lambda_nodejs20.x');
      assert.equal(env.AWS_LAMBDA_LOG_GROUP_NAME, fn.logGroupName);
      assert.match(env.AWS_LAMBDA_LOG_STREAM_NAME, STREAM);
      assert.match(env.AWS_LAMBDA_RUNTIME_API, /^127\.0\.0\.1:\d+$/);
      assert.equal(env.AWS_ACCESS_KEY_ID, 'ASIATESTKEY');
      assert.equal(env.AWS_SECRET_ACCESS_KEY, 'secret');
      assert.equal(env.AWS_SESSION_TOKEN, 'token');
      assert.equal(env.AWS_ENDPOINT_URL, 'http://127.0.0.1:4566');
      assert.equal(env.AWS_LAMBDA_INITIALIZATION_TYPE, 'on-demand');
      assert.equal(env.TZ, ':UTC');
      assert.equal(cwd, env.LAMBDA_TASK_ROOT);
      assert.ok(env.LAMBDA_RUNTIME_DIR);
      assert.ok(env.NODE_PATH.split(':').includes(`${env.LAMBDA_TASK_ROOT}`));
      assert.ok(env.NODE_PATH.includes('/nodejs/node_modules'));
      assert.ok(env.LD_LIBRARY_PATH.includes(`${env.LAMBDA_TASK_ROOT}/lib`));
      assert.ok(env.PATH.includes('/usr/bin'));
      assert.ok(env.TMPDIR);
      assert.match(env._X_AMZN_TRACE_ID, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      assert.equal(env.NIMBUS_TEST_PARENT_SECRET, undefined);
      assert.equal(env.HOME, undefined);
      const allowed = new Set(['PWD', 'PATH', 'LD_LIBRARY_PATH', 'NODE_PATH', 'LANG', 'TZ', 'TMPDIR', 'MY_VAR', 'AWS_ENDPOINT_URL', '_X_AMZN_TRACE_ID']);
      for (const k of Object.keys(env)) assert.ok(allowed.has(k) || /^(AWS_|LAMBDA_|_HANDLER$)/.test(k), `unexpected variable ${k}`);
    });

    it('reports thrown errors as {errorType, errorMessage, trace} and logs "Invoke Error"', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.boom', codeDir: nodeDir });
      const res = await invoke(fn);
      assert.equal(res.functionError, 'Unhandled');
      assert.equal(res.errorType, 'TypeError');
      const doc = json(res.payload);
      assert.deepEqual(Object.keys(doc), ['errorType', 'errorMessage', 'trace']);
      assert.equal(doc.errorType, 'TypeError');
      assert.equal(doc.errorMessage, 'it broke');
      assert.equal(doc.trace[0], 'TypeError: it broke');
      assert.match(doc.trace[1], /at .*index\.js/);
      assert.match(res.logTail, new RegExp(`${ISO}\\t[0-9a-f-]{36}\\tERROR\\tInvoke Error \\t\\{"errorType":"TypeError","errorMessage":"it broke","stack":\\["TypeError: it broke"`));
    });

    it('reports init failures with the Runtime.* error types and AWS messages', async () => {
      const cases: Array<[Record<string, string>, string, string, RegExp]> = [
        [{ 'index.js': 'exports.x = 1;' }, 'missing.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'missing'\nRequire stack:\n- .*bootstrap\.cjs$/],
        [{ 'index.js': 'exports.x = 1;' }, 'index.nope', 'Runtime.HandlerNotFound', /^index\.nope is undefined or not exported$/],
        [{ 'index.js': 'exports.x = 1;' }, 'index.x', 'Runtime.HandlerNotFound', /^index\.x is not a function$/],
        [{ 'index.js': 'exports.handler = async () => { return {;' }, 'index.handler', 'Runtime.UserCodeSyntaxError', /^SyntaxError: Unexpected token/],
        [{ 'index.js': 'exports.x = 1;' }, '../index.x', 'Runtime.MalformedHandlerName', /is not a valid handler name/],
        [{ 'index.js': 'throw new RangeError("init failed");' }, 'index.handler', 'RangeError', /^init failed$/],
      ];
      for (const [files, handler, errorType, message] of cases) {
        const fn = spec({ runtime: 'nodejs20.x', handler, codeDir: await codeDir(files) });
        const res = await invoke(fn);
        assert.equal(res.functionError, 'Unhandled', handler);
        const doc = json(res.payload);
        assert.equal(doc.errorType, errorType, handler);
        assert.match(doc.errorMessage, message, handler);
        assert.ok(Array.isArray(doc.trace), handler);
        const msgs = logs.messages(res.logStreamName);
        assert.ok(msgs.some((m) => new RegExp(`^${ISO}\\tundefined\\tERROR\\tUncaught Exception \\t\\{"errorType":"${errorType.replace('.', '\\.')}"`).test(m)), `${handler}: ${msgs.join('')}`);
        assert.ok(msgs.some((m) => new RegExp(`^INIT_REPORT Init Duration: \\d+\\.\\d{2} ms\\tPhase: init\\tStatus: error\\tError Type: ${errorType.replace('.', '\\.')}\\t\\n$`).test(m)), msgs.join(''));
        assert.ok(msgs.some((m) => /^REPORT RequestId: .*\tStatus: error\tError Type: /.test(m)));
        assert.match(res.logTail, /\tERROR\tUncaught Exception \t[^]*INIT_REPORT [^]*START [^]*END [^]*REPORT /, 'the tail holds the init output, then the platform lines');
      }
      // A failed init leaves nothing behind: the next invoke tries again from scratch.
      assert.equal(engine.environments().filter((e) => e.state !== 'dead' && e.functionArn.includes('missing')).length, 0);
    });

    it('writes START / console lines / END / REPORT, with Init Duration only on a cold start', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.log', codeDir: nodeDir });
      const first = await invoke(fn, {}, { requestId: 'req-cold-0000' });
      const second = await invoke(fn, {}, { requestId: 'req-warm-0000' });
      assert.equal(first.logStreamName, second.logStreamName);
      assert.ok(first.initDurationMs! > 0);
      assert.equal(second.initDurationMs, undefined);
      const msgs = logs.messages(first.logStreamName);
      const cold = msgs.slice(0, msgs.indexOf('END RequestId: req-cold-0000\n') + 2);
      assert.equal(cold[0], 'START RequestId: req-cold-0000 Version: $LATEST\n');
      assert.match(cold[1]!, new RegExp(`^${ISO}\\treq-cold-0000\\tINFO\\thello \\{ a: 1 \\}\\n$`));
      assert.match(cold[2]!, new RegExp(`^${ISO}\\treq-cold-0000\\tWARN\\tline1\\nline2\\n$`), 'a multi-line message stays one event');
      assert.equal(cold[3], 'raw out\n');
      assert.equal(cold[4], 'END RequestId: req-cold-0000\n');
      const report = /^REPORT RequestId: req-cold-0000\tDuration: (\d+\.\d{2}) ms\tBilled Duration: (\d+) ms\tMemory Size: 128 MB\tMax Memory Used: (\d+) MB\tInit Duration: (\d+\.\d{2}) ms\t\n$/.exec(cold[5]!);
      assert.ok(report, cold[5]);
      assert.ok(Number(report[3]) > 5 && Number(report[3]) <= 128, `max memory ${report[3]}`);
      assert.equal(Number(report[2]), first.billedDurationMs);
      assert.equal(first.billedDurationMs, Math.ceil(first.durationMs + first.initDurationMs!));
      assert.ok(msgs.some((m) => /^REPORT RequestId: req-warm-0000\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t\n$/.test(m)));
      assert.ok(second.logTail.startsWith('START RequestId: req-warm-0000'));
      assert.ok(second.logTail.endsWith('\t\n') && second.logTail.includes('END RequestId: req-warm-0000'));
      assert.ok(logs.groups.has(fn.logGroupName));
    });

    it('ships a chatty invocation\'s output in batches, every line once, in order', async () => {
      const batches: number[] = [];
      const all: string[] = [];
      const local = new LambdaEngine({ baseDir: tempDir('nimbus-engine-'), sandbox: mode, onLog: (_g, _s, events) => { batches.push(events.length); all.push(...events.map((e) => e.message)); } });
      try {
        const res = await local.invoke(spec({ runtime: 'nodejs20.x', handler: 'index.chatty', codeDir: nodeDir }), Buffer.from('{}'), { requestId: 'chatty-1' });
        assert.equal(json(res.payload), 'done');
        assert.ok(batches.length > 1, 'more than one batch');
        assert.equal(all[0], 'START RequestId: chatty-1 Version: $LATEST\n');
        const lines = all.filter((m) => m.includes('\tINFO\tline '));
        assert.equal(lines.length, 30000);
        assert.ok(lines[29999]!.includes('\tline 29999 '));
        assert.equal(all.at(-3), 'no newline\n');
        assert.match(all.at(-1)!, /^REPORT RequestId: chatty-1\t/);
        assert.ok(res.logTail.includes('line 29999') && res.logTail.includes('END RequestId: chatty-1'));
        assert.ok(Buffer.byteLength(res.logTail) <= 4096);
      } finally {
        await local.shutdown();
      }
    });

    it('reuses a warm environment: module state survives between invokes', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: nodeDir });
      const a = json((await invoke(fn)).payload);
      const b = json((await invoke(fn)).payload);
      const c = json((await invoke(fn)).payload);
      assert.deepEqual([a.count, b.count, c.count], [1, 2, 3]);
      assert.equal(a.instance, c.instance);
      assert.equal(engine.environments().filter((e) => e.functionArn === fn.functionArn).length, 1);
    });

    it('reaps environments idle longer than idleTimeoutMs, and retire() drops them at once', async () => {
      const local = new LambdaEngine({ baseDir: tempDir('nimbus-engine-'), sandbox: mode, idleTimeoutMs: 200 });
      try {
        const fn = spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: nodeDir });
        const first = json((await local.invoke(fn, Buffer.from('{}'), { requestId: randomUUID() })).payload);
        const pid = local.environments()[0]!.pid;
        for (let i = 0; i < 100 && local.environments().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(local.environments().length, 0, 'reaped after 200 ms idle');
        const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
        for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(alive(), false, 'the process is gone');
        const second = await local.invoke(fn, Buffer.from('{}'), { requestId: randomUUID() });
        assert.notEqual(json(second.payload).instance, first.instance);
        assert.ok(second.initDurationMs !== undefined);
        local.retire(fn.functionArn);
        assert.equal(local.environments().length, 0);
      } finally {
        await local.shutdown();
      }
    });

    it('lets a running invoke finish when its function is retired, then drops the environment', async () => {
      const layer = await codeDir({ 'nodejs/node_modules/greet/index.js': 'module.exports = "still here";' });
      const dir = await codeDir({ 'index.js': `exports.h = async () => { await new Promise((r) => setTimeout(r, 300)); return require('greet'); };` });
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.h', codeDir: dir, layerDirs: [layer] });
      const running = invoke(fn);
      await new Promise((r) => setTimeout(r, 100));
      engine.retire(fn.functionArn);
      assert.equal(engine.environments().filter((e) => e.functionArn === fn.functionArn && e.state === 'busy').length, 1, 'still listed while busy');
      assert.equal(json((await running).payload), 'still here', 'its layers stayed in place');
      assert.equal(engine.environments().filter((e) => e.functionArn === fn.functionArn).length, 0);
    });

    it('starts fresh environments when the configuration changes', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: nodeDir });
      const a = json((await invoke(fn)).payload);
      const b = json((await invoke({ ...fn, configKey: 'v2' })).payload);
      assert.notEqual(a.instance, b.instance);
      assert.equal(b.count, 1);
      assert.deepEqual(engine.environments().filter((e) => e.functionArn === fn.functionArn && e.state !== 'dead').length, 1);
    });

    it('scales out to one environment per concurrent invoke', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.sleep', codeDir: nodeDir });
      const results = await Promise.all([1, 2, 3].map(() => invoke(fn, { ms: 400 })));
      const instances = new Set(results.map((r) => json(r.payload).instance));
      assert.equal(instances.size, 3);
      assert.ok(results.every((r) => r.initDurationMs !== undefined));
      assert.equal(engine.environments().filter((e) => e.functionArn === fn.functionArn && e.state === 'idle').length, 3);
      const again = await invoke(fn, { ms: 1 });
      assert.ok(instances.has(json(again.payload).instance), 'the next invoke is warm');
    });

    it('throttles past the reserved concurrency with TooManyRequestsException', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.sleep', codeDir: nodeDir, reservedConcurrency: 1 });
      const first = invoke(fn, { ms: 300 });
      await assert.rejects(invoke(fn, { ms: 1 }), (e: unknown) => e instanceof TooManyRequestsError && e.reason === 'ReservedFunctionConcurrentInvocationLimitExceeded' && e.status === 429 && e.code === 'TooManyRequestsException');
      assert.equal((await first).functionError, undefined);
      assert.equal((await invoke(fn, { ms: 1 })).functionError, undefined, 'a slot is free again');
      await assert.rejects(invoke({ ...fn, reservedConcurrency: 0 }, {}), TooManyRequestsError);
    });

    it('throttles past the account concurrency', async () => {
      const small = new LambdaEngine({ baseDir: tempDir('nimbus-engine-'), sandbox: mode, accountConcurrency: 1 });
      try {
        const fn = spec({ runtime: 'nodejs20.x', handler: 'index.sleep', codeDir: nodeDir });
        const first = small.invoke(fn, Buffer.from('{"ms":300}'), { requestId: randomUUID() });
        const other = spec({ runtime: 'nodejs20.x', handler: 'index.sleep', codeDir: nodeDir });
        await assert.rejects(small.invoke(other, Buffer.from('{"ms":1}'), { requestId: randomUUID() }), (e: unknown) => e instanceof TooManyRequestsError && e.reason === 'ConcurrentInvocationLimitExceeded');
        assert.equal((await first).functionError, undefined);
      } finally {
        await small.shutdown();
      }
    });

    it('kills a function at its timeout (Sandbox.Timedout) and starts the next invoke fresh', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.sleep', codeDir: nodeDir, timeoutSec: 1 });
      const warm = json((await invoke(fn, { ms: 1 })).payload).instance;
      const requestId = randomUUID();
      const res = await invoke(fn, { ms: 5000 }, { requestId });
      assert.equal(res.functionError, 'Unhandled');
      assert.deepEqual(json(res.payload), { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds` });
      assert.ok(res.durationMs >= 950 && res.durationMs < 2000, `duration ${res.durationMs}`);
      assert.match(res.logTail, new RegExp(`${ISO} ${requestId} Task timed out after 1\\.00 seconds\\n`));
      assert.match(res.logTail, /\tStatus: timeout\t\n$/);
      const next = await invoke(fn, { ms: 1 });
      assert.notEqual(json(next.payload).instance, warm);
      assert.ok(next.initDurationMs !== undefined, 'cold again');
    });

    it('kills a function over its memory size (Runtime.OutOfMemory, signal: killed)', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.hog', codeDir: nodeDir, memoryMB: 128, timeoutSec: 10 });
      const requestId = randomUUID();
      const res = await invoke(fn, {}, { requestId });
      assert.deepEqual(json(res.payload), { errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed` });
      assert.ok(res.durationMs < 5000, 'killed, not timed out');
      assert.ok(res.maxMemoryUsedMB >= 128, `max memory ${res.maxMemoryUsedMB}`);
      assert.match(res.logTail, /\tStatus: error\tError Type: Runtime\.OutOfMemory\t\n$/);
    });

    it('reports a crash mid-invoke as Runtime.ExitError', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.crash', codeDir: nodeDir });
      const requestId = randomUUID();
      const res = await invoke(fn, {}, { requestId });
      assert.equal(res.functionError, 'Unhandled');
      assert.deepEqual(json(res.payload), { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status 3` });
      assert.ok(res.logTail.includes(`RequestId: ${requestId} Error: Runtime exited with error: exit status 3\nRuntime.ExitError\n`));
      assert.equal(engine.environments().filter((e) => e.functionArn === fn.functionArn).length, 0);
    });

    it('freezes idle environments: background timers do not run between invokes', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.ticker', codeDir: nodeDir });
      assert.equal(json((await invoke(fn)).payload), 0);
      await new Promise((r) => setTimeout(r, 400));
      const ticks = json((await invoke(fn)).payload);
      assert.ok(ticks < 12, `the 10 ms interval ran ${ticks} times while the environment was idle for 400 ms`);
    });

    it('reports an uncaught exception or unhandled rejection as the invocation error, then replaces the environment', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.throwLater', codeDir: nodeDir });
      let res = await invoke(fn, { throw: true });
      assert.equal(res.functionError, 'Unhandled');
      assert.deepEqual({ ...json(res.payload), trace: undefined }, { errorType: 'RangeError', errorMessage: 'from a timer', trace: undefined });
      assert.match(res.logTail, /\tERROR\tUncaught Exception \t\{"errorType":"RangeError"/);
      const next = await invoke(fn, { throw: false });
      assert.equal(json(next.payload), 'fine', 'the next invoke runs on a fresh environment');
      assert.ok(next.initDurationMs !== undefined);
      res = await invoke({ ...fn, handler: 'index.rejectLater', configKey: 'reject' });
      const doc = json(res.payload);
      assert.equal(doc.errorType, 'Runtime.UnhandledPromiseRejection');
      assert.equal(doc.errorMessage, 'Error: nobody catches me');
      for (let i = 0; i < 100 && engine.environments().some((e) => e.functionArn === fn.functionArn); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(engine.environments().filter((e) => e.functionArn === fn.functionArn).length, 0, 'the runtime exited after reporting');
    });

    it('runs AWS_LAMBDA_EXEC_WRAPPER from a layer around the runtime', async () => {
      const layer = await codeDir({ 'wrapper.sh': { content: '#!/bin/sh\nexport WRAPPED="yes:$1"\nexec "$@"\n', mode: 0o755 } });
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.env', codeDir: nodeDir, layerDirs: [layer], environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/wrapper.sh' } });
      const { env } = json((await invoke(fn)).payload);
      assert.match(env.WRAPPED, /^yes:.*node/);
    });

    it('bounds the init phase (Sandbox.Timedout)', async () => {
      const quick = new LambdaEngine({ baseDir: tempDir('nimbus-engine-'), sandbox: mode, initTimeoutMs: 300, onLog: logs.sink });
      try {
        const dir = await codeDir({ 'index.js': 'const end = Date.now() + 3000; while (Date.now() < end); exports.handler = async () => 1;' });
        const requestId = randomUUID();
        const res = await quick.invoke(spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: dir, timeoutSec: 2 }), Buffer.from('{}'), { requestId });
        assert.deepEqual(json(res.payload), { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after 2.00 seconds` });
        assert.ok(logs.messages(res.logStreamName).some((m) => /^INIT_REPORT Init Duration: \d+\.\d{2} ms\tPhase: init\tStatus: timeout\t\n$/.test(m)));
        assert.match(res.logTail, /\tStatus: timeout\t\n$/);
      } finally {
        await quick.shutdown();
      }
    });

    it('enforces timeout and memory for Python too', async () => {
      const dir = await codeDir({ 'app.py': 'import time\ndef slow(e, c):\n    time.sleep(5)\ndef hog(e, c):\n    b = b"x" * (300 << 20)\n    time.sleep(5)\n    return len(b)\n' });
      const requestId = randomUUID();
      const slow = await invoke(spec({ runtime: 'python3.11', handler: 'app.slow', codeDir: dir, timeoutSec: 1 }), {}, { requestId });
      assert.equal(json(slow.payload).errorType, 'Sandbox.Timedout');
      const hog = await invoke(spec({ runtime: 'python3.11', handler: 'app.hog', codeDir: dir, timeoutSec: 10 }), {}, { requestId });
      assert.deepEqual(json(hog.payload), { errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed` });
    });

    it('refuses a response over 6 MB with Function.ResponseSizeTooLarge', async () => {
      const res = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.big', codeDir: nodeDir }));
      assert.equal(res.functionError, 'Unhandled');
      assert.deepEqual(json(res.payload), { errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).', errorType: 'Function.ResponseSizeTooLarge' });
    });

    it('merges layers in order into /opt, visible on NODE_PATH and PYTHONPATH', async () => {
      const layer1 = await codeDir({ 'nodejs/node_modules/greet/index.js': 'module.exports = "v1";', 'python/helper.py': 'WHO = "layer1"', 'only-in-first.txt': 'first' });
      const layer2 = await codeDir({ 'nodejs/node_modules/greet/index.js': 'module.exports = "v2";' });
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.h', codeDir: nodeDir, layerDirs: [layer1, layer2] });
      const node = await codeDir({ 'index.js': `exports.h = async () => ({ greet: require('greet'), first: require('fs').readFileSync(require('path').join(process.env.NODE_PATH.split(':')[1], '..', '..', 'only-in-first.txt'), 'utf8') });` });
      const r = json((await invoke({ ...fn, handler: 'index.h', codeDir: node })).payload);
      assert.deepEqual(r, { greet: 'v2', first: 'first' });
      const py = await codeDir({ 'app.py': 'import helper\ndef handler(e, c):\n    return helper.WHO\n' });
      const p = await invoke(spec({ runtime: 'python3.11', handler: 'app.handler', codeDir: py, layerDirs: [layer1, layer2] }));
      assert.equal(json(p.payload), 'layer1');
    });

    it('includes the AWS SDK for JavaScript v3 (require and import), after the function’s own and its layers’', async () => {
      // A stand-in for Nimbus: the SDK must find it through AWS_ENDPOINT_URL and sign with the role's credentials.
      const seen: Array<{ path: string; auth: string; token: string }> = [];
      const fake = createServer((req, res) => {
        seen.push({ path: req.url!, auth: String(req.headers.authorization), token: String(req.headers['x-amz-security-token']) });
        res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Buckets><Bucket><Name>from-fake</Name></Bucket></Buckets></ListAllMyBucketsResult>');
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      const endpointUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
      const call = `const out = await new S3Client({}).send(new ListBucketsCommand({})); return { buckets: out.Buckets.map((b) => b.Name), where: WHERE };`;
      const dir = await codeDir({
        'cjs.js': `const { S3Client, ListBucketsCommand } = require('@aws-sdk/client-s3'); const WHERE = require.resolve('@aws-sdk/client-s3'); exports.h = async () => { ${call} };`,
        'esm.mjs': `import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3'; import { STSClient } from '@aws-sdk/client-sts'; const WHERE = typeof STSClient;\nexport const h = async () => { ${call} };`,
      });
      try {
        for (const handler of ['cjs.h', 'esm.h']) {
          const r = await invoke(spec({ runtime: 'nodejs20.x', handler, codeDir: dir, endpointUrl }));
          assert.equal(r.functionError, undefined, r.payload.toString());
          const out = json(r.payload);
          assert.deepEqual(out.buckets, ['from-fake']);
          if (handler === 'cjs.h') assert.match(out.where, /\/node_modules\/@aws-sdk\/client-s3\//);
          else assert.equal(out.where, 'function');
        }
      } finally {
        fake.close();
      }
      assert.equal(seen.length, 2);
      for (const s of seen) {
        assert.equal(s.path, '/?x-id=ListBuckets');
        assert.match(s.auth, /^AWS4-HMAC-SHA256 Credential=ASIATESTKEY\/\d{8}\/us-east-1\/s3\/aws4_request/);
        assert.equal(s.token, 'token');
      }
      // A function's own copy, then a layer's, win over the runtime's, for require and import alike.
      const own = { 'node_modules/@aws-sdk/client-s3/package.json': '{"name":"@aws-sdk/client-s3","main":"index.js"}', 'node_modules/@aws-sdk/client-s3/index.js': 'exports.S3Client = "bundled";' };
      const use = { 'cjs.js': `exports.h = async () => require('@aws-sdk/client-s3').S3Client;`, 'esm.mjs': `import { S3Client } from '@aws-sdk/client-s3';\nexport const h = async () => S3Client;` };
      const layer = await codeDir({ 'nodejs/node_modules/@aws-sdk/client-s3/package.json': '{"name":"@aws-sdk/client-s3","main":"index.js"}', 'nodejs/node_modules/@aws-sdk/client-s3/index.js': 'exports.S3Client = "layer";' });
      const bundled = await codeDir({ ...use, ...own });
      const plain = await codeDir(use);
      for (const handler of ['cjs.h', 'esm.h']) {
        assert.equal(json((await invoke(spec({ runtime: 'nodejs20.x', handler, codeDir: bundled, layerDirs: [layer] }))).payload), 'bundled', handler);
        assert.equal(json((await invoke(spec({ runtime: 'nodejs20.x', handler, codeDir: plain, layerDirs: [layer] }))).payload), 'layer', handler);
      }
      // A package that is neither bundled nor in the runtime is still not found, as on AWS.
      const missing = await codeDir({ 'esm.mjs': `import x from 'left-pad-nowhere';\nexport const h = async () => x;`, 'cjs.js': `require('yazl'); exports.h = async () => 1;` });
      let r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'esm.h', codeDir: missing }));
      // AWS's runtime reports ES module resolution errors as they are (errorType "Error").
      assert.equal(r.errorType, 'Error');
      assert.match(json(r.payload).errorMessage, /^Cannot find package 'left-pad-nowhere' imported from \/.*\/esm\.mjs$/);
      r = await invoke(spec({ runtime: 'nodejs20.x', handler: 'cjs.h', codeDir: missing }));
      assert.equal(r.errorType, 'Runtime.ImportModuleError', "Nimbus's other dependencies are not offered");
    });

    it('gives each environment its own /tmp', async () => {
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.tmp', codeDir: nodeDir });
      const [a, b] = await Promise.all([invoke(fn, { name: 'a.txt' }), invoke(fn, { name: 'b.txt' })]);
      const ra = json(a.payload);
      const rb = json(b.payload);
      assert.deepEqual(ra.files, ['a.txt']);
      assert.deepEqual(rb.files, ['b.txt']);
      const envs = engine.environments().filter((e) => e.functionArn === fn.functionArn);
      assert.equal(envs.length, 2);
      const onHost = envs.map((e) => readdirSync(e.tmpDir).sort().join(',')).sort();
      assert.deepEqual(onHost, ['a.txt', 'b.txt']);
      assert.equal(readFileSync(join(envs.find((e) => e.logStreamName === a.logStreamName)!.tmpDir, 'a.txt'), 'utf8'), 'data');
    });

    it('runs Python handlers with the context object and AWS log formats', async () => {
      const dir = await codeDir({
        'pkg/__init__.py': '',
        'pkg/app.py': [
          'import logging, os, time',
          'counter = 0',
          'def handler(event, context):',
          '    global counter',
          '    counter += 1',
          '    print("printed", event["n"])',
          '    logging.getLogger().warning("careful %s", 1)',
          '    logging.info("hidden at the default level")',
          '    return {"n": event["n"], "counter": counter, "rid": context.aws_request_id, "fn": context.function_name, "ver": context.function_version,',
          '            "arn": context.invoked_function_arn, "mem": context.memory_limit_in_mb, "group": context.log_group_name, "stream": context.log_stream_name,',
          '            "remaining": context.get_remaining_time_in_millis(), "custom": context.client_context.custom if context.client_context else None,',
          '            "cognito": context.identity.cognito_identity_id, "exec": os.environ["AWS_EXECUTION_ENV"], "pp": os.environ["PYTHONPATH"]}',
          'def boom(event, context):',
          '    raise ValueError("bad value")',
        ].join('\n'),
      });
      const fn = spec({ runtime: 'python3.11', handler: 'pkg/app.handler', codeDir: dir });
      const requestId = randomUUID();
      const res = await invoke(fn, { n: 5 }, { requestId, clientContext: JSON.stringify({ custom: { a: 1 } }), cognitoIdentity: JSON.stringify({ cognitoIdentityId: 'cid' }) });
      const out = json(res.payload);
      assert.equal(out.n, 5);
      assert.equal(out.counter, 1);
      assert.equal(out.rid, requestId);
      assert.equal(out.fn, fn.functionName);
      assert.equal(out.ver, '$LATEST');
      assert.equal(out.arn, fn.functionArn);
      assert.equal(out.mem, '128');
      assert.equal(out.group, fn.logGroupName);
      assert.equal(out.stream, res.logStreamName);
      assert.ok(out.remaining > 1000 && out.remaining <= 3000);
      assert.deepEqual(out.custom, { a: 1 });
      assert.equal(out.cognito, 'cid');
      assert.equal(out.exec, 'AWS_Lambda_python3.11');
      assert.ok(out.pp.includes('/python/lib/python3.11/site-packages'));
      assert.equal(json((await invoke(fn, { n: 6 })).payload).counter, 2, 'warm');
      const msgs = logs.messages(res.logStreamName);
      assert.ok(msgs.includes('printed 5\n'), msgs.join(''));
      assert.ok(msgs.some((m) => new RegExp(`^\\[WARNING\\]\\t${ISO}\\t${requestId}\\tcareful 1\\n$`).test(m)), msgs.join(''));
      assert.ok(!msgs.some((m) => m.includes('hidden at the default level')));

      const err = await invoke({ ...fn, handler: 'pkg/app.boom', configKey: 'boom' }, {}, { requestId });
      assert.equal(err.functionError, 'Unhandled');
      const doc = json(err.payload);
      assert.deepEqual(Object.keys(doc), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
      assert.equal(doc.errorMessage, 'bad value');
      assert.equal(doc.errorType, 'ValueError');
      assert.equal(doc.requestId, requestId);
      assert.match(doc.stackTrace[0], /File ".*pkg\/app\.py", line 14, in boom\n {4}raise ValueError\("bad value"\)\n/);
      assert.match(err.logTail, /\[ERROR\] ValueError: bad value\nTraceback \(most recent call last\):\n\u00a0\u00a0File /, 'one event, indented with no-break spaces as AWS does');
    });

    it('writes JSON log lines when AWS_LAMBDA_LOG_FORMAT is JSON, filtered by AWS_LAMBDA_LOG_LEVEL', async () => {
      const environment = { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'INFO' };
      const node = await codeDir({ 'index.js': `exports.h = async () => { console.debug('dropped'); console.info('hi', 2); console.error(new Error('bad')); return 1; };` });
      const n = await invoke(spec({ runtime: 'nodejs20.x', handler: 'index.h', codeDir: node, environment }), {}, { requestId: 'json-node' });
      const nodeDocs = logs.messages(n.logStreamName).filter((m) => m.startsWith('{')).map((m) => JSON.parse(m));
      assert.equal(nodeDocs.length, 2);
      assert.deepEqual({ ...nodeDocs[0], timestamp: undefined }, { timestamp: undefined, level: 'INFO', requestId: 'json-node', message: 'hi 2' });
      assert.equal(nodeDocs[1].level, 'ERROR');
      assert.equal(nodeDocs[1].errorType, 'Error');
      assert.equal(nodeDocs[1].errorMessage, 'bad');
      const py = await codeDir({ 'app.py': 'import logging\ndef h(e, c):\n    logging.debug("dropped")\n    logging.getLogger("mine").info("hello %s", "py")\n    return 1\n' });
      const p = await invoke(spec({ runtime: 'python3.11', handler: 'app.h', codeDir: py, environment }), {}, { requestId: 'json-py' });
      const pyDocs = logs.messages(p.logStreamName).filter((m) => m.startsWith('{')).map((m) => JSON.parse(m));
      assert.equal(pyDocs.length, 1);
      assert.match(pyDocs[0].timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.deepEqual({ ...pyDocs[0], timestamp: undefined }, { timestamp: undefined, level: 'INFO', message: 'hello py', logger: 'mine', requestId: 'json-py' });
    });

    it('reports Python init failures as AWS does', async () => {
      const cases: Array<[Record<string, string>, string, object]> = [
        [{ 'app.py': 'x = 1' }, 'nope.handler', { errorMessage: "Unable to import module 'nope': No module named 'nope'", errorType: 'Runtime.ImportModuleError', requestId: '', stackTrace: [] }],
        [{ 'app.py': 'import missing_dep' }, 'app.handler', { errorMessage: "Unable to import module 'app': No module named 'missing_dep'", errorType: 'Runtime.ImportModuleError', requestId: '', stackTrace: [] }],
        [{ 'app.py': 'x = 1' }, 'app.handler', { errorMessage: "Handler 'handler' missing on module 'app'", errorType: 'Runtime.HandlerNotFound', requestId: '', stackTrace: [] }],
      ];
      for (const [files, handler, expected] of cases) {
        const res = await invoke(spec({ runtime: 'python3.11', handler, codeDir: await codeDir(files) }));
        assert.equal(res.functionError, 'Unhandled');
        assert.deepEqual(json(res.payload), expected);
        assert.ok(res.logTail.startsWith(`[ERROR] ${(expected as { errorType: string }).errorType}: ${(expected as { errorMessage: string }).errorMessage}\nTraceback (most recent call last):`), res.logTail);
      }
      const syntax = await invoke(spec({ runtime: 'python3.11', handler: 'app.handler', codeDir: await codeDir({ 'app.py': 'def handler(:\n  pass' }) }));
      const doc = json(syntax.payload);
      assert.equal(doc.errorType, 'Runtime.UserCodeSyntaxError');
      assert.match(doc.errorMessage, /^Syntax error in module 'app': /);
    });

    it('runs a provided.al2023 custom runtime bootstrap (shell + curl, or a Node script without curl)', async () => {
      // NIMBUS_TEST_NO_CURL=1 exercises the fallback on a machine that has curl.
      const curl = process.env.NIMBUS_TEST_NO_CURL ? false : existsSync('/usr/bin/curl') || existsSync('/bin/curl');
      const nodeBootstrap = [
        '#!/usr/bin/env node',
        "const http = require('http');",
        "const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime';",
        'function next() {',
        "  http.get(base + '/invocation/next', (res) => {",
        "    let event = ''; res.on('data', (d) => (event += d)); res.on('end', () => {",
        "      const id = res.headers['lambda-runtime-aws-request-id'];",
        "      console.log('handling ' + id + ' with ' + process.env._HANDLER);",
        "      const body = JSON.stringify({ echo: JSON.parse(event), handler: process.env._HANDLER, exec: process.env.AWS_EXECUTION_ENV || 'none' });",
        "      http.request(base + '/invocation/' + id + '/response', { method: 'POST' }, (r) => { r.resume(); r.on('end', next); }).end(body);",
        '    });',
        '  });',
        '}',
        'next();',
      ].join('\n');
      const shellBootstrap = [
        '#!/bin/sh',
        'set -eu',
        'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"',
        'while true; do',
        '  HEADERS="$(mktemp)"',
        '  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")',
        '  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d "[:space:]" | cut -d: -f2)',
        '  echo "handling $ID with $_HANDLER"',
        '  curl -sS -X POST "$API/invocation/$ID/response" -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\",\\"exec\\":\\"${AWS_EXECUTION_ENV:-none}\\"}" > /dev/null',
        'done',
      ].join('\n');
      const dir = await codeDir({ bootstrap: { content: curl ? shellBootstrap : nodeBootstrap, mode: 0o755 } });
      const fn = spec({ runtime: 'provided.al2023', handler: 'function.handler', codeDir: dir });
      const requestId = randomUUID();
      const res = await invoke(fn, { x: [1, 2] }, { requestId });
      assert.deepEqual(json(res.payload), { echo: { x: [1, 2] }, handler: 'function.handler', exec: 'none' });
      assert.ok(logs.messages(res.logStreamName).includes(`handling ${requestId} with function.handler\n`));
      const missing = await invoke(spec({ runtime: 'provided.al2', handler: 'x', codeDir: await codeDir({ 'readme.txt': 'no bootstrap' }) }), {}, { requestId });
      assert.equal(json(missing.payload).errorType, 'Runtime.InvalidEntrypoint');
      assert.match(json(missing.payload).errorMessage, /^RequestId: .* Error: Couldn't find valid bootstrap\(s\): \[.*\/bootstrap .*\/bootstrap\]$/);
    });

    it('warns when the local interpreter differs from the declared runtime', async () => {
      const other = process.versions.node.startsWith('18.') ? 'nodejs20.x' : 'nodejs18.x';
      await invoke(spec({ runtime: other, handler: 'index.handler', codeDir: nodeDir }));
      assert.ok(warnings.some((w) => w.includes(`Lambda runtime ${other} runs on the local Node.js ${process.versions.node}`)), warnings.join('\n'));
      const py = await invoke(spec({ runtime: 'python3.9', handler: 'app.handler', codeDir: await codeDir({ 'app.py': 'import sys\ndef handler(e, c):\n    return "%d.%d" % sys.version_info[:2]\n' }) }));
      const local = json(py.payload);
      if (local !== '3.9') assert.ok(warnings.some((w) => w.startsWith(`Lambda runtime python3.9 runs on the local Python ${local}.`)), warnings.join('\n'));
      else assert.ok(!warnings.some((w) => w.startsWith('Lambda runtime python3.9')));
    });

    it('shutdown kills every environment', async () => {
      const local = new LambdaEngine({ baseDir: tempDir('nimbus-engine-'), sandbox: mode });
      const fn = spec({ runtime: 'nodejs20.x', handler: 'index.handler', codeDir: nodeDir });
      await local.invoke(fn, Buffer.from('{}'), { requestId: randomUUID() });
      const pids = local.environments().map((e) => e.pid);
      assert.equal(pids.length, 1);
      await local.shutdown();
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
      await assert.rejects(local.invoke(fn, Buffer.from('{}'), { requestId: randomUUID() }), /shut down/);
    });
  });
}

suite('auto');
suite('none');
