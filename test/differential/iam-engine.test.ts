/**
 * Differential test of the IAM policy engine against an independent oracle.
 *
 * ORACLE LICENSING: @cloud-copilot/iam-simulate is AGPL-3.0. It is a devDependency used
 * ONLY here, as a test oracle; nothing under src/ imports it and it is not bundled or
 * shipped. Its internal engine module is loaded by file path at run time (so the session
 * policy input, which its public runUnsafeSimulation ignores, can be passed too).
 *
 * A seeded random corpus of (policies, request) cases over a small fixed vocabulary is
 * evaluated by both, and every decision (allowed / explicitDeny / implicitDeny) must agree.
 * The first mismatch is reported with the whole case.
 *
 * Deliberate exclusions, where the oracle departs from AWS's documented behaviour (each
 * is a narrow, explicitly detected class; counts are printed):
 *  1. Session policies vs. a resource-based policy naming the session itself. AWS: "A
 *     resource-based policy can specify the ARN of the session as a principal… The
 *     resource-based policy permissions are not limited by the session policy"
 *     (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
 *     The oracle lets any session policy that does not allow the action deny first.
 *  2. The account root user: AWS does not subject root to identity policies (none can be
 *     attached); the oracle treats the root ARN as an ordinary principal. Root is not
 *     generated here (unit tests cover it).
 *  3. Date conditions comparing an epoch value with an ISO 8601 value: AWS accepts either
 *     form ("Date condition operators … ISO 8601 or epoch (UNIX) time",
 *     reference_policies_elements_condition_operators.html#Conditions_Date); the oracle
 *     compares epoch seconds with ISO milliseconds. The generator avoids it by construction
 *     (aws:EpochTime only meets epoch values, aws:CurrentTime only ISO values).
 *  4. IpAddress/NotIpAddress with a bare address (no /prefix) of the other IP version than
 *     the request's: the oracle makes both operators false; AWS compares addresses, and an
 *     IPv6 source is simply not that IPv4 address (NotIpAddress true). The generator writes
 *     bare addresses with an explicit /32 or /128 instead (unit tests cover bare ones).
 *  5. The escapes ${*} ${?} ${$} in operators without wildcards (StringEquals, …): AWS
 *     documents them as standing for a literal '*', '?', '$' wherever policy variables are
 *     substituted (reference_policies_variables.html#policy-vars-specialchars); the oracle
 *     resolves them only in wildcard (Like) matching and otherwise compares the text "${*}".
 *     The generator uses them only with StringLike/StringNotLike.
 *  6. Policy variables outside the last component of an ARN-valued condition value (e.g.
 *     arn:aws:lambda:us-east-1:${aws:PrincipalAccount}:function:f): AWS substitutes them;
 *     the oracle splits the ARN at every ':' first, cutting "${aws:PrincipalAccount}" in two.
 *     The generator puts variables only in the resource component.
 *  7. The IPv4 CIDR 0.0.0.0/0: it contains every IPv4 address; the oracle's mask arithmetic
 *     (a 32-bit shift) makes it contain none. The generator uses 0.0.0.0/1 instead.
 *  Not generated, as out of scope for an oracle comparison: Resource "*" requests (actions
 *  without resources), wildcards in an ARN's resource-type segment, short ARNs, and
 *  numeric strings with exponents or junk suffixes (the oracle uses lenient parseInt).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { evaluate } from '../../src/iam/engine/evaluate.js';
import type { AuthzRequest, PolicySet, PolicyDocument, Statement, Decision } from '../../src/iam/engine/types.js';

const CASES = Number(process.env.IAM_DIFF_CASES ?? 40_000);
const SEED = Number(process.env.IAM_DIFF_SEED ?? 20240917);

// ---- oracle ---------------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Oracle {
  decide(c: Case): Decision;
}

async function loadOracle(): Promise<Oracle> {
  const base = join(process.cwd(), 'node_modules/@cloud-copilot/iam-simulate/dist/esm');
  const url = (p: string) => pathToFileURL(join(base, p)).href;
  const core: any = await import(url('core_engine/CoreSimulatorEngine.js'));
  const reqMod: any = await import(url('request/request.js'));
  const ctxMod: any = await import(url('requestContext.js'));
  const dkc: any = await import(url('context_keys/discoveryContextKeyConstraints.js'));
  const simMod: any = await import(url('simulation_engine/simulation.js'));
  const policyMod: any = await import(pathToFileURL(join(process.cwd(), 'node_modules/@cloud-copilot/iam-policy/dist/esm/index.js')).href);
  const load = (doc: PolicyDocument, name: string) => policyMod.loadPolicy(doc, { name });
  const map: Record<string, Decision> = { Allowed: 'allowed', ExplicitlyDenied: 'explicitDeny', ImplicitlyDenied: 'implicitDeny' };
  return {
    decide(c: Case): Decision {
      const p = c.req.principal;
      const principal = p.type === 'anonymous' ? simMod.anonymousPrincipal : p.type === 'service' ? p.service : p.arn;
      const context: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(c.req.context)) if (v !== undefined) context[k] = Array.isArray(v) ? v.map(String) : String(v);
      const request = new reqMod.AwsRequestImpl(principal, { resource: c.req.resource, accountId: c.req.resourceAccount }, c.req.action, new ctxMod.RequestContextImpl(context));
      const session = c.policies.session?.length ? c.policies.session[0]!.document : undefined;
      const analysis = core.authorize({
        request,
        sessionPolicy: session ? load(session, 'session') : undefined,
        identityPolicies: c.policies.identity.map((x) => load(x.document, x.id)),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: c.policies.resource ? load(c.policies.resource.document, 'resource') : undefined,
        permissionBoundaries: c.policies.permissionsBoundary ? [load(c.policies.permissionsBoundary.document, 'pb')] : undefined,
        vpcEndpointPolicies: undefined,
        simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new dkc.DiscoveryContextKeyConstraints([]) },
        serviceSettings: { s3: { blockPublicAccess: undefined } },
      });
      const d = map[analysis.result];
      if (!d) throw new Error(`oracle returned ${analysis.result}`);
      return d;
    },
  };
}

// ---- generator ------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const A = '111111111111';
const B = '222222222222';

const PRINCIPALS: Array<AuthzRequest['principal'] & { username?: string; team?: string }> = [
  { arn: `arn:aws:iam::${A}:user/alice`, accountId: A, type: 'user', username: 'alice', team: 'dev' },
  { arn: `arn:aws:iam::${A}:user/dev/carol`, accountId: A, type: 'user', username: 'carol' },
  { arn: `arn:aws:iam::${B}:user/bob`, accountId: B, type: 'user', username: 'bob', team: 'ops' },
  { arn: `arn:aws:sts::${A}:assumed-role/builder/sess1`, accountId: A, type: 'assumed-role', roleArn: `arn:aws:iam::${A}:role/builder`, team: 'dev' },
  { arn: `arn:aws:sts::${B}:assumed-role/auditor/s2`, accountId: B, type: 'assumed-role', roleArn: `arn:aws:iam::${B}:role/auditor` },
  { arn: 'lambda.amazonaws.com', accountId: '', type: 'service', service: 'lambda.amazonaws.com' },
  { arn: '*', accountId: '', type: 'anonymous' },
];

const REQUESTS: Array<{ action: string; resource: string; account: string }> = [
  { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket-a/photos/cat.jpg', account: A },
  { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket-a/docs/alice/notes.txt', account: A },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::bucket-a/docs/carol/x.txt', account: A },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::bucket-b/x', account: B },
  { action: 's3:ListBucket', resource: 'arn:aws:s3:::bucket-a', account: A },
  { action: 's3:ListBucket', resource: 'arn:aws:s3:::bucket-b', account: B },
  { action: 'iam:CreateUser', resource: `arn:aws:iam::${A}:user/alice`, account: A },
  { action: 'iam:CreateUser', resource: `arn:aws:iam::${A}:user/dev/carol`, account: A },
  { action: 'sqs:SendMessage', resource: `arn:aws:sqs:us-east-1:${A}:queue1`, account: A },
  { action: 'sqs:SendMessage', resource: `arn:aws:sqs:us-east-1:${B}:queue2`, account: B },
];

const ACTION_PATTERNS = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 'iam:CreateUser', 'sqs:SendMessage', 's3:*', 's3:Get*', 's3:*Object', 's3:?etObject', '*', 'iam:Create*', 'sqs:*', 's3:getobject', 'S3:LISTBUCKET', 'sqs:Send?essage', 's3:List*', 'iam:*User'];

const RESOURCE_PATTERNS = [
  '*',
  'arn:aws:s3:::bucket-a/*',
  'arn:aws:s3:::bucket-a',
  'arn:aws:s3:::bucket-?/*',
  'arn:aws:s3:::*',
  'arn:aws:s3:::bucket-a/docs/${aws:username}/*',
  "arn:aws:s3:::bucket-a/docs/${aws:username, 'carol'}/*",
  'arn:aws:s3:::bucket-a/docs/${aws:PrincipalTag/team}*',
  'arn:aws:s3:::bucket-a/photos/*.jpg',
  'arn:aws:s3:::bucket-b*',
  `arn:aws:iam::${A}:user/*`,
  'arn:aws:iam::*:user/dev/*',
  `arn:aws:iam::${A}:user/\${aws:username}`,
  `arn:aws:sqs:*:${A}:*`,
  'arn:aws:sqs:us-east-1:*:queue?',
  'arn:aws:sqs:us-*:*:queue2',
  'arn:aws:*:*:*:*',
];

const ROLE_A = `arn:aws:iam::${A}:role/builder`;
const PRINCIPAL_VALUES = [
  `arn:aws:iam::${A}:user/alice`,
  `arn:aws:iam::${B}:user/bob`,
  A,
  `arn:aws:iam::${B}:root`,
  `arn:aws:iam::${A}:root`,
  ROLE_A,
  `arn:aws:sts::${A}:assumed-role/builder/sess1`,
  `arn:aws:iam::${B}:role/auditor`,
  '*',
];

interface KeySpec {
  key: string;
  ops: string[];
  policyValues: string[];
  contextValues: Array<string | string[]>;
}

const STRING_OPS = ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'];
const NUMERIC_OPS = ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'];
const DATE_OPS = ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'];
const ARN_OPS = ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'];

const KEYS: KeySpec[] = [
  { key: 'aws:username', ops: STRING_OPS, policyValues: ['alice', 'Alice', 'bob', 'a*', '?arol', '${aws:PrincipalTag/team}', "${aws:PrincipalTag/nick, 'alice'}"], contextValues: [] },
  { key: 's3:prefix', ops: STRING_OPS, policyValues: ['docs/', 'docs/*', 'docs/${aws:username}/*', 'photos/', 'DOCS/', '${*}', 'a${?}b', '*'], contextValues: ['docs/', 'docs/alice/', 'photos/', 'docs/carol/y', '*', 'a?b', 'DOCS/'] },
  { key: 'aws:PrincipalTag/team', ops: STRING_OPS, policyValues: ['dev', 'ops', 'DEV', 'd*'], contextValues: [] },
  { key: 's3:max-keys', ops: NUMERIC_OPS, policyValues: ['10', '100', '2.5', '-5', '0', 'abc'], contextValues: ['10', '100', '5', '2.5', '-5', '1000', 'x'] },
  { key: 'aws:MultiFactorAuthAge', ops: NUMERIC_OPS, policyValues: ['3600', '300'], contextValues: ['300', '7200', '3600'] },
  { key: 'aws:CurrentTime', ops: DATE_OPS, policyValues: ['2024-01-01T00:00:00Z', '2025-06-15T12:00:00Z', '2024-01-01', '2025-06-15T12:00:00.000Z'], contextValues: ['2024-01-01T00:00:00Z', '2025-06-15T12:00:00Z', '2024-06-01T08:30:00Z', '2026-01-01T00:00:00Z'] },
  { key: 'aws:EpochTime', ops: DATE_OPS, policyValues: ['1704067200', '1750000000', '1800000000'], contextValues: ['1704067200', '1750000000', '1760000000', '1600000000'] },
  { key: 'aws:SecureTransport', ops: ['Bool'], policyValues: ['true', 'false', 'TRUE'], contextValues: ['true', 'false'] },
  { key: 'aws:MultiFactorAuthPresent', ops: ['Bool'], policyValues: ['true', 'false'], contextValues: ['true', 'false', 'True'] },
  { key: 'custom:blob', ops: ['BinaryEquals'], policyValues: ['QUJD', 'REVG'], contextValues: ['QUJD', 'REVG', 'R0hJ'] },
  { key: 'aws:SourceIp', ops: ['IpAddress', 'NotIpAddress'], policyValues: ['10.0.0.0/8', '10.1.2.3/32', '192.168.0.0/16', '2001:db8::/32', '2001:db8::1/128', '0.0.0.0/1', '::/0', '203.0.113.7/32'], contextValues: ['10.1.2.3', '192.168.0.5', '8.8.8.8', '2001:db8::1', '2001:db8:ffff::2', '2600:1f18::9'] },
  { key: 'aws:SourceArn', ops: ARN_OPS, policyValues: [`arn:aws:sqs:us-east-1:${A}:*`, 'arn:aws:s3:::bucket-a', 'arn:aws:s3:::bucket-*', `arn:aws:lambda:*:${A}:function:f?`, 'arn:aws:*:*:*:*', `arn:aws:lambda:us-east-1:${A}:function:\${aws:username}`, `arn:aws:lambda:us-east-1:${A}:function:\${aws:PrincipalTag/team, 'f1'}`], contextValues: ['arn:aws:s3:::bucket-a', `arn:aws:lambda:us-east-1:${A}:function:f1`, `arn:aws:lambda:us-east-1:${A}:function:alice`, `arn:aws:sqs:us-east-1:${A}:queue1`, `arn:aws:lambda:us-east-1:${B}:function:f22`] },
  { key: 'aws:TagKeys', ops: ['StringEquals', 'StringLike', 'StringNotEquals', 'StringNotLike', 'StringEqualsIgnoreCase'], policyValues: ['env', 'team', 'cost*', 'Env'], contextValues: [['env'], ['env', 'team'], ['env', 'owner'], ['costcenter', 'team'], ['Owner'], 'env'] },
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}
function some<T>(r: () => number, xs: readonly T[], max: number): T[] {
  const n = 1 + Math.floor(r() * max);
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const x = pick(r, xs);
    if (!out.includes(x)) out.push(x);
  }
  return out;
}
const one = <T>(xs: T[]): T | T[] => (xs.length === 1 ? xs[0]! : xs);

/** Exclusion 5: the ${*} ${?} ${$} escapes only with the wildcard operators (StringLike, StringNotLike). */
function valuesFor(spec: KeySpec, op: string): string[] {
  if (/Like/.test(op)) return spec.policyValues;
  const vs = spec.policyValues.filter((v) => !/\$\{[*?$]\}/.test(v));
  return vs.length ? vs : spec.policyValues;
}

