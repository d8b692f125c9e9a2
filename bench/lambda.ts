/**
 * Lambda engine benchmark: `npm run build && node dist/bench/lambda.js`.
 *
 * cold start   invoke() of a function with no environment: spawn, runtime init,
 *              handler import, one invocation, response. A new configKey per sample
 *              forces a fresh environment. p50 / p90 over BENCH_LAMBDA_COLD samples.
 * warm invoke  invoke() of a warm environment whose handler returns at once: the whole
 *              engine round trip (Runtime API delivery, response, logs, REPORT) that
 *              Nimbus adds to a function's own run time. p50 / p99 over
 *              BENCH_LAMBDA_WARM sequential samples after a warm-up.
 *
 * Each row is measured with plain processes and, where it works, inside bubblewrap.
 * Env: BENCH_LAMBDA_COLD (default 15), BENCH_LAMBDA_WARM (default 1000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { extractZip, LambdaEngine, type FunctionSpec, type SandboxMode } from '../src/runtime/lambda/index.js';
import yazl from 'yazl';

const COLD = Number(process.env.BENCH_LAMBDA_COLD ?? 15);
const WARM = Number(process.env.BENCH_LAMBDA_WARM ?? 1000);

function zip(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [n, c] of Object.entries(files)) z.addBuffer(Buffer.from(c), n);
  z.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'nimbus-bench-lambda-'));
  const nodeDir = path.join(root, 'node');
  const pyDir = path.join(root, 'py');
  await extractZip(await zip({ 'index.js': 'exports.handler = async (e) => e;' }), nodeDir);
  await extractZip(await zip({ 'app.py': 'def handler(e, c):\n    return e\n' }), pyDir);
  const fns: Array<[string, Omit<FunctionSpec, 'configKey'>]> = [
    ['node (nodejs20.x)', base('nodejs20.x', 'index.handler', nodeDir)],
    ['python (python3.11)', base('python3.11', 'app.handler', pyDir)],
  ];
  const rows: string[] = [];
  for (const mode of ['none', 'bwrap'] as SandboxMode[]) {
    const engine = new LambdaEngine({ baseDir: path.join(root, `engine-${mode}`), sandbox: mode, log: quiet });
    const actual = await engine.sandboxMode();
    if (actual !== mode) {
      rows.push(`| ${mode} | (not available here) | | | | |`);
      await engine.shutdown();
      continue;
    }
    for (const [label, fn] of fns) {
      const payload = Buffer.from('{"x":1}');
      const cold: number[] = [];
      for (let i = 0; i < COLD; i++) {
        const t0 = performance.now();
        const r = await engine.invoke({ ...fn, configKey: `cold-${i}` }, payload, { requestId: randomUUID() });
        cold.push(performance.now() - t0);
        if (r.functionError) throw new Error(`${label}: ${r.payload}`);
      }
      const warmFn = { ...fn, configKey: 'warm' };
      for (let i = 0; i < 50; i++) await engine.invoke(warmFn, payload, { requestId: randomUUID() });
      const warm: number[] = [];
      for (let i = 0; i < WARM; i++) {
        const t0 = performance.now();
        await engine.invoke(warmFn, payload, { requestId: randomUUID() });
        warm.push(performance.now() - t0);
      }
      rows.push(`| ${mode} | ${label} | ${pct(cold, 50).toFixed(1)} | ${pct(cold, 90).toFixed(1)} | ${pct(warm, 50).toFixed(2)} | ${pct(warm, 99).toFixed(2)} |`);
      engine.retire(fn.functionArn);
    }
    await engine.shutdown();
  }
  rmSync(root, { recursive: true, force: true });
  console.log(`Lambda engine, ${COLD} cold starts and ${WARM} warm invokes per row (ms, wall time of LambdaEngine.invoke)\n`);
  console.log('| sandbox | runtime | cold p50 | cold p90 | warm p50 | warm p99 |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
}

function base(runtime: string, handler: string, codeDir: string): Omit<FunctionSpec, 'configKey'> {
  const name = `bench-${runtime.replace(/\W/g, '')}`;
  return {
    functionName: name,
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    version: '$LATEST',
    runtime,
    handler,
    codeDir,
    layerDirs: [],
    memoryMB: 128,
    timeoutSec: 3,
    ephemeralStorageMB: 512,
    environment: {},
    region: 'us-east-1',
    logGroupName: `/aws/lambda/${name}`,
    credentials: async () => ({ accessKeyId: 'AKIA', secretAccessKey: 'x' }),
    endpointUrl: 'http://127.0.0.1:4566',
  };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
