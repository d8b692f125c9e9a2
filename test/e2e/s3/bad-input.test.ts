import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { startServer, type TestServer } from '../../helpers/server.js';
import { send, errorCode, sign, amzDate } from '../../helpers/sign.js';
import { hmac, signingKey, sha256Hex, EMPTY_SHA256 } from '../../../src/protocol/sigv4/canonical.js';

/**
 * Hostile and broken input: each gets an AWS-style error, the server stays up, and
 * nothing is half-stored. Requests are built by hand (test/helpers/sign.ts) because SDKs
 * never send these.
 */
let server: TestServer;
const KEEP = 'keep me: stored before the abuse';

async function exists(key: string): Promise<boolean> {
  const r = await send(server.url, { method: 'HEAD', path: `/bad/${encodeURIComponent(key)}` });
  return r.status === 200;
}

before(async () => {
  server = await startServer();
  assert.equal((await send(server.url, { method: 'PUT', path: '/bad' })).status, 200);
  assert.equal((await send(server.url, { method: 'PUT', path: '/bad/keep', body: KEEP })).status, 200);
});

after(async () => {
  // The server is still up and the data is intact after everything below.
  const r = await send(server.url, { method: 'GET', path: '/bad/keep' });
  assert.equal(r.status, 200);
  assert.equal(r.body, KEEP);
  await server.dispose();
});

describe('bad input gets AWS errors and never hurts the store', () => {
  it('malformed XML → MalformedXML', async () => {
    for (const body of ['<Delete><Object><Key>a</Key></Object>', 'not xml at all', '<Delete><Object><Key>a</Key></Wrong></Delete>']) {
      const r = await send(server.url, { method: 'POST', path: '/bad', query: 'delete', body, headers: { 'content-md5': createHash('md5').update(body).digest('base64') } });
      assert.equal(r.status, 400, r.body);
      assert.equal(errorCode(r.body), 'MalformedXML');
    }
    const cfg = await send(server.url, { method: 'PUT', path: '/bad2', body: '<CreateBucketConfiguration><LocationConstraint>' });
    assert.equal(errorCode(cfg.body), 'MalformedXML');
  });

  it('XML entity expansion (billion laughs) is refused', async () => {
    const body = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Delete><Object><Key>&lol2;</Key></Object></Delete>';
    const r = await send(server.url, { method: 'POST', path: '/bad', query: 'delete', body });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'MalformedXML');
  });

  it('an oversized header section → 400 RequestHeaderSectionTooLarge', async () => {
    const r = await send(server.url, { method: 'GET', path: '/bad/keep', headers: { 'x-amz-meta-huge': 'x'.repeat(20_000) } });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'RequestHeaderSectionTooLarge');
  });

  it('garbage on the socket → 400, and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const sock = connect(server.port, '127.0.0.1', () => sock.write('THIS IS NOT HTTP\r\n\r\n'));
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data));
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.ok(await exists('keep'));
  });

  it('invalid bucket names → InvalidBucketName', async () => {
    for (const name of ['ab', 'UPPER', 'has_underscore', '-dash', 'dots..dots', '192.168.1.1', 'xn--punycode', 'a'.repeat(64)]) {
      const r = await send(server.url, { method: 'PUT', path: `/${name}` });
      assert.equal(errorCode(r.body), 'InvalidBucketName', `${name}: ${r.body}`);
    }
  });

  it('a wrong signature → SignatureDoesNotMatch with the string to sign and canonical request', async () => {
    const r = await send(server.url, { method: 'PUT', path: '/bad/sig', body: 'x', secret: 'wrong' });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.body), 'SignatureDoesNotMatch');
    assert.match(r.body, /<StringToSign>AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}<\/StringToSign>/);
    assert.match(r.body, /<CanonicalRequest>PUT\n\/bad\/sig\n/);
    assert.match(r.body, /<AWSAccessKeyId>test<\/AWSAccessKeyId>/);
    assert.equal(await exists('sig'), false);
  });

  it('an unknown access key → InvalidAccessKeyId; no signature → AccessDenied', async () => {
    const r = await send(server.url, { method: 'GET', path: '/bad/keep', accessKey: 'AKIAUNKNOWN' });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.body), 'InvalidAccessKeyId');
    const u = await send(server.url, { method: 'GET', path: '/bad/keep', unsigned: true });
    assert.equal(u.status, 403);
    assert.equal(errorCode(u.body), 'AccessDenied');
  });

  it('a clock 16 minutes off → RequestTimeTooSkewed', async () => {
    const r = await send(server.url, { method: 'GET', path: '/bad/keep', date: new Date(Date.now() - 16 * 60_000) });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.body), 'RequestTimeTooSkewed');
    const ok = await send(server.url, { method: 'GET', path: '/bad/keep', date: new Date(Date.now() - 14 * 60_000) });
    assert.equal(ok.status, 200);
  });

  it('a body that does not match x-amz-content-sha256 → XAmzContentSHA256Mismatch, nothing stored', async () => {
    const r = await send(server.url, { method: 'PUT', path: '/bad/sha', body: 'actual body', payloadHash: sha256Hex('another body') });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'XAmzContentSHA256Mismatch');
    assert.equal(await exists('sha'), false);
    // A request with no body is held to the empty body's hash too (GET, DELETE).
    const get = await send(server.url, { method: 'GET', path: '/bad/keep', payloadHash: sha256Hex('not empty') });
    assert.equal(get.status, 400);
    assert.equal(errorCode(get.body), 'XAmzContentSHA256Mismatch');
    const del = await send(server.url, { method: 'DELETE', path: '/bad/keep', payloadHash: sha256Hex('not empty') });
    assert.equal(errorCode(del.body), 'XAmzContentSHA256Mismatch');
    assert.equal((await send(server.url, { method: 'GET', path: '/bad/keep' })).status, 200);
  });

  it('a wrong Content-MD5 → BadDigest, nothing stored; an invalid one → InvalidDigest', async () => {
    const r = await send(server.url, { method: 'PUT', path: '/bad/md5', body: 'hello', headers: { 'content-md5': createHash('md5').update('other').digest('base64') } });
    assert.equal(errorCode(r.body), 'BadDigest');
    const r2 = await send(server.url, { method: 'PUT', path: '/bad/md5', body: 'hello', headers: { 'content-md5': 'bm90LW1kNQ==' } });
    assert.equal(errorCode(r2.body), 'InvalidDigest');
    assert.equal(await exists('md5'), false);
  });

  it('a truncated upload (connection dropped mid-body) stores nothing, small or large', async () => {
    for (const size of [10_000, 500_000]) {
      const body = Buffer.alloc(size, 7);
      await send(server.url, { method: 'PUT', path: `/bad/trunc${size}`, body, payloadHash: 'UNSIGNED-PAYLOAD', truncateAt: size / 2 });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await exists(`trunc${size}`), false);
    }
  });

  it('a truncated or tampered aws-chunked body → error, nothing stored', async () => {
    const date = new Date();
    const ad = amzDate(date);
    const scope = `${ad.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const key = signingKey('test', ad.slice(0, 8), 'us-east-1', 's3');
    const data = Buffer.alloc(10_000, 1);
    const headers = {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
    };
    // Sign the request first to learn the seed signature.
    const host = `127.0.0.1:${server.port}`;
    // Every signature is 64 hex characters, so the framed length is known before signing.
    const fullLength = `${data.length.toString(16)};chunk-signature=${'0'.repeat(64)}\r\n`.length + data.length + `\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`.length;
    const build = (tamper: boolean, truncate: boolean) => {
      const length = truncate ? fullLength - 60 : fullLength;
      const signed = sign(host, { method: 'PUT', path: '/bad/chunked', headers: { ...headers, 'content-length': String(length) }, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', date });
      const seed = /Signature=([0-9a-f]+)/.exec(signed.authorization!)![1]!;
      const chunkSig = (prev: string, chunk: Buffer) =>
        hmac(key, `AWS4-HMAC-SHA256-PAYLOAD\n${ad}\n${scope}\n${prev}\n${EMPTY_SHA256}\n${sha256Hex(chunk)}`).toString('hex');
      const s1 = chunkSig(seed, data);
      const s2 = chunkSig(s1, Buffer.alloc(0));
      const payload = tamper ? Buffer.alloc(data.length, 2) : data;
      let body = Buffer.concat([Buffer.from(`${data.length.toString(16)};chunk-signature=${s1}\r\n`), payload, Buffer.from(`\r\n0;chunk-signature=${s2}\r\n\r\n`)]);
      if (truncate) body = body.subarray(0, body.length - 60);
      return body;
    };
    for (const [tamper, truncate, code] of [
      [true, false, 'SignatureDoesNotMatch'],
      [false, true, 'IncompleteBody'],
    ] as const) {
      const body = build(tamper, truncate);
      const r = await send(server.url, { method: 'PUT', path: '/bad/chunked', body, headers: { ...headers, 'content-length': String(body.length) }, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', date });
      assert.equal(errorCode(r.body), code, r.body);
      assert.equal(await exists('chunked'), false);
    }
    const good = build(false, false);
    const ok = await send(server.url, { method: 'PUT', path: '/bad/chunked', body: good, headers: { ...headers, 'content-length': String(good.length) }, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', date });
    assert.equal(ok.status, 200, ok.body);
    const get = await send(server.url, { method: 'GET', path: '/bad/chunked' });
    assert.equal(get.body, data.toString());
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: chunk and trailer signatures and the trailing CRC32 are verified', async () => {
    const date = new Date();
    const ad = amzDate(date);
    const scope = `${ad.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const key = signingKey('test', ad.slice(0, 8), 'us-east-1', 's3');
    const data = Buffer.from('signed chunks with a signed trailer');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const host = `127.0.0.1:${server.port}`;
    const mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
    const build = (checksum: string, tamperTrailerSig: boolean) => {
      const trailer = `x-amz-checksum-crc32:${checksum}`;
      const len = (s1: string) =>
        `${data.length.toString(16)};chunk-signature=${s1}\r\n`.length + data.length + `\r\n0;chunk-signature=${s1}\r\n${trailer}\r\nx-amz-trailer-signature:${s1}\r\n\r\n`.length;
      const length = len('0'.repeat(64));
      const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length), 'x-amz-trailer': 'x-amz-checksum-crc32', 'content-length': String(length) };
      const signed = sign(host, { method: 'PUT', path: '/bad/trailer', headers, payloadHash: mode, date });
      const seed = /Signature=([0-9a-f]+)/.exec(signed.authorization!)![1]!;
      const chunkSig = (prev: string, chunk: Buffer) => hmac(key, `AWS4-HMAC-SHA256-PAYLOAD\n${ad}\n${scope}\n${prev}\n${EMPTY_SHA256}\n${sha256Hex(chunk)}`).toString('hex');
      const s1 = chunkSig(seed, data);
      const s2 = chunkSig(s1, Buffer.alloc(0));
      let ts = hmac(key, `AWS4-HMAC-SHA256-TRAILER\n${ad}\n${scope}\n${s2}\n${sha256Hex(trailer + '\n')}`).toString('hex');
      if (tamperTrailerSig) ts = ts.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      const body = Buffer.concat([
        Buffer.from(`${data.length.toString(16)};chunk-signature=${s1}\r\n`),
        data,
        Buffer.from(`\r\n0;chunk-signature=${s2}\r\n${trailer}\r\nx-amz-trailer-signature:${ts}\r\n\r\n`),
      ]);
      return { body, headers };
    };
    const good = crc.toString('base64');
    const tampered = build(good, true);
    const r1 = await send(server.url, { method: 'PUT', path: '/bad/trailer', ...tampered, payloadHash: mode, date });
    assert.equal(errorCode(r1.body), 'SignatureDoesNotMatch', r1.body);
    const wrongCrc = build('AAAAAA==', false);
    const r2 = await send(server.url, { method: 'PUT', path: '/bad/trailer', ...wrongCrc, payloadHash: mode, date });
    assert.equal(errorCode(r2.body), 'BadDigest', r2.body);
    assert.equal(await exists('trailer'), false);
    const ok = build(good, false);
    const r3 = await send(server.url, { method: 'PUT', path: '/bad/trailer', ...ok, payloadHash: mode, date });
    assert.equal(r3.status, 200, r3.body);
    assert.equal(r3.headers['x-amz-checksum-crc32'], good);
    assert.equal((await send(server.url, { method: 'GET', path: '/bad/trailer' })).body, data.toString());
  });

  it('hostile keys are data: traversal, percent signs and control characters round-trip', async () => {
    for (const key of ['../../etc/passwd', '..', 'a/../../b', '%2e%2e/x', 'sp ace+plus?q#frag', 'line\nbreak\ttab', '日本語/ключ/🙂']) {
      const path = '/bad/' + key.split('/').map(encodeURIComponent).join('/');
      const put = await send(server.url, { method: 'PUT', path, body: `body of ${key}` });
      assert.equal(put.status, 200, `${key}: ${put.body}`);
      const get = await send(server.url, { method: 'GET', path });
      assert.equal(get.body, `body of ${key}`, key);
    }
    const list = await send(server.url, { method: 'GET', path: '/bad', query: 'list-type=2&prefix=line' });
    assert.match(list.body, /<Key>line\nbreak\ttab<\/Key>/);
  });

  it('a key over 1024 bytes → KeyTooLongError; bad percent-encoding → 400', async () => {
    const r = await send(server.url, { method: 'PUT', path: `/bad/${'k'.repeat(1025)}`, body: 'x' });
    assert.equal(errorCode(r.body), 'KeyTooLongError');
    const r2 = await send(server.url, { method: 'GET', path: '/bad/%E0%A4%A', query: '' });
    assert.equal(r2.status, 400);
    assert.equal(errorCode(r2.body), 'InvalidURI');
  });

  it('an unknown payload mode → InvalidArgument; an oversized document → EntityTooLarge', async () => {
    const r = await send(server.url, { method: 'PUT', path: '/bad/mode', body: 'x', payloadHash: 'SOMETHING-ELSE' });
    assert.equal(errorCode(r.body), 'InvalidArgument');
    const huge = '<Delete>' + '<Object><Key>k</Key></Object>'.repeat(200_000) + '</Delete>';
    const r2 = await send(server.url, { method: 'POST', path: '/bad', query: 'delete', body: huge });
    assert.equal(r2.status, 400);
    assert.equal(errorCode(r2.body), 'EntityTooLarge');
  });

  it('DeleteObjects with more than 1000 keys → MalformedXML, nothing deleted', async () => {
    const body = '<Delete>' + '<Object><Key>keep</Key></Object>'.repeat(1001) + '</Delete>';
    const r = await send(server.url, { method: 'POST', path: '/bad', query: 'delete', body });
    assert.equal(errorCode(r.body), 'MalformedXML');
    assert.ok(await exists('keep'));
  });
});
