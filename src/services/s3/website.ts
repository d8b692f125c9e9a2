import { STATUS_CODES } from 'node:http';
import type { RequestContext } from '../../server/context.js';
import type { ResponseSpec } from '../../protocol/codec.js';
import { isServiceError, type ServiceError } from '../../protocol/errors.js';
import { uriDecode, uriEncode } from '../../protocol/sigv4/canonical.js';
import { parseTimestamp } from '../../protocol/timestamps.js';
import type { BucketRecord } from '../../storage/metadata.js';
import { ANONYMOUS } from '../principal.js';
import { escapeXml } from '../../util/xml.js';
import { log } from '../../util/log.js';
import { S3Errors } from './errors.js';
import { requireBucket } from './common.js';
import { bucketConfig, storeBucketConfig } from './bucket-configs.js';
import { getObject } from './objects.js';
import { applyCors } from './cors.js';

/**
 * Static website hosting: PutBucketWebsite / GetBucketWebsite / DeleteBucketWebsite, and
 * the website endpoint (`<bucket>.s3-website[-.]<region>.localhost`) that serves a
 * configured bucket to browsers: index and error documents, redirects, HTML error pages.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteHosting.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-to-page-redirect.html
 */
interface Redirect {
  HostName?: string;
  HttpRedirectCode?: string;
  Protocol?: string;
  ReplaceKeyPrefixWith?: string;
  ReplaceKeyWith?: string;
}

interface RoutingRule {
  Condition?: { KeyPrefixEquals?: string; HttpErrorCodeReturnedEquals?: string };
  Redirect: Redirect;
}

export interface WebsiteConfiguration {
  IndexDocument?: { Suffix: string };
  ErrorDocument?: { Key: string };
  RedirectAllRequestsTo?: { HostName: string; Protocol?: string };
  RoutingRules?: RoutingRule[];
}

const WEBSITE = 'website';
const BAD_PROTOCOL = 'Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.';

type Input = Record<string, any>;

function checkProtocol(p: string | undefined): void {
  if (p !== undefined && p !== 'http' && p !== 'https') throw S3Errors.InvalidRequest({ message: BAD_PROTOCOL });
}

