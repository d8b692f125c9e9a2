import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  DeleteFunctionCommand,
  PublishVersionCommand,
  ListVersionsByFunctionCommand,
  CreateAliasCommand,
  GetAliasCommand,
  UpdateAliasCommand,
  DeleteAliasCommand,
  ListAliasesCommand,
  InvokeCommand,
  AddPermissionCommand,
  RemovePermissionCommand,
  GetPolicyCommand,
  PutFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListTagsCommand,
  PutFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
  DeleteFunctionEventInvokeConfigCommand,
  ListFunctionEventInvokeConfigsCommand,
  PublishLayerVersionCommand,
  GetLayerVersionCommand,
  GetLayerVersionByArnCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  DeleteLayerVersionCommand,
  AddLayerVersionPermissionCommand,
  GetLayerVersionPolicyCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type CreateFunctionCommandInput,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { buildZip, type ZipFiles } from '../../helpers/lambda.js';
import { requireBoto3 } from '../../helpers/python.js';

/**
 * The Lambda API end to end with @aws-sdk/client-lambda against the real server: functions
 * (zip or S3), versions, aliases and weighted routing, layers (shared across accounts),
 * Invoke (sync, async with retries and destinations, dry run), resource policies across
 * accounts, reserved concurrency, event invoke configs, tags, the SDK inside functions
 * (Node's @aws-sdk and Python's boto3 with no endpoint configured), and state surviving a
 * restart. A second account's root is access key "111111111111".
 */

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const A = '000000000000';
const B = '111111111111';
const rootA: Creds = CREDENTIALS;
const rootB: Creds = { accessKeyId: B, secretAccessKey: CREDENTIALS.secretAccessKey };
const BUCKET = 'lambda-out';
const SERVER_ENV = { NIMBUS_LAMBDA_RETRY_DELAYS_MS: '200,400' };

let server: TestServer;
let generation = 0;
const clients: Array<{ destroy(): void }> = [];
const cache = new Map<string, unknown>();
/** One client per credentials and server start (a restart gets fresh connections). */
function client<T extends { destroy(): void }>(kind: string, c: Creds, make: () => T): T {
  const key = `${generation}:${kind}:${c.accessKeyId}`;
  let x = cache.get(key) as T | undefined;
  if (!x) {
    x = make();
    clients.push(x);
    cache.set(key, x);
  }
  return x;
}
// No retries: a throttle or a conflict must reach the test as it is.
const lambdaAs = (c: Creds = rootA) => client('lambda', c, () => new LambdaClient({ endpoint: server.url, region: REGION, credentials: c, maxAttempts: 1 }));
const iamAs = (c: Creds = rootA) => client('iam', c, () => new IAMClient({ endpoint: server.url, region: REGION, credentials: c }));
const s3As = (c: Creds = rootA) => client('s3', c, () => new S3Client({ endpoint: server.url, region: REGION, credentials: c, forcePathStyle: true }));
const lambda = () => lambdaAs(rootA);

interface Failure {
  name: string;
  message: string;
  status?: number;
  error: any;
}
async function fail(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (e) {
    const err = e as any;
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode, error: err };
  }
  assert.fail('expected the call to fail');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fnArn = (name: string, q?: string, account = A) => `arn:aws:lambda:${REGION}:${account}:function:${name}${q ? `:${q}` : ''}`;
const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const trust = (service: string) => doc([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }]);

async function role(name: string, policy?: unknown[], as: Creds = rootA, service = 'lambda.amazonaws.com'): Promise<string> {
  const r = await iamAs(as).send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust(service) }));
  if (policy) await iamAs(as).send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'inline', PolicyDocument: doc(policy) }));
  return r.Role!.Arn!;
}

async function userWithKey(name: string, policy?: unknown[], as: Creds = rootA): Promise<Creds> {
  await iamAs(as).send(new CreateUserCommand({ UserName: name }));
  if (policy) await iamAs(as).send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(policy) }));
  const k = (await iamAs(as).send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
}

const NODE_CODE = `
const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const s3 = new S3Client({});
const BUCKET = '${BUCKET}';
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
exports.echo = async (event, context) => ({ code: 'v1', event, version: context.functionVersion, invoked: context.invokedFunctionArn,
  greeting: process.env.GREETING ?? null, memory: context.memoryLimitInMB, handler: process.env._HANDLER, remaining: context.getRemainingTimeInMillis() });
exports.boom = async () => { throw new RangeError('out of range'); };
exports.logs = async () => { console.log('hello from the function'); return 'logged'; };
exports.sleep = async (event) => { await wait(event.ms ?? 1000); return 'slept'; };
exports.layers = async () => require('greet');
exports.write = async (event, context) => {
  await wait(event.delayMs ?? 0);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: event.key, Body: JSON.stringify({ event, requestId: context.awsRequestId, key: process.env.AWS_ACCESS_KEY_ID }) }));
  return { written: event.key };
};
exports.slow = async (event, context) => {
  const run = context.awsRequestId + '.' + Math.random().toString(36).slice(2);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/' + event.id + '/' + run, Body: 'started' }));
  await wait(event.delayMs);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'done/' + event.id + '/' + run, Body: 'done' }));
  return run;
};
exports.failing = async (event, context) => {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'attempts/' + event.id + '/' + Date.now() + '-' + context.awsRequestId + '-' + Math.random(), Body: 'x' }));
  throw new Error('failing on purpose');
};
exports.record = async (event) => {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'records/' + event.requestPayload.id + '/' + event.requestContext.condition, Body: JSON.stringify(event) }));
  return 'recorded';
};
exports.s3probe = async (event) => {
  const out = {};
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: event.key, Body: 'from node' }));
  out.put = 'ok';
  try { await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: event.key })); out.get = 'ok'; }
  catch (e) { out.get = e.name; out.message = e.message; }
  return out;
};
`;

const PYTHON_CODE = `
def handler(event, context):
    return {"python": True, "event": event, "function": context.function_name, "version": context.function_version}

def boom(event, context):
    raise ValueError("bad value")

def layers(event, context):
    import helper
    return helper.WHO

def s3probe(event, context):
    import boto3, botocore
    s3 = boto3.client("s3")
    out = {"endpoint": s3.meta.endpoint_url}
    s3.put_object(Bucket="${BUCKET}", Key=event["key"], Body=b"from python")
    out["put"] = "ok"
    try:
        s3.get_object(Bucket="${BUCKET}", Key=event["key"])
        out["get"] = "ok"
    except botocore.exceptions.ClientError as e:
        out["get"] = e.response["Error"]["Code"]
        out["message"] = e.response["Error"]["Message"]
    return out
`;

let nodeZip: Buffer;
let pythonZip: Buffer;
let basicRole: string;
let s3Role: string;

async function create(name: string, extra: Partial<CreateFunctionCommandInput> = {}, as: Creds = rootA) {
  const out = await lambdaAs(as).send(
    new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.echo', Role: basicRole, Code: { ZipFile: nodeZip }, Timeout: 15, ...extra }),
  );
  await waitUntilFunctionActiveV2({ client: lambdaAs(as), maxWaitTime: 20, minDelay: 1 }, { FunctionName: out.FunctionArn });
  return out;
}

