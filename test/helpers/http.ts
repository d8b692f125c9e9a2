import { request, type IncomingHttpHeaders } from 'node:http';

/**
 * A plain, unsigned HTTP request with a Host header of our choosing, as a browser sends
 * it to `http://<bucket>.s3-website.localhost:<port>/`: fetch() always derives Host from
 * the URL, and *.localhost names need not resolve on a test machine, so the request
 * goes to the server's address with the virtual host in its Host header.
 */
export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function hostRequest(baseUrl: string, host: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<PlainResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: opts.method ?? 'GET', path, headers: { host, ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
