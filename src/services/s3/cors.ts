import type { RequestContext } from '../../server/context.js';
import type { ResponseSpec } from '../../protocol/codec.js';
import { uriDecode } from '../../protocol/sigv4/canonical.js';
import { S3Errors } from './errors.js';
import { requireBucket } from './common.js';
import { bucketConfig, storeBucketConfig } from './bucket-configs.js';

/**
 * Cross-origin resource sharing: PutBucketCors / GetBucketCors / DeleteBucketCors, the
 * OPTIONS preflight any bucket or object URL answers, and the Access-Control-* headers
 * of actual requests that carry an Origin.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
 */
export interface CorsRule {
  ID?: string;
  AllowedHeaders?: string[];
  AllowedMethods: string[];
  AllowedOrigins: string[];
  ExposeHeaders?: string[];
  MaxAgeSeconds?: number;
}

interface CorsConfiguration {
  CORSRules: CorsRule[];
}

const CORS = 'cors';
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
/** "A CORS configuration can have up to 100 rules" (and none is not a configuration): both are MalformedXML. */
const MAX_RULES = 100;
// S3's own words, typo ("evalution") included.
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

type Input = Record<string, any>;

const wildcards = (s: string) => s.split('*').length - 1;

export async function putBucketCors(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const rules = (input.CORSConfiguration?.CORSRules ?? []) as Array<Partial<CorsRule>>;
  if (rules.length === 0 || rules.length > MAX_RULES) throw S3Errors.MalformedXML();
  const clean: CorsRule[] = [];
  for (const r of rules) {
    if (!r.AllowedMethods?.length || !r.AllowedOrigins?.length) throw S3Errors.MalformedXML();
    for (const m of r.AllowedMethods) {
      if (!METHODS.has(m)) throw S3Errors.InvalidRequest({ message: `Found unsupported HTTP method in CORS config. Unsupported method is ${m}` });
    }
    for (const o of r.AllowedOrigins) {
      if (wildcards(o) > 1) throw S3Errors.InvalidRequest({ message: `AllowedOrigin "${o}" can not have more than one wildcard.` });
    }
    for (const h of r.AllowedHeaders ?? []) {
      if (wildcards(h) > 1) throw S3Errors.InvalidRequest({ message: `AllowedHeader "${h}" can not have more than one wildcard.` });
    }
    for (const h of r.ExposeHeaders ?? []) {
      if (h.includes('*')) throw S3Errors.InvalidRequest({ message: `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.` });
    }
    clean.push({
      ID: r.ID,
      AllowedHeaders: r.AllowedHeaders,
      AllowedMethods: r.AllowedMethods,
      AllowedOrigins: r.AllowedOrigins,
      ExposeHeaders: r.ExposeHeaders,
      MaxAgeSeconds: Number.isInteger(r.MaxAgeSeconds) ? r.MaxAgeSeconds : undefined,
    });
  }
  await storeBucketConfig(ctx, bucket, CORS, { CORSRules: clean } satisfies CorsConfiguration);
  return {};
}

export async function getBucketCors(input: Input, ctx: RequestContext) {
  const found = await bucketConfig<CorsConfiguration>(ctx, input.Bucket, CORS);
  if (!found) throw S3Errors.NoSuchBucket({ BucketName: input.Bucket });
  if (!found.config) throw S3Errors.NoSuchCORSConfiguration({ BucketName: input.Bucket });
  return { CORSRules: found.config.CORSRules };
}

export async function deleteBucketCors(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await storeBucketConfig(ctx, bucket, CORS, undefined);
  return {};
}

/** `pattern` with at most one `*`, which matches any run of characters. */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const pre = pattern.slice(0, star);
  const suf = pattern.slice(star + 1);
  return value.length >= pre.length + suf.length && value.startsWith(pre) && value.endsWith(suf);
}

/**
 * The first rule that allows the origin and the method and, for a preflight, every
 * requested header (header names compare case-insensitively).
 */
export function matchCorsRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[] = []): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.AllowedMethods.includes(method) &&
      r.AllowedOrigins.some((o) => wildcardMatch(o, origin)) &&
      requestHeaders.every((h) => (r.AllowedHeaders ?? []).some((a) => wildcardMatch(a.toLowerCase(), h))),
  );
}

