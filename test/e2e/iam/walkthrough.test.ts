import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../../helpers/server.js';
import { awsEnv, requireAwsCli } from '../../helpers/python.js';

/**
 * The IAM issue's walkthrough with the AWS CLI: a user in a group with
 * AmazonS3ReadOnlyAccess may list but not create buckets; assuming a role with
 * AmazonS3FullAccess lets it create them.
 */
let server: TestServer;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], creds?: { AccessKeyId: string; SecretAccessKey: string; SessionToken?: string }): Run {
  const extra: Record<string, string> = creds ? { AWS_ACCESS_KEY_ID: creds.AccessKeyId, AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey } : {};
  if (creds?.SessionToken) extra.AWS_SESSION_TOKEN = creds.SessionToken;
  const r = spawnSync('aws', args, { env: awsEnv(server.url, extra), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], creds?: Parameters<typeof cli>[1]): any {
  const r = cli(args, creds);
  assert.equal(r.status, 0, `aws ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

function denied(args: string[], creds: Parameters<typeof cli>[1], pattern: RegExp): void {
  const r = cli(args, creds);
  assert.notEqual(r.status, 0, `aws ${args.join(' ')} should be denied`);
  assert.match(r.stderr, pattern);
}

before(async () => {
  requireAwsCli();
  server = await startServer();
});
after(async () => server?.dispose());

describe('IAM walkthrough (AWS CLI)', () => {
  let yash: { AccessKeyId: string; SecretAccessKey: string };

  it('creates a user in a group with AmazonS3ReadOnlyAccess, and an access key', () => {
    const user = ok(['iam', 'create-user', '--user-name', 'yash']);
    assert.equal(user.User.Arn, 'arn:aws:iam::000000000000:user/yash');
    assert.match(user.User.UserId, /^AIDA[A-Z0-9]{16}$/);
    const group = ok(['iam', 'create-group', '--group-name', 'HR']);
    assert.match(group.Group.GroupId, /^AGPA/);
    ok(['iam', 'add-user-to-group', '--group-name', 'HR', '--user-name', 'yash']);
    ok(['iam', 'attach-group-policy', '--group-name', 'HR', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    const key = ok(['iam', 'create-access-key', '--user-name', 'yash']);
    assert.match(key.AccessKey.AccessKeyId, /^AKIA[A-Z0-9]{16}$/);
    assert.equal(key.AccessKey.SecretAccessKey.length, 40);
    yash = key.AccessKey;
    const groups = ok(['iam', 'list-groups-for-user', '--user-name', 'yash']);
    assert.deepEqual(groups.Groups.map((g: { GroupName: string }) => g.GroupName), ['HR']);
    const attached = ok(['iam', 'list-attached-group-policies', '--group-name', 'HR']);
    assert.deepEqual(attached.AttachedPolicies, [{ PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }]);
  });

  it('lets yash list buckets but not create one, with AWS\'s message naming user, action and resource', () => {
    ok(['s3api', 'create-bucket', '--bucket', 'existing']);
    const who = ok(['sts', 'get-caller-identity'], yash);
    assert.equal(who.Arn, 'arn:aws:iam::000000000000:user/yash');
    const r = cli(['s3', 'ls'], yash);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /existing/);
    denied(['s3', 'mb', 's3://x'], yash, /AccessDenied.*User: arn:aws:iam::000000000000:user\/yash is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::x because no identity-based policy allows the s3:CreateBucket action/s);
    denied(['iam', 'create-user', '--user-name', 'mallory'], yash, /AccessDenied.*iam:CreateUser/s);
  });

  it('assumes a role with AmazonS3FullAccess and creates the bucket with the session', () => {
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/yash' }, Action: 'sts:AssumeRole' }] });
    const role = ok(['iam', 'create-role', '--role-name', 's3-full-access', '--assume-role-policy-document', trust]);
    assert.match(role.Role.RoleId, /^AROA/);
    // The CLI decodes the URL-encoded document AWS returns.
    assert.deepEqual(role.Role.AssumeRolePolicyDocument, JSON.parse(trust));
    ok(['iam', 'attach-role-policy', '--role-name', 's3-full-access', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonS3FullAccess']);
    const assumed = ok(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/s3-full-access', '--role-session-name', 's1'], yash);
    assert.match(assumed.Credentials.AccessKeyId, /^ASIA/);
    assert.equal(assumed.AssumedRoleUser.Arn, 'arn:aws:sts::000000000000:assumed-role/s3-full-access/s1');
    const session = assumed.Credentials;
    const who = ok(['sts', 'get-caller-identity'], session);
    assert.equal(who.Arn, 'arn:aws:sts::000000000000:assumed-role/s3-full-access/s1');
    assert.equal(who.UserId, `${role.Role.RoleId}:s1`);
    const mb = cli(['s3', 'mb', 's3://x-team'], session);
    assert.equal(mb.status, 0, mb.stderr);
    // Without the session token the temporary key is refused.
    denied(['s3', 'ls'], { AccessKeyId: session.AccessKeyId, SecretAccessKey: session.SecretAccessKey }, /InvalidToken|InvalidClientTokenId/);
  });

  it('refuses assume-role when the trust policy does not let the caller in', () => {
    const trustAccount = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] });
    ok(['iam', 'create-role', '--role-name', 'account-trust', '--assume-role-policy-document', trustAccount]);
    // The trust policy delegates to the account: yash's own policies must allow sts:AssumeRole, and do not.
    denied(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/account-trust', '--role-session-name', 's2'], yash, /AccessDenied.*sts:AssumeRole/s);
    // Root may.
    ok(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/account-trust', '--role-session-name', 's3']);
    const trustLambda = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    ok(['iam', 'create-role', '--role-name', 'lambda-only', '--assume-role-policy-document', trustLambda]);
    denied(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/lambda-only', '--role-session-name', 's4'], yash, /AccessDenied/);
    // Giving yash sts:AssumeRole on the account-trust role makes it work.
    ok(['iam', 'put-user-policy', '--user-name', 'yash', '--policy-name', 'assume', '--policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::000000000000:role/account-trust' }] })]);
    ok(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/account-trust', '--role-session-name', 's5'], yash);
    const inline = ok(['iam', 'get-user-policy', '--user-name', 'yash', '--policy-name', 'assume']);
    assert.equal(inline.PolicyDocument.Statement[0].Action, 'sts:AssumeRole');
  });
});

describe('the walkthrough as a user types it: named profiles and file:// documents', () => {
  it('saves yash\'s key as profile "yash", then s3 ls / mb / assume-role --profile yash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-cli-'));
    try {
      // The CLI's own files, as `aws configure --profile yash` writes them.
      const files = { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
      const run = (args: string[]) => spawnSync('aws', args, { env: awsEnv(server.url, files), encoding: 'utf8', cwd: dir });
      const user = ok(['iam', 'create-user', '--user-name', 'yash2']);
      ok(['iam', 'add-user-to-group', '--group-name', 'HR', '--user-name', 'yash2']);
      const key = ok(['iam', 'create-access-key', '--user-name', 'yash2']).AccessKey;
      for (const [k, v] of [['aws_access_key_id', key.AccessKeyId], ['aws_secret_access_key', key.SecretAccessKey], ['region', 'us-east-1']]) {
        assert.equal(run(['configure', 'set', k, v, '--profile', 'yash']).status, 0);
      }
      const who = run(['sts', 'get-caller-identity', '--profile', 'yash']);
      assert.equal(who.status, 0, who.stderr);
      assert.equal(JSON.parse(who.stdout).Arn, user.User.Arn);
      const ls = run(['s3', 'ls', '--profile', 'yash']);
      assert.equal(ls.status, 0, ls.stderr);
      const mb = run(['s3', 'mb', 's3://x', '--profile', 'yash']);
      assert.notEqual(mb.status, 0);
      assert.match(mb.stderr, /User: arn:aws:iam::000000000000:user\/yash2 is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::x because no identity-based policy allows the s3:CreateBucket action/);
      writeFileSync(join(dir, 'trust.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.User.Arn }, Action: 'sts:AssumeRole' }] }));
      ok(['iam', 'create-role', '--role-name', 's3-full-access-2', '--assume-role-policy-document', `file://${join(dir, 'trust.json')}`]);
      ok(['iam', 'attach-role-policy', '--role-name', 's3-full-access-2', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonS3FullAccess']);
      const assumed = run(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/s3-full-access-2', '--role-session-name', 's1', '--profile', 'yash']);
      assert.equal(assumed.status, 0, assumed.stderr);
      assert.equal(JSON.parse(assumed.stdout).AssumedRoleUser.Arn, 'arn:aws:sts::000000000000:assumed-role/s3-full-access-2/s1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a second account is a profile whose access key id is its 12-digit id', () => {
    const env = awsEnv(server.url, { AWS_ACCESS_KEY_ID: '111111111111', AWS_SECRET_ACCESS_KEY: 'test' });
    const r = spawnSync('aws', ['sts', 'get-caller-identity'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).Arn, 'arn:aws:iam::111111111111:root');
    const users = spawnSync('aws', ['iam', 'list-users'], { env, encoding: 'utf8' });
    assert.equal(users.status, 0, users.stderr);
    assert.deepEqual(JSON.parse(users.stdout).Users, []);
  });
});

describe('policy simulator (AWS CLI)', () => {
  it('simulate-principal-policy answers per action, naming the matched policy', () => {
    const r = ok(['iam', 'simulate-principal-policy', '--policy-source-arn', 'arn:aws:iam::000000000000:user/yash', '--action-names', 's3:PutObject', 'ec2:RunInstances', 's3:GetObject']);
    const byAction = Object.fromEntries(r.EvaluationResults.map((e: { EvalActionName: string }) => [e.EvalActionName, e]));
    assert.equal(byAction['s3:PutObject'].EvalDecision, 'implicitDeny');
    assert.equal(byAction['ec2:RunInstances'].EvalDecision, 'implicitDeny');
    assert.equal(byAction['s3:GetObject'].EvalDecision, 'allowed');
    assert.deepEqual(byAction['s3:GetObject'].MatchedStatements, [{ SourcePolicyId: 'AmazonS3ReadOnlyAccess', SourcePolicyType: 'aws-managed' }]);
    // yash's inline policy allows sts:AssumeRole on one role only.
    const res = ok(['iam', 'simulate-principal-policy', '--policy-source-arn', 'arn:aws:iam::000000000000:user/yash', '--action-names', 'sts:AssumeRole', '--resource-arns', 'arn:aws:iam::000000000000:role/account-trust', 'arn:aws:iam::000000000000:role/other']);
    assert.deepEqual(res.EvaluationResults.map((e: { EvalResourceName: string; EvalDecision: string }) => [e.EvalResourceName, e.EvalDecision]), [
      ['arn:aws:iam::000000000000:role/account-trust', 'allowed'],
      ['arn:aws:iam::000000000000:role/other', 'implicitDeny'],
    ]);
    assert.deepEqual(res.EvaluationResults[0].MatchedStatements, [{ SourcePolicyId: 'assume', SourcePolicyType: 'user' }]);
  });

  it('simulate-custom-policy uses context entries, reports missing keys and explicit denies', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
        { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
      ],
    });
    const inside = ok(['iam', 'simulate-custom-policy', '--policy-input-list', policy, '--action-names', 's3:GetObject', 's3:DeleteObject', '--context-entries', 'ContextKeyName=aws:SourceIp,ContextKeyValues=10.1.2.3,ContextKeyType=ip']);
    assert.deepEqual(inside.EvaluationResults.map((e: { EvalDecision: string }) => e.EvalDecision), ['allowed', 'explicitDeny']);
    const outside = ok(['iam', 'simulate-custom-policy', '--policy-input-list', policy, '--action-names', 's3:GetObject', '--context-entries', 'ContextKeyName=aws:SourceIp,ContextKeyValues=192.168.1.1,ContextKeyType=ip']);
    assert.equal(outside.EvaluationResults[0].EvalDecision, 'implicitDeny');
    const missing = ok(['iam', 'simulate-custom-policy', '--policy-input-list', policy, '--action-names', 's3:GetObject']);
    assert.deepEqual(missing.EvaluationResults[0].MissingContextValues, ['aws:SourceIp']);
  });
});

describe('IAM API families (AWS CLI)', () => {
  it('customer managed policies keep at most 5 versions with one default', () => {
    const doc = (n: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: `s3:GetObject`, Resource: `arn:aws:s3:::b${n}/*` }] });
    const p = ok(['iam', 'create-policy', '--policy-name', 'reader', '--policy-document', doc(1)]);
    assert.equal(p.Policy.Arn, 'arn:aws:iam::000000000000:policy/reader');
    assert.match(p.Policy.PolicyId, /^ANPA/);
    assert.equal(p.Policy.DefaultVersionId, 'v1');
    for (let n = 2; n <= 5; n++) ok(['iam', 'create-policy-version', '--policy-arn', p.Policy.Arn, '--policy-document', doc(n), ...(n === 3 ? ['--set-as-default'] : [])]);
    const over = cli(['iam', 'create-policy-version', '--policy-arn', p.Policy.Arn, '--policy-document', doc(6)]);
    assert.match(over.stderr, /LimitExceeded/);
    const got = ok(['iam', 'get-policy', '--policy-arn', p.Policy.Arn]);
    assert.equal(got.Policy.DefaultVersionId, 'v3');
    const v = ok(['iam', 'get-policy-version', '--policy-arn', p.Policy.Arn, '--version-id', 'v3']);
    assert.equal(v.PolicyVersion.Document.Statement[0].Resource, 'arn:aws:s3:::b3/*');
    const del = cli(['iam', 'delete-policy-version', '--policy-arn', p.Policy.Arn, '--version-id', 'v3']);
    assert.match(del.stderr, /DeleteConflict/);
    ok(['iam', 'delete-policy-version', '--policy-arn', p.Policy.Arn, '--version-id', 'v2']);
    const versions = ok(['iam', 'list-policy-versions', '--policy-arn', p.Policy.Arn]);
    assert.deepEqual(versions.Versions.map((x: { VersionId: string }) => x.VersionId).sort(), ['v1', 'v3', 'v4', 'v5']);
  });

  it('refuses malformed policies, duplicate names, a third access key, and deleting a user with dependents', () => {
    const bad = cli(['iam', 'create-policy', '--policy-name', 'bad', '--policy-document', '{"Version": "2012-10-17", "Statement": [']);
    assert.match(bad.stderr, /MalformedPolicyDocument/);
    ok(['iam', 'create-user', '--user-name', 'dup']);
    assert.match(cli(['iam', 'create-user', '--user-name', 'dup']).stderr, /EntityAlreadyExists/);
    ok(['iam', 'create-access-key', '--user-name', 'dup']);
    ok(['iam', 'create-access-key', '--user-name', 'dup']);
    assert.match(cli(['iam', 'create-access-key', '--user-name', 'dup']).stderr, /LimitExceeded/);
    assert.match(cli(['iam', 'delete-user', '--user-name', 'dup']).stderr, /DeleteConflict/);
    assert.match(cli(['iam', 'get-user', '--user-name', 'nobody']).stderr, /NoSuchEntity/);
  });

  it('an inactive access key is refused, and works again once reactivated', () => {
    ok(['iam', 'create-user', '--user-name', 'toggle']);
    ok(['iam', 'attach-user-policy', '--user-name', 'toggle', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    const k = ok(['iam', 'create-access-key', '--user-name', 'toggle']).AccessKey;
    ok(['s3api', 'list-buckets'], k);
    ok(['iam', 'update-access-key', '--user-name', 'toggle', '--access-key-id', k.AccessKeyId, '--status', 'Inactive']);
    denied(['s3api', 'list-buckets'], k, /InvalidAccessKeyId/);
    ok(['iam', 'update-access-key', '--user-name', 'toggle', '--access-key-id', k.AccessKeyId, '--status', 'Active']);
    ok(['s3api', 'list-buckets'], k);
    const listed = ok(['iam', 'list-access-keys', '--user-name', 'toggle']);
    assert.deepEqual(listed.AccessKeyMetadata.map((m: { Status: string }) => m.Status), ['Active']);
  });

  it('lists AWS managed policies with their real paths', () => {
    const r = ok(['iam', 'get-policy', '--policy-arn', 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    assert.equal(r.Policy.Path, '/service-role/');
    const all = ok(['iam', 'list-policies', '--scope', 'AWS']);
    const names = all.Policies.map((p: { PolicyName: string }) => p.PolicyName);
    for (const n of ['AdministratorAccess', 'AmazonS3FullAccess', 'AmazonS3ReadOnlyAccess', 'AWSLambdaBasicExecutionRole', 'AmazonSQSFullAccess']) assert.ok(names.includes(n), n);
  });

  it('IAM state survives a restart', async () => {
    await server.stop();
    server = await startServer({ dataDir: server.dataDir });
    const u = ok(['iam', 'get-user', '--user-name', 'yash']);
    assert.equal(u.User.UserName, 'yash');
    const attached = ok(['iam', 'list-attached-group-policies', '--group-name', 'HR']);
    assert.equal(attached.AttachedPolicies.length, 1);
  });
});
