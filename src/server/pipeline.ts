import { pipeline as streamPipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { FileRange, pumpFile } from './file-body.js';
import { RequestContext, pseudoOperation } from './context.js';
import { bucketFromHost, websiteBucketFromHost } from './resolve-service.js';
import { awaitingContinue, collect, collectBody, declaresNoBody, guardIncomplete, NO_BODY, SMALL_BODY_MAX, smallBody, verifySha256 } from './body.js';
import { healthDocument } from './health.js';
import { CODE_PATH_PREFIX, serveCode } from '../services/lambda/code.js';
import { functionUrlHost, serveFunctionUrl } from '../services/lambda/url-serve.js';
import { serveWebsite } from '../services/s3/website.js';
import { EMPTY_SHA256, parseQuery, sha256Hex } from '../protocol/sigv4/canonical.js';
import { checkSignature, checkTime, parseAuth, type AuthInfo } from '../protocol/sigv4/verify.js';
import { decodeAwsChunked } from '../protocol/sigv4/chunked.js';
import { checkSignatureV2, checkTimeV2, parseAuthV2, type AuthV2 } from '../protocol/sigv2.js';
import { CommonErrors, ServiceError, isServiceError } from '../protocol/errors.js';
import type { ResponseSpec } from '../protocol/codec.js';
import type { ServiceDef } from '../services/types.js';
import { ANONYMOUS, type Credential } from '../services/principal.js';
import { hostId, s3RequestId, uuid } from '../util/ids.js';
import { clockOffset, now, nowDate } from '../util/clock.js';
import { enabled, log } from '../util/log.js';
import type { Runtime } from './runtime.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request pipeline, one way through:
 *   resolve service → authenticate (SigV4) → resolve operation → parse (codec + model)
 *   → authorize → handler → serialize; any error → catalogue → the protocol's renderer.
 */
export async function handle(req: IncomingMessage, res: ServerResponse, runtime: Runtime): Promise<void> {
  const ctx = new RequestContext(req, res, runtime);
  // Node dates responses by the wall clock; a moved clock (tests) must show in Date too.
  if (clockOffset() !== 0) res.setHeader('date', nowDate().toUTCString());
  try {
    await run(ctx);
  } catch (e) {
    await sendError(ctx, e);
  } finally {
    logRequest(ctx);
    afterResponse(ctx);
  }
}

/** The service's per-request hook, once the response is sent (S3: server access logs). */
function afterResponse(ctx: RequestContext): void {
  try {
    ctx.service?.afterResponse?.(ctx);
  } catch (e) {
    log.warn(`request ${ctx.requestId}: after-response hook failed: ${(e as Error).message}`);
  }
}

/**
 * Requests that are not AWS API calls, told apart by Host or path and answered before the
 * API stages: each door answers (true) or lets the request through (false), in order.
 */
type FrontDoor = (ctx: RequestContext) => Promise<boolean>;

/** A Lambda function URL: the whole request is the function's (any path, method, body). */
const functionUrlDoor: FrontDoor = async (ctx) => {
  const fnUrl = functionUrlHost(ctx.header('host'));
  if (!fnUrl) return false;
  // AWS_IAM URLs borrow the authenticate stage.
  const lambdaService = ctx.runtime.services.get('lambda');
  ctx.service = lambdaService;
  setRequestIds(ctx, lambdaService);
  await serveFunctionUrl(ctx, fnUrl, (auth) => authenticate(ctx, lambdaService, auth));
  return true;
};

/** The query string, parsed once for everything after the function URLs. */
const queryDoor: FrontDoor = async (ctx) => {
  try {
    ctx.query = parseQuery(ctx.rawQuery);
  } catch {
    setRequestIds(ctx, undefined);
    throw CommonErrors.InvalidArgument({ message: 'The query string is not valid percent-encoding.' });
  }
  return false;
};

/** GetFunction's Code.Location: a presigned link, no AWS signature. */
const codeLinkDoor: FrontDoor = async (ctx) => {
  if (!ctx.rawPath.startsWith(CODE_PATH_PREFIX) || ctx.method !== 'GET') return false;
  setRequestIds(ctx, undefined);
  await serveCode(ctx.runtime, ctx.rawPath, ctx.query, ctx.res);
  return true;
};

const healthDoor: FrontDoor = async (ctx) => {
  if (ctx.rawPath !== '/_nimbus/health' && ctx.rawPath !== '/_localstack/health') return false;
  setRequestIds(ctx, undefined);
  await send(ctx, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(healthDocument(ctx.runtime)) });
  return true;
};

