import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { now } from '../../util/clock.js';
import { blobId } from '../../util/ids.js';
import { endLine, initReportLine, LineSplitter, logStreamName, logTail, reportLine, startLine } from './logs.js';
import { MAX_RESPONSE_BYTES, type Invocation, type InvocationOutcome, type RuntimeApiServer, type RuntimeEndpoint } from './runtime-api.js';
import { killTree, treeRss } from './sandbox.js';
import type { FunctionSpec, InvokeResult, LogEvent } from './types.js';

/**
 * One execution environment: a runtime process, its Runtime API endpoint, its log
 * stream, and the watchdogs (deadline, memory) around each invocation.
 */

export type EnvState = 'starting' | 'idle' | 'busy' | 'dead';

export interface EnvironmentHooks {
  onLog(logStreamName: string, events: LogEvent[]): void;
  /** The process is gone (crash, kill, timeout, idle reap). */
  onDead(env: Environment): void;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface InitFailure {
  errorType: string;
  payload: Buffer;
  status: 'error' | 'timeout';
}

type Ending =
  | InvocationOutcome
  | { kind: 'timeout' }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null; oom: boolean };

const MB = 1024 * 1024;
/** Output of one invocation held back before it is shipped in a batch of its own. */
const SHIP_EARLY_BYTES = MB;

export class Environment {
  readonly id = blobId();
  readonly logStreamName: string;
  state: EnvState = 'starting';
  pid = 0;
  initDurationMs = 0;
  lastUsed = 0;
  idleTimer: NodeJS.Timeout | null = null;

  private proc: ChildProcess | null = null;
  private endpoint: (RuntimeEndpoint & { close(): void }) | null = null;
  private cold = true;
  private pending: LogEvent[] = [];
  private target: LogEvent[] | null = null;
  /** Bytes buffered in target, and what was shipped early but still counts for the tail. */
  private targetBytes = 0;
  private tailCarry: LogEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private memTimer: NodeJS.Timeout | null = null;
  private peakRss = 0;
  private oomKilled = false;
  private frozen = false;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private closed!: Promise<void>;
  private onExit: ((e: { code: number | null; signal: NodeJS.Signals | null }) => void) | null = null;
  private readonly splitters: LineSplitter[] = [];
  /** While init runs (or its failure is being reported), its output is kept for that report. */
  private initOwnsOutput = false;

  constructor(
    readonly fn: FunctionSpec,
    readonly poolKey: string,
    private readonly hooks: EnvironmentHooks,
    private readonly opts: { memoryCheckMs: number; initTimeoutMs: number; freezeIdle: boolean },
  ) {
    this.logStreamName = logStreamName(fn.version, new Date(now()));
  }

  get alive(): boolean {
    return this.state !== 'dead';
  }

  async openEndpoint(api: RuntimeApiServer): Promise<string> {
    this.endpoint = await api.open({
      onReady: () => this.initDone?.(null),
      onInitError: (body, errorType) => this.initDone?.({ errorType: errorType || 'Runtime.Unknown', payload: body, status: 'error' }),
      onPoll: () => {
        if (this.state === 'idle' && this.opts.freezeIdle) this.freeze();
      },
    });
    return this.endpoint.address;
  }

  private initDone: ((f: InitFailure | null) => void) | null = null;