function genCondition(r: () => number): Record<string, Record<string, unknown>> {
  const cond: Record<string, Record<string, unknown>> = {};
  const blocks = 1 + Math.floor(r() * 2);
  for (let b = 0; b < blocks; b++) {
    const spec = pick(r, KEYS);
    let op = pick(r, spec.ops);
    const roll = r();
    if (roll < 0.12) op = 'Null';
    else if (roll < 0.3) op = `${op}IfExists`;
    else if (roll < 0.5 && (spec.key === 'aws:TagKeys' || spec.ops === STRING_OPS || r() < 0.3)) op = `${r() < 0.5 ? 'ForAllValues' : 'ForAnyValue'}:${op}`;
    const block = (cond[op] ??= {});
    const keyName = r() < 0.2 ? spec.key.toUpperCase() : spec.key;
    block[keyName] = op === 'Null' ? pick(r, ['true', 'false']) : one(some(r, valuesFor(spec, op), 2));
    if (r() < 0.25) {
      const other = pick(r, KEYS);
      if (other.ops.includes(op.replace(/^For\w+:/, '').replace(/IfExists$/, '')) || op === 'Null') {
        block[other.key] = op === 'Null' ? pick(r, ['true', 'false']) : one(some(r, valuesFor(other, op), 2));
      }
    }
  }
  return cond;
}

