import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { EngineLogger } from './types.js';

/**
 * How an environment's process is confined.
 *
 * Always: its own session and process group (killed as a group, plus every
 * descendant found in /proc), a private TMPDIR, a scrubbed environment, and — where
 * util-linux's `prlimit` / `setpriv` exist — RLIMIT_NOFILE 1024 (AWS's limit),
 * RLIMIT_FSIZE = the ephemeral storage size, no core dumps, and SIGKILL if Nimbus dies.
 *
 * With bubblewrap (`bwrap`) usable: new user (uid 993, like AWS's sbx_user), PID, IPC
 * and UTS namespaces; a root file system holding only /usr, /bin, /lib*, the
 * interpreter's install prefix and a few /etc files; the code read-only at /var/task,
 * the layers read-only at /opt, the bootstrap read-only at /var/runtime, a private
 * writable /tmp (and, for Node, the node_modules the runtime's SDK links point into,
 * read-only at its own path). The network namespace is shared so the function reaches Nimbus (and
 * the Runtime API) on loopback.
 */

export type SandboxMode = 'bwrap' | 'none';

export interface SandboxTools {
  mode: SandboxMode;
  prlimit?: string;
  setpriv?: string;
  bwrap?: string;
}

export interface Mounts {
  codeDir: string;
  optDir: string;
  runtimeDir: string;
  tmpDir: string;
  /** Directories the interpreter needs, bound read-only at the same path. */
  extraRo: string[];
}

export const SANDBOX_PATHS = { taskRoot: '/var/task', optDir: '/opt', runtimeDir: '/var/runtime', tmpDir: '/tmp' } as const;

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const ETC_FILES = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/nsswitch.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/mime.types',
  '/etc/os-release',
];

function which(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin', ...(process.env.PATH ?? '').split(':')]) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Finds the tools and checks that bwrap actually works here (it needs user namespaces). */
export async function detectSandbox(requested: 'auto' | SandboxMode, log: EngineLogger): Promise<SandboxTools> {
  const tools: SandboxTools = { mode: 'none', prlimit: which('prlimit'), setpriv: which('setpriv') };
  if (requested === 'none') return tools;
  const bwrap = which('bwrap');
  if (!bwrap) {
    if (requested === 'bwrap') log.warn('Lambda sandbox: bwrap requested but not installed; running functions as plain processes');
    return tools;
  }
  const probe = bwrapArgs({ codeDir: '/usr', optDir: '/usr', runtimeDir: '/usr', tmpDir: '/usr', extraRo: [] }, true);
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const p = spawn(bwrap, [...probe, '--', '/bin/sh', '-c', 'exit 0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', (e) => resolve({ code: -1, err: e.message }));
    p.on('close', (code) => resolve({ code, err }));
  });
  if (r.code !== 0) {
    log.warn(`Lambda sandbox: bwrap is installed but does not work here (${r.err.trim() || `exit ${r.code}`}); running functions as plain processes`);
    return tools;
  }
  return { ...tools, mode: 'bwrap', bwrap };
}

function bwrapArgs(m: Mounts, probe = false): string[] {
  const a = ['--die-with-parent', '--unshare-user', '--uid', '993', '--gid', '990', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'localhost'];
  for (const d of SYSTEM_DIRS) if (existsSync(d)) a.push('--ro-bind', d, d);
  for (const f of ETC_FILES) if (existsSync(f)) a.push('--ro-bind', f, f);
  for (const d of m.extraRo) a.push('--ro-bind', d, d);
  if (!probe) {
    a.push('--ro-bind', m.runtimeDir, SANDBOX_PATHS.runtimeDir);
    a.push('--ro-bind', path.join(m.runtimeDir, 'passwd'), '/etc/passwd', '--ro-bind', path.join(m.runtimeDir, 'group'), '/etc/group');
    a.push('--ro-bind', m.codeDir, SANDBOX_PATHS.taskRoot);
    a.push('--ro-bind', m.optDir, SANDBOX_PATHS.optDir);
    a.push('--bind', m.tmpDir, SANDBOX_PATHS.tmpDir);
    a.push('--chdir', SANDBOX_PATHS.taskRoot);
  }
  a.push('--dev', '/dev', '--proc', '/proc');
  return a;
}

export interface Limits {
  fileSizeBytes: number;
}

/** The command line that runs `command args` confined as `tools` allow. */
export function confine(tools: SandboxTools, m: Mounts, limits: Limits, command: string, args: string[]): { command: string; args: string[] } {
  let argv = [command, ...args];
  if (tools.mode === 'bwrap' && tools.bwrap) argv = [tools.bwrap, ...bwrapArgs(m), '--', ...argv];
  if (tools.prlimit) argv = [tools.prlimit, '--nofile=1024:1024', '--core=0', `--fsize=${limits.fileSizeBytes}`, '--', ...argv];
  if (tools.setpriv) argv = [tools.setpriv, '--pdeathsig', 'KILL', '--', ...argv];
  return { command: argv[0]!, args: argv.slice(1) };
}

/** Every descendant of pid, from /proc/<pid>/task/<tid>/children. */
export function descendants(pid: number, out: number[] = []): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ')) {
      const n = Number(c);
      if (n > 0 && !out.includes(n)) {
        out.push(n);
        descendants(n, out);
      }
    }
  }
  return out;
}

const PAGE = 4096;

/** Resident memory of pid and its descendants, in bytes (0 when it is gone). */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const statm = readFileSync(`/proc/${p}/statm`, 'latin1');
      total += Number(statm.split(' ')[1]) * PAGE;
    } catch {
      /* exited */
    }
  }
  return total;
}

/** SIGKILL for the process group and every descendant (some may have left the group). */
export function killTree(pid: number): void {
  const all = descendants(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* group gone */
  }
  for (const p of [pid, ...all]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
