import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUri,
  credentialScope,
  hmac,
  signingKey,
  stringToSign,
} from './canonical.js';
import { CommonErrors } from '../errors.js';

/**
 * Server-side SigV4 verification for the Authorization header and for presigned query
 * strings. https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 */
export const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_EXPIRES = 7 * 24 * 3600;

export interface SignedRequest {
  method: string;
  rawPath: string;
  query: ReadonlyArray<readonly [string, string]>;
  headers: IncomingHttpHeaders;
  /**
   * Each header's values as sent (Node's req.headersDistinct). Node joins repeated headers
   * with ", " in `headers`; SigV4 joins them with ",", so signatures use these when present.
   */
  headersDistinct?: Record<string, string[] | undefined>;
}

export interface AuthInfo {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  scope: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  presigned: boolean;
  /** Seconds the presigned URL is valid for. */
  expires?: number;
  securityToken?: string;
  /** x-amz-content-sha256 as sent (S3), or undefined when the body must be hashed. */
  payloadHash?: string;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseCredential(cred: string, malformed: (m: string) => Error) {
  const parts = cred.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    throw malformed(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  // The scope is the credential after the key id, as sent (date/region/service/aws4_request).
  return { accessKeyId, date, region, service, scope: cred.slice(accessKeyId.length + 1) };
}

/** Extracts the signature parameters, or returns undefined for an unsigned request. */
export function parseAuth(req: SignedRequest): AuthInfo | undefined {
  const authz = header(req.headers, 'authorization');
  if (authz !== undefined) {
    const malformed = (m: string) => CommonErrors.AuthorizationHeaderMalformed({ message: `The authorization header is malformed; ${m}` });
    if (!authz.startsWith('AWS4-HMAC-SHA256 ')) {
      if (authz.startsWith('AWS ')) {
        throw CommonErrors.InvalidRequest({ message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.' });
      }
      throw malformed('the authorization header requires AWS4-HMAC-SHA256.');
    }
    // Credential=…, SignedHeaders=…, Signature=… (any order, optional spaces), by indexOf:
    // the split/trim version was ~3 KB of garbage per request.
    let credential: string | undefined;
    let signed: string | undefined;
    let signature: string | undefined;
    let pos = 17;
    while (pos < authz.length) {
      let end = authz.indexOf(',', pos);
      if (end < 0) end = authz.length;
      const eq = authz.indexOf('=', pos);
      if (eq > pos && eq < end) {
        const name = authz.slice(pos, eq).trim();
        const value = authz.slice(eq + 1, end).trim();
        if (name === 'Credential') credential = value;
        else if (name === 'SignedHeaders') signed = value;
        else if (name === 'Signature') signature = value;
      }
      pos = end + 1;
    }
    if (!credential || !signed || !signature) {
      throw malformed('the authorization header requires Credential, SignedHeaders and Signature.');
    }
    const cred = parseCredential(credential, malformed);
    const amzDate = header(req.headers, 'x-amz-date') ?? isoFromHttpDate(header(req.headers, 'date'));
    if (!amzDate) throw CommonErrors.AccessDenied({ message: 'AWS authentication requires a valid Date or x-amz-date header' });
    return {
      accessKeyId: cred.accessKeyId,
      date: cred.date,
      region: cred.region,
      service: cred.service,
      scope: cred.scope,
      amzDate,
      signedHeaders: signed.split(';'),
      signature,
      presigned: false,
      securityToken: header(req.headers, 'x-amz-security-token'),
      payloadHash: header(req.headers, 'x-amz-content-sha256'),
    };
  }
  let algorithm: string | undefined;
  const q: Record<string, string> = {};
  for (const [k, v] of req.query) {
    if (k.startsWith('X-Amz-')) q[k] = v;
    if (k === 'X-Amz-Algorithm') algorithm = v;
  }
  if (algorithm === undefined) return undefined;
  const malformed = (m: string) => CommonErrors.AuthorizationQueryParametersError({ message: m });
  if (algorithm !== 'AWS4-HMAC-SHA256') throw malformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  for (const p of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Expires']) {
    if (!q[p]) {
      throw malformed(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
  }
  const expires = Number(q['X-Amz-Expires']);
  if (!Number.isInteger(expires) || expires < 0) throw malformed('X-Amz-Expires should be a number');
  if (expires > MAX_PRESIGN_EXPIRES) throw malformed('X-Amz-Expires must be less than a week (in seconds) that is 604800');
  const cred = parseCredential(q['X-Amz-Credential']!, (m) => malformed(`Error parsing the X-Amz-Credential parameter; ${m}`));
  return {
    ...cred,
    amzDate: q['X-Amz-Date']!,
    signedHeaders: q['X-Amz-SignedHeaders']!.split(';'),
    signature: q['X-Amz-Signature']!,
    presigned: true,
    expires,
    securityToken: q['X-Amz-Security-Token'],
    payloadHash: header(req.headers, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD',
  };
}

function isoFromHttpDate(d: string | undefined): string | undefined {
  if (!d) return undefined;
  const t = Date.parse(d);
  if (Number.isNaN(t)) return undefined;
  return new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses 20260102T030405Z into epoch ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

export interface SignatureCheck {
  ok: boolean;
  canonicalRequest: string;
  stringToSign: string;
  signingKey: Buffer;
}

/** Recomputes the signature with the caller's secret and compares in constant time. */
export function checkSignature(req: SignedRequest, auth: AuthInfo, secret: string, payloadHash: string, s3: boolean): SignatureCheck {
  let headerLines = '';
  for (const name of auth.signedHeaders) {
    const v = req.headers[name];
    // Node joins a repeated header's values with ", " where SigV4 wants ","; only such a
    // value needs the (costly to build) per-value view.
    const value = typeof v === 'string' && !v.includes(', ') ? v : (req.headersDistinct?.[name] ?? v);
    headerLines += `${name}:${canonicalHeaderValue(value)}\n`;
  }
  const canonicalRequest = `${req.method}\n${canonicalUri(req.rawPath, s3)}\n${canonicalQuery(req.query, auth.presigned ? 'X-Amz-Signature' : undefined)}\n${headerLines}\n${auth.signedHeaders.join(';')}\n${payloadHash}`;
  const sts = stringToSign(auth.amzDate, auth.scope, canonicalRequest);
  const key = signingKey(secret, auth.date, auth.region, auth.service);
  const expected = hmac(key, sts);
  const provided = Buffer.from(auth.signature, 'hex');
  const ok = provided.length === expected.length && timingSafeEqual(provided, expected);
  return { ok, canonicalRequest, stringToSign: sts, signingKey: key };
}

/** Time checks: header signatures within 15 minutes, presigned URLs within X-Amz-Expires. */
export function checkTime(auth: AuthInfo, nowMs: number): void {
  const t = parseAmzDate(auth.amzDate);
  if (Number.isNaN(t)) {
    if (auth.presigned) throw CommonErrors.AuthorizationQueryParametersError({ message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"" });
    throw CommonErrors.AccessDenied({ message: 'AWS authentication requires a valid Date or x-amz-date header' });
  }
  if (auth.amzDate.slice(0, 8) !== auth.date) {
    throw CommonErrors.SignatureDoesNotMatch({ message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${auth.amzDate.slice(0, 8)}'` });
  }
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (auth.presigned) {
    if (t - nowMs > MAX_SKEW_MS) {
      throw CommonErrors.AccessDenied({ message: 'Request is not valid yet', RequestTime: iso(t), ServerTime: iso(nowMs) });
    }
    if (nowMs > t + auth.expires! * 1000) {
      throw CommonErrors.AccessDenied({
        message: 'Request has expired',
        'X-Amz-Expires': String(auth.expires),
        Expires: iso(t + auth.expires! * 1000),
        ServerTime: iso(nowMs),
      });
    }
    return;
  }
  if (Math.abs(nowMs - t) > MAX_SKEW_MS) {
    throw CommonErrors.RequestTimeTooSkewed({
      RequestTime: iso(t),
      ServerTime: iso(nowMs),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
}
