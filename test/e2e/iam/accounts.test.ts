import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, CreateRoleCommand, PutRolePolicyCommand, TagRoleCommand, ListUsersCommand, GetUserCommand, UpdateAssumeRolePolicyCommand, CreateAccountAliasCommand, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListBucketsCommand, PutBucketPolicyCommand, DeleteBucketPolicyCommand, DeletePublicAccessBlockCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { S3ControlClient, PutPublicAccessBlockCommand, GetPublicAccessBlockCommand, DeletePublicAccessBlockCommand as DeleteAccountPabCommand } from '@aws-sdk/client-s3-control';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';

/**
 * Several accounts (a second account's root is access key "111111111111" with the root
 * secret), cross-account bucket policies and role assumption, GetSessionToken, session
 * and request tags in conditions, and account-level Block Public Access (S3 Control).
 */
let server: TestServer;
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const A = '000000000000';
const B = '111111111111';
const rootA: Creds = CREDENTIALS;
const rootB: Creds = { accessKeyId: B, secretAccessKey: CREDENTIALS.secretAccessKey };
const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const fail = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'ok', message: '' }),
    (e: Error) => ({ name: e.name, message: e.message }),
  );

const clients: Array<{ destroy(): void }> = [];
function track<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}
const s3As = (c: Creds) => track(new S3Client({ endpoint: server.url, region: REGION, credentials: c, forcePathStyle: true }));
const iamAs = (c: Creds) => track(new IAMClient({ endpoint: server.url, region: REGION, credentials: c }));
const stsAs = (c: Creds) => track(new STSClient({ endpoint: server.url, region: REGION, credentials: c }));
/** S3 Control puts the account id in the host (<account>.localhost): send every host to loopback. */
function controlAs(c: Creds): S3ControlClient {
  const agent = new Agent({
    lookup: ((_h: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as typeof dnsLookup,
  });
  return track(new S3ControlClient({ endpoint: `http://localhost:${server.port}`, region: REGION, credentials: c, requestHandler: new NodeHttpHandler({ httpAgent: agent }) }));
}

async function userWithKey(admin: IAMClient, name: string, policy?: string, tags?: Array<{ Key: string; Value: string }>): Promise<Creds> {
  await admin.send(new CreateUserCommand({ UserName: name, Tags: tags }));
  if (policy) await admin.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
  const k = (await admin.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
}

before(async () => {
  server = await startServer();
});
after(async () => {
  for (const c of clients) c.destroy();
  await server?.dispose();
});

describe('a second account', () => {
  it("comes to exist with its root's credentials: the access key id is the account id", async () => {
    const id = await stsAs(rootB).send(new GetCallerIdentityCommand({}));
    assert.equal(id.Account, B);
    assert.equal(id.Arn, `arn:aws:iam::${B}:root`);
    const wrong = await fail(stsAs({ accessKeyId: B, secretAccessKey: 'nope' }).send(new GetCallerIdentityCommand({})));
    assert.equal(wrong.name, 'SignatureDoesNotMatch');
  });

  it('has its own IAM: the same user name in two accounts, each listing only its own', async () => {
    const a = await iamAs(rootA).send(new CreateUserCommand({ UserName: 'dup' }));
    const b = await iamAs(rootB).send(new CreateUserCommand({ UserName: 'dup' }));
    assert.equal(a.User!.Arn, `arn:aws:iam::${A}:user/dup`);
    assert.equal(b.User!.Arn, `arn:aws:iam::${B}:user/dup`);
    assert.notEqual(a.User!.UserId, b.User!.UserId);
    const listedB = (await iamAs(rootB).send(new ListUsersCommand({}))).Users!.map((u) => u.Arn);
    assert.deepEqual(listedB, [`arn:aws:iam::${B}:user/dup`]);
  });

  it("cannot take another account's alias: aliases are unique across accounts", async () => {
    await iamAs(rootA).send(new CreateAccountAliasCommand({ AccountAlias: 'acme-prod' }));
    const e = await fail(iamAs(rootB).send(new CreateAccountAliasCommand({ AccountAlias: 'acme-prod' })));
    assert.equal(e.name, 'EntityAlreadyExistsException');
    await iamAs(rootB).send(new CreateAccountAliasCommand({ AccountAlias: 'acme-dev' }));
    assert.deepEqual((await iamAs(rootB).send(new ListAccountAliasesCommand({}))).AccountAliases, ['acme-dev']);
  });

  it("lists only its own buckets, and cannot take another account's bucket name", async () => {
    await s3As(rootA).send(new CreateBucketCommand({ Bucket: 'a-data' }));
    await s3As(rootA).send(new PutObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt', Body: 'numbers' }));
    await s3As(rootA).send(new PutObjectCommand({ Bucket: 'a-data', Key: 'private/x.txt', Body: 'secret' }));
    await s3As(rootB).send(new CreateBucketCommand({ Bucket: 'b-data' }));
    const listA = (await s3As(rootA).send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    const listB = (await s3As(rootB).send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    assert.ok(listA.includes('a-data') && !listA.includes('b-data'), String(listA));
    assert.deepEqual(listB, ['b-data']);
    const taken = await fail(s3As(rootB).send(new CreateBucketCommand({ Bucket: 'a-data' })));
    assert.equal(taken.name, 'BucketAlreadyExists');
  });
});

describe('cross-account bucket policy', () => {
  let bob: Creds; // a user of account B allowed s3:GetObject on A's bucket by his own policy
  let carol: Creds; // a user of account B with no policy

  before(async () => {
    bob = await userWithKey(iamAs(rootB), 'bob', doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::a-data/*' }]));
    carol = await userWithKey(iamAs(rootB), 'carol');
  });

  it("without a grant from A, even B's root is denied, with AWS's cross-account reason", async () => {
    const e = await fail(s3As(bob).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' })));
    assert.equal(e.name, 'AccessDenied');
    assert.match(e.message, new RegExp(`User: arn:aws:iam::${B}:user/bob is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::a-data/shared/report.txt because no resource-based policy allows the s3:GetObject action`));
    assert.equal((await fail(s3As(rootB).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' })))).name, 'AccessDenied');
  });

  it("a grant to account B needs B's own policies too: bob (allowed at home) reads, carol does not", async () => {
    await s3As(rootA).send(
      new PutBucketPolicyCommand({
        Bucket: 'a-data',
        Policy: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::a-data/shared/*' }]),
      }),
    );
    const got = await s3As(bob).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' }));
    assert.equal(await got.Body!.transformToString(), 'numbers');
    // Outside what the bucket policy grants, bob's own allow is not enough.
    assert.equal((await fail(s3As(bob).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'private/x.txt' })))).name, 'AccessDenied');
    const c = await fail(s3As(carol).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' })));
    assert.equal(c.name, 'AccessDenied');
    assert.match(c.message, /because no identity-based policy allows the s3:GetObject action/);
    // B's root has every permission of its account.
    const r = await s3As(rootB).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' }));
    assert.equal(await r.Body!.transformToString(), 'numbers');
  });

  it('once A removes the policy, B is denied again; A itself never was', async () => {
    await s3As(rootA).send(new DeleteBucketPolicyCommand({ Bucket: 'a-data' }));
    assert.equal((await fail(s3As(bob).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' })))).name, 'AccessDenied');
    const own = await s3As(rootA).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'private/x.txt' }));
    assert.equal(await own.Body!.transformToString(), 'secret');
  });
});

describe('cross-account AssumeRole', () => {
  let dave: Creds; // B's user allowed to assume A's role
  let erin: Creds; // B's user without sts:AssumeRole

  before(async () => {
    const roleArn = `arn:aws:iam::${A}:role/partner`;
    dave = await userWithKey(iamAs(rootB), 'dave', doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]));
    erin = await userWithKey(iamAs(rootB), 'erin');
    await iamAs(rootA).send(
      new CreateRoleCommand({
        RoleName: 'partner',
        AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: B }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'ext-42' } } }]),
      }),
    );
    await iamAs(rootA).send(new PutRolePolicyCommand({ RoleName: 'partner', PolicyName: 'read', PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::a-data', 'arn:aws:s3:::a-data/*'] }]) }));
  });

  it("needs the trust policy's ExternalId and the caller's own allow; the session lives in A", async () => {
    const roleArn = `arn:aws:iam::${A}:role/partner`;
    assert.equal((await fail(stsAs(dave).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sx' })))).name, 'AccessDenied');
    assert.equal((await fail(stsAs(dave).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sx', ExternalId: 'wrong' })))).name, 'AccessDenied');
    assert.equal((await fail(stsAs(erin).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sx', ExternalId: 'ext-42' })))).name, 'AccessDenied');
    const r = await stsAs(dave).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'dave-session', ExternalId: 'ext-42' }));
    assert.equal(r.AssumedRoleUser!.Arn, `arn:aws:sts::${A}:assumed-role/partner/dave-session`);
    const creds = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };
    assert.equal((await stsAs(creds).send(new GetCallerIdentityCommand({}))).Account, A);
    const got = await s3As(creds).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'private/x.txt' }));
    assert.equal(await got.Body!.transformToString(), 'secret');
    // B's root may assume it too (a grant to the account names its root).
    const rb = await stsAs(rootB).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'root-b', ExternalId: 'ext-42' }));
    assert.match(rb.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z0-9]{16}:root-b$/);
  });
});

describe('GetSessionToken', () => {
  let frank: Creds;
  before(async () => {
    frank = await userWithKey(iamAs(rootA), 'frank', doc([{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 'iam:GetUser'], Resource: '*' }]));
  });

  it("gives a user temporary credentials with the user's identity and permissions", async () => {
    const t = await stsAs(frank).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.match(t.Credentials!.AccessKeyId!, /^ASIA/);
    const left = t.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(left > 880_000 && left <= 900_000, String(left));
    const creds = { accessKeyId: t.Credentials!.AccessKeyId!, secretAccessKey: t.Credentials!.SecretAccessKey!, sessionToken: t.Credentials!.SessionToken! };
    assert.equal((await stsAs(creds).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${A}:user/frank`);
    assert.ok((await s3As(creds).send(new ListBucketsCommand({}))).Buckets!.length >= 1);
    // Without MFA, no IAM calls and no STS beyond AssumeRole / GetCallerIdentity.
    assert.equal((await fail(iamAs(creds).send(new GetUserCommand({})))).name, 'AccessDenied');
    assert.equal((await fail(stsAs(creds).send(new GetSessionTokenCommand({})))).name, 'AccessDenied');
    // The token is needed, and must be the right one.
    assert.equal((await fail(stsAs({ ...creds, sessionToken: 'forged' }).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
  });

  it('refuses durations outside 900 s … 36 h, and a wrong MFA code', async () => {
    assert.equal((await fail(stsAs(frank).send(new GetSessionTokenCommand({ DurationSeconds: 899 })))).name, 'ValidationError');
    assert.equal((await fail(stsAs(frank).send(new GetSessionTokenCommand({ DurationSeconds: 129601 })))).name, 'ValidationError');
    const e = await fail(stsAs(frank).send(new GetSessionTokenCommand({ SerialNumber: `arn:aws:iam::${A}:mfa/none`, TokenCode: '123456' })));
    assert.equal(e.name, 'AccessDenied');
    assert.match(e.message, /MultiFactorAuthentication failed with invalid MFA one time pass code/);
  });
});

describe('tags in conditions', () => {
  it('session tags need sts:TagSession in the trust policy and become aws:PrincipalTag/*', async () => {
    const trust = (tagSession: boolean) =>
      doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: tagSession ? ['sts:AssumeRole', 'sts:TagSession'] : 'sts:AssumeRole' }]);
    await iamAs(rootA).send(new CreateRoleCommand({ RoleName: 'team-reader', AssumeRolePolicyDocument: trust(false) }));
    await iamAs(rootA).send(
      new PutRolePolicyCommand({ RoleName: 'team-reader', PolicyName: 'by-team', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::a-data/${aws:PrincipalTag/team}/*' }]) }),
    );
    const roleArn = `arn:aws:iam::${A}:role/team-reader`;
    const tagged = { RoleArn: roleArn, RoleSessionName: 'tagged', Tags: [{ Key: 'team', Value: 'shared' }] };
    assert.equal((await fail(stsAs(rootA).send(new AssumeRoleCommand(tagged)))).name, 'AccessDenied');
    await iamAs(rootA).send(new UpdateAssumeRolePolicyCommand({ RoleName: 'team-reader', PolicyDocument: trust(true) }));
    const r = await stsAs(rootA).send(new AssumeRoleCommand(tagged));
    const creds = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };
    const got = await s3As(creds).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'shared/report.txt' }));
    assert.equal(await got.Body!.transformToString(), 'numbers');
    assert.equal((await fail(s3As(creds).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'private/x.txt' })))).name, 'AccessDenied');
    // Without a session tag, the role's own tag is the principal tag.
    await iamAs(rootA).send(new TagRoleCommand({ RoleName: 'team-reader', Tags: [{ Key: 'team', Value: 'private' }] }));
    const plain = await stsAs(rootA).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'plain' }));
    const pc = { accessKeyId: plain.Credentials!.AccessKeyId!, secretAccessKey: plain.Credentials!.SecretAccessKey!, sessionToken: plain.Credentials!.SessionToken! };
    assert.equal(await (await s3As(pc).send(new GetObjectCommand({ Bucket: 'a-data', Key: 'private/x.txt' }))).Body!.transformToString(), 'secret');
  });

  it("aws:RequestTag and aws:TagKeys decide tagging requests; a user's tags are aws:PrincipalTag", async () => {
    const gina = await userWithKey(
      iamAs(rootA),
      'gina',
      doc([
        { Effect: 'Allow', Action: ['iam:CreateUser', 'iam:TagUser'], Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/team': '${aws:PrincipalTag/team}' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } } },
      ]),
      [{ Key: 'team', Value: 'blue' }],
    );
    const g = iamAs(gina);
    assert.equal((await fail(g.send(new CreateUserCommand({ UserName: 'u1' })))).name, 'AccessDenied');
    assert.equal((await fail(g.send(new CreateUserCommand({ UserName: 'u2', Tags: [{ Key: 'team', Value: 'red' }] })))).name, 'AccessDenied');
    assert.equal((await fail(g.send(new CreateUserCommand({ UserName: 'u3', Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'cost', Value: '1' }] })))).name, 'AccessDenied');
    const ok = await g.send(new CreateUserCommand({ UserName: 'u4', Tags: [{ Key: 'team', Value: 'blue' }] }));
    assert.equal(ok.User!.UserName, 'u4');
  });
});

describe('account-level Block Public Access (S3 Control)', () => {
  const publicRead = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::open-site/*' }]);

  before(async () => {
    const s3 = s3As(rootA);
    await s3.send(new CreateBucketCommand({ Bucket: 'open-site' }));
    await s3.send(new PutObjectCommand({ Bucket: 'open-site', Key: 'index.html', Body: 'hi' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'open-site' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'open-site', Policy: publicRead }));
  });

  it('a public bucket is readable anonymously until the account restricts public buckets', async () => {
    assert.equal((await fetch(`${server.url}/open-site/index.html`)).status, 200);
    const control = controlAs(rootA);
    assert.equal((await fail(control.send(new GetPublicAccessBlockCommand({ AccountId: A })))).name, 'NoSuchPublicAccessBlockConfiguration');
    await control.send(new PutPublicAccessBlockCommand({ AccountId: A, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true, BlockPublicPolicy: true } }));
    const got = await control.send(new GetPublicAccessBlockCommand({ AccountId: A }));
    assert.deepEqual(got.PublicAccessBlockConfiguration, { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const anon = await fetch(`${server.url}/open-site/index.html`);
    assert.equal(anon.status, 403);
    assert.match(await anon.text(), /<Code>AccessDenied<\/Code>/);
    // BlockPublicPolicy at the account refuses a new public policy on any bucket of it.
    const e = await fail(s3As(rootA).send(new PutBucketPolicyCommand({ Bucket: 'open-site', Policy: publicRead })));
    assert.equal(e.name, 'AccessDenied');
    assert.match(e.message, /BlockPublicPolicy/);
  });

  it("is per account: B cannot read or change A's, and deleting it reopens the bucket", async () => {
    assert.equal((await fail(controlAs(rootB).send(new GetPublicAccessBlockCommand({ AccountId: A })))).name, 'AccessDenied');
    await controlAs(rootA).send(new DeleteAccountPabCommand({ AccountId: A }));
    assert.equal((await fetch(`${server.url}/open-site/index.html`)).status, 200);
  });
});

describe('denial log', () => {
  it('at debug level, a denial logs the policies considered and the statements that matched', async () => {
    const dbg = await startServer({ args: ['--log-level', 'debug'] });
    try {
      const admin = track(new IAMClient({ endpoint: dbg.url, region: REGION, credentials: rootA }));
      await admin.send(new CreateUserCommand({ UserName: 'logged' }));
      await admin.send(new PutUserPolicyCommand({ UserName: 'logged', PolicyName: 'no-delete', PolicyDocument: doc([{ Sid: 'NoDelete', Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' }]) }));
      const k = (await admin.send(new CreateAccessKeyCommand({ UserName: 'logged' }))).AccessKey!;
      const s3 = track(new S3Client({ endpoint: dbg.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, forcePathStyle: true }));
      const e = await fail(s3.send(new DeleteBucketCommand({ Bucket: 'whatever' })));
      assert.equal(e.name, 'AccessDenied');
      assert.match(e.message, /with an explicit deny in an identity-based policy/);
      const line = dbg.output().split('\n').find((l) => l.includes('explicitDeny s3:DeleteBucket'));
      assert.ok(line, dbg.output().slice(-2000));
      assert.match(line!, /considered \[identity:user\/logged\/no-delete\]/);
      assert.match(line!, /"sid":"NoDelete"/);
    } finally {
      await dbg.dispose();
    }
  });
});

describe('NIMBUS_IAM modes', () => {
  async function denyAllUser(url: string): Promise<S3Client> {
    const admin = track(new IAMClient({ endpoint: url, region: REGION, credentials: rootA }));
    await admin.send(new CreateUserCommand({ UserName: 'nobody' }));
    const k = (await admin.send(new CreateAccessKeyCommand({ UserName: 'nobody' }))).AccessKey!;
    return track(new S3Client({ endpoint: url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, forcePathStyle: true }));
  }

  it('log: what would be denied is allowed and logged as a warning', async () => {
    const srv = await startServer({ env: { NIMBUS_IAM: 'log' } });
    try {
      const s3 = await denyAllUser(srv.url);
      await s3.send(new CreateBucketCommand({ Bucket: 'logged-only' }));
      assert.match(srv.output(), /NIMBUS_IAM=log: would deny request .*User: arn:aws:iam::000000000000:user\/nobody is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::logged-only/);
    } finally {
      await srv.dispose();
    }
  });

  it('off: no evaluation at all; a wrong signature is still refused', async () => {
    const srv = await startServer({ env: { NIMBUS_IAM: 'off' } });
    try {
      const s3 = await denyAllUser(srv.url);
      await s3.send(new CreateBucketCommand({ Bucket: 'unchecked' }));
      assert.doesNotMatch(srv.output(), /would deny/);
      const forged = track(new S3Client({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' }, forcePathStyle: true }));
      assert.equal((await fail(forged.send(new ListBucketsCommand({})))).name, 'SignatureDoesNotMatch');
    } finally {
      await srv.dispose();
    }
  });
});
