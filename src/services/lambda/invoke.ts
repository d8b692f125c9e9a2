import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import { LambdaEngineError, TooManyRequestsError, type FunctionSpec, type InvokeResult } from '../../runtime/lambda/index.js';
import { uuid } from '../../util/ids.js';
import { LambdaErrors } from './errors.js';
import { codeDir } from './code.js';
import { functionArn, parseFunctionName, type FunctionDoc, type FunctionRef, type VersionConfig } from './store.js';
import { lambda, noteLogGroupOwner } from './runtime.js';
import { layerDirs } from './layers.js';
import { notFound, requireFunction } from './functions.js';
import { enqueueEvent } from './async.js';

/**
 * Invoke: RequestResponse (6 MB each way), Event (queued, 1 MB; see async.ts) and DryRun,
 * on $LATEST, a version or an alias (with its weighted routing).
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
type Input = Record<string, any>;

export const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
export const MAX_ASYNC_PAYLOAD = 1024 * 1024;

export interface Target {
  fn: FunctionDoc;
  config: VersionConfig;
  /** The ARN as invoked (qualified by the alias or version the caller named). */
  invokedArn: string;
}

/** What a qualifier invokes; an alias with routing picks one of its two versions at random. */
export function resolveTarget(fn: FunctionDoc, ref: FunctionRef): Target {
  const q = ref.qualifier;
  const invokedArn = functionArn(fn.Region, fn.Account, fn.FunctionName, q);
  if (q === undefined || q === '$LATEST') return { fn, config: fn.latest, invokedArn };
  if (/^\d+$/.test(q)) {
    const v = fn.versions[q];
    if (!v) throw notFound(ref, q);
    return { fn, config: v, invokedArn };
  }
  const alias = fn.aliases[q];
  if (!alias) throw notFound(ref, q);
  let version = alias.FunctionVersion;
  const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
  let r = Math.random();
  for (const [v, w] of Object.entries(weights)) {
    if (r < w) {
      version = v;
      break;
    }
    r -= w;
  }
  const config = version === '$LATEST' ? fn.latest : fn.versions[version];
  if (!config) throw notFound(ref, version);
  return { fn, config, invokedArn };
}

function checkActive(t: Target): void {
  const c = t.config;
  if (c.State !== 'Active') {
    throw LambdaErrors.ResourceConflictException({ message: `The operation cannot be performed at this time. The function is currently in the following state: ${c.State}` });
  }
}

/** Lambda refuses a payload that is not JSON (an empty one is fine). */
function checkJson(payload: Buffer): void {
  if (payload.length === 0) return;
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw LambdaErrors.InvalidRequestContentException({ message: `Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}` });
  }
}

/** The engine's description of one configuration of a function. */
export async function specFor(runtime: Runtime, t: Target): Promise<FunctionSpec> {
  const { fn, config: c } = t;
  const l = lambda(runtime);
  const arn = functionArn(fn.Region, fn.Account, fn.FunctionName);
  noteLogGroupOwner(c.LoggingConfig.LogGroup, fn.Account, fn.Region);
  return {
    functionName: fn.FunctionName,
    functionArn: arn,
    version: c.Version,
    runtime: c.Runtime!,
    handler: c.Handler ?? '',
    codeDir: await codeDir(runtime, c.CodeKey),
    layerDirs: await layerDirs(runtime, fn, c.Layers),
    memoryMB: c.MemorySize,
    timeoutSec: c.Timeout,
    ephemeralStorageMB: c.EphemeralStorage.Size,
    environment: c.Environment ?? {},
    region: fn.Region,
    logGroupName: c.LoggingConfig.LogGroup,
    reservedConcurrency: fn.reservedConcurrency,
    credentials: () => l.roleCredentials(c.Role, fn.FunctionName),
    endpointUrl: runtime.url,
    configKey: `${c.Version}:${c.RevisionId}:${c.CodeKey}`,
  };
}

/** Runs one invocation through the engine, with the engine's errors in Lambda's words. */
export async function run(runtime: Runtime, t: Target, payload: Buffer, requestId: string, clientContext?: string): Promise<InvokeResult> {
  const spec = await specFor(runtime, t);
  try {
    return await lambda(runtime).engine.invoke(spec, payload.length ? payload : Buffer.from('{}'), { requestId, invokedFunctionArn: t.invokedArn, clientContext });
  } catch (e) {
    if (e instanceof TooManyRequestsError) throw LambdaErrors.TooManyRequestsException({ message: 'Rate Exceeded.', Reason: e.reason });
    if (e instanceof LambdaEngineError) {
      const def = LambdaErrors[e.code as 'ServiceException'] ?? LambdaErrors.ServiceException;
      throw def({ message: e.message });
    }
    throw e;
  }
}

export async function invoke(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  const fn = await requireFunction(ctx, ref);
  const type = input.InvocationType ?? 'RequestResponse';
  const payload: Buffer = input.Payload ?? Buffer.alloc(0);
  const t = resolveTarget(fn, ref);
  if (type === 'DryRun') {
    ctx.statusOverride = 204;
    return { StatusCode: 204 };
  }
  if (type === 'Event') {
    if (payload.length > MAX_ASYNC_PAYLOAD) throw LambdaErrors.RequestTooLargeException({ message: `Request must be smaller than ${MAX_ASYNC_PAYLOAD} bytes for the InvokeAsync operation` });
    checkJson(payload);
    checkActive(t);
    await enqueueEvent(ctx.runtime, { account: fn.Account, region: fn.Region, name: fn.FunctionName, qualifier: ref.qualifier }, payload, ctx.requestId);
    ctx.statusOverride = 202;
    return { StatusCode: 202 };
  }
  if (type !== 'RequestResponse') throw LambdaErrors.InvalidParameterValueException({ message: `Unsupported invocation type ${type}` });
  if (payload.length > MAX_SYNC_PAYLOAD) throw LambdaErrors.RequestTooLargeException({ message: `Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation` });
  checkJson(payload);
  checkActive(t);
  const clientContext = input.ClientContext ? Buffer.from(String(input.ClientContext), 'base64').toString('utf8') : undefined;
  const r = await run(ctx.runtime, t, payload, ctx.requestId || uuid(), clientContext);
  return {
    StatusCode: 200,
    FunctionError: r.functionError,
    LogResult: input.LogType === 'Tail' ? Buffer.from(r.logTail, 'utf8').toString('base64') : undefined,
    ExecutedVersion: r.executedVersion,
    Payload: r.payload,
  };
}
