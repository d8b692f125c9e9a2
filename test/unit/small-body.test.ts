import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { collectBody, declaresNoBody, NO_BODY, smallBody } from '../../src/server/body.js';
import { ServiceError } from '../../src/protocol/errors.js';

/** The fast body paths of src/server/body.ts: no body at all, and small bodies read whole. */
describe('request bodies read whole or not at all', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const drain = async (it: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const c of it) out.push(c);
    return Buffer.concat(out);
  };

  it('declaresNoBody: no Content-Length or 0, and no Transfer-Encoding', () => {
    assert.equal(declaresNoBody({}), true);
    assert.equal(declaresNoBody({ 'content-length': '0' }), true);
    assert.equal(declaresNoBody({ 'content-length': '1' }), false);
    assert.equal(declaresNoBody({ 'transfer-encoding': 'chunked' }), false);
  });

  it('NO_BODY iterates nothing and collects to an empty buffer', async () => {
    assert.equal((await drain(NO_BODY)).length, 0);
    assert.equal((await collectBody(NO_BODY, 10)).length, 0);
  });

  it('a small body arrives as one piece, in pieces or not, with its SHA-256 checked', async () => {
    const body = Buffer.from('hello, small body'.repeat(100));
    const req = new PassThrough();
    let done = false;
    const it = smallBody(req as unknown as IncomingMessage, sha(body).toUpperCase(), () => (done = true));
    const got = drain(it);
    req.write(body.subarray(0, 7));
    req.end(body.subarray(7));
    assert.ok((await got).equals(body));
    assert.equal(done, true);
  });

  it('a wrong SHA-256 is XAmzContentSHA256Mismatch; a connection gone before the end is IncompleteBody', async () => {
    const bad = new PassThrough();
    const p1 = drain(smallBody(bad as unknown as IncomingMessage, sha(Buffer.from('other')), () => undefined));
    bad.end(Buffer.from('this'));
    await assert.rejects(p1, (e) => e instanceof ServiceError && e.code === 'XAmzContentSHA256Mismatch');

    const cut = new PassThrough();
    const p2 = drain(smallBody(cut as unknown as IncomingMessage, undefined, () => undefined));
    cut.write(Buffer.from('half'));
    cut.destroy();
    await assert.rejects(p2, (e) => e instanceof ServiceError && e.code === 'IncompleteBody');
  });
});
