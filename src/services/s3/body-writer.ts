import { createHash, type Hash } from 'node:crypto';
import { md5Raw as md5Of } from '../../util/digest.js';
import type { FileHandle } from 'node:fs/promises';
import { S3Errors } from './errors.js';
import { createChecksum, DIGEST_BYTES, type Checksum, type ChecksumAlgorithm } from '../../util/checksums.js';
import type { FileBlobStore, TempBlob } from '../../storage/blobs.js';
import { md5WorkerUsable, OffThreadMd5 } from '../../util/md5-worker.js';

/**
 * Receives an object body: computes MD5 (the ETag) and any requested checksum while the
 * bytes stream, keeps small bodies in memory (stored inline) and spills larger ones to a
 * temp file. Nothing is visible until `finish` has checked lengths and digests.
 */
export interface ExpectedDigests {
  contentMd5?: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Resolved after the body is read: checksums can arrive in an aws-chunked trailer. */
  checksumValue?: () => string | undefined;
  /**
   * Stores the body encrypted (SSE-C, sse-c.ts): `header` first, then every chunk through
   * `update`. Digests and checksums stay those of the plaintext; `size` too.
   */
  encrypt?: BodyCipher;
  /**
   * The size the request declares (Content-Length, x-amz-decoded-content-length). From
   * OFF_THREAD_MIN up, MD5 runs in a worker thread (util/md5-worker.ts); sizes are still
   * counted and checked as the bytes arrive.
   */
  sizeHint?: number;
  /**
   * false: no MD5 (`md5Hex` is then ''), for bodies whose ETag is not the MD5 of their bytes:
   * a multipart object, concatenated from its parts, has one made of the parts' MD5s.
   */
  md5?: false;
}

/** A stream cipher whose output is as long as its input (AES-CTR). */
export interface BodyCipher {
  header: Buffer;
  update(chunk: Buffer): Buffer;
}

export interface ReceivedBody {
  size: number;
  md5Hex: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  inline?: Buffer;
  temp?: TempBlob;
  /** A blob already made (a multipart object's linked parts): nothing to commit. */
  blob?: string;
  /** With `encrypt`: the MD5 of the bytes stored (header and ciphertext). */
  storedMd5Hex?: string;
}

export async function receiveBody(
  source: AsyncIterable<Buffer>,
  blobs: FileBlobStore,
  inlineMax: number,
  expected: ExpectedDigests,
  maxSize = 5 * 1024 ** 3,
): Promise<ReceivedBody> {
  const wantMd5 = expected.md5 !== false;
  if (!expected.encrypt && (expected.sizeHint ?? 0) >= OFF_THREAD_MIN && (expected.sizeHint ?? 0) > inlineMax && (!wantMd5 || md5WorkerUsable())) {
    return receiveLargeBody(source, blobs, expected, maxSize);
  }
  // The MD5 object is made at the second piece: a body in one piece (small bodies, read
  // whole) is hashed in one call.
  let md5: Hash | undefined;
  let first: Buffer | undefined;
  const sum: Checksum | undefined = expected.checksumAlgorithm ? createChecksum(expected.checksumAlgorithm) : undefined;
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let temp: TempBlob | undefined;
  let writing: Promise<void> | undefined;
  const cipher = expected.encrypt;
  const storedMd5 = cipher && createHash('md5');
  // Encrypted bodies store a header the plaintext does not have: `stored` counts both.
  let stored = 0;
  if (cipher) {
    pending.push(cipher.header);
    pendingBytes = stored = cipher.header.length;
    storedMd5!.update(cipher.header);
  }
  try {
    for await (const plain of source) {
      size += plain.length;
      if (size > maxSize) throw S3Errors.EntityTooLarge({ ProposedSize: String(size), MaxSizeAllowed: String(maxSize) });
      if (!wantMd5) {
        // md5: false
      } else if (md5) md5.update(plain);
      else if (first === undefined) first = plain;
      else md5 = createHash('md5').update(first).update(plain);
      sum?.update(plain);
      let chunk = plain;
      if (cipher) {
        chunk = cipher.update(plain);
        storedMd5!.update(chunk);
        stored += chunk.length;
      } else stored = size;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!temp && stored > inlineMax) temp = await blobs.createTemp(expected.sizeHint);
      // Socket reads arrive in ~64 KiB pieces; writing them in 1 MiB batches saves a
      // thread-pool round trip per piece. One batch is written while the next is read
      // and hashed (awaiting each write left the hashing and the disk taking turns:
      // 256 MiB PUT went from ~450 to ~750 MiB/s, docs/benchmarks.md).
      if (temp && pendingBytes >= WRITE_BATCH) {
        if (writing) await writing;
        writing = writeAll(temp.handle, pending);
        // Its failure is seen where it is awaited; never as an unhandled rejection.
        writing.catch(() => undefined);
        pending = [];
        pendingBytes = 0;
      }
    }
    if (writing) await writing;
    writing = undefined;
    if (temp && pendingBytes > 0) {
      await writeAll(temp.handle, pending);
      pending = [];
    }
    if (temp) temp.size = stored;
    const md5Raw = !wantMd5 ? undefined : md5 ? md5.digest() : md5Of(first ?? EMPTY);
    const checksum = checkDigests(expected, md5Raw, sum);
    return {
      size,
      md5Hex: md5Raw?.toString('hex') ?? '',
      checksum,
      inline: temp ? undefined : pending.length === 1 ? pending[0]! : Buffer.concat(pending, stored),
      temp,
      storedMd5Hex: storedMd5?.digest('hex'),
    };
  } catch (e) {
    if (writing) await writing.catch(() => undefined);
    if (temp) await blobs.discard(temp);
    throw e;
  }
}

