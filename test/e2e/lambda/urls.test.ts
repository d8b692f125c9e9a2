import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  UpdateFunctionUrlConfigCommand,
  DeleteFunctionUrlConfigCommand,
  ListFunctionUrlConfigsCommand,
  AddPermissionCommand,
  GetPolicyCommand,
  PutFunctionConcurrencyCommand,
  DeleteFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { IAMClient, CreateRoleCommand, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { buildZip } from '../../helpers/lambda.js';

/**
 * Lambda function URLs end to end: the URL configuration API through the SDK, and the URLs
 * themselves through plain HTTP with Host: <url-id>.lambda-url.us-east-1.localhost:<port>,
 * running real Node handlers. Auth (NONE needs the resource policy's two statements;
 * AWS_IAM needs a SigV4 signature and IAM's allow), payload 2.0 events, response inference,
 * function errors and CORS.
 */
let server: TestServer;
let lambda: LambdaClient;
let iam: IAMClient;
const ACCOUNT = '000000000000';
const FN = 'urlfn';
const FN_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${FN}`;
type Creds = { accessKeyId: string; secretAccessKey: string };

const APP = `
exports.handler = async (event, context) => {
  switch (event.rawPath) {
    case '/string': return 'Hello, world!';
    case '/object': return { message: 'Hello, world!', n: 1 };
    case '/full': return {
      statusCode: 201,
      headers: { 'Content-Type': 'image/png', 'X-Custom': 'Custom Value', 'Access-Control-Allow-Origin': 'https://function.example' },
      cookies: ['Cookie_1=Value1; Path=/', 'Cookie_2=Value2; Max-Age=78000'],
      body: Buffer.from([0, 1, 2, 254, 255]).toString('base64'),
      isBase64Encoded: true,
    };
    case '/no-body': return { statusCode: 204 };
    case '/bad-status': return { statusCode: 'nope', body: 'x' };
    case '/boom': throw new TypeError('it broke');
    case '/version': return { version: process.env.AWS_LAMBDA_FUNCTION_VERSION, arn: context.invokedFunctionArn };
    default: return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event, requestId: context.awsRequestId }) };
  }
};
`;

const fail = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'ok', message: '', status: 0 }),
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({ name: e.name, message: e.message, status: e.$metadata?.httpStatusCode ?? 0 }),
  );

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json(): any;
}

/** One HTTP request to a function URL on the test server (loopback, with the URL's Host). */
function call(urlId: string, opts: { method?: string; path?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {}): Promise<Reply> {
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { host: `${urlId}.lambda-url.${REGION}.localhost:${server.port}`, ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body: b, text: b.toString('utf8'), json: () => JSON.parse(b.toString('utf8')) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** SHA-256 (and HMAC-SHA-256) for @smithy/signature-v4, from node:crypto. */
const bytes = (d: SourceData): string | Buffer => (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));
class Sha256 {
  private h;
  constructor(secret?: SourceData) {
    this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/** A request to a function URL, SigV4-signed for service "lambda" as awscurl and SDKs sign. */
async function signedCall(urlId: string, creds: Creds, opts: { method?: string; path?: string; query?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const host = `${urlId}.lambda-url.${REGION}.localhost:${server.port}`;
  const signer = new SignatureV4({ service: 'lambda', region: REGION, credentials: creds, sha256: Sha256 });
  const signed = await signer.sign({
    method: opts.method ?? 'GET',
    protocol: 'http:',
    hostname: host,
    path: opts.path ?? '/',
    query: opts.query ?? {},
    headers: { host, ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body,
  });
  const qs = new URLSearchParams(opts.query ?? {}).toString();
  return call(urlId, { method: signed.method, path: `${opts.path ?? '/'}${qs ? `?${qs}` : ''}`, headers: signed.headers as Record<string, string>, body: opts.body });
}

async function userWithKey(name: string, policy?: unknown): Promise<Creds> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
}

async function waitActive(name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (c.State === 'Active' && c.LastUpdateStatus === 'Successful') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not become Active`);
}

