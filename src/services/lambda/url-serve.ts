import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import { collect, guardIncomplete } from '../../server/body.js';
import { parseQuery } from '../../protocol/sigv4/canonical.js';
import { parseAuth, type AuthInfo } from '../../protocol/sigv4/verify.js';
import { isServiceError } from '../../protocol/errors.js';
import { ANONYMOUS } from '../principal.js';
import { now } from '../../util/clock.js';
import { log } from '../../util/log.js';
import { functionArn, type FunctionDoc, type UrlConfig, type UrlCors } from './store.js';
import { lambda } from './runtime.js';
import { MAX_SYNC_PAYLOAD, resolveTarget, run } from './invoke.js';

/**
 * Serving function URLs: a request whose Host is `<url-id>.lambda-url.<region>.localhost`
 * becomes an HTTP API payload 2.0 event, runs through the same invoke path as Invoke
 * (resolveTarget + run), and the function's answer becomes the HTTP response.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors
 */

export interface FunctionUrlHost {
  urlId: string;
  region: string;
}

/** `<url-id>.lambda-url.<region>.localhost[:port]`, or undefined for any other host. */
export function functionUrlHost(host: string | undefined): FunctionUrlHost | undefined {
  const m = /^([a-z0-9]+)\.lambda-url\.([a-z0-9-]+)\.localhost\.?(?::\d+)?$/.exec((host ?? '').toLowerCase());
  return m ? { urlId: m[1]!, region: m[2]! } : undefined;
}

/** The pipeline's SigV4 verification (key, time, session token, signature), for AWS_IAM URLs. */
export type Authenticate = (auth: AuthInfo) => Promise<void>;

interface HttpAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

const json = (status: number, value: unknown, errorType?: string): HttpAnswer => ({
  status,
  headers: [['content-type', 'application/json'], ...(errorType ? ([['x-amzn-errortype', errorType]] as Array<[string, string]>) : [])],
  body: Buffer.from(JSON.stringify(value)),
});
/** What AWS answers for every authentication or authorization failure of a URL. */
const FORBIDDEN = () => json(403, { Message: 'Forbidden' }, 'AccessDeniedException');
/** A function error, or a response Lambda cannot turn into HTTP. */
const BAD_GATEWAY = (): HttpAnswer => ({ status: 502, headers: [['content-type', 'application/json']], body: Buffer.from('Internal Server Error') });

class Answer extends Error {
  constructor(readonly answer: HttpAnswer) {
    super('answer');
  }
}

export async function serveFunctionUrl(ctx: RequestContext, target: FunctionUrlHost, authenticate: Authenticate): Promise<void> {
  let answer: HttpAnswer;
  let cors: UrlCors | undefined;
  try {
    const found = await lambda(ctx).store.findUrl(target.urlId);
    if (!found || found.fn.Region !== target.region) throw new Answer(json(403, { Message: null }, 'AccessDeniedException'));
    const { fn, key, config } = found;
    cors = config.Cors;
    const preflight = cors && ctx.method === 'OPTIONS' && ctx.header('origin') !== undefined && ctx.header('access-control-request-method') !== undefined;
    if (preflight) {
      // Lambda answers the preflight from the CORS configuration, without the function
      // (and without authentication: browsers never sign a preflight).
      answer = { status: 200, headers: preflightHeaders(cors!, ctx), body: Buffer.alloc(0) };
      cors = undefined;
    } else {
      answer = await invokeViaUrl(ctx, fn, key, config, authenticate);
    }
  } catch (e) {
    if (e instanceof Answer) answer = e.answer;
    else {
      log.error(`request ${ctx.requestId} to function URL ${target.urlId} failed: ${(e as Error)?.stack ?? String(e)}`);
      answer = json(500, { Message: 'Internal Server Error' });
    }
  }
  send(ctx, answer, cors ? responseCorsHeaders(cors, ctx) : []);
}