async function updated(name: string, as: Creds = rootA) {
  await waitUntilFunctionUpdatedV2({ client: lambdaAs(as), maxWaitTime: 20, minDelay: 1 }, { FunctionName: name });
}

function payloadOf(r: InvokeCommandOutput): any {
  const text = Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function invoke(name: string, event: unknown = {}, extra: { Qualifier?: string; as?: Creds } = {}) {
  const r = await lambdaAs(extra.as).send(new InvokeCommand({ FunctionName: name, Qualifier: extra.Qualifier, Payload: Buffer.from(JSON.stringify(event)) }));
  return { r, out: payloadOf(r) };
}

async function waitForObject(key: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const o = await s3As().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return await o.Body!.transformToString();
    } catch (e) {
      if ((e as Error).name !== 'NoSuchKey' || Date.now() > deadline) throw new Error(`${key} did not appear: ${(e as Error).message}\n${server.output().slice(-3000)}`);
    }
    await sleep(100);
  }
}

async function keys(prefix: string): Promise<string[]> {
  const r = await s3As().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

async function restart(): Promise<void> {
  await server.kill();
  server = await startServer({ dataDir: server.dataDir, port: server.port, env: SERVER_ENV });
  generation++;
}

let dataDir: string;
before(async () => {
  server = await startServer({ env: SERVER_ENV });
  dataDir = server.dataDir;
  nodeZip = await buildZip({ 'index.js': NODE_CODE });
  pythonZip = await buildZip({ 'app.py': PYTHON_CODE });
  basicRole = await role('lambda-basic');
  s3Role = await role('lambda-s3', [
    { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
    { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' },
  ]);
  await s3As().send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('CreateFunction', () => {
  it('creates a function from a zip: Pending, then Active', async () => {
    const out = await lambda().send(
      new CreateFunctionCommand({ FunctionName: 'hello', Runtime: 'nodejs20.x', Handler: 'index.echo', Role: basicRole, Code: { ZipFile: nodeZip }, Description: 'says hello', Environment: { Variables: { GREETING: 'hi' } }, Tags: { team: 'a' } }),
    );
    assert.equal(out.FunctionArn, fnArn('hello'));
    assert.equal(out.State, 'Pending');
    assert.equal(out.StateReasonCode, 'Creating');
    assert.equal(out.Version, '$LATEST');
    assert.equal(out.Timeout, 3);
    assert.equal(out.MemorySize, 128);
    assert.equal(out.CodeSize, nodeZip.length);
    assert.equal(out.PackageType, 'Zip');
    assert.deepEqual(out.Architectures, ['x86_64']);
    assert.deepEqual(out.Environment?.Variables, { GREETING: 'hi' });
    assert.match(out.RevisionId!, /^[0-9a-f-]{36}$/);
    let c = await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    for (let i = 0; c.State === 'Pending' && i < 100; i++) {
      await sleep(50);
      c = await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    }
    assert.equal(c.State, 'Active');
    assert.equal(c.LastUpdateStatus, 'Successful');
    assert.equal(c.StateReason, undefined);
    const { out: ran } = await invoke('hello', { n: 1 });
    assert.equal(ran.greeting, 'hi');
    assert.deepEqual(ran.event, { n: 1 });
  });

  it('creates a function from an S3 object in Nimbus', async () => {
    await s3As().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'code/app.zip', Body: pythonZip }));
    const out = await create('from-s3', { Runtime: 'python3.11', Handler: 'app.handler', Code: { S3Bucket: BUCKET, S3Key: 'code/app.zip' } });
    assert.equal(out.CodeSize, pythonZip.length);
    const { out: ran } = await invoke('from-s3', { x: 1 });
    assert.deepEqual(ran, { python: true, event: { x: 1 }, function: 'from-s3', version: '$LATEST' });
    const location = (await lambda().send(new GetFunctionCommand({ FunctionName: 'from-s3' }))).Code!.Location!;
    assert.deepEqual(Buffer.from(await (await fetch(location)).arrayBuffer()), pythonZip);
    const missing = await fail(lambda().send(new CreateFunctionCommand({ FunctionName: 'no-object', Runtime: 'nodejs20.x', Handler: 'index.echo', Role: basicRole, Code: { S3Bucket: BUCKET, S3Key: 'nope.zip' } })));
    assert.equal(missing.name, 'InvalidParameterValueException');
    assert.match(missing.message, /^Error occurred while GetObject\. S3 Error Code: NoSuchKey\. S3 Error Message: The specified key does not exist\.$/);
  });

  it('creates a function from a given S3ObjectVersion of a versioned object', async () => {
    await s3As().send(new CreateBucketCommand({ Bucket: 'versioned-code' }));
    await s3As().send(new PutBucketVersioningCommand({ Bucket: 'versioned-code', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3As().send(new PutObjectCommand({ Bucket: 'versioned-code', Key: 'app.zip', Body: pythonZip }))).VersionId!;
    await s3As().send(new PutObjectCommand({ Bucket: 'versioned-code', Key: 'app.zip', Body: nodeZip }));
    const out = await create('from-s3-version', { Runtime: 'python3.11', Handler: 'app.handler', Code: { S3Bucket: 'versioned-code', S3Key: 'app.zip', S3ObjectVersion: v1 } });
    assert.equal(out.CodeSize, pythonZip.length);
    assert.equal((await invoke('from-s3-version', { x: 2 })).out.python, true);
    const gone = await fail(lambda().send(new CreateFunctionCommand({ FunctionName: 'no-version', Runtime: 'python3.11', Handler: 'app.handler', Role: basicRole, Code: { S3Bucket: 'versioned-code', S3Key: 'app.zip', S3ObjectVersion: 'A'.repeat(32) } })));
    assert.equal(gone.name, 'InvalidParameterValueException');
    assert.match(gone.message, /S3 Error Code: NoSuchVersion/);
  });

  it('refuses a duplicate name with ResourceConflictException', async () => {
    const e = await fail(lambda().send(new CreateFunctionCommand({ FunctionName: 'hello', Runtime: 'nodejs20.x', Handler: 'index.echo', Role: basicRole, Code: { ZipFile: nodeZip } })));
    assert.equal(e.name, 'ResourceConflictException');
    assert.equal(e.status, 409);
    assert.equal(e.message, 'Function already exist: hello');
  });

  it('refuses a role that does not exist or does not trust Lambda', async () => {
    const ec2Role = await role('ec2-only', undefined, rootA, 'ec2.amazonaws.com');
    for (const Role of [`arn:aws:iam::${A}:role/no-such-role`, ec2Role]) {
      const e = await fail(lambda().send(new CreateFunctionCommand({ FunctionName: 'bad-role', Runtime: 'nodejs20.x', Handler: 'index.echo', Role, Code: { ZipFile: nodeZip } })));
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.equal(e.message, 'The role defined for the function cannot be assumed by Lambda.');
    }
    const malformed = await fail(lambda().send(new CreateFunctionCommand({ FunctionName: 'bad-role', Runtime: 'nodejs20.x', Handler: 'index.echo', Role: 'not-an-arn', Code: { ZipFile: nodeZip } })));
    assert.equal(malformed.name, 'ValidationException');
  });

  it('checks memory and timeout bounds, reserved variables and the zip', async () => {
    const base = { FunctionName: 'bounds', Runtime: 'nodejs20.x' as const, Handler: 'index.echo', Role: basicRole, Code: { ZipFile: nodeZip } };
    const cases: Array<[Partial<CreateFunctionCommandInput>, string, string]> = [
      [{ MemorySize: 64 }, 'ValidationException', "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"],
      [{ MemorySize: 10241 }, 'ValidationException', "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"],
      [{ Timeout: 0 }, 'ValidationException', "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      [{ Timeout: 901 }, 'ValidationException', "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"],
      [
        { Environment: { Variables: { AWS_REGION: 'eu-west-1', OK_VAR: '1' } } },
        'InvalidParameterValueException',
        'Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION',
      ],
      [{ Code: { ZipFile: Buffer.from('this is not a zip file') } }, 'InvalidParameterValueException', 'Could not unzip uploaded file. Please check your file, then try to upload again.'],
    ];
    for (const [extra, name, message] of cases) {
      const e = await fail(lambda().send(new CreateFunctionCommand({ ...base, ...extra })));
      assert.equal(e.name, name, JSON.stringify(extra));
      assert.equal(e.status, 400);
      assert.equal(e.message, message);
    }
    assert.equal((await fail(lambda().send(new GetFunctionCommand({ FunctionName: 'bounds' })))).name, 'ResourceNotFoundException', 'nothing was created');
  });
});

describe('GetFunction and ListFunctions', () => {
  it("GetFunction's Code.Location downloads the same zip; a forged link is refused", async () => {
    const out = await lambda().send(new GetFunctionCommand({ FunctionName: 'hello' }));
    assert.equal(out.Configuration!.FunctionName, 'hello');
    assert.equal(out.Code!.RepositoryType, 'S3');
    assert.deepEqual(out.Tags, { team: 'a' });
    const link = out.Code!.Location!;
    const res = await fetch(link);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), nodeZip);
    const url = new URL(link);
    const forged = new URL(link);
    forged.searchParams.set('signature', url.searchParams.get('signature')!.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    const later = new URL(link);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    for (const bad of [forged, later]) {
      const r = await fetch(bad);
      assert.equal(r.status, 403);
      assert.match(await r.text(), /AccessDenied/);
    }
  });

  it('pages with Marker/MaxItems, and lists versions with FunctionVersion=ALL', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await create(n);
    await lambda().send(new PublishVersionCommand({ FunctionName: 'page-b' }));
    const all = (await lambda().send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName!);
    assert.ok(['hello', 'from-s3', 'page-a', 'page-b', 'page-c'].every((n) => all.includes(n)), String(all));
    const paged: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await lambda().send(new ListFunctionsCommand({ MaxItems: 2, Marker }));
      assert.ok(page.Functions!.length <= 2);
      paged.push(...page.Functions!.map((f) => f.FunctionName!));
      Marker = page.NextMarker;
      pages++;
    } while (Marker);
    assert.deepEqual(paged, all);
    assert.equal(pages, Math.ceil(all.length / 2));
    const withVersions = (await lambda().send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }))).Functions!;
    const b = withVersions.filter((f) => f.FunctionName === 'page-b').map((f) => [f.Version, f.FunctionArn]);
    assert.deepEqual(b, [
      ['$LATEST', fnArn('page-b')],
      ['1', fnArn('page-b', '1')],
    ]);
    assert.ok(!(await lambda().send(new ListFunctionsCommand({}))).Functions!.some((f) => f.Version !== '$LATEST'));
  });
});

