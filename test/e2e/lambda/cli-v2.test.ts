import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../../helpers/server.js';
import { awsEnv, python, requireAwsCliV2 } from '../../helpers/python.js';

/**
 * The Lambda issue's walkthrough exactly as written, with the AWS CLI v2: `--cli-binary-format
 * raw-in-base64-out` on invoke, and `aws logs tail` (plain and --follow) on the function's
 * log group.
 */
let server: TestServer;
let dir: string;
let cliV2: string;

function aws(args: string[]) {
  const r = spawnSync(cliV2, ['--endpoint-url', server.url, ...args], { env: awsEnv(server.url), encoding: 'utf8', cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(args: string[]): any {
  const r = aws(args);
  assert.equal(r.status, 0, `aws ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

before(async () => {
  cliV2 = requireAwsCliV2();
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'nimbus-lambda-cliv2-'));
  writeFileSync(join(dir, 'lambda_function.py'), 'import json\n\ndef lambda_handler(event, context):\n    print("thumbs", json.dumps(event))\n    return {"k": event["k"] * 2}\n');
  const z = spawnSync(python(), ['-c', 'import zipfile; z = zipfile.ZipFile("fn.zip", "w"); z.write("lambda_function.py"); z.close()'], { cwd: dir, encoding: 'utf8' });
  assert.equal(z.status, 0, z.stderr);
  writeFileSync(join(dir, 'lambda-trust.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }));
});
after(async () => {
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Lambda walkthrough with the AWS CLI v2', () => {
  it('create-role, create-function, invoke --cli-binary-format raw-in-base64-out --log-type Tail', () => {
    ok(['iam', 'create-role', '--role-name', 'lambda-exec', '--assume-role-policy-document', 'file://lambda-trust.json']);
    ok([
      'lambda', 'create-function', '--function-name', 'thumbs', '--runtime', 'python3.12', '--handler', 'lambda_function.lambda_handler',
      '--role', 'arn:aws:iam::000000000000:role/lambda-exec', '--zip-file', 'fileb://fn.zip', '--environment', 'Variables={BUCKET=photos}',
    ]);
    assert.equal(aws(['lambda', 'wait', 'function-active-v2', '--function-name', 'thumbs']).status, 0);
    const r = ok(['lambda', 'invoke', '--function-name', 'thumbs', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"k":1}', '--log-type', 'Tail', 'out.json']);
    assert.equal(r.StatusCode, 200);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')), { k: 2 });
    assert.match(Buffer.from(r.LogResult, 'base64').toString('utf8'), /thumbs \{"k": 1\}/);
  });

  it('aws logs tail /aws/lambda/thumbs prints the invocation, and --follow shows new ones as they come', async () => {
    const t = aws(['logs', 'tail', '/aws/lambda/thumbs']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    assert.match(t.stdout, /thumbs \{"k": 1\}/);
    assert.match(t.stdout, /REPORT RequestId: /);
    // --follow polls FilterLogEvents every few seconds; invoke while it runs.
    const follow = spawn(cliV2, ['--endpoint-url', server.url, 'logs', 'tail', '/aws/lambda/thumbs', '--follow', '--since', '5m'], { env: awsEnv(server.url), cwd: dir });
    let out = '';
    follow.stdout.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 20_000;
      while (!/thumbs \{"k": 1\}/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      ok(['lambda', 'invoke', '--function-name', 'thumbs', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"k":21}', 'out2.json']);
      while (!/thumbs \{"k": 21\}/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.match(out, /thumbs \{"k": 21\}/, out);
    } finally {
      follow.kill();
    }
  });
});
