import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Identifiers in the shapes AWS uses for them. Random bytes come from a pool so the
 * hot path does not call into OpenSSL for every request.
 */
let pool = Buffer.alloc(0);
let poolOffset = 0;

function random(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/** S3-style request id: 16 upper-case hex characters (x-amz-request-id). */
export function s3RequestId(): string {
  return random(8).toString('hex').toUpperCase();
}

/** S3's x-amz-id-2 "extended request id": an opaque base64 token. */
export function hostId(): string {
  return random(48).toString('base64');
}

/** x-amzn-RequestId for the JSON and query protocols: a UUID. */
export function uuid(): string {
  return randomUUID();
}

/** A file-system-safe unique id for blobs and temp files. */
export function blobId(): string {
  return random(16).toString('hex');
}

/** Multipart upload ids: long opaque URL-safe tokens, as S3's are. */
export function uploadId(): string {
  return random(48).toString('base64url');
}
