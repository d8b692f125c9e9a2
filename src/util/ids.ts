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

/**
 * S3 object version ids: 32 URL-safe characters, unique, and ordered so that a newer
 * version's id sorts first (byte order). The first 10 characters are the creation time in
 * microseconds, each base-64 digit inverted (so later times give smaller strings), in an
 * alphabet whose characters are in ASCII order; the other 22 are random. Listings and the
 * version-id-marker of ListObjectVersions rely on this order (storage/sqlite.ts).
 */
const VERSION_ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const VERSION_TIME_CHARS = 10;
const VERSION_ID_LENGTH = 32;
const VERSION_ID = /^[-0-9A-Z_a-z]{32}$/;
let lastVersionTime = 0;

/** Whether `s` has the shape of a version id Nimbus issues (anything else is "Invalid version id"). */
export function isVersionId(s: string): boolean {
  return VERSION_ID.test(s);
}

function versionTime(id: string): number {
  let t = 0;
  for (let i = 0; i < VERSION_TIME_CHARS; i++) t = t * 64 + (63 - VERSION_ALPHABET.indexOf(id[i]!));
  return t;
}

/**
 * A new version id; when `newerThan` (the newest existing version of the key) is given,
 * the id sorts before it even if the clock went back.
 */
export function versionId(now: number, newerThan?: string): string {
  let t = Math.max(Math.floor(now) * 1000, lastVersionTime + 1);
  if (newerThan !== undefined && isVersionId(newerThan)) t = Math.max(t, versionTime(newerThan) + 1);
  lastVersionTime = t;
  const chars: string[] = new Array(VERSION_ID_LENGTH);
  for (let i = VERSION_TIME_CHARS - 1; i >= 0; i--) {
    chars[i] = VERSION_ALPHABET[63 - (t % 64)]!;
    t = Math.floor(t / 64);
  }
  const rnd = random(VERSION_ID_LENGTH - VERSION_TIME_CHARS);
  for (let i = VERSION_TIME_CHARS; i < VERSION_ID_LENGTH; i++) chars[i] = VERSION_ALPHABET[rnd[i - VERSION_TIME_CHARS]! & 63]!;
  return chars.join('');
}
