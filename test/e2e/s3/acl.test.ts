import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  PutBucketAclCommand,
  GetBucketAclCommand,
  PutObjectAclCommand,
  GetObjectAclCommand,
  PutBucketOwnershipControlsCommand,
  GetBucketOwnershipControlsCommand,
  DeleteBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  DeletePublicAccessBlockCommand,
  type Grant,
  type ObjectOwnership,
} from '@aws-sdk/client-s3';
import { S3ControlClient, PutPublicAccessBlockCommand as PutAccountPabCommand, DeletePublicAccessBlockCommand as DeleteAccountPabCommand } from '@aws-sdk/client-s3-control';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { expectError } from '../../helpers/assert.js';
import { aws, awsFails, requireAwsCli } from '../../helpers/python.js';
import { canonicalUserId } from '../../../src/services/s3/common.js';

/**
 * S3 ACLs and Object Ownership end to end, with @aws-sdk/client-s3, plain fetch() for
 * anonymous callers and the AWS CLI: BucketOwnerEnforced (the default) refusing ACLs,
 * ObjectWriter and BucketOwnerPreferred enabling them, canned ACLs and grants round-tripping
 * through Get*Acl, ACL grants evaluated for anonymous callers, another account and
 * AuthenticatedUsers, Block Public Access's BlockPublicAcls and IgnorePublicAcls, and who
 * owns an object another account wrote.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 */
let server: TestServer;
type Creds = { accessKeyId: string; secretAccessKey: string };
const A = '000000000000';
const B = '111111111111';
const ID_A = canonicalUserId(A);
const ID_B = canonicalUserId(B);
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const clients: Array<{ destroy(): void }> = [];
const track = <T extends { destroy(): void }>(c: T): T => (clients.push(c), c);
const s3As = (c: Creds) => track(new S3Client({ endpoint: server.url, region: REGION, credentials: c, forcePathStyle: true }));
let s3: S3Client;
let s3B: S3Client;

/** Grants as comparable strings: "<who> <permission>". */
function grants(list: Grant[] | undefined): string[] {
  return (list ?? []).map((g) => `${g.Grantee!.Type === 'Group' ? g.Grantee!.URI : g.Grantee!.ID} ${g.Permission}`).sort();
}
const objectAcl = async (Bucket: string, Key: string, VersionId?: string) => grants((await s3.send(new GetObjectAclCommand({ Bucket, Key, VersionId }))).Grants);
const bucketAcl = async (Bucket: string) => grants((await s3.send(new GetBucketAclCommand({ Bucket }))).Grants);
const anonymous = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

/** A bucket with ACLs enabled and Block Public Access off. */
async function aclBucket(name: string, ownership: ObjectOwnership = 'ObjectWriter', client = s3): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
  await client.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] } }));
  await client.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
}

before(async () => {
  server = await startServer();
  s3 = s3As(CREDENTIALS);
  s3B = s3As({ accessKeyId: B, secretAccessKey: CREDENTIALS.secretAccessKey });
});
after(async () => {
  for (const c of clients) c.destroy();
  await server?.dispose();
});

