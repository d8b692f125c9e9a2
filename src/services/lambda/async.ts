import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import { now } from '../../util/clock.js';
import { log } from '../../util/log.js';
import { uuid } from '../../util/ids.js';
import { LambdaErrors } from './errors.js';
import { lambdaTime } from './config.js';
import { functionArn, parseFunctionName, type EventInvokeConfig, type FunctionDoc, type FunctionRef } from './store.js';
import { lambda } from './runtime.js';
import { requireFunction } from './functions.js';
import { resolveTarget, run } from './invoke.js';

/**
 * Asynchronous invocation (InvocationType Event): the event is written to the metadata
 * store before the 202, so an acknowledged event survives kill -9, and a worker runs it.
 * A failed run (function error, crash, timeout) is retried MaximumRetryAttempts times
 * (default 2) after the configured delays (AWS: about 1 and 2 minutes); a throttled one
 * waits and tries again; an event older than MaximumEventAgeInSeconds (default 6 h) is
 * dropped. Then the OnSuccess / OnFailure destination, if any, gets AWS's invocation
 * record. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 */
const EVENT = 'lambda.event';
type Input = Record<string, any>;

interface QueuedEvent {
  id: string;
  account: string;
  region: string;
  name: string;
  qualifier?: string;
  /** base64 */
  payload: string;
  enqueuedAt: number;
  /** Runs so far that failed (throttles do not count). */
  failures: number;
  nextAt: number;
}

interface Worker {
  timer?: NodeJS.Timeout;
  running: Set<string>;
  loaded: boolean;
}
const workers = new WeakMap<Runtime, Worker>();

function worker(runtime: Runtime): Worker {
  let w = workers.get(runtime);
  if (!w) {
    w = { running: new Set(), loaded: false };
    workers.set(runtime, w);
  }
  return w;
}

export async function enqueueEvent(runtime: Runtime, ref: FunctionRef, payload: Buffer, requestId: string): Promise<void> {
  const t = now();
  const ev: QueuedEvent = { id: requestId || uuid(), account: ref.account, region: ref.region, name: ref.name, qualifier: ref.qualifier, payload: payload.toString('base64'), enqueuedAt: t, failures: 0, nextAt: t };
  await runtime.store.transaction((tx) => tx.docs.put(ev.account, EVENT, ev.id, ev));
  schedule(runtime, 0);
}

/** Picks up events left queued by an earlier run (after a restart or a crash). */
export async function resumeAsyncInvocations(runtime: Runtime): Promise<void> {
  const w = worker(runtime);
  if (w.loaded) return;
  w.loaded = true;
  for (const acct of await runtime.store.docs.accounts()) {
    if ((await runtime.store.docs.list(acct, EVENT)).length) {
      schedule(runtime, 0);
      return;
    }
  }
}

export function stopAsyncInvocations(runtime: Runtime): void {
  const w = workers.get(runtime);
  if (w?.timer) clearTimeout(w.timer);
  if (w) w.timer = undefined;
}

function schedule(runtime: Runtime, delayMs: number): void {
  const w = worker(runtime);
  if (w.timer) clearTimeout(w.timer);
  w.timer = setTimeout(() => {
    w.timer = undefined;
    tick(runtime).catch((e) => log.error(`async invoke worker: ${(e as Error).stack ?? e}`));
  }, Math.max(0, delayMs));
  w.timer.unref?.();
}

async function tick(runtime: Runtime): Promise<void> {
  const w = worker(runtime);
  const t = now();
  let next = Infinity;
  for (const acct of await runtime.store.docs.accounts()) {
    for (const ev of await runtime.store.docs.list<QueuedEvent>(acct, EVENT)) {
      if (w.running.has(ev.id)) continue;
      if (ev.nextAt > t) {
        next = Math.min(next, ev.nextAt);
        continue;
      }
      w.running.add(ev.id);
      runEvent(runtime, ev)
        .catch((e) => log.error(`async invoke ${ev.id} of ${ev.name}: ${(e as Error).stack ?? e}`))
        .finally(() => {
          w.running.delete(ev.id);
          schedule(runtime, 0);
        });
    }
  }
  if (next !== Infinity) schedule(runtime, next - now());
}

function configOf(fn: FunctionDoc, qualifier: string | undefined): EventInvokeConfig | undefined {
  return fn.eventInvokeConfigs[qualifier ?? '$LATEST'];
}