describe('UpdateFunctionCode and UpdateFunctionConfiguration', () => {
  it('runs new code, and refuses a stale RevisionId', async () => {
    await create('updatable');
    const before = await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'updatable' }));
    const v2 = await buildZip({ 'index.js': `exports.echo = async () => ({ code: 'v2' });` });
    const stale = await fail(lambda().send(new UpdateFunctionCodeCommand({ FunctionName: 'updatable', ZipFile: v2, RevisionId: '00000000-0000-0000-0000-000000000000' })));
    assert.equal(stale.name, 'PreconditionFailedException');
    assert.equal(stale.status, 412);
    assert.equal(stale.message, 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
    assert.equal((await invoke('updatable')).out.code, 'v1');
    const out = await lambda().send(new UpdateFunctionCodeCommand({ FunctionName: 'updatable', ZipFile: v2, RevisionId: before.RevisionId }));
    assert.equal(out.LastUpdateStatus, 'InProgress');
    assert.notEqual(out.CodeSha256, before.CodeSha256);
    assert.notEqual(out.RevisionId, before.RevisionId);
    await updated('updatable');
    assert.deepEqual((await invoke('updatable')).out, { code: 'v2' });
  });

  it('changes environment, memory, timeout and handler: InProgress until the waiter sees Successful', async () => {
    const out = await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', Environment: { Variables: { GREETING: 'hello again' } }, MemorySize: 256, Timeout: 1 }));
    assert.equal(out.LastUpdateStatus, 'InProgress');
    assert.equal(out.LastUpdateStatusReasonCode, 'Creating');
    // The function-updated waiter's logic: poll GetFunctionConfiguration until Successful.
    let c = await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    for (let i = 0; c.LastUpdateStatus === 'InProgress' && i < 100; i++) {
      await sleep(50);
      c = await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    }
    assert.equal(c.LastUpdateStatus, 'Successful');
    assert.equal(c.MemorySize, 256);
    assert.equal(c.Timeout, 1);
    const { out: ran } = await invoke('hello');
    assert.equal(ran.greeting, 'hello again');
    assert.equal(ran.memory, '256');
    assert.ok(ran.remaining <= 1000);
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', Handler: 'index.sleep' }));
    await updated('hello');
    const { r, out: timedOut } = await invoke('hello', { ms: 3000 });
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(timedOut.errorType, 'Sandbox.Timedout');
    assert.match(timedOut.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', Handler: 'index.logs', Timeout: 10 }));
    await updated('hello');
    assert.equal((await invoke('hello')).out, 'logged');
  });
});

