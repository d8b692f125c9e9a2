import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, base32Encode, newSecretBase32, stepsMatching, timeStep, totpAt, totpCode } from '../../src/util/totp.js';

/** TOTP against the RFCs' published vectors, and the Base32 the seeds travel in. */
const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 Appendix B, the SHA-1 rows (8 digits).
  const vectors: [number, string][] = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [t, code] of vectors) {
    it(`T=${t} gives ${code}`, () => {
      assert.equal(totpAt(RFC_SECRET, t * 1000, 8), code);
      assert.equal(totpCode(base32Encode(RFC_SECRET), timeStep(t * 1000), 8), code, 'the same through the Base32 secret and the step');
    });
  }

  it('HOTP values of RFC 4226 Appendix D (6 digits, counters 0–9)', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    assert.deepEqual(expected.map((_, i) => totpCode(RFC_SECRET, i)), expected);
  });

  it('time steps are 30 seconds', () => {
    assert.equal(timeStep(0), 0);
    assert.equal(timeStep(29_999), 0);
    assert.equal(timeStep(30_000), 1);
    assert.equal(timeStep(59_000), 1);
    assert.equal(timeStep(1111111109_000), 37037036);
  });

  it('stepsMatching finds the step of a code within a window, and nothing outside it', () => {
    const secret = base32Encode(RFC_SECRET);
    const code = totpCode(secret, 1000);
    assert.deepEqual(stepsMatching(secret, code, 998, 1002), [1000]);
    assert.deepEqual(stepsMatching(secret, code, 1001, 1005), []);
    assert.deepEqual(stepsMatching(secret, '12345a', 990, 1010), []);
    assert.deepEqual(stepsMatching(secret, '', 990, 1010), []);
  });
});

describe('Base32 (RFC 4648)', () => {
  it('encodes the RFC 6238 secret as authenticator apps expect it', () => {
    assert.equal(base32Encode(RFC_SECRET), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.deepEqual(Buffer.from(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')), RFC_SECRET);
  });

  it('round-trips arbitrary bytes, of lengths that need padding too', () => {
    for (const n of [1, 5, 7, 20, 33]) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 255));
      assert.deepEqual(Buffer.from(base32Decode(base32Encode(bytes))), bytes, `length ${n}`);
    }
  });

  it('new secrets are 160 random bits: 32 Base32 characters, different each time', () => {
    const a = newSecretBase32();
    const b = newSecretBase32();
    assert.match(a, /^[A-Z2-7]{32}$/);
    assert.equal(base32Decode(a).length, 20);
    assert.notEqual(a, b);
  });
});
