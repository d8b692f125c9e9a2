import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FormDataReader, formBoundary } from '../../src/services/s3/form-data.js';
import { ServiceError } from '../../src/protocol/errors.js';

/** The streaming multipart/form-data reader of POST Object, fed in every chunking. */
const BOUNDARY = '----nimbusBoundary7MA4YWxkTrZu0gW';

function body(file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`preamble\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nuser/\${filename}\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="x-amz-meta-a"\r\n\r\nline1\r\nline2\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="submit"\r\n\r\nUpload\r\n--${BOUNDARY}--\r\n`),
  ]);
}

async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function read(b: Buffer, size: number) {
  const r = new FormDataReader(chunks(b, size), BOUNDARY);
  const fields: Record<string, string> = {};
  for (let p = await r.nextPart(); p; p = await r.nextPart()) {
    if (p.name === 'file') {
      const parts: Buffer[] = [];
      for await (const c of r.streamValue()) parts.push(Buffer.from(c));
      assert.equal(await r.drain(), true);
      return { fields, filename: p.filename, type: p.contentType, file: Buffer.concat(parts) };
    }
    fields[p.name] = (await r.readValue(20 * 1024, () => new Error('too large'))).toString();
  }
  throw new Error('no file');
}

describe('FormDataReader', () => {
  // A file that contains near-boundaries: CRLF, "--", and a boundary prefix.
  const file = Buffer.concat([Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}\r\n--`), Buffer.alloc(300, 0x61), Buffer.from(`\r\n-`)]);

  it('reads the same fields and file whatever the chunk sizes (boundaries straddling chunks)', async () => {
    const b = body(file);
    for (let size = 1; size <= 80; size++) {
      const got = await read(b, size);
      assert.deepEqual(got.fields, { key: 'user/${filename}', 'x-amz-meta-a': 'line1\r\nline2' }, `chunk size ${size}`);
      assert.equal(got.filename, 'a "b".bin');
      assert.equal(got.type, 'application/octet-stream');
      assert.ok(got.file.equals(file), `chunk size ${size}`);
    }
    const whole = await read(b, b.length);
    assert.ok(whole.file.equals(file));
  });

  it('fails with MalformedPOSTRequest when the body ends inside a part', async () => {
    const b = body(file);
    const cut = b.subarray(0, b.indexOf(file) + 100);
    await assert.rejects(read(cut, 7), (e: unknown) => e instanceof ServiceError && e.code === 'MalformedPOSTRequest');
  });

  it('takes the boundary from the Content-Type, quoted or not; other types have none', () => {
    assert.equal(formBoundary(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY);
    assert.equal(formBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"'), 'a b');
    assert.equal(formBoundary('multipart/form-data'), '');
    assert.equal(formBoundary('application/x-www-form-urlencoded'), undefined);
    assert.equal(formBoundary(undefined), undefined);
  });
});