const urlIdOf = (url: string) => /^http:\/\/([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)\/$/.exec(url)?.[1] ?? '';

/** The two statements a public URL needs since October 2025 (urls-auth.html). */
async function makePublic(fn: string): Promise<void> {
  await lambda.send(new AddPermissionCommand({ FunctionName: fn, StatementId: 'FunctionURLAllowPublicAccess', Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' }));
  await lambda.send(new AddPermissionCommand({ FunctionName: fn, StatementId: 'FunctionURLInvokeAllowPublicAccess', Action: 'lambda:InvokeFunction', Principal: '*', InvokedViaFunctionUrl: true }));
}

before(async () => {
  server = await startServer();
  lambda = new LambdaClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: 'url-exec',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  const zip = await buildZip({ 'index.js': APP });
  for (const name of [FN, 'urlfn-iam', 'urlfn-crud']) {
    await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: role.Role!.Arn!, Code: { ZipFile: zip }, Timeout: 10 }));
    await waitActive(name);
  }
  await lambda.send(new PublishVersionCommand({ FunctionName: FN }));
  await lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'live', FunctionVersion: '1' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'urlfn-crud', Name: 'prod', FunctionVersion: '$LATEST' }));
});

after(async () => {
  lambda?.destroy();
  iam?.destroy();
  await server?.dispose();
});