describe('BucketOwnerEnforced (the default): ACLs are disabled', () => {
  const NS = 'The bucket does not allow ACLs';
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'enforced' }));
    await s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'o', Body: 'x' }));
  });

  it('a new bucket says BucketOwnerEnforced', async () => {
    const got = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'enforced' }));
    assert.deepEqual(got.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  });

  it('writes with any ACL but the owner\'s full control are AccessControlListNotSupported', async () => {
    await expectError(s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'p', Body: 'x', ACL: 'public-read' })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'p', Body: 'x', GrantRead: `id="${ID_B}"` })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'enforced', Key: 'o', ACL: 'public-read' })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'public-read' })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new PutBucketAclCommand({ Bucket: 'enforced', GrantWrite: `uri="${LOG_DELIVERY}"` })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new CopyObjectCommand({ Bucket: 'enforced', Key: 'c', CopySource: 'enforced/o', ACL: 'authenticated-read' })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: 'enforced', Key: 'm', ACL: 'public-read-write' })), 'AccessControlListNotSupported', 400, NS);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'enforced', Key: 'p' })), 'NotFound', 404);
  });

  it('bucket-owner-full-control, private and an explicit full control of the owner are accepted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'bofc', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'priv', Body: 'x', ACL: 'private' }));
    await s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'full', Body: 'x', GrantFullControl: `id="${ID_A}"` }));
    await s3.send(new PutObjectAclCommand({ Bucket: 'enforced', Key: 'o', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'private' }));
    await s3.send(new PutBucketAclCommand({ Bucket: 'enforced', AccessControlPolicy: { Owner: { ID: ID_A }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: ID_A }, Permission: 'FULL_CONTROL' }] } }));
  });

  it('reading ACLs answers the owner\'s FULL_CONTROL', async () => {
    const b = await s3.send(new GetBucketAclCommand({ Bucket: 'enforced' }));
    assert.equal(b.Owner?.ID, ID_A);
    assert.deepEqual(b.Grants, [{ Grantee: { Type: 'CanonicalUser', ID: ID_A, DisplayName: 'nimbus' }, Permission: 'FULL_CONTROL' }]);
    assert.deepEqual(await objectAcl('enforced', 'o'), [`${ID_A} FULL_CONTROL`]);
  });

  it('CreateBucket with a bucket ACL beyond the owner is InvalidBucketAclWithObjectOwnership', async () => {
    const msg = "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting";
    await expectError(s3.send(new CreateBucketCommand({ Bucket: 'enforced-acl', ACL: 'public-read' })), 'InvalidBucketAclWithObjectOwnership', 400, msg);
    await expectError(s3.send(new CreateBucketCommand({ Bucket: 'enforced-acl', ACL: 'authenticated-read', ObjectOwnership: 'BucketOwnerEnforced' })), 'InvalidBucketAclWithObjectOwnership', 400, msg);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'enforced-acl', Key: 'x' })), 'NotFound', 404);
    // private is the default ACL: accepted, and (as S3 does) it leaves ACLs enabled.
    await s3.send(new CreateBucketCommand({ Bucket: 'created-private', ACL: 'private' }));
    assert.deepEqual((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'created-private' }))).OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerPreferred' }]);
    await s3.send(new CreateBucketCommand({ Bucket: 'created-enforced', ACL: 'private', ObjectOwnership: 'BucketOwnerEnforced' }));
    assert.deepEqual((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'created-enforced' }))).OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  });

  it('DeleteBucketOwnershipControls: none configured is OwnershipControlsNotFoundError, and ACLs work (ObjectWriter)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'no-controls' }));
    const del = await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'no-controls' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectError(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'no-controls' })), 'OwnershipControlsNotFoundError', 404, 'The bucket ownership controls were not found');
    // (A public ACL, so Block Public Access, on for new buckets, must be off.)
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'no-controls' }));
    await s3.send(new PutObjectCommand({ Bucket: 'no-controls', Key: 'k', Body: 'x', ACL: 'authenticated-read' }));
    assert.deepEqual(await objectAcl('no-controls', 'k'), [`${AUTH_USERS} READ`, `${ID_A} FULL_CONTROL`].sort());
  });

  it('PutBucketOwnershipControls needs exactly one known rule', async () => {
    await expectError(
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'enforced', OwnershipControls: { Rules: [{ ObjectOwnership: 'Nobody' as ObjectOwnership }] } })),
      'MalformedXML',
      400,
    );
    await expectError(
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'enforced', OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }, { ObjectOwnership: 'BucketOwnerEnforced' }] } })),
      'MalformedXML',
      400,
    );
  });
});

