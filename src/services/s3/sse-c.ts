import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BlobReader } from '../../storage/blobs.js';
import type { BodyCipher } from './body-writer.js';

/**
 * SSE-C at rest: bodies encrypted with the customer's key, which Nimbus never stores.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
 *
 * Layout. A body is one or more segments, each `[16-byte random IV][AES-256-CTR ciphertext]`;
 * a PutObject or CopyObject body is one segment, a completed multipart upload one per part
 * (each part was encrypted as it arrived, and CompleteMultipartUpload, which need not carry
 * the key, concatenates the stored parts unchanged). CTR keeps the ciphertext as long as the
 * plaintext, so a Range or partNumber GET decrypts only the bytes it returns: the counter for
 * plaintext offset `o` of a segment is its IV plus floor(o / 16).
 *
 * Recognising the key. The metadata holds a random salt and HMAC-SHA256(salt, key), as S3
 * describes ("a randomly salted HMAC value of the encryption key"); a request's key matches
 * if it gives the same HMAC. Neither the key nor its MD5 is written anywhere.
 *
 * What this does not do: CTR is not authenticated, so a body altered on disk decrypts to
 * garbage rather than failing (AWS uses AES-GCM); and the key travels in a request header
 * over Nimbus's plain HTTP.
 */
export const IV_BYTES = 16;
const BLOCK = 16;
const READ_CHUNK = 1024 * 1024;

/** The CTR counter block `blocks` AES blocks after `iv`: a 128-bit big-endian add, as OpenSSL increments it. */
export function counterAt(iv: Buffer, blocks: number): Buffer {
  const out = Buffer.from(iv);
  let carry = blocks;
  for (let i = IV_BYTES - 1; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

/** A new segment's cipher: a fresh random IV (stored first) and the customer's key. */
export function segmentCipher(key: Buffer): BodyCipher {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-ctr', key, iv);
  return { header: iv, update: (chunk) => c.update(chunk) };
}

/** What the metadata keeps to recognise a key: a random salt and the salted HMAC. */
export function keyFingerprint(key: Buffer): { keySalt: string; keyHmac: string } {
  const salt = randomBytes(16);
  return { keySalt: salt.toString('base64'), keyHmac: createHmac('sha256', salt).update(key).digest('base64') };
}

export function keyMatches(fp: { keySalt: string; keyHmac: string }, key: Buffer): boolean {
  const mac = createHmac('sha256', Buffer.from(fp.keySalt, 'base64')).update(key).digest();
  const stored = Buffer.from(fp.keyHmac, 'base64');
  return mac.length === stored.length && timingSafeEqual(mac, stored);
}

/** An opened stored body: inline bytes, or a file (closed when the read ends). */
export interface StoredBody {
  inline?: Buffer;
  handle?: BlobReader;
}

/**
 * Decrypts the plaintext bytes [start, end] of a body laid out as segments of the given
 * plaintext sizes, reading only what they need; closes the file at the end (or when the
 * consumer stops early).
 */
export async function* decryptRange(body: StoredBody, sizes: number[], start: number, end: number, key: Buffer): AsyncGenerator<Buffer> {
  const { inline, handle } = body;
  const read = async (pos: number, len: number): Promise<Buffer> => {
    if (inline) {
      if (pos + len > inline.length) throw new Error('encrypted body is shorter than its metadata says');
      return inline.subarray(pos, pos + len);
    }
    const buf = Buffer.allocUnsafe(len);
    for (let off = 0; off < len; ) {
      const { bytesRead } = await handle!.read(buf, off, len - off, pos + off);
      if (bytesRead === 0) throw new Error('encrypted body is shorter than its metadata says');
      off += bytesRead;
    }
    return buf;
  };
  try {
    let plainBase = 0;
    let storedBase = 0;
    for (const size of sizes) {
      if (plainBase > end) break;
      const last = plainBase + size - 1;
      if (size > 0 && start <= last) {
        const from = Math.max(start, plainBase) - plainBase;
        const to = Math.min(end, last) - plainBase;
        const iv = await read(storedBase, IV_BYTES);
        const d = createDecipheriv('aes-256-ctr', key, counterAt(iv, Math.floor(from / BLOCK)));
        const skip = from % BLOCK;
        if (skip) d.update(Buffer.alloc(skip));
        for (let pos = from; pos <= to; ) {
          const n = Math.min(READ_CHUNK, to - pos + 1);
          yield d.update(await read(storedBase + IV_BYTES + pos, n));
          pos += n;
        }
      }
      plainBase += size;
      storedBase += IV_BYTES + size;
    }
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Passes stored segments through unchanged while feeding their plaintext to `onPlain`
 * (CompleteMultipartUpload's full-object checksum of SSE-C parts). `segments` yields each
 * segment's chunks in turn.
 */
export async function* teePlaintext(segments: AsyncIterable<AsyncIterable<Buffer>>, key: Buffer, onPlain: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const segment of segments) {
    let iv = Buffer.alloc(0);
    let d: ReturnType<typeof createDecipheriv> | undefined;
    for await (const chunk of segment) {
      yield chunk;
      let rest = chunk;
      if (!d) {
        const need = IV_BYTES - iv.length;
        iv = Buffer.concat([iv, rest.subarray(0, need)]);
        rest = rest.subarray(need);
        if (iv.length < IV_BYTES) continue;
        d = createDecipheriv('aes-256-ctr', key, iv);
      }
      if (rest.length) onPlain(d.update(rest));
    }
  }
}