describe('function URL configurations (API)', () => {
  let urlId = '';

  it('CreateFunctionUrlConfig returns a stable http://<32 alphanumerics>.lambda-url.<region>.localhost:<port>/ URL', async () => {
    const out = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', AuthType: 'NONE' }));
    assert.equal(out.$metadata.httpStatusCode, 201);
    urlId = urlIdOf(out.FunctionUrl!);
    assert.match(urlId, /^[a-z0-9]{32}$/, out.FunctionUrl);
    assert.equal(out.FunctionUrl, `http://${urlId}.lambda-url.${REGION}.localhost:${server.port}/`);
    assert.equal(out.FunctionArn, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-crud`);
    assert.equal(out.AuthType, 'NONE');
    assert.equal(out.InvokeMode, 'BUFFERED');
    assert.match(out.CreationTime!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud' }));
    assert.equal(got.FunctionUrl, out.FunctionUrl);
    assert.equal(got.LastModifiedTime, got.CreationTime);
  });

  it('refuses a second URL for the same qualifier ($LATEST is the unqualified URL) with ResourceConflictException', async () => {
    for (const Qualifier of [undefined, '$LATEST']) {
      const e = await fail(lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', Qualifier, AuthType: 'AWS_IAM' })));
      assert.equal(e.name, 'ResourceConflictException');
      assert.equal(e.status, 409);
      assert.equal(e.message, `Failed to create function url config for [functionArn = arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-crud]. Error message:  FunctionUrlConfig exists for this Lambda function`);
    }
  });

  it('gives an alias its own URL, refuses versions, missing aliases and missing functions', async () => {
    const alias = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', Qualifier: 'prod', AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' }));
    assert.equal(alias.FunctionArn, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-crud:prod`);
    assert.notEqual(urlIdOf(alias.FunctionUrl!), urlId);
    assert.equal(alias.InvokeMode, 'RESPONSE_STREAM');
    const version = await fail(lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', Qualifier: '1', AuthType: 'NONE' })));
    assert.equal(version.name, 'ValidationException');
    assert.match(version.message, /Value '1' at 'qualifier' failed to satisfy constraint/);
    const noAlias = await fail(lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', Qualifier: 'nope', AuthType: 'NONE' })));
    assert.equal(noAlias.name, 'ResourceNotFoundException');
    const noFn = await fail(lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'missing', AuthType: 'NONE' })));
    assert.equal(noFn.name, 'ResourceNotFoundException');
    assert.equal(noFn.message, 'Function does not exist');
    const badAuth = await fail(lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', Qualifier: 'prod', AuthType: 'OPEN' as never })));
    assert.equal(badAuth.name, 'ValidationException');
    const badCors = await fail(lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', Cors: { MaxAge: 86401 } })));
    assert.equal(badCors.name, 'ValidationException');
  });

  it('UpdateFunctionUrlConfig changes auth type and CORS but never the URL', async () => {
    const before = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud' }));
    await new Promise((r) => setTimeout(r, 5));
    const cors = { AllowOrigins: ['https://app.example'], AllowMethods: ['GET', 'POST'], AllowHeaders: ['x-token'], ExposeHeaders: ['x-out'], MaxAge: 300, AllowCredentials: true };
    const out = await lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', AuthType: 'AWS_IAM', Cors: cors }));
    assert.equal(out.FunctionUrl, before.FunctionUrl);
    assert.equal(out.AuthType, 'AWS_IAM');
    assert.deepEqual(out.Cors, cors);
    assert.equal(out.CreationTime, before.CreationTime);
    assert.ok(out.LastModifiedTime! > before.LastModifiedTime!, `${out.LastModifiedTime} > ${before.LastModifiedTime}`);
    const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud' }));
    assert.deepEqual(got.Cors, cors);
    assert.equal(got.InvokeMode, 'BUFFERED');
    const missing = await fail(lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: FN, Qualifier: 'live', AuthType: 'NONE' })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.message, 'The resource you requested does not exist.');
  });

  it('ListFunctionUrlConfigs lists $LATEST then the aliases, page by page', async () => {
    const all = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'urlfn-crud' }));
    assert.deepEqual(
      all.FunctionUrlConfigs!.map((c) => c.FunctionArn),
      [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-crud`, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-crud:prod`],
    );
    assert.equal(all.NextMarker, undefined);
    const p1 = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'urlfn-crud', MaxItems: 1 }));
    assert.equal(p1.FunctionUrlConfigs!.length, 1);
    assert.ok(p1.NextMarker);
    const p2 = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'urlfn-crud', MaxItems: 1, Marker: p1.NextMarker }));
    assert.equal(p2.FunctionUrlConfigs![0]!.FunctionArn, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-crud:prod`);
    assert.equal(p2.NextMarker, undefined);
    const none = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'urlfn-iam' }));
    assert.deepEqual(none.FunctionUrlConfigs, []);
  });

  it('DeleteFunctionUrlConfig removes the URL: Get is ResourceNotFoundException and the host answers 403', async () => {
    const del = await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const e = await fail(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud' })));
    assert.equal(e.name, 'ResourceNotFoundException');
    assert.equal(e.message, 'The resource you requested does not exist.');
    const again = await fail(lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud' })));
    assert.equal(again.name, 'ResourceNotFoundException');
    const r = await call(urlId);
    assert.equal(r.status, 403);
    const unknown = await call('0123456789abcdefghijklmnopqrstuv');
    assert.equal(unknown.status, 403);
    // A new URL is a new address.
    const fresh = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-crud', AuthType: 'NONE' }));
    assert.notEqual(urlIdOf(fresh.FunctionUrl!), urlId);
  });
});

describe('a function URL with AuthType NONE', () => {
  let urlId = '';
  before(async () => {
    const out = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: FN, AuthType: 'NONE' }));
    urlId = urlIdOf(out.FunctionUrl!);
  });

  it('is 403 {"Message":"Forbidden"} until the resource policy allows both InvokeFunctionUrl and InvokeFunction', async () => {
    let r = await call(urlId, { path: '/string' });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json(), { Message: 'Forbidden' });
    assert.equal(r.headers['x-amzn-errortype'], 'AccessDeniedException');
    await lambda.send(new AddPermissionCommand({ FunctionName: FN, StatementId: 'FunctionURLAllowPublicAccess', Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' }));
    r = await call(urlId, { path: '/string' });
    assert.equal(r.status, 403, 'lambda:InvokeFunctionUrl alone is not enough since October 2025');
    await lambda.send(new AddPermissionCommand({ FunctionName: FN, StatementId: 'FunctionURLInvokeAllowPublicAccess', Action: 'lambda:InvokeFunction', Principal: '*', InvokedViaFunctionUrl: true }));
    const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: FN }))).Policy!);
    assert.deepEqual(policy.Statement[0].Condition, { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } });
    assert.deepEqual(policy.Statement[1].Condition, { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } });
    r = await call(urlId, { path: '/string' });
    assert.equal(r.status, 200);
    assert.ok(r.headers['x-amzn-requestid']);
  });

  it('hands the function an HTTP API payload 2.0 event', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const r = await call(urlId, {
      method: 'POST',
      path: '/my/path%20x?parameter1=value1&parameter1=value2&parameter2=a%20b',
      headers: { 'content-type': 'application/json', 'user-agent': 'url-test/1.0', 'x-multi': ['a', 'b'], cookie: 'cookie1=v1; cookie2=v2', 'X-Mixed-Case': 'Yes' },
      body,
    });
    assert.equal(r.status, 200, r.text);
    const { event, requestId } = r.json();
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/my/path%20x');
    assert.equal(event.rawQueryString, 'parameter1=value1&parameter1=value2&parameter2=a%20b');
    assert.deepEqual(event.queryStringParameters, { parameter1: 'value1,value2', parameter2: 'a b' });
    assert.deepEqual(event.cookies, ['cookie1=v1', 'cookie2=v2']);
    assert.equal(event.headers['x-multi'], 'a,b');
    assert.equal(event.headers['x-mixed-case'], 'Yes');
    assert.equal(event.headers['content-type'], 'application/json');
    assert.equal(event.headers.host, `${urlId}.lambda-url.${REGION}.localhost:${server.port}`);
    assert.equal(event.headers.cookie, undefined, 'cookies move to event.cookies');
    assert.equal(event.headers['x-forwarded-proto'], 'http');
    assert.equal(event.headers['x-forwarded-for'], '127.0.0.1');
    assert.match(event.headers['x-amzn-trace-id'], /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(event.body, body);
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.pathParameters, undefined);
    const rc = event.requestContext;
    assert.equal(rc.accountId, 'anonymous');
    assert.equal(rc.apiId, urlId);
    assert.equal(rc.authorizer, undefined);
    assert.equal(rc.domainName, `${urlId}.lambda-url.${REGION}.localhost`);
    assert.equal(rc.domainPrefix, urlId);
    assert.deepEqual(rc.http, { method: 'POST', path: '/my/path%20x', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'url-test/1.0' });
    assert.equal(rc.requestId, requestId, 'the invocation id');
    assert.equal(rc.requestId, r.headers['x-amzn-requestid']);
    assert.equal(rc.routeKey, '$default');
    assert.equal(rc.stage, '$default');
    assert.match(rc.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    assert.equal(typeof rc.timeEpoch, 'number');
    assert.ok(Math.abs(rc.timeEpoch - Date.now()) < 60_000);
  });

  it('base64-encodes binary bodies and leaves out an empty one', async () => {
    const bytes = Buffer.from([0, 1, 2, 200, 255]);
    let { event } = (await call(urlId, { method: 'PUT', path: '/bin', headers: { 'content-type': 'application/octet-stream' }, body: bytes })).json();
    assert.equal(event.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(event.body, 'base64'), bytes);
    ({ event } = (await call(urlId, { path: '/empty' })).json());
    assert.equal(event.body, undefined);
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.queryStringParameters, undefined);
    assert.equal(event.cookies, undefined);
    assert.equal(event.rawQueryString, '');
  });

  it('infers the response: a string is 200 application/json with the JSON string as body', async () => {
    const r = await call(urlId, { path: '/string' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.text, '"Hello, world!"');
    assert.equal(r.headers['content-length'], '15');
  });

  it('infers the response: an object without statusCode is 200 application/json with that object', async () => {
    const r = await call(urlId, { path: '/object' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(r.json(), { message: 'Hello, world!', n: 1 });
  });

  it('takes a full response: status, headers, cookies as Set-Cookie, base64 body', async () => {
    const r = await call(urlId, { path: '/full' });
    assert.equal(r.status, 201);
    assert.equal(r.headers['content-type'], 'image/png');
    assert.equal(r.headers['x-custom'], 'Custom Value');
    assert.deepEqual(r.headers['set-cookie'], ['Cookie_1=Value1; Path=/', 'Cookie_2=Value2; Max-Age=78000']);
    assert.deepEqual(r.body, Buffer.from([0, 1, 2, 254, 255]));
    const empty = await call(urlId, { path: '/no-body' });
    assert.equal(empty.status, 204);
    assert.equal(empty.body.length, 0);
    const head = await call(urlId, { method: 'HEAD', path: '/object' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('answers 502 when the function fails or returns what HTTP cannot carry', async () => {
    const r = await call(urlId, { path: '/boom' });
    assert.equal(r.status, 502);
    assert.equal(r.text, 'Internal Server Error');
    const bad = await call(urlId, { path: '/bad-status' });
    assert.equal(bad.status, 502);
  });

  it('refuses a request body over 6 MB with 413 without invoking', async () => {
    const r = await call(urlId, { method: 'POST', path: '/big', headers: { 'content-type': 'text/plain' }, body: Buffer.alloc(6 * 1024 * 1024 + 1, 97) });
    assert.equal(r.status, 413);
  });

  it('answers 429 while the function is throttled (reserved concurrency 0)', async () => {
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: FN, ReservedConcurrentExecutions: 0 }));
    try {
      const r = await call(urlId, { path: '/string' });
      assert.equal(r.status, 429);
    } finally {
      await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: FN }));
    }
    assert.equal((await call(urlId, { path: '/string' })).status, 200);
  });
});

describe('a function URL with AuthType AWS_IAM', () => {
  let urlId = '';
  let allowed: Creds;
  let urlOnly: Creds;
  let nobody: Creds;
  before(async () => {
    const out = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'urlfn-iam', AuthType: 'AWS_IAM' }));
    urlId = urlIdOf(out.FunctionUrl!);
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:urlfn-iam`;
    allowed = await userWithKey('url-invoker', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction'], Resource: arn }] });
    urlOnly = await userWithKey('url-only', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunctionUrl', Resource: arn, Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }] });
    nobody = await userWithKey('url-nobody');
  });

  it('refuses an unsigned request with 403', async () => {
    const r = await call(urlId, { path: '/string' });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json(), { Message: 'Forbidden' });
  });

  it('runs a request signed by a user IAM allows, with the caller in requestContext.authorizer.iam', async () => {
    const r = await signedCall(urlId, allowed, { method: 'POST', path: '/echo', query: { a: '1' }, body: '{"x":1}' });
    assert.equal(r.status, 200, r.text);
    const { event } = r.json();
    assert.equal(event.requestContext.accountId, ACCOUNT);
    assert.deepEqual(event.requestContext.authorizer.iam, {
      accessKey: allowed.accessKeyId,
      accountId: ACCOUNT,
      callerId: event.requestContext.authorizer.iam.userId,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: `arn:aws:iam::${ACCOUNT}:user/url-invoker`,
      userId: event.requestContext.authorizer.iam.userId,
    });
    assert.match(event.requestContext.authorizer.iam.userId, /^AIDA/);
    assert.equal(event.body, '{"x":1}');
    assert.deepEqual(event.queryStringParameters, { a: '1' });
    assert.ok(event.headers.authorization.startsWith('AWS4-HMAC-SHA256 '));
  });

  it('refuses users IAM does not allow both actions, a wrong signature, and a signature for another service', async () => {
    assert.equal((await signedCall(urlId, nobody, { path: '/string' })).status, 403);
    assert.equal((await signedCall(urlId, urlOnly, { path: '/string' })).status, 403, 'lambda:InvokeFunction is needed too');
    const forged = await signedCall(urlId, { accessKeyId: allowed.accessKeyId, secretAccessKey: 'not-the-secret' }, { path: '/string' });
    assert.equal(forged.status, 403);
    assert.deepEqual(forged.json(), { Message: 'Forbidden' });
    // A signed body that was changed on the way.
    const host = `${urlId}.lambda-url.${REGION}.localhost:${server.port}`;
    const signer = new SignatureV4({ service: 'lambda', region: REGION, credentials: allowed, sha256: Sha256 });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: host, path: '/echo', headers: { host }, body: 'original' });
    assert.equal((await call(urlId, { method: 'POST', path: '/echo', headers: signed.headers as Record<string, string>, body: 'tampered' })).status, 403);
    const s3Signer = new SignatureV4({ service: 's3', region: REGION, credentials: allowed, sha256: Sha256 });
    const s3Signed = await s3Signer.sign({ method: 'GET', protocol: 'http:', hostname: host, path: '/string', headers: { host } });
    assert.equal((await call(urlId, { path: '/string', headers: s3Signed.headers as Record<string, string> })).status, 403);
  });

  it('lets the account root in without any policy', async () => {
    const r = await signedCall(urlId, CREDENTIALS, { path: '/object' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { message: 'Hello, world!', n: 1 });
  });
});

