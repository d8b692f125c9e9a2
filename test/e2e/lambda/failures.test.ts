import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient, CreateFunctionCommand, InvokeCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { buildZip } from '../../helpers/lambda.js';

/**
 * How invocations fail, through the Invoke API with SDK v3: a timeout kills the
 * environment ("Task timed out after N.NN seconds") and the next invoke starts fresh; a
 * function over its memory size is killed (Runtime.OutOfMemory); a process that exits
 * mid-invoke is Runtime.ExitError; each as AWS reports it, with REPORT lines in the logs.
 */
let server: TestServer;
let lambda: LambdaClient;
let logs: CloudWatchLogsClient;
const ROLE = 'arn:aws:iam::000000000000:role/fail-exec';

const FAILING = `
let invocations = 0;
exports.handler = async (event) => {
  invocations++;
  if (event.mode === 'sleep') await new Promise((r) => setTimeout(r, 5000));
  if (event.mode === 'hog') { const a = []; for (;;) a.push(Buffer.alloc(8 << 20, 1)); }
  if (event.mode === 'exit') process.exit(3);
  return { invocations };
};
`;

async function create(name: string, memory = 128, timeout = 1): Promise<void> {
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await buildZip({ 'index.js': FAILING }) }, MemorySize: memory, Timeout: timeout }));
  for (let i = 0; i < 50; i++) {
    if ((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).State === 'Active') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${name} did not become Active`);
}

async function call(name: string, payload: unknown) {
  const r = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail' }));
  return { error: r.FunctionError, body: JSON.parse(Buffer.from(r.Payload ?? []).toString('utf8') || 'null'), tail: Buffer.from(r.LogResult ?? '', 'base64').toString('utf8') };
}

before(async () => {
  server = await startServer();
  lambda = new LambdaClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  logs = new CloudWatchLogsClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  await iam.send(new CreateRoleCommand({ RoleName: 'fail-exec', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
  iam.destroy();
});
after(async () => {
  lambda?.destroy();
  logs?.destroy();
  await server?.dispose();
});

describe('invocation failures through the API', () => {
  it('a timeout is Sandbox.Timedout "Task timed out after 1.00 seconds", and the next invoke starts a fresh environment', async () => {
    await create('slow', 128, 1);
    assert.deepEqual((await call('slow', {})).body, { invocations: 1 });
    assert.deepEqual((await call('slow', {})).body, { invocations: 2 });
    const t = await call('slow', { mode: 'sleep' });
    assert.equal(t.error, 'Unhandled');
    assert.equal(t.body.errorType, 'Sandbox.Timedout');
    assert.match(t.body.errorMessage, /Task timed out after 1\.\d\d seconds/);
    assert.match(t.tail, /REPORT RequestId: .*Status: timeout/);
    // The killed environment is gone: the module-level counter starts again.
    assert.deepEqual((await call('slow', {})).body, { invocations: 1 });
  });

  it('a function over its memory size is killed: Runtime.OutOfMemory, "signal: killed"', async () => {
    await create('hog', 128, 10);
    const r = await call('hog', { mode: 'hog' });
    assert.equal(r.error, 'Unhandled');
    assert.equal(r.body.errorType, 'Runtime.OutOfMemory');
    assert.match(r.body.errorMessage, /Runtime exited with error: signal: killed/);
    assert.deepEqual((await call('hog', {})).body, { invocations: 1 });
  });

  it('a process that exits mid-invoke is Runtime.ExitError, and the failure is in the function\'s log group', async () => {
    await create('quitter', 128, 3);
    const r = await call('quitter', { mode: 'exit' });
    assert.equal(r.error, 'Unhandled');
    assert.equal(r.body.errorType, 'Runtime.ExitError');
    assert.match(r.body.errorMessage, /Runtime exited with error: exit status 3/);
    assert.deepEqual((await call('quitter', {})).body, { invocations: 1 });
    let events: string[] = [];
    // Both invocations' lines arrive through the batching log writer: wait for all of them.
    const complete = () => events.some((m) => /exit status 3/.test(m)) && events.filter((m) => /^REPORT RequestId: /.test(m)).length >= 2;
    for (let i = 0; i < 50 && !complete(); i++) {
      events = ((await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/quitter' }))).events ?? []).map((e) => e.message ?? '');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(events.some((m) => /^START RequestId: /.test(m)), events.join('\n'));
    assert.ok(events.some((m) => /exit status 3/.test(m)), events.join('\n'));
    assert.ok(events.filter((m) => /^REPORT RequestId: /.test(m)).length >= 2, events.join('\n'));
  });
});

describe('runtimes CreateFunction refuses', () => {
  const attempt = async (Runtime: string) => {
    try {
      await lambda.send(new CreateFunctionCommand({ FunctionName: `rt-${Runtime.replace(/\W/g, '')}`, Runtime: Runtime as never, Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await buildZip({ 'index.js': FAILING }) } }));
      return { name: 'ok', message: '' };
    } catch (e) {
      return { name: (e as Error).name, message: (e as Error).message };
    }
  };

  it('a deprecated runtime with AWS\'s suggestion, one Nimbus cannot run locally, and one that does not exist', async () => {
    const old = await attempt('nodejs16.x');
    assert.equal(old.name, 'InvalidParameterValueException');
    assert.match(old.message, /The runtime parameter of nodejs16.x is no longer supported for creating or updating AWS Lambda functions\. We recommend you use the new runtime \(nodejs22.x\)/);
    const java = await attempt('java21');
    assert.equal(java.name, 'InvalidParameterValueException');
    assert.match(java.message, /java21 is not supported by Nimbus/);
    const bogus = await attempt('cobol85');
    assert.equal(bogus.name, 'ValidationException');
    assert.match(bogus.message, /Value 'cobol85' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set/);
  });
});