describe('versions and aliases', () => {
  it('publishes versions; an unchanged $LATEST publishes no new one', async () => {
    await create('versioned');
    const v1 = await lambda().send(new PublishVersionCommand({ FunctionName: 'versioned', Description: 'first' }));
    assert.equal(v1.Version, '1');
    assert.equal(v1.FunctionArn, fnArn('versioned', '1'));
    assert.equal(v1.Description, 'first');
    const again = await lambda().send(new PublishVersionCommand({ FunctionName: 'versioned' }));
    assert.equal(again.Version, '1');
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'versioned', Environment: { Variables: { GREETING: 'two' } } }));
    await updated('versioned');
    const v2 = await lambda().send(new PublishVersionCommand({ FunctionName: 'versioned' }));
    assert.equal(v2.Version, '2');
    const versions = (await lambda().send(new ListVersionsByFunctionCommand({ FunctionName: 'versioned' }))).Versions!.map((v) => v.Version);
    assert.deepEqual(versions, ['$LATEST', '1', '2']);
    // Publish: true on CreateFunction and UpdateFunctionCode answers with the new version.
    const created = await create('published', { Publish: true });
    assert.equal(created.Version, '1');
    assert.equal(created.FunctionArn, fnArn('published', '1'));
    const v2zip = await buildZip({ 'index.js': `exports.echo = async (e, c) => ({ code: 'v2', version: c.functionVersion });` });
    const pub = await lambda().send(new UpdateFunctionCodeCommand({ FunctionName: 'published', ZipFile: v2zip, Publish: true }));
    assert.equal(pub.Version, '2');
    await updated('published');
    assert.deepEqual((await invoke('published', {}, { Qualifier: '2' })).out, { code: 'v2', version: '2' });
    assert.equal((await invoke('published', {}, { Qualifier: '1' })).out.code, 'v1');
  });

  it('resolves $LATEST, a version and an alias on GetFunction and Invoke, with X-Amz-Executed-Version', async () => {
    await lambda().send(new CreateAliasCommand({ FunctionName: 'versioned', Name: 'stable', FunctionVersion: '1', Description: 'the first' }));
    for (const [Qualifier, version, greeting] of [
      ['$LATEST', '$LATEST', 'two'],
      ['1', '1', null],
      ['2', '2', 'two'],
      ['stable', '1', null],
    ] as const) {
      const g = await lambda().send(new GetFunctionCommand({ FunctionName: 'versioned', Qualifier }));
      assert.equal(g.Configuration!.Version, version);
      const { r, out } = await invoke('versioned', {}, { Qualifier });
      assert.equal(r.ExecutedVersion, version);
      assert.equal(out.version, version);
      assert.equal(out.greeting, greeting);
      assert.equal(out.invoked, fnArn('versioned', Qualifier));
    }
    // The qualifier can also be part of the name.
    assert.equal((await lambda().send(new InvokeCommand({ FunctionName: 'versioned:stable' }))).ExecutedVersion, '1');
    const missing = await fail(invoke('versioned', {}, { Qualifier: '9' }));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.message, `Function not found: ${fnArn('versioned', '9')}`);
  });

  it('creates, reads, lists, updates and deletes aliases', async () => {
    const a = await lambda().send(new GetAliasCommand({ FunctionName: 'versioned', Name: 'stable' }));
    assert.equal(a.AliasArn, fnArn('versioned', 'stable'));
    assert.equal(a.FunctionVersion, '1');
    assert.equal(a.Description, 'the first');
    const dup = await fail(lambda().send(new CreateAliasCommand({ FunctionName: 'versioned', Name: 'stable', FunctionVersion: '2' })));
    assert.equal(dup.name, 'ResourceConflictException');
    await lambda().send(new CreateAliasCommand({ FunctionName: 'versioned', Name: 'temp', FunctionVersion: '2' }));
    assert.deepEqual((await lambda().send(new ListAliasesCommand({ FunctionName: 'versioned' }))).Aliases!.map((x) => x.Name), ['stable', 'temp']);
    assert.deepEqual((await lambda().send(new ListAliasesCommand({ FunctionName: 'versioned', FunctionVersion: '2' }))).Aliases!.map((x) => x.Name), ['temp']);
    const u = await lambda().send(new UpdateAliasCommand({ FunctionName: 'versioned', Name: 'temp', FunctionVersion: '1', RevisionId: (await lambda().send(new GetAliasCommand({ FunctionName: 'versioned', Name: 'temp' }))).RevisionId }));
    assert.equal(u.FunctionVersion, '1');
    const stale = await fail(lambda().send(new UpdateAliasCommand({ FunctionName: 'versioned', Name: 'temp', FunctionVersion: '2', RevisionId: 'stale' })));
    assert.equal(stale.name, 'PreconditionFailedException');
    await lambda().send(new DeleteAliasCommand({ FunctionName: 'versioned', Name: 'temp' }));
    const gone = await fail(lambda().send(new GetAliasCommand({ FunctionName: 'versioned', Name: 'temp' })));
    assert.equal(gone.name, 'ResourceNotFoundException');
    assert.equal(gone.message, `Cannot find alias arn: ${fnArn('versioned', 'temp')}`);
  });

  it('splits traffic by weight: 200 invokes of a 0.5 alias see both versions about equally', async () => {
    await lambda().send(new UpdateAliasCommand({ FunctionName: 'versioned', Name: 'stable', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }));
    const a = await lambda().send(new GetAliasCommand({ FunctionName: 'versioned', Name: 'stable' }));
    assert.deepEqual(a.RoutingConfig, { AdditionalVersionWeights: { '2': 0.5 } });
    const seen: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await lambda().send(new InvokeCommand({ FunctionName: 'versioned', Qualifier: 'stable' }));
      seen[r.ExecutedVersion!] = (seen[r.ExecutedVersion!] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(seen).sort(), ['1', '2']);
    assert.ok(seen['1']! > 60 && seen['2']! > 60, JSON.stringify(seen));
  });

  it('refuses to delete a version an alias uses; deletes others, then the whole function', async () => {
    const e = await fail(lambda().send(new DeleteFunctionCommand({ FunctionName: 'versioned', Qualifier: '2' })));
    assert.equal(e.name, 'ResourceConflictException');
    assert.match(e.message, /stable/);
    await lambda().send(new UpdateAliasCommand({ FunctionName: 'versioned', Name: 'stable', RoutingConfig: { AdditionalVersionWeights: {} } }));
    await lambda().send(new DeleteFunctionCommand({ FunctionName: 'versioned', Qualifier: '2' }));
    assert.deepEqual((await lambda().send(new ListVersionsByFunctionCommand({ FunctionName: 'versioned' }))).Versions!.map((v) => v.Version), ['$LATEST', '1']);
    assert.equal((await fail(invoke('versioned', {}, { Qualifier: '2' }))).name, 'ResourceNotFoundException');
    assert.equal((await invoke('versioned', {}, { Qualifier: 'stable' })).r.ExecutedVersion, '1');
    const latest = await fail(lambda().send(new DeleteFunctionCommand({ FunctionName: 'versioned', Qualifier: '$LATEST' })));
    assert.equal(latest.name, 'InvalidParameterValueException');
    await lambda().send(new DeleteFunctionCommand({ FunctionName: 'versioned' }));
    const gone = await fail(lambda().send(new GetFunctionCommand({ FunctionName: 'versioned' })));
    assert.equal(gone.name, 'ResourceNotFoundException');
    assert.equal(gone.status, 404);
    assert.equal(gone.message, `Function not found: ${fnArn('versioned')}`);
    assert.equal((await fail(invoke('versioned'))).name, 'ResourceNotFoundException');
  });
});

