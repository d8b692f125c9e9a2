import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AWS_MANAGED_POLICIES, type AwsManagedPolicy } from '../../src/iam/data/aws-managed-policies.js';

const REQUIRED = [
  'AdministratorAccess',
  'PowerUserAccess',
  'ReadOnlyAccess',
  'IAMFullAccess',
  'AmazonS3FullAccess',
  'AmazonS3ReadOnlyAccess',
  'AWSLambda_FullAccess',
  'AWSLambdaBasicExecutionRole',
  'AWSLambdaRole',
  'AmazonSQSFullAccess',
  'CloudWatchLogsFullAccess',
  'AmazonAPIGatewayAdministrator',
  'AmazonAPIGatewayInvokeFullAccess',
  'AmazonEventBridgeFullAccess',
];
const OPTIONAL = [
  'AWSLambdaSQSQueueExecutionRole',
  'AmazonSQSReadOnlyAccess',
  'CloudWatchLogsReadOnlyAccess',
  'AWSLambda_ReadOnlyAccess',
  'AmazonEventBridgeReadOnlyAccess',
  'IAMReadOnlyAccess',
];
const SERVICE_ROLE = new Set(['AWSLambdaBasicExecutionRole', 'AWSLambdaRole', 'AWSLambdaSQSQueueExecutionRole']);

function byName(name: string): AwsManagedPolicy {
  const p = AWS_MANAGED_POLICIES.find((x) => x.name === name);
  assert.ok(p, `missing ${name}`);
  return p;
}

type Stmt = { Sid?: string; Effect: string; Action?: string | string[]; NotAction?: string | string[]; Resource?: string | string[]; Condition?: unknown };

