import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CommonErrors } from '../protocol/errors.js';
import { sha256Hex } from '../util/digest.js';

/**
 * Request-body helpers. Everything is an AsyncIterable<Buffer> so stages compose without
 * buffering: the aws-chunked decoder, the payload-hash verifier and the object writer.
 */

const continuePending = new WeakSet<IncomingMessage>();

/**
 * `Expect: 100-continue` (the JS SDK sends it with large uploads): the 100 goes out when
 * something first reads the body, so a request refused before that (a bad signature, no such
 * bucket, no SSE-C key) gets its error without the client sending the body, as S3 does.
 * Node answered every such request with 100 at once: the client then sent megabytes into a
 * connection the error response closed, and saw EPIPE instead of the error.
 */
export function deferContinue(req: IncomingMessage, res: ServerResponse): void {
  continuePending.add(req);
  const read = req._read;
  req._read = function (this: IncomingMessage, n: number) {
    req._read = read;
    if (continuePending.delete(req)) res.writeContinue();
    return read.call(this, n);
  };
}

/** Whether the client still waits for a 100 Continue before sending the body. */
export function awaitingContinue(req: IncomingMessage): boolean {
  return continuePending.has(req);
}

/** Collects a (small) body, refusing more than `limit` bytes. */
export async function collect(source: AsyncIterable<Buffer>, limit: number, tooLarge = () => CommonErrors.EntityTooLarge()): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    n += c.length;
    if (n > limit) throw tooLarge();
    parts.push(c);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
}

/**
 * The body of a request that declares none (no Content-Length or 0, no Transfer-Encoding):
 * GET, HEAD, DELETE. Reading such a request through the socket's async iterator and the
 * verifier generators cost ~3 KB of garbage and a few µs per request for nothing.
 */
export const NO_BODY: AsyncIterable<Buffer> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
};
const EMPTY = Buffer.alloc(0);

/** Whether the request's headers say it has no body. */
export function declaresNoBody(headers: Record<string, string | string[] | undefined>): boolean {
  const len = headers['content-length'];
  return headers['transfer-encoding'] === undefined && (len === undefined || len === '0');
}

/** collect() for a body that may be NO_BODY. */
export function collectBody(source: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  return source === NO_BODY ? Promise.resolve(EMPTY) : collect(source, limit);
}

/** Bodies declared this small or smaller are read whole before the handler sees them. */
export const SMALL_BODY_MAX = 64 * 1024;

/**
 * A small body (Content-Length ≤ SMALL_BODY_MAX), read with 'data' events into one buffer
 * and handed on as a single piece, its SHA-256 checked when one was signed: one generator
 * instead of the socket's async iterator and two wrapping generators (~6 KB of garbage and
 * several µs per 4 KiB PUT in the heap and CPU profiles). A socket that closes before the
 * end is S3's IncompleteBody, as in guardIncomplete.
 */
export async function* smallBody(req: IncomingMessage, expectedHex: string | undefined, onDone: () => void): AsyncGenerator<Buffer> {
  const body = await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer) => {
      parts.push(c);
      n += c.length;
    };
    const finish = (e?: unknown) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (e !== undefined) reject(e);
    };
    const onEnd = () => {
      finish();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, n));
    };
    const onClose = () => finish(CommonErrors.IncompleteBody());
    const onError = (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNRESET' || e.message === 'aborted' ? CommonErrors.IncompleteBody() : e);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
  if (expectedHex !== undefined) {
    const got = sha256Hex(body);
    if (got !== expectedHex.toLowerCase()) {
      throw CommonErrors.XAmzContentSHA256Mismatch({ ClientComputedContentSHA256: expectedHex, S3ComputedContentSHA256: got });
    }
  }
  onDone();
  yield body;
}

/** Passes the body through and fails at the end if its SHA-256 is not `expectedHex`. */
export async function* verifySha256(source: AsyncIterable<Buffer>, expectedHex: string): AsyncGenerator<Buffer> {
  const h = createHash('sha256');
  for await (const c of source) {
    h.update(c);
    yield c;
  }
  const got = h.digest('hex');
  if (got !== expectedHex.toLowerCase()) {
    throw CommonErrors.XAmzContentSHA256Mismatch({ ClientComputedContentSHA256: expectedHex, S3ComputedContentSHA256: got });
  }
}

/** Turns a socket abort mid-body into S3's IncompleteBody instead of an internal error. */
export async function* guardIncomplete(source: AsyncIterable<Buffer>, onDone: () => void): AsyncGenerator<Buffer> {
  try {
    for await (const c of source) yield c;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted') throw CommonErrors.IncompleteBody();
    throw e;
  }
  onDone();
}
