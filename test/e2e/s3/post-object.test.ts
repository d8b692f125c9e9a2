import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  S3Client,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  PutBucketVersioningCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { requireBoto3, runPython } from '../../helpers/python.js';
import { hostRequest } from '../../helpers/http.js';
import { hmac, signingKey } from '../../../src/protocol/sigv4/canonical.js';

/**
 * POST Object as a browser sends it: plain fetch() with a FormData body, the file last.
 * Policies come from boto3's generate_presigned_post (SigV2 by default, SigV4 with
 * signature_version='s3v4') and from a SigV4 POST policy signed here with AWS's documented
 * algorithm (sigv4-authentication-HTTPPOST.html: the signature is the HMAC of the base64
 * policy under the credential's signing key). @aws-sdk/s3-presigned-post is not installed.
 */
let server: TestServer;
let s3: S3Client;
const BUCKET = 'uploads';
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: Error) => e);
const code = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const message = (body: string) => /<Message>([^<]*)<\/Message>/.exec(body)?.[1]?.replace(/&quot;/g, '"').replace(/&apos;/g, "'");
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

type Fields = Record<string, string>;

/** A browser's form: the fields in order, then the file. */
function form(fields: Fields, file: Blob | string, filename = 'photo.png'): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', typeof file === 'string' ? new Blob([file], { type: 'image/png' }) : file, filename);
  return fd;
}

