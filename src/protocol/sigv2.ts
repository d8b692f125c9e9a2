import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignedRequest } from './sigv4/verify.js';
import { MAX_SKEW_MS } from './sigv4/verify.js';
import { CommonErrors } from './errors.js';

/**
 * S3's Signature Version 2, header (`Authorization: AWS <key>:<sig>`) and query string
 * (`AWSAccessKeyId`, `Signature`, `Expires`). AWS still accepts it, and botocore — so the
 * AWS CLI's `aws s3 presign` and boto3's `generate_presigned_url` — presign with it by
 * default, so default client settings need it.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
 */
export interface AuthV2 {
  accessKeyId: string;
  signature: string;
  presigned: boolean;
  /** Query auth: expiry, epoch seconds. */
  expires?: number;
}

/** Sub-resources that are part of the signed resource, as S3 (and botocore) define them. */
const SUB_RESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'defaultObjectAcl', 'delete', 'inventory', 'lifecycle', 'location',
  'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'select', 'select-type', 'storageClass', 'tagging',
  'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
]);

function header(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function parseAuthV2(req: SignedRequest): AuthV2 | undefined {
  const authz = header(req, 'authorization');
  if (authz?.startsWith('AWS ')) {
    const cred = authz.slice(4);
    const colon = cred.lastIndexOf(':');
    if (colon <= 0) throw CommonErrors.InvalidArgument({ message: 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature' });
    return { accessKeyId: cred.slice(0, colon).trim(), signature: cred.slice(colon + 1).trim(), presigned: false };
  }
  if (authz !== undefined) return undefined;
  let key: string | undefined;
  let sig: string | undefined;
  let expires: string | undefined;
  for (const [k, v] of req.query) {
    if (k === 'AWSAccessKeyId') key = v;
    else if (k === 'Signature') sig = v;
    else if (k === 'Expires') expires = v;
  }
  if (key === undefined || sig === undefined) return undefined;
  if (expires === undefined || !/^\d+$/.test(expires)) {
    throw CommonErrors.AccessDenied({ message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters' });
  }
  return { accessKeyId: key, signature: sig, presigned: true, expires: Number(expires) };
}

/** `resource` is "/bucket/key" as sent (still percent-encoded), without the query. */
export function stringToSignV2(req: SignedRequest, auth: AuthV2, resource: string): string {
  const amz = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headersDistinct ?? req.headers)) {
    if (!name.startsWith('x-amz-') || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    amz.set(name, values.map((v) => v.trim().replace(/\s*\r?\n\s*/g, ' ')).join(','));
  }
  // A presigned URL carries the signed Content-Type, Content-MD5 and x-amz-* values as query
  // parameters (botocore moves them there), so whoever follows the URL need not send them.
  const fromQuery = new Map<string, string>();
  if (auth.presigned) {
    for (const [k, v] of req.query) {
      const lk = k.toLowerCase();
      if (lk === 'content-type' || lk === 'content-md5') fromQuery.set(lk, v);
      else if (lk.startsWith('x-amz-')) amz.set(lk, v);
    }
  }
  const std = (name: string) => fromQuery.get(name) ?? header(req, name) ?? '';
  // x-amz-date replaces Date in header auth; query auth signs Expires in that place.
  const date = auth.presigned ? String(auth.expires) : amz.has('x-amz-date') ? '' : (header(req, 'date') ?? '');
  const amzLines = [...amz.keys()].sort().map((k) => `${k}:${amz.get(k)}\n`).join('');
  const sub = req.query
    .filter(([k]) => SUB_RESOURCES.has(k))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  return [req.method, std('content-md5'), std('content-type'), date, amzLines + resource + (sub.length ? `?${sub.join('&')}` : '')].join('\n');
}

export function checkSignatureV2(req: SignedRequest, auth: AuthV2, secret: string, resource: string): { ok: boolean; stringToSign: string } {
  const sts = stringToSignV2(req, auth, resource);
  const expected = createHmac('sha1', secret).update(sts, 'utf8').digest();
  const provided = Buffer.from(auth.signature, 'base64');
  return { ok: provided.length === expected.length && timingSafeEqual(provided, expected), stringToSign: sts };
}

export function checkTimeV2(req: SignedRequest, auth: AuthV2, nowMs: number): void {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (auth.presigned) {
    if (nowMs > auth.expires! * 1000) {
      throw CommonErrors.AccessDenied({ message: 'Request has expired', Expires: iso(auth.expires! * 1000), ServerTime: iso(nowMs) });
    }
    return;
  }
  const d = header(req, 'x-amz-date') ?? header(req, 'date');
  const t = d ? Date.parse(d) : NaN;
  if (Number.isNaN(t)) throw CommonErrors.AccessDenied({ message: 'AWS authentication requires a valid Date or x-amz-date header' });
  if (Math.abs(nowMs - t) > MAX_SKEW_MS) {
    throw CommonErrors.RequestTimeTooSkewed({ RequestTime: d, ServerTime: iso(nowMs), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) });
  }
}
