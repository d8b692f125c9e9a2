import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUri,
  credentialScope,
  hmac,
  parseQuery,
  sha256Hex,
  signingKey,
  stringToSign,
} from '../../src/protocol/sigv4/canonical.js';

/**
 * A raw SigV4 client for tests that must send what SDKs never would (bad bodies,
 * truncated uploads, skewed clocks). Built on the same primitives the server verifies with.
 */
export interface RawRequest {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Override x-amz-content-sha256 (defaults to the body's SHA-256). */
  payloadHash?: string;
  secret?: string;
  accessKey?: string;
  date?: Date;
  service?: string;
  /** Signing region (default us-east-1). */
  region?: string;
  /** Send only these bytes of the body, then end the socket (truncated upload). */
  truncateAt?: number;
  unsigned?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function sign(host: string, r: RawRequest): Record<string, string> {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  const date = amzDate(r.date ?? new Date());
  const service = r.service ?? 's3';
  const headers: Record<string, string> = {
    host,
    'x-amz-date': date,
    'x-amz-content-sha256': r.payloadHash ?? sha256Hex(body),
    ...(r.headers ?? {}),
  };
  if (r.unsigned) return headers;
  const names = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  let uri: string;
  try {
    uri = canonicalUri(r.path, service === 's3');
  } catch {
    uri = r.path; // a deliberately broken path: the server must refuse it before any signature check
  }
  const canonical = [
    r.method,
    uri,
    canonicalQuery(parseQuery(r.query ?? '')),
    names.map((n) => `${n}:${canonicalHeaderValue(lower[n])}\n`).join(''),
    names.join(';'),
    headers['x-amz-content-sha256'],
  ].join('\n');
  const region = r.region ?? 'us-east-1';
  const scope = credentialScope(date.slice(0, 8), region, service);
  const sig = hmac(signingKey(r.secret ?? 'test', date.slice(0, 8), region, service), stringToSign(date, scope, canonical)).toString('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${r.accessKey ?? 'test'}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
  return headers;
}

export function send(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const host = url.host;
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  const headers = sign(host, r);
  if (!('content-length' in headers) && !('transfer-encoding' in headers)) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: r.method, path: r.path + (r.query ? `?${r.query}` : ''), headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (r.truncateAt !== undefined) {
      req.write(body.subarray(0, r.truncateAt));
      // Give the bytes time to arrive, then drop the connection mid-body.
      setTimeout(() => {
        req.destroy();
        resolve({ status: 0, headers: {}, body: '' });
      }, 100);
      return;
    }
    req.end(body);
  });
}

/** The <Code> of an S3 / query XML error body. */
export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