/** A bucket's website endpoint: unsigned GET/HEAD from browsers, HTML errors (website.ts). */
const websiteDoor: FrontDoor = async (ctx) => {
  const websiteBucket = websiteBucketFromHost(ctx.header('host'));
  if (websiteBucket === undefined) return false;
  ctx.service = ctx.runtime.services.get('s3');
  ctx.operation = pseudoOperation(ctx, 'WebsiteGetObject');
  setRequestIds(ctx, ctx.service);
  await send(ctx, await serveWebsite(ctx, websiteBucket));
  return true;
};

const FRONT_DOORS: FrontDoor[] = [functionUrlDoor, queryDoor, codeLinkDoor, healthDoor, websiteDoor];

async function run(ctx: RequestContext): Promise<void> {
  const { runtime } = ctx;
  for (const door of FRONT_DOORS) if (await door(ctx)) return;
  ctx.hostBucket = bucketFromHost(ctx.header('host'));
  let auth: AuthInfo | undefined;
  let authV2: AuthV2 | undefined;
  let authError: unknown;
  try {
    authV2 = parseAuthV2(ctx);
    if (!authV2) auth = parseAuth(ctx);
  } catch (e) {
    authError = e;
  }
  // SigV2 exists only for S3.
  const service = authV2 ? runtime.services.get('s3') : runtime.services.resolve(ctx, auth?.service, () => ctx.queryParam('Version'));
  ctx.service = service;
  // S3 Control's host names the account (<account>.localhost), not a bucket.
  if (service.name === 's3control') ctx.hostBucket = undefined;
  setRequestIds(ctx, service);
  // What the service answers before authentication (S3: browsers' unsigned CORS preflights).
  const early = await service.beforeAuth?.(ctx);
  if (early) return send(ctx, early);
  if (authError) throw authError;
  if (authV2) {
    authenticateV2(ctx, service, authV2);
  } else if (!auth) {
    if (service.name !== 's3') throw CommonErrors.MissingAuthenticationToken({ message: 'Request is missing Authentication Token' });
    // An unsigned S3 request is anonymous: only what bucket policies grant to everyone.
    ctx.principal = ANONYMOUS;
    ctx.bodyStream = guardIncomplete(ctx.req, () => (ctx.bodyConsumed = true));
  } else {
    await authenticate(ctx, service, auth);
  }

  // Requests that are not operations of the model (S3: a browser's POST Object form upload).
  const direct = await service.beforeDispatch?.(ctx);
  if (direct) return send(ctx, direct);
  const model = service.model();
  const codec = service.codec;
  if (codec.needsBodyToResolve && !ctx.body) ctx.body = await readBody(ctx, service.maxBodyBytes);
  const match = codec.resolve(ctx, model);
  if (!match) {
    throw service.name === 's3'
      ? CommonErrors.MethodNotAllowed({ Method: ctx.method, ResourceType: ctx.rawPath.split('/').length > 2 ? 'OBJECT' : 'BUCKET' })
      : CommonErrors.UnknownOperation({ message: `No operation of ${service.name} matches ${ctx.method} ${ctx.rawPath}` });
  }
  ctx.operation = match.op;
  const impl = service.operations[match.op.name];
  if (!impl) {
    throw CommonErrors.NotImplemented({ message: `The operation ${match.op.name} of ${service.name} is not implemented by Nimbus yet.`, Operation: match.op.name });
  }
  if (ctx.bodyStream && !codec.streamsInput(model, match.op)) {
    ctx.body = await collectBody(ctx.bodyStream, service.maxBodyBytes);
    ctx.bodyStream = undefined;
  }
  const input = codec.parse(ctx, model, match);
  if (!impl.selfAuthorized) {
    const action = typeof impl.action === 'function' ? impl.action(input) : impl.action;
    await ctx.authorize(action, impl.resource?.(input, ctx) ?? '*', impl.conditions?.(input, ctx));
  }
  const output = await impl.handler(input, ctx);
  const spec = codec.serialize(ctx, model, match.op, output);
  if (ctx.statusOverride) spec.status = ctx.statusOverride;
  await send(ctx, spec);
}