describe('ACLs enabled: canned ACLs and grants round-trip', () => {
  before(async () => {
    await aclBucket('acls');
    await s3.send(new PutObjectCommand({ Bucket: 'acls', Key: 'k', Body: 'x' }));
  });

  it('every canned object ACL, as S3 expands it', async () => {
    const expected: Record<string, string[]> = {
      private: [`${ID_A} FULL_CONTROL`],
      'public-read': [`${ALL_USERS} READ`, `${ID_A} FULL_CONTROL`],
      'public-read-write': [`${ALL_USERS} READ`, `${ALL_USERS} WRITE`, `${ID_A} FULL_CONTROL`],
      'authenticated-read': [`${AUTH_USERS} READ`, `${ID_A} FULL_CONTROL`],
      'aws-exec-read': [`6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c READ`, `${ID_A} FULL_CONTROL`],
      // The writer is the bucket owner here: nothing more to give it.
      'bucket-owner-read': [`${ID_A} FULL_CONTROL`],
      'bucket-owner-full-control': [`${ID_A} FULL_CONTROL`],
    };
    for (const [canned, want] of Object.entries(expected)) {
      await s3.send(new PutObjectCommand({ Bucket: 'acls', Key: `canned/${canned}`, Body: 'x', ACL: canned as 'private' }));
      assert.deepEqual(await objectAcl('acls', `canned/${canned}`), want.sort(), canned);
      await s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'k', ACL: canned as 'private' }));
      assert.deepEqual(await objectAcl('acls', 'k'), want.sort(), `PutObjectAcl ${canned}`);
    }
    const full = await s3.send(new GetObjectAclCommand({ Bucket: 'acls', Key: 'canned/aws-exec-read' }));
    assert.deepEqual(full.Owner, { ID: ID_A, DisplayName: 'nimbus' });
    assert.ok(full.Grants!.some((g) => g.Grantee?.DisplayName === 'za-team'));
  });

  it('bucket canned ACLs, grant headers and AccessControlPolicy documents', async () => {
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls', ACL: 'log-delivery-write' as 'private' }));
    assert.deepEqual(await bucketAcl('acls'), [`${LOG_DELIVERY} READ_ACP`, `${LOG_DELIVERY} WRITE`, `${ID_A} FULL_CONTROL`].sort());
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls', ACL: 'public-read-write' }));
    assert.deepEqual(await bucketAcl('acls'), [`${ALL_USERS} READ`, `${ALL_USERS} WRITE`, `${ID_A} FULL_CONTROL`].sort());
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls', GrantFullControl: `id="${ID_A}"`, GrantRead: `uri="${AUTH_USERS}", id="${ID_B}"`, GrantWriteACP: `id=${ID_B}` }));
    assert.deepEqual(await bucketAcl('acls'), [`${AUTH_USERS} READ`, `${ID_A} FULL_CONTROL`, `${ID_B} READ`, `${ID_B} WRITE_ACP`].sort());
    await s3.send(
      new PutObjectAclCommand({
        Bucket: 'acls',
        Key: 'k',
        AccessControlPolicy: {
          Owner: { ID: ID_A },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ID_A }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: ID_B }, Permission: 'READ' },
            { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ_ACP' },
          ],
        },
      }),
    );
    const got = await s3.send(new GetObjectAclCommand({ Bucket: 'acls', Key: 'k' }));
    assert.deepEqual(grants(got.Grants), [`${ALL_USERS} READ_ACP`, `${ID_A} FULL_CONTROL`, `${ID_B} READ`].sort());
    assert.deepEqual(
      got.Grants!.find((g) => g.Grantee?.ID === ID_B),
      { Grantee: { Type: 'CanonicalUser', ID: ID_B, DisplayName: 'nimbus' }, Permission: 'READ' },
    );
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls', ACL: 'private' }));
    assert.deepEqual(await bucketAcl('acls'), [`${ID_A} FULL_CONTROL`]);
  });

  it('malformed ACL requests, in S3\'s words', async () => {
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'k', ACL: 'private', GrantRead: `id="${ID_B}"` })), 'InvalidRequest', 400, 'Specifying both Canned ACLs and Header Grants is not allowed');
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'k', GrantRead: 'emailAddress="someone@example.com"' })), 'UnresolvableGrantByEmailAddress', 400);
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'k', GrantRead: 'id="not-a-canonical-id"' })), 'InvalidArgument', 400, 'Invalid id');
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'k', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/Everyone"' })), 'InvalidArgument', 400, 'Invalid group uri');
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'k', ACL: 'everyone' as 'private' })), 'InvalidArgument', 400);
    await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'missing', ACL: 'private' })), 'NoSuchKey', 404);
  });

  it('per version: each version has its own ACL', async () => {
    await aclBucket('acls-ver');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'acls-ver', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'acls-ver', Key: 'k', Body: 'one', ACL: 'public-read' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'acls-ver', Key: 'k', Body: 'two' }))).VersionId!;
    assert.deepEqual(await objectAcl('acls-ver', 'k', v1), [`${ALL_USERS} READ`, `${ID_A} FULL_CONTROL`].sort());
    assert.deepEqual(await objectAcl('acls-ver', 'k'), [`${ID_A} FULL_CONTROL`]);
    // The public version reads anonymously by id; the current (private) one does not.
    const old = await anonymous(`/acls-ver/k?versionId=${v1}`);
    assert.equal(old.status, 200);
    assert.equal(await old.text(), 'one');
    assert.equal((await anonymous('/acls-ver/k')).status, 403);
    await s3.send(new PutObjectAclCommand({ Bucket: 'acls-ver', Key: 'k', VersionId: v2, ACL: 'public-read' }));
    assert.equal(await (await anonymous('/acls-ver/k')).text(), 'two');
    await s3.send(new PutObjectAclCommand({ Bucket: 'acls-ver', Key: 'k', VersionId: v1, ACL: 'private' }));
    assert.equal((await anonymous(`/acls-ver/k?versionId=${v1}`)).status, 403);
    assert.deepEqual(await objectAcl('acls-ver', 'k', v2), [`${ALL_USERS} READ`, `${ID_A} FULL_CONTROL`].sort());
  });

  it('switching back to BucketOwnerEnforced needs a bucket ACL that gives only the owner anything', async () => {
    await aclBucket('acls-back');
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls-back', ACL: 'public-read' }));
    await expectError(
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acls-back', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })),
      'InvalidBucketAclWithObjectOwnership',
      400,
    );
    await s3.send(new PutObjectCommand({ Bucket: 'acls-back', Key: 'pub', Body: 'x', ACL: 'public-read' }));
    assert.equal((await anonymous('/acls-back/pub')).status, 200);
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls-back', ACL: 'private' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acls-back', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    // ACLs no longer affect permissions, and reading them answers the owner's full control.
    assert.equal((await anonymous('/acls-back/pub')).status, 403);
    assert.deepEqual(await objectAcl('acls-back', 'pub'), [`${ID_A} FULL_CONTROL`]);
  });
});