/** The checks PutBucketWebsite makes, in S3's words. */
function validateWebsite(c: Input): WebsiteConfiguration {
  if (c.RedirectAllRequestsTo) {
    if (c.IndexDocument || c.ErrorDocument || c.RoutingRules) {
      throw S3Errors.InvalidArgument({
        message: 'RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.',
        ArgumentName: 'RedirectAllRequestsTo',
        ArgumentValue: 'not null',
      });
    }
    if (!c.RedirectAllRequestsTo.HostName) throw S3Errors.MalformedXML();
    checkProtocol(c.RedirectAllRequestsTo.Protocol);
    return { RedirectAllRequestsTo: { HostName: c.RedirectAllRequestsTo.HostName, Protocol: c.RedirectAllRequestsTo.Protocol } };
  }
  if (!c.IndexDocument) {
    throw S3Errors.InvalidArgument({ message: 'A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty', ArgumentName: 'IndexDocument', ArgumentValue: 'null' });
  }
  const suffix = c.IndexDocument.Suffix as string | undefined;
  if (!suffix || suffix.includes('/')) {
    throw S3Errors.InvalidArgument({ message: 'The IndexDocument Suffix is not well formed', ArgumentName: 'IndexDocument', ArgumentValue: suffix || 'null' });
  }
  const out: WebsiteConfiguration = { IndexDocument: { Suffix: suffix } };
  if (c.ErrorDocument) {
    if (!c.ErrorDocument.Key) throw S3Errors.MalformedXML();
    out.ErrorDocument = { Key: c.ErrorDocument.Key };
  }
  if (c.RoutingRules) {
    const rules = c.RoutingRules as Array<Partial<RoutingRule>>;
    if (rules.length === 0) throw S3Errors.MalformedXML();
    out.RoutingRules = rules.map((r) => {
      if (!r.Redirect) throw S3Errors.MalformedXML();
      const d = r.Redirect;
      if (d.ReplaceKeyPrefixWith !== undefined && d.ReplaceKeyWith !== undefined) {
        throw S3Errors.InvalidRequest({ message: 'You can only define ReplaceKeyPrefix or ReplaceKey but not both.' });
      }
      checkProtocol(d.Protocol);
      if (d.HttpRedirectCode !== undefined && (!/^3\d\d$/.test(d.HttpRedirectCode) || d.HttpRedirectCode === '300')) {
        throw S3Errors.InvalidRequest({ message: `The provided HTTP redirect code (${d.HttpRedirectCode}) is not valid. Valid codes are 3XX except 300.` });
      }
      const cond = r.Condition;
      if (cond !== undefined) {
        if (cond.KeyPrefixEquals === undefined && cond.HttpErrorCodeReturnedEquals === undefined) {
          throw S3Errors.InvalidRequest({ message: "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present." });
        }
        const code = cond.HttpErrorCodeReturnedEquals;
        if (code !== undefined && !/^[45]\d\d$/.test(code)) {
          throw S3Errors.InvalidRequest({ message: `The provided HTTP error code (${code}) is not valid. Valid codes are 4XX or 5XX.` });
        }
      }
      return {
        Condition: cond && { KeyPrefixEquals: cond.KeyPrefixEquals, HttpErrorCodeReturnedEquals: cond.HttpErrorCodeReturnedEquals },
        Redirect: { HostName: d.HostName, HttpRedirectCode: d.HttpRedirectCode, Protocol: d.Protocol, ReplaceKeyPrefixWith: d.ReplaceKeyPrefixWith, ReplaceKeyWith: d.ReplaceKeyWith },
      };
    });
  }
  return out;
}

export async function putBucketWebsite(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  if (!input.WebsiteConfiguration) throw S3Errors.MalformedXML();
  await storeBucketConfig(ctx, bucket, WEBSITE, validateWebsite(input.WebsiteConfiguration));
  return {};
}

export async function getBucketWebsite(input: Input, ctx: RequestContext) {
  const found = await bucketConfig<WebsiteConfiguration>(ctx, input.Bucket, WEBSITE);
  if (!found) throw S3Errors.NoSuchBucket({ BucketName: input.Bucket });
  if (!found.config) throw S3Errors.NoSuchWebsiteConfiguration({ BucketName: input.Bucket });
  return found.config;
}

export async function deleteBucketWebsite(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await storeBucketConfig(ctx, bucket, WEBSITE, undefined);
  return {};
}

// ---------------------------------------------------------------------------------------
// The website endpoint.

const encodeKey = (key: string) => key.split('/').map(uriEncode).join('/');
const redirect = (status: number, location: string): ResponseSpec => ({ status, headers: { location } });

/**
 * Answers a request to a website endpoint. Website endpoints take no credentials: every
 * request is anonymous and is allowed what the bucket policy grants to everyone (so a
 * bucket needs Block Public Access off and a public-read policy), and errors are HTML.
 */
export async function serveWebsite(ctx: RequestContext, bucketName: string): Promise<ResponseSpec> {
  ctx.principal = ANONYMOUS;
  try {
    await applyCors(ctx, bucketName);
  } catch (e) {
    log.warn(`request ${ctx.requestId}: CORS headers for the website of ${bucketName} failed: ${(e as Error).message}`);
  }
  try {
    return await website(ctx, bucketName);
  } catch (e) {
    return errorPage(ctx, e);
  }
}

