import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../../helpers/server.js';
import { awsEnv, python, requireAwsCli, requireBoto3, runPython } from '../../helpers/python.js';

/**
 * The Lambda issue's walkthrough with the AWS CLI (v1 on this machine: blob parameters
 * such as --payload are raw text, so there is no --cli-binary-format) and boto3: a Python
 * function that uses boto3.client("s3") with no endpoint configured, invoked with its log
 * tail, then its log group read back through CloudWatch Logs.
 */
let server: TestServer;
let dir: string;

function aws(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('aws', args, { env: awsEnv(server.url), encoding: 'utf8', cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(args: string[]): any {
  const r = aws(args);
  assert.equal(r.status, 0, `aws ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

// Copies incoming/<k>.jpg to thumbs/<k>.jpg in $BUCKET with boto3 (no endpoint configured).
const FUNCTION_PY = `import json, os
import boto3

def lambda_handler(event, context):
    print("thumbs got", json.dumps(event))
    s3 = boto3.client("s3")
    bucket = os.environ["BUCKET"]
    s3.copy_object(Bucket=bucket, Key="thumbs/%s.jpg" % event["k"], CopySource={"Bucket": bucket, "Key": "incoming/%s.jpg" % event["k"]})
    try:
        s3.delete_bucket(Bucket=bucket)
        denied = False
    except Exception as e:
        denied = "AccessDenied" in str(e)
    return {"k": event["k"], "request": context.aws_request_id, "deleteDenied": denied, "remaining": context.get_remaining_time_in_millis() > 0}
`;

before(async () => {
  requireAwsCli();
  requireBoto3();
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'nimbus-lambda-cli-'));
  writeFileSync(join(dir, 'lambda_function.py'), FUNCTION_PY);
  // zip fn.zip lambda_function.py
  const z = spawnSync(python(), ['-c', 'import zipfile; z = zipfile.ZipFile("fn.zip", "w"); z.write("lambda_function.py"); z.close()'], { cwd: dir, encoding: 'utf8' });
  assert.equal(z.status, 0, z.stderr);
  writeFileSync(join(dir, 'lambda-trust.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }));
});
after(async () => {
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Lambda with the AWS CLI', () => {
  it('creates the role and the function, waits for it to be active, and lists it', () => {
    assert.equal(aws(['s3', 'mb', 's3://photos']).status, 0);
    ok(['iam', 'create-role', '--role-name', 'lambda-exec', '--assume-role-policy-document', 'file://lambda-trust.json']);
    ok(['iam', 'attach-role-policy', '--role-name', 'lambda-exec', '--policy-arn', 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    ok(['iam', 'put-role-policy', '--role-name', 'lambda-exec', '--policy-name', 'photos', '--policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/incoming/*' }, { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::photos/thumbs/*' }] })]);
    writeFileSync(join(dir, 'cat.jpg'), Buffer.alloc(3000, 7));
    for (const k of [1, 2, 3]) assert.equal(aws(['s3', 'cp', 'cat.jpg', `s3://photos/incoming/${k}.jpg`]).status, 0);
    const fn = ok([
      'lambda', 'create-function', '--function-name', 'thumbs', '--runtime', 'python3.12', '--handler', 'lambda_function.lambda_handler',
      '--role', 'arn:aws:iam::000000000000:role/lambda-exec', '--zip-file', 'fileb://fn.zip', '--environment', 'Variables={BUCKET=photos}',
    ]);
    assert.equal(fn.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:thumbs');
    assert.equal(fn.Runtime, 'python3.12');
    assert.deepEqual(fn.Environment, { Variables: { BUCKET: 'photos' } });
    const wait = aws(['lambda', 'wait', 'function-active', '--function-name', 'thumbs']);
    assert.equal(wait.status, 0, wait.stderr);
    assert.equal(ok(['lambda', 'get-function-configuration', '--function-name', 'thumbs']).State, 'Active');
    assert.deepEqual(ok(['lambda', 'list-functions']).Functions.map((f: { FunctionName: string }) => f.FunctionName), ['thumbs']);
  });

  it('invokes it with --log-type Tail: the payload comes back and the log tail has START/END/REPORT', () => {
    const r = ok(['lambda', 'invoke', '--function-name', 'thumbs', '--payload', '{"k":1}', '--log-type', 'Tail', 'out.json']);
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, undefined, readFileSync(join(dir, 'out.json'), 'utf8'));
    assert.equal(r.ExecutedVersion, '$LATEST');
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    assert.equal(out.k, 1);
    // The role may copy within photos but not delete the bucket: enforced inside the function.
    assert.equal(out.deleteDenied, true);
    assert.equal(out.remaining, true);
    const tail = Buffer.from(r.LogResult, 'base64').toString('utf8');
    assert.match(tail, new RegExp(`START RequestId: ${out.request} Version: \\$LATEST`));
    assert.match(tail, /thumbs got \{"k": 1\}/);
    assert.match(tail, new RegExp(`END RequestId: ${out.request}`));
    assert.match(tail, /REPORT RequestId: .*\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/);
    // boto3 inside the function reached Nimbus with the role's credentials and copied it.
    const obj = ok(['s3api', 'head-object', '--bucket', 'photos', '--key', 'thumbs/1.jpg']);
    assert.equal(obj.ContentLength, 3000);
  });

  it('the same code under a role that forbids the copy fails inside the function with AccessDenied', () => {
    ok(['iam', 'create-role', '--role-name', 'lambda-logs-only', '--assume-role-policy-document', 'file://lambda-trust.json']);
    ok(['iam', 'attach-role-policy', '--role-name', 'lambda-logs-only', '--policy-arn', 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    ok([
      'lambda', 'create-function', '--function-name', 'thumbs-no-s3', '--runtime', 'python3.12', '--handler', 'lambda_function.lambda_handler',
      '--role', 'arn:aws:iam::000000000000:role/lambda-logs-only', '--zip-file', 'fileb://fn.zip', '--environment', 'Variables={BUCKET=photos}',
    ]);
    assert.equal(aws(['lambda', 'wait', 'function-active', '--function-name', 'thumbs-no-s3']).status, 0);
    const r = ok(['lambda', 'invoke', '--function-name', 'thumbs-no-s3', '--payload', '{"k":1}', 'denied.json']);
    assert.equal(r.FunctionError, 'Unhandled');
    const err = JSON.parse(readFileSync(join(dir, 'denied.json'), 'utf8'));
    // The Python runtime reports the exception's class: botocore's error class for the code.
    assert.match(err.errorType, /^(ClientError|AccessDenied)$/);
    assert.match(err.errorMessage, /AccessDenied.*User: arn:aws:sts::000000000000:assumed-role\/lambda-logs-only\/thumbs-no-s3 is not authorized to perform: s3:(GetObject|PutObject)/);
    assert.ok(Array.isArray(err.stackTrace));
    ok(['lambda', 'delete-function', '--function-name', 'thumbs-no-s3']);
  });

  it("writes the function's log to /aws/lambda/thumbs, readable with filter-log-events", () => {
    const streams = ok(['logs', 'describe-log-streams', '--log-group-name', '/aws/lambda/thumbs']);
    assert.ok(streams.logStreams.length >= 1);
    assert.match(streams.logStreams[0].logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    const events = ok(['logs', 'filter-log-events', '--log-group-name', '/aws/lambda/thumbs', '--filter-pattern', '"thumbs got"']);
    assert.equal(events.events.length, 1);
    assert.match(events.events[0].message, /thumbs got \{"k": 1\}/);
    const reports = ok(['logs', 'filter-log-events', '--log-group-name', '/aws/lambda/thumbs', '--filter-pattern', 'REPORT']);
    assert.equal(reports.events.length, 1);
    assert.match(reports.events[0].message, /Init Duration: [\d.]+ ms/);
  });

  it('boto3: invoke, update the configuration, publish a version and invoke it by qualifier', () => {
    const out = runPython(
      server.url,
      `import boto3, json
lam = boto3.client("lambda")
r = lam.invoke(FunctionName="thumbs", Payload=json.dumps({"k": 2}))
body = json.loads(r["Payload"].read())
lam.update_function_configuration(FunctionName="thumbs", Timeout=10, Environment={"Variables": {"BUCKET": "photos", "MODE": "v1"}})
lam.get_waiter("function_updated").wait(FunctionName="thumbs")
v = lam.publish_version(FunctionName="thumbs")
r2 = lam.invoke(FunctionName="thumbs", Qualifier=v["Version"], Payload=json.dumps({"k": 3}))
print(json.dumps({"status": r["StatusCode"], "k": body["k"], "version": v["Version"], "executed": r2["ExecutedVersion"], "timeout": v["Timeout"]}))
`,
    );
    assert.deepEqual(JSON.parse(out), { status: 200, k: 2, version: '1', executed: '1', timeout: 10 });
  });

  it('deletes the function', () => {
    ok(['lambda', 'delete-function', '--function-name', 'thumbs']);
    const r = aws(['lambda', 'get-function', '--function-name', 'thumbs']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ResourceNotFoundException.*Function not found: arn:aws:lambda:us-east-1:000000000000:function:thumbs/);
  });
});