async function readBody(ctx: RequestContext): Promise<Buffer> {
  const tooLarge = () => new Answer(json(413, { Message: `Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation` }, 'RequestTooLargeException'));
  const declared = Number(ctx.header('content-length') ?? 0);
  if (declared > MAX_SYNC_PAYLOAD) {
    // Read and drop a moderately large body so the client sees the 413 rather than a reset.
    if (declared <= 4 * MAX_SYNC_PAYLOAD) {
      ctx.bodyConsumed = true;
      ctx.req.resume();
    }
    throw tooLarge();
  }
  try {
    return await collect(guardIncomplete(ctx.req, () => (ctx.bodyConsumed = true)), MAX_SYNC_PAYLOAD);
  } catch (e) {
    if (isServiceError(e) && e.code === 'EntityTooLarge') throw tooLarge();
    throw new Answer(json(400, { Message: 'Bad Request' }));
  }
}

async function invokeViaUrl(ctx: RequestContext, fn: FunctionDoc, key: string, config: UrlConfig, authenticate: Authenticate): Promise<HttpAnswer> {
  const body = await readBody(ctx);
  ctx.body = body;
  try {
    ctx.query = parseQuery(ctx.rawQuery);
  } catch {
    ctx.query = [];
  }
  const qualifier = key === '$LATEST' ? undefined : key;
  const resource = functionArn(fn.Region, fn.Account, fn.FunctionName, qualifier);
  await authorizeUrl(ctx, fn, config, resource, authenticate);

  const event = buildEvent(ctx, fn, config, body);
  const payload = Buffer.from(JSON.stringify(event));
  if (payload.length > MAX_SYNC_PAYLOAD) throw new Answer(json(413, { Message: `Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation` }, 'RequestTooLargeException'));
  const t = resolveTarget(fn, { account: fn.Account, region: fn.Region, name: fn.FunctionName, qualifier });
  let result;
  try {
    result = await run(ctx.runtime, t, payload, ctx.requestId);
  } catch (e) {
    // Throttled (reserved concurrency, or 0 to switch the URL off) is 429, as on AWS.
    if (isServiceError(e) && e.code === 'TooManyRequestsException') throw new Answer(json(429, { Message: 'Rate Exceeded.' }, 'TooManyRequestsException'));
    if (isServiceError(e)) return BAD_GATEWAY();
    throw e;
  }
  if (result.functionError) return BAD_GATEWAY();
  return (config.InvokeMode === 'RESPONSE_STREAM' ? streamedResponse(result.payload) : bufferedResponse(result.payload)) ?? BAD_GATEWAY();
}

/**
 * Since October 2025 a URL needs both lambda:InvokeFunctionUrl and lambda:InvokeFunction
 * (the latter with lambda:InvokedViaFunctionUrl): for NONE the resource policy must grant
 * both to everyone; for AWS_IAM the signed caller needs both, from its identity policies
 * or the function's resource policy (both sides across accounts). urls-auth.html.
 */
async function authorizeUrl(ctx: RequestContext, fn: FunctionDoc, config: UrlConfig, resource: string, authenticate: Authenticate): Promise<void> {
  if (config.AuthType === 'AWS_IAM') {
    let auth: AuthInfo | undefined;
    try {
      auth = parseAuth(ctx);
      if (!auth || auth.service !== 'lambda' || auth.region !== fn.Region) throw new Error('not signed for lambda in this region');
      await authenticate(auth);
    } catch {
      throw new Answer(FORBIDDEN());
    }
  } else {
    ctx.principal = ANONYMOUS;
  }
  const allowed =
    (await ctx.isAllowed('lambda:InvokeFunctionUrl', resource, { 'lambda:FunctionUrlAuthType': config.AuthType })) &&
    (await ctx.isAllowed('lambda:InvokeFunction', resource, { 'lambda:InvokedViaFunctionUrl': 'true' }));
  if (!allowed) throw new Answer(FORBIDDEN());
}

/** requestContext.time: 07/Sep/2021:22:50:22 +0000. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Bodies of these content types reach the function as text; all others base64-encoded. */
function isText(contentType: string | undefined): boolean {
  const t = (contentType ?? '').toLowerCase();
  return t.startsWith('text/') || t.includes('json') || t.includes('xml') || t.includes('javascript');
}

function lenientDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function traceId(): string {
  return `Root=1-${Math.floor(now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

/** The HTTP API payload format 2.0 event, as function URLs send it (urls-invocation.html#urls-request-payload). */
function buildEvent(ctx: RequestContext, fn: FunctionDoc, config: UrlConfig, body: Buffer): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, values] of Object.entries(ctx.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      for (const v of values) for (const c of v.split(';')) if (c.trim()) cookies.push(c.trim());
      continue;
    }
    if (name === 'connection') continue;
    // Repeated headers are joined with commas, as in payload format 2.0.
    headers[name] = values.join(',');
  }
  const sourceIp = (ctx.req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const hostname = (ctx.header('host') ?? '').replace(/:\d+$/, '');
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']},${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(ctx.req.socket.localPort ?? '');
  headers['x-amzn-trace-id'] ??= traceId();

  const query: Record<string, string> = {};
  if (ctx.rawQuery) {
    for (const part of ctx.rawQuery.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const k = lenientDecode(eq < 0 ? part : part.slice(0, eq));
      const v = lenientDecode(eq < 0 ? '' : part.slice(eq + 1));
      query[k] = k in query ? `${query[k]},${v}` : v;
    }
  }
  const t = now();
  const p = ctx.principal!;
  const requestContext: Record<string, unknown> = {
    accountId: config.AuthType === 'NONE' ? 'anonymous' : fn.Account,
    apiId: config.UrlId,
    ...(config.AuthType === 'AWS_IAM'
      ? {
          authorizer: {
            iam: { accessKey: p.accessKeyId, accountId: p.accountId, callerId: p.userId, cognitoIdentity: null, principalOrgId: null, userArn: p.arn, userId: p.userId },
          },
        }
      : {}),
    domainName: hostname,
    domainPrefix: config.UrlId,
    http: {
      method: ctx.method,
      path: ctx.rawPath,
      protocol: `HTTP/${ctx.req.httpVersion}`,
      sourceIp,
      userAgent: ctx.header('user-agent') ?? '',
    },
    requestId: ctx.requestId,
    routeKey: '$default',
    stage: '$default',
    time: clfTime(t),
    timeEpoch: t,
  };
  const binary = body.length > 0 && !isText(ctx.header('content-type'));
  return {
    version: '2.0',
    routeKey: '$default',
    // The path and query string as sent, still percent-encoded (function URLs keep the encoding).
    rawPath: ctx.rawPath,
    rawQueryString: ctx.rawQuery,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext,
    ...(body.length ? { body: binary ? body.toString('base64') : body.toString('utf8') } : {}),
    isBase64Encoded: binary,
  };
}

/** Headers the function may not set: Nimbus frames the response itself. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * The function's result as HTTP (urls-invocation.html#urls-response-payload): an object with
 * statusCode is a response (headers, cookies → Set-Cookie, body, isBase64Encoded); any other
 * JSON value is a 200 application/json whose body is that JSON. Undefined: malformed (502).
 */
export function bufferedResponse(payload: Buffer): HttpAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { status: 200, headers: [['content-type', 'application/json']], body: payload };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('statusCode' in value)) {
    return { status: 200, headers: [['content-type', 'application/json']], body: payload };
  }
  const r = value as Record<string, unknown>;
  const status = Number(r.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const headers: Array<[string, string]> = [];
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return undefined;
    for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
      if (v === null || v === undefined || FRAMING.has(k.toLowerCase())) continue;
      headers.push([k.toLowerCase(), String(v)]);
    }
  }
  if (r.cookies !== undefined && r.cookies !== null) {
    if (!Array.isArray(r.cookies)) return undefined;
    for (const c of r.cookies) headers.push(['set-cookie', String(c)]);
  }
  let body: Buffer;
  if (r.body === undefined || r.body === null) body = Buffer.alloc(0);
  else if (typeof r.body === 'string') body = r.isBase64Encoded === true ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8');
  else body = Buffer.from(JSON.stringify(r.body));
  return { status, headers, body };
}

/**
 * RESPONSE_STREAM, buffered (the engine collects the stream): awslambda.HttpResponseStream
 * writes a JSON prelude (statusCode, headers, cookies) and eight zero bytes before the body;
 * without one the bytes are the body, as application/octet-stream.
 */
export function streamedResponse(payload: Buffer): HttpAnswer | undefined {
  const sep = payload.indexOf(Buffer.alloc(8));
  if (sep > 0 && payload[0] === 0x7b) {
    try {
      const prelude = JSON.parse(payload.subarray(0, sep).toString('utf8')) as Record<string, unknown>;
      const head = bufferedResponse(Buffer.from(JSON.stringify({ statusCode: 200, ...prelude, body: undefined, isBase64Encoded: false })));
      if (head) return { ...head, body: payload.subarray(sep + 8) };
    } catch {
      /* not a prelude: the bytes are the body */
    }
  }
  return { status: 200, headers: [['content-type', 'application/octet-stream']], body: payload };
}

function originAllowed(cors: UrlCors, origin: string): boolean {
  return (cors.AllowOrigins ?? []).some((o) => o === '*' || o.toLowerCase() === origin.toLowerCase());
}

/** The preflight answer; none of the CORS headers when the origin or method is not allowed. */
function preflightHeaders(cors: UrlCors, ctx: RequestContext): Array<[string, string]> {
  const origin = ctx.header('origin')!;
  const method = ctx.header('access-control-request-method')!.toUpperCase();
  const methods = (cors.AllowMethods ?? []).map((m) => m.toUpperCase());
  if (!originAllowed(cors, origin) || !(methods.includes('*') || methods.includes(method))) return [['vary', 'Origin']];
  const out: Array<[string, string]> = [['access-control-allow-origin', origin]];
  out.push(['access-control-allow-methods', methods.includes('*') ? method : methods.join(',')]);
  const requested = ctx.header('access-control-request-headers');
  const allowHeaders = cors.AllowHeaders ?? [];
  if (allowHeaders.includes('*')) {
    if (requested) out.push(['access-control-allow-headers', requested]);
  } else if (allowHeaders.length) out.push(['access-control-allow-headers', allowHeaders.join(',')]);
  if (cors.AllowCredentials) out.push(['access-control-allow-credentials', 'true']);
  if (cors.MaxAge !== undefined) out.push(['access-control-max-age', String(cors.MaxAge)]);
  out.push(['vary', 'Origin']);
  return out;
}

/** CORS headers for an actual (non-preflight) response from an allowed origin. */
function responseCorsHeaders(cors: UrlCors, ctx: RequestContext): Array<[string, string]> {
  const origin = ctx.header('origin');
  if (origin === undefined || !originAllowed(cors, origin)) return [];
  const out: Array<[string, string]> = [['access-control-allow-origin', origin]];
  if (cors.ExposeHeaders?.length) out.push(['access-control-expose-headers', cors.ExposeHeaders.join(',')]);
  if (cors.AllowCredentials) out.push(['access-control-allow-credentials', 'true']);
  out.push(['vary', 'Origin']);
  return out;
}

function send(ctx: RequestContext, a: HttpAnswer, corsHeaders: Array<[string, string]>): void {
  const { res } = ctx;
  res.statusCode = a.status;
  // The URL's CORS configuration wins over CORS headers the function set (urls-configuration.html#urls-cors).
  const overridden = new Set(corsHeaders.map(([k]) => k));
  const grouped = new Map<string, string[]>();
  for (const [k, v] of [...a.headers.filter(([k]) => !overridden.has(k)), ...corsHeaders]) {
    const list = grouped.get(k) ?? [];
    list.push(v);
    grouped.set(k, list);
  }
  try {
    for (const [k, v] of grouped) res.setHeader(k, k === 'set-cookie' ? v : v.join(', '));
    res.setHeader('x-amzn-trace-id', traceId());
  } catch {
    // A header name or value HTTP cannot carry: the response is malformed.
    for (const k of res.getHeaderNames()) if (k !== 'x-amzn-requestid') res.removeHeader(k);
    const bad = BAD_GATEWAY();
    res.statusCode = bad.status;
    for (const [k, v] of bad.headers) res.setHeader(k, v);
    a = bad;
  }
  res.setHeader('content-length', a.body.length);
  if (!ctx.req.complete && !ctx.bodyConsumed) res.setHeader('connection', 'close');
  res.end(ctx.method === 'HEAD' ? undefined : a.body);
}
