/**
 * Nimbus S3 benchmark: `npm run bench` (or `node dist/bench/run.js` after a build).
 *
 * What it measures, and why. Nimbus claims to be a fast local stand-in for S3, so
 * it is compared, in one run on the same machine, with the two usual local S3
 * emulators (moto's server and s3rver) and with a "ceiling": a no-op Node HTTP
 * server (bench/ceiling.ts) that shows how fast Node + loopback + this load
 * generator can go at all. Each target runs in its own process, one at a time,
 * on a free port with a fresh temp data dir, and is stopped before the next; the
 * 256 MiB transfers come last, with every target started again and taking turns.
 *
 *   start-up     spawn to first good HTTP answer (Nimbus: GET /_nimbus/health = 200;
 *                moto: GET /moto-api/; s3rver, ceiling: GET /) - what a test suite waits
 *   idle RSS     VmRSS of the process tree from /proc after start-up + 1 s pause
 *   PUT/GET/HEAD/DELETE 4 KiB objects, 16 concurrent keep-alive clients, fixed
 *                duration per phase: ops/s and p50/p99 latency (typical unit-test
 *                traffic: many small objects). Keys are random across the key space.
 *                Each phase follows 1 s of the same load, untimed (DELETE: 0.5 s), so
 *                the numbers are the steady state, not the JIT's warm-up.
 *   LIST         ListObjectsV2 pages of 1000 keys over a bucket holding exactly 2000
 *                keys (both pages walked via continuation-token): pages/s, p50/p99.
 *                Runs first, right after an untimed fill of 2000 objects that also
 *                warms up the target, so every target lists the same bucket size.
 *   big PUT/GET  one 256 MiB object on one connection, streamed (never buffered):
 *                MiB/s - the streaming path, checksums and disk I/O. PUT then GET of the
 *                same key, five times (BENCH_BIG_RUNS) after one untimed pair; the median
 *                of each. After all the 4 KiB phases: every target is started again
 *                (fresh data dir), all run at once, and the pairs go round them in turns
 *                (round r starts with the r-th target), so every target's median is of the
 *                same minute of the machine (target by target, minutes apart, the
 *                ceiling's own GET measured 1.3 GiB/s in one run and 4.0 in another).
 *                A `sync` first, so the earlier phases' dirty pages are not written back
 *                meanwhile.
 *   1M bucket    Nimbus only, last (so it cannot change the numbers above): the issue's
 *                "a bucket of 1,000,000 objects: the first ListObjectsV2 page and a page
 *                deep in the key space each in <= 5 ms of server time, and the PUT rate at
 *                1M objects within 20% of the rate in an empty bucket". PUT of 4 KiB
 *                objects for 3 s into a fresh empty bucket (the same runLoad as the PUT
 *                phase); then a bucket `million` is filled with BENCH_MILLION objects of
 *                16 bytes, keys k/0000000000, k/0000000001, ... (zero-padded, so the key
 *                space is ordered), over the HTTP API at the bench's concurrency (progress
 *                every 100k); then, on one connection, sequentially and after 5 untimed
 *                requests each, 50 ListObjectsV2 pages of 1000 keys each: the first page,
 *                pages after a start-after key 65-75% of the way in, and a walk by
 *                continuation token from 70%: p50/p99 in ms, every page checked (1000
 *                keys, the right first key). The server sends no timing header, so this
 *                client-measured loopback latency is the upper bound of server time that
 *                is checked. Last, PUT of 4 KiB objects for 3 s again, with new keys
 *                between the existing ones (k/0000123456/<random>), so they land in the
 *                middle of the index. Prints PASS/FAIL for p50 <= 5 ms and for a PUT
 *                rate ratio >= 0.8 (a FAIL does not change the exit status).
 *                nimbus-fsync skips it (the same index, only slower commits), and moto
 *                and s3rver cannot take 1M objects in reasonable time (a few hundred to a
 *                thousand PUT/s: 15+ minutes for the fill alone), nor does the ceiling
 *                store anything; their cells are n/a. Needs about 1 KiB of free disk per
 *                object in the temp dir (checked first); the data dir goes with the target.
 *
 * Every request is signed with SigV4 by bench/sigv4-client.ts (Nimbus verifies it;
 * moto and s3rver do not). The load generator runs in this process and shares the
 * machine with the target, which the ceiling row makes visible; the console also
 * shows the CPU (in cores, from /proc) used per phase by the server, by the bench
 * process and by everything else on the machine, to tell a busy server from a busy
 * client, an idle, waiting one, or a phase that shared the machine with other work.
 * After the timed phases, a key and a query value that need percent-encoding are
 * PUT/GET/LISTed once to check that the signer and the server agree (notes only).
 *
 * Env: BENCH_SECONDS (default 5) per timed phase, BENCH_TARGETS (default
 * nimbus,moto,s3rver,ceiling), BENCH_CONCURRENCY (16), BENCH_BIG_MIB (256),
 * BENCH_MILLION (1000000) objects in the 1M-bucket phase, 0 to skip it,
 * BENCH_WARMUP_SECONDS (1) of untimed load before each 4 KiB phase,
 * BENCH_BIG_RUNS (5) big PUT/GET pairs (the median is reported), after
 * BENCH_BIG_WARMUP_RUNS (1) untimed ones,
 * BENCH_NO_WRITE=1 to skip writing docs/benchmarks.md.
 * Exit status is non-zero only if Nimbus itself fails; a failing peer gives "n/a".
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { S3Client, type S3Response } from './sigv4-client.js';
import { ALL_TARGETS, machineBusySeconds, REPO_ROOT, startTarget, treeCpuSeconds, treeRss, type RunningTarget, type StartOptions, type TargetName } from './targets.js';
import { summarise } from './prof-summary.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 256);
/**
 * Untimed warm-up before each of PUT/GET/HEAD/DELETE: the same load for this long (DELETE:
 * at most DELETE_WARMUP_MS, as it uses up objects). A fresh Node process is still compiling
 * its hot paths: in the first second of PUTs into a new Nimbus, two thirds of all the
 * requests slower than 4 ms of a 5 s run were measured, which is start-up, not the steady
 * state the p99 target is about. Every target gets the same warm-up.
 */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1) * 1000;
// DELETE's own code path was still slow for its first ~0.4 s after the PUTs, measured.
const DELETE_WARMUP_MS = 500;
/** Big PUT/GET pairs per target; the median of each is reported. */
// Five: with three, the first transfer of a process or connection (slower for every target,
// the ceiling too: 1.1-2.6 against 1.5-3.7 GiB/s for its next GETs) was often the median.
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 5);
// One untimed pair first, as the 4 KiB phases have theirs: the first transfers of a process
// ran at half speed while the JIT warmed up the server's file path and the bench client's
// (Nimbus, five 256 MiB GETs after a PUT: 1.1-1.6 GiB/s first, 2.8-3.7 by the third; after
// 1000 GETs of a 3 MiB object, 3.2-4.4 from the first).
const BIG_WARMUP_RUNS = Number(process.env.BENCH_BIG_WARMUP_RUNS ?? 1);
const LIST_KEYS = 2000;
const LOAD_AT_START = os.loadavg();
const BUCKET = 'bench';
const SMALL_BODY = randomBytes(4096);
const ZERO_CHUNK = Buffer.alloc(1 << 20);
const SMALL_TIMEOUT_MS = 30_000;
/** BENCH_PROFILE=<dir>: a CPU profile of the Nimbus server per phase (bench/cpu-prof-hook.ts). */
const PROFILE_DIR = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : undefined;
const BIG_TIMEOUT_MS = 120_000;
/** The 1M-object bucket phase (Nimbus only): objects in the filled bucket; 0 skips the phase. */
const MILLION = Number(process.env.BENCH_MILLION ?? 1_000_000);
const MILLION_BUCKET = 'million';
const MILLION_EMPTY_BUCKET = 'million-empty';
const MILLION_BODY = Buffer.from('0123456789abcdef'); // 16 bytes
const MILLION_PUT_MS = 3000;
const MILLION_LIST_WARMUP = 5;
const MILLION_LIST_SAMPLES = 50;
const MILLION_LIST_MAX_MS = 5;
/** Hand-written findings (profiles, what each change bought), appended to docs/benchmarks.md. */
const FINDINGS = path.join(REPO_ROOT, 'bench', 'findings.md');
const MILLION_PUT_RATIO_MIN = 0.8;
/** Above this much CPU used by other processes in a PUT window, the ratio gets a warning note. */
const MILLION_OTHER_CORES_MAX = 0.25;
const MILLION_FILL_PROGRESS = 100_000;
/** Give up on a fill that takes longer than this (something is badly wrong). */
const MILLION_FILL_TIMEOUT_MS = 20 * 60_000;
/** Free disk asked for before the fill: ~1 KiB an object (measured: well under) + the two 4 KiB PUT windows. */
const MILLION_DISK_BYTES = (n: number) => n * 1024 + 1024 * 1048576;

