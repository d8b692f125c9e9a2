import * as crypto from 'node:crypto';

/**
 * One-shot digests of data held whole. `crypto.hash` (Node ≥ 20.12) skips the Hash object
 * that createHash().update().digest() builds: measured here, SHA-256 of a 300-byte string
 * 0.67 → 0.33 µs and of 4 KiB 2.5 → 2.1 µs, MD5 of 4 KiB 5.4 → 5.2 µs. Older Nodes fall
 * back to createHash.
 */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Hex(data: string | Buffer): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

export function md5Raw(data: Buffer): Buffer {
  return oneShot ? oneShot('md5', data, 'buffer') : crypto.createHash('md5').update(data).digest();
}
