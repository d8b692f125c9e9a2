import { createHash, randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { cp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { log as nimbusLog } from '../../util/log.js';
import { packageRoot } from '../../util/paths.js';
import { NODE_BOOTSTRAP } from './bootstraps/node.js';
import { PYTHON_BOOTSTRAP } from './bootstraps/python.js';
import { Environment, type InitFailure, type Launch } from './environment.js';
import { RuntimeApiServer } from './runtime-api.js';
import { buildEnvironment, findCustomBootstrap, InterpreterResolver, nodeMemoryArgs, runtimeInfo, type EnvPaths, type RuntimeInfo } from './runtimes.js';
import { confine, detectSandbox, SANDBOX_PATHS, type SandboxMode, type SandboxTools } from './sandbox.js';
import { LambdaEngineError, TooManyRequestsError, type EngineLogger, type FunctionSpec, type InvokeOptions, type InvokeResult, type LogSink } from './types.js';

/**
 * The Lambda execution engine: runs functions as local runtime processes speaking the
 * Lambda Runtime API, keeps warm environments per function version and configuration,
 * scales out under concurrent invokes up to the function's and the account's limits,
 * and enforces timeouts and memory. The Lambda API service sits on top of it.
 */

export interface LambdaEngineOptions {
  /** Where the engine keeps bootstraps, merged layers and per-environment /tmp dirs. */
  baseDir: string;
  /** How long an unused environment stays warm (default 10 minutes). */
  idleTimeoutMs?: number;
  /** Concurrent executions across all functions (default 1000, AWS's default quota). */
  accountConcurrency?: number;
  /** Receives every environment's log events (START, output, END, REPORT…). */
  onLog?: LogSink;
  /** Nimbus's own log (interpreter mismatches, sandbox fallback). */
  log?: EngineLogger;
  /** 'auto' (default) uses bubblewrap when it is installed and works. */
  sandbox?: 'auto' | SandboxMode;
  /** The Python interpreter to use instead of looking up python3.X / python3. */
  python?: string;
  /** Limit of the init phase (default 10 s, as on AWS). */
  initTimeoutMs?: number;
  /** How often a running environment's memory is sampled (default 25 ms). */
  memoryCheckMs?: number;
  /** Stop (SIGSTOP) idle environments as Lambda freezes them (default true). */
  freezeIdle?: boolean;
  /**
   * The node_modules whose AWS SDK for JavaScript v3 (its @aws-sdk, @smithy and
   * @aws-crypto packages) Node functions can load without bundling it, as AWS's Node
   * runtimes include the SDK. Default: Nimbus's own; null: none.
   */
  sdkNodeModules?: string | null;
}

/**
 * The package scopes of the AWS SDK for JavaScript v3 that Node functions see in
 * /var/runtime/node_modules (AWS's place for the runtime-included SDK, on NODE_PATH after
 * the layers, so a function's own node_modules and its layers win). The SDK's other
 * dependencies (tslib, fast-xml-parser…) resolve from the SDK's own location.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included
 */
const SDK_SCOPES = ['@aws-sdk', '@smithy', '@aws-crypto'];

/**
 * The node_modules (real path) holding the @aws-sdk packages Nimbus is installed with:
 * its own, or the nearest one above it (an npm install may hoist them).
 */
function defaultSdkNodeModules(): string | null {
  try {
    for (let dir = packageRoot(); ; dir = path.dirname(dir)) {
      const nm = path.join(dir, 'node_modules');
      if (existsSync(path.join(nm, '@aws-sdk'))) return realpathSync(nm);
      if (path.dirname(dir) === dir) return null;
    }
  } catch {
    return null;
  }
}

export interface EnvironmentInfo {
  id: string;
  functionArn: string;
  version: string;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  pid: number;
  logStreamName: string;
  /** The environment's writable /tmp on the host. */
  tmpDir: string;
}

interface Pool {
  key: string;
  functionArn: string;
  version: string;
  all: Set<Environment>;
  /** Most recently used last. */
  idle: Environment[];
  retired: boolean;
  optDir?: Promise<string>;
}

export class LambdaEngine {
  private readonly api = new RuntimeApiServer();
  private readonly pools = new Map<string, Pool>();
  /** Every live environment, including those of retired pools still finishing an invoke. */
  private readonly live = new Map<Environment, Pool>();
  private readonly inflight = new Map<string, number>();
  private inflightTotal = 0;
  private readonly idleTimeoutMs: number;
  private readonly accountConcurrency: number;
  private readonly log: EngineLogger;
  private readonly interpreters: InterpreterResolver;
  private readonly runtimeDir: string;
  private readonly envsDir: string;
  private readonly layersDir: string;
  private readonly sdkDir: string | null;
  private ready: Promise<SandboxTools> | null = null;
  private closed = false;

  constructor(private readonly opts: LambdaEngineOptions) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 10 * 60_000;
    this.accountConcurrency = opts.accountConcurrency ?? 1000;
    this.log = opts.log ?? nimbusLog;
    this.interpreters = new InterpreterResolver(this.log, opts.python);
    this.runtimeDir = path.join(opts.baseDir, 'runtime');
    this.envsDir = path.join(opts.baseDir, 'envs');
    this.layersDir = path.join(opts.baseDir, 'layers');
    this.sdkDir = opts.sdkNodeModules === undefined ? defaultSdkNodeModules() : opts.sdkNodeModules && realpathSync(opts.sdkNodeModules);
  }

  /** The isolation in use: 'bwrap' or 'none' (decided once, on first use). */
  async sandboxMode(): Promise<SandboxMode> {
    return (await this.prepare()).mode;
  }

  private prepare(): Promise<SandboxTools> {
    this.ready ??= (async () => {
      // Left over if a previous Nimbus died without shutting down.
      await rm(this.envsDir, { recursive: true, force: true });
      await rm(this.layersDir, { recursive: true, force: true });
      await mkdir(this.runtimeDir, { recursive: true });
      await mkdir(this.envsDir, { recursive: true });
      await mkdir(path.join(this.layersDir, 'empty'), { recursive: true });
      await writeFile(path.join(this.runtimeDir, 'bootstrap.cjs'), NODE_BOOTSTRAP);
      await writeFile(path.join(this.runtimeDir, 'bootstrap.py'), PYTHON_BOOTSTRAP);
      // The sandbox's /etc/passwd and /etc/group: the function runs as AWS's sandbox user.
      await writeFile(path.join(this.runtimeDir, 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n');
      await writeFile(path.join(this.runtimeDir, 'group'), 'root:x:0:\nsbx_user1051:x:990:\n');
      // The runtime's node_modules: links to the SDK's scopes in sdkDir (which the sandbox
      // mounts read-only at its own path, so the links resolve there too).
      const sdkLinks = path.join(this.runtimeDir, 'node_modules');
      await rm(sdkLinks, { recursive: true, force: true });
      await mkdir(sdkLinks);
      for (const scope of SDK_SCOPES) {
        if (this.sdkDir && existsSync(path.join(this.sdkDir, scope))) await symlink(path.join(this.sdkDir, scope), path.join(sdkLinks, scope), 'dir');
      }
      return detectSandbox(this.opts.sandbox ?? 'auto', this.log);
    })();
    return this.ready;
  }

  async invoke(fn: FunctionSpec, payload: Buffer, opts: InvokeOptions): Promise<InvokeResult> {
    if (this.closed) throw new LambdaEngineError('ServiceException', 'The Lambda engine is shut down');
    const info = runtimeInfo(fn.runtime);
    this.acquire(fn);
    try {
      const tools = await this.prepare();
      const pool = this.poolFor(fn);
      const trace = opts.traceId ?? traceId();
      for (let attempt = 0; ; attempt++) {
        let env = attempt < 3 ? pool.idle.pop() : undefined;
        const invokeStart = performance.now();
        if (!env || !env.alive) {
          const started = await this.startEnvironment(fn, info, pool, tools, opts.requestId, invokeStart);
          if ('result' in started) return started.result;
          env = started.env;
        }
        const timeoutAt = Date.now() + fn.timeoutSec * 1000;
        const result = await env.invoke({
          requestId: opts.requestId,
          payload,
          deadlineMs: opts.deadlineMs !== undefined ? Math.min(opts.deadlineMs, timeoutAt) : timeoutAt,
          invokedFunctionArn: opts.invokedFunctionArn ?? fn.functionArn,
          traceId: trace,
          clientContext: opts.clientContext,
          cognitoIdentity: opts.cognitoIdentity,
        });
        if (!result) continue; // that environment died between invocations; use another
        this.release(env, pool);
        return result;
      }
    } finally {
      this.inflightTotal--;
      const n = (this.inflight.get(fn.functionArn) ?? 1) - 1;
      if (n > 0) this.inflight.set(fn.functionArn, n);
      else this.inflight.delete(fn.functionArn);
    }
  }

  /** Throws away every environment of a function (all versions, or one); for updates and deletes. */
  retire(functionArn: string, version?: string): void {
    for (const pool of this.pools.values()) {
      if (pool.functionArn === functionArn && (version === undefined || pool.version === version)) this.retirePool(pool);
    }
  }

  environments(): EnvironmentInfo[] {
    const out: EnvironmentInfo[] = [];
    for (const [e, pool] of this.live) {
      out.push({ id: e.id, functionArn: pool.functionArn, version: pool.version, state: e.state, pid: e.pid, logStreamName: e.logStreamName, tmpDir: this.tmpDirOf(e) });
    }
    return out;
  }

  /** Kills every environment and closes the Runtime API. */
  async shutdown(): Promise<void> {
    this.closed = true;
    const all = [...this.live.keys()];
    for (const e of all) e.kill();
    await Promise.all(all.map((e) => e.waitClosed(1000)));
    this.pools.clear();
    this.api.close();
    await rm(this.envsDir, { recursive: true, force: true });
    await rm(this.layersDir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------

  private acquire(fn: FunctionSpec): void {
    const n = this.inflight.get(fn.functionArn) ?? 0;
    if (fn.reservedConcurrency !== undefined && n >= fn.reservedConcurrency) throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
    if (this.inflightTotal >= this.accountConcurrency) throw new TooManyRequestsError('ConcurrentInvocationLimitExceeded');
    this.inflight.set(fn.functionArn, n + 1);
    this.inflightTotal++;
  }

  private poolFor(fn: FunctionSpec): Pool {
    const key = `${fn.functionArn}\n${fn.version}\n${fn.configKey}`;
    let pool = this.pools.get(key);
    if (pool) return pool;
    // A new configuration of the same version: the old environments are stale.
    for (const p of this.pools.values()) if (p.functionArn === fn.functionArn && p.version === fn.version) this.retirePool(p);
    pool = { key, functionArn: fn.functionArn, version: fn.version, all: new Set(), idle: [], retired: false };
    this.pools.set(key, pool);
    return pool;
  }

  private retirePool(pool: Pool): void {
    pool.retired = true;
    if (this.pools.get(pool.key) === pool) this.pools.delete(pool.key);
    for (const e of [...pool.idle]) e.kill();
    pool.idle = [];
    this.dropOptDirIfUnused(pool);
  }

  /** A retired pool's merged layers go once no environment of it runs any more. */
  private dropOptDirIfUnused(pool: Pool): void {
    if (!pool.retired || pool.all.size > 0 || !pool.optDir) return;
    const dir = pool.optDir;
    pool.optDir = undefined;
    void dir.then((d) => (d.endsWith('empty') ? undefined : rm(d, { recursive: true, force: true }))).catch(() => {});
  }

  private release(env: Environment, pool: Pool): void {
    if (!env.alive) return;
    if (pool.retired || this.closed) return env.kill();
    pool.idle.push(env);
    env.idleTimer = setTimeout(() => env.kill(), this.idleTimeoutMs);
    env.idleTimer.unref();
  }

  private tmpDirOf(env: Environment): string {
    return path.join(this.envsDir, env.id, 'tmp');
  }

  /** Room for one more environment: the least recently used idle one goes first. */
  private evictIfFull(): void {
    if (this.live.size < this.accountConcurrency) return;
    let lru: Environment | undefined;
    for (const p of this.pools.values()) {
      const e = p.idle[0];
      if (e && (!lru || e.lastUsed < lru.lastUsed)) lru = e;
    }
    lru?.kill();
  }

  private async startEnvironment(
    fn: FunctionSpec,
    info: RuntimeInfo,
    pool: Pool,
    tools: SandboxTools,
    requestId: string,
    invokeStart: number,
  ): Promise<{ env: Environment } | { result: InvokeResult }> {
    this.evictIfFull();
    const env = new Environment(fn, pool.key, {
      onLog: (stream, events) => {
        try {
          this.opts.onLog?.(fn.logGroupName, stream, events);
        } catch (e) {
          this.log.error(`Lambda log sink failed for ${fn.logGroupName} ${stream}: ${(e as Error).stack ?? e}`);
        }
      },
      onDead: (e) => {
        pool.all.delete(e);
        this.live.delete(e);
        const i = pool.idle.indexOf(e);
        if (i >= 0) pool.idle.splice(i, 1);
        this.dropOptDirIfUnused(pool);
        void e.waitClosed(1000).then(() => rm(path.join(this.envsDir, e.id), { recursive: true, force: true }));
      },
    }, { memoryCheckMs: this.opts.memoryCheckMs ?? 25, initTimeoutMs: this.opts.initTimeoutMs ?? 10_000, freezeIdle: this.opts.freezeIdle ?? true });
    pool.all.add(env);
    this.live.set(env, pool);
    const tmpDir = this.tmpDirOf(env);
    let failure: InitFailure | null;
    try {
      const [optDir, credentials, runtimeApi] = await Promise.all([this.optDirFor(pool, fn), fn.credentials(), env.openEndpoint(this.api), mkdir(tmpDir, { recursive: true })]);
      const launch = await this.launchFor(fn, info, tools, { codeDir: fn.codeDir, optDir, tmpDir }, { runtimeApi, logStreamName: env.logStreamName, credentials });
      if ('missing' in launch) {
        env.kill();
        failure = {
          errorType: 'Runtime.InvalidEntrypoint',
          status: 'error',
          payload: Buffer.from(JSON.stringify({ errorType: 'Runtime.InvalidEntrypoint', errorMessage: `RequestId: ${requestId} Error: Couldn't find valid bootstrap(s): [${launch.missing.join(' ')}]` })),
        };
      } else {
        failure = await env.start(launch, requestId);
      }
    } catch (e) {
      env.kill();
      if (e instanceof LambdaEngineError) throw e;
      throw new LambdaEngineError('ServiceException', `Could not start an execution environment for ${fn.functionName}: ${(e as Error).message}`);
    }
    if (failure) return { result: env.initFailureResult(requestId, failure, invokeStart) };
    return { env };
  }

  private async launchFor(
    fn: FunctionSpec,
    info: RuntimeInfo,
    tools: SandboxTools,
    host: { codeDir: string; optDir: string; tmpDir: string },
    extra: Parameters<typeof buildEnvironment>[3],
  ): Promise<Launch | { missing: string[] }> {
    const boxed = tools.mode === 'bwrap';
    const paths: EnvPaths = boxed ? { ...SANDBOX_PATHS } : { taskRoot: host.codeDir, optDir: host.optDir, runtimeDir: this.runtimeDir, tmpDir: host.tmpDir };
    let command: string;
    let args: string[];
    const extraRo: string[] = [];
    if (info.family === 'node') {
      const node = this.interpreters.node(fn.runtime, info);
      command = node.path;
      args = ['--expose-gc', '--max-http-header-size=81920', ...nodeMemoryArgs(fn.memoryMB), path.join(paths.runtimeDir, 'bootstrap.cjs')];
      paths.interpreterBin = path.dirname(node.path);
      extraRo.push(installPrefix(node.path));
      if (this.sdkDir) extraRo.push(this.sdkDir);
    } else if (info.family === 'python') {
      const py = await this.interpreters.pythonFor(fn.runtime, info);
      command = py.path;
      args = ['-u', '-s', path.join(paths.runtimeDir, 'bootstrap.py')];
      paths.interpreterBin = path.dirname(py.path);
      extraRo.push(installPrefix(py.path));
    } else {
      const found = await findCustomBootstrap(host.codeDir, host.optDir);
      if (!found) return { missing: [`${paths.taskRoot}/bootstrap`, `${paths.optDir}/bootstrap`] };
      command = !boxed ? found : found.startsWith(host.codeDir) ? `${SANDBOX_PATHS.taskRoot}/bootstrap` : `${SANDBOX_PATHS.optDir}/bootstrap`;
      args = [];
    }
    // AWS_LAMBDA_EXEC_WRAPPER (managed runtimes): the wrapper runs with the runtime's
    // command line as its arguments. Without the sandbox, /opt and /var/task paths in it
    // are mapped to the host directories.
    // https://docs.aws.amazon.com/lambda/latest/dg/runtimes-modify.html#runtime-wrapper
    const wrapper = info.family !== 'provided' ? fn.environment.AWS_LAMBDA_EXEC_WRAPPER : undefined;
    if (wrapper) {
      args = [command, ...args];
      command = boxed ? wrapper : hostPath(wrapper, host);
    }
    const env = buildEnvironment(fn, info, paths, extra);
    const mounts = { codeDir: host.codeDir, optDir: host.optDir, runtimeDir: this.runtimeDir, tmpDir: host.tmpDir, extraRo: extraRo.filter((d) => d !== '/' && !d.startsWith('/usr')) };
    const confined = confine(tools, mounts, { fileSizeBytes: fn.ephemeralStorageMB * 1024 * 1024 }, command, args);
    return { ...confined, env, cwd: host.codeDir };
  }

  /** The function's layers merged in order into one directory (its /opt), built once per configuration. */
  private optDirFor(pool: Pool, fn: FunctionSpec): Promise<string> {
    pool.optDir ??= (async () => {
      if (fn.layerDirs.length === 0) return path.join(this.layersDir, 'empty');
      // Unique per pool: a retired pool's directory is removed later, and a new pool
      // of the same key must not lose its own to that.
      const name = createHash('sha256').update(pool.key).digest('hex').slice(0, 24) + randomBytes(4).toString('hex');
      const dest = path.join(this.layersDir, name);
      const building = `${dest}.${randomBytes(4).toString('hex')}.tmp`;
      await mkdir(building, { recursive: true });
      for (const dir of fn.layerDirs) await cp(dir, building, { recursive: true, force: true, verbatimSymlinks: true });
      await rm(dest, { recursive: true, force: true });
      await rename(building, dest);
      return dest;
    })();
    pool.optDir.catch(() => (pool.optDir = undefined));
    return pool.optDir;
  }
}

/** /opt/x and /var/task/x as the host directories they stand for outside the sandbox. */
function hostPath(p: string, host: { codeDir: string; optDir: string }): string {
  if (p === '/opt' || p.startsWith('/opt/')) return host.optDir + p.slice(4);
  if (p === '/var/task' || p.startsWith('/var/task/')) return host.codeDir + p.slice(9);
  return p;
}

/** /usr for /usr/bin/node, ~/.pyenv/versions/3.11.7 for its python3.11. */
function installPrefix(interpreter: string): string {
  return path.dirname(path.dirname(interpreter));
}

/** An X-Ray trace header like the one Lambda hands each invocation. */
function traceId(): string {
  const t = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return `Root=1-${t}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}
