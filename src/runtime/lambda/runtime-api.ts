import http from 'node:http';
import net from 'node:net';

/**
 * The Lambda Runtime API, as the bootstraps see it (AWS_LAMBDA_RUNTIME_API=host:port):
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * One HTTP server parses every request; each environment gets its own loopback
 * listener whose connections are handed to that server and tagged with the
 * environment. So a bootstrap talks to a plain host:port with the standard paths
 * (no prefix a third-party runtime client could drop), and a runtime can only ever
 * address its own invocations.
 */

/** What AWS accepts from a function as a synchronous response: 6 MB (+100 bytes). */
export const MAX_RESPONSE_BYTES = 6_291_556;

const PREFIX = '/2018-06-01/runtime/';

export interface Invocation {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
}

export type InvocationOutcome =
  | { kind: 'response'; body: Buffer }
  | { kind: 'error'; body: Buffer; errorType?: string }
  | { kind: 'too-large' };

export interface EndpointEvents {
  /** The runtime asked for its first invocation: init is over. */
  onReady(): void;
  /** POST /runtime/init/error. */
  onInitError(body: Buffer, errorType: string | undefined): void;
  /** The runtime is waiting for work (a /next is held): it is done with the last one. */
  onPoll(): void;
}

class Endpoint {
  address = '';
  listener: net.Server | null = null;
  sockets = new Set<net.Socket>();
  private waiting: http.ServerResponse | null = null;
  private queued: Invocation | null = null;
  private current: { inv: Invocation; done: (o: InvocationOutcome) => void } | null = null;
  private ready = false;
  /** Whether the current invocation has reached the runtime. */
  delivered = false;

  constructor(private readonly events: EndpointEvents) {}

  /** A /next is being held: the runtime is idle, waiting for work. */
  get polling(): boolean {
    return this.waiting !== null;
  }

  /** Hands an invocation to the runtime (now, or when it next asks). */
  deliver(inv: Invocation, done: (o: InvocationOutcome) => void): void {
    this.current = { inv, done };
    this.delivered = false;
    if (this.waiting) {
      const res = this.waiting;
      this.waiting = null;
      this.send(res, inv);
    } else {
      this.queued = inv;
    }
  }

  /** Forgets the current invocation (timed out, or the process died). */
  abandon(): void {
    this.current = null;
    this.queued = null;
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '';
    const p = url.startsWith(PREFIX) ? url.slice(PREFIX.length).split('?')[0]! : null;
    if (req.method === 'GET' && p === 'invocation/next') return this.next(res);
    if (req.method === 'POST' && p === 'init/error') {
      return void readLimited(req, MAX_RESPONSE_BYTES).then((body) => {
        reply(res, 202, { status: 'OK' });
        this.events.onInitError(body ?? Buffer.alloc(0), header(req, 'lambda-runtime-function-error-type'));
      }, () => res.destroy());
    }
    const m = req.method === 'POST' && p ? /^invocation\/([^/]+)\/(response|error)$/.exec(p) : null;
    if (m) return this.post(req, res, decodeURIComponent(m[1]!), m[2] as 'response' | 'error');
    req.resume();
    reply(res, 404, { errorMessage: `Unknown Runtime API path: ${req.method} ${url}`, errorType: 'NotFound' });
  }

  private next(res: http.ServerResponse): void {
    if (!this.ready) {
      this.ready = true;
      this.events.onReady();
    }
    if (this.queued) {
      const inv = this.queued;
      this.queued = null;
      this.send(res, inv);
      return;
    }
    // Long poll: answered by the next deliver(). A second concurrent poll replaces
    // the first (the runtime gave up on it).
    if (this.waiting) this.waiting.destroy();
    this.waiting = res;
    res.on('close', () => {
      if (this.waiting === res) this.waiting = null;
    });
    this.events.onPoll();
  }

  private send(res: http.ServerResponse, inv: Invocation): void {
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Content-Length': inv.payload.length,
      'Lambda-Runtime-Aws-Request-Id': inv.requestId,
      'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': inv.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': inv.traceId,
    };
    if (inv.clientContext) headers['Lambda-Runtime-Client-Context'] = inv.clientContext;
    if (inv.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = inv.cognitoIdentity;
    this.delivered = true;
    res.writeHead(200, headers);
    res.end(inv.payload);
  }

  private post(req: http.IncomingMessage, res: http.ServerResponse, id: string, kind: 'response' | 'error'): void {
    const cur = this.current;
    if (!cur || cur.inv.requestId !== id || this.queued) {
      req.resume();
      reply(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      return;
    }
    readLimited(req, MAX_RESPONSE_BYTES).then(
      (body) => {
        if (this.current !== cur) {
          reply(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
          return;
        }
        this.current = null;
        if (body === null) {
          // What AWS tells the runtime; the invoker gets Function.ResponseSizeTooLarge.
          reply(res, 413, { errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType: 'RequestEntityTooLarge' });
          cur.done({ kind: 'too-large' });
          return;
        }
        reply(res, 202, { status: 'OK' });
        if (kind === 'response') cur.done({ kind: 'response', body });
        else cur.done({ kind: 'error', body, errorType: header(req, 'lambda-runtime-function-error-type') });
      },
      () => res.destroy(),
    );
  }
}

export type RuntimeEndpoint = Pick<Endpoint, 'address' | 'deliver' | 'abandon' | 'delivered' | 'polling'>;

export class RuntimeApiServer {
  private readonly server: http.Server;
  private readonly bySocket = new WeakMap<net.Socket, Endpoint>();
  private readonly endpoints = new Set<Endpoint>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const ep = this.bySocket.get(req.socket);
      if (!ep) return void res.destroy();
      ep.handle(req, res);
    });
    // Long polls and idle keep-alive connections must never be timed out by the server.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.timeout = 0;
  }

  /** Opens a listener for one environment; its address goes in AWS_LAMBDA_RUNTIME_API. */
  async open(events: EndpointEvents): Promise<RuntimeEndpoint & { close(): void }> {
    const ep = new Endpoint(events);
    const listener = net.createServer((socket) => {
      socket.setNoDelay(true);
      this.bySocket.set(socket, ep);
      ep.sockets.add(socket);
      socket.once('close', () => ep.sockets.delete(socket));
      this.server.emit('connection', socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => resolve());
    });
    listener.unref();
    const port = (listener.address() as net.AddressInfo).port;
    ep.address = `127.0.0.1:${port}`;
    ep.listener = listener;
    this.endpoints.add(ep);
    return Object.assign(ep, {
      close: () => {
        this.endpoints.delete(ep);
        ep.abandon();
        listener.close();
        for (const s of ep.sockets) s.destroy();
      },
    });
  }

  close(): void {
    for (const ep of this.endpoints) {
      ep.listener?.close();
      for (const s of ep.sockets) s.destroy();
    }
    this.endpoints.clear();
    this.server.close();
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function reply(res: http.ServerResponse, status: number, doc: unknown): void {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Reads a body up to `limit` bytes; null when it is larger (the rest is drained, not kept). */
function readLimited(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      n += c.length;
      if (n > limit) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}
