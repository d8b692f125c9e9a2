import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import type { OperationImpl } from '../types.js';
import { LambdaErrors } from './errors.js';
import { lambdaTime } from './config.js';
import { functionArn, parseFunctionName, type FunctionDoc, type FunctionRef, type UrlConfig, type UrlCors } from './store.js';
import { lambda } from './runtime.js';

/**
 * Function URL configurations: Create/Get/Update/Delete/ListFunctionUrlConfigs. A function
 * has at most one URL for $LATEST (no Qualifier, or Qualifier=$LATEST) and one per alias;
 * versions have none. Serving the URLs is url-serve.ts.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunctionUrlConfig.html
 */
type Input = Record<string, any>;

const NOT_THERE = 'The resource you requested does not exist.';
const NO_FUNCTION = 'Function does not exist';

/** The Qualifier pattern of the current API: $LATEST or an alias name, never a version number. */
const QUALIFIER = /^(\$LATEST|(?!^[0-9]+$)[a-zA-Z0-9-_]+)$/;
const QUALIFIER_PATTERN = '(^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))';

/** The methods AllowMethods may name (OPTIONS is answered by Lambda itself). */
const CORS_METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'PATCH', 'DELETE', '*']);

function validation(value: unknown, member: string, constraint: string) {
  const shown = value === undefined || value === null ? 'null' : `'${Array.isArray(value) ? `[${value.join(', ')}]` : value}'`;
  return LambdaErrors.ValidationException({ message: `1 validation error detected: Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}` });
}

interface UrlRef {
  ref: FunctionRef;
  /** The key in FunctionDoc.urlConfigs: '$LATEST' or the alias name. */
  key: string;
}

function urlRef(ctx: RequestContext, input: Input): UrlRef {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  if (ref.qualifier !== undefined && !(QUALIFIER.test(ref.qualifier) && ref.qualifier.length <= 128)) {
    throw validation(ref.qualifier, 'qualifier', `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`);
  }
  return { ref, key: ref.qualifier ?? '$LATEST' };
}

function checkAuthType(v: unknown, required: boolean): void {
  if (v === undefined && !required) return;
  if (v === undefined || v === null) throw validation(v, 'authType', 'Member must not be null');
  if (v !== 'NONE' && v !== 'AWS_IAM') throw validation(v, 'authType', 'Member must satisfy enum value set: [AWS_IAM, NONE]');
}

function checkInvokeMode(v: unknown): void {
  if (v !== undefined && v !== 'BUFFERED' && v !== 'RESPONSE_STREAM') throw validation(v, 'invokeMode', 'Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]');
}

/** The Cors members' constraints from the API reference (API_Cors.html). */
function checkCors(cors: UrlCors | undefined): UrlCors | undefined {
  if (cors === undefined || cors === null) return undefined;
  const lists: Array<[keyof UrlCors, number, number]> = [
    ['AllowHeaders', 100, 1024],
    ['ExposeHeaders', 100, 1024],
    ['AllowOrigins', 100, 253],
    ['AllowMethods', 6, 6],
  ];
  for (const [member, maxItems, maxLength] of lists) {
    const list = cors[member] as string[] | undefined;
    if (list === undefined) continue;
    const name = `cors.${member[0]!.toLowerCase()}${member.slice(1)}`;
    if (list.length > maxItems) throw validation(list, name, `Member must have length less than or equal to ${maxItems}`);
    for (const item of list) {
      if (item.length > maxLength) throw validation(list, `${name}.member`, `Member must have length less than or equal to ${maxLength}`);
      if (member === 'AllowOrigins' && item.length < 1) throw validation(list, `${name}.member`, 'Member must have length greater than or equal to 1');
    }
  }
  for (const m of cors.AllowMethods ?? []) {
    if (!CORS_METHODS.has(m.toUpperCase())) {
      throw LambdaErrors.InvalidParameterValueException({ message: `Invalid HTTP method ${m} in AllowMethods. You can use GET, PUT, POST, DELETE, HEAD, PATCH, and the wildcard character (*).` });
    }
  }
  if (cors.MaxAge !== undefined && (cors.MaxAge < 0 || cors.MaxAge > 86400)) {
    throw validation(cors.MaxAge, 'cors.maxAge', cors.MaxAge < 0 ? 'Member must have value greater than or equal to 0' : 'Member must have value less than or equal to 86400');
  }
  const out: UrlCors = {};
  for (const k of ['AllowCredentials', 'AllowHeaders', 'AllowMethods', 'AllowOrigins', 'ExposeHeaders', 'MaxAge'] as const) {
    if (cors[k] !== undefined) (out as Record<string, unknown>)[k] = cors[k];
  }
  // An empty Cors is no CORS configuration (OPTIONS then reaches the function).
  return Object.keys(out).length ? out : undefined;
}