if (!(BIG_WARMUP_RUNS >= 0) || !Number.isInteger(BIG_WARMUP_RUNS)) {
  console.error(`BENCH_BIG_WARMUP_RUNS must be a whole number >= 0 (got ${process.env.BENCH_BIG_WARMUP_RUNS})`);
  process.exit(2);
}
if (!(WARMUP_MS >= 0)) {
  console.error(`BENCH_WARMUP_SECONDS must be a number >= 0 (got ${process.env.BENCH_WARMUP_SECONDS})`);
  process.exit(2);
}
for (const [k, v] of Object.entries({ BENCH_SECONDS: SECONDS, BENCH_CONCURRENCY: CONCURRENCY, BENCH_BIG_MIB: BIG_MIB, BENCH_BIG_RUNS: BIG_RUNS })) {
  if (!(v > 0)) {
    console.error(`${k} must be a positive number (got ${process.env[k]})`);
    process.exit(2);
  }
}
if (!Number.isInteger(MILLION) || MILLION < 0) {
  console.error(`BENCH_MILLION must be a whole number >= 0 (got ${process.env.BENCH_MILLION})`);
  process.exit(2);
}

/** 1000000 -> "1M", 50000 -> "50k": the object count in row labels. */
function countLabel(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}
const ML = countLabel(MILLION);

