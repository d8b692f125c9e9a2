import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  GetBucketPolicyCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetPublicAccessBlockCommand,
  DeletePublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';

/** Bucket policies: grants to other principals and to everyone, and Block Public Access. */
let server: TestServer;
let s3: S3Client;
const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const errName = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error) => e.name);

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'site' }));
  await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'index.html', Body: '<h1>hello</h1>', ContentType: 'text/html' }));
  await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'secret/key.txt', Body: 'no' }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

const publicRead = doc([{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*' }]);

describe('bucket policies', () => {
  it('new buckets block public access, so a public policy is refused and anonymous reads denied', async () => {
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'site' }));
    assert.deepEqual(pab.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const e = await s3.send(new PutBucketPolicyCommand({ Bucket: 'site', Policy: publicRead })).catch((x: Error) => x);
    assert.equal((e as Error).name, 'AccessDenied');
    assert.match((e as Error).message, /BlockPublicPolicy/);
    const anon = await fetch(`${server.url}/site/index.html`);
    assert.equal(anon.status, 403);
    assert.match(await anon.text(), /<Code>AccessDenied<\/Code>/);
  });

  it('with Block Public Access off, a public policy lets anyone read what it names, and only that', async () => {
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'site' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'site', Policy: publicRead }));
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'site' }))).Policy, publicRead);
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'site' }))).PolicyStatus?.IsPublic, true);
    const anon = await fetch(`${server.url}/site/index.html`);
    assert.equal(anon.status, 200);
    assert.equal(await anon.text(), '<h1>hello</h1>');
    assert.equal(anon.headers.get('content-type'), 'text/html');
    // Writes and listing are not granted.
    assert.equal((await fetch(`${server.url}/site/new.txt`, { method: 'PUT', body: 'x' })).status, 403);
    assert.equal((await fetch(`${server.url}/site`)).status, 403);
  });

  it('RestrictPublicBuckets makes a public policy grant nothing to anonymous callers', async () => {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'site', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    assert.equal((await fetch(`${server.url}/site/index.html`)).status, 403);
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'site' }))).PolicyStatus?.IsPublic, false);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'site' }));
    assert.equal((await fetch(`${server.url}/site/index.html`)).status, 200);
  });

  it('a bucket policy can grant a user what its identity policies do not, and deny what they allow', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await iam.send(new CreateUserCommand({ UserName: 'guest' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'guest' }))).AccessKey!;
    const guest = new S3Client({ endpoint: server.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, forcePathStyle: true });
    // While the public-read policy stands, it grants guest reads too (Principal "*").
    assert.equal(await errName(guest.send(new GetObjectCommand({ Bucket: 'site', Key: 'secret/key.txt' }))), 'ok');
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'site' }));
    assert.equal(await errName(guest.send(new GetObjectCommand({ Bucket: 'site', Key: 'secret/key.txt' }))), 'AccessDenied');
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'site',
        Policy: doc([
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/guest' }, Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::site/*' },
          { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/secret/*' },
        ]),
      }),
    );
    assert.equal(await (await guest.send(new GetObjectCommand({ Bucket: 'site', Key: 'secret/key.txt' }))).Body!.transformToString(), 'no');
    await guest.send(new PutObjectCommand({ Bucket: 'site', Key: 'uploads/a.txt', Body: 'a' }));
    assert.equal(await errName(guest.send(new PutObjectCommand({ Bucket: 'site', Key: 'secret/b.txt', Body: 'b' }))), 'AccessDenied');
    // An explicit deny in a bucket policy binds even the root, who may still remove the policy.
    assert.equal(await errName(s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'secret/c.txt', Body: 'c' }))), 'AccessDenied');
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'site' }));
    await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'secret/c.txt', Body: 'c' }));
    assert.equal(await errName(s3.send(new GetBucketPolicyCommand({ Bucket: 'site' }))), 'NoSuchBucketPolicy');
    assert.equal(await errName(guest.send(new GetObjectCommand({ Bucket: 'site', Key: 'secret/key.txt' }))), 'AccessDenied');
    guest.destroy();
    iam.destroy();
  });

  it('refuses malformed policies with MalformedPolicy', async () => {
    assert.equal(await errName(s3.send(new PutBucketPolicyCommand({ Bucket: 'site', Policy: 'not json' }))), 'MalformedPolicy');
    assert.equal(await errName(s3.send(new PutBucketPolicyCommand({ Bucket: 'site', Policy: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*' }]) }))), 'MalformedPolicy');
  });
});