function statements(p: AwsManagedPolicy): Stmt[] {
  return p.document.Statement as Stmt[];
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Actions granted by unconditional Allow statements on Resource "*". */
function allowedEverywhere(p: AwsManagedPolicy): Set<string> {
  const out = new Set<string>();
  for (const s of statements(p)) {
    if (s.Effect === 'Allow' && s.Condition === undefined && list(s.Resource).includes('*')) for (const a of list(s.Action)) out.add(a);
  }
  return out;
}

describe('AWS managed policies data', () => {
  it('lists every required and optional policy exactly once', () => {
    for (const name of [...REQUIRED, ...OPTIONAL]) {
      assert.equal(AWS_MANAGED_POLICIES.filter((p) => p.name === name).length, 1, name);
    }
    const names = AWS_MANAGED_POLICIES.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, 'duplicate names');
  });

  it('builds ARNs from path and name, with well-formed paths', () => {
    for (const p of AWS_MANAGED_POLICIES) {
      assert.ok(p.path.startsWith('/') && p.path.endsWith('/'), `${p.name} path ${p.path}`);
      assert.equal(p.arn, `arn:aws:iam::aws:policy${p.path}${p.name}`);
      assert.equal(p.path, SERVICE_ROLE.has(p.name) ? '/service-role/' : '/', p.name);
    }
  });

  it('has AWS-style policy ids, version ids and dates', () => {
    const ids = new Set<string>();
    for (const p of AWS_MANAGED_POLICIES) {
      assert.match(p.policyId, /^ANPA[A-Z0-9]{17}$/, p.name);
      ids.add(p.policyId);
      assert.match(p.defaultVersionId, /^v[1-9][0-9]*$/, p.name);
      assert.match(p.createDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, p.name);
      assert.match(p.updateDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, p.name);
      assert.ok(!Number.isNaN(Date.parse(p.createDate)) && Date.parse(p.updateDate) >= Date.parse(p.createDate), p.name);
      if (p.defaultVersionId === 'v1') assert.equal(p.updateDate, p.createDate, p.name);
      assert.ok(p.description.length > 0, p.name);
    }
    assert.equal(ids.size, AWS_MANAGED_POLICIES.length, 'duplicate policy ids');
  });

  it('has documents that are valid identity policies', () => {
    for (const p of AWS_MANAGED_POLICIES) {
      const doc = JSON.parse(JSON.stringify(p.document)) as unknown;
      assert.ok(doc !== null && typeof doc === 'object' && !Array.isArray(doc), p.name);
      const d = doc as { Version: unknown; Statement: unknown };
      assert.equal(d.Version, '2012-10-17', p.name);
      assert.ok(Array.isArray(d.Statement) && d.Statement.length > 0, p.name);
      for (const s of d.Statement as Stmt[]) {
        assert.ok(s.Effect === 'Allow' || s.Effect === 'Deny', `${p.name} Effect`);
        assert.ok((s.Action === undefined) !== (s.NotAction === undefined), `${p.name} needs exactly one of Action/NotAction`);
        for (const a of [...list(s.Action), ...list(s.NotAction)]) {
          assert.match(a, /^(\*|[a-z0-9-]+:[A-Za-z0-9*]+)$/, `${p.name} action ${a}`);
        }
        assert.ok(list(s.Resource).length > 0, `${p.name} Resource`);
      }
    }
  });

  it('AdministratorAccess allows Action "*" on Resource "*"', () => {
    assert.deepEqual(byName('AdministratorAccess').document.Statement, [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
  });

  it('PowerUserAccess allows everything except iam, organizations and account, then adds a few back', () => {
    const [notAction, extras] = statements(byName('PowerUserAccess'));
    assert.deepEqual(list(notAction!.NotAction).sort(), ['account:*', 'iam:*', 'organizations:*']);
    assert.ok(list(extras!.Action).includes('iam:CreateServiceLinkedRole'));
  });

  it('S3 policies grant the expected actions', () => {
    const ro = allowedEverywhere(byName('AmazonS3ReadOnlyAccess'));
    for (const a of ['s3:Get*', 's3:List*']) assert.ok(ro.has(a), a);
    assert.ok(![...ro].some((a) => a === 's3:*' || a.startsWith('s3:Put')));
    assert.ok(allowedEverywhere(byName('AmazonS3FullAccess')).has('s3:*'));
  });

  it('Lambda execution-role policies grant CloudWatch Logs writes', () => {
    for (const name of ['AWSLambdaBasicExecutionRole', 'AWSLambdaSQSQueueExecutionRole']) {
      const got = allowedEverywhere(byName(name));
      for (const a of ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']) assert.ok(got.has(a), `${name} ${a}`);
    }
    const sqs = allowedEverywhere(byName('AWSLambdaSQSQueueExecutionRole'));
    for (const a of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) assert.ok(sqs.has(a), a);
    assert.deepEqual(statements(byName('AWSLambdaRole')), [{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['*'] }]);
  });

  it('AWSLambda_FullAccess allows lambda:* and passing roles only to Lambda', () => {
    const p = byName('AWSLambda_FullAccess');
    assert.ok(allowedEverywhere(p).has('lambda:*'));
    const pass = statements(p).find((s) => list(s.Action).includes('iam:PassRole'));
    assert.deepEqual(pass?.Condition, { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } });
  });

  it('service full-access policies grant their service wildcard', () => {
    assert.ok(allowedEverywhere(byName('AmazonSQSFullAccess')).has('sqs:*'));
    assert.ok(allowedEverywhere(byName('CloudWatchLogsFullAccess')).has('logs:*'));
    assert.ok(allowedEverywhere(byName('AmazonEventBridgeFullAccess')).has('events:*'));
    assert.ok(allowedEverywhere(byName('IAMFullAccess')).has('iam:*'));
    const apigw = statements(byName('AmazonAPIGatewayAdministrator'));
    assert.deepEqual(apigw, [{ Effect: 'Allow', Action: ['apigateway:*'], Resource: 'arn:aws:apigateway:*::/*' }]);
    const invoke = statements(byName('AmazonAPIGatewayInvokeFullAccess'))[0]!;
    assert.deepEqual(list(invoke.Action), ['execute-api:Invoke', 'execute-api:ManageConnections']);
    assert.equal(invoke.Resource, 'arn:aws:execute-api:*:*:*');
  });

  it('read-only policies grant no writes', () => {
    const writes = /:(\*|Put|Create|Delete|Update|Send|Invoke|Attach|Detach|Tag|Untag|Set)/;
    for (const name of ['ReadOnlyAccess', 'IAMReadOnlyAccess', 'AmazonSQSReadOnlyAccess', 'CloudWatchLogsReadOnlyAccess', 'AWSLambda_ReadOnlyAccess', 'AmazonEventBridgeReadOnlyAccess']) {
      for (const s of statements(byName(name))) {
        assert.equal(s.Effect, 'Allow', name);
        for (const a of list(s.Action)) assert.doesNotMatch(a, writes, `${name} ${a}`);
      }
    }
    const ro = allowedEverywhere(byName('ReadOnlyAccess'));
    for (const a of ['s3:Get*', 's3:List*', 'iam:Get*', 'iam:List*', 'lambda:Get*', 'lambda:List*', 'sqs:Get*', 'events:List*', 'logs:Describe*', 'apigateway:GET', 'sts:GetCallerIdentity']) {
      assert.ok(ro.has(a), a);
    }
  });

  it('keeps the real policy ids of well-known policies', () => {
    assert.equal(byName('AdministratorAccess').policyId, 'ANPAIWMBCKSKIEE64ZLYK');
    assert.equal(byName('AmazonS3ReadOnlyAccess').policyId, 'ANPAIZTJ4DXE7G6AGAE6M');
    assert.equal(byName('AWSLambdaBasicExecutionRole').policyId, 'ANPAJNCQGXC42545SKXIK');
  });
});