describe('ACL grants are evaluated', () => {
  before(async () => {
    await aclBucket('public');
    await s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'open.txt', Body: 'hello world', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'closed.txt', Body: 'secret' }));
  });

  it('a public-read object is readable anonymously (GET and HEAD); a private one is not', async () => {
    const r = await anonymous('/public/open.txt');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'hello world');
    assert.equal((await anonymous('/public/open.txt', { method: 'HEAD' })).status, 200);
    const denied = await anonymous('/public/closed.txt');
    assert.equal(denied.status, 403);
    assert.match(await denied.text(), /<Code>AccessDenied<\/Code>/);
    // READ is not WRITE, nor READ_ACP.
    assert.equal((await anonymous('/public/open.txt', { method: 'PUT', body: 'overwrite' })).status, 403);
    assert.equal((await anonymous('/public/open.txt', { method: 'DELETE' })).status, 403);
    assert.equal((await anonymous('/public/open.txt?acl')).status, 403);
    // Listing needs the bucket's READ.
    assert.equal((await anonymous('/public')).status, 403);
  });

  it('CreateMultipartUpload\'s ACL applies on Complete; CopyObject never copies the ACL but sets its own', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'public', Key: 'mpu.txt', ACL: 'public-read' }));
    assert.equal((await anonymous('/public/mpu.txt')).status, 403);
    const part = await s3.send(new UploadPartCommand({ Bucket: 'public', Key: 'mpu.txt', UploadId, PartNumber: 1, Body: 'multi' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'public', Key: 'mpu.txt', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal(await (await anonymous('/public/mpu.txt')).text(), 'multi');
    assert.deepEqual(await objectAcl('public', 'mpu.txt'), [`${ALL_USERS} READ`, `${ID_A} FULL_CONTROL`].sort());
    await s3.send(new CopyObjectCommand({ Bucket: 'public', Key: 'copied.txt', CopySource: 'public/open.txt' }));
    assert.deepEqual(await objectAcl('public', 'copied.txt'), [`${ID_A} FULL_CONTROL`]);
    assert.equal((await anonymous('/public/copied.txt')).status, 403);
    await s3.send(new CopyObjectCommand({ Bucket: 'public', Key: 'copied.txt', CopySource: 'public/closed.txt', ACL: 'public-read' }));
    assert.equal(await (await anonymous('/public/copied.txt')).text(), 'secret');
    await s3.send(new DeleteObjectCommand({ Bucket: 'public', Key: 'copied.txt' }));
  });

  it('IgnorePublicAcls makes public grants ineffective (the grants stay); off again, they apply again', async () => {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'public', PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    assert.equal((await anonymous('/public/open.txt')).status, 403);
    assert.deepEqual(await objectAcl('public', 'open.txt'), [`${ALL_USERS} READ`, `${ID_A} FULL_CONTROL`].sort());
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'public' }));
    assert.equal((await anonymous('/public/open.txt')).status, 200);
  });

  it('BlockPublicAcls refuses writing public ACLs with AccessDenied; private writes go on', async () => {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'public', PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    try {
      await expectError(s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'new.txt', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
      await expectError(s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'new.txt', Body: 'x', GrantRead: `uri="${AUTH_USERS}"` })), 'AccessDenied', 403);
      await expectError(s3.send(new PutObjectAclCommand({ Bucket: 'public', Key: 'closed.txt', ACL: 'public-read' })), 'AccessDenied', 403);
      await expectError(s3.send(new PutBucketAclCommand({ Bucket: 'public', ACL: 'public-read' })), 'AccessDenied', 403);
      await expectError(s3.send(new CopyObjectCommand({ Bucket: 'public', Key: 'copy.txt', CopySource: 'public/closed.txt', ACL: 'public-read' })), 'AccessDenied', 403);
      await expectError(s3.send(new HeadObjectCommand({ Bucket: 'public', Key: 'new.txt' })), 'NotFound', 404);
      await s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'new.txt', Body: 'x', ACL: 'private' }));
      await s3.send(new PutObjectAclCommand({ Bucket: 'public', Key: 'new.txt', GrantRead: `id="${ID_B}"` }));
      // Existing public grants still apply (that is IgnorePublicAcls' job).
      assert.equal((await anonymous('/public/open.txt')).status, 200);
    } finally {
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'public' }));
    }
  });

  it('a new bucket blocks public access: with ACLs enabled, public ACLs are still refused until Block Public Access is lifted', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'blocked', ObjectOwnership: 'ObjectWriter' }));
    await expectError(s3.send(new PutObjectCommand({ Bucket: 'blocked', Key: 'k', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
  });

  it('bucket READ lets anonymous callers list; bucket WRITE lets them PUT and DELETE objects', async () => {
    await aclBucket('dropzone');
    await s3.send(new PutObjectCommand({ Bucket: 'dropzone', Key: 'seed', Body: 'x' }));
    assert.equal((await anonymous('/dropzone')).status, 403);
    await s3.send(new PutBucketAclCommand({ Bucket: 'dropzone', ACL: 'public-read' }));
    const list = await anonymous('/dropzone?list-type=2');
    assert.equal(list.status, 200);
    assert.match(await list.text(), /<Key>seed<\/Key>/);
    assert.equal((await anonymous('/dropzone/dropped', { method: 'PUT', body: 'anon' })).status, 403);
    await s3.send(new PutBucketAclCommand({ Bucket: 'dropzone', ACL: 'public-read-write' }));
    const put = await anonymous('/dropzone/dropped', { method: 'PUT', body: 'anon' });
    assert.equal(put.status, 200);
    // An anonymous upload belongs to the bucket owner, who reads it.
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'dropzone', Key: 'dropped' }))).Body!.transformToString(), 'anon');
    // WRITE is on the bucket: the objects themselves are not readable by it.
    assert.equal((await anonymous('/dropzone/dropped')).status, 403);
    assert.equal((await anonymous('/dropzone/seed', { method: 'DELETE' })).status, 204);
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'dropzone', Key: 'seed' })), 'NotFound', 404);
  });

  it('a grant to another account\'s canonical id lets that account read; without it, AccessDenied', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'for-b.txt', Body: 'to B', GrantRead: `id="${ID_B}"` }));
    assert.equal(await (await s3B.send(new GetObjectCommand({ Bucket: 'public', Key: 'for-b.txt' }))).Body!.transformToString(), 'to B');
    const denied = await expectError(s3B.send(new GetObjectCommand({ Bucket: 'public', Key: 'closed.txt' })), 'AccessDenied', 403);
    assert.match(denied.message, /arn:aws:iam::111111111111:root/);
    // READ does not include the ACL.
    await expectError(s3B.send(new GetObjectAclCommand({ Bucket: 'public', Key: 'for-b.txt' })), 'AccessDenied', 403);
    // The account's IAM users need their own identity policy too (cross-account: both sides).
    const iamB = track(new IAMClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: B, secretAccessKey: CREDENTIALS.secretAccessKey } }));
    const keyOf = async (name: string, policy?: unknown) => {
      await iamB.send(new CreateUserCommand({ UserName: name }));
      if (policy) await iamB.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }));
      const k = (await iamB.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
      return s3As({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    };
    const allowed = await keyOf('b-reader', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const bare = await keyOf('b-bare');
    assert.equal(await (await allowed.send(new GetObjectCommand({ Bucket: 'public', Key: 'for-b.txt' }))).Body!.transformToString(), 'to B');
    await expectError(bare.send(new GetObjectCommand({ Bucket: 'public', Key: 'for-b.txt' })), 'AccessDenied', 403);
    await expectError(allowed.send(new GetObjectCommand({ Bucket: 'public', Key: 'closed.txt' })), 'AccessDenied', 403);
    // An explicit deny in the bucket policy wins over the ACL grant.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'public',
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/for-b.txt' }] }),
      }),
    );
    await expectError(s3B.send(new GetObjectCommand({ Bucket: 'public', Key: 'for-b.txt' })), 'AccessDenied', 403);
    assert.equal((await anonymous('/public/open.txt')).status, 200);
  });

  it('AuthenticatedUsers: any signed caller of any account, never anonymous ones', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'public', Key: 'members.txt', Body: 'members only', ACL: 'authenticated-read' }));
    assert.equal(await (await s3B.send(new GetObjectCommand({ Bucket: 'public', Key: 'members.txt' }))).Body!.transformToString(), 'members only');
    assert.equal((await anonymous('/public/members.txt')).status, 403);
    // A user of the bucket's own account with no policy at all is let in by the grant too.
    const iam = track(new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS }));
    await iam.send(new CreateUserCommand({ UserName: 'a-nobody' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'a-nobody' }))).AccessKey!;
    const nobody = s3As({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    assert.equal(await (await nobody.send(new GetObjectCommand({ Bucket: 'public', Key: 'members.txt' }))).Body!.transformToString(), 'members only');
    await expectError(nobody.send(new GetObjectCommand({ Bucket: 'public', Key: 'closed.txt' })), 'AccessDenied', 403);
  });

  it('account-level Block Public Access (S3 Control) applies to ACLs too', async () => {
    const agent = new Agent({
      lookup: ((_h: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as typeof dnsLookup,
    });
    const controlB = track(
      new S3ControlClient({ endpoint: `http://localhost:${server.port}`, region: REGION, credentials: { accessKeyId: B, secretAccessKey: CREDENTIALS.secretAccessKey }, requestHandler: new NodeHttpHandler({ httpAgent: agent }) }),
    );
    await aclBucket('b-public', 'ObjectWriter', s3B);
    await s3B.send(new PutObjectCommand({ Bucket: 'b-public', Key: 'pub', Body: 'B public', ACL: 'public-read' }));
    assert.equal((await anonymous('/b-public/pub')).status, 200);
    await controlB.send(new PutAccountPabCommand({ AccountId: B, PublicAccessBlockConfiguration: { IgnorePublicAcls: true, BlockPublicAcls: true } }));
    try {
      assert.equal((await anonymous('/b-public/pub')).status, 403);
      await expectError(s3B.send(new PutObjectCommand({ Bucket: 'b-public', Key: 'pub2', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
      await expectError(s3B.send(new CreateBucketCommand({ Bucket: 'b-public-2', ObjectOwnership: 'ObjectWriter', ACL: 'public-read' })), 'AccessDenied', 403);
    } finally {
      await controlB.send(new DeleteAccountPabCommand({ AccountId: B }));
    }
    assert.equal((await anonymous('/b-public/pub')).status, 200);
  });
});

describe('Object Ownership: who owns what another account writes', () => {
  before(async () => {
    await aclBucket('shared-w', 'ObjectWriter');
    // Account B may write into A's bucket.
    await s3.send(new PutBucketAclCommand({ Bucket: 'shared-w', GrantFullControl: `id="${ID_A}"`, GrantWrite: `id="${ID_B}"` }));
    await s3B.send(new PutObjectCommand({ Bucket: 'shared-w', Key: 'theirs', Body: 'B wrote this' }));
    await s3B.send(new PutObjectCommand({ Bucket: 'shared-w', Key: 'shared', Body: 'B shares this', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutObjectCommand({ Bucket: 'shared-w', Key: 'ours', Body: 'A wrote this' }));
  });

  it('ObjectWriter: the writing account owns its objects (Owner in listings and GetObjectAcl)', async () => {
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'shared-w', FetchOwner: true }));
    assert.deepEqual(
      v2.Contents!.map((o) => [o.Key, o.Owner?.ID]),
      [
        ['ours', ID_A],
        ['shared', ID_B],
        ['theirs', ID_B],
      ],
    );
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'shared-w' }));
    assert.deepEqual(v1.Contents!.map((o) => o.Owner?.ID), [ID_A, ID_B, ID_B]);
    const acl = await s3B.send(new GetObjectAclCommand({ Bucket: 'shared-w', Key: 'theirs' }));
    assert.equal(acl.Owner?.ID, ID_B);
    assert.deepEqual(grants(acl.Grants), [`${ID_B} FULL_CONTROL`]);
    assert.deepEqual(grants((await s3B.send(new GetObjectAclCommand({ Bucket: 'shared-w', Key: 'shared' }))).Grants), [`${ID_A} FULL_CONTROL`, `${ID_B} FULL_CONTROL`].sort());
  });

  it('the bucket owner reads another account\'s object only if its ACL grants it, but may always delete it', async () => {
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'theirs' })), 'AccessDenied', 403);
    await expectError(s3.send(new GetObjectAclCommand({ Bucket: 'shared-w', Key: 'theirs' })), 'AccessDenied', 403);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'shared' }))).Body!.transformToString(), 'B shares this');
    assert.equal(await (await s3B.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'theirs' }))).Body!.transformToString(), 'B wrote this');
    // B's WRITE on the bucket is not READ of A's objects.
    await expectError(s3B.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'ours' })), 'AccessDenied', 403);
    // The object owner grants the bucket owner later.
    await s3B.send(new PutObjectAclCommand({ Bucket: 'shared-w', Key: 'theirs', ACL: 'bucket-owner-read' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'theirs' }))).Body!.transformToString(), 'B wrote this');
    await s3B.send(new PutObjectCommand({ Bucket: 'shared-w', Key: 'doomed', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'shared-w', Key: 'doomed' }));
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'shared-w', Key: 'doomed' })), 'NotFound', 404);
  });

  it('BucketOwnerPreferred: uploads with bucket-owner-full-control become the bucket owner\'s', async () => {
    await aclBucket('shared-p', 'BucketOwnerPreferred');
    await s3.send(new PutBucketAclCommand({ Bucket: 'shared-p', GrantFullControl: `id="${ID_A}"`, GrantWrite: `id="${ID_B}"` }));
    await s3B.send(new PutObjectCommand({ Bucket: 'shared-p', Key: 'given', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await s3B.send(new PutObjectCommand({ Bucket: 'shared-p', Key: 'kept', Body: 'y' }));
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'shared-p' }));
    assert.deepEqual(listed.Versions!.map((v) => [v.Key, v.Owner?.ID]), [
      ['given', ID_A],
      ['kept', ID_B],
    ]);
    assert.equal((await s3.send(new GetObjectAclCommand({ Bucket: 'shared-p', Key: 'given' }))).Owner?.ID, ID_A);
    await expectError(s3.send(new GetObjectCommand({ Bucket: 'shared-p', Key: 'kept' })), 'AccessDenied', 403);
  });

  it('BucketOwnerEnforced: the bucket owner owns (and reads) everything, whoever wrote it', async () => {
    await s3.send(new PutBucketAclCommand({ Bucket: 'shared-w', ACL: 'private' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'shared-w', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'shared-w', FetchOwner: true }));
    assert.ok(v2.Contents!.every((o) => o.Owner?.ID === ID_A));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'theirs' }))).Body!.transformToString(), 'B wrote this');
    assert.equal((await s3.send(new GetObjectAclCommand({ Bucket: 'shared-w', Key: 'theirs' }))).Owner?.ID, ID_A);
    // And the writer has lost the access its ownership gave it.
    await expectError(s3B.send(new GetObjectCommand({ Bucket: 'shared-w', Key: 'theirs' })), 'AccessDenied', 403);
  });
});