/**
 * The Access-Control-* headers a matching rule gives: the request's origin, or `*` for a
 * rule that allows every origin (and then no Allow-Credentials, which `*` cannot carry).
 */
function ruleHeaders(rule: CorsRule, origin: string, requestHeaders: string[]): Record<string, string> {
  const any = rule.AllowedOrigins.includes('*');
  const h: Record<string, string> = {
    'access-control-allow-origin': any ? '*' : origin,
    'access-control-allow-methods': rule.AllowedMethods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!any) h['access-control-allow-credentials'] = 'true';
  if (requestHeaders.length) h['access-control-allow-headers'] = requestHeaders.join(', ');
  if (rule.ExposeHeaders?.length) h['access-control-expose-headers'] = rule.ExposeHeaders.join(', ');
  if (rule.MaxAgeSeconds !== undefined) h['access-control-max-age'] = String(rule.MaxAgeSeconds);
  return h;
}

/** The bucket and key a request addresses, virtual-hosted or path-style. */
function target(ctx: RequestContext): { bucket?: string; key?: string } {
  try {
    if (ctx.hostBucket !== undefined) {
      const key = uriDecode(ctx.rawPath.replace(/^\//, ''));
      return { bucket: ctx.hostBucket, key: key || undefined };
    }
    const [, bucket = '', ...rest] = ctx.rawPath.split('/');
    const key = uriDecode(rest.join('/'));
    return { bucket: uriDecode(bucket) || undefined, key: key || undefined };
  } catch {
    return {};
  }
}

function listHeader(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/**
 * An OPTIONS preflight: unsigned, as browsers send it, and decided by the bucket's CORS
 * rules alone (no IAM). Errors are S3's: BadRequest without an Origin or a valid
 * Access-Control-Request-Method, AccessForbidden without a configuration or a match.
 */
export async function corsPreflight(ctx: RequestContext): Promise<ResponseSpec> {
  const origin = ctx.header('origin');
  if (!origin) throw S3Errors.BadRequest({ message: 'Insufficient information. Origin request header needed.' });
  const method = ctx.header('access-control-request-method');
  if (!method || !METHODS.has(method)) throw S3Errors.BadRequest({ message: `Invalid Access-Control-Request-Method: ${method ?? 'null'}` });
  const { bucket, key } = target(ctx);
  const fields = { Method: method, ResourceType: key !== undefined ? 'OBJECT' : 'BUCKET' };
  const found = bucket !== undefined ? await bucketConfig<CorsConfiguration>(ctx, bucket, CORS) : undefined;
  if (!found) throw S3Errors.AccessForbidden({ message: 'CORSResponse: Bucket not found', ...fields });
  if (!found.config) throw S3Errors.AccessForbidden({ message: 'CORSResponse: CORS is not enabled for this bucket.', ...fields });
  const requested = listHeader(ctx.header('access-control-request-headers'));
  const rule = matchCorsRule(found.config.CORSRules, origin, method, requested);
  if (!rule) throw S3Errors.AccessForbidden({ message: NOT_ALLOWED, ...fields });
  return { status: 200, headers: ruleHeaders(rule, origin, requested) };
}

/**
 * An actual (non-preflight) request with an Origin: the first rule that allows the origin
 * and the method adds its headers to the response, success or error alike. Without a
 * matching rule the request proceeds without them (the browser then withholds the
 * response from the page).
 */
export async function applyCors(ctx: RequestContext, bucketName?: string): Promise<void> {
  const origin = ctx.header('origin');
  if (!origin) return;
  const bucket = bucketName ?? target(ctx).bucket;
  if (bucket === undefined) return;
  const found = await bucketConfig<CorsConfiguration>(ctx, bucket, CORS);
  if (!found?.config) return;
  const rule = matchCorsRule(found.config.CORSRules, origin, ctx.method);
  if (!rule) return;
  for (const [k, v] of Object.entries(ruleHeaders(rule, origin, []))) ctx.res.setHeader(k, v);
}
