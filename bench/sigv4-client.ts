/**
 * A lean S3 client for the benchmark: path-style requests over a keep-alive
 * node:http Agent, signed with AWS Signature Version 4 (AWS4-HMAC-SHA256).
 *
 * It is deliberately small and cheap per request so that the load generator is
 * not the bottleneck: the derived signing key is cached per day, the x-amz-date
 * string is cached per second, and the payload hash of a reused body buffer is
 * computed once. Signed headers are always host;x-amz-content-sha256;x-amz-date.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';

export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const SIGNED_HEADERS = 'host;x-amz-content-sha256;x-amz-date';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

export const DEFAULT_CREDENTIALS: Credentials = {
  accessKeyId: 'test',
  secretAccessKey: 'test',
  region: 'us-east-1',
  service: 's3',
};

/** RFC 3986 percent-encoding: only A-Z a-z 0-9 - _ . ~ stay literal. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** Encodes every segment of an unencoded path ("/bucket/a b/c") once; slashes are kept. */
export function encodePath(path: string): string {
  if (path === '' || path === '/') return '/';
  const out = path.split('/').map(rfc3986).join('/');
  return out.startsWith('/') ? out : '/' + out;
}

/**
 * The canonical query string: names and values RFC 3986 encoded, pairs sorted by
 * encoded name then encoded value. The same string is sent on the wire.
 */
export function canonicalQueryString(query?: Record<string, string>): string {
  if (!query) return '';
  const pairs: Array<[string, string]> = [];
  for (const k of Object.keys(query)) pairs.push([rfc3986(k), rfc3986(query[k]!)]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  let s = '';
  for (const [k, v] of pairs) s += (s ? '&' : '') + k + '=' + v;
  return s;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** YYYYMMDD'T'HHMMSS'Z' for the given epoch milliseconds. */
export function amzDateOf(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => (n < 10 ? '0' : '') + n;
  return (
    d.getUTCFullYear() +
    p2(d.getUTCMonth() + 1) +
    p2(d.getUTCDate()) +
    'T' +
    p2(d.getUTCHours()) +
    p2(d.getUTCMinutes()) +
    p2(d.getUTCSeconds()) +
    'Z'
  );
}

export interface SignInput {
  method: string;
  /** Already encoded canonical URI (as produced by encodePath). */
  canonicalUri: string;
  /** Already canonical query string (as produced by canonicalQueryString). */
  canonicalQuery: string;
  host: string;
  payloadHash: string;
  amzDate: string;
}

export class Signer {
  private keyDay = '';
  private key: Buffer = Buffer.alloc(0);
  private readonly scopeTail: string;

  constructor(readonly creds: Credentials = DEFAULT_CREDENTIALS) {
    this.scopeTail = `/${creds.region}/${creds.service}/aws4_request`;
  }

  /** The derived signing key; recomputed only when the UTC day changes. */
  signingKey(day: string): Buffer {
    if (day !== this.keyDay) {
      const c = this.creds;
      this.key = hmac(hmac(hmac(hmac('AWS4' + c.secretAccessKey, day), c.region), c.service), 'aws4_request');
      this.keyDay = day;
    }
    return this.key;
  }

  canonicalRequest(i: SignInput): string {
    return (
      `${i.method}\n${i.canonicalUri}\n${i.canonicalQuery}\n` +
      `host:${i.host}\nx-amz-content-sha256:${i.payloadHash}\nx-amz-date:${i.amzDate}\n\n` +
      `${SIGNED_HEADERS}\n${i.payloadHash}`
    );
  }

  stringToSign(i: SignInput): string {
    const day = i.amzDate.slice(0, 8);
    return `AWS4-HMAC-SHA256\n${i.amzDate}\n${day}${this.scopeTail}\n${sha256Hex(this.canonicalRequest(i))}`;
  }

  /** The Authorization header value. */
  authorization(i: SignInput): string {
    const day = i.amzDate.slice(0, 8);
    const signature = createHmac('sha256', this.signingKey(day)).update(this.stringToSign(i), 'utf8').digest('hex');
    return (
      `AWS4-HMAC-SHA256 Credential=${this.creds.accessKeyId}/${day}${this.scopeTail}, ` +
      `SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`
    );
  }
}

export interface S3Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, unless the request asked for drain-only mode. */
  body: Buffer;
  /** Number of body bytes received. */
  bytes: number;
}

export interface RequestOptions {
  method: string;
  /** Unencoded path, e.g. "/bench/some key". */
  path: string;
  query?: Record<string, string>;
  /** A small body: sent with its sha256 as x-amz-content-sha256. */
  body?: Buffer;
  /** A streamed body: sent with UNSIGNED-PAYLOAD and the given Content-Length. */
  stream?: { length: number; chunks: AsyncIterable<Buffer> | Iterable<Buffer> };
  /** Count body bytes but do not keep them (large downloads). */
  drain?: boolean;
  timeoutMs?: number;
}

export class S3Client {
  readonly agent: http.Agent;
  readonly hostHeader: string;
  private readonly signer: Signer;
  private readonly bodyHashes = new WeakMap<Buffer, string>();
  private dateSecond = -1;
  private dateString = '';

  constructor(
    readonly host: string,
    readonly port: number,
    opts: { maxSockets?: number; credentials?: Credentials } = {},
  ) {
    this.hostHeader = `${host}:${port}`;
    this.signer = new Signer(opts.credentials ?? DEFAULT_CREDENTIALS);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 16, scheduling: 'fifo' });
  }

  private amzDate(): string {
    const now = Date.now();
    const sec = Math.floor(now / 1000);
    if (sec !== this.dateSecond) {
      this.dateSecond = sec;
      this.dateString = amzDateOf(now);
    }
    return this.dateString;
  }

  private payloadHash(body: Buffer | undefined): string {
    if (!body || body.length === 0) return EMPTY_PAYLOAD_SHA256;
    let h = this.bodyHashes.get(body);
    if (!h) {
      h = sha256Hex(body);
      this.bodyHashes.set(body, h);
    }
    return h;
  }

  request(o: RequestOptions): Promise<S3Response> {
    const uri = encodePath(o.path);
    const qs = canonicalQueryString(o.query);
    const payloadHash = o.stream ? UNSIGNED_PAYLOAD : this.payloadHash(o.body);
    const amzDate = this.amzDate();
    const authorization = this.signer.authorization({
      method: o.method,
      canonicalUri: uri,
      canonicalQuery: qs,
      host: this.hostHeader,
      payloadHash,
      amzDate,
    });
    const headers: http.OutgoingHttpHeaders = {
      host: this.hostHeader,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
      authorization,
    };
    if (o.stream) headers['content-length'] = o.stream.length;
    else if (o.body) headers['content-length'] = o.body.length;
    else if (o.method === 'PUT' || o.method === 'POST') headers['content-length'] = 0;

    return new Promise<S3Response>((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method: o.method,
          path: qs ? `${uri}?${qs}` : uri,
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (!o.drain) chunks.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
              bytes,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (o.timeoutMs) {
        req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`timeout after ${o.timeoutMs} ms`)));
      }
      if (o.stream) {
        writeStream(req, o.stream.chunks).catch((e: unknown) => req.destroy(e as Error));
      } else {
        req.end(o.body);
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function writeStream(req: http.ClientRequest, chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
  for await (const c of chunks) {
    if (req.destroyed) return;
    if (!req.write(c)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  req.end();
}