/** Names, for the request log, what S3 serves outside its model's operations. */

/** Verifies the signature; for S3, wraps the body in the verifier its payload mode needs. */
async function authenticate(ctx: RequestContext, service: ServiceDef, auth: AuthInfo): Promise<void> {
  const cred = ctx.runtime.credentials.lookup(auth.accessKeyId);
  if (!cred) throw unknownKey(service, auth.accessKeyId);
  checkTime(auth, now());
  checkSessionToken(service, cred, auth.securityToken);
  const s3 = service.name === 's3';
  let payloadHash = auth.payloadHash;
  if (!s3) {
    ctx.body = await readBody(ctx, service.maxBodyBytes);
    const computed = sha256Hex(ctx.body);
    if (payloadHash && payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== computed) {
      throw CommonErrors.XAmzContentSHA256Mismatch();
    }
    payloadHash = payloadHash === 'UNSIGNED-PAYLOAD' ? payloadHash : computed;
  } else if (!payloadHash) {
    throw CommonErrors.InvalidRequest({ message: 'Missing required header for this request: x-amz-content-sha256' });
  }
  const check = checkSignature(ctx, auth, cred.secretAccessKey, payloadHash, s3);
  if (!check.ok) {
    const code = service.authErrors.badSignature;
    const fields: Record<string, unknown> = {};
    if (s3) {
      fields.AWSAccessKeyId = auth.accessKeyId;
      fields.StringToSign = check.stringToSign;
      fields.SignatureProvided = auth.signature;
      fields.StringToSignBytes = hexBytes(check.stringToSign);
      fields.CanonicalRequest = check.canonicalRequest;
      fields.CanonicalRequestBytes = hexBytes(check.canonicalRequest);
    }
    throw new ServiceError(code, CommonErrors.defs.SignatureDoesNotMatch, fields);
  }
  ctx.auth = auth;
  ctx.principal = cred.principal;
  noteKeyUse(ctx, service);
  if (s3) ctx.bodyStream = s3Body(ctx, auth, payloadHash, check.signingKey);
}

function unknownKey(service: ServiceDef, accessKeyId: string): ServiceError {
  const code = service.authErrors.unknownKey;
  return new ServiceError(code, { status: 403, message: code === 'InvalidAccessKeyId' ? CommonErrors.defs.InvalidAccessKeyId.message : 'The security token included in the request is invalid.' }, { AWSAccessKeyId: accessKeyId });
}

/** S3's legacy SigV2 (botocore presigns with it by default). The body is not signed. */
function authenticateV2(ctx: RequestContext, service: ServiceDef, auth: AuthV2): void {
  const cred = ctx.runtime.credentials.lookup(auth.accessKeyId);
  if (!cred) throw unknownKey(service, auth.accessKeyId);
  checkTimeV2(ctx, auth, now());
  checkSessionToken(service, cred, ctx.header('x-amz-security-token') ?? ctx.queryParam('x-amz-security-token'));
  const resource = ctx.hostBucket !== undefined ? `/${ctx.hostBucket}${ctx.rawPath}` : ctx.rawPath;
  const check = checkSignatureV2(ctx, auth, cred.secretAccessKey, resource);
  if (!check.ok) {
    throw new ServiceError('SignatureDoesNotMatch', CommonErrors.defs.SignatureDoesNotMatch, {
      AWSAccessKeyId: auth.accessKeyId,
      StringToSign: check.stringToSign,
      SignatureProvided: auth.signature,
      StringToSignBytes: hexBytes(check.stringToSign),
    });
  }
  ctx.principal = cred.principal;
  noteKeyUse(ctx, service);
  ctx.bodyStream = guardIncomplete(ctx.req, () => (ctx.bodyConsumed = true));
}

