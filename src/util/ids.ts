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

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** IAM unique ids: a type prefix (AIDA user, AGPA group, AROA role, ANPA policy, AKIA/ASIA keys) + 16 characters. */
export function iamId(prefix: string, length = 16): string {
  const bytes = random(length);
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i]! & 31];
  return out;
}

/** A 40-character secret access key. */
export function secretKey(): string {
  return random(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'A' : 'B'));
}