async function runEvent(runtime: Runtime, ev: QueuedEvent): Promise<void> {
  const done = () => runtime.store.transaction((tx) => tx.docs.delete(ev.account, EVENT, ev.id));
  const ref: FunctionRef = { account: ev.account, region: ev.region, name: ev.name, qualifier: ev.qualifier };
  const fn = await lambda(runtime).store.getFunction(ref);
  if (!fn) return void (await done());
  const cfg = configOf(fn, ev.qualifier);
  const maxAge = (cfg?.MaximumEventAgeInSeconds ?? 21600) * 1000;
  const maxRetries = cfg?.MaximumRetryAttempts ?? 2;
  const payload = Buffer.from(ev.payload, 'base64');
  const record = (condition: string, response?: { statusCode: number; executedVersion?: string; functionError?: string; payload?: Buffer }) => ({
    version: '1.0',
    timestamp: new Date(now()).toISOString(),
    requestContext: { requestId: ev.id, functionArn: functionArn(ev.region, ev.account, ev.name, ev.qualifier ?? '$LATEST'), condition, approximateInvokeCount: ev.failures + 1 },
    requestPayload: parseOr(payload),
    responseContext: response ? { statusCode: response.statusCode, executedVersion: response.executedVersion, functionError: response.functionError } : undefined,
    responsePayload: response?.payload ? parseOr(response.payload) : undefined,
  });
  if (now() - ev.enqueuedAt > maxAge) {
    await done();
    await deliver(runtime, fn, cfg?.DestinationConfig?.OnFailure?.Destination, record('EventAgeExceeded'));
    return;
  }
  let outcome: { ok: boolean; statusCode: number; executedVersion?: string; functionError?: string; payload?: Buffer };
  try {
    const t = resolveTarget(fn, ref);
    const r = await run(runtime, t, payload, ev.id);
    outcome = { ok: !r.functionError, statusCode: 200, executedVersion: r.executedVersion, functionError: r.functionError, payload: r.payload };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'TooManyRequestsException') {
      // Throttled: not a failure; try again shortly (AWS keeps trying for up to 6 hours).
      await runtime.store.transaction((tx) => tx.docs.put(ev.account, EVENT, ev.id, { ...ev, nextAt: now() + 1000 }));
      return;
    }
    outcome = { ok: false, statusCode: (e as { status?: number }).status ?? 500, functionError: code ?? 'ServiceException' };
  }
  if (outcome.ok) {
    await done();
    await deliver(runtime, fn, cfg?.DestinationConfig?.OnSuccess?.Destination, record('Success', outcome));
    return;
  }
  if (ev.failures < maxRetries) {
    const delays = runtime.config.lambdaRetryDelaysMs;
    const delay = delays[Math.min(ev.failures, delays.length - 1)] ?? 60_000;
    await runtime.store.transaction((tx) => tx.docs.put(ev.account, EVENT, ev.id, { ...ev, failures: ev.failures + 1, nextAt: now() + delay }));
    return;
  }
  await done();
  await deliver(runtime, fn, cfg?.DestinationConfig?.OnFailure?.Destination, record('RetriesExhausted', outcome));
}

function parseOr(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return b.toString('utf8');
  }
}

/** Sends an invocation record to a destination: another function now (SQS, EventBridge later). */
async function deliver(runtime: Runtime, fn: FunctionDoc, destination: string | undefined, record: unknown): Promise<void> {
  if (!destination) return;
  const m = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/.exec(destination);
  if (!m) {
    log.warn(`async invoke of ${fn.FunctionName}: destination ${destination} is not supported yet (only Lambda functions)`);
    return;
  }
  const target: FunctionRef = { region: m[1]!, account: m[2]!, name: m[3]!, qualifier: m[4] };
  if (!(await lambda(runtime).store.getFunction(target))) {
    log.warn(`async invoke of ${fn.FunctionName}: destination function ${destination} does not exist`);
    return;
  }
  await enqueueEvent(runtime, target, Buffer.from(JSON.stringify(record)), uuid());
}

// ---- event invoke configuration -------------------------------------------------------

function checkConfig(input: Input): void {
  const r = input.MaximumRetryAttempts;
  if (r !== undefined && (r < 0 || r > 2)) {
    throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${r}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value ${r < 0 ? 'greater than or equal to 0' : 'less than or equal to 2'}` });
  }
  const a = input.MaximumEventAgeInSeconds;
  if (a !== undefined && (a < 60 || a > 21600)) {
    throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${a}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value ${a < 60 ? 'greater than or equal to 60' : 'less than or equal to 21600'}` });
  }
  for (const d of [input.DestinationConfig?.OnSuccess?.Destination, input.DestinationConfig?.OnFailure?.Destination]) {
    if (d !== undefined && !/^arn:aws[a-zA-Z-]*:(lambda|sqs|sns|events|s3):/.test(d)) {
      throw LambdaErrors.InvalidParameterValueException({ message: `The provided destination config DestinationConfig(onSuccess=…, onFailure=…) is invalid: ${d} is not a supported destination ARN.` });
    }
  }
}

