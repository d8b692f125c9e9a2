import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, CreateRoleCommand, PutRolePolicyCommand, CreateVirtualMFADeviceCommand, EnableMFADeviceCommand, GetUserCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetSessionTokenCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { timeStep, totpCode } from '../../../src/util/totp.js';

/**
 * MFA through STS: GetSessionToken and AssumeRole with SerialNumber + TokenCode (codes
 * computed here from the device's seed, RFC 6238), and the aws:MultiFactorAuthPresent /
 * aws:MultiFactorAuthAge keys the resulting sessions carry into policy conditions.
 */
let server: TestServer;
let iam: IAMClient;
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const ACCOUNT = '000000000000';
const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const fail = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'ok', message: '' }),
    (e: Error) => ({ name: e.name, message: e.message }),
  );
const clients: Array<{ destroy(): void }> = [];
const track = <T extends { destroy(): void }>(c: T): T => (clients.push(c), c);
const s3As = (c: Creds) => track(new S3Client({ endpoint: server.url, region: REGION, credentials: c, forcePathStyle: true }));
const stsAs = (c: Creds) => track(new STSClient({ endpoint: server.url, region: REGION, credentials: c }));
const iamAs = (c: Creds) => track(new IAMClient({ endpoint: server.url, region: REGION, credentials: c }));
const temp = (c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined): Creds => ({
  accessKeyId: c!.AccessKeyId!,
  secretAccessKey: c!.SecretAccessKey!,
  sessionToken: c!.SessionToken!,
});

