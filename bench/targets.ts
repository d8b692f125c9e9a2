/**
 * The benchmark targets: how to spawn each one on a free port with a fresh temp
 * data dir, how to tell that it is ready, and how much memory its process tree uses.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type TargetName = 'nimbus' | 'nimbus-fsync' | 'moto' | 's3rver' | 'ceiling';
export const ALL_TARGETS: TargetName[] = ['nimbus', 'nimbus-fsync', 'moto', 's3rver', 'ceiling'];

/** Extra settings for a target's process (the bench's profiling mode uses them). */
export interface StartOptions {
  /** Arguments for node before the script (e.g. --import of the profiling hook). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** dist/bench/targets.js -> repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH_DIST = path.dirname(fileURLToPath(import.meta.url));

interface TargetDef {
  command(port: number, dataDir: string, o: StartOptions): { cmd: string; args: string[]; cwd: string; env?: NodeJS.ProcessEnv };
  /** Path probed during start-up and whether a given status counts as "up". */
  probePath: string;
  isUp(status: number): boolean;
}

let pythonExe: string | undefined;
/** The real python interpreter behind `python3` (so pyenv shims don't inflate start-up time). */
function python(): string {
  if (pythonExe) return pythonExe;
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  pythonExe = r.status === 0 && r.stdout.trim() ? r.stdout.trim() : 'python3';
  return pythonExe;
}

const anyAnswer = (s: number) => s >= 200 && s < 500;

const nimbusDef = (fsync: boolean): TargetDef => ({
  command: (port, dataDir, o) => ({
    cmd: process.execPath,
    args: [
      ...(o.nodeArgs ?? []),
      path.join(REPO_ROOT, 'dist/nimbus.mjs'),
      'start',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...(fsync ? ['--fsync'] : []),
    ],
    cwd: REPO_ROOT,
    env: { ...process.env, ...o.env },
  }),
  probePath: '/_nimbus/health',
  isUp: (s) => s === 200,
});

const DEFS: Record<TargetName, TargetDef> = {
  nimbus: nimbusDef(false),
  // The same server with --fsync: every acknowledged write also survives power loss.
  'nimbus-fsync': nimbusDef(true),
  moto: {
    command: (port, dataDir) => ({
      cmd: python(),
      args: ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
      cwd: dataDir,
      env: { ...process.env, TMPDIR: dataDir },
    }),
    probePath: '/moto-api/',
    isUp: anyAnswer,
  },
  s3rver: {
    command: (port, dataDir) => ({
      cmd: process.execPath,
      // s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 20's
      // OpenSSL 3 only offers through the legacy provider.
      args: ['--openssl-legacy-provider', path.join(BENCH_DIST, 's3rver-child.js'), String(port), dataDir],
      cwd: REPO_ROOT,
    }),
    probePath: '/',
    isUp: anyAnswer,
  },
  ceiling: {
    command: (port) => ({
      cmd: process.execPath,
      args: [path.join(BENCH_DIST, 'ceiling.js'), String(port)],
      cwd: REPO_ROOT,
    }),
    probePath: '/',
    isUp: anyAnswer,
  },
};

export function nimbusBuilt(): boolean {
  return existsSync(path.join(REPO_ROOT, 'dist/nimbus.mjs'));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP GET on a fresh connection; resolves the status, or 0 if nothing answered. */
function probe(port: number, p: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resident set size (bytes) of pid and all of its descendants, from /proc/<pid>/status VmRSS. */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      /* process went away */
    }
  }
  return total;
}

/** CPU seconds (user + system) used so far by pid and its descendants, from /proc/<pid>/stat. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15: utime, stime
    } catch {
      /* process went away */
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** CPU seconds used so far by the whole machine (all but idle and iowait), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    return NaN;
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const byParent = new Map<number, number[]>();
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = readFileSync(`/proc/${ent}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(ent));
      byParent.set(ppid, list);
    } catch {
      /* gone */
    }
  }
  const stack = [pid];
  while (stack.length) {
    for (const c of byParent.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

export interface RunningTarget {
  name: TargetName;
  port: number;
  pid: number;
  dataDir: string;
  startupMs: number;
  idleRssBytes: number;
  /** Whether the process has exited (and why), for error reports. */
  exited(): string | undefined;
  outputTail(): string;
  stop(): Promise<void>;
}

export async function startTarget(name: TargetName, opts: StartOptions = {}, timeoutMs = 30_000): Promise<RunningTarget> {
  const def = DEFS[name];
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `nimbus-bench-${name}-`));
  const { cmd, args, cwd, env } = def.command(port, dataDir, opts);

  let tail = '';
  const keep = (c: Buffer) => {
    tail = (tail + c.toString('utf8')).slice(-4000);
  };
  let exitInfo: string | undefined;

  const t0 = performance.now();
  const child: ChildProcess = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exitedP = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    });
    child.on('error', (err) => {
      exitInfo = `failed to spawn: ${err.message}`;
      resolve();
    });
  });

  const stop = async () => {
    if (!exitInfo && child.pid) {
      const kids = descendants(child.pid);
      child.kill('SIGTERM');
      await Promise.race([exitedP, sleep(3000)]);
      if (!exitInfo) {
        child.kill('SIGKILL');
        await Promise.race([exitedP, sleep(2000)]);
      }
      for (const k of kids) {
        try {
          process.kill(k, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  let startupMs = -1;
  for (;;) {
    if (exitInfo) {
      await stop();
      throw new Error(`${name} ${exitInfo} during start-up: ${tail.trim().split('\n').slice(-5).join(' | ')}`);
    }
    const status = await probe(port, def.probePath);
    if (def.isUp(status)) {
      startupMs = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`${name} did not answer ${def.probePath} within ${timeoutMs} ms (last status ${status || 'none'})`);
    }
    await sleep(status ? 20 : 10);
  }

  await sleep(1000);
  const idleRssBytes = treeRss(child.pid!);

  return {
    name,
    port,
    pid: child.pid!,
    dataDir,
    startupMs,
    idleRssBytes,
    exited: () => exitInfo,
    outputTail: () => tail,
    stop,
  };
}