  /** Starts the runtime and waits for its first /next (null) or its failure. */
  async start(launch: Launch, requestId: string): Promise<InitFailure | null> {
    const t0 = performance.now();
    this.initOwnsOutput = true;
    const result = new Promise<InitFailure | null>((resolve) => (this.initDone = resolve));
    const proc = spawn(launch.command, launch.args, { cwd: launch.cwd, env: launch.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.pid = proc.pid ?? 0;
    for (const stream of [proc.stdout!, proc.stderr!]) {
      const s = new LineSplitter((m) => this.line(m));
      this.splitters.push(s);
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => s.push(d));
    }
    this.closed = new Promise((resolve) => proc.once('close', () => resolve()));
    proc.once('error', (e) => {
      this.line(`Nimbus could not start the runtime: ${e.message}\n`);
      this.exited ??= { code: 127, signal: null };
      this.handleExit();
    });
    proc.once('exit', (code, signal) => {
      this.exited = { code, signal };
      this.handleExit();
    });
    this.startMemoryWatch();
    const initTimer = setTimeout(() => this.initDone?.({ errorType: 'Sandbox.Timedout', payload: Buffer.alloc(0), status: 'timeout' }), this.opts.initTimeoutMs);
    this.onExit = (e) => {
      const oom = this.oomKilled;
      const errorType = oom ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
      const payload = Buffer.from(JSON.stringify({ errorType, errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${exitDescription(e.code, e.signal)}` }));
      this.initDone?.({ errorType, payload, status: 'error' });
    };
    const failure = await result;
    clearTimeout(initTimer);
    this.initDone = null;
    this.onExit = null;
    this.initDurationMs = performance.now() - t0;
    if (failure) {
      this.stopMemoryWatch();
      // Let the runtime finish writing (and exiting) before its output is collected.
      await this.settle(300);
      if (failure.status === 'timeout') {
        failure.payload = Buffer.from(JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.fn.timeoutSec.toFixed(2)} seconds` }));
      }
      return failure;
    }
    this.state = 'idle';
    this.initOwnsOutput = false;
    return null;
  }

  /** The result AWS gives for an invoke whose environment failed to initialise; the environment is discarded. */
  initFailureResult(requestId: string, failure: InitFailure, invokeStart: number): InvokeResult {
    this.kill();
    this.initOwnsOutput = false;
    const events = this.takePending();
    const stamp = now();
    const durationMs = performance.now() - invokeStart;
    const maxMemoryUsedMB = Math.max(1, Math.ceil(this.peakRss / MB));
    events.push(
      { timestamp: stamp, message: initReportLine(this.initDurationMs, failure.status, failure.status === 'error' ? failure.errorType : undefined) },
      { timestamp: stamp, message: startLine(requestId, this.fn.version) },
      { timestamp: stamp, message: endLine(requestId) },
      {
        timestamp: stamp,
        message: reportLine({
          requestId,
          durationMs,
          billedDurationMs: Math.ceil(durationMs),
          memoryMB: this.fn.memoryMB,
          maxMemoryUsedMB,
          status: failure.status,
          errorType: failure.status === 'error' ? failure.errorType : undefined,
        }),
      },
    );
    this.hooks.onLog(this.logStreamName, events);
    return {
      payload: failure.payload,
      functionError: 'Unhandled',
      errorType: failure.errorType,
      logTail: logTail(events),
      durationMs,
      billedDurationMs: Math.ceil(durationMs),
      maxMemoryUsedMB,
      executedVersion: this.fn.version,
      logStreamName: this.logStreamName,
    };
  }

