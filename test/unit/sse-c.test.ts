import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { IV_BYTES, counterAt, decryptRange, keyFingerprint, keyMatches, segmentCipher, teePlaintext } from '../../src/services/s3/sse-c.js';

/**
 * SSE-C's at-rest format (src/services/s3/sse-c.ts): AES-256-CTR segments, each with its
 * IV first. Decrypting any range from any offset must equal the slice of the whole, also
 * when the 128-bit counter wraps, across segments and empty segments.
 */

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of gen) out.push(c);
  return Buffer.concat(out);
}

/** Encrypts plaintext segments the way PutObject and UploadPart store them; returns the stored bytes. */
function encryptSegments(key: Buffer, segments: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const seg of segments) {
    const c = segmentCipher(key);
    out.push(c.header);
    // Fed in uneven chunks, as a socket delivers them.
    for (let i = 0; i < seg.length; i += 7) out.push(c.update(seg.subarray(i, i + 7)));
  }
  return Buffer.concat(out);
}

describe('SSE-C at rest', () => {
  it('counterAt adds to the IV as a 128-bit big-endian counter, as OpenSSL increments it (wrap included)', () => {
    const key = randomBytes(32);
    const iv = Buffer.from('fffffffffffffffffffffffffffffffe', 'hex');
    const plain = randomBytes(16 * 8);
    const whole = createCipheriv('aes-256-ctr', key, iv).update(plain);
    for (let block = 0; block < 8; block++) {
      const part = createCipheriv('aes-256-ctr', key, counterAt(iv, block)).update(plain.subarray(block * 16));
      assert.deepEqual(part, whole.subarray(block * 16), `block ${block}`);
    }
    assert.equal(counterAt(Buffer.alloc(16, 0), 0x1_0000_0001).toString('hex'), '00000000000000000000000100000001');
    assert.equal(counterAt(Buffer.from('00000000000000000000000000ffffff', 'hex'), 1).toString('hex'), '00000000000000000000000001000000');
  });

  it('decryptRange returns exactly the plaintext slice for every range, across segments and an empty last segment', async () => {
    const key = randomBytes(32);
    const segments = [randomBytes(37), randomBytes(16), randomBytes(50), Buffer.alloc(0)];
    const plain = Buffer.concat(segments);
    const stored = encryptSegments(key, segments);
    assert.equal(stored.length, plain.length + IV_BYTES * segments.length);
    const sizes = segments.map((s) => s.length);
    for (let start = 0; start < plain.length; start += 3) {
      for (let end = start; end < plain.length; end += 5) {
        assert.deepEqual(await collect(decryptRange({ inline: stored }, sizes, start, end, key)), plain.subarray(start, end + 1), `${start}-${end}`);
      }
    }
    // A wrong key decrypts to something else (CTR has no integrity check: that is the HMAC's job).
    assert.notDeepEqual(await collect(decryptRange({ inline: stored }, sizes, 0, plain.length - 1, randomBytes(32))), plain);
    // An empty object: nothing, without reading.
    assert.equal((await collect(decryptRange({ inline: encryptSegments(key, [Buffer.alloc(0)]) }, [0], 0, -1, key))).length, 0);
  });

  it('decryptRange refuses a body shorter than its sizes', async () => {
    const key = randomBytes(32);
    const stored = encryptSegments(key, [randomBytes(40)]);
    await assert.rejects(collect(decryptRange({ inline: stored.subarray(0, 30) }, [40], 0, 39, key)), /shorter than its metadata/);
  });

  it('teePlaintext passes the stored bytes through and hands over the plaintext, however the chunks split IVs', async () => {
    const key = randomBytes(32);
    const segments = [randomBytes(100), Buffer.alloc(0), randomBytes(33)];
    const stored = segments.map((s) => encryptSegments(key, [s]));
    async function* chunks(b: Buffer): AsyncGenerator<Buffer> {
      for (let i = 0; i < b.length; i += 5) yield b.subarray(i, i + 5);
    }
    async function* all(): AsyncGenerator<AsyncIterable<Buffer>> {
      for (const s of stored) yield chunks(s);
    }
    const plain: Buffer[] = [];
    const passed = await collect(teePlaintext(all(), key, (c) => plain.push(c)));
    assert.deepEqual(passed, Buffer.concat(stored));
    assert.deepEqual(Buffer.concat(plain), Buffer.concat(segments));
  });

  it('a key is recognised by its salted HMAC only; the salt differs each time; other keys and lengths do not match', () => {
    const key = randomBytes(32);
    const a = keyFingerprint(key);
    const b = keyFingerprint(key);
    assert.notEqual(a.keySalt, b.keySalt);
    assert.notEqual(a.keyHmac, b.keyHmac);
    assert.ok(keyMatches(a, key) && keyMatches(b, key));
    assert.equal(keyMatches(a, randomBytes(32)), false);
    assert.equal(keyMatches(a, key.subarray(0, 16)), false);
    assert.ok(!JSON.stringify(a).includes(key.toString('base64')) && !JSON.stringify(a).includes(key.toString('hex')));
  });
});