async function post(fields: Fields, file: Blob | string = 'hello, world', opts: { bucket?: string; filename?: string; headers?: Record<string, string> } = {}) {
  const r = await fetch(`${server.url}/${opts.bucket ?? BUCKET}`, { method: 'POST', body: form(fields, file, opts.filename), headers: opts.headers, redirect: 'manual' });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * A SigV4 POST policy signed as the AWS docs describe: base64 of the policy JSON is the
 * string to sign; the key is the SigV4 signing key of the x-amz-credential's scope.
 * x-amz-credential, x-amz-algorithm and x-amz-date are conditions, as the policy must have them.
 */
function signedFields(conditions: unknown[], opts: { expiresInMs?: number; secret?: string; accessKey?: string; extra?: Fields; date?: Date } = {}): Fields {
  const date = opts.date ?? new Date();
  const d = amzDate(date);
  const credential = `${opts.accessKey ?? 'test'}/${d.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const doc = {
    expiration: new Date(date.getTime() + (opts.expiresInMs ?? 300_000)).toISOString(),
    conditions: [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': d }],
  };
  const policy = Buffer.from(JSON.stringify(doc)).toString('base64');
  const signature = hmac(signingKey(opts.secret ?? 'test', d.slice(0, 8), REGION, 's3'), policy).toString('hex');
  return { ...opts.extra, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': d, policy, 'x-amz-signature': signature };
}

/** boto3's generate_presigned_post, with default settings or SigV4. */
function boto3Post(args: { key: string; fields?: Fields; conditions?: unknown[]; expires?: number; v4?: boolean; bucket?: string }): { url: string; fields: Fields } {
  const script = `
import json, boto3
from botocore.config import Config
import os
a = json.loads(${JSON.stringify(JSON.stringify(args))})
cfg = Config(signature_version='s3v4') if a.get('v4') else None
s3 = boto3.client('s3', endpoint_url=os.environ['NIMBUS_URL'], config=cfg)
p = s3.generate_presigned_post(a.get('bucket', '${BUCKET}'), a['key'], Fields=a.get('fields'), Conditions=a.get('conditions'), ExpiresIn=a.get('expires', 300))
print(json.dumps(p))
`;
  return JSON.parse(runPython(server.url, script));
}

before(async () => {
  requireBoto3();
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  for (const b of [BUCKET, 'other', 'dropbox', 'big']) await s3.send(new CreateBucketCommand({ Bucket: b }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('POST Object with boto3 generate_presigned_post', () => {
  it('default settings (SigV2 policy): ${filename}, success_action_status 201 and the PostResponse document', async () => {
    const p = boto3Post({
      key: 'inbox/${filename}',
      fields: { success_action_status: '201', 'Content-Type': 'image/png', 'x-amz-meta-owner': 'alice' },
      conditions: [{ success_action_status: '201' }, ['starts-with', '$Content-Type', 'image/'], { 'x-amz-meta-owner': 'alice' }, ['content-length-range', 1, 1024]],
    });
    assert.equal(p.url, `${server.url}/${BUCKET}`);
    assert.ok(p.fields.AWSAccessKeyId && p.fields.signature && p.fields.policy, JSON.stringify(p.fields));
    const r = await post(p.fields, 'PNG bytes', { filename: 'cat.png' });
    assert.equal(r.status, 201, r.body);
    const etag = `"${md5('PNG bytes')}"`;
    assert.equal(r.headers.get('etag'), etag);
    assert.equal(r.headers.get('content-type'), 'application/xml');
    assert.equal(
      r.body,
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<PostResponse><Location>${server.url}/${BUCKET}/inbox%2Fcat.png</Location><Bucket>${BUCKET}</Bucket><Key>inbox/cat.png</Key><ETag>${etag}</ETag></PostResponse>`,
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/cat.png' }));
    assert.equal(await got.Body!.transformToString(), 'PNG bytes');
    assert.equal(got.ContentType, 'image/png');
    assert.deepEqual(got.Metadata, { owner: 'alice' });
  });

  it("signature_version='s3v4': the default answer is 204 with ETag and Location headers", async () => {
    const p = boto3Post({ key: 'v4/report.txt', v4: true });
    assert.equal(p.fields['x-amz-algorithm'], 'AWS4-HMAC-SHA256');
    assert.match(p.fields['x-amz-credential']!, /^test\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    const r = await post(p.fields, 'v4 body');
    assert.equal(r.status, 204, r.body);
    assert.equal(r.body, '');
    assert.equal(r.headers.get('etag'), `"${md5('v4 body')}"`);
    assert.equal(r.headers.get('location'), `${server.url}/${BUCKET}/v4%2Freport.txt`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'v4/report.txt' }));
    assert.equal(head.ContentLength, 7);
    // No Content-Type field: S3 does not take the file part's type.
    assert.equal(head.ContentType, 'binary/octet-stream');
  });

  it('in a versioning-enabled bucket each upload is a new version, named in x-amz-version-id', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned-uploads' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned-uploads', VersioningConfiguration: { Status: 'Enabled' } }));
    const ids: string[] = [];
    for (const body of ['first', 'second']) {
      const p = boto3Post({ key: 'doc.txt', v4: true, bucket: 'versioned-uploads' });
      const r = await post(p.fields, body, { bucket: 'versioned-uploads' });
      assert.equal(r.status, 204, r.body);
      ids.push(r.headers.get('x-amz-version-id') ?? '');
    }
    assert.match(ids[0]!, /^[A-Za-z0-9._-]{32}$/);
    assert.notEqual(ids[0], ids[1]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned-uploads' }));
    assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[ids[1], true], [ids[0], false]]);
    const old = await s3.send(new GetObjectCommand({ Bucket: 'versioned-uploads', Key: 'doc.txt', VersionId: ids[0] }));
    assert.equal(await old.Body!.transformToString(), 'first');
  });

  it('a key outside the starts-with condition boto3 writes for ${filename} is refused', async () => {
    const p = boto3Post({ key: 'inbox/${filename}' });
    const r = await post({ ...p.fields, key: 'elsewhere/${filename}' });
    assert.equal(r.status, 403, r.body);
    assert.equal(code(r.body), 'AccessDenied');
    assert.equal(message(r.body), 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "inbox/"]');
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'elsewhere/photo.png' }))))?.name, 'NotFound');
  });

  it('an expired boto3 policy is refused with "Policy expired."', async () => {
    const p = boto3Post({ key: 'late.txt', expires: 1, v4: true });
    await new Promise((r) => setTimeout(r, 2100));
    const r = await post(p.fields);
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'AccessDenied');
    assert.equal(message(r.body), 'Invalid according to Policy: Policy expired.');
  });
});

