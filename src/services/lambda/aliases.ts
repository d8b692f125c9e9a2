import type { RequestContext } from '../../server/context.js';
import { LambdaErrors } from './errors.js';
import { revisionId } from './config.js';
import { functionArn, parseFunctionName, type AliasDoc, type FunctionDoc } from './store.js';
import { lambda } from './runtime.js';
import { requireFunction } from './functions.js';

/**
 * Aliases: a name for a version, optionally splitting traffic with a second version.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
 */
type Input = Record<string, any>;

function aliasOut(fn: FunctionDoc, a: AliasDoc) {
  return {
    AliasArn: functionArn(fn.Region, fn.Account, fn.FunctionName, a.Name),
    Name: a.Name,
    FunctionVersion: a.FunctionVersion,
    Description: a.Description,
    RoutingConfig: a.RoutingConfig,
    RevisionId: a.RevisionId,
  };
}

function checkName(name: string): void {
  if (!/^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/.test(name) || name.length > 128) {
    throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)` });
  }
}

function checkVersion(fn: FunctionDoc, v: string): void {
  if (v !== '$LATEST' && !fn.versions[v]) {
    throw LambdaErrors.ResourceNotFoundException({ message: `Function not found: ${functionArn(fn.Region, fn.Account, fn.FunctionName, v)}` });
  }
}

/** One additional version, a weight in [0, 1], and never the primary version itself. */
function checkRouting(fn: FunctionDoc, primary: string, routing: AliasDoc['RoutingConfig']): AliasDoc['RoutingConfig'] {
  const weights = routing?.AdditionalVersionWeights;
  if (!weights || Object.keys(weights).length === 0) return undefined;
  if (Object.keys(weights).length > 1) throw LambdaErrors.InvalidParameterValueException({ message: 'Number of items in AdditionalVersionWeights cannot be greater than 1' });
  for (const [v, w] of Object.entries(weights)) {
    if (!(w >= 0 && w <= 1)) throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${w}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]` });
    if (v === primary) throw LambdaErrors.InvalidParameterValueException({ message: `Invalid function version ${v}. Function version ${v} is already included in routing configuration.` });
    if (v === '$LATEST' || primary === '$LATEST') throw LambdaErrors.InvalidParameterValueException({ message: 'The alias routing configuration cannot route traffic to $LATEST; use published versions.' });
    checkVersion(fn, v);
  }
  return { AdditionalVersionWeights: weights };
}

export async function createAlias(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  checkName(input.Name);
  await requireFunction(ctx, ref);
  const { fn, a } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    if (cur.aliases[input.Name]) throw LambdaErrors.ResourceConflictException({ message: `Alias already exists: ${functionArn(cur.Region, cur.Account, cur.FunctionName, input.Name)}` });
    checkVersion(cur, input.FunctionVersion);
    const a: AliasDoc = { Name: input.Name, FunctionVersion: input.FunctionVersion, Description: input.Description ?? '', RoutingConfig: checkRouting(cur, input.FunctionVersion, input.RoutingConfig), RevisionId: revisionId() };
    const doc = { ...cur, aliases: { ...cur.aliases, [a.Name]: a } };
    return { doc, result: { fn: doc, a } };
  });
  ctx.statusOverride = 201;
  return aliasOut(fn, a);
}

export async function getAlias(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  const fn = await requireFunction(ctx, ref);
  const a = fn.aliases[input.Name];
  if (!a) throw LambdaErrors.ResourceNotFoundException({ message: `Cannot find alias arn: ${functionArn(fn.Region, fn.Account, fn.FunctionName, input.Name)}` });
  return aliasOut(fn, a);
}

export async function updateAlias(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  await requireFunction(ctx, ref);
  const { fn, a } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const prev = cur.aliases[input.Name];
    if (!prev) throw LambdaErrors.ResourceNotFoundException({ message: `Cannot find alias arn: ${functionArn(cur.Region, cur.Account, cur.FunctionName, input.Name)}` });
    if (input.RevisionId !== undefined && input.RevisionId !== prev.RevisionId) throw LambdaErrors.PreconditionFailedException();
    const version = input.FunctionVersion ?? prev.FunctionVersion;
    checkVersion(cur, version);
    const a: AliasDoc = {
      ...prev,
      FunctionVersion: version,
      Description: input.Description ?? prev.Description,
      RoutingConfig: input.RoutingConfig !== undefined ? checkRouting(cur, version, input.RoutingConfig) : checkRouting(cur, version, prev.RoutingConfig),
      RevisionId: revisionId(),
    };
    const doc = { ...cur, aliases: { ...cur.aliases, [a.Name]: a } };
    return { doc, result: { fn: doc, a } };
  });
  return aliasOut(fn, a);
}

export async function deleteAlias(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  await requireFunction(ctx, ref);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur?.aliases[input.Name]) return { doc: undefined, result: undefined };
    const { [input.Name]: _gone, ...aliases } = cur.aliases;
    const { [input.Name]: _p, ...policy } = cur.policy;
    const { [input.Name]: _e, ...eventInvokeConfigs } = cur.eventInvokeConfigs;
    const { [input.Name]: _u, ...urlConfigs } = cur.urlConfigs;
    return { doc: { ...cur, aliases, policy, eventInvokeConfigs, urlConfigs }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export async function listAliases(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  const fn = await requireFunction(ctx, ref);
  const all = Object.values(fn.aliases)
    .filter((a) => input.FunctionVersion === undefined || a.FunctionVersion === input.FunctionVersion)
    .sort((a, b) => (a.Name < b.Name ? -1 : 1));
  const max = input.MaxItems ?? 50;
  const after = input.Marker ? Buffer.from(String(input.Marker), 'base64url').toString() : undefined;
  let start = after === undefined ? 0 : all.findIndex((a) => a.Name > after);
  if (start < 0) start = all.length;
  const page = all.slice(start, start + max);
  return { Aliases: page.map((a) => aliasOut(fn, a)), NextMarker: start + max < all.length ? Buffer.from(page[page.length - 1]!.Name).toString('base64url') : undefined };
}
