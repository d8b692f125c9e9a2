import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTaggingHeader, requestTagKeys, existingTagKeys, taggingHeaderOf, validateTagSet } from '../../src/services/s3/tagging.js';
import { ALL_USERS, AUTHENTICATED_USERS, expandAcl, isPublicAcl, ownerOnly, requestedAcl } from '../../src/services/s3/acl.js';
import { accountOfCanonicalId, canonicalUserId } from '../../src/services/s3/common.js';
import type { ServiceError } from '../../src/protocol/errors.js';

/** The pure parts of S3 tagging and ACLs: header and document parsing, canonical ids, canned ACLs. */
function fails(f: () => unknown, code: string, message?: string): void {
  try {
    f();
  } catch (e) {
    const err = e as ServiceError;
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.equal(err.message, message);
    return;
  }
  assert.fail(`expected ${code}`);
}

describe('x-amz-tagging', () => {
  it('is URL query parameters: "+" and %20 are spaces, empty pieces are skipped, a bare key has the empty value', () => {
    assert.equal(parseTaggingHeader(undefined), undefined);
    assert.deepEqual(parseTaggingHeader(''), []);
    assert.deepEqual(parseTaggingHeader('a=1&&b=two+words&c=%C3%A9%20x&d&e='), [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
      { Key: 'c', Value: 'é x' },
      { Key: 'd', Value: '' },
      { Key: 'e', Value: '' },
    ]);
    // Only the first "=" separates; the value may hold "=" (an allowed character).
    assert.deepEqual(parseTaggingHeader('k=a=b'), [{ Key: 'k', Value: 'a=b' }]);
  });

  it('refuses as S3 does', () => {
    const header = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";
    fails(() => parseTaggingHeader('=v'), 'InvalidArgument', header);
    fails(() => parseTaggingHeader('k=%E0%A4%A'), 'InvalidArgument', header);
    fails(() => parseTaggingHeader('k=1&k=2'), 'InvalidArgument', header);
    fails(() => parseTaggingHeader('k%3F=1'), 'InvalidTag', 'The TagKey you have provided is invalid');
    fails(() => parseTaggingHeader('k=%3C'), 'InvalidTag', 'The TagValue you have provided is invalid');
    fails(() => parseTaggingHeader(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&')), 'BadRequest', 'Object tags cannot be greater than 10');
    fails(() => parseTaggingHeader('aws:k=v'), 'InvalidTag', 'Your TagKey cannot be prefixed with aws:');
  });

  it('round-trips through taggingHeaderOf', () => {
    const tags = [
      { Key: 'a b', Value: 'c=d/e:f@g+h' },
      { Key: 'ключ', Value: '' },
    ];
    assert.deepEqual(parseTaggingHeader(taggingHeaderOf(tags)), tags);
  });
});

describe('Tagging documents', () => {
  it('object and bucket limits, duplicate keys, aws: keys, missing members', () => {
    assert.deepEqual(validateTagSet({ TagSet: [{ Key: 'k', Value: '' }] }, 'object'), [{ Key: 'k', Value: '' }]);
    fails(() => validateTagSet({}, 'object'), 'MalformedXML');
    fails(() => validateTagSet({ TagSet: [{ Key: 'k' }] }, 'object'), 'MalformedXML');
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    fails(() => validateTagSet({ TagSet: eleven }, 'object'), 'BadRequest', 'Object tags cannot be greater than 10');
    assert.equal(validateTagSet({ TagSet: eleven }, 'bucket').length, 11);
    fails(() => validateTagSet({ TagSet: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }, 'bucket'), 'BadRequest', 'Bucket tag count cannot be greater than 50');
    fails(() => validateTagSet({ TagSet: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] }, 'object'), 'InvalidTag', 'Cannot provide multiple Tags with the same key');
    fails(() => validateTagSet({ TagSet: [{ Key: 'aws:k', Value: '1' }] }, 'bucket'), 'InvalidTag', 'System tags cannot be added/updated by requester');
    // Lengths are UTF-16 units: 128 "é" fit, 65 "🙂" (130 units) do not.
    assert.equal(validateTagSet({ TagSet: [{ Key: 'é'.repeat(128), Value: 'v'.repeat(256) }] }, 'object').length, 1);
    fails(() => validateTagSet({ TagSet: [{ Key: '🙂'.repeat(65), Value: 'v' }] }, 'object'), 'InvalidTag', 'The TagKey you have provided is invalid');
    fails(() => validateTagSet({ TagSet: [{ Key: 'tab\there', Value: 'v' }] }, 'object'), 'InvalidTag', 'The TagKey you have provided is invalid');
  });

  it('condition keys: s3:RequestObjectTagKeys is multi-valued, one s3:RequestObjectTag / s3:ExistingObjectTag key per tag', () => {
    const tags = [
      { Key: 'project', Value: 'blue' },
      { Key: 'owner', Value: '' },
    ];
    assert.deepEqual(requestTagKeys(tags), { 's3:RequestObjectTagKeys': ['project', 'owner'], 's3:RequestObjectTag/project': 'blue', 's3:RequestObjectTag/owner': '' });
    assert.deepEqual(requestTagKeys([]), {});
    assert.deepEqual(existingTagKeys(tags), { 's3:ExistingObjectTag/project': 'blue', 's3:ExistingObjectTag/owner': '' });
  });
});

describe('canonical user ids', () => {
  it('are 64 hex characters that name their account, and nothing else decodes', () => {
    const id = canonicalUserId('111111111111');
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(accountOfCanonicalId(id), '111111111111');
    assert.notEqual(canonicalUserId('000000000000'), id);
    // A changed hash part, or an id of AWS's, is no account.
    assert.equal(accountOfCanonicalId(`${id[0] === 'a' ? 'b' : 'a'}${id.slice(1)}`), undefined);
    assert.equal(accountOfCanonicalId('79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'), undefined);
    assert.equal(accountOfCanonicalId('short'), undefined);
  });
});

describe('ACLs', () => {
  const A = '000000000000';
  const B = '111111111111';
  it('canned ACLs expand for the object owner and the bucket owner', () => {
    assert.deepEqual(expandAcl({ canned: 'bucket-owner-full-control' }, B, A), [
      { id: canonicalUserId(B), permission: 'FULL_CONTROL' },
      { id: canonicalUserId(A), permission: 'FULL_CONTROL' },
    ]);
    assert.deepEqual(expandAcl({ canned: 'bucket-owner-read' }, B, A)[1], { id: canonicalUserId(A), permission: 'READ' });
    assert.equal(expandAcl({ canned: 'bucket-owner-full-control' }, A, A).length, 1);
    assert.ok(ownerOnly(expandAcl({ canned: 'private' }, A, A), A));
    assert.ok(ownerOnly(expandAcl({ canned: 'bucket-owner-full-control' }, A, A), A));
    assert.ok(!ownerOnly(expandAcl({ canned: 'bucket-owner-full-control' }, B, A), A));
    assert.ok(isPublicAcl(expandAcl({ canned: 'authenticated-read' }, A, A)));
    assert.ok(isPublicAcl(expandAcl({ canned: 'public-read' }, A, A)));
    assert.ok(!isPublicAcl(expandAcl({ canned: 'log-delivery-write' }, A, A)));
  });

  it('grant headers: id, uri, quoted or not, several per header', () => {
    const req = requestedAcl({ GrantRead: `id="${canonicalUserId(B)}", uri=${ALL_USERS}`, GrantFullControl: `id=${canonicalUserId(A)}` }, 'bucket');
    assert.deepEqual(req, {
      grants: [
        { id: canonicalUserId(A), permission: 'FULL_CONTROL' },
        { id: canonicalUserId(B), permission: 'READ' },
        { uri: ALL_USERS, permission: 'READ' },
      ],
    });
    assert.equal(requestedAcl({}, 'object'), undefined);
    fails(() => requestedAcl({ GrantRead: 'who=me' }, 'object'), 'InvalidArgument');
    fails(() => requestedAcl({ ACL: 'private', GrantRead: `uri=${AUTHENTICATED_USERS}` }, 'object'), 'InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
    fails(() => requestedAcl({ ACL: 'private', AccessControlPolicy: {} }, 'bucket'), 'UnexpectedContent');
    fails(() => requestedAcl({ ACL: 'bucket-owner-read' }, 'bucket'), 'InvalidArgument');
    fails(() => requestedAcl({ AccessControlPolicy: { Grants: [] } }, 'bucket'), 'MalformedACLError');
    fails(() => requestedAcl({ AccessControlPolicy: { Owner: { ID: 'x' }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: canonicalUserId(A) }, Permission: 'EVERYTHING' }] } }, 'bucket'), 'MalformedACLError');
  });
});
