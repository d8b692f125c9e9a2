import { createHash, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';

/**
 * The checksum algorithms S3 accepts (x-amz-checksum-*). Values travel as base64 of the
 * big-endian digest. Every default SDK upload carries a CRC32 since 2025: that one is
 * Node's own zlib.crc32 (native). CRC32C comes from @node-rs/crc32 (native SIMD), loaded on
 * first use because it costs ~6 MB of resident memory that most users never need.
 */
const load = createRequire(import.meta.url);
let crc32cFn: ((b: Buffer, initial?: number) => number) | undefined;
function crc32c(b: Buffer, initial?: number): number {
  crc32cFn ??= (load('@node-rs/crc32') as { crc32c: (b: Buffer, initial?: number) => number }).crc32c;
  return crc32cFn(b, initial);
}
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function isChecksumAlgorithm(s: string): s is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(s);
}

export function checksumHeader(algo: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algo.toLowerCase()}`;
}

export interface Checksum {
  update(chunk: Buffer): void;
  /** base64 of the big-endian digest */
  digest(): string;
}

class Crc32Sum implements Checksum {
  private state = 0;
  constructor(private readonly fn: (b: Buffer, initial?: number) => number) {}
  update(chunk: Buffer): void {
    this.state = this.fn(chunk, this.state);
  }
  digest(): string {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(this.state >>> 0);
    return b.toString('base64');
  }
}

class HashSum implements Checksum {
  private readonly hash: Hash;
  constructor(algo: string) {
    this.hash = createHash(algo);
  }
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  digest(): string {
    return this.hash.digest('base64');
  }
}

/**
 * CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones), the
 * checksum S3 computes by default. JavaScript has no fast 64-bit integers, so the state is
 * kept as two 32-bit halves and the table is split the same way.
 */
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
(() => {
  const polyLo = 0xac4bc9b5;
  const polyHi = 0x9a6c9329;
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    CRC64_LO[i] = lo;
    CRC64_HI[i] = hi;
  }
})();

export class Crc64Nvme implements Checksum {
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  update(chunk: Buffer): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < chunk.length; i++) {
      const idx = (lo ^ chunk[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!;
      hi = (hi >>> 8) ^ CRC64_HI[idx]!;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }
  digest(): string {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    b.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return b.toString('base64');
  }
}

export function createChecksum(algo: ChecksumAlgorithm): Checksum {
  switch (algo) {
    case 'CRC32':
      return new Crc32Sum(crc32);
    case 'CRC32C':
      return new Crc32Sum(crc32c);
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new HashSum('sha1');
    case 'SHA256':
      return new HashSum('sha256');
  }
}

/** Length in bytes of each algorithm's digest, to validate a client's value before use. */
export const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };
