import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkSignatureV2, checkTimeV2, parseAuthV2, stringToSignV2 } from '../../src/protocol/sigv2.js';
import { parseQuery } from '../../src/protocol/sigv4/canonical.js';

/** S3 SigV2, checked against the examples in AWS's "Signing and authenticating REST requests". */
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('SigV2 (S3 legacy signatures)', () => {
  it('verifies the AWS documentation GET example (virtual-hosted johnsmith bucket)', () => {
    const req = {
      method: 'GET',
      rawPath: '/photos/puppy.jpg',
      query: [],
      headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:36:42 +0000', authorization: 'AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=' },
    };
    const auth = parseAuthV2(req)!;
    assert.equal(auth.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    assert.equal(stringToSignV2(req, auth, '/johnsmith/photos/puppy.jpg'), 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg');
    assert.equal(checkSignatureV2(req, auth, SECRET, '/johnsmith/photos/puppy.jpg').ok, true);
    assert.equal(checkSignatureV2(req, auth, SECRET, '/johnsmith/photos/kitten.jpg').ok, false);
  });

  it('signs x-amz-* headers sorted and lower-cased, and sub-resources but not other parameters', () => {
    const req = {
      method: 'PUT',
      rawPath: '/b/k',
      query: parseQuery('uploadId=abc&partNumber=2&foo=bar'),
      headers: { 'x-amz-meta-b': 'two', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000', 'content-type': 'text/plain', authorization: 'AWS k:s' },
    };
    const sts = stringToSignV2(req, parseAuthV2(req)!, '/b/k');
    assert.equal(sts, 'PUT\n\ntext/plain\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\nx-amz-meta-b:two\n/b/k?partNumber=2&uploadId=abc');
  });

  it('reads query-string auth, signs Expires in place of Date, and enforces expiry', () => {
    const req = { method: 'GET', rawPath: '/b/k', query: parseQuery('AWSAccessKeyId=test&Expires=1175139620&Signature=abc%3D'), headers: {} };
    const auth = parseAuthV2(req)!;
    assert.deepEqual(auth, { accessKeyId: 'test', signature: 'abc=', presigned: true, expires: 1175139620 });
    assert.equal(stringToSignV2(req, auth, '/b/k'), 'GET\n\n\n1175139620\n/b/k');
    assert.throws(() => checkTimeV2(req, auth, 1175139621_000), /Request has expired/);
    checkTimeV2(req, auth, 1175139619_000);
  });

  it('takes presigned Content-Type and x-amz-* from the query, as botocore puts them there', () => {
    const req = { method: 'PUT', rawPath: '/b/k', query: parseQuery('AWSAccessKeyId=t&Expires=10&Signature=x&content-type=text%2Fplain&x-amz-acl=private'), headers: {} };
    assert.equal(stringToSignV2(req, parseAuthV2(req)!, '/b/k'), 'PUT\n\ntext/plain\n10\nx-amz-acl:private\n/b/k');
  });
});