function parseTargets(): TargetName[] {
  const raw = process.env.BENCH_TARGETS;
  if (!raw) return [...ALL_TARGETS];
  const out: TargetName[] = [];
  for (const t of raw.split(',').map((s) => s.trim().toLowerCase())) {
    if (!t) continue;
    if (!(ALL_TARGETS as string[]).includes(t)) throw new Error(`unknown target "${t}" in BENCH_TARGETS`);
    out.push(t as TargetName);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Results

type Cell = { value: number; note?: string } | { na: string };

interface Metric {
  id: string;
  label: string;
  /** true: bigger is better (ops/s); false: smaller is better (ms, MiB). */
  higherBetter: boolean;
  digits: number;
}

const PHASES = ['PUT', 'GET', 'HEAD', 'DELETE'] as const;
const METRICS: Metric[] = [
  { id: 'startup', label: 'start-up (ms)', higherBetter: false, digits: 0 },
  { id: 'rss', label: 'idle RSS (MiB)', higherBetter: false, digits: 1 },
  ...PHASES.flatMap((p): Metric[] => [
    { id: `${p}.rate`, label: `${p} 4 KiB (ops/s)`, higherBetter: true, digits: 0 },
    { id: `${p}.p50`, label: `${p} p50 (ms)`, higherBetter: false, digits: 2 },
    { id: `${p}.p99`, label: `${p} p99 (ms)`, higherBetter: false, digits: 2 },
  ]),
  { id: 'LIST.rate', label: 'LIST 1000 keys (pages/s)', higherBetter: true, digits: 0 },
  { id: 'LIST.p50', label: 'LIST p50 (ms)', higherBetter: false, digits: 2 },
  { id: 'LIST.p99', label: 'LIST p99 (ms)', higherBetter: false, digits: 2 },
  { id: 'BIGPUT', label: `PUT ${BIG_MIB} MiB (MiB/s)`, higherBetter: true, digits: 1 },
  { id: 'BIGGET', label: `GET ${BIG_MIB} MiB (MiB/s)`, higherBetter: true, digits: 1 },
  ...(MILLION > 0
    ? [
        { id: 'M.empty.rate', label: 'empty bucket: PUT (ops/s)', higherBetter: true, digits: 0 },
        { id: 'M.full.rate', label: `${ML} bucket: PUT (ops/s)`, higherBetter: true, digits: 0 },
        { id: 'M.putRatio', label: `PUT rate at ${ML} / empty`, higherBetter: true, digits: 2 },
        { id: 'M.first.p50', label: `${ML} bucket: first LIST page p50 (ms)`, higherBetter: false, digits: 2 },
        { id: 'M.deep.p50', label: `${ML} bucket: deep LIST page p50 (ms)`, higherBetter: false, digits: 2 },
      ]
    : []),
];
/** The cells of the 1M-bucket phase (only Nimbus has them). */
const MILLION_IDS = METRICS.filter((m) => m.id.startsWith('M.')).map((m) => m.id);

class TargetResults {
  readonly cells = new Map<string, Cell>();
  readonly notes: string[] = [];
  failed = false;
  constructor(readonly name: TargetName) {}
  set(id: string, value: number): void {
    this.cells.set(id, { value });
  }
  na(ids: string[], reason: string): void {
    for (const id of ids) if (!this.cells.has(id)) this.cells.set(id, { na: reason });
    this.failed = true;
  }
  note(s: string): void {
    this.notes.push(s);
    console.log(`    note: ${s}`);
  }
}

// ---------------------------------------------------------------------------
// Load generation

interface LoadResult {
  ok: number;
  errors: number;
  elapsedS: number;
  p50: number;
  p99: number;
  firstError?: string;
  exhausted: boolean;
  /** CPU used during the phase, in cores (1.0 = one core busy), by the server and by this process. */
  serverCores: number;
  clientCores: number;
  /** CPU used meanwhile by everything else on the machine (e.g. someone else's test run), in cores. */
  otherCores: number;
}

/** Returned by an op when there is nothing left to do (e.g. no object left to delete). */
const EXHAUSTED = Symbol('exhausted');
type Op = (worker: number) => Promise<string | undefined | typeof EXHAUSTED>;

/**
 * Runs `op` in `concurrency` loops until `durationMs` has passed (or an op reports
 * EXHAUSTED). Each op resolves undefined on success or an error description.
 */
async function runLoad(durationMs: number, concurrency: number, op: Op, alive: () => string | undefined, pid: number): Promise<LoadResult> {
  const serverCpu0 = treeCpuSeconds(pid);
  const clientCpu0 = process.cpuUsage();
  const machineCpu0 = machineBusySeconds();
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let exhausted = false;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (w: number) => {
    while (!exhausted && performance.now() < deadline) {
      const t = performance.now();
      let err: string | undefined;
      try {
        const r = await op(w);
        if (r === EXHAUSTED) {
          exhausted = true;
          return;
        }
        err = r;
      } catch (e) {
        err = (e as Error).message;
      }
      if (err === undefined) {
        latencies.push(performance.now() - t);
      } else {
        errors++;
        firstError ??= err;
        // Give up early when nothing works (e.g. the server died) instead of spinning.
        if (latencies.length === 0 && errors >= 200) return;
        const dead = alive();
        if (dead) {
          firstError = `${firstError} (server ${dead})`;
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  const elapsedS = (performance.now() - start) / 1000;
  const clientCpu = process.cpuUsage(clientCpu0);
  const serverCores = (treeCpuSeconds(pid) - serverCpu0) / elapsedS;
  const clientCores = (clientCpu.user + clientCpu.system) / 1e6 / elapsedS;
  const otherCores = Math.max(0, (machineBusySeconds() - machineCpu0) / elapsedS - serverCores - clientCores);
  const sorted = Float64Array.from(latencies).sort();
  return { ok: latencies.length, errors, elapsedS, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), firstError, exhausted, serverCores, clientCores, otherCores };
}

/** The p-quantile (0..1) of sorted values, by rank floor(p * (n - 1)); NaN when empty. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]! : NaN;
}

/** Runs ops over a fixed list of items with `concurrency` loops (untimed set-up work). */
async function forEachConcurrent<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

function describe(r: S3Response): string {
  const body = r.body.toString('utf8').replace(/\s+/g, ' ').slice(0, 600);
  return `HTTP ${r.status}${body ? `: ${body}` : ''}`;
}

function expect(r: S3Response, ...statuses: number[]): string | undefined {
  return statuses.includes(r.status) ? undefined : describe(r);
}

const newKey = () => `obj/${randomBytes(8).toString('hex')}`;

function* zeroChunks(total: number): Generator<Buffer> {
  let left = total;
  while (left > 0) {
    const n = Math.min(left, ZERO_CHUNK.length);
    left -= n;
    yield n === ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, n);
  }
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');
}

function listQuery(token?: string): Record<string, string> {
  const q: Record<string, string> = { 'list-type': '2', 'max-keys': '1000' };
  if (token) q['continuation-token'] = token;
  return q;
}

function nextToken(body: string): string | undefined {
  if (!/<IsTruncated>\s*true\s*<\/IsTruncated>/.test(body)) return undefined;
  const m = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(body);
  return m ? unescapeXml(m[1]!) : undefined;
}

// ---------------------------------------------------------------------------
// Profiling (BENCH_PROFILE)

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts/stops the server's in-process CPU profiler around one phase; no-op unless profiling this target. */
class PhaseProfiler {
  readonly summaries: string[] = [];
  constructor(
    private readonly dir: string | undefined,
    private readonly target: TargetName,
    private pid = 0,
  ) {}
  attach(pid: number): void {
    this.pid = pid;
  }
  static options(dir: string | undefined, target: TargetName): StartOptions {
    if (!dir || !target.startsWith('nimbus')) return {};
    const d = path.join(dir, target);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    return { nodeArgs: ['--import', path.join(REPO_ROOT, 'dist', 'bench', 'cpu-prof-hook.js')], env: { NIMBUS_BENCH_PROF_DIR: d } };
  }
  private async signal(file: string): Promise<void> {
    const d = path.join(this.dir!, this.target);
    rmSync(path.join(d, file), { force: true });
    process.kill(this.pid, 'SIGUSR2');
    for (let i = 0; i < 500 && !existsSync(path.join(d, file)); i++) await sleepMs(10);
  }
  async around<T extends { ok?: number }>(phase: string, fn: () => Promise<T>, requests?: (r: T) => number): Promise<T> {
    if (!this.dir || !this.target.startsWith('nimbus') || !this.pid) return fn();
    const d = path.join(this.dir, this.target);
    writeFileSync(path.join(d, 'next'), phase);
    await this.signal('started');
    const r = await fn();
    await this.signal('stopped');
    const n = requests ? requests(r) : r.ok;
    const s = summarise(path.join(d, `${phase}.cpuprofile`), 20, n);
    this.summaries.push(s);
    console.log(s.replace(/^/gm, '      '));
    return r;
  }
}

// ---------------------------------------------------------------------------
// One target

async function benchTarget(name: TargetName): Promise<TargetResults> {
  const res = new TargetResults(name);
  const allIds = METRICS.map((m) => m.id);
  console.log(`\n== ${name}`);

  let t: RunningTarget;
  try {
    t = await startTarget(name, PhaseProfiler.options(PROFILE_DIR, name));
  } catch (e) {
    const reason = `start failed: ${(e as Error).message}`;
    console.log(`    ${reason}`);
    res.na(allIds, reason);
    return res;
  }
  res.set('startup', t.startupMs);
  res.set('rss', t.idleRssBytes / 1048576);
  console.log(`    port ${t.port}, pid ${t.pid}, start-up ${t.startupMs.toFixed(0)} ms, idle RSS ${(t.idleRssBytes / 1048576).toFixed(1)} MiB`);

  const prof = new PhaseProfiler(PROFILE_DIR, name);
  prof.attach(t.pid);
  const client = new S3Client('127.0.0.1', t.port, { maxSockets: CONCURRENCY });
  const alive = () => t.exited();
  const ms = SECONDS * 1000;
  try {
    const mk = await client.request({ method: 'PUT', path: `/${BUCKET}`, timeoutMs: SMALL_TIMEOUT_MS });
    const mkErr = expect(mk, 200);
    if (mkErr) {
      res.na(allIds.slice(2), `CreateBucket failed: ${mkErr}`);
      console.log(`    CreateBucket failed: ${mkErr}`);
      return res;
    }

    const live: string[] = [];
    const putOp: Op = async () => {
      const key = newKey();
      const r = await client.request({ method: 'PUT', path: `/${BUCKET}/${key}`, body: SMALL_BODY, timeoutMs: SMALL_TIMEOUT_MS });
      const err = expect(r, 200);
      if (!err) live.push(key);
      return err;
    };
    const pick = () => live[Math.floor(Math.random() * live.length)]!;
    const ops: Record<(typeof PHASES)[number], Op> = {
      PUT: putOp,
      GET: async () => {
        const r = await client.request({ method: 'GET', path: `/${BUCKET}/${pick()}`, timeoutMs: SMALL_TIMEOUT_MS });
        if (r.status === 200 && r.bytes !== SMALL_BODY.length) return `GET returned ${r.bytes} bytes, expected ${SMALL_BODY.length}`;
        return expect(r, 200);
      },
      HEAD: async () => {
        const r = await client.request({ method: 'HEAD', path: `/${BUCKET}/${pick()}`, timeoutMs: SMALL_TIMEOUT_MS });
        return expect(r, 200);
      },
      DELETE: async () => {
        const key = live.pop();
        if (key === undefined) return EXHAUSTED;
        const r = await client.request({ method: 'DELETE', path: `/${BUCKET}/${key}`, timeoutMs: SMALL_TIMEOUT_MS });
        return expect(r, 204, 200);
      },
    };

    // Untimed set-up and warm-up (JIT, connections): fill the new bucket with exactly
    // LIST_KEYS objects, check that a full listing sees them, then time LIST pages.
    // GET/HEAD/DELETE later also use these objects.
    {
      let setupErr: string | undefined;
      const missing = Array.from({ length: LIST_KEYS }, newKey);
      await forEachConcurrent(missing, CONCURRENCY, async (key) => {
        if (setupErr) return;
        try {
          const r = await client.request({ method: 'PUT', path: `/${BUCKET}/${key}`, body: SMALL_BODY, timeoutMs: SMALL_TIMEOUT_MS });
          const err = expect(r, 200);
          if (err) setupErr ??= `PUT: ${err}`;
          else live.push(key);
        } catch (e) {
          setupErr ??= `PUT: ${(e as Error).message}`;
        }
      });
      let counted = 0;
      let token: string | undefined;
      for (let page = 0; page < 100 && !setupErr; page++) {
        const r = await client.request({ method: 'GET', path: `/${BUCKET}`, query: listQuery(token), timeoutMs: SMALL_TIMEOUT_MS });
        const err = expect(r, 200);
        if (err) {
          setupErr = `ListObjectsV2: ${err}`;
          break;
        }
        const body = r.body.toString('utf8');
        counted += body.split('<Key>').length - 1;
        token = nextToken(body);
        if (!token) break;
      }
      if (setupErr) {
        res.na(['LIST.rate', 'LIST.p50', 'LIST.p99'], `LIST set-up failed: ${setupErr}`);
        console.log(`    LIST   n/a - set-up failed: ${setupErr}`);
      } else {
        if (counted !== LIST_KEYS && name !== 'ceiling') res.note(`LIST: listing the bucket returned ${counted} keys, expected ${LIST_KEYS}`);
        const tokens: Array<string | undefined> = new Array(CONCURRENCY).fill(undefined);
        const r = await prof.around('LIST', () => runLoad(ms, CONCURRENCY, async (w) => {
          const resp = await client.request({ method: 'GET', path: `/${BUCKET}`, query: listQuery(tokens[w]), timeoutMs: SMALL_TIMEOUT_MS });
          const err = expect(resp, 200);
          tokens[w] = err ? undefined : nextToken(resp.body.toString('utf8'));
          return err;
        }, alive, t.pid));
        record(res, 'LIST', r);
      }
    }

    for (const phase of PHASES) {
      if (t.exited()) {
        res.na(allIds.filter((id) => id.startsWith(phase)), `server ${t.exited()}`);
        continue;
      }
      if (phase !== 'PUT' && live.length === 0) {
        res.na([`${phase}.rate`, `${phase}.p50`, `${phase}.p99`], 'no objects from the PUT phase');
        continue;
      }
      // Untimed warm-up of the same load first (see WARMUP_MS).
      const warm = phase === 'DELETE' ? Math.min(WARMUP_MS, DELETE_WARMUP_MS) : WARMUP_MS;
      if (warm > 0) await runLoad(warm, CONCURRENCY, ops[phase], alive, t.pid);
      const r = await prof.around(phase, () => runLoad(ms, CONCURRENCY, ops[phase], alive, t.pid));
      record(res, phase, r);
      if (phase === 'DELETE' && r.exhausted) res.note(`DELETE ran out of objects after ${r.elapsedS.toFixed(2)} s (rate is over that time)`);
    }

    await signatureSanity(client, res);
    // Last, so that a million rows in the database cannot change the numbers above.
    if (name === 'nimbus' && MILLION > 0) await millionBucket(t, res, client, prof);
  } catch (e) {
    res.na(allIds, `harness error: ${(e as Error).stack ?? String(e)}`);
  } finally {
    client.close();
    if (t.exited()) res.note(`server ${t.exited()} before the end of the run; output: ${t.outputTail().trim().slice(-500)}`);
    await t.stop();
  }
  return res;
}

/** Stores `${phase}.rate/.p50/.p99` and prints them; false (and n/a cells) if more than 1% failed. */
function record(res: TargetResults, phase: string, r: LoadResult, label = phase): boolean {
  const total = r.ok + r.errors;
  const ids = [`${phase}.rate`, `${phase}.p50`, `${phase}.p99`];
  if (r.ok === 0 || r.errors > total * 0.01) {
    const reason = `${label}: ${r.errors} of ${total} requests failed; first: ${r.firstError ?? 'unknown'}`;
    res.na(ids, reason);
    console.log(`    ${label.padEnd(6)} n/a - ${reason}`);
    return false;
  }
  res.set(ids[0]!, r.ok / r.elapsedS);
  res.set(ids[1]!, r.p50);
  res.set(ids[2]!, r.p99);
  console.log(
    `    ${label.padEnd(6)} ${(r.ok / r.elapsedS).toFixed(0).padStart(7)} /s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.ok} ok in ${r.elapsedS.toFixed(2)} s; CPU cores: server ${r.serverCores.toFixed(2)}, bench ${r.clientCores.toFixed(2)}, other ${r.otherCores.toFixed(2)})`,
  );
  if (r.errors) res.note(`${label}: ${r.errors} of ${total} requests failed (under 1%, kept); first: ${r.firstError}`);
  return true;
}

/** One target of the big-transfer stage, with its samples so far. */
interface BigSlot {
  t: RunningTarget;
  res: TargetResults;
  client: S3Client;
  puts: number[];
  gets: number[];
  /** Set when the target failed: it takes no further turns. */
  done?: boolean;
}

/**
 * The 256 MiB transfers, after every target's 4 KiB phases: each target is started again
 * (fresh data dir) and all run at once, idle but for the one being measured, and the
 * PUT-then-GET pairs go round the targets: round 1 is every target's first pair, and so on,
 * each round starting one target further on. Run target by target, minutes apart, the
 * ceiling's own 256 MiB GET measured 1.3 GiB/s in one full run and 4.0 in another, so a
 * ratio to it mostly measured when each target's turn came; taken in turns, every target's
 * median is of the same stretch of the machine's time.
 */
async function bigStage(targets: TargetName[], results: Map<TargetName, TargetResults>): Promise<void> {
  const total = BIG_MIB * 1048576;
  const key = `big/object-${BIG_MIB}MiB`;
  const ids = ['BIGPUT', 'BIGGET'];
  console.log(`
== ${BIG_MIB} MiB transfers (${targets.join(', ')} in turns)`);
  const slots: BigSlot[] = [];
  for (const name of targets) {
    const res = results.get(name)!;
    try {
      const t = await startTarget(name);
      const client = new S3Client('127.0.0.1', t.port, { maxSockets: 1 });
      slots.push({ t, res, client, puts: [], gets: [] });
      const mk = await client.request({ method: 'PUT', path: `/${BUCKET}`, timeoutMs: SMALL_TIMEOUT_MS });
      const err = expect(mk, 200);
      if (err) {
        res.na(ids, `CreateBucket failed: ${err}`);
        slots.at(-1)!.done = true;
      }
    } catch (e) {
      res.na(ids, `start failed: ${(e as Error).message}`);
    }
  }
  // The 4 KiB phases leave dirty pages that the kernel writes back ~30 s later: flushed first.
  spawnSync('sync', [], { stdio: 'ignore', timeout: 60_000 });
  const fail = (s: BigSlot, which: string[], why: string) => {
    s.res.na(which, why);
    s.done = true;
  };
  try {
    for (let run = -BIG_WARMUP_RUNS; run < BIG_RUNS; run++) {
      const round = run + BIG_WARMUP_RUNS;
      for (let i = 0; i < slots.length; i++) {
        const s = slots[(round + i) % slots.length]!;
        if (s.done) continue;
        if (s.t.exited()) {
          fail(s, ids, `server ${s.t.exited()}`);
          continue;
        }
        let t0 = performance.now();
        try {
          const r = await s.client.request({
            method: 'PUT',
            path: `/${BUCKET}/${key}`,
            stream: { length: total, chunks: zeroChunks(total) },
            timeoutMs: BIG_TIMEOUT_MS,
          });
          const err = expect(r, 200);
          if (err) {
            fail(s, ids, `PUT ${BIG_MIB} MiB: ${err}`);
            continue;
          }
          if (run >= 0) s.puts.push(BIG_MIB / ((performance.now() - t0) / 1000));
        } catch (e) {
          fail(s, ids, `PUT ${BIG_MIB} MiB: ${(e as Error).message}`);
          continue;
        }
        t0 = performance.now();
        try {
          const r = await s.client.request({ method: 'GET', path: `/${BUCKET}/${key}`, drain: true, timeoutMs: BIG_TIMEOUT_MS });
          if (r.status !== 200) fail(s, ['BIGGET'], `GET ${BIG_MIB} MiB: HTTP ${r.status}`);
          else if (r.bytes !== total) fail(s, ['BIGGET'], `GET ${BIG_MIB} MiB: got ${r.bytes} bytes, expected ${total}`);
          else if (run >= 0) s.gets.push(BIG_MIB / ((performance.now() - t0) / 1000));
        } catch (e) {
          fail(s, ['BIGGET'], `GET ${BIG_MIB} MiB: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const all = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    for (const s of slots) {
      s.client.close();
      if (s.t.exited()) s.res.note(`server ${s.t.exited()} during the ${BIG_MIB} MiB transfers; output: ${s.t.outputTail().trim().slice(-500)}`);
      await s.t.stop();
      // Only complete series are reported (a target that failed part-way has n/a cells).
      const line = [];
      if (s.puts.length === BIG_RUNS) {
        s.res.set('BIGPUT', median(s.puts));
        line.push(`PUT ${median(s.puts).toFixed(1)} MiB/s (median of ${all(s.puts)})`);
      }
      if (s.gets.length === BIG_RUNS) {
        s.res.set('BIGGET', median(s.gets));
        line.push(`GET ${median(s.gets).toFixed(1)} MiB/s (median of ${all(s.gets)})`);
      }
      console.log(`    ${s.res.name.padEnd(12)} ${line.join('  ')}`);
    }
  }
}

/**
 * Not timed: one object whose key needs percent-encoding and a listing with an
 * encoded query value, to show that the signer's canonical URI and query agree
 * with the server's. Failures become notes (they matter for Nimbus, which checks).
 */
async function signatureSanity(client: S3Client, res: TargetResults): Promise<void> {
  if (res.name === 'ceiling') return;
  const key = 'sig check/ä b+c=(1)~!*.txt';
  try {
    const put = await client.request({ method: 'PUT', path: `/${BUCKET}/${key}`, body: SMALL_BODY, timeoutMs: SMALL_TIMEOUT_MS });
    if (put.status !== 200) return res.note(`signing sanity: PUT "${key}" -> ${describe(put)}`);
    const get = await client.request({ method: 'GET', path: `/${BUCKET}/${key}`, timeoutMs: SMALL_TIMEOUT_MS });
    if (get.status !== 200 || !get.body.equals(SMALL_BODY)) return res.note(`signing sanity: GET "${key}" -> ${describe(get)}`);
    const list = await client.request({
      method: 'GET',
      path: `/${BUCKET}`,
      query: { 'list-type': '2', prefix: 'sig check/ä', 'max-keys': '10' },
      timeoutMs: SMALL_TIMEOUT_MS,
    });
    if (list.status !== 200) return res.note(`signing sanity: LIST prefix="sig check/ä" -> ${describe(list)}`);
    const del = await client.request({ method: 'DELETE', path: `/${BUCKET}/${key}`, timeoutMs: SMALL_TIMEOUT_MS });
    if (del.status !== 204 && del.status !== 200) return res.note(`signing sanity: DELETE "${key}" -> ${describe(del)}`);
  } catch (e) {
    res.note(`signing sanity: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// The 1M-object bucket (Nimbus only, last)

const millionKey = (i: number) => `k/${String(i).padStart(10, '0')}`;
/** A new key between two filled ones: k/0000123456 < k/0000123456/<random> < k/0000123457. */
const millionMidKey = () => `${millionKey(Math.floor(Math.random() * MILLION))}/${randomBytes(6).toString('hex')}`;
const mib = (bytes: number) => (bytes / 1048576).toFixed(0);

/**
 * Flushes the file system of `dir` (sync -f), so that no window starts with the writeback of
 * an earlier phase pending (the 256 MiB object before the empty-bucket window, the fill before
 * the full one) and both start alike; then waits (up to maxMs) until the server's process tree
 * is idle, e.g. done with a WAL checkpoint.
 */
async function settle(pid: number, dir: string, maxMs = 10_000): Promise<void> {
  spawnSync('sync', ['-f', dir], { stdio: 'ignore', timeout: 60_000 });
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const c0 = treeCpuSeconds(pid);
    await sleepMs(250);
    if ((treeCpuSeconds(pid) - c0) / 0.25 < 0.05) return;
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) total += dirBytes(p);
      else if (e.isFile()) total += statSync(p).size;
    } catch {
      /* removed meanwhile */
    }
  }
  return total;
}

/** A ListObjectsV2 page of the filled bucket must hold the next 1000 keys from firstIdx, in order. */
function checkMillionPage(body: string, firstIdx: number): string | undefined {
  const keys = Array.from(body.matchAll(/<Key>([^<]*)<\/Key>/g), (m) => m[1]!);
  const want = Math.max(0, Math.min(1000, MILLION - firstIdx));
  if (keys.length !== want) return `${keys.length} keys, expected ${want}`;
  if (want && keys[0] !== millionKey(firstIdx)) return `first key ${keys[0]}, expected ${millionKey(firstIdx)}`;
  if (want && keys[want - 1] !== millionKey(firstIdx + want - 1)) return `last key ${keys[want - 1]}, expected ${millionKey(firstIdx + want - 1)}`;
  return undefined;
}

interface ListSeries {
  ok: number;
  p50: number;
  p99: number;
  error?: string;
}

/**
 * Sequential ListObjectsV2 requests on one connection: MILLION_LIST_WARMUP untimed, then
 * MILLION_LIST_SAMPLES timed (send to last body byte). `next` gives each request's query and
 * the index of the key the page must start with; it sees the previous page's body.
 */
async function listSeries(
  one: S3Client,
  label: string,
  next: (prev: string | undefined, j: number) => { query: Record<string, string>; firstIdx: number },
): Promise<ListSeries> {
  const latencies: number[] = [];
  let prev: string | undefined;
  for (let j = 0; j < MILLION_LIST_WARMUP + MILLION_LIST_SAMPLES; j++) {
    const { query, firstIdx } = next(prev, j);
    const t0 = performance.now();
    let r: S3Response;
    try {
      r = await one.request({ method: 'GET', path: `/${MILLION_BUCKET}`, query, timeoutMs: SMALL_TIMEOUT_MS });
    } catch (e) {
      return { ok: latencies.length, p50: NaN, p99: NaN, error: `${label}: ${(e as Error).message}` };
    }
    const ms = performance.now() - t0;
    const err = expect(r, 200);
    if (err) return { ok: latencies.length, p50: NaN, p99: NaN, error: `${label}: ${err}` };
    prev = r.body.toString('utf8');
    const bad = checkMillionPage(prev, firstIdx);
    if (bad) return { ok: latencies.length, p50: NaN, p99: NaN, error: `${label}, request ${j}: ${bad}` };
    if (j >= MILLION_LIST_WARMUP) latencies.push(ms);
  }
  const sorted = Float64Array.from(latencies).sort();
  return { ok: latencies.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/**
 * The issue's requirement for a bucket of 1,000,000 objects (see the header): PUT rate in an
 * empty bucket, the fill, first and deep ListObjectsV2 pages, PUT rate in the full bucket.
 */
async function millionBucket(t: RunningTarget, res: TargetResults, client: S3Client, prof: PhaseProfiler): Promise<void> {
  const fail = (why: string) => {
    res.na(MILLION_IDS, `${ML} bucket: ${why}`);
    console.log(`    ${ML} bucket: n/a - ${why}`);
  };
  if (t.exited()) return fail(`server ${t.exited()}`);
  const fsStat = statfsSync(t.dataDir);
  const free = fsStat.bavail * fsStat.bsize;
  const need = MILLION_DISK_BYTES(MILLION);
  if (free < need) return fail(`${mib(free)} MiB free under ${t.dataDir}; ${MILLION} objects need about ${mib(need)} MiB`);
  for (const b of [MILLION_EMPTY_BUCKET, MILLION_BUCKET]) {
    const err = expect(await client.request({ method: 'PUT', path: `/${b}`, timeoutMs: SMALL_TIMEOUT_MS }), 200);
    if (err) return fail(`CreateBucket ${b}: ${err}`);
  }
  console.log(`    ${ML}-object bucket (${MILLION} objects; ${mib(free)} MiB free in the temp dir):`);
  const alive = () => t.exited();
  const putInto =
    (bucket: string): Op =>
    async () =>
      expect(await client.request({ method: 'PUT', path: `/${bucket}/${millionMidKey()}`, body: SMALL_BODY, timeoutMs: SMALL_TIMEOUT_MS }), 200);

  // 1. PUT 4 KiB into an empty bucket, the baseline.
  await settle(t.pid, t.dataDir);
  const empty = await prof.around('M-PUT-empty', () => runLoad(MILLION_PUT_MS, CONCURRENCY, putInto(MILLION_EMPTY_BUCKET), alive, t.pid));
  const emptyOk = record(res, 'M.empty', empty, 'PUT empty');

  // 2. Fill: keys in ascending order, CONCURRENCY requests in flight.
  const cpu0 = treeCpuSeconds(t.pid);
  const clientCpu0 = process.cpuUsage();
  const machineCpu0 = machineBusySeconds();
  const t0 = performance.now();
  let lastT = t0;
  let lastDone = 0;
  let next = 0;
  let done = 0;
  let fillErr: string | undefined;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (fillErr === undefined && next < MILLION) {
        const key = millionKey(next++);
        try {
          const r = await client.request({ method: 'PUT', path: `/${MILLION_BUCKET}/${key}`, body: MILLION_BODY, timeoutMs: SMALL_TIMEOUT_MS });
          const err = expect(r, 200);
          if (err) fillErr ??= `fill: PUT ${key}: ${err}`;
        } catch (e) {
          fillErr ??= `fill: PUT ${key}: ${(e as Error).message}${t.exited() ? ` (server ${t.exited()})` : ''}`;
        }
        if (fillErr !== undefined) return;
        done++;
        const now = performance.now();
        if (done % MILLION_FILL_PROGRESS === 0 && done < MILLION) {
          console.log(
            `      fill ${String(done).padStart(String(MILLION).length)} / ${MILLION}: ${((done - lastDone) / ((now - lastT) / 1000)).toFixed(0)} PUT/s now, ${(done / ((now - t0) / 1000)).toFixed(0)} PUT/s overall`,
          );
          lastT = now;
          lastDone = done;
        }
        if (now - t0 > MILLION_FILL_TIMEOUT_MS) fillErr ??= `fill: gave up after ${done} objects in ${((now - t0) / 1000).toFixed(0)} s`;
      }
    }),
  );
  const fillS = (performance.now() - t0) / 1000;
  if (fillErr !== undefined) return fail(fillErr);
  const fillCpu = process.cpuUsage(clientCpu0);
  const serverCores = (treeCpuSeconds(t.pid) - cpu0) / fillS;
  const clientCores = (fillCpu.user + fillCpu.system) / 1e6 / fillS;
  const otherCores = Math.max(0, (machineBusySeconds() - machineCpu0) / fillS - serverCores - clientCores);
  const diskBytes = dirBytes(t.dataDir);
  console.log(
    `      fill ${MILLION} / ${MILLION}: ${(MILLION / fillS).toFixed(0)} PUT/s of ${MILLION_BODY.length} B over ${fillS.toFixed(1)} s (CPU cores: server ${serverCores.toFixed(2)}, bench ${clientCores.toFixed(2)}, other ${otherCores.toFixed(2)}); data dir ${mib(diskBytes)} MiB, server RSS ${mib(treeRss(t.pid))} MiB`,
  );
  res.note(
    `${ML} bucket: filled with ${MILLION} objects of ${MILLION_BODY.length} B in ${fillS.toFixed(1)} s (${(MILLION / fillS).toFixed(0)} PUT/s, ${CONCURRENCY} clients); data dir ${mib(diskBytes)} MiB after the fill`,
  );

  // 3. ListObjectsV2, one connection, sequential. Client latency on loopback >= server time.
  await settle(t.pid, t.dataDir);
  const one = new S3Client('127.0.0.1', t.port, { maxSockets: 1 });
  let first: ListSeries;
  let deepAfter: ListSeries;
  let deepToken: ListSeries;
  try {
    const total = MILLION_LIST_WARMUP + MILLION_LIST_SAMPLES;
    first = await prof.around('M-LIST-first', () => listSeries(one, 'first page', () => ({ query: listQuery(), firstIdx: 0 })));
    // start-after keys spread over 65-75% of the key space, a different page each time.
    deepAfter = await prof.around('M-LIST-start-after', () =>
      listSeries(one, 'start-after page', (_prev, j) => {
        const pos = Math.floor(MILLION * (0.65 + (0.1 * j) / total));
        return { query: { ...listQuery(), 'start-after': millionKey(pos) }, firstIdx: pos + 1 };
      }),
    );
    // A walk by continuation token from 70% (the first, untimed request starts after that key).
    const from = Math.floor(MILLION * 0.7);
    let idx = from + 1;
    let token: string | undefined;
    deepToken = await prof.around('M-LIST-token', () =>
      listSeries(one, 'continuation-token page', (prev) => {
        if (prev !== undefined) {
          token = nextToken(prev);
          idx = token ? idx + 1000 : from + 1; // at the end of the bucket: start again at 70%
        }
        return token ? { query: listQuery(token), firstIdx: idx } : { query: { ...listQuery(), 'start-after': millionKey(from) }, firstIdx: from + 1 };
      }),
    );
  } finally {
    one.close();
  }
  const listLine = (label: string, r: ListSeries) =>
    console.log(
      r.error
        ? `    LIST ${label}: n/a - ${r.error}`
        : `    LIST ${label.padEnd(30)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.ok} sequential requests, 1 connection)`,
    );
  listLine('first page', first);
  listLine('start-after 65-75%', deepAfter);
  listLine('continuation token from 70%', deepToken);
  if (first.error) res.na(['M.first.p50'], `${ML} bucket: ${first.error}`);
  else res.set('M.first.p50', first.p50);
  const deepErr = deepAfter.error ?? deepToken.error;
  // The deep row is the slower of the two ways of asking for a deep page.
  if (deepErr) res.na(['M.deep.p50'], `${ML} bucket: ${deepErr}`);
  else res.set('M.deep.p50', Math.max(deepAfter.p50, deepToken.p50));

  // 4. PUT 4 KiB with new keys between the filled ones, the same window as the baseline.
  await settle(t.pid, t.dataDir);
  const full = await prof.around('M-PUT-full', () => runLoad(MILLION_PUT_MS, CONCURRENCY, putInto(MILLION_BUCKET), alive, t.pid));
  const fullOk = record(res, 'M.full', full, `PUT ${ML}`);
  const emptyRate = empty.ok / empty.elapsedS;
  const fullRate = full.ok / full.elapsedS;
  if (emptyOk && fullOk) res.set('M.putRatio', fullRate / emptyRate);
  else res.na(['M.putRatio'], `${ML} bucket: a PUT window failed`);

  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log(`    checks (LIST: client latency of sequential requests on loopback, an upper bound of server time):`);
  if (!first.error) {
    console.log(`      first LIST page p50 ${first.p50.toFixed(2)} ms <= ${MILLION_LIST_MAX_MS} ms (p99 ${first.p99.toFixed(2)} ms): ${verdict(first.p50 <= MILLION_LIST_MAX_MS)}`);
  }
  if (!deepErr) {
    const deep = Math.max(deepAfter.p50, deepToken.p50);
    console.log(
      `      deep LIST page p50 ${deep.toFixed(2)} ms <= ${MILLION_LIST_MAX_MS} ms (start-after p50 ${deepAfter.p50.toFixed(2)} / p99 ${deepAfter.p99.toFixed(2)} ms, continuation token p50 ${deepToken.p50.toFixed(2)} / p99 ${deepToken.p99.toFixed(2)} ms): ${verdict(deep <= MILLION_LIST_MAX_MS)}`,
    );
  }
  if (emptyOk && fullOk) {
    const ratio = fullRate / emptyRate;
    console.log(
      `      PUT rate at ${ML} / empty ${fullRate.toFixed(0)} / ${emptyRate.toFixed(0)} = ${ratio.toFixed(2)} >= ${MILLION_PUT_RATIO_MIN}: ${verdict(ratio >= MILLION_PUT_RATIO_MIN)}`,
    );
    // A ratio of two short windows means little if something else took CPU in one of them.
    const other = Math.max(empty.otherCores, full.otherCores);
    if (other > MILLION_OTHER_CORES_MAX) {
      res.note(
        `${ML} bucket: other processes used ${empty.otherCores.toFixed(2)} / ${full.otherCores.toFixed(2)} CPU cores during the empty / ${ML} PUT windows, so the PUT rate ratio is not a clean comparison`,
      );
    }
  }
}

// ---------------------------------------------------------------------------
// Report

function fmt(v: number, digits: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toFixed(digits);
}

/**
 * The targets Nimbus is held to (the S3 hot-path issue), checked on this run's numbers:
 * [what, measured, PASS/FAIL], or "n/a" when a number is missing (a peer not run).
 */
function targetChecks(results: Map<TargetName, TargetResults>): string[][] {
  const v = (t: TargetName, id: string): number | undefined => {
    const c = results.get(t)?.cells.get(id);
    return c && 'value' in c ? c.value : undefined;
  };
  const out: string[][] = [['target', 'this run', 'verdict']];
  const ratio = (what: string, id: string, peer: TargetName, min: number, percent = false) => {
    const n = v('nimbus', id);
    const p = v(peer, id);
    if (n === undefined || p === undefined || p === 0) return out.push([what, 'n/a', 'n/a']);
    const r = n / p;
    out.push([what, percent ? `${(r * 100).toFixed(0)}%` : `${r.toFixed(1)}x`, r >= min ? 'PASS' : 'FAIL']);
  };
  const bound = (what: string, value: number | undefined, max: number, unit: string, digits = 0) => {
    if (value === undefined) return out.push([what, 'n/a', 'n/a']);
    out.push([what, `${value.toFixed(digits)}${unit}`, value <= max ? 'PASS' : 'FAIL']);
  };
  ratio('PUT >= 6x moto', 'PUT.rate', 'moto', 6);
  ratio('PUT >= 3x s3rver', 'PUT.rate', 's3rver', 3);
  ratio('PUT >= 40% of the ceiling', 'PUT.rate', 'ceiling', 0.4, true);
  for (const p of ['GET', 'HEAD']) {
    ratio(`${p} >= 10x moto`, `${p}.rate`, 'moto', 10);
    ratio(`${p} >= 55% of the ceiling`, `${p}.rate`, 'ceiling', 0.55, true);
  }
  ratio('DELETE >= 6x moto', 'DELETE.rate', 'moto', 6);
  ratio('LIST >= 50x moto', 'LIST.rate', 'moto', 50);
  ratio(`PUT ${BIG_MIB} MiB >= 70% of the ceiling`, 'BIGPUT', 'ceiling', 0.7, true);
  ratio(`GET ${BIG_MIB} MiB >= 70% of the ceiling`, 'BIGGET', 'ceiling', 0.7, true);
  for (const p of PHASES) {
    const p50 = v('nimbus', `${p}.p50`);
    const p99 = v('nimbus', `${p}.p99`);
    bound(`${p} p99 <= 4x p50`, p50 && p99 !== undefined ? p99 / p50 : undefined, 4, 'x', 2);
  }
  if (MILLION > 0) {
    bound(`${ML} bucket: first LIST page <= ${MILLION_LIST_MAX_MS} ms`, v('nimbus', 'M.first.p50'), MILLION_LIST_MAX_MS, ' ms', 2);
    bound(`${ML} bucket: deep LIST page <= ${MILLION_LIST_MAX_MS} ms`, v('nimbus', 'M.deep.p50'), MILLION_LIST_MAX_MS, ' ms', 2);
    const r = v('nimbus', 'M.putRatio');
    out.push([`PUT rate at ${ML} within 20% of empty`, r === undefined ? 'n/a' : r.toFixed(2), r === undefined ? 'n/a' : r >= MILLION_PUT_RATIO_MIN ? 'PASS' : 'FAIL']);
  }
  bound('start-up <= 300 ms', v('nimbus', 'startup'), 300, ' ms');
  bound('idle RSS <= 80 MB', v('nimbus', 'rss') === undefined ? undefined : (v('nimbus', 'rss')! * 1048576) / 1e6, 80, ' MB', 1);
  return out;
}

function buildTable(targets: TargetName[], results: Map<TargetName, TargetResults>): string[][] {
  const peers = (['moto', 's3rver', 'ceiling'] as TargetName[]).filter((p) => targets.includes(p));
  const withRatios = targets.includes('nimbus');
  const header = ['metric', ...targets, ...(withRatios ? peers.map((p) => `nimbus/${p}`) : [])];
  const rows: string[][] = [header];
  for (const m of METRICS) {
    const row = [m.label];
    for (const t of targets) {
      const c = results.get(t)?.cells.get(m.id);
      row.push(!c ? 'n/a' : 'na' in c ? 'n/a' : fmt(c.value, m.digits));
    }
    if (withRatios) {
      const n = results.get('nimbus')?.cells.get(m.id);
      for (const p of peers) {
        const c = results.get(p)?.cells.get(m.id);
        if (!n || !c || 'na' in n || 'na' in c || c.value === 0) row.push('n/a');
        else row.push(`${(n.value / c.value).toFixed(2)}x`);
      }
    }
    rows.push(row);
  }
  return rows;
}

function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function markdownTable(rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  const sep = `|${rows[0]!.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

function machine(): Record<string, string> {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  const require = createRequire(import.meta.url);
  let s3rverVersion = 'unknown';
  try {
    s3rverVersion = (JSON.parse(readFileSync(require.resolve('s3rver/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* not installed */
  }
  const moto = spawnSync('python3', ['-c', 'import moto, sys; print(moto.__version__, sys.version.split()[0])'], { encoding: 'utf8' });
  const [motoVersion, pyVersion] = moto.status === 0 ? moto.stdout.trim().split(' ') : ['not installed', '?'];
  return {
    CPU: cpu,
    cores: String(os.availableParallelism?.() ?? os.cpus().length),
    memory: `${(os.totalmem() / 1073741824).toFixed(1)} GiB`,
    OS: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    moto: `${motoVersion} (python ${pyVersion})`,
    s3rver: s3rverVersion,
    date: new Date().toISOString(),
    'load average at start (1/5/15 min)': LOAD_AT_START.map((l) => l.toFixed(2)).join(' / '),
  };
}

function commandLine(): string {
  const env = ['BENCH_SECONDS', 'BENCH_TARGETS', 'BENCH_CONCURRENCY', 'BENCH_BIG_MIB', 'BENCH_BIG_RUNS', 'BENCH_BIG_WARMUP_RUNS', 'BENCH_MILLION', 'BENCH_WARMUP_SECONDS']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => `${k}=${process.env[k]}`);
  const cmd = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node dist/bench/run.js';
  return [...env, cmd].join(' ');
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const targets = parseTargets();
  const started = performance.now();
  console.log(
    `Nimbus S3 bench: targets ${targets.join(', ')}; ${SECONDS} s per phase, ${CONCURRENCY} clients, ${BIG_MIB} MiB big object${MILLION > 0 && targets.includes('nimbus') ? `, ${ML}-object bucket for nimbus` : ''}`,
  );
  if (LOAD_AT_START[0]! > 0.5) {
    console.log(`warning: 1-minute load average is ${LOAD_AT_START[0]!.toFixed(2)}; other work on this machine will skew the numbers`);
  }
  const results = new Map<TargetName, TargetResults>();
  for (const t of targets) results.set(t, await benchTarget(t));
  await bigStage(targets, results);

  const rows = buildTable(targets, results);
  const checks = targets.includes('nimbus') ? targetChecks(results) : [];
  console.log('\n' + textTable(rows));
  const notes: string[] = [];
  for (const t of targets) {
    const r = results.get(t)!;
    const reasons = new Set<string>();
    for (const c of r.cells.values()) if ('na' in c) reasons.add(c.na);
    for (const reason of reasons) notes.push(`${t}: n/a - ${reason}`);
    for (const n of r.notes) notes.push(`${t}: ${n}`);
  }
  const others = targets.filter((t) => t !== 'nimbus');
  if (MILLION > 0 && others.length) {
    notes.push(
      `${others.join(', ')}: no ${ML}-bucket rows - that phase runs for nimbus only (nimbus-fsync has the same index with slower commits; moto and s3rver cannot take ${MILLION} objects in reasonable time; the ceiling stores nothing)`,
    );
  }
  if (notes.length) console.log('\nNotes:\n' + notes.map((n) => `- ${n}`).join('\n'));
  if (checks.length) console.log('\nTargets:\n' + textTable(checks));
  // Lambda: cold start and warm-invoke overhead of the execution engine (bench/lambda.ts).
  console.log('\nLambda engine bench (node dist/bench/lambda.js)…');
  const lam = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'bench', 'lambda.js')], { encoding: 'utf8', env: process.env });
  const lambdaTable = lam.status === 0 ? lam.stdout.trim() : `(the Lambda bench failed: ${lam.stderr.trim().split('\n').slice(-3).join(' ')})`;
  console.log(lambdaTable);
  console.log(`\nTotal run time ${((performance.now() - started) / 1000).toFixed(1)} s`);

  if (!process.env.BENCH_NO_WRITE) {
    const mach = machine();
    const md = [
      '# Benchmarks',
      '',
      'Generated by the harness in `bench/` (see the header of `bench/run.ts`). Numbers are from one run on the machine below;',
      'the load generator runs on the same machine as the server, so they compare targets with each other, not with real S3.',
      '',
      '## Command',
      '',
      '```sh',
      commandLine(),
      '```',
      '',
      '## Machine',
      '',
      ...Object.entries(mach).map(([k, v]) => `- ${k}: ${v}`),
      '',
      '## What is measured',
      '',
      `- Each target runs alone in its own process on a free port with a fresh temp data dir, started and stopped by the harness (the big transfers excepted: below).`,
      `- start-up: spawn to the first good HTTP answer (Nimbus: \`GET /_nimbus/health\` 200; moto: \`GET /moto-api/\`; s3rver and ceiling: \`GET /\`).`,
      `- idle RSS: VmRSS of the target's process tree after start-up and a 1 s pause.`,
      `- PUT/GET/HEAD/DELETE: 4 KiB objects with random keys, ${CONCURRENCY} concurrent keep-alive clients for ${SECONDS} s per phase, each after ${WARMUP_MS / 1000} s of the same load untimed (DELETE: ${Math.min(WARMUP_MS, DELETE_WARMUP_MS) / 1000} s, as it uses up objects; the first second of a fresh process is mostly JIT warm-up); ops/s and p50/p99 latency.`,
      `- LIST: ListObjectsV2 (\`GET /bench?list-type=2&max-keys=1000\`, then the continuation token) over a bucket holding exactly ${LIST_KEYS} keys, ${CONCURRENCY} clients; pages/s.`,
      `- PUT/GET ${BIG_MIB} MiB: one object streamed on one connection (UNSIGNED-PAYLOAD, Content-Length); MiB/s, the median of ${BIG_RUNS} PUT-then-GET pairs of the same key after ${BIG_WARMUP_RUNS} untimed (one sample of under a second swung by ±30% between runs). Done last, with every target started again (fresh data dirs) and all running at once, idle but for the one measured: the pairs go round the targets in turns, each round starting one target further on, so that every target's median is of the same stretch of the machine's time (taken target by target, minutes apart, the ceiling's own 256 MiB GET measured 1.3 GiB/s in one full run and 4.0 in another). A \`sync\` first, so that no transfer shares the disk with the kernel's writeback of the earlier phases.`,
      ...(MILLION > 0
        ? [
            `- ${ML} bucket (Nimbus only): PUT 4 KiB objects for ${MILLION_PUT_MS / 1000} s into an empty bucket; fill a bucket with ${MILLION} objects of ${MILLION_BODY.length} B (keys \`k/0000000000\` upwards, ${CONCURRENCY} clients, over HTTP); on one connection, ${MILLION_LIST_SAMPLES} sequential ListObjectsV2 pages of 1000 keys (after ${MILLION_LIST_WARMUP} untimed) for the first page, for start-after keys 65-75% of the way in and for a continuation-token walk from 70% (the deep row is the slower p50 of the two); then PUT 4 KiB for ${MILLION_PUT_MS / 1000} s again with new keys between the filled ones. The target: both pages <= ${MILLION_LIST_MAX_MS} ms of server time, PUT rate at ${ML} / empty >= ${MILLION_PUT_RATIO_MIN}. The server sends no timing header, so the LIST times are client latencies on loopback, an upper bound of server time.`,
          ]
        : []),
      `- The phase order per target is: fill 2000 objects (untimed warm-up), LIST, PUT, GET, HEAD, DELETE${MILLION > 0 ? `, then for Nimbus the ${ML} bucket` : ''}; then the big PUT/GET pairs of all targets in turns. A DELETE phase that runs out of objects ends early; its rate is over the time it ran.`,
      '- All requests are SigV4-signed (path-style, access key `test`); Nimbus verifies signatures, moto and s3rver do not.',
      '- ceiling: a no-op Node HTTP server (`bench/ceiling.ts`) - the most this client and loopback allow.',
      '- Ratios are Nimbus divided by the peer: above 1 is better for ops/s, pages/s and MiB/s; below 1 is better for ms and MiB.',
      '',
      '## Results',
      '',
      markdownTable(rows),
      '',
      ...(checks.length ? ['## Targets', '', 'The S3 hot-path targets, checked on the numbers above:', '', markdownTable(checks), ''] : []),
      ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n.replace(/\|/g, '\\|')}`), ''] : []),
      ...(existsSync(FINDINGS) ? [readFileSync(FINDINGS, 'utf8').trim(), ''] : []),
      '## Lambda',
      '',
      'Cold start (spawn, runtime init, handler import, first invocation) and warm-invoke overhead (the',
      "engine's round trip around a handler that returns at once) of `LambdaEngine.invoke`, with plain",
      'processes and inside bubblewrap where it works. Targets: cold start ≤ 150 ms, warm overhead ≤ 2 ms p50.',
      '',
      lambdaTable,
      '',
      `Total run time: ${((performance.now() - started) / 1000).toFixed(1)} s.`,
      '',
    ].join('\n');
    const out = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
    writeFileSync(out, md);
    console.log(`Wrote ${path.relative(process.cwd(), out) || out}`);
  }

  const nimbus = results.get('nimbus');
  if (nimbus?.failed) {
    console.error('\nNimbus failed (see n/a cells above).');
    process.exit(1);
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