describe('POST policy conditions (SigV4, signed here)', () => {
  it('exact matches, eq and starts-with on key, Content-Type, acl, x-amz-meta-*, success_action_status', async () => {
    const conditions = [
      { bucket: BUCKET },
      ['starts-with', '$key', 'user/42/'],
      ['eq', '$Content-Type', 'image/png'],
      // The bucket has ACLs disabled (BucketOwnerEnforced): only this ACL is accepted.
      { acl: 'bucket-owner-full-control' },
      { 'x-amz-meta-uuid': '14365123651274' },
      ['starts-with', '$x-amz-meta-tag', ''],
      { success_action_status: '200' },
      ['content-length-range', 1, 100],
    ];
    const ok: Fields = { key: 'user/42/${filename}', 'Content-Type': 'image/png', acl: 'bucket-owner-full-control', 'x-amz-meta-uuid': '14365123651274', 'x-amz-meta-tag': 'anything', success_action_status: '200' };
    const pass = await post(signedFields(conditions, { extra: ok }), 'ok', { filename: 'a.png' });
    assert.equal(pass.status, 200, pass.body);
    assert.equal(pass.body, '');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'user/42/a.png' }));
    assert.equal(head.ContentType, 'image/png');
    assert.deepEqual(head.Metadata, { uuid: '14365123651274', tag: 'anything' });

    const failures: Array<[Fields, string]> = [
      [{ ...ok, key: 'user/43/x.png' }, '["starts-with", "$key", "user/42/"]'],
      [{ ...ok, 'Content-Type': 'image/gif' }, '["eq", "$Content-Type", "image/png"]'],
      [{ ...ok, acl: 'private' }, '["eq", "$acl", "bucket-owner-full-control"]'],
      [{ ...ok, 'x-amz-meta-uuid': 'other' }, '["eq", "$x-amz-meta-uuid", "14365123651274"]'],
      [{ ...ok, success_action_status: '201' }, '["eq", "$success_action_status", "200"]'],
    ];
    for (const [fields, failed] of failures) {
      const r = await post(signedFields(conditions, { extra: fields }), 'no');
      assert.equal(r.status, 403, `${failed}: ${r.body}`);
      assert.equal(code(r.body), 'AccessDenied');
      assert.equal(message(r.body), `Invalid according to Policy: Policy Condition failed: ${failed}`);
    }
    // The bucket condition is about the bucket posted to.
    const wrongBucket = await post(signedFields(conditions, { extra: ok }), 'no', { bucket: 'other' });
    assert.equal(wrongBucket.status, 403);
    assert.equal(message(wrongBucket.body), `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "${BUCKET}"]`);
  });

  it('content-length-range: too large is EntityTooLarge, too small EntityTooSmall, and nothing is stored', async () => {
    const conditions = [{ bucket: BUCKET }, { key: 'sized.bin' }, ['content-length-range', 5, 10]];
    const fields = signedFields(conditions, { extra: { key: 'sized.bin' } });
    const big = await post(fields, 'x'.repeat(11));
    assert.equal(big.status, 400);
    assert.equal(code(big.body), 'EntityTooLarge');
    assert.match(big.body, /<ProposedSize>11<\/ProposedSize><MaxSizeAllowed>10<\/MaxSizeAllowed>/);
    const small = await post(fields, 'x'.repeat(4));
    assert.equal(small.status, 400);
    assert.equal(code(small.body), 'EntityTooSmall');
    assert.match(small.body, /<ProposedSize>4<\/ProposedSize><MinSizeAllowed>5<\/MinSizeAllowed>/);
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sized.bin' }))))?.name, 'NotFound');
    const right = await post(fields, 'x'.repeat(10));
    assert.equal(right.status, 204, right.body);
  });

  it('every field must be named by a condition (x-ignore-* and the signature fields excepted)', async () => {
    const conditions = [{ bucket: BUCKET }, { key: 'extra.txt' }];
    const r = await post(signedFields(conditions, { extra: { key: 'extra.txt', 'x-amz-meta-note': 'unlisted' } }));
    assert.equal(r.status, 403);
    assert.equal(message(r.body), 'Invalid according to Policy: Extra input fields: x-amz-meta-note');
    const ignored = await post(signedFields(conditions, { extra: { key: 'extra.txt', 'x-ignore-submit': 'Upload' } }));
    assert.equal(ignored.status, 204, ignored.body);
  });

  it('success_action_redirect answers 303 to the URL with bucket, key and etag', async () => {
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', 'r/'], ['starts-with', '$success_action_redirect', 'http://app.example.com/']];
    const r = await post(signedFields(conditions, { extra: { key: 'r/done.txt', success_action_redirect: 'http://app.example.com/uploaded?from=form' } }), 'redirected');
    assert.equal(r.status, 303, r.body);
    const to = new URL(r.headers.get('location')!);
    assert.equal(`${to.origin}${to.pathname}`, 'http://app.example.com/uploaded');
    assert.equal(to.searchParams.get('from'), 'form');
    assert.equal(to.searchParams.get('bucket'), BUCKET);
    assert.equal(to.searchParams.get('key'), 'r/done.txt');
    assert.equal(to.searchParams.get('etag'), `"${md5('redirected')}"`);
    assert.match(r.headers.get('location')!, /etag=%22[0-9a-f]{32}%22/);
  });

  it('a tampered policy or a wrong secret is SignatureDoesNotMatch; an unknown key InvalidAccessKeyId', async () => {
    const fields = signedFields([{ bucket: BUCKET }, ['starts-with', '$key', 'safe/']], { extra: { key: 'safe/a.txt' } });
    const doc = JSON.parse(Buffer.from(fields.policy!, 'base64').toString());
    doc.conditions[1] = ['starts-with', '$key', ''];
    const tampered = Buffer.from(JSON.stringify(doc)).toString('base64');
    const r = await post({ ...fields, key: 'anywhere.txt', policy: tampered });
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'SignatureDoesNotMatch');
    assert.match(r.body, new RegExp(`<StringToSign>${tampered.replace(/[+]/g, '\\+')}</StringToSign>`));
    assert.match(r.body, new RegExp(`<SignatureProvided>${fields['x-amz-signature']}</SignatureProvided>`));
    const flipped = fields['x-amz-signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    assert.equal(code((await post({ ...fields, 'x-amz-signature': flipped })).body), 'SignatureDoesNotMatch');
    assert.equal(code((await post(signedFields([{ bucket: BUCKET }, { key: 'k' }], { secret: 'wrong', extra: { key: 'k' } }))).body), 'SignatureDoesNotMatch');
    const unknown = await post(signedFields([{ bucket: BUCKET }, { key: 'k' }], { accessKey: 'AKIDUNKNOWN', extra: { key: 'k' } }));
    assert.equal(unknown.status, 403);
    assert.equal(code(unknown.body), 'InvalidAccessKeyId');
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'anywhere.txt' }))))?.name, 'NotFound');
  });

  it('an expired policy, a malformed one, and the policy fields themselves', async () => {
    const expired = await post(signedFields([{ bucket: BUCKET }, { key: 'e.txt' }], { expiresInMs: -1000, extra: { key: 'e.txt' } }));
    assert.equal(expired.status, 403);
    assert.equal(message(expired.body), 'Invalid according to Policy: Policy expired.');
    // A policy that leaves out x-amz-date (which the form sends) is refused.
    const fields = signedFields([{ bucket: BUCKET }, { key: 'd.txt' }], { extra: { key: 'd.txt' } });
    const doc = JSON.parse(Buffer.from(fields.policy!, 'base64').toString());
    doc.conditions = doc.conditions.filter((c: Record<string, string>) => !('x-amz-date' in c));
    const policy = Buffer.from(JSON.stringify(doc)).toString('base64');
    const signature = hmac(signingKey('test', fields['x-amz-date']!.slice(0, 8), REGION, 's3'), policy).toString('hex');
    const noDate = await post({ ...fields, policy, 'x-amz-signature': signature });
    assert.equal(noDate.status, 403);
    assert.equal(message(noDate.body), 'Invalid according to Policy: Extra input fields: x-amz-date');
    // A condition with two properties is an invalid policy document.
    const twoProps = await post(signedFields([{ bucket: BUCKET, key: 'x' }], { extra: { key: 'x' } }));
    assert.equal(twoProps.status, 400);
    assert.equal(code(twoProps.body), 'InvalidPolicyDocument');
    assert.equal(message(twoProps.body), 'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    // A signature without all of its fields.
    const { 'x-amz-date': _, ...partial } = signedFields([{ bucket: BUCKET }, { key: 'p.txt' }], { extra: { key: 'p.txt' } });
    const missing = await post(partial);
    assert.equal(missing.status, 400);
    assert.equal(code(missing.body), 'InvalidArgument');
    assert.equal(message(missing.body), "Bucket POST must contain a field named 'X-Amz-Date'.  If it is specified, please check the order of the fields.");
  });

  it('field names are case-insensitive', async () => {
    const f = signedFields([{ bucket: BUCKET }, { key: 'Case.txt' }], { extra: { Key: 'Case.txt' } });
    const upper: Fields = {};
    for (const [k, v] of Object.entries(f)) upper[k === 'policy' ? 'Policy' : k.replace(/^x-amz-/, 'X-Amz-')] = v;
    const r = await post(upper);
    assert.equal(r.status, 204, r.body);
  });
});

