import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { S3Errors } from './errors.js';
import { createChecksum, DIGEST_BYTES, type Checksum, type ChecksumAlgorithm } from '../../util/checksums.js';
import type { FileBlobStore } from '../../storage/blobs.js';

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
  temp?: { path: string; handle: FileHandle };
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
  const md5 = createHash('md5');
  const sum: Checksum | undefined = expected.checksumAlgorithm ? createChecksum(expected.checksumAlgorithm) : undefined;
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let temp: { path: string; handle: FileHandle } | undefined;
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
      md5.update(plain);
      sum?.update(plain);
      let chunk = plain;
      if (cipher) {
        chunk = cipher.update(plain);
        storedMd5!.update(chunk);
        stored += chunk.length;
      } else stored = size;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!temp && stored > inlineMax) temp = await blobs.createTemp();
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
    const md5Raw = md5.digest();
    if (expected.contentMd5 !== undefined) {
      const given = Buffer.from(expected.contentMd5, 'base64');
      if (given.length !== 16) throw S3Errors.InvalidDigest();
      if (!given.equals(md5Raw)) throw S3Errors.BadDigest({ ExpectedDigest: expected.contentMd5, CalculatedDigest: md5Raw.toString('base64') });
    }
    let checksum: ReceivedBody['checksum'];
    if (sum && expected.checksumAlgorithm) {
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
      checksum = { algorithm: expected.checksumAlgorithm, value };
    }
    return {
      size,
      md5Hex: md5Raw.toString('hex'),
      checksum,
      inline: temp ? undefined : pending.length === 1 ? pending[0]! : Buffer.concat(pending, stored),
      temp,
      storedMd5Hex: storedMd5?.digest('hex'),
    };
  } catch (e) {
    if (writing) await writing.catch(() => undefined);
    if (temp) await blobs.discard(temp.path, temp.handle);
    throw e;
  }
}

const WRITE_BATCH = 1024 * 1024;

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