describe('layers', () => {
  let v1: string;
  let v2: string;
  let other: string;

  it('publishes, gets (by name and by ARN) and lists layer versions', async () => {
    const zip1 = await buildZip({ 'nodejs/node_modules/greet/index.js': 'module.exports = "greet v1";', 'python/helper.py': 'WHO = "layer one"\n' });
    const p1 = await lambda().send(new PublishLayerVersionCommand({ LayerName: 'shared', Description: 'one', Content: { ZipFile: zip1 }, CompatibleRuntimes: ['nodejs20.x', 'python3.11'], LicenseInfo: 'MIT' }));
    assert.equal(p1.Version, 1);
    assert.equal(p1.LayerArn, `arn:aws:lambda:${REGION}:${A}:layer:shared`);
    assert.equal(p1.LayerVersionArn, `arn:aws:lambda:${REGION}:${A}:layer:shared:1`);
    assert.equal(p1.Content!.CodeSize, zip1.length);
    assert.deepEqual(p1.CompatibleRuntimes, ['nodejs20.x', 'python3.11']);
    v1 = p1.LayerVersionArn!;
    const zip2 = await buildZip({ 'nodejs/node_modules/greet/index.js': 'module.exports = "greet v2";' });
    v2 = (await lambda().send(new PublishLayerVersionCommand({ LayerName: 'shared', Description: 'two', Content: { ZipFile: zip2 }, CompatibleRuntimes: ['nodejs20.x'] }))).LayerVersionArn!;
    assert.ok(v2.endsWith(':shared:2'));
    const zip3 = await buildZip({ 'python/helper.py': 'WHO = "other layer"\n' });
    other = (await lambda().send(new PublishLayerVersionCommand({ LayerName: 'other', Content: { ZipFile: zip3 } }))).LayerVersionArn!;
    const g = await lambda().send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 1 }));
    assert.equal(g.Description, 'one');
    assert.equal(g.LicenseInfo, 'MIT');
    const dl = await fetch(g.Content!.Location!);
    assert.deepEqual(Buffer.from(await dl.arrayBuffer()), zip1);
    const byArn = await lambda().send(new GetLayerVersionByArnCommand({ Arn: v2 }));
    assert.equal(byArn.Version, 2);
    assert.equal(byArn.Description, 'two');
    const layers = (await lambda().send(new ListLayersCommand({}))).Layers!;
    assert.deepEqual(layers.map((l) => [l.LayerName, l.LatestMatchingVersion!.Version]), [
      ['other', 1],
      ['shared', 2],
    ]);
    const py = (await lambda().send(new ListLayersCommand({ CompatibleRuntime: 'python3.11' }))).Layers!;
    assert.deepEqual(py.map((l) => [l.LayerName, l.LatestMatchingVersion!.Version]), [['shared', 1]]);
    assert.deepEqual((await lambda().send(new ListLayerVersionsCommand({ LayerName: 'shared' }))).LayerVersions!.map((v) => v.Version), [2, 1]);
    const none = await fail(lambda().send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 9 })));
    assert.equal(none.name, 'ResourceNotFoundException');
  });

  it('gives a function its layers in order (later wins) on NODE_PATH and PYTHONPATH', async () => {
    await create('layered', { Handler: 'index.layers', Layers: [v1, v2] });
    assert.equal((await invoke('layered')).out, 'greet v2');
    const c = await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'layered' }));
    assert.deepEqual(c.Layers!.map((l) => l.Arn), [v1, v2]);
    assert.ok(c.Layers!.every((l) => l.CodeSize! > 0));
    await create('layered-py', { Runtime: 'python3.11', Handler: 'app.layers', Code: { ZipFile: pythonZip }, Layers: [v1] });
    assert.equal((await invoke('layered-py')).out, 'layer one');
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered-py', Layers: [v1, other] }));
    await updated('layered-py');
    assert.equal((await invoke('layered-py')).out, 'other layer');
    const bad = await fail(lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered-py', Layers: [`arn:aws:lambda:${REGION}:${A}:layer:shared:99`] })));
    assert.equal(bad.name, 'InvalidParameterValueException');
  });

  it('keeps functions working after a layer version they use is deleted', async () => {
    await lambda().send(new DeleteLayerVersionCommand({ LayerName: 'shared', VersionNumber: 2 }));
    assert.equal((await fail(lambda().send(new GetLayerVersionByArnCommand({ Arn: v2 })))).name, 'ResourceNotFoundException');
    assert.deepEqual((await lambda().send(new ListLayerVersionsCommand({ LayerName: 'shared' }))).LayerVersions!.map((v) => v.Version), [1]);
    // A configuration change starts fresh environments, which still get the deleted layer's code.
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', Environment: { Variables: { FRESH: '1' } } }));
    await updated('layered');
    assert.equal((await invoke('layered')).out, 'greet v2');
    assert.deepEqual((await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: 'layered' }))).Layers!.map((l) => l.Arn), [v1, v2]);
    const gone = await fail(create('late-layer', { Layers: [v2] }));
    assert.equal(gone.name, 'InvalidParameterValueException', 'a deleted version cannot be added to new configurations');
  });

  it("lets another account use a layer version only once it is shared with it", async () => {
    const roleB = await role('lambda-basic', undefined, rootB);
    const input = { FunctionName: 'uses-a-layer', Runtime: 'python3.11' as const, Handler: 'app.layers', Role: roleB, Code: { ZipFile: pythonZip }, Layers: [v1] };
    const denied = await fail(lambdaAs(rootB).send(new CreateFunctionCommand(input)));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.equal(denied.status, 403);
    assert.equal(denied.message, `User: arn:aws:iam::${B}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${v1} because no resource-based policy allows the lambda:GetLayerVersion action`);
    const get = await fail(lambdaAs(rootB).send(new GetLayerVersionByArnCommand({ Arn: v1 })));
    assert.equal(get.name, 'AccessDeniedException');
    const st = await lambda().send(new AddLayerVersionPermissionCommand({ LayerName: 'shared', VersionNumber: 1, StatementId: 'account-b', Action: 'lambda:GetLayerVersion', Principal: B }));
    assert.deepEqual(JSON.parse(st.Statement!), {
      Sid: 'account-b',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${B}:root` },
      Action: 'lambda:GetLayerVersion',
      Resource: v1,
    });
    const policy = JSON.parse((await lambda().send(new GetLayerVersionPolicyCommand({ LayerName: 'shared', VersionNumber: 1 }))).Policy!);
    assert.equal(policy.Statement.length, 1);
    assert.equal((await lambdaAs(rootB).send(new GetLayerVersionByArnCommand({ Arn: v1 }))).Version, 1);
    const out = await lambdaAs(rootB).send(new CreateFunctionCommand(input));
    assert.equal(out.FunctionArn, fnArn('uses-a-layer', undefined, B));
    await waitUntilFunctionActiveV2({ client: lambdaAs(rootB), maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'uses-a-layer' });
    assert.equal((await invoke('uses-a-layer', {}, { as: rootB })).out, 'layer one');
    // Only the version that was shared.
    const notShared = await fail(lambdaAs(rootB).send(new UpdateFunctionConfigurationCommand({ FunctionName: 'uses-a-layer', Layers: [other] })));
    assert.equal(notShared.name, 'AccessDeniedException');
  });
});

describe('Invoke', () => {
  it('returns the log tail with LogType Tail: START, the function output, END and REPORT', async () => {
    const r = await lambda().send(new InvokeCommand({ FunctionName: 'hello', LogType: 'Tail' }));
    assert.equal(r.StatusCode, 200);
    assert.equal(payloadOf(r), 'logged');
    const tail = Buffer.from(r.LogResult!, 'base64').toString('utf8');
    const id = r.$metadata.requestId!;
    assert.match(tail, new RegExp(`START RequestId: ${id} Version: \\$LATEST\\n`));
    assert.match(tail, new RegExp(`\\t${id}\\tINFO\\thello from the function\\n`));
    assert.match(tail, new RegExp(`END RequestId: ${id}\\n`));
    assert.match(tail, new RegExp(`REPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: \\d+ MB`));
    const without = await lambda().send(new InvokeCommand({ FunctionName: 'hello' }));
    assert.equal(without.LogResult, undefined);
  });

  it('reports function errors: X-Amz-Function-Error Unhandled and the error document (Node and Python)', async () => {
    await create('boom-node', { Handler: 'index.boom' });
    const { r, out } = await invoke('boom-node');
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(out.errorType, 'RangeError');
    assert.equal(out.errorMessage, 'out of range');
    assert.ok(Array.isArray(out.trace) && out.trace[0] === 'RangeError: out of range', JSON.stringify(out));
    await create('boom-py', { Runtime: 'python3.11', Handler: 'app.boom', Code: { ZipFile: pythonZip } });
    const py = await invoke('boom-py');
    assert.equal(py.r.FunctionError, 'Unhandled');
    assert.equal(py.out.errorType, 'ValueError');
    assert.equal(py.out.errorMessage, 'bad value');
    assert.ok(Array.isArray(py.out.stackTrace) && py.out.stackTrace.some((l: string) => l.includes('raise ValueError')), JSON.stringify(py.out));
    assert.match(py.out.requestId, /^[0-9a-f-]{36}$/);
  });

  it('refuses a payload over 6 MB, a payload that is not JSON, and answers DryRun with 204', async () => {
    const big = await fail(lambda().send(new InvokeCommand({ FunctionName: 'from-s3', Payload: Buffer.from(JSON.stringify('x'.repeat(6 * 1024 * 1024))) })));
    assert.equal(big.name, 'RequestTooLargeException');
    assert.equal(big.status, 413);
    assert.equal(big.message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    const notJson = await fail(lambda().send(new InvokeCommand({ FunctionName: 'from-s3', Payload: Buffer.from('this is not json') })));
    assert.equal(notJson.name, 'InvalidRequestContentException');
    assert.equal(notJson.status, 400);
    assert.match(notJson.message, /^Could not parse request body into json: Could not parse payload into json: /);
    const dry = await lambda().send(new InvokeCommand({ FunctionName: 'from-s3', InvocationType: 'DryRun' }));
    assert.equal(dry.StatusCode, 204);
    assert.equal(dry.Payload?.length ?? 0, 0);
    // An empty payload is an empty event.
    const empty = await lambda().send(new InvokeCommand({ FunctionName: 'from-s3' }));
    assert.deepEqual(payloadOf(empty).event, {});
  });
});

describe('resource policy', () => {
  it('adds, reads and removes statements as AWS writes them', async () => {
    const st = await lambda().send(new AddPermissionCommand({ FunctionName: 'from-s3', StatementId: 's3-events', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: `arn:aws:s3:::${BUCKET}`, SourceAccount: A }));
    assert.deepEqual(JSON.parse(st.Statement!), {
      Sid: 's3-events',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: fnArn('from-s3'),
      Condition: { StringEquals: { 'AWS:SourceAccount': A }, ArnLike: { 'AWS:SourceArn': `arn:aws:s3:::${BUCKET}` } },
    });
    const dup = await fail(lambda().send(new AddPermissionCommand({ FunctionName: 'from-s3', StatementId: 's3-events', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' })));
    assert.equal(dup.name, 'ResourceConflictException');
    const p = await lambda().send(new GetPolicyCommand({ FunctionName: 'from-s3' }));
    const policy = JSON.parse(p.Policy!);
    assert.equal(policy.Version, '2012-10-17');
    assert.equal(policy.Id, 'default');
    assert.deepEqual(policy.Statement, [JSON.parse(st.Statement!)]);
    assert.match(p.RevisionId!, /^[0-9a-f-]{36}$/);
    await lambda().send(new RemovePermissionCommand({ FunctionName: 'from-s3', StatementId: 's3-events' }));
    const none = await fail(lambda().send(new GetPolicyCommand({ FunctionName: 'from-s3' })));
    assert.equal(none.name, 'ResourceNotFoundException');
    assert.equal(none.message, 'The resource you requested does not exist.');
    const missing = await fail(lambda().send(new RemovePermissionCommand({ FunctionName: 'from-s3', StatementId: 's3-events' })));
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  it("denies another account's root and users until AddPermission grants that account", async () => {
    const bob = await userWithKey('bob', [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }], rootB);
    const target = fnArn('from-s3');
    for (const who of [rootB, bob]) {
      const e = await fail(lambdaAs(who).send(new InvokeCommand({ FunctionName: target })));
      assert.equal(e.name, 'AccessDeniedException');
      assert.equal(e.status, 403);
      const principal = who === bob ? `arn:aws:iam::${B}:user/bob` : `arn:aws:iam::${B}:root`;
      assert.equal(e.message, `User: ${principal} is not authorized to perform: lambda:InvokeFunction on resource: ${target} because no resource-based policy allows the lambda:InvokeFunction action`);
    }
    const st = await lambda().send(new AddPermissionCommand({ FunctionName: 'from-s3', StatementId: 'account-b', Action: 'lambda:InvokeFunction', Principal: B }));
    assert.deepEqual(JSON.parse(st.Statement!).Principal, { AWS: `arn:aws:iam::${B}:root` });
    for (const who of [rootB, bob]) {
      const r = await lambdaAs(who).send(new InvokeCommand({ FunctionName: target, Payload: Buffer.from('{"from":"b"}') }));
      assert.deepEqual(payloadOf(r).event, { from: 'b' });
    }
    // The grant is for invoking only, and B's own functions are its own.
    assert.equal((await fail(lambdaAs(rootB).send(new GetFunctionCommand({ FunctionName: target })))).name, 'AccessDeniedException');
    assert.equal((await fail(lambdaAs(rootB).send(new GetFunctionCommand({ FunctionName: 'from-s3' })))).name, 'ResourceNotFoundException');
    // A user of B without permission at home is still denied.
    const carol = await userWithKey('carol', undefined, rootB);
    const e = await fail(lambdaAs(carol).send(new InvokeCommand({ FunctionName: target })));
    assert.equal(e.name, 'AccessDeniedException');
  });

  it('denies a user of the same account without lambda:InvokeFunction, with AWS’s message', async () => {
    const dave = await userWithKey('dave', [{ Effect: 'Allow', Action: 'lambda:GetFunction', Resource: '*' }]);
    const e = await fail(lambdaAs(dave).send(new InvokeCommand({ FunctionName: 'from-s3' })));
    assert.equal(e.name, 'AccessDeniedException');
    assert.equal(e.status, 403);
    assert.equal(e.message, `User: arn:aws:iam::${A}:user/dave is not authorized to perform: lambda:InvokeFunction on resource: ${fnArn('from-s3')} because no identity-based policy allows the lambda:InvokeFunction action`);
    assert.equal((await lambdaAs(dave).send(new GetFunctionCommand({ FunctionName: 'from-s3' }))).Configuration!.FunctionName, 'from-s3');
  });
});

describe('reserved concurrency', () => {
  it('puts, gets and deletes it; GetAccountSettings reflects it', async () => {
    const before = (await lambda().send(new GetAccountSettingsCommand({}))).AccountLimit!;
    assert.equal(before.ConcurrentExecutions, 1000);
    await create('limited', { Handler: 'index.sleep' });
    assert.equal((await lambda().send(new PutFunctionConcurrencyCommand({ FunctionName: 'limited', ReservedConcurrentExecutions: 5 }))).ReservedConcurrentExecutions, 5);
    assert.equal((await lambda().send(new GetFunctionConcurrencyCommand({ FunctionName: 'limited' }))).ReservedConcurrentExecutions, 5);
    assert.deepEqual((await lambda().send(new GetFunctionCommand({ FunctionName: 'limited' }))).Concurrency, { ReservedConcurrentExecutions: 5 });
    const during = (await lambda().send(new GetAccountSettingsCommand({}))).AccountLimit!;
    assert.equal(during.UnreservedConcurrentExecutions, before.UnreservedConcurrentExecutions! - 5);
    const tooMuch = await fail(lambda().send(new PutFunctionConcurrencyCommand({ FunctionName: 'limited', ReservedConcurrentExecutions: 950 })));
    assert.equal(tooMuch.name, 'InvalidParameterValueException');
    await lambda().send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'limited' }));
    assert.equal((await lambda().send(new GetFunctionConcurrencyCommand({ FunctionName: 'limited' }))).ReservedConcurrentExecutions, undefined);
    assert.equal((await lambda().send(new GetAccountSettingsCommand({}))).AccountLimit!.UnreservedConcurrentExecutions, before.UnreservedConcurrentExecutions);
  });

  it('throttles every invoke at 0 with TooManyRequestsException (429, ReservedFunctionConcurrentInvocationLimitExceeded)', async () => {
    await lambda().send(new PutFunctionConcurrencyCommand({ FunctionName: 'limited', ReservedConcurrentExecutions: 0 }));
    for (let i = 0; i < 3; i++) {
      const e = await fail(invoke('limited', { ms: 1 }));
      assert.equal(e.name, 'TooManyRequestsException');
      assert.equal(e.status, 429);
      assert.equal(e.message, 'Rate Exceeded.');
      assert.equal(e.error.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    }
  });

  it('lets one of two concurrent slow invokes through at 1, and throttles the other', async () => {
    await lambda().send(new PutFunctionConcurrencyCommand({ FunctionName: 'limited', ReservedConcurrentExecutions: 1 }));
    const results = await Promise.allSettled([invoke('limited', { ms: 1500 }), invoke('limited', { ms: 1500 })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const throttled = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(throttled.length, 1);
    assert.equal(throttled[0]!.reason.name, 'TooManyRequestsException');
    assert.equal(throttled[0]!.reason.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal((await invoke('limited', { ms: 1 })).out, 'slept', 'the slot is free again');
  });
});

describe('asynchronous invocation', () => {
  it('acknowledges an Event with 202 and runs it: the function writes to S3 with its role', async () => {
    await create('writer', { Handler: 'index.write', Role: s3Role });
    const r = await lambda().send(new InvokeCommand({ FunctionName: 'writer', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ key: 'async/one.json' })) }));
    assert.equal(r.StatusCode, 202);
    assert.equal(r.Payload?.length ?? 0, 0);
    const written = JSON.parse(await waitForObject('async/one.json'));
    assert.deepEqual(written.event, { key: 'async/one.json' });
    assert.equal(written.requestId, r.$metadata.requestId, "the invocation's request id is the Invoke request's");
    assert.match(written.key, /^ASIA/, 'temporary credentials of the execution role');
    const notJson = await fail(lambda().send(new InvokeCommand({ FunctionName: 'writer', InvocationType: 'Event', Payload: Buffer.from('{') })));
    assert.equal(notJson.name, 'InvalidRequestContentException');
  });

  it('puts, gets, updates, lists and deletes event invoke configs', async () => {
    const put = await lambda().send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'writer', MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600 }));
    assert.equal(put.FunctionArn, fnArn('writer', '$LATEST'));
    assert.equal(put.MaximumRetryAttempts, 1);
    assert.ok(put.LastModified instanceof Date);
    const got = await lambda().send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'writer' }));
    assert.equal(got.MaximumEventAgeInSeconds, 3600);
    const dest = fnArn('hello');
    const up = await lambda().send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'writer', DestinationConfig: { OnFailure: { Destination: dest } } }));
    assert.equal(up.MaximumRetryAttempts, 1, 'Update keeps what it does not change');
    assert.equal(up.DestinationConfig!.OnFailure!.Destination, dest);
    // Put replaces the whole configuration.
    const replaced = await lambda().send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'writer', MaximumRetryAttempts: 2 }));
    assert.equal(replaced.MaximumEventAgeInSeconds, undefined);
    assert.equal(replaced.DestinationConfig?.OnFailure?.Destination, undefined);
    const list = (await lambda().send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'writer' }))).FunctionEventInvokeConfigs!;
    assert.deepEqual(list.map((c) => [c.FunctionArn, c.MaximumRetryAttempts]), [[fnArn('writer', '$LATEST'), 2]]);
    const invalid = await fail(lambda().send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'writer', MaximumRetryAttempts: 3 })));
    assert.equal(invalid.name, 'ValidationException');
    await lambda().send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'writer' }));
    assert.equal((await fail(lambda().send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'writer' })))).name, 'ResourceNotFoundException');
    assert.deepEqual((await lambda().send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'writer' }))).FunctionEventInvokeConfigs, []);
  });

  it('retries a failing function twice, then sends AWS’s record to its OnFailure destination', async () => {
    await create('recorder', { Handler: 'index.record', Role: s3Role });
    await create('failing', { Handler: 'index.failing', Role: s3Role });
    await lambda().send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'failing', DestinationConfig: { OnFailure: { Destination: fnArn('recorder') } } }));
    const r = await lambda().send(new InvokeCommand({ FunctionName: 'failing', InvocationType: 'Event', Payload: Buffer.from('{"id":"retried"}') }));
    assert.equal(r.StatusCode, 202);
    const record = JSON.parse(await waitForObject('records/retried/RetriesExhausted'));
    assert.equal((await keys('attempts/retried/')).length, 3, 'one attempt and two retries');
    assert.equal(record.version, '1.0');
    assert.ok(!Number.isNaN(Date.parse(record.timestamp)));
    assert.deepEqual(record.requestContext, { requestId: r.$metadata.requestId, functionArn: fnArn('failing', '$LATEST'), condition: 'RetriesExhausted', approximateInvokeCount: 3 });
    assert.deepEqual(record.requestPayload, { id: 'retried' });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(record.responsePayload.errorType, 'Error');
    assert.equal(record.responsePayload.errorMessage, 'failing on purpose');
  });

  it('makes one attempt only with MaximumRetryAttempts 0', async () => {
    await lambda().send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'failing', MaximumRetryAttempts: 0 }));
    await lambda().send(new InvokeCommand({ FunctionName: 'failing', InvocationType: 'Event', Payload: Buffer.from('{"id":"once"}') }));
    const record = JSON.parse(await waitForObject('records/once/RetriesExhausted'));
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    await sleep(1000); // long past both retry delays
    assert.equal((await keys('attempts/once/')).length, 1);
  });

  it('sends the result to the OnSuccess destination', async () => {
    await lambda().send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'writer', DestinationConfig: { OnSuccess: { Destination: fnArn('recorder') } } }));
    await lambda().send(new InvokeCommand({ FunctionName: 'writer', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ id: 'succeeded', key: 'async/two.json' })) }));
    const record = JSON.parse(await waitForObject('records/succeeded/Success'));
    assert.equal(record.requestContext.condition, 'Success');
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    assert.deepEqual(record.responsePayload, { written: 'async/two.json' });
  });
});

describe('the SDK inside functions', () => {
  it("a Node function's new S3Client({}) reaches Nimbus with the role: allowed PutObject works, GetObject is AccessDenied", async () => {
    await create('node-sdk', { Handler: 'index.s3probe', Role: s3Role });
    const { r, out } = await invoke('node-sdk', { key: 'sdk/node.txt' });
    assert.equal(r.FunctionError, undefined, JSON.stringify(out));
    assert.equal(out.put, 'ok');
    assert.equal(out.get, 'AccessDenied');
    assert.match(out.message, new RegExp(`^User: arn:aws:sts::${A}:assumed-role/lambda-s3/node-sdk is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::${BUCKET}/sdk/node.txt because no identity-based policy allows the s3:GetObject action`));
    assert.equal(await waitForObject('sdk/node.txt'), 'from node');
  });

  it("a Python function's boto3.client('s3') does the same, with no endpoint configured", async () => {
    requireBoto3();
    await create('python-sdk', { Runtime: 'python3.11', Handler: 'app.s3probe', Code: { ZipFile: pythonZip }, Role: s3Role });
    const { r, out } = await invoke('python-sdk', { key: 'sdk/python.txt' });
    assert.equal(r.FunctionError, undefined, JSON.stringify(out));
    assert.equal(out.endpoint, server.url);
    assert.equal(out.put, 'ok');
    assert.equal(out.get, 'AccessDenied');
    assert.match(out.message, /assumed-role\/lambda-s3\/python-sdk is not authorized to perform: s3:GetObject/);
    assert.equal(await waitForObject('sdk/python.txt'), 'from python');
  });
});

describe('tags', () => {
  it('tags, untags and lists tags of a function', async () => {
    const arn = fnArn('hello');
    assert.deepEqual((await lambda().send(new ListTagsCommand({ Resource: arn }))).Tags, { team: 'a' });
    await lambda().send(new TagResourceCommand({ Resource: arn, Tags: { env: 'test', owner: 'me' } }));
    assert.deepEqual((await lambda().send(new ListTagsCommand({ Resource: arn }))).Tags, { team: 'a', env: 'test', owner: 'me' });
    await lambda().send(new UntagResourceCommand({ Resource: arn, TagKeys: ['team', 'owner'] }));
    assert.deepEqual((await lambda().send(new ListTagsCommand({ Resource: arn }))).Tags, { env: 'test' });
    assert.deepEqual((await lambda().send(new GetFunctionCommand({ FunctionName: 'hello' }))).Tags, { env: 'test' });
    const missing = await fail(lambda().send(new ListTagsCommand({ Resource: fnArn('nope') })));
    assert.equal(missing.name, 'ResourceNotFoundException');
  });
});

describe('across a restart', () => {
  it('runs an acknowledged Event invocation that had not finished when the server was killed', async () => {
    await create('slow', { Handler: 'index.slow', Role: s3Role });
    const r = await lambda().send(new InvokeCommand({ FunctionName: 'slow', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ id: 'restart', delayMs: 3000 })) }));
    assert.equal(r.StatusCode, 202);
    // Wait until the run has started (and is still waiting), then kill the server.
    const deadline = Date.now() + 20_000;
    while ((await keys('runs/restart/')).length === 0) {
      assert.ok(Date.now() < deadline, 'the first run did not start');
      await sleep(50);
    }
    const [first] = await keys('runs/restart/');
    await restart();
    const done = Date.now() + 30_000;
    let finished: string[] = [];
    while ((finished = await keys('done/restart/')).length === 0) {
      assert.ok(Date.now() < done, `the event did not run after the restart\n${server.output().slice(-3000)}`);
      await sleep(100);
    }
    const runs = await keys('runs/restart/');
    assert.equal(runs.length, 2, 'run again after the restart');
    assert.ok(finished.map((k) => k.split('/')[2]).includes(runs.find((k) => k !== first)!.split('/')[2]), 'finished by the run after the restart');
    assert.ok(runs.every((k) => k.split('/')[2]!.startsWith(r.$metadata.requestId!)), 'the same invocation');
  });

  it('keeps functions, versions, aliases, layers, policies, concurrency and tags', async () => {
    const fns = (await lambda().send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName);
    for (const n of ['hello', 'from-s3', 'layered', 'writer', 'limited']) assert.ok(fns.includes(n), n);
    await lambda().send(new PublishVersionCommand({ FunctionName: 'from-s3' }));
    assert.deepEqual((await lambda().send(new ListVersionsByFunctionCommand({ FunctionName: 'from-s3' }))).Versions!.map((v) => v.Version), ['$LATEST', '1']);
    await lambda().send(new CreateAliasCommand({ FunctionName: 'from-s3', Name: 'live', FunctionVersion: '1' }));
    await restart();
    assert.deepEqual((await lambda().send(new ListVersionsByFunctionCommand({ FunctionName: 'from-s3' }))).Versions!.map((v) => v.Version), ['$LATEST', '1']);
    assert.equal((await lambda().send(new GetAliasCommand({ FunctionName: 'from-s3', Name: 'live' }))).FunctionVersion, '1');
    const { r, out } = await invoke('from-s3', { after: 'restart' }, { Qualifier: 'live' });
    assert.equal(r.ExecutedVersion, '1');
    assert.deepEqual(out.event, { after: 'restart' });
    assert.equal((await invoke('layered')).out, 'greet v2');
    assert.deepEqual((await lambda().send(new ListLayerVersionsCommand({ LayerName: 'shared' }))).LayerVersions!.map((v) => v.Version), [1]);
    assert.equal((await lambdaAs(rootB).send(new GetLayerVersionByArnCommand({ Arn: `arn:aws:lambda:${REGION}:${A}:layer:shared:1` }))).Version, 1);
    assert.equal((await lambdaAs(rootB).send(new InvokeCommand({ FunctionName: fnArn('from-s3') }))).StatusCode, 200);
    assert.equal((await lambda().send(new GetFunctionConcurrencyCommand({ FunctionName: 'limited' }))).ReservedConcurrentExecutions, 1);
    assert.deepEqual((await lambda().send(new ListTagsCommand({ Resource: fnArn('hello') }))).Tags, { env: 'test' });
    const code = (await lambda().send(new GetFunctionCommand({ FunctionName: 'hello' }))).Code!.Location!;
    assert.deepEqual(Buffer.from(await (await fetch(code)).arrayBuffer()), nodeZip);
  });
});
