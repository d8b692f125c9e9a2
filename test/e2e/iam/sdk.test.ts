import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  IAMClient,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
  CreateRoleCommand,
  AttachRolePolicyCommand,
  PutRolePolicyCommand,
  CreatePolicyCommand,
  AttachUserPolicyCommand,
  DetachUserPolicyCommand,
  ListEntitiesForPolicyCommand,
  PutUserPermissionsBoundaryCommand,
  ListUsersCommand,
  GetAccessKeyLastUsedCommand,
} from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectsCommand, CopyObjectCommand } from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';

/** IAM, STS and enforcement on S3 with the AWS SDK for JavaScript v3. */
let server: TestServer;
let iam: IAMClient;
let s3root: S3Client;
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const s3As = (c: Creds) => new S3Client({ endpoint: server.url, region: REGION, credentials: c, forcePathStyle: true });
const stsAs = (c: Creds) => new STSClient({ endpoint: server.url, region: REGION, credentials: c });
const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const errName = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).name;
  }
};

async function userWith(name: string, statements: unknown[]): Promise<Creds> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
}

before(async () => {
  server = await startServer();
  iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  s3root = s3As(CREDENTIALS);
  await s3root.send(new CreateBucketCommand({ Bucket: 'data' }));
  await s3root.send(new CreateBucketCommand({ Bucket: 'other' }));
  await s3root.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/a.txt', Body: 'a' }));
  await s3root.send(new PutObjectCommand({ Bucket: 'data', Key: 'private/b.txt', Body: 'b' }));
});

after(async () => {
  iam?.destroy();
  s3root?.destroy();
  await server?.dispose();
});

