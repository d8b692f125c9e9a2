import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { decodeAwsChunked, type ChunkSigning } from '../../src/protocol/sigv4/chunked.js';
import { ServiceError } from '../../src/protocol/errors.js';

/**
 * The aws-chunked decoder (src/protocol/sigv4/chunked.ts). Bodies are built here from the
 * rules in https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
 * sigv4-streaming-trailers.html, with an HMAC implementation independent of the code under
 * test, and fed to the decoder split at every awkward boundary.
 */

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const EMPTY = createHash('sha256').update('').digest('hex');

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const KEY = hmac(hmac(hmac(hmac('AWS4' + SECRET, '20130524'), 'us-east-1'), 's3'), 'aws4_request');

function signing(seedSignature: string, key = KEY): ChunkSigning {
  return { key, amzDate: AMZ_DATE, scope: SCOPE, seedSignature };
}

function crc32b64(data: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(data) >>> 0);
  return b.toString('base64');
}

interface Built {
  body: Buffer;
  chunkSignatures: string[];
  trailerSignature?: string;
}

/** A signed aws-chunked body; with `trailer`, the -TRAILER variant with a CRC32 trailer. */
function buildSigned(chunks: Buffer[], seed: string, opts: { trailer?: boolean; key?: Buffer } = {}): Built {
  const key = opts.key ?? KEY;
  const parts: Buffer[] = [];
  const chunkSignatures: string[] = [];
  let prev = seed;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const sig = hmac(key, `AWS4-HMAC-SHA256-PAYLOAD\n${AMZ_DATE}\n${SCOPE}\n${prev}\n${EMPTY}\n${sha256(data)}`).toString('hex');
    chunkSignatures.push(sig);
    prev = sig;
    parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`));
    if (data.length) parts.push(data, Buffer.from('\r\n'));
  }
  let trailerSignature: string | undefined;
  if (opts.trailer) {
    const line = `x-amz-checksum-crc32:${crc32b64(Buffer.concat(chunks))}`;
    trailerSignature = hmac(key, `AWS4-HMAC-SHA256-TRAILER\n${AMZ_DATE}\n${SCOPE}\n${prev}\n${sha256(line + '\n')}`).toString('hex');
    parts.push(Buffer.from(`${line}\r\nx-amz-trailer-signature:${trailerSignature}\r\n\r\n`));
  } else {
    parts.push(Buffer.from('\r\n'));
  }
  return { body: Buffer.concat(parts), chunkSignatures, trailerSignature };
}

/** What the JS SDK sends with STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
function buildUnsignedTrailer(chunks: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const data of chunks) parts.push(Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n'));
  parts.push(Buffer.from(`0\r\nx-amz-checksum-crc32:${crc32b64(Buffer.concat(chunks))}\r\n\r\n`));
  return Buffer.concat(parts);
}

async function* pieces(body: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let from = 0;
  for (const c of [...cuts, body.length]) {
    if (c > from) yield body.subarray(from, c);
    from = Math.max(from, c);
  }
}

const bytewise = (body: Buffer) => Array.from({ length: body.length - 1 }, (_, i) => i + 1);

interface Result {
  data: Buffer;
  trailers: Record<string, string> | undefined;
  trailerCalls: number;
  yields: number;
}

async function decode(source: AsyncIterable<Buffer>, opts: { signing?: ChunkSigning; decodedLength?: number } = {}): Promise<Result> {
  let trailers: Record<string, string> | undefined;
  let trailerCalls = 0;
  const out: Buffer[] = [];
  for await (const b of decodeAwsChunked(source, {
    ...opts,
    onTrailers: (t) => {
      trailers = t;
      trailerCalls++;
    },
  })) {
    out.push(Buffer.from(b));
  }
  return { data: Buffer.concat(out), trailers, trailerCalls, yields: out.length };
}

async function decodeError(source: AsyncIterable<Buffer>, opts: { signing?: ChunkSigning; decodedLength?: number } = {}): Promise<ServiceError> {
  try {
    await decode(source, opts);
  } catch (e) {
    assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the decoder to throw');
}

const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const DATA = [Buffer.from('hello, '), Buffer.from('chunked\r\nworld 日本 🙂'), Buffer.from('!')];
const ALL = Buffer.concat(DATA);

describe('aws-chunked: AWS published example', () => {
  // The S3 API reference example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD: 65 KiB of 'a' in a
  // 64 KiB chunk and a 1 KiB chunk, seed signature from its Authorization header.
  const data = Buffer.alloc(66560, 'a');
  const built = buildSigned([data.subarray(0, 65536), data.subarray(65536)], SEED);

  it('the chunk signatures built here are AWS\'s', () => {
    assert.deepEqual(built.chunkSignatures, [
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]);
    assert.equal(built.body.length, 66824); // AWS's Content-Length for this example
  });

  it('decodes, checks every signature and streams data before a chunk is complete', async () => {
    const cuts = Array.from({ length: Math.floor(built.body.length / 1000) }, (_, i) => (i + 1) * 1000);
    const r = await decode(pieces(built.body, cuts), { signing: signing(SEED), decodedLength: 66560 });
    assert.equal(r.data.length, 66560);
    assert.ok(r.data.equals(data));
    assert.deepEqual(r.trailers, {});
    assert.equal(r.trailerCalls, 1);
    assert.ok(r.yields > 3, `data was yielded as it arrived (${r.yields} pieces)`);
  });
});

describe('aws-chunked: signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  const built = buildSigned(DATA, SEED);

  it('decodes in one piece', async () => {
    const r = await decode(pieces(built.body, []), { signing: signing(SEED), decodedLength: ALL.length });
    assert.ok(r.data.equals(ALL));
    assert.deepEqual(r.trailers, {});
  });

  it('decodes fed one byte at a time', async () => {
    const r = await decode(pieces(built.body, bytewise(built.body)), { signing: signing(SEED), decodedLength: ALL.length });
    assert.ok(r.data.equals(ALL));
    assert.equal(r.trailerCalls, 1);
  });

  it('decodes split in two at every position', async () => {
    for (let cut = 1; cut < built.body.length; cut++) {
      const r = await decode(pieces(built.body, [cut]), { signing: signing(SEED) });
      assert.ok(r.data.equals(ALL), `split at ${cut}`);
    }
  });

  it('decodes split inside each CRLF and inside each header line', async () => {
    const text = built.body.toString('latin1');
    const cuts: number[] = [];
    for (let i = text.indexOf('\r\n'); i >= 0; i = text.indexOf('\r\n', i + 1)) cuts.push(i + 1);
    for (let i = text.indexOf(';chunk-signature='); i >= 0; i = text.indexOf(';chunk-signature=', i + 1)) cuts.push(i, i + 1, i + 10, i + 17, i + 40);
    cuts.sort((a, b) => a - b);
    const r = await decode(pieces(built.body, cuts), { signing: signing(SEED) });
    assert.ok(r.data.equals(ALL));
    for (const c of cuts) {
      const one = await decode(pieces(built.body, [c]), { signing: signing(SEED) });
      assert.ok(one.data.equals(ALL), `split at ${c}`);
    }
  });

  it('accepts a body that ends right after the final chunk (no trailing CRLF)', async () => {
    const cut = built.body.subarray(0, built.body.length - 2);
    const r = await decode(pieces(cut, []), { signing: signing(SEED) });
    assert.ok(r.data.equals(ALL));
  });

  it('a tampered chunk → SignatureDoesNotMatch', async () => {
    const text = built.body.toString('latin1');
    const dataStarts: number[] = [];
    for (const m of text.matchAll(/([0-9a-f]+);chunk-signature=[0-9a-f]{64}\r\n/g)) {
      if (m[1] !== '0') dataStarts.push(m.index! + m[0].length);
    }
    assert.equal(dataStarts.length, DATA.length);
    for (const dataStart of dataStarts) {
      const body = Buffer.from(built.body);
      // flip the first data byte of one chunk
      body[dataStart] = body[dataStart]! ^ 0x01;
      const e = await decodeError(pieces(body, []), { signing: signing(SEED) });
      assert.equal(e.code, 'SignatureDoesNotMatch', `tampered at ${dataStart}`);
      assert.equal(e.status, 403);
    }
  });

  it('a wrong seed signature, key or chunk order → SignatureDoesNotMatch', async () => {
    assert.equal((await decodeError(pieces(built.body, []), { signing: signing('0'.repeat(64)) })).code, 'SignatureDoesNotMatch');
    const otherKey = hmac('other', 'key');
    assert.equal((await decodeError(pieces(built.body, []), { signing: signing(SEED, otherKey) })).code, 'SignatureDoesNotMatch');
    // Two same-size chunks swapped, each with its own valid-looking signature line.
    const swapped = buildSigned([Buffer.from('AAAA'), Buffer.from('BBBB')], SEED);
    const a = swapped.body.toString('latin1');
    const first = a.slice(0, a.indexOf('\r\n', a.indexOf('AAAA')) + 2);
    const rest = a.slice(first.length);
    const second = rest.slice(0, rest.indexOf('\r\n', rest.indexOf('BBBB')) + 2);
    const reordered = Buffer.from(second + first + rest.slice(second.length), 'latin1');
    assert.equal((await decodeError(pieces(reordered, []), { signing: signing(SEED) })).code, 'SignatureDoesNotMatch');
  });

  it('a chunk without a chunk-signature → error', async () => {
    const body = Buffer.from(`5\r\nhello\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`);
    const e = await decodeError(pieces(body, []), { signing: signing(SEED) });
    assert.equal(e.code, 'IncompleteBody');
    assert.equal(e.status, 400);
  });

  it('a truncated body → IncompleteBody, wherever it is cut', async () => {
    const finalChunkEnd = built.body.length - 2; // the body may end right after "0;chunk-signature=…\r\n"
    for (let cut = 0; cut < built.body.length; cut++) {
      if (cut === finalChunkEnd) continue;
      const e = await decodeError(pieces(built.body.subarray(0, cut), cut > 3 ? [3] : []), { signing: signing(SEED) });
      assert.equal(e.code, 'IncompleteBody', `cut at ${cut}`);
    }
  });

  it('x-amz-decoded-content-length that does not match → IncompleteBody', async () => {
    for (const n of [ALL.length - 1, ALL.length + 1, 0]) {
      const e = await decodeError(pieces(built.body, []), { signing: signing(SEED), decodedLength: n });
      assert.equal(e.code, 'IncompleteBody', `decodedLength ${n}`);
      assert.match(e.message, /x-amz-decoded-content-length/);
    }
  });

  it('a size that is not hex, or is missing → IncompleteBody', async () => {
    for (const size of ['zz', '', '-1', '0x5', '12345678901234567']) {
      const body = Buffer.from(`${size};chunk-signature=${'0'.repeat(64)}\r\nhello\r\n`);
      const e = await decodeError(pieces(body, []), { signing: signing(SEED) });
      assert.equal(e.code, 'IncompleteBody', `size ${JSON.stringify(size)}`);
    }
  });

  it('a chunk whose data is not followed by CRLF → IncompleteBody', async () => {
    const good = buildSigned([Buffer.from('hello')], SEED).body.toString('latin1');
    const bad = Buffer.from(good.replace('hello\r\n', 'helloXY'), 'latin1');
    assert.equal((await decodeError(pieces(bad, []), { signing: signing(SEED) })).code, 'IncompleteBody');
  });

  it('a chunk longer than its declared size → error', async () => {
    const good = buildSigned([Buffer.from('hello')], SEED).body.toString('latin1');
    const bad = Buffer.from(good.replace('hello', 'hello!'), 'latin1');
    assert.equal((await decodeError(pieces(bad, []), { signing: signing(SEED) })).code, 'IncompleteBody');
  });

  it('a header line that never ends → IncompleteBody, without buffering it all', async () => {
    const body = Buffer.from('5;chunk-signature=' + 'a'.repeat(10_000));
    assert.equal((await decodeError(pieces(body, [100, 5000]), { signing: signing(SEED) })).code, 'IncompleteBody');
  });
});

describe('aws-chunked: signed with trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', () => {
  const built = buildSigned(DATA, SEED, { trailer: true });
  const expectedTrailers = { 'x-amz-checksum-crc32': crc32b64(ALL) };

  it('decodes the data and reports the checksum trailer (not the signature)', async () => {
    const r = await decode(pieces(built.body, []), { signing: signing(SEED), decodedLength: ALL.length });
    assert.ok(r.data.equals(ALL));
    assert.deepEqual(r.trailers, expectedTrailers);
    assert.equal(r.trailerCalls, 1);
  });

  it('decodes fed one byte at a time and split at every position', async () => {
    const r = await decode(pieces(built.body, bytewise(built.body)), { signing: signing(SEED) });
    assert.ok(r.data.equals(ALL));
    assert.deepEqual(r.trailers, expectedTrailers);
    for (let cut = 1; cut < built.body.length; cut++) {
      const one = await decode(pieces(built.body, [cut]), { signing: signing(SEED) });
      assert.ok(one.data.equals(ALL), `split at ${cut}`);
      assert.deepEqual(one.trailers, expectedTrailers, `split at ${cut}`);
    }
  });

  it('a tampered trailer signature → SignatureDoesNotMatch', async () => {
    const sig = built.trailerSignature!;
    const wrong = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    const body = Buffer.from(built.body.toString('latin1').replace(sig, wrong), 'latin1');
    const e = await decodeError(pieces(body, []), { signing: signing(SEED) });
    assert.equal(e.code, 'SignatureDoesNotMatch');
  });

  it('a tampered checksum value under a valid signature → SignatureDoesNotMatch', async () => {
    const value = expectedTrailers['x-amz-checksum-crc32'];
    const body = Buffer.from(built.body.toString('latin1').replace(value, crc32b64(Buffer.from('other'))), 'latin1');
    const r = await decodeError(pieces(body, []), { signing: signing(SEED) });
    assert.equal(r.code, 'SignatureDoesNotMatch');
  });

  it('a signed trailer without x-amz-trailer-signature → SignatureDoesNotMatch', async () => {
    const text = built.body.toString('latin1');
    const body = Buffer.from(text.replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    assert.equal((await decodeError(pieces(body, []), { signing: signing(SEED) })).code, 'SignatureDoesNotMatch');
  });

  it('a tampered chunk → SignatureDoesNotMatch', async () => {
    const body = Buffer.from(built.body.toString('latin1').replace('hello', 'jello'), 'latin1');
    assert.equal((await decodeError(pieces(body, []), { signing: signing(SEED) })).code, 'SignatureDoesNotMatch');
  });

  it('a body cut inside or after the trailer lines → IncompleteBody', async () => {
    const text = built.body.toString('latin1');
    const trailerStart = text.indexOf('x-amz-checksum-crc32:');
    for (let cut = trailerStart + 1; cut < built.body.length; cut++) {
      const e = await decodeError(pieces(built.body.subarray(0, cut), []), { signing: signing(SEED) });
      assert.equal(e.code, 'IncompleteBody', `cut at ${cut}`);
    }
  });
});

describe('aws-chunked: unsigned with trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the JS SDK default)', () => {
  const body = buildUnsignedTrailer(DATA);
  const expectedTrailers = { 'x-amz-checksum-crc32': crc32b64(ALL) };

  it('has the exact wire form the SDK sends', () => {
    assert.equal(
      body.toString('utf8'),
      `7\r\nhello, \r\n1a\r\nchunked\r\nworld 日本 🙂\r\n1\r\n!\r\n0\r\nx-amz-checksum-crc32:${expectedTrailers['x-amz-checksum-crc32']}\r\n\r\n`,
    );
  });

  it('decodes, reports the trailer, checks decodedLength', async () => {
    const r = await decode(pieces(body, []), { decodedLength: ALL.length });
    assert.ok(r.data.equals(ALL));
    assert.deepEqual(r.trailers, expectedTrailers);
    assert.equal(r.trailerCalls, 1);
  });

  it('decodes fed one byte at a time and split at every position', async () => {
    const r = await decode(pieces(body, bytewise(body)));
    assert.ok(r.data.equals(ALL));
    assert.deepEqual(r.trailers, expectedTrailers);
    for (let cut = 1; cut < body.length; cut++) {
      const one = await decode(pieces(body, [cut]));
      assert.ok(one.data.equals(ALL), `split at ${cut}`);
      assert.deepEqual(one.trailers, expectedTrailers, `split at ${cut}`);
    }
  });

  it('trailer names are reported lower-cased, values trimmed', async () => {
    const b = Buffer.from('3\r\nabc\r\n0\r\nX-Amz-Checksum-CRC32C: AAAAAA==\r\n\r\n');
    const r = await decode(pieces(b, []));
    assert.equal(r.data.toString(), 'abc');
    assert.deepEqual(r.trailers, { 'x-amz-checksum-crc32c': 'AAAAAA==' });
  });

  it('an unsigned body with no trailer at all', async () => {
    const r = await decode(pieces(Buffer.from('5\r\nhello\r\n0\r\n\r\n'), [1, 4, 8, 11]), { decodedLength: 5 });
    assert.equal(r.data.toString(), 'hello');
    assert.deepEqual(r.trailers, {});
  });

  it('truncated → IncompleteBody; decodedLength mismatch → IncompleteBody; bad size → IncompleteBody', async () => {
    const zeroLineEnd = body.indexOf('0\r\nx-amz') + 3;
    for (let cut = 0; cut < body.length; cut++) {
      if (cut === zeroLineEnd) continue; // ends right after the final chunk: accepted
      assert.equal((await decodeError(pieces(body.subarray(0, cut), []))).code, 'IncompleteBody', `cut at ${cut}`);
    }
    assert.equal((await decodeError(pieces(body, []), { decodedLength: ALL.length + 5 })).code, 'IncompleteBody');
    assert.equal((await decodeError(pieces(Buffer.from('g\r\nhello\r\n0\r\n\r\n'), []))).code, 'IncompleteBody');
  });

  it('a trailer line without a colon → IncompleteBody', async () => {
    const b = Buffer.from('3\r\nabc\r\n0\r\nnot a header\r\n\r\n');
    assert.equal((await decodeError(pieces(b, []))).code, 'IncompleteBody');
  });

  it('more than 16 trailers → IncompleteBody', async () => {
    const lines = Array.from({ length: 17 }, (_, i) => `x-t${i}:v\r\n`).join('');
    const b = Buffer.from(`3\r\nabc\r\n0\r\n${lines}\r\n`);
    assert.equal((await decodeError(pieces(b, []))).code, 'IncompleteBody');
  });
});