/** 32 lowercase letters and digits, uniformly random (like AWS's url-ids). */
export function newUrlId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < 32) {
    for (const b of randomBytes(40)) {
      // 252 = 7 × 36: rejecting the rest keeps every character equally likely.
      if (b < 252 && out.length < 32) out += alphabet[b % 36];
    }
  }
  return out;
}

/** http://<url-id>.lambda-url.<region>.localhost:<port>/ — on the port Nimbus listens on. */
export function functionUrl(runtime: Runtime, urlId: string, region: string): string {
  const port = runtime.url ? new URL(runtime.url).port : String(runtime.config.port);
  return `http://${urlId}.lambda-url.${region}.localhost${port ? `:${port}` : ''}/`;
}

function urlArn(fn: FunctionDoc, c: UrlConfig): string {
  return functionArn(fn.Region, fn.Account, fn.FunctionName, c.Qualifier);
}

function configOut(ctx: RequestContext, fn: FunctionDoc, c: UrlConfig) {
  return {
    FunctionUrl: functionUrl(ctx.runtime, c.UrlId, fn.Region),
    FunctionArn: urlArn(fn, c),
    AuthType: c.AuthType,
    Cors: c.Cors,
    CreationTime: c.CreationTime,
    LastModifiedTime: c.LastModifiedTime,
    InvokeMode: c.InvokeMode,
  };
}

function aliasExists(fn: FunctionDoc, key: string): boolean {
  return key === '$LATEST' || fn.aliases[key] !== undefined;
}

