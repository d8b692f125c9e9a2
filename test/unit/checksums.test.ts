import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  CHECKSUM_ALGORITHMS,
  DIGEST_BYTES,
  checksumHeader,
  createChecksum,
  isChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../src/util/checksums.js';

/**
 * x-amz-checksum-* algorithms (src/util/checksums.ts): the CRC catalogue's check values
 * for "123456789", SHA against node:crypto, bit-at-a-time reference CRCs on random data,
 * and incremental updates equal to one-shot ones.
 */

function digestHex(algo: ChecksumAlgorithm, ...parts: Buffer[]): string {
  const c = createChecksum(algo);
  for (const p of parts) c.update(p);
  return Buffer.from(c.digest(), 'base64').toString('hex');
}

/** Bit-at-a-time reflected CRC-32C (Castagnoli, poly 0x82F63B78): the slow textbook form. */
function refCrc32c(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** Bit-at-a-time reflected CRC-64/NVME (poly 0x9A6C9329AC4BC9B5) with BigInt. */
function refCrc64Nvme(data: Buffer): string {
  const mask = (1n << 64n) - 1n;
  let crc = mask;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  return (crc ^ mask).toString(16).padStart(16, '0');
}

const CHECK = Buffer.from('123456789');

describe('checksums: catalogue check values for "123456789"', () => {
  it('CRC32 = cbf43926', () => assert.equal(digestHex('CRC32', CHECK), 'cbf43926'));
  it('CRC32C = e3069283', () => assert.equal(digestHex('CRC32C', CHECK), 'e3069283'));
  it('CRC64NVME = ae8b14860a799888', () => assert.equal(digestHex('CRC64NVME', CHECK), 'ae8b14860a799888'));
  it('SHA1 and SHA256 equal node:crypto', () => {
    assert.equal(digestHex('SHA1', CHECK), createHash('sha1').update(CHECK).digest('hex'));
    assert.equal(digestHex('SHA1', CHECK), 'f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    assert.equal(digestHex('SHA256', CHECK), createHash('sha256').update(CHECK).digest('hex'));
    assert.equal(digestHex('SHA256', CHECK), '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
  });
  it('the reference implementations in this file agree with the catalogue', () => {
    assert.equal(refCrc32c(CHECK), 'e3069283');
    assert.equal(refCrc64Nvme(CHECK), 'ae8b14860a799888');
  });
});

describe('checksums: digests are base64 of the big-endian value', () => {
  it('CRC32 of "123456789" is y/Q5Jg==', () => {
    const c = createChecksum('CRC32');
    c.update(CHECK);
    assert.equal(c.digest(), 'y/Q5Jg==');
  });

  it('empty input', () => {
    assert.equal(digestHex('CRC32'), '00000000');
    assert.equal(digestHex('CRC32C'), '00000000');
    assert.equal(digestHex('CRC64NVME'), '0000000000000000');
    assert.equal(digestHex('SHA256'), createHash('sha256').digest('hex'));
    assert.equal(digestHex('SHA1'), createHash('sha1').digest('hex'));
  });

  it('digest lengths match DIGEST_BYTES', () => {
    for (const a of CHECKSUM_ALGORITHMS) assert.equal(Buffer.from(createChecksum(a).digest(), 'base64').length, DIGEST_BYTES[a], a);
    assert.deepEqual(DIGEST_BYTES, { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 });
  });

  it('values with the top bit set stay unsigned', () => {
    // CRC32("a") = e8b7be43: the high bit is set, which a signed int would mangle.
    assert.equal(digestHex('CRC32', Buffer.from('a')), 'e8b7be43');
    assert.equal(digestHex('CRC32C', Buffer.from('a')), refCrc32c(Buffer.from('a')));
    assert.equal(digestHex('CRC32C', Buffer.from('a')), 'c1d04330');
  });
});

describe('checksums: random data against references', () => {
  const data = randomBytes(64 * 1024 + 7);
  it('CRC32 equals zlib', () => {
    assert.equal(digestHex('CRC32', data), (zlibCrc32(data) >>> 0).toString(16).padStart(8, '0'));
  });
  it('CRC32C equals the bitwise reference', () => assert.equal(digestHex('CRC32C', data), refCrc32c(data)));
  it('CRC64NVME equals the bitwise reference', () => {
    const small = data.subarray(0, 4099);
    assert.equal(digestHex('CRC64NVME', small), refCrc64Nvme(small));
    for (let i = 0; i < 256; i++) {
      const one = Buffer.from([i]);
      assert.equal(digestHex('CRC64NVME', one), refCrc64Nvme(one), `byte ${i}`);
    }
  });
});

describe('checksums: incremental updates give the one-shot digest', () => {
  for (const algo of CHECKSUM_ALGORITHMS) {
    it(`${algo}: "123456789" split at every position and byte by byte`, () => {
      const whole = digestHex(algo, CHECK);
      for (let i = 0; i <= CHECK.length; i++) assert.equal(digestHex(algo, CHECK.subarray(0, i), CHECK.subarray(i)), whole, `split at ${i}`);
      assert.equal(digestHex(algo, ...Array.from(CHECK, (b) => Buffer.from([b]))), whole);
    });

    it(`${algo}: 1 MiB of random data in uneven pieces`, () => {
      const data = randomBytes(1 << 20);
      const parts: Buffer[] = [];
      for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 3) % 65521) parts.push(data.subarray(at, at + n));
      assert.equal(digestHex(algo, ...parts), digestHex(algo, data));
    });
  }

  it('separate instances do not share state', () => {
    const a = createChecksum('CRC64NVME');
    const b = createChecksum('CRC64NVME');
    a.update(Buffer.from('1234'));
    b.update(CHECK);
    a.update(Buffer.from('56789'));
    assert.equal(a.digest(), b.digest());
    assert.equal(Buffer.from(a.digest(), 'base64').toString('hex'), 'ae8b14860a799888');
  });
});

describe('checksums: names', () => {
  it('isChecksumAlgorithm and checksumHeader', () => {
    assert.deepEqual([...CHECKSUM_ALGORITHMS], ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);
    assert.equal(isChecksumAlgorithm('CRC64NVME'), true);
    assert.equal(isChecksumAlgorithm('crc32'), false);
    assert.equal(isChecksumAlgorithm('MD5'), false);
    assert.equal(checksumHeader('CRC64NVME'), 'x-amz-checksum-crc64nvme');
    assert.equal(checksumHeader('SHA256'), 'x-amz-checksum-sha256');
  });
});
