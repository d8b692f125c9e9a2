import type { RequestContext } from '../../server/context.js';
import { LambdaErrors } from './errors.js';
import { accountOf, parseFunctionName, type FunctionDoc } from './store.js';
import { lambda } from './runtime.js';
import { requireFunction } from './functions.js';

/**
 * Reserved concurrency, account settings and tags.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 */
type Input = Record<string, any>;

/** The account's concurrency quota (AWS's default) and what must stay unreserved. */
export const ACCOUNT_CONCURRENCY = 1000;
const MIN_UNRESERVED = 100;

async function reservedElsewhere(ctx: RequestContext, except: string): Promise<number> {
  const fns = await lambda(ctx).store.listFunctions(accountOf(ctx), ctx.region);
  return fns.filter((f) => f.FunctionName !== except).reduce((n, f) => n + (f.reservedConcurrency ?? 0), 0);
}

export async function putFunctionConcurrency(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  if (ref.qualifier !== undefined) throw LambdaErrors.InvalidParameterValueException({ message: 'Reserved concurrency can only be set on the unqualified function.' });
  await requireFunction(ctx, ref);
  const n = input.ReservedConcurrentExecutions;
  if (!Number.isInteger(n) || n < 0) throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${n}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0` });
  const others = await reservedElsewhere(ctx, ref.name);
  if (others + n > ACCOUNT_CONCURRENCY - MIN_UNRESERVED) {
    throw LambdaErrors.InvalidParameterValueException({
      message: `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`,
    });
  }
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    return { doc: { ...cur, reservedConcurrency: n }, result: undefined };
  });
  return { ReservedConcurrentExecutions: n };
}

export async function getFunctionConcurrency(input: Input, ctx: RequestContext) {
  const fn = await requireFunction(ctx, parseFunctionName(ctx, input.FunctionName));
  return { ReservedConcurrentExecutions: fn.reservedConcurrency };
}

export async function deleteFunctionConcurrency(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  await requireFunction(ctx, ref);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const { reservedConcurrency: _r, ...rest } = cur;
    return { doc: rest as FunctionDoc, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export async function getAccountSettings(_input: Input, ctx: RequestContext) {
  const fns = await lambda(ctx).store.listFunctions(accountOf(ctx), ctx.region);
  const layers = await lambda(ctx).store.listLayers(accountOf(ctx), ctx.region);
  const reserved = fns.reduce((n, f) => n + (f.reservedConcurrency ?? 0), 0);
  const codeSize =
    fns.reduce((n, f) => n + f.latest.CodeSize + Object.values(f.versions).reduce((m, v) => m + v.CodeSize, 0), 0) +
    layers.reduce((n, l) => n + Object.values(l.versions).reduce((m, v) => m + v.CodeSize, 0), 0);
  return {
    AccountLimit: {
      TotalCodeSize: 80530636800,
      CodeSizeUnzipped: 262144000,
      CodeSizeZipped: 52428800,
      ConcurrentExecutions: ACCOUNT_CONCURRENCY,
      UnreservedConcurrentExecutions: ACCOUNT_CONCURRENCY - reserved,
    },
    AccountUsage: { TotalCodeSize: codeSize, FunctionCount: fns.length },
  };
}

// ---- tags (on the unqualified function ARN) --------------------------------------------

function refOfArn(ctx: RequestContext, arn: string) {
  const ref = parseFunctionName(ctx, arn);
  if (!String(decodeURIComponent(arn)).startsWith('arn:')) throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})` });
  if (ref.qualifier !== undefined) throw LambdaErrors.InvalidParameterValueException({ message: 'Tags are not supported on function versions or aliases.' });
  return ref;
}

export async function tagResource(input: Input, ctx: RequestContext) {
  const ref = refOfArn(ctx, input.Resource);
  await requireFunction(ctx, ref);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const tags = { ...cur.tags, ...(input.Tags ?? {}) };
    if (Object.keys(tags).length > 50) throw LambdaErrors.InvalidParameterValueException({ message: 'Number of tags exceeds resource tag limit.' });
    return { doc: { ...cur, tags }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export async function untagResource(input: Input, ctx: RequestContext) {
  const ref = refOfArn(ctx, input.Resource);
  await requireFunction(ctx, ref);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const tags = { ...cur.tags };
    for (const k of input.TagKeys ?? []) delete tags[k];
    return { doc: { ...cur, tags }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export async function listTags(input: Input, ctx: RequestContext) {
  const fn = await requireFunction(ctx, refOfArn(ctx, input.Resource));
  return { Tags: fn.tags };
}