  /**
   * Runs one invocation on this (idle) environment. Null when the runtime died before
   * the invocation reached it (it was still finishing the previous one): the caller
   * runs it on another environment.
   */
  invoke(inv: Invocation): Promise<InvokeResult | null> {
    this.state = 'busy';
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const events = this.takePending();
    this.target = events;
    this.targetBytes = 0;
    this.tailCarry = [];
    events.push({ timestamp: now(), message: startLine(inv.requestId, this.fn.version) });
    const initDurationMs = this.cold ? this.initDurationMs : undefined;
    this.cold = false;
    this.peakRss = 0;
    this.sampleMemory();
    this.startMemoryWatch();
    const t0 = performance.now();
    return new Promise<InvokeResult | null>((resolve) => {
      let ended = false;
      const end = (e: Ending) => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        const delivered = this.endpoint?.delivered ?? false;
        this.endpoint?.abandon();
        this.onExit = null;
        if (e.kind === 'exit' && !delivered) {
          if (events[0]?.message.startsWith('START ')) events.shift(); // this invocation never began here
          this.target = null;
          this.pending.unshift(...events);
          this.stopMemoryWatch();
          return resolve(null);
        }
        const durationMs = performance.now() - t0;
        this.stopMemoryWatch();
        if (e.kind === 'timeout') this.kill();
        // Output written just before the response may still be in the pipe; an exit
        // is collected once the pipes have closed.
        const settled = e.kind === 'exit' ? this.settle(300) : nextTurn();
        void settled.then(() => {
          // A last line without its newline is still a line.
          for (const s of this.splitters) s.flush();
          resolve(this.complete(inv, e, durationMs, initDurationMs, events));
        });
      };
      const timer = setTimeout(() => end({ kind: 'timeout' }), Math.max(0, inv.deadlineMs - Date.now()));
      this.onExit = (x) => end({ kind: 'exit', code: x.code, signal: x.signal, oom: this.oomKilled });
      if (this.exited) return this.onExit(this.exited);
      this.thaw();
      this.endpoint!.deliver(inv, (o) => end(o));
    });
  }

  private complete(inv: Invocation, e: Ending, durationMs: number, initDurationMs: number | undefined, events: LogEvent[]): InvokeResult {
    if (this.alive) this.sampleMemory();
    const id = inv.requestId;
    let payload: Buffer;
    let errorType: string | undefined;
    let status: 'timeout' | 'error' | undefined;
    switch (e.kind) {
      case 'response':
        payload = e.body;
        break;
      case 'error':
        payload = e.body.length ? e.body : Buffer.from(JSON.stringify({ errorType: e.errorType ?? 'Unhandled', errorMessage: '' }));
        errorType = e.errorType ?? errorTypeOf(payload) ?? 'Unhandled';
        break;
      case 'too-large':
        errorType = 'Function.ResponseSizeTooLarge';
        payload = Buffer.from(JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType }));
        break;
      case 'timeout': {
        errorType = 'Sandbox.Timedout';
        status = 'timeout';
        const msg = `Task timed out after ${this.fn.timeoutSec.toFixed(2)} seconds`;
        payload = Buffer.from(JSON.stringify({ errorType, errorMessage: `RequestId: ${id} Error: ${msg}` }));
        events.push({ timestamp: now(), message: `${new Date(now()).toISOString()} ${id} ${msg}\n` });
        break;
      }
      case 'exit': {
        errorType = e.oom ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
        status = 'error';
        const msg = `RequestId: ${id} Error: Runtime exited with error: ${exitDescription(e.code, e.signal)}`;
        payload = Buffer.from(JSON.stringify({ errorType, errorMessage: msg }));
        events.push({ timestamp: now(), message: `${msg}\n${errorType}\n` });
        break;
      }
    }
    this.target = null;
    const maxMemoryUsedMB = Math.max(1, Math.ceil(this.peakRss / MB));
    // Since August 2025 a cold start's INIT phase is billed with the invocation:
    // https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/
    const billedDurationMs = Math.ceil(durationMs + (initDurationMs ?? 0));
    const stamp = now();
    events.push({ timestamp: stamp, message: endLine(id) });
    events.push({
      timestamp: stamp,
      message: reportLine({ requestId: id, durationMs, billedDurationMs, memoryMB: this.fn.memoryMB, maxMemoryUsedMB, initDurationMs, status, errorType: status === 'error' ? errorType : undefined }),
    });
    this.hooks.onLog(this.logStreamName, events);
    if (this.alive) {
      this.state = 'idle';
      this.lastUsed = Date.now();
      // The runtime may already be back in /next (otherwise onPoll freezes it).
      if (this.opts.freezeIdle && this.endpoint?.polling) this.freeze();
    }
    return {
      payload,
      functionError: errorType ? 'Unhandled' : undefined,
      errorType,
      logTail: logTail(this.tailCarry.length ? [...this.tailCarry, ...events] : events),
      durationMs,
      billedDurationMs,
      maxMemoryUsedMB,
      initDurationMs,
      executedVersion: this.fn.version,
      logStreamName: this.logStreamName,
    };
  }

  /**
   * Lambda freezes an environment between invocations: background timers and work
   * started by a handler pause until the next invoke. SIGSTOP/SIGCONT on the process
   * group does the same here (and keeps idle functions off the CPU).
   */
  freeze(): void {
    if (this.pid && !this.exited && !this.frozen) {
      try {
        process.kill(-this.pid, 'SIGSTOP');
        this.frozen = true;
      } catch {
        /* gone */
      }
    }
  }

  private thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    try {
      process.kill(-this.pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }

  /** Kills the process tree; the environment is dead from now on. */
  kill(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.stopMemoryWatch();
    if (this.pid && !this.exited) killTree(this.pid);
    this.markDead();
  }

  /** Resolves once the process has exited and its pipes are closed. */
  async waitClosed(capMs: number): Promise<void> {
    if (!this.proc) return;
    await Promise.race([this.closed, delay(capMs)]);
  }

  private handleExit(): void {
    const x = this.exited!;
    // Children of a crashed runtime die with it, as a Lambda sandbox is torn down.
    if (this.pid) killTree(this.pid);
    this.stopMemoryWatch();
    const cb = this.onExit;
    this.onExit = null;
    if (cb) cb(x);
    this.markDead();
  }

  private markDead(): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.endpoint?.close();
    void this.waitClosed(300).then(() => {
      for (const s of this.splitters) s.flush();
      if (!this.initOwnsOutput) this.flushPending();
    });
    this.hooks.onDead(this);
  }

  private async settle(capMs: number): Promise<void> {
    if (this.exited) await this.waitClosed(capMs);
    else await Promise.race([nextTurn().then(() => delay(capMs)), this.closed]);
    for (const s of this.splitters) s.flush();
  }

  private line(message: string): void {
    const ev = { timestamp: now(), message };
    if (this.target) {
      this.target.push(ev);
      this.targetBytes += message.length;
      if (this.targetBytes > SHIP_EARLY_BYTES) {
        // A chatty function: ship what it wrote so far instead of holding it all.
        const batch = this.target.splice(0);
        this.targetBytes = 0;
        const keep: LogEvent[] = [];
        for (let i = batch.length - 1, n = 0; i >= 0 && n < 4096; i--) {
          keep.unshift(batch[i]!);
          n += batch[i]!.message.length;
        }
        this.tailCarry = keep;
        this.hooks.onLog(this.logStreamName, batch);
      }
      return;
    }
    this.pending.push(ev);
    // Output between invocations (background work, init) is shipped on its own
    // shortly after, unless an invocation starts and takes it first.
    if (!this.flushTimer && !this.initOwnsOutput) {
      this.flushTimer = setTimeout(() => this.flushPending(), 200);
      this.flushTimer.unref();
    }
  }

  private takePending(): LogEvent[] {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const p = this.pending;
    this.pending = [];
    return p;
  }

  private flushPending(): void {
    const p = this.takePending();
    if (p.length) this.hooks.onLog(this.logStreamName, p);
  }

  private startMemoryWatch(): void {
    if (this.memTimer || !this.pid) return;
    this.memTimer = setInterval(() => this.sampleMemory(), this.opts.memoryCheckMs);
    this.memTimer.unref();
  }

  private stopMemoryWatch(): void {
    if (this.memTimer) clearInterval(this.memTimer);
    this.memTimer = null;
  }

  private sampleMemory(): void {
    if (!this.pid || this.exited) return;
    const rss = treeRss(this.pid);
    if (rss > this.peakRss) this.peakRss = rss;
    if (rss > this.fn.memoryMB * MB && !this.oomKilled) {
      // What the sandbox's cgroup does on AWS: the whole process tree is killed.
      this.oomKilled = true;
      killTree(this.pid);
    }
  }
}

/** Go's os.ProcessState wording, which AWS's messages use ("exit status 1", "signal: killed"). */
export function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${SIGNAL_WORDS[signal] ?? signal.replace(/^SIG/, '').toLowerCase()}`;
  return `exit status ${code ?? 0}`;
}

const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGILL: 'illegal instruction',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGPIPE: 'broken pipe',
  SIGQUIT: 'quit',
  SIGXFSZ: 'file size limit exceeded',
  SIGXCPU: 'CPU time limit exceeded',
};

function errorTypeOf(body: Buffer): string | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errorType?: unknown };
    return typeof doc.errorType === 'string' ? doc.errorType : undefined;
  } catch {
    return undefined;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(() => setImmediate(r)));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