function genStatement(r: () => number, resourcePolicy: boolean): Statement {
  const s: Statement = { Effect: r() < 0.65 ? 'Allow' : 'Deny' };
  if (r() < 0.3) s.Sid = `S${Math.floor(r() * 1000)}`;
  if (resourcePolicy) {
    const kind = r();
    if (kind < 0.12) s.Principal = '*';
    else if (kind < 0.2) s.NotPrincipal = { AWS: one(some(r, PRINCIPAL_VALUES.filter((p) => p !== '*'), 2)) };
    else if (kind < 0.28) s.Principal = { Service: 'lambda.amazonaws.com' };
    else s.Principal = { AWS: one(some(r, PRINCIPAL_VALUES, 2)) };
  }
  if (r() < 0.8) s.Action = one(some(r, ACTION_PATTERNS, 3));
  else s.NotAction = one(some(r, ACTION_PATTERNS, 2));
  const rr = r();
  if (!(resourcePolicy && rr < 0.1)) {
    if (rr < 0.8) s.Resource = one(some(r, RESOURCE_PATTERNS, 3));
    else s.NotResource = one(some(r, RESOURCE_PATTERNS.filter((x) => x !== '*'), 2));
  }
  if (r() < 0.55) s.Condition = genCondition(r);
  return s;
}