/** GetAccessKeyLastUsed and the credential report show when a user's key was last used. */
function noteKeyUse(ctx: RequestContext, service: ServiceDef): void {
  const p = ctx.principal!;
  if (p.type === 'user' && !p.session) ctx.runtime.iam.forAccount(p.accountId).noteKeyUse(p.accessKeyId, service.signingNames[0] ?? service.name, ctx.region);
}

/** Temporary credentials need their session token, and expire. */
function checkSessionToken(service: ServiceDef, cred: Credential, token: string | undefined): void {
  if (cred.sessionToken === undefined) return;
  const s3 = service.name === 's3';
  if (token !== cred.sessionToken) {
    throw s3
      ? new ServiceError('InvalidToken', { status: 400, message: 'The provided token is malformed or otherwise invalid.' })
      : new ServiceError(service.authErrors.unknownKey, { status: 403, message: 'The security token included in the request is invalid.' });
  }
  if (cred.expiration !== undefined && now() > cred.expiration) {
    throw s3
      ? new ServiceError('ExpiredToken', { status: 400, message: 'The provided token has expired.' })
      : new ServiceError('ExpiredToken', { status: 403, message: 'The security token included in the request is expired' });
  }
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

function hexBytes(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function s3Body(ctx: RequestContext, auth: AuthInfo, payloadHash: string, key: Buffer): AsyncIterable<Buffer> {
  if (declaresNoBody(ctx.req.headers) && (payloadHash === 'UNSIGNED-PAYLOAD' || HEX_SHA256.test(payloadHash))) {
    // Nothing to read: only the declared hash can be wrong (that of the empty body).
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash.toLowerCase() !== EMPTY_SHA256) {
      throw CommonErrors.XAmzContentSHA256Mismatch({ ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: EMPTY_SHA256 });
    }
    ctx.bodyConsumed = true;
    return NO_BODY;
  }
  const declared = Number(ctx.req.headers['content-length']);
  if (declared <= SMALL_BODY_MAX && ctx.req.headers['transfer-encoding'] === undefined) {
    if (payloadHash === 'UNSIGNED-PAYLOAD') return smallBody(ctx.req, undefined, () => (ctx.bodyConsumed = true));
    if (HEX_SHA256.test(payloadHash)) return smallBody(ctx.req, payloadHash, () => (ctx.bodyConsumed = true));
  }
  const raw = guardIncomplete(ctx.req, () => (ctx.bodyConsumed = true));
  const decoded = ctx.header('x-amz-decoded-content-length');
  const decodedLength = decoded !== undefined ? Number(decoded) : undefined;
  const onTrailers = (t: Record<string, string>) => (ctx.trailers = t);
  const trailerExpected = payloadHash.endsWith('-TRAILER') ? ctx.header('x-amz-trailer')?.trim() : undefined;
  switch (payloadHash) {
    case 'UNSIGNED-PAYLOAD':
      return raw;
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return decodeAwsChunked(raw, { decodedLength, onTrailers, trailerExpected });
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return decodeAwsChunked(raw, {
        decodedLength,
        onTrailers,
        trailerExpected,
        signing: { key, amzDate: auth.amzDate, scope: auth.scope, seedSignature: auth.signature },
      });
    default:
      if (HEX_SHA256.test(payloadHash)) return verifySha256(raw, payloadHash);
      if (payloadHash.startsWith('STREAMING-AWS4-ECDSA')) {
        throw CommonErrors.NotImplemented({ message: 'SigV4a (ECDSA) signing is not supported by Nimbus.' });
      }
      throw CommonErrors.InvalidArgument({
        message: 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
        ArgumentName: 'x-amz-content-sha256',
        ArgumentValue: payloadHash,
      });
  }
}

async function readBody(ctx: RequestContext, limit: number): Promise<Buffer> {
  if (ctx.body) return ctx.body;
  const declared = Number(ctx.header('content-length') ?? 0);
  if (declared > limit) throw CommonErrors.EntityTooLarge({ MaxSizeAllowed: String(limit) });
  const body = await collect(guardIncomplete(ctx.req, () => (ctx.bodyConsumed = true)), limit);
  return body;
}

function setRequestIds(ctx: RequestContext, service: ServiceDef | undefined): void {
  if (!service || service.requestIdStyle === 's3') {
    ctx.requestId = s3RequestId();
    ctx.res.setHeader('x-amz-request-id', ctx.requestId);
    ctx.res.setHeader('x-amz-id-2', hostId());
  } else {
    ctx.requestId = uuid();
    ctx.res.setHeader('x-amzn-requestid', ctx.requestId);
  }
}

/** String bodies longer than this are encoded to bytes once before sending. */
const ENCODE_ONCE_CHARS = 16 * 1024;

async function send(ctx: RequestContext, spec: ResponseSpec): Promise<void> {
  const { res } = ctx;
  ctx.responseAt = performance.now();
  res.statusCode = spec.status;
  for (const [k, v] of Object.entries(spec.headers)) res.setHeader(k, v);
  let body = spec.body;
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    // A large document (a 1000-key listing is ~300 KB of XML built by concatenation) is
    // encoded once: Buffer.byteLength for Content-Length and the socket write each walked
    // the whole string (~435 and ~300 µs of a LIST page in the profile).
    if (typeof body === 'string' && body.length > ENCODE_ONCE_CHARS) body = Buffer.from(body, 'utf8');
    if (ctx.method !== 'HEAD' && !res.hasHeader('content-length')) res.setHeader('content-length', body === undefined ? 0 : Buffer.byteLength(body));
    endResponse(ctx, ctx.method === 'HEAD' ? undefined : body);
    return;
  }
  if (ctx.method === 'HEAD') {
    if (body instanceof Readable) body.destroy();
    else if (body instanceof FileRange) body.discard();
    endResponse(ctx, undefined);
    return;
  }
  if (body instanceof FileRange && body.end !== undefined) return pumpFile(res, body as FileRange & { end: number });
  await streamPipeline(body instanceof Readable ? body : Readable.from(body), res);
}