export async function createFunctionUrlConfig(input: Input, ctx: RequestContext) {
  const { ref, key } = urlRef(ctx, input);
  checkAuthType(input.AuthType, true);
  checkInvokeMode(input.InvokeMode);
  const cors = checkCors(input.Cors);
  const urlId = newUrlId();
  const { fn, config } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException({ message: NO_FUNCTION });
    const existing = cur.urlConfigs[key];
    if (existing) {
      throw LambdaErrors.ResourceConflictException({
        message: `Failed to create function url config for [functionArn = ${urlArn(cur, existing)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
      });
    }
    if (!aliasExists(cur, key)) throw LambdaErrors.ResourceNotFoundException({ message: NO_FUNCTION });
    const at = lambdaTime();
    const config: UrlConfig = { UrlId: urlId, AuthType: input.AuthType, Cors: cors, InvokeMode: input.InvokeMode ?? 'BUFFERED', CreationTime: at, LastModifiedTime: at, Qualifier: ref.qualifier };
    const doc: FunctionDoc = { ...cur, urlConfigs: { ...cur.urlConfigs, [key]: config } };
    return { doc, result: { fn: doc, config }, urlIndex: { put: { urlId, entry: { region: cur.Region, name: cur.FunctionName, key } } } };
  });
  const { LastModifiedTime: _omitted, ...out } = configOut(ctx, fn, config);
  return out;
}

export async function getFunctionUrlConfig(input: Input, ctx: RequestContext) {
  const { ref, key } = urlRef(ctx, input);
  const fn = await lambda(ctx).store.getFunction(ref);
  const config = fn?.urlConfigs[key];
  if (!fn || !config) throw LambdaErrors.ResourceNotFoundException({ message: NOT_THERE });
  return configOut(ctx, fn, config);
}

export async function updateFunctionUrlConfig(input: Input, ctx: RequestContext) {
  const { ref, key } = urlRef(ctx, input);
  checkAuthType(input.AuthType, false);
  checkInvokeMode(input.InvokeMode);
  const cors = input.Cors !== undefined ? checkCors(input.Cors) : undefined;
  const { fn, config } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur || !aliasExists(cur, key)) throw LambdaErrors.ResourceNotFoundException({ message: NO_FUNCTION });
    const prev = cur.urlConfigs[key];
    if (!prev) throw LambdaErrors.ResourceNotFoundException({ message: NOT_THERE });
    const config: UrlConfig = {
      ...prev,
      AuthType: input.AuthType ?? prev.AuthType,
      Cors: input.Cors !== undefined ? cors : prev.Cors,
      InvokeMode: input.InvokeMode ?? prev.InvokeMode,
      LastModifiedTime: lambdaTime(),
    };
    const doc: FunctionDoc = { ...cur, urlConfigs: { ...cur.urlConfigs, [key]: config } };
    return { doc, result: { fn: doc, config } };
  });
  return configOut(ctx, fn, config);
}

export async function deleteFunctionUrlConfig(input: Input, ctx: RequestContext) {
  const { ref, key } = urlRef(ctx, input);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    const prev = cur?.urlConfigs[key];
    if (!cur || !prev) throw LambdaErrors.ResourceNotFoundException({ message: NOT_THERE });
    const { [key]: _gone, ...urlConfigs } = cur.urlConfigs;
    // As on AWS, the resource policy's URL statements stay: only the URL goes.
    return { doc: { ...cur, urlConfigs }, result: undefined, urlIndex: { remove: prev.UrlId } };
  });
  return {};
}

export async function listFunctionUrlConfigs(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  const fn = await lambda(ctx).store.getFunction(ref);
  if (!fn) throw LambdaErrors.ResourceNotFoundException({ message: NO_FUNCTION });
  const max = input.MaxItems ?? 50;
  if (max < 1 || max > 50) throw validation(max, 'maxItems', max < 1 ? 'Member must have value greater than or equal to 1' : 'Member must have value less than or equal to 50');
  // $LATEST first, then aliases by name; the marker is the last key of the previous page.
  const keys = Object.keys(fn.urlConfigs).sort((a, b) => (a === '$LATEST' ? -1 : b === '$LATEST' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  let start = 0;
  if (input.Marker) {
    const after = Buffer.from(String(input.Marker), 'base64url').toString('utf8');
    const at = keys.indexOf(after);
    start = at < 0 ? keys.length : at + 1;
  }
  const page = keys.slice(start, start + max);
  return {
    FunctionUrlConfigs: page.map((k) => configOut(ctx, fn, fn.urlConfigs[k]!)),
    NextMarker: start + max < keys.length ? Buffer.from(page[page.length - 1]!, 'utf8').toString('base64url') : undefined,
  };
}

/** The ARN the IAM action is evaluated on: qualified for an alias's URL (as Invoke is). */
function urlResource(i: Input, ctx: RequestContext): string {
  const r = parseFunctionName(ctx, i.FunctionName, i.Qualifier);
  return functionArn(r.region, r.account, r.name, r.qualifier === '$LATEST' ? undefined : r.qualifier);
}
function unqualified(i: Input, ctx: RequestContext): string {
  const r = parseFunctionName(ctx, i.FunctionName);
  return functionArn(r.region, r.account, r.name);
}
/** lambda:FunctionUrlAuthType: the auth type a Create or Update asks for (urls-auth.html#urls-governance). */
const authTypeKey = (i: Input) => (i.AuthType !== undefined ? { 'lambda:FunctionUrlAuthType': String(i.AuthType) } : {});

/** This file's part of Lambda's operation table. */
export const urlOperations: Record<string, OperationImpl> = {
  CreateFunctionUrlConfig: { handler: createFunctionUrlConfig, action: 'lambda:CreateFunctionUrlConfig', resource: urlResource, conditions: authTypeKey },
  GetFunctionUrlConfig: { handler: getFunctionUrlConfig, action: 'lambda:GetFunctionUrlConfig', resource: urlResource },
  UpdateFunctionUrlConfig: { handler: updateFunctionUrlConfig, action: 'lambda:UpdateFunctionUrlConfig', resource: urlResource, conditions: authTypeKey },
  DeleteFunctionUrlConfig: { handler: deleteFunctionUrlConfig, action: 'lambda:DeleteFunctionUrlConfig', resource: urlResource },
  ListFunctionUrlConfigs: { handler: listFunctionUrlConfigs, action: 'lambda:ListFunctionUrlConfigs', resource: unqualified },
};