describe('the AWS CLI', () => {
  let work: string;
  before(() => {
    requireAwsCli();
    work = mkdtempSync(join(tmpdir(), 'nimbus-cli-acl-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  const json = (args: string[]) => JSON.parse(aws(server.url, [...args, '--output', 'json']) || '{}');

  it('aws s3 cp --acl public-read is refused while ACLs are disabled, and works after put-bucket-ownership-controls', async () => {
    const file = join(work, 'page.html');
    writeFileSync(file, '<h1>hi</h1>');
    aws(server.url, ['s3', 'mb', 's3://cli-acl']);
    assert.deepEqual(json(['s3api', 'get-bucket-ownership-controls', '--bucket', 'cli-acl']), { OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } });
    const refused = awsFails(server.url, ['s3', 'cp', file, 's3://cli-acl/page.html', '--acl', 'public-read']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /AccessControlListNotSupported/);
    aws(server.url, ['s3api', 'put-bucket-ownership-controls', '--bucket', 'cli-acl', '--ownership-controls', 'Rules=[{ObjectOwnership=ObjectWriter}]']);
    assert.deepEqual(json(['s3api', 'get-bucket-ownership-controls', '--bucket', 'cli-acl']), { OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } });
    aws(server.url, ['s3api', 'delete-public-access-block', '--bucket', 'cli-acl']);
    aws(server.url, ['s3', 'cp', file, 's3://cli-acl/page.html', '--acl', 'public-read']);
    const r = await anonymous('/cli-acl/page.html');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '<h1>hi</h1>');
    const acl = json(['s3api', 'get-object-acl', '--bucket', 'cli-acl', '--key', 'page.html']);
    assert.equal(acl.Owner.ID, ID_A);
    assert.deepEqual(
      acl.Grants.map((g: any) => `${g.Grantee.Type}:${g.Grantee.URI ?? g.Grantee.ID}:${g.Permission}`).sort(),
      [`CanonicalUser:${ID_A}:FULL_CONTROL`, `Group:${ALL_USERS}:READ`],
    );
    aws(server.url, ['s3api', 'put-object-acl', '--bucket', 'cli-acl', '--key', 'page.html', '--acl', 'private']);
    assert.equal((await anonymous('/cli-acl/page.html')).status, 403);
    aws(server.url, ['s3api', 'delete-bucket-ownership-controls', '--bucket', 'cli-acl']);
    const none = awsFails(server.url, ['s3api', 'get-bucket-ownership-controls', '--bucket', 'cli-acl']);
    assert.match(none.stderr, /OwnershipControlsNotFoundError/);
  });
});