function genPolicy(r: () => number, resourcePolicy: boolean, maxStatements = 3): PolicyDocument {
  const n = 1 + Math.floor(r() * maxStatements);
  const Statement: Statement[] = [];
  for (let i = 0; i < n; i++) Statement.push(genStatement(r, resourcePolicy));
  return { Version: '2012-10-17', Statement };
}

interface Case {
  n: number;
  req: AuthzRequest & { resourceAccount: string };
  policies: PolicySet & { identity: NonNullable<PolicySet['identity']> };
}

function genContext(r: () => number, p: (typeof PRINCIPALS)[number]): AuthzRequest['context'] {
  const ctx: AuthzRequest['context'] = {};
  if (p.username && r() < 0.9) ctx['aws:username'] = p.username;
  if (p.team && r() < 0.8) ctx['aws:PrincipalTag/team'] = p.team;
  if (p.accountId && r() < 0.7) ctx['aws:PrincipalAccount'] = p.accountId;
  for (const spec of KEYS) {
    if (spec.contextValues.length === 0 || r() < 0.45) continue;
    const name = r() < 0.15 ? spec.key.toLowerCase() : spec.key;
    ctx[name] = pick(r, spec.contextValues);
  }
  return ctx;
}

function genCase(r: () => number, n: number): Case {
  const p = pick(r, PRINCIPALS);
  const rq = pick(r, REQUESTS);
  const { username: _u, team: _t, ...principal } = p;
  const req = { principal, action: rq.action, resource: rq.resource, resourceAccount: rq.account, context: genContext(r, p) };
  const iamSubject = p.type === 'user' || p.type === 'assumed-role';
  const identity = [];
  if (iamSubject) {
    const count = Math.floor(r() * 3);
    for (let i = 0; i < count; i++) identity.push({ id: `identity-${i}`, document: genPolicy(r, false) });
  }
  const policies: Case['policies'] = { identity };
  if (r() < (iamSubject ? 0.55 : 0.95)) policies.resource = { id: 'resource', document: genPolicy(r, true, 4) };
  if (iamSubject && r() < 0.25) policies.permissionsBoundary = { id: 'boundary', document: genPolicy(r, false, 2) };
  if (p.type === 'assumed-role' && r() < 0.3) policies.session = [{ id: 'session', document: genPolicy(r, false, 2) }];
  return { n, req, policies };
}