describe('the form itself', () => {
  it('needs a key before the file (fields after the file are ignored)', async () => {
    const fd = new FormData();
    fd.append('file', new Blob(['x']), 'x.txt');
    fd.append('key', 'after-file.txt');
    const r = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: fd });
    const body = await r.text();
    assert.equal(r.status, 400);
    assert.equal(code(body), 'InvalidArgument');
    assert.equal(message(body), "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
    assert.match(body, /<ArgumentName>key<\/ArgumentName><ArgumentValue><\/ArgumentValue>/);
  });

  it('needs a file, multipart/form-data, and a well-formed body', async () => {
    const noFile = new FormData();
    noFile.append('key', 'k');
    const r1 = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: noFile });
    assert.equal(r1.status, 400);
    assert.equal(code(await r1.text()), 'IncorrectNumberOfFilesInPostRequest');
    const r2 = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: new URLSearchParams({ key: 'k' }) });
    const b2 = await r2.text();
    assert.equal(r2.status, 412);
    assert.equal(code(b2), 'PreconditionFailed');
    assert.match(b2, /<Condition>Bucket POST must be of the enclosure-type multipart\/form-data<\/Condition>/);
    // A body cut off among the fields, or inside the file: MalformedPOSTRequest, and nothing is stored.
    const cutFields = '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\ncut.txt';
    const r3 = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: cutFields, headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } });
    assert.equal(r3.status, 400);
    assert.equal(code(await r3.text()), 'MalformedPOSTRequest');
    const whole = new Request('http://x/', { method: 'POST', body: form(signedFields([{ bucket: BUCKET }, { key: 'cut.txt' }], { extra: { key: 'cut.txt' } }), 'a file that will not arrive whole') });
    const bytes = Buffer.from(await whole.arrayBuffer());
    const cut = bytes.subarray(0, bytes.indexOf('will not arrive'));
    const r5 = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: cut, headers: { 'content-type': whole.headers.get('content-type')! } });
    assert.equal(r5.status, 400);
    assert.equal(code(await r5.text()), 'MalformedPOSTRequest');
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'cut.txt' }))))?.name, 'NotFound');
    // The same form, whole, is accepted.
    assert.equal((await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: bytes, headers: { 'content-type': whole.headers.get('content-type')! } })).status, 204);
    const big = 'x'.repeat(21 * 1024);
    const r4 = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: form({ key: 'k', 'x-amz-meta-big': big }, 'x') });
    assert.equal(r4.status, 400);
    assert.equal(code(await r4.text()), 'MaxPostPreDataLengthExceededError');
  });

  it('an unsigned form is anonymous: refused by a private bucket, accepted where the bucket policy lets everyone write', async () => {
    const denied = await post({ key: 'anon.txt' }, 'anon', { bucket: 'dropbox' });
    assert.equal(denied.status, 403);
    assert.equal(code(denied.body), 'AccessDenied');
    assert.equal(message(denied.body), 'Access Denied');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'dropbox' }));
    const everyone = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::dropbox/public/*' }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'dropbox', Policy: JSON.stringify(everyone) }));
    const ok = await post({ key: 'public/${filename}' }, 'anon', { bucket: 'dropbox', filename: 'note.txt' });
    assert.equal(ok.status, 204, ok.body);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'dropbox', Key: 'public/note.txt' }));
    assert.equal(await got.Body!.transformToString(), 'anon');
    assert.equal((await post({ key: 'private/x.txt' }, 'anon', { bucket: 'dropbox' })).status, 403);
  });

  it("the signer's s3:PutObject on the key is evaluated as for PUT (an IAM user's policy)", async () => {
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    await iam.send(new CreateUserCommand({ UserName: 'uploader' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'uploader',
        PolicyName: 'own-prefix',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/uploader/*` }] }),
      }),
    );
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'uploader' }))).AccessKey!;
    iam.destroy();
    const signed = (key: string) => signedFields([{ bucket: BUCKET }, ['starts-with', '$key', '']], { accessKey: k.AccessKeyId, secret: k.SecretAccessKey, extra: { key } });
    const ok = await post(signed('uploader/mine.txt'), 'mine');
    assert.equal(ok.status, 204, ok.body);
    const denied = await post(signed('someone-else/theirs.txt'), 'theirs');
    assert.equal(denied.status, 403);
    assert.equal(code(denied.body), 'AccessDenied');
    assert.match(message(denied.body)!, new RegExp(`^User: arn:aws:iam::\\d{12}:user/uploader is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::${BUCKET}/someone-else/theirs.txt`));
  });

  it('works virtual-hosted-style, and a page on another origin gets the CORS headers of the POST rule', async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://app.example.com'], AllowedMethods: ['POST'], ExposeHeaders: ['ETag', 'Location'] }] } }));
    const req = new Request('http://x/', { method: 'POST', body: form(signedFields([{ bucket: BUCKET }, { key: 'vhost.txt' }], { extra: { key: 'vhost.txt' } }), 'virtual') });
    const r = await hostRequest(server.url, `${BUCKET}.s3.localhost:${new URL(server.url).port}`, '/', {
      method: 'POST',
      headers: { 'content-type': req.headers.get('content-type')!, origin: 'http://app.example.com' },
      body: Buffer.from(await req.arrayBuffer()),
    });
    assert.equal(r.status, 204, r.body);
    assert.equal(r.headers.location, `http://${BUCKET}.s3.localhost:${new URL(server.url).port}/vhost.txt`);
    assert.equal(r.headers['access-control-allow-origin'], 'http://app.example.com');
    assert.equal(r.headers['access-control-expose-headers'], 'ETag, Location');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'vhost.txt' }));
    assert.equal(await got.Body!.transformToString(), 'virtual');
  });
});

describe('large uploads stream', () => {
  // The first large transfer into a fresh server raises its RSS by up to ~40 MiB whatever
  // its size (heap and allocator growth, measured: 13 MiB for 16 MiB, 38 for 64, 40 for
  // 128), so the file is large enough that holding it in memory could not pass.
  it('a 128 MiB file is streamed to disk: the server RSS grows by less than half of it', async () => {
    const SIZE = 128 * 1024 * 1024;
    const data = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i += 4096) data.writeUInt32BE(i, i);
    const pid = server.proc.pid!;
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    const idle = rss();
    let peak = idle;
    const timer = setInterval(() => (peak = Math.max(peak, rss())), 20);
    let r;
    try {
      r = await post(signedFields([{ bucket: 'big' }, { key: 'big.bin' }, ['content-length-range', 0, SIZE]], { extra: { key: 'big.bin' } }), new Blob([data]), { bucket: 'big' });
    } finally {
      clearInterval(timer);
    }
    assert.equal(r.status, 204, r.body);
    assert.equal(r.headers.get('etag'), `"${md5(data)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'big', Key: 'big.bin' }));
    assert.equal(head.ContentLength, SIZE);
    assert.ok(peak - idle < 64, `peak RSS ${peak.toFixed(0)} MiB vs idle ${idle.toFixed(0)} MiB while receiving ${SIZE >> 20} MiB`);
  });
});