async function website(ctx: RequestContext, bucketName: string): Promise<ResponseSpec> {
  // "Supports only GET and HEAD requests on objects" (WebsiteEndpoints.html).
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw S3Errors.MethodNotAllowed({ Method: ctx.method, ResourceType: 'OBJECT' });
  const found = await bucketConfig<WebsiteConfiguration>(ctx, bucketName, WEBSITE);
  if (!found) throw S3Errors.NoSuchBucket({ BucketName: bucketName });
  const cfg = found.config;
  if (!cfg) throw S3Errors.NoSuchWebsiteConfiguration({ BucketName: bucketName });
  if (cfg.RedirectAllRequestsTo) {
    const to = cfg.RedirectAllRequestsTo;
    return redirect(301, `${to.Protocol ?? 'http'}://${to.HostName}${ctx.rawPath}${ctx.rawQuery ? `?${ctx.rawQuery}` : ''}`);
  }
  let key: string;
  try {
    key = uriDecode(ctx.rawPath.replace(/^\//, ''));
  } catch {
    throw S3Errors.InvalidURI({ URI: ctx.rawPath });
  }
  const rules = cfg.RoutingRules ?? [];
  // Rules without an error-code condition apply before the object is looked up.
  const before = rules.find((r) => r.Condition?.HttpErrorCodeReturnedEquals === undefined && key.startsWith(r.Condition?.KeyPrefixEquals ?? ''));
  if (before) return ruleRedirect(ctx, before, key);
  try {
    return await serveKey(ctx, found.bucket, cfg.IndexDocument!.Suffix, key);
  } catch (e) {
    if (!isServiceError(e) || e.status < 400 || e.status >= 500) throw e;
    const status = String(e.status);
    const after = rules.find((r) => r.Condition?.HttpErrorCodeReturnedEquals === status && key.startsWith(r.Condition.KeyPrefixEquals ?? ''));
    if (after) return ruleRedirect(ctx, after, key);
    if (cfg.ErrorDocument) return errorDocument(ctx, found.bucket, cfg.ErrorDocument.Key, e);
    throw e;
  }
}

/** A routing rule's redirect: its protocol and host (or the request's), its key replacement, its code (301). */
function ruleRedirect(ctx: RequestContext, rule: RoutingRule, key: string): ResponseSpec {
  const r = rule.Redirect;
  let target = key;
  if (r.ReplaceKeyWith !== undefined) target = r.ReplaceKeyWith;
  else if (r.ReplaceKeyPrefixWith !== undefined) target = r.ReplaceKeyPrefixWith + key.slice((rule.Condition?.KeyPrefixEquals ?? '').length);
  const host = r.HostName ?? ctx.header('host') ?? 'localhost';
  return redirect(Number(r.HttpRedirectCode ?? 301), `${r.Protocol ?? 'http'}://${host}/${encodeKey(target)}`);
}

function conditionalInput(ctx: RequestContext): Input {
  const date = (h: string) => {
    const v = ctx.header(h);
    return v ? (parseTimestamp(v) ?? undefined) : undefined;
  };
  return {
    IfMatch: ctx.header('if-match'),
    IfNoneMatch: ctx.header('if-none-match'),
    IfModifiedSince: date('if-modified-since'),
    IfUnmodifiedSince: date('if-unmodified-since'),
    Range: ctx.header('range'),
  };
}

/** GetObject's answer for a key, as the S3 API would serialise it (headers, body, 206/304). */
async function objectResponse(ctx: RequestContext, bucket: BucketRecord, key: string, extra: Input = {}): Promise<ResponseSpec> {
  ctx.statusOverride = undefined;
  const output = await getObject({ Bucket: bucket.name, Key: key, ...extra }, ctx);
  const service = ctx.service!;
  const model = service.model();
  const spec = service.codec.serialize(ctx, model, model.operations.GetObject!, output);
  if (ctx.statusOverride) spec.status = ctx.statusOverride;
  ctx.statusOverride = undefined;
  return spec;
}

async function serveKey(ctx: RequestContext, bucket: BucketRecord, suffix: string, key: string): Promise<ResponseSpec> {
  const arn = (k: string) => `arn:aws:s3:::${bucket.name}/${k}`;
  // "/" and "folder/" are answered by the index document of that folder.
  const objectKey = key === '' || key.endsWith('/') ? key + suffix : key;
  await ctx.authorize('s3:GetObject', arn(objectKey));
  const rec = await ctx.runtime.store.s3.getObject(bucket.id, objectKey);
  if (!rec && objectKey === key) {
    // "/docs" with no object "docs" but a "docs/index.html": 302 to the folder.
    const index = `${key}/${suffix}`;
    if ((await ctx.runtime.store.s3.getObject(bucket.id, index)) && (await ctx.isAllowed('s3:GetObject', arn(index)))) {
      return redirect(302, `/${encodeKey(key)}/`);
    }
  }
  const location = rec?.headers.WebsiteRedirectLocation;
  if (location) return redirect(301, location);
  // A missing key is NoSuchKey (404) for callers who may list the bucket, else AccessDenied (403).
  return objectResponse(ctx, bucket, objectKey, conditionalInput(ctx));
}

/** The bucket's error document, with the status of the error it stands for. */
async function errorDocument(ctx: RequestContext, bucket: BucketRecord, key: string, original: ServiceError): Promise<ResponseSpec> {
  try {
    await ctx.authorize('s3:GetObject', `arn:aws:s3:::${bucket.name}/${key}`);
    const rec = await ctx.runtime.store.s3.getObject(bucket.id, key);
    const location = rec?.headers.WebsiteRedirectLocation;
    if (location) return redirect(301, location);
    const spec = await objectResponse(ctx, bucket, key);
    spec.status = original.status;
    spec.headers = Object.fromEntries(Object.entries(spec.headers).filter(([h]) => h !== 'content-range'));
    return spec;
  } catch (e) {
    if (!isServiceError(e)) throw e;
    return errorPage(ctx, original, { error: e, key });
  }
}

function items(e: ServiceError): string {
  let out = `<li>Code: ${escapeXml(e.code)}</li>\n<li>Message: ${escapeXml(e.message)}</li>\n`;
  for (const [k, v] of Object.entries(e.fields)) if (v !== undefined && v !== null) out += `<li>${escapeXml(k)}: ${escapeXml(String(v))}</li>\n`;
  return out;
}

/**
 * The HTML error document of the website endpoint, as S3 renders it: the status as the
 * title, the error's code, message and details as a list, and (when the bucket's own error
 * document could not be served) what went wrong with that.
 */
function errorPage(ctx: RequestContext, e: unknown, nested?: { error: ServiceError; key: string }): ResponseSpec {
  if (!isServiceError(e)) {
    log.error(`request ${ctx.requestId} website ${ctx.method} ${ctx.rawPath} failed: ${(e as Error)?.stack ?? String(e)}`);
    const body = '<html>\n<head><title>500 Service Error</title></head>\n<body>\n<h1>500 Service Error</h1>\n<hr/>\n</body>\n</html>\n';
    return { status: 500, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
  }
  if (e.status === 304) return { status: 304, headers: { ...e.headers } };
  const title = `${e.status} ${STATUS_CODES[e.status] ?? 'Error'}`;
  let body = `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<ul>\n${items(e)}`;
  body += `<li>RequestId: ${escapeXml(ctx.requestId)}</li>\n<li>HostId: ${escapeXml(String(ctx.res.getHeader('x-amz-id-2') ?? ''))}</li>\n</ul>\n`;
  if (nested) {
    const inner = nested.error;
    body += `<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n${items(inner)}`;
    if (inner.fields.Key === undefined) body += `<li>Key: ${escapeXml(nested.key)}</li>\n`;
    body += '</ul>\n';
  }
  body += '<hr/>\n</body>\n</html>\n';
  return {
    status: e.status,
    headers: { ...e.headers, 'content-type': 'text/html; charset=utf-8', 'x-amz-error-code': e.code, 'x-amz-error-message': e.message },
    body,
  };
}
