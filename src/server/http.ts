import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { deferContinue } from './body.js';
import type { Socket } from 'node:net';
import { handle } from './pipeline.js';
import type { Runtime } from './runtime.js';
import { s3RequestId } from '../util/ids.js';
import { log } from '../util/log.js';
import { now } from '../util/clock.js';

/**
 * The HTTP server: one port for every service. Tracks in-flight requests so shutdown
 * can let them finish.
 */
export interface HttpServer {
  server: Server;
  inFlight(): number;
  close(timeoutMs: number): Promise<void>;
}

export function createHttpServer(runtime: Runtime): HttpServer {
  let active = 0;
  let idleWaiters: Array<() => void> = [];
  const server = createServer(
    {
      // 5 GiB uploads on slow links must not be cut off by Node's 5-minute default.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 65_000,
      maxHeaderSize: 16 * 1024,
    },
    onRequest,
  );
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    active++;
    res.on('close', () => {
      active--;
      if (active === 0) {
        for (const w of idleWaiters) w();
        idleWaiters = [];
      }
    });
    // A clock moved with NIMBUS_CLOCK_OFFSET_MS shows in Date too: the SDKs correct their
    // signing skew from it, and would otherwise fall back to the wall clock.
    const t = now();
    if (Math.abs(t - Date.now()) > 1000) res.setHeader('date', new Date(t).toUTCString());
    void handle(req, res, runtime);
  }
  server.on('checkContinue', (req, res) => {
    deferContinue(req, res);
    onRequest(req, res);
  });
  // Malformed HTTP (oversized headers, garbage) never reaches the pipeline: answer with an
  // S3-style error document and close, as S3 does, instead of Node's bare 400/431.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 'RequestHeaderSectionTooLarge' : 'BadRequest';
    const message = tooLarge ? 'Your request header section exceeds the maximum allowed size.' : 'An error occurred when parsing the HTTP request.';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${s3RequestId()}</RequestId></Error>`;
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return {
    server,
    inFlight: () => active,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        server.close();
        server.closeIdleConnections();
        const done = () => {
          clearTimeout(timer);
          server.closeAllConnections();
          resolve();
        };
        const timer = setTimeout(() => {
          if (active) log.warn(`shutdown: ${active} request(s) still running after ${timeoutMs} ms, closing them`);
          done();
        }, timeoutMs);
        if (active === 0) done();
        else idleWaiters.push(done);
      }),
  };
}