describe('enforcement on S3', () => {
  it('resource-level grants: a prefix of one bucket, and s3:prefix conditions on listing', async () => {
    const c = await userWith('reader', [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/public/*' },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::data', Condition: { StringLike: { 's3:prefix': 'public/*' } } },
    ]);
    const s3 = s3As(c);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'public/a.txt' }))).Body!.transformToString(), 'a');
    assert.equal(await errName(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/b.txt' }))), 'AccessDenied');
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'public/' }));
    assert.deepEqual(list.Contents?.map((o) => o.Key), ['public/a.txt']);
    assert.equal(await errName(s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'private/' }))), 'AccessDenied');
    // A missing key is 404 only for callers who may list; otherwise 403.
    assert.equal(await errName(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'public/missing' }))), 'AccessDenied');
    s3.destroy();
  });

  it('an explicit deny wins over an allow', async () => {
    const c = await userWith('denied', [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::data/*' },
    ]);
    const s3 = s3As(c);
    await s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'k', Body: 'x' }));
    const e = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'k', Body: 'x' })).catch((x: Error) => x);
    assert.equal((e as Error).name, 'AccessDenied');
    assert.match((e as Error).message, /explicit deny in an identity-based policy/);
    s3.destroy();
  });

  it('CopyObject needs GetObject on the source and PutObject on the destination; DeleteObjects is per key', async () => {
    const c = await userWith('copier', [
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::other/*' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/public/*' },
    ]);
    const s3 = s3As(c);
    await s3.send(new CopyObjectCommand({ Bucket: 'other', Key: 'copy', CopySource: 'data/public/a.txt' }));
    assert.equal(await errName(s3.send(new CopyObjectCommand({ Bucket: 'other', Key: 'copy2', CopySource: 'data/private/b.txt' }))), 'AccessDenied');
    assert.equal(await errName(s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy3', CopySource: 'data/public/a.txt' }))), 'AccessDenied');
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: 'other', Delete: { Objects: [{ Key: 'copy' }] } }));
    assert.deepEqual(r.Deleted?.map((d) => d.Key), ['copy']);
    const r2 = await s3.send(new DeleteObjectsCommand({ Bucket: 'data', Delete: { Objects: [{ Key: 'public/a.txt' }] } }));
    assert.deepEqual(r2.Errors?.map((x) => [x.Key, x.Code]), [['public/a.txt', 'AccessDenied']]);
    s3.destroy();
  });

  it('a permissions boundary caps what attached policies grant', async () => {
    const c = await userWith('bounded', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    const boundary = await iam.send(new CreatePolicyCommand({ PolicyName: 'only-get', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]) }));
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'bounded', PermissionsBoundary: boundary.Policy!.Arn }));
    const s3 = s3As(c);
    await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/b.txt' }));
    const e = await s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'b', Body: 'x' })).catch((x: Error) => x);
    assert.equal((e as Error).name, 'AccessDenied');
    assert.match((e as Error).message, /permissions boundary/);
    s3.destroy();
  });

  it('managed policies attach and detach, and ListEntitiesForPolicy sees it', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'managed' }));
    const k = await iam.send(new CreateAccessKeyCommand({ UserName: 'managed' }));
    const s3 = s3As({ accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! });
    assert.equal(await errName(s3.send(new ListObjectsV2Command({ Bucket: 'data' }))), 'AccessDenied');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'managed', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    await s3.send(new ListObjectsV2Command({ Bucket: 'data' }));
    const ents = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    assert.deepEqual(ents.PolicyUsers?.map((u) => u.UserName), ['managed']);
    await iam.send(new DetachUserPolicyCommand({ UserName: 'managed', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    assert.equal(await errName(s3.send(new ListObjectsV2Command({ Bucket: 'data' }))), 'AccessDenied');
    const last = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.AccessKey!.AccessKeyId! }));
    assert.equal(last.UserName, 'managed');
    s3.destroy();
  });

  it('paginates ListUsers with MaxItems and Marker', async () => {
    const p1 = await iam.send(new ListUsersCommand({ MaxItems: 2 }));
    assert.equal(p1.Users?.length, 2);
    assert.equal(p1.IsTruncated, true);
    const p2 = await iam.send(new ListUsersCommand({ Marker: p1.Marker }));
    const names = [...p1.Users!, ...p2.Users!].map((u) => u.UserName);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('reader') && names.includes('managed'));
  });
});

describe('STS AssumeRole', () => {
  let role: string;
  before(async () => {
    const trust = doc([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'secret-42' } } }]);
    const r = await iam.send(new CreateRoleCommand({ RoleName: 'worker', AssumeRolePolicyDocument: trust, MaxSessionDuration: 7200 }));
    role = r.Role!.Arn!;
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'worker', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'worker', PolicyName: 'assume-self', PolicyDocument: doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]) }));
  });

  it('needs the ExternalId the trust policy demands', async () => {
    const sts = stsAs(CREDENTIALS);
    assert.equal(await errName(sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'no-id' }))), 'AccessDenied');
    assert.equal(await errName(sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'bad-id', ExternalId: 'nope' }))), 'AccessDenied');
    const ok = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'good', ExternalId: 'secret-42' }));
    assert.ok(ok.Credentials?.SessionToken);
    sts.destroy();
  });

  it('bounds DurationSeconds by 900 and the role maximum, and role chaining by one hour', async () => {
    const sts = stsAs(CREDENTIALS);
    assert.equal(await errName(sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'short', ExternalId: 'secret-42', DurationSeconds: 899 }))), 'ValidationError');
    assert.equal(await errName(sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'long', ExternalId: 'secret-42', DurationSeconds: 7201 }))), 'ValidationError');
    const two = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'two-hours', ExternalId: 'secret-42', DurationSeconds: 7200 }));
    const expires = two.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(expires > 7100_000 && expires <= 7200_000, `expiry in ${expires} ms`);
    const c = two.Credentials!;
    const chained = stsAs({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
    assert.equal(await errName(chained.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'chain', ExternalId: 'secret-42', DurationSeconds: 7200 }))), 'ValidationError');
    await chained.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'chain', ExternalId: 'secret-42', DurationSeconds: 3600 }));
    sts.destroy();
    chained.destroy();
  });

  it('session policies intersect with the role policies', async () => {
    const sts = stsAs(CREDENTIALS);
    const r = await sts.send(
      new AssumeRoleCommand({
        RoleArn: role,
        RoleSessionName: 'narrow',
        ExternalId: 'secret-42',
        Policy: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' }]),
      }),
    );
    const c = r.Credentials!;
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const who = await stsAs(session).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:sts::000000000000:assumed-role/worker/narrow');
    const s3 = s3As(session);
    await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/b.txt' }));
    const e = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'x', Body: 'x' })).catch((x: Error) => x);
    assert.equal((e as Error).name, 'AccessDenied');
    assert.match((e as Error).message, /assumed-role\/worker\/narrow is not authorized to perform: s3:PutObject/);
    s3.destroy();
    sts.destroy();
  });
});