function endResponse(ctx: RequestContext, body: string | Buffer | undefined): void {
  // A request whose body we did not read (an early error) cannot keep its connection.
  if (!ctx.req.complete && !ctx.bodyConsumed) ctx.res.setHeader('connection', 'close');
  ctx.res.end(body);
}

async function sendError(ctx: RequestContext, e: unknown): Promise<void> {
  let err: ServiceError;
  if (isServiceError(e)) {
    err = e;
  } else {
    err = CommonErrors.InternalError();
    log.error(`request ${ctx.requestId} ${ctx.method} ${ctx.rawPath} failed: ${(e as Error)?.stack ?? String(e)}`);
  }
  if (!ctx.requestId) setRequestIds(ctx, ctx.service);
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  // Services name an authorization denial differently (Lambda's AccessDeniedException).
  const denied = ctx.service?.authErrors.accessDenied;
  if (denied && err.code === 'AccessDenied') err = new ServiceError(denied, { status: err.status, message: err.message, fault: err.fault }, { ...err.fields, headers: err.headers });
  ctx.errorCode = err.code;
  const codec = ctx.service?.codec ?? ctx.runtime.services.get('s3').codec;
  const spec = codec.serializeError(ctx, err);
  if (!ctx.req.complete && !ctx.bodyConsumed && !awaitingContinue(ctx.req) && Number(ctx.header('content-length') ?? Infinity) <= 1 << 20) {
    // Drain a small unread body so the client reads the response instead of a reset;
    // a large one is cut off by closing the connection (endResponse).
    ctx.req.resume();
  }
  try {
    await send(ctx, spec);
  } catch {
    ctx.res.destroy();
  }
}

function logRequest(ctx: RequestContext): void {
  if (!enabled('info')) return;
  const ms = (performance.now() - ctx.start).toFixed(1);
  log.info(
    `${ctx.method} ${ctx.rawPath} ${ctx.service?.name ?? '-'} ${ctx.operation?.name ?? '-'} ${ctx.res.statusCode} ${ms}ms ${ctx.requestId}`,
  );
}