// ---- exclusions -----------------------------------------------------------------------

/** Exclusion 1: a session policy that allows nothing here, beside a grant to the session itself. */
function sessionVsDirectGrant(c: Case): boolean {
  if (!c.policies.session?.length || !c.policies.resource) return false;
  if (evaluate(c.req, c.policies).decision !== 'allowed') return false;
  if (c.req.resourceAccount !== c.req.principal.accountId) return false;
  const session = evaluate(c.req, { identity: c.policies.session.map((s) => ({ ...s })) });
  if (session.decision === 'allowed') return false;
  // Does the resource policy alone grant to this session (its ARN or "*"), unlimited by the session policy?
  // (With the role's ARN hidden, only a grant naming the session ARN or "*" can allow.)
  // Only the Allow statements: the full decision is 'allowed', so no Deny applies anyway.
  const doc = c.policies.resource.document;
  const allows = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter((s) => s.Effect === 'Allow');
  const direct = evaluate({ ...c.req, principal: { ...c.req.principal, roleArn: undefined } }, { identity: [], resource: { id: 'r', document: { ...doc, Statement: allows } } });
  return direct.decision === 'allowed';
}

describe('IAM engine: differential test against @cloud-copilot/iam-simulate', () => {
  it(`agrees with the oracle on ${CASES} seeded random cases (seed ${SEED})`, async () => {
    const oracle = await loadOracle();
    const r = mulberry32(SEED);
    const counts = { compared: 0, excludedSessionVsDirect: 0, allowed: 0, explicitDeny: 0, implicitDeny: 0 };
    const started = Date.now();
    let ours = 0;
    for (let n = 0; n < CASES; n++) {
      const c = genCase(r, n);
      const t0 = performance.now();
      const mine = evaluate(c.req, c.policies).decision;
      ours += performance.now() - t0;
      if (sessionVsDirectGrant(c)) {
        counts.excludedSessionVsDirect++;
        continue;
      }
      const theirs = oracle.decide(c);
      if (mine !== theirs) {
        if (process.env.IAM_DIFF_DUMP) writeFileSync(process.env.IAM_DIFF_DUMP, JSON.stringify(c));
        assert.fail(`case #${n}: Nimbus says ${mine}, oracle says ${theirs}\n${JSON.stringify(c, null, 2)}\nNimbus result: ${JSON.stringify(evaluate(c.req, c.policies), null, 2)}`);
      }
      counts.compared++;
      counts[mine]++;
    }
    const elapsed = Date.now() - started;
    console.log(`differential: ${JSON.stringify(counts)}; ${elapsed} ms total, Nimbus ${(ours * 1000 / CASES).toFixed(1)} µs/case`);
    assert.ok(counts.compared >= 10_000 || CASES < 10_000);
    // The corpus must exercise every outcome substantially.
    assert.ok(counts.allowed > CASES / 20 && counts.explicitDeny > CASES / 20 && counts.implicitDeny > CASES / 20, JSON.stringify(counts));
  });
});
