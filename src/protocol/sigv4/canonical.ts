import { createHmac } from 'node:crypto';
import { CommonErrors } from '../errors.js';
import { sha256Hex } from '../../util/digest.js';

/**
 * SigV4 building blocks shared by verification (server) and signing (tests, bench).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export { sha256Hex };

export function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Decodes %XX sequences without treating '+' as a space (paths and S3 query strings). */
export function uriDecode(s: string): string {
  return s.includes('%') ? decodeURIComponent(s) : s;
}

/**
 * Path normalisation as the SDKs sign non-S3 requests: empty and "." segments dropped,
 * ".." removes the previous one, the leading and trailing slash kept.
 */
function normalizePath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}${out.length > 0 && path.endsWith('/') ? '/' : ''}`;
}

/**
 * The canonical URI. S3 signs the path exactly once-encoded and never normalised
 * (keys may contain "//" or ".."); every other service normalises the path and encodes
 * the already-encoded path again, as botocore and the JS SDK do.
 */
/** A path of unreserved characters and slashes only: its own canonical form for S3. */
const PLAIN_PATH = /^[A-Za-z0-9\-._~/]*$/;

export function canonicalUri(rawPath: string, s3: boolean): string {
  if (rawPath === '' || rawPath === '/') return '/';
  if (s3) {
    if (PLAIN_PATH.test(rawPath)) return rawPath;
    try {
      return rawPath
        .split('/')
        .map((seg) => uriEncode(uriDecode(seg)))
        .join('/');
    } catch {
      throw CommonErrors.InvalidURI({ message: "Couldn't parse the specified URI.", URI: rawPath });
    }
  }
  return normalizePath(rawPath)
    .split('/')
    .map((seg) => uriEncode(seg))
    .join('/');
}

/** Canonical query string from decoded pairs, optionally leaving one parameter out. */
export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>, omit?: string): string {
  const encoded: Array<[string, string]> = [];
  for (const [k, v] of pairs) {
    if (k === omit) continue;
    encoded.push([uriEncode(k), uriEncode(v)]);
  }
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}

const SPACES = /\s+/g;
const FOLDABLE = /\s\s|[\t\n\r\f\v]/;

export function canonicalHeaderValue(v: string | string[] | undefined): string {
  if (v === undefined) return '';
  const s = (Array.isArray(v) ? v.map((x) => x.trim()).join(',') : v).trim();
  return FOLDABLE.test(s) ? s.replace(SPACES, ' ') : s;
}

export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

const keyCache = new Map<string, Buffer>();

/** The derived signing key, cached: it changes once a day per secret/region/service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\0${date}\0${region}\0${service}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    if (keyCache.size > 1000) keyCache.clear();
    key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
    keyCache.set(cacheKey, key);
  }
  return key;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/** Query-string parsing that keeps order and duplicates and does not map '+' to space. */
export function parseQuery(qs: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!qs) return out;
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([uriDecode(k), uriDecode(v)]);
  }
  return out;
}