/** A user with an enabled virtual MFA device; returns its key, serial and a code not yet used. */
async function userWithMfa(name: string, policy: string): Promise<{ creds: Creds; serial: string; nextCode: () => string }> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  const dev = (await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${name}-phone` }))).VirtualMFADevice!;
  const seed = Buffer.from(dev.Base32StringSeed!).toString('utf8');
  // Enable with the codes of the previous and the current step (robust to a step boundary
  // between here and the server); the next step's code is then unused and within reach.
  const n = timeStep(Date.now());
  await iam.send(new EnableMFADeviceCommand({ UserName: name, SerialNumber: dev.SerialNumber!, AuthenticationCode1: totpCode(seed, n - 1), AuthenticationCode2: totpCode(seed, n) }));
  return { creds: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }, serial: dev.SerialNumber!, nextCode: () => totpCode(seed, n + 1) };
}

before(async () => {
  server = await startServer();
  iam = track(new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS }));
});
after(async () => {
  for (const c of clients) c.destroy();
  await server?.dispose();
});

describe('GetSessionToken with MFA', () => {
  it('makes a session whose requests carry aws:MultiFactorAuthPresent true and a small aws:MultiFactorAuthAge', async () => {
    const mia = await userWithMfa(
      'mia',
      doc([
        { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '300' } } },
        { Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' },
      ]),
    );
    // Long-term keys carry no MFA context: the MFA-only statement does not apply.
    assert.equal((await fail(s3As(mia.creds).send(new ListBucketsCommand({})))).name, 'AccessDenied');
    // A session without MFA has aws:MultiFactorAuthPresent false.
    const plain = await stsAs(mia.creds).send(new GetSessionTokenCommand({}));
    assert.equal((await fail(s3As(temp(plain.Credentials)).send(new ListBucketsCommand({})))).name, 'AccessDenied');

    const s = await stsAs(mia.creds).send(new GetSessionTokenCommand({ SerialNumber: mia.serial, TokenCode: mia.nextCode(), DurationSeconds: 3600 }));
    const creds = temp(s.Credentials);
    assert.ok(Array.isArray((await s3As(creds).send(new ListBucketsCommand({}))).Buckets));
    // With MFA the session may call IAM (without, GetSessionToken credentials cannot).
    assert.equal((await iamAs(creds).send(new GetUserCommand({}))).User!.UserName, 'mia');
    assert.equal((await fail(iamAs(temp(plain.Credentials)).send(new GetUserCommand({})))).name, 'AccessDenied');
  });

  it('refuses a used code, a wrong code, another user\'s device, and a serial without a code', async () => {
    const ned = await userWithMfa('ned', doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }]));
    const code = ned.nextCode();
    await stsAs(ned.creds).send(new GetSessionTokenCommand({ SerialNumber: ned.serial, TokenCode: code }));
    const reused = await fail(stsAs(ned.creds).send(new GetSessionTokenCommand({ SerialNumber: ned.serial, TokenCode: code })));
    assert.equal(reused.name, 'AccessDenied');
    assert.match(reused.message, /MultiFactorAuthentication failed with invalid MFA one time pass code/);
    const wrong = code === '000000' ? '111111' : '000000';
    assert.equal((await fail(stsAs(ned.creds).send(new GetSessionTokenCommand({ SerialNumber: ned.serial, TokenCode: wrong })))).name, 'AccessDenied');
    const other = await userWithMfa('olga', doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }]));
    assert.equal((await fail(stsAs(ned.creds).send(new GetSessionTokenCommand({ SerialNumber: other.serial, TokenCode: other.nextCode() })))).name, 'AccessDenied');
    const half = await fail(stsAs(ned.creds).send(new GetSessionTokenCommand({ SerialNumber: ned.serial })));
    assert.equal(half.name, 'AccessDenied');
    assert.match(half.message, /must provide both MFA serial number and one time pass code/);
  });
});

describe('AssumeRole with MFA', () => {
  it('a trust policy requiring MFA admits only a caller presenting a valid code, and the session keeps the MFA context', async () => {
    const max = await userWithMfa('max', doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${ACCOUNT}:role/break-glass` }]));
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'break-glass',
        AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }]),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'break-glass',
        PolicyName: 'mfa-list',
        PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }]),
      }),
    );
    const RoleArn = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
    const without = await fail(stsAs(max.creds).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'no-mfa' })));
    assert.equal(without.name, 'AccessDenied');
    assert.match(without.message, /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/break-glass/);
    const code = max.nextCode();
    const bad = await fail(stsAs(max.creds).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'bad', SerialNumber: max.serial, TokenCode: code === '123456' ? '654321' : '123456' })));
    assert.equal(bad.name, 'AccessDenied');
    assert.match(bad.message, /invalid MFA one time pass code/);
    const ok = await stsAs(max.creds).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'with-mfa', SerialNumber: max.serial, TokenCode: code }));
    assert.equal(ok.AssumedRoleUser!.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/break-glass/with-mfa`);
    assert.ok(Array.isArray((await s3As(temp(ok.Credentials)).send(new ListBucketsCommand({}))).Buckets));
  });

  it('a session made with MFA (GetSessionToken) can assume an MFA-only role without a new code', async () => {
    const pia = await userWithMfa('pia', doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${ACCOUNT}:role/break-glass` }]));
    const s = await stsAs(pia.creds).send(new GetSessionTokenCommand({ SerialNumber: pia.serial, TokenCode: pia.nextCode() }));
    const r = await stsAs(temp(s.Credentials)).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/break-glass`, RoleSessionName: 'carried' }));
    assert.ok(Array.isArray((await s3As(temp(r.Credentials)).send(new ListBucketsCommand({}))).Buckets));
  });
});

describe('expiry of temporary credentials', () => {
  it('a 15-minute session is refused with ExpiredToken once its time has passed (S3 400, STS 403)', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'quinn' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'quinn', PolicyName: 'p', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }]) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'quinn' }))).AccessKey!;
    const t = await stsAs({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const creds = temp(t.Credentials);
    assert.ok(Array.isArray((await s3As(creds).send(new ListBucketsCommand({}))).Buckets));
    // Restart with the server's clock 16 minutes ahead (the SDK corrects its signing skew
    // from the Date header, so only the expiry is left to fail).
    await server.stop();
    server = await startServer({ dataDir: server.dataDir, env: { NIMBUS_CLOCK_OFFSET_MS: String(16 * 60_000) } });
    const s3e = await s3As(creds).send(new ListBucketsCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    assert.equal(s3e?.name, 'ExpiredToken');
    assert.equal(s3e?.$metadata?.httpStatusCode, 400);
    const stse = await stsAs(creds).send(new GetCallerIdentityCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    assert.equal(stse?.name, 'ExpiredToken');
    assert.equal(stse?.$metadata?.httpStatusCode, 403);
    // The user's long-term key still works.
    const again = new S3Client({ endpoint: server.url, region: REGION, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }, forcePathStyle: true });
    clients.push(again);
    assert.ok(Array.isArray((await again.send(new ListBucketsCommand({}))).Buckets));
  });
});
