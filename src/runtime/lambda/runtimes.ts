import { execFile } from 'node:child_process';
import { access, constants, realpath } from 'node:fs/promises';
import path from 'node:path';
import { LambdaEngineError, type Credentials, type EngineLogger, type FunctionSpec } from './types.js';

/**
 * The runtimes Nimbus runs, how each one is started, and the environment AWS gives it.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */

export type RuntimeFamily = 'node' | 'python' | 'provided';

export interface RuntimeInfo {
  family: RuntimeFamily;
  /** "20" for nodejs20.x, "3.12" for python3.12. */
  version?: string;
}

const NODE = /^nodejs(\d+)\.x$/;
const PYTHON = /^python(3\.\d+)$/;

export function runtimeInfo(runtime: string): RuntimeInfo {
  const n = NODE.exec(runtime);
  if (n) return { family: 'node', version: n[1] };
  const p = PYTHON.exec(runtime);
  if (p) return { family: 'python', version: p[1] };
  if (runtime === 'provided' || runtime === 'provided.al2' || runtime === 'provided.al2023') return { family: 'provided' };
  throw new LambdaEngineError('InvalidRuntimeException', `The runtime parameter of ${runtime} is not supported by Nimbus.`);
}

/**
 * Variables a function may not set (AWS rejects them at CreateFunction; the engine
 * ignores them if they get this far). LANG, PATH, TZ, NODE_PATH, PYTHONPATH… are not
 * reserved: the user's value wins, as on AWS.
 */
export const RESERVED_ENV_VARS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

export interface Interpreter {
  path: string;
  /** "20.19.1" / "3.11.7" */
  version: string;
}

/**
 * Finds interpreters once per engine. Python is resolved to the real binary behind
 * `python3` (a pyenv shim costs ~100 ms per start); python3.X is preferred when the
 * declared runtime's exact version is installed.
 */
export class InterpreterResolver {
  private readonly python = new Map<string, Promise<Interpreter>>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly log: EngineLogger,
    private readonly pythonOverride?: string,
  ) {}

  node(runtime: string, info: RuntimeInfo): Interpreter {
    const version = process.versions.node;
    this.warnOnce(runtime, info.version !== version.split('.')[0], `Lambda runtime ${runtime} runs on the local Node.js ${version} (${process.execPath}); behaviour may differ from AWS's nodejs${info.version}.x`);
    return { path: process.execPath, version };
  }

  async pythonFor(runtime: string, info: RuntimeInfo): Promise<Interpreter> {
    const want = info.version!;
    let p = this.python.get(want);
    if (!p) {
      p = this.resolvePython(want);
      this.python.set(want, p);
      p.catch(() => this.python.delete(want));
    }
    const found = await p;
    const mm = found.version.split('.').slice(0, 2).join('.');
    this.warnOnce(runtime, mm !== want, `Lambda runtime ${runtime} runs on the local Python ${found.version} (${found.path}); behaviour may differ from AWS's python${want}`);
    return found;
  }

  private async resolvePython(want: string): Promise<Interpreter> {
    const candidates = this.pythonOverride ? [this.pythonOverride] : [`python${want}`, 'python3'];
    const errors: string[] = [];
    for (const c of candidates) {
      try {
        const out = await run(c, ['-c', 'import sys;print(sys.executable);print("%d.%d.%d" % sys.version_info[:3])']);
        const [exe, version] = out.trim().split('\n');
        if (!exe || !version) throw new Error(`unexpected output ${JSON.stringify(out)}`);
        return { path: await realpath(exe), version };
      } catch (e) {
        errors.push(`${c}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    throw new LambdaEngineError('ServiceException', `No Python interpreter found for python${want} (${errors.join('; ')})`);
  }

  private warnOnce(runtime: string, differs: boolean, msg: string): void {
    if (!differs || this.warned.has(runtime)) return;
    this.warned.add(runtime);
    this.log.warn(msg);
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
}

/** Paths as the function sees them: real host paths, or the sandbox's /var/task etc. */
export interface EnvPaths {
  taskRoot: string;
  runtimeDir: string;
  optDir: string;
  tmpDir: string;
  /** Directory of the interpreter, first on PATH (AWS's /var/lang/bin). */
  interpreterBin?: string;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Where a custom runtime's bootstrap may be, in AWS's order. */
export async function findCustomBootstrap(codeDir: string, optDir: string): Promise<string | null> {
  for (const p of [path.join(codeDir, 'bootstrap'), path.join(optDir, 'bootstrap')]) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export function buildEnvironment(fn: FunctionSpec, info: RuntimeInfo, paths: EnvPaths, extra: { runtimeApi: string; logStreamName: string; credentials: Credentials }): Record<string, string> {
  const { taskRoot, runtimeDir, optDir, tmpDir } = paths;
  const systemPath = ['/usr/local/bin', '/usr/bin', '/bin', `${optDir}/bin`];
  const env: Record<string, string> = {
    PATH: [...(paths.interpreterBin ? [paths.interpreterBin] : []), ...systemPath].join(':'),
    LD_LIBRARY_PATH: [runtimeDir, `${runtimeDir}/lib`, taskRoot, `${taskRoot}/lib`, `${optDir}/lib`].join(':'),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    TMPDIR: tmpDir,
  };
  if (info.family === 'node') {
    env.NODE_PATH = [`${optDir}/nodejs/node${info.version}/node_modules`, `${optDir}/nodejs/node_modules`, `${runtimeDir}/node_modules`, runtimeDir, taskRoot].join(':');
  } else if (info.family === 'python') {
    env.PYTHONPATH = [`${optDir}/python/lib/python${info.version}/site-packages`, `${optDir}/python`, runtimeDir].join(':');
  }
  if (fn.endpointUrl) env.AWS_ENDPOINT_URL = fn.endpointUrl;
  for (const [k, v] of Object.entries(fn.environment)) {
    if (!RESERVED_ENV_VARS.has(k)) env[k] = String(v);
  }
  const reserved: Record<string, string> = {
    _HANDLER: fn.handler,
    AWS_REGION: fn.region,
    AWS_DEFAULT_REGION: fn.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: fn.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMB),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: extra.logStreamName,
    AWS_LAMBDA_RUNTIME_API: extra.runtimeApi,
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: runtimeDir,
    AWS_ACCESS_KEY_ID: extra.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: extra.credentials.secretAccessKey,
  };
  // OS-only runtimes get no AWS_EXECUTION_ENV on AWS.
  if (info.family !== 'provided') reserved.AWS_EXECUTION_ENV = `AWS_Lambda_${fn.runtime}`;
  if (extra.credentials.sessionToken) reserved.AWS_SESSION_TOKEN = extra.credentials.sessionToken;
  return Object.assign(env, reserved);
}

/**
 * Node's heap flags as AWS's Node bootstrap derives them from the memory size: 10% for
 * the young generation (half of it per semi-space), the rest for the old one. A heap
 * overflow then ends in V8's own "heap out of memory" abort rather than a kill.
 */
export function nodeMemoryArgs(memoryMB: number): string[] {
  const newSpace = Math.floor(memoryMB / 10);
  return [`--max-semi-space-size=${Math.max(1, Math.floor(newSpace / 2))}`, `--max-old-space-size=${memoryMB - newSpace}`];
}
