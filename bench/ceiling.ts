/**
 * The "ceiling" target: a no-op S3-shaped HTTP server that does the least work a
 * server could do for each benchmark request, so it measures Node + loopback +
 * the load generator rather than any storage engine.
 *
 *   PUT            drain the body, 200 + ETag (remembers only the size of large bodies)
 *   GET object     a stored 4 KiB buffer, or zeros streamed for a large object's size
 *   HEAD object    headers only
 *   DELETE object  204
 *   GET bucket     a canned ListObjectsV2 page of 1000 entries, generated once
 *
 * Run as a child process: node dist/bench/ceiling.js <port>
 */
import http from 'node:http';

const SMALL = Buffer.alloc(4096, 0x61);
const ZEROS = Buffer.alloc(1 << 20);
const ETAG = '"' + 'd41d8cd98f00b204e9800998ecf8427e' + '"';
const LARGE_THRESHOLD = 1 << 20;

function listPage(): Buffer {
  let xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    '<Name>bench</Name><Prefix></Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>';
  for (let i = 0; i < 1000; i++) {
    xml +=
      `<Contents><Key>obj/${i.toString(16).padStart(16, '0')}</Key>` +
      '<LastModified>2024-01-01T00:00:00.000Z</LastModified>' +
      `<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>4096</Size>` +
      '<StorageClass>STANDARD</StorageClass></Contents>';
  }
  return Buffer.from(xml + '</ListBucketResult>');
}

const LIST = listPage();
const largeSizes = new Map<string, number>();

function isBucketPath(pathname: string): boolean {
  const slash = pathname.indexOf('/', 1);
  return slash < 0 || slash === pathname.length - 1;
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  switch (req.method) {
    case 'PUT': {
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () => {
        if (size > LARGE_THRESHOLD) largeSizes.set(pathname, size);
        res.writeHead(200, { etag: ETAG, 'content-length': 0 });
        res.end();
      });
      return;
    }
    case 'GET': {
      if (pathname === '/' || isBucketPath(pathname)) {
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': LIST.length });
        res.end(LIST);
        return;
      }
      const size = largeSizes.get(pathname);
      if (size === undefined) {
        res.writeHead(200, { etag: ETAG, 'content-length': SMALL.length });
        res.end(SMALL);
        return;
      }
      res.writeHead(200, { etag: ETAG, 'content-length': size });
      let left = size;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, ZEROS.length);
          left -= n;
          if (!res.write(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    case 'HEAD':
      res.writeHead(200, { etag: ETAG, 'content-length': SMALL.length });
      res.end();
      return;
    case 'DELETE':
      res.writeHead(204);
      res.end();
      return;
    default:
      req.resume();
      res.writeHead(405, { 'content-length': 0 });
      res.end();
  }
});

server.keepAliveTimeout = 60_000;
const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