describe('a function URL on an alias', () => {
  it('invokes the version the alias points to, with the alias ARN, under the alias resource policy', async () => {
    const out = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: FN, Qualifier: 'live', AuthType: 'NONE' }));
    const urlId = urlIdOf(out.FunctionUrl!);
    // The unqualified function's public statements do not cover the alias.
    assert.equal((await call(urlId, { path: '/version' })).status, 403);
    await makePublic(`${FN}:live`);
    const r = await call(urlId, { path: '/version' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { version: '1', arn: `${FN_ARN}:live` });
  });
});

describe('function URLs of other handlers', () => {
  let role = '';
  before(async () => {
    role = `arn:aws:iam::${ACCOUNT}:role/url-exec`;
  });

  async function publicUrl(name: string, runtime: 'nodejs20.x' | 'python3.11', handler: string, files: Record<string, string>, invokeMode?: 'RESPONSE_STREAM'): Promise<string> {
    await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime, Handler: handler, Role: role, Code: { ZipFile: await buildZip(files) }, Timeout: 10 }));
    await waitActive(name);
    await makePublic(name);
    return urlIdOf((await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE', InvokeMode: invokeMode }))).FunctionUrl!);
  }

  it('RESPONSE_STREAM: HttpResponseStream.from sets status, headers and cookies; a bare stream is application/octet-stream', async () => {
    const urlId = await publicUrl('urlfn-stream', 'nodejs20.x', 'index.handler', {
      'index.js': `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
        if (event.rawPath === '/raw') { responseStream.write('raw '); responseStream.end('bytes'); return; }
        const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 202, headers: { 'content-type': 'text/plain', 'x-s': '1' }, cookies: ['s=1'] });
        s.write('hello ');
        s.end('stream');
      });`,
    }, 'RESPONSE_STREAM');
    const r = await call(urlId);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['x-s'], '1');
    assert.deepEqual(r.headers['set-cookie'], ['s=1']);
    assert.equal(r.text, 'hello stream');
    const raw = await call(urlId, { path: '/raw' });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-type'], 'application/octet-stream');
    assert.equal(raw.text, 'raw bytes');
  });

  it('a Python handler gets the same event, and its dict without statusCode is inferred as JSON', async () => {
    const urlId = await publicUrl('urlfn-py', 'python3.11', 'app.handler', {
      'app.py': `def handler(event, context):
    return {"path": event["rawPath"], "q": event.get("queryStringParameters"), "method": event["requestContext"]["http"]["method"], "id": context.aws_request_id}
`,
    });
    const r = await call(urlId, { path: '/py/path?x=1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'application/json');
    const out = r.json();
    assert.deepEqual({ ...out, id: undefined }, { path: '/py/path', q: { x: '1' }, method: 'GET', id: undefined });
    assert.equal(out.id, r.headers['x-amzn-requestid']);
  });
});