const WRITE_BATCH = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** The Content-MD5 and the requested checksum, checked against what was computed. */
function checkDigests(expected: ExpectedDigests, md5Raw: Buffer | undefined, sum: Checksum | undefined): ReceivedBody['checksum'] {
  if (expected.contentMd5 !== undefined) {
    if (!md5Raw) throw new Error('Content-MD5 given for a body received without MD5');
    const given = Buffer.from(expected.contentMd5, 'base64');
    if (given.length !== 16) throw S3Errors.InvalidDigest();
    if (!given.equals(md5Raw)) throw S3Errors.BadDigest({ ExpectedDigest: expected.contentMd5, CalculatedDigest: md5Raw.toString('base64') });
  }
  if (!sum || !expected.checksumAlgorithm) return undefined;
  const value = sum.digest();
  const given = expected.checksumValue?.();
  if (given !== undefined) {
    if (Buffer.from(given, 'base64').length !== DIGEST_BYTES[expected.checksumAlgorithm]) {
      throw S3Errors.InvalidRequest({ message: `Value for x-amz-checksum-${expected.checksumAlgorithm.toLowerCase()} header is invalid.` });
    }
    if (given !== value) {
      throw S3Errors.BadDigest({ message: `The ${expected.checksumAlgorithm} you specified did not match the calculated checksum.` });
    }
  }
  return { algorithm: expected.checksumAlgorithm, value };
}

/** Bodies declared this large or larger are hashed off the main thread. */
export const OFF_THREAD_MIN = 8 * 1024 * 1024;
/**
 * Batches per body: one filling while the others are hashed and written. With two, a
 * batch whose write or hash ran late (the disk's writeback, the worker waiting for a core)
 * stopped the socket reads: 256 MiB PUT 235–404 MiB/s; with four, 411–651 (eight: no more).
 */
const BATCHES = 4;
/**
 * Batches are shared by all uploads and kept for reuse, up to this many (32 MiB): shared
 * memory is freed only by a full GC, and a fresh pair per part of a 1 GiB multipart upload
 * (the AWS CLI sends 10 at a time) grew the server by 500 MiB before one came.
 */
const POOL_MAX = 32;
const batchPool: Buffer[] = [];

function releaseBatch(b: Buffer): void {
  if (batchPool.length < POOL_MAX) batchPool.push(b);
}

/**
 * receiveBody for a large plaintext body: socket pieces are copied into 1 MiB shared
 * batches; each full batch goes to the MD5 worker and to the file at once, and is reused
 * when both are done. The main thread only copies, counts and computes any requested
 * checksum (CRC32 and the like run at several GiB/s; SHA-256 at ~2).
 */
async function receiveLargeBody(source: AsyncIterable<Buffer>, blobs: FileBlobStore, expected: ExpectedDigests, maxSize: number): Promise<ReceivedBody> {
  const md5 = expected.md5 === false ? undefined : new OffThreadMd5();
  const sum: Checksum | undefined = expected.checksumAlgorithm ? createChecksum(expected.checksumAlgorithm) : undefined;
  const temp = await blobs.createTemp(expected.sizeHint);
  const inFlight = new Set<Promise<void>>();
  // Writes must reach the file in order: each waits for the one before.
  let writes: Promise<void> = Promise.resolve();
  let failure: unknown;
  const take = async (): Promise<Buffer> => {
    while (inFlight.size >= BATCHES - 1 && !failure) await Promise.race(inFlight);
    if (failure) throw failure;
    return batchPool.pop() ?? Buffer.from(new SharedArrayBuffer(WRITE_BATCH));
  };
  const send = (batch: Buffer, len: number): void => {
    const view = batch.subarray(0, len);
    const written = (writes = writes.then(() => writeAll(temp.handle, [view])));
    const job = Promise.all([md5?.update(batch.buffer as SharedArrayBuffer, len), written]).then(
      () => releaseBatch(batch),
      (e) => {
        failure ??= e;
      },
    );
    inFlight.add(job);
    void job.finally(() => inFlight.delete(job));
  };
  let size = 0;
  try {
    let batch = await take();
    let fill = 0;
    for await (const piece of source) {
      size += piece.length;
      if (size > maxSize) throw S3Errors.EntityTooLarge({ ProposedSize: String(size), MaxSizeAllowed: String(maxSize) });
      sum?.update(piece);
      let off = 0;
      while (off < piece.length) {
        const n = Math.min(piece.length - off, WRITE_BATCH - fill);
        piece.copy(batch, fill, off, off + n);
        fill += n;
        off += n;
        if (fill === WRITE_BATCH) {
          send(batch, fill);
          batch = await take();
          fill = 0;
        }
      }
    }
    if (fill > 0) send(batch, fill);
    else releaseBatch(batch);
    await Promise.all(inFlight);
    if (failure) throw failure;
    temp.size = size;
    const md5Raw = await md5?.digest();
    const checksum = checkDigests(expected, md5Raw, sum);
    return { size, md5Hex: md5Raw?.toString('hex') ?? '', checksum, temp };
  } catch (e) {
    await Promise.allSettled(inFlight);
    md5?.drop();
    await blobs.discard(temp);
    throw e;
  }
}

async function writeAll(handle: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length) {
    let { bytesWritten } = await handle.writev(rest);
    // A short write: drop what was written and go on with the remainder.
    while (rest.length && bytesWritten >= rest[0]!.length) {
      bytesWritten -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length && bytesWritten > 0) rest = [rest[0]!.subarray(bytesWritten), ...rest.slice(1)];
  }
}

/** The body size a request declares: x-amz-decoded-content-length (aws-chunked), else Content-Length. */
export function declaredSize(header: (name: string) => string | undefined): number | undefined {
  const v = Number(header('x-amz-decoded-content-length') ?? header('content-length'));
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}
