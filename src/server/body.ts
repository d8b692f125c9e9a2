import { createHash } from 'node:crypto';
import { CommonErrors } from '../protocol/errors.js';

/**
 * Request-body helpers. Everything is an AsyncIterable<Buffer> so stages compose without
 * buffering: the aws-chunked decoder, the payload-hash verifier and the object writer.
 */

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