describe('function URL CORS', () => {
  let urlId = '';
  const cors = { AllowOrigins: ['https://app.example'], AllowMethods: ['GET', 'POST'], AllowHeaders: ['x-token', 'content-type'], ExposeHeaders: ['x-custom'], MaxAge: 600, AllowCredentials: true };
  before(async () => {
    // The NONE URL of the public function: add CORS to it.
    const list = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: FN }));
    urlId = urlIdOf(list.FunctionUrlConfigs!.find((c) => c.FunctionArn === FN_ARN)!.FunctionUrl!);
    await lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: FN, Cors: cors }));
  });

  it('answers a preflight from the configuration without invoking the function', async () => {
    const r = await call(urlId, { method: 'OPTIONS', path: '/boom', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-token' } });
    assert.equal(r.status, 200, 'the failing /boom handler was not run');
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(r.headers['access-control-allow-headers'], 'x-token,content-type');
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.body.length, 0);
  });

  it('gives a preflight from another origin, or for another method, no CORS headers', async () => {
    const other = await call(urlId, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const method = await call(urlId, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE' } });
    assert.equal(method.headers['access-control-allow-origin'], undefined);
    assert.equal(method.headers['access-control-allow-methods'], undefined);
  });

  it("adds the configured headers to responses for an allowed origin, over the function's own", async () => {
    const r = await call(urlId, { path: '/full', headers: { origin: 'https://app.example' } });
    assert.equal(r.status, 201);
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example', 'the configuration wins over the function');
    assert.equal(r.headers['access-control-expose-headers'], 'x-custom');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['x-custom'], 'Custom Value');
    const other = await call(urlId, { path: '/object', headers: { origin: 'https://evil.example' } });
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const noOrigin = await call(urlId, { path: '/object' });
    assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
  });

  it('with AllowOrigins * and AllowMethods/AllowHeaders *, echoes what the browser asks for', async () => {
    await lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: FN, Cors: { AllowOrigins: ['*'], AllowMethods: ['*'], AllowHeaders: ['*'] } }));
    const r = await call(urlId, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'x-a,x-b' } });
    assert.equal(r.headers['access-control-allow-origin'], 'http://localhost:5173');
    assert.equal(r.headers['access-control-allow-methods'], 'PATCH');
    assert.equal(r.headers['access-control-allow-headers'], 'x-a,x-b');
    assert.equal(r.headers['access-control-max-age'], undefined);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  it('without a CORS configuration, OPTIONS goes to the function', async () => {
    await lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: FN, Cors: {} }));
    const r = await call(urlId, { method: 'OPTIONS', path: '/echo', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 200);
    assert.equal(r.json().event.requestContext.http.method, 'OPTIONS');
  });
});