function configOut(fn: FunctionDoc, qualifier: string, c: EventInvokeConfig) {
  return {
    LastModified: new Date(Date.parse(c.LastModified.replace('+0000', 'Z'))),
    FunctionArn: functionArn(fn.Region, fn.Account, fn.FunctionName, qualifier),
    MaximumRetryAttempts: c.MaximumRetryAttempts,
    MaximumEventAgeInSeconds: c.MaximumEventAgeInSeconds,
    DestinationConfig: c.DestinationConfig ?? { OnSuccess: {}, OnFailure: {} },
  };
}

function qualifierOf(fn: FunctionDoc, ref: FunctionRef): string {
  const q = ref.qualifier ?? '$LATEST';
  if (q !== '$LATEST' && !fn.versions[q] && !fn.aliases[q]) throw LambdaErrors.ResourceNotFoundException({ message: `Function not found: ${functionArn(fn.Region, fn.Account, fn.FunctionName, q)}` });
  return q;
}

async function writeConfig(input: Input, ctx: RequestContext, merge: boolean) {
  checkConfig(input);
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  await requireFunction(ctx, ref);
  const { fn, q, c } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const q = qualifierOf(cur, ref);
    const prev = cur.eventInvokeConfigs[q];
    if (merge && !prev) throw LambdaErrors.ResourceNotFoundException({ message: `The function ${functionArn(cur.Region, cur.Account, cur.FunctionName, q)} doesn't have an EventInvokeConfig` });
    const base = merge ? prev! : ({} as Partial<EventInvokeConfig>);
    const c: EventInvokeConfig = {
      MaximumRetryAttempts: input.MaximumRetryAttempts ?? base.MaximumRetryAttempts,
      MaximumEventAgeInSeconds: input.MaximumEventAgeInSeconds ?? base.MaximumEventAgeInSeconds,
      DestinationConfig: input.DestinationConfig !== undefined ? { ...(merge ? base.DestinationConfig : {}), ...input.DestinationConfig } : base.DestinationConfig,
      LastModified: lambdaTime(),
    };
    const doc = { ...cur, eventInvokeConfigs: { ...cur.eventInvokeConfigs, [q]: c } };
    return { doc, result: { fn: doc, q, c } };
  });
  return configOut(fn, q, c);
}

export const putFunctionEventInvokeConfig = (input: Input, ctx: RequestContext) => writeConfig(input, ctx, false);
export const updateFunctionEventInvokeConfig = (input: Input, ctx: RequestContext) => writeConfig(input, ctx, true);

export async function getFunctionEventInvokeConfig(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  const fn = await requireFunction(ctx, ref);
  const q = qualifierOf(fn, ref);
  const c = fn.eventInvokeConfigs[q];
  if (!c) throw LambdaErrors.ResourceNotFoundException({ message: `The function ${functionArn(fn.Region, fn.Account, fn.FunctionName, q)} doesn't have an EventInvokeConfig` });
  return configOut(fn, q, c);
}

export async function deleteFunctionEventInvokeConfig(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  await requireFunction(ctx, ref);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const q = qualifierOf(cur, ref);
    if (!cur.eventInvokeConfigs[q]) throw LambdaErrors.ResourceNotFoundException({ message: `The function ${functionArn(cur.Region, cur.Account, cur.FunctionName, q)} doesn't have an EventInvokeConfig` });
    const { [q]: _gone, ...rest } = cur.eventInvokeConfigs;
    return { doc: { ...cur, eventInvokeConfigs: rest }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export async function listFunctionEventInvokeConfigs(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  const fn = await requireFunction(ctx, ref);
  const all = Object.entries(fn.eventInvokeConfigs).sort(([a], [b]) => (a < b ? -1 : 1));
  const max = input.MaxItems ?? 50;
  const start = input.Marker ? Number(Buffer.from(String(input.Marker), 'base64url').toString()) : 0;
  const page = all.slice(start, start + max);
  return {
    FunctionEventInvokeConfigs: page.map(([q, c]) => configOut(fn, q, c)),
    NextMarker: start + max < all.length ? Buffer.from(String(start + max)).toString('base64url') : undefined,
  };
}
