import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, validatePolicyDocument, PolicyValidationError } from '../../src/iam/engine/evaluate.js';
import type { AuthzRequest, PolicyDocument, PolicySet, Statement, EvaluationResult } from '../../src/iam/engine/types.js';

/**
 * The IAM policy engine, rule by rule, against AWS's documented evaluation logic:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
const A = '111111111111';
const B = '222222222222';
const ALICE = `arn:aws:iam::${A}:user/alice`;
const BOB = `arn:aws:iam::${B}:user/bob`;
const ROLE = `arn:aws:iam::${A}:role/builder`;
const SESSION = `arn:aws:sts::${A}:assumed-role/builder/s1`;
const OBJ = 'arn:aws:s3:::bucket/docs/alice/notes.txt';

const user = (): AuthzRequest['principal'] => ({ arn: ALICE, accountId: A, type: 'user' });
const session = (): AuthzRequest['principal'] => ({ arn: SESSION, accountId: A, type: 'assumed-role', roleArn: ROLE });

function req(over: Partial<AuthzRequest> = {}): AuthzRequest {
  return { principal: user(), action: 's3:GetObject', resource: OBJ, context: { 'aws:username': 'alice' }, ...over };
}
function doc(...Statement: Statement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement };
}
function id(...s: Statement[]): PolicySet {
  return { identity: [{ id: 'p', document: doc(...s) }] };
}
const allow = (extra: Partial<Statement> = {}): Statement => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: OBJ, ...extra });
const deny = (extra: Partial<Statement> = {}): Statement => ({ Effect: 'Deny', Action: 's3:GetObject', Resource: OBJ, ...extra });
const decide = (r: AuthzRequest, p: PolicySet) => evaluate(r, p).decision;
/** Whether a single Allow statement with this condition applies to a request with this context. */
function cond(condition: Statement['Condition'], context: AuthzRequest['context']): boolean {
  return decide(req({ context }), id(allow({ Condition: condition }))) === 'allowed';
}

describe('IAM engine: actions', () => {
  it('matches case-insensitively with * and ? wildcards', () => {
    assert.equal(decide(req(), id(allow({ Action: 'S3:getobject' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Action: 's3:Get*' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Action: 's3:?etObject' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Action: '*' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Action: ['iam:*', 's3:*Object'] }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Action: 's3:?GetObject' }))), 'implicitDeny');
    assert.equal(decide(req(), id(allow({ Action: 's3:Put*' }))), 'implicitDeny');
    assert.equal(decide(req(), id(allow({ Action: 'sqs:*' }))), 'implicitDeny');
  });

  it('NotAction applies to every action but those listed', () => {
    assert.equal(decide(req(), id(allow({ Action: undefined, NotAction: 'iam:*' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Action: undefined, NotAction: ['iam:*', 's3:get*'] }))), 'implicitDeny');
    // A Deny with NotAction denies everything else.
    assert.equal(decide(req(), id(allow({ Action: '*' }), deny({ Action: undefined, NotAction: 's3:List*' }))), 'explicitDeny');
    assert.equal(decide(req(), id(allow({ Action: '*' }), deny({ Action: undefined, NotAction: 's3:Get*' }))), 'allowed');
  });
});

describe('IAM engine: resources', () => {
  it('matches ARNs with wildcards, case-sensitively', () => {
    assert.equal(decide(req(), id(allow({ Resource: 'arn:aws:s3:::bucket/*' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Resource: 'arn:aws:s3:::buck?t/docs/*/notes.txt' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Resource: '*' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Resource: 'arn:aws:s3:::Bucket/*' }))), 'implicitDeny');
    assert.equal(decide(req(), id(allow({ Resource: 'arn:aws:s3:::bucket' }))), 'implicitDeny');
    assert.equal(decide(req(), id(allow({ Resource: ['arn:aws:s3:::other/*', 'arn:aws:s3:::bucket/docs/*'] }))), 'allowed');
  });

  it('compares ARNs component by component: a wildcard does not cross a colon', () => {
    const q = req({ action: 'sqs:SendMessage', resource: `arn:aws:sqs:us-east-1:${A}:queue1` });
    assert.equal(decide(q, id(allow({ Action: 'sqs:*', Resource: `arn:aws:sqs:*:${A}:*` }))), 'allowed');
    assert.equal(decide(q, id(allow({ Action: 'sqs:*', Resource: `arn:aws:sqs:us-*:*:queue?` }))), 'allowed');
    assert.equal(decide(q, id(allow({ Action: 'sqs:*', Resource: `arn:aws:sqs:us-east-1*:queue1` }))), 'implicitDeny');
    assert.equal(decide(q, id(allow({ Action: 'sqs:*', Resource: 'arn:aws:*' }))), 'allowed', 'a short ARN ending in * fills the missing components');
  });

  it('NotResource applies to every resource but those listed', () => {
    assert.equal(decide(req(), id(allow({ Resource: undefined, NotResource: 'arn:aws:s3:::secret/*' }))), 'allowed');
    assert.equal(decide(req(), id(allow({ Resource: undefined, NotResource: 'arn:aws:s3:::bucket/*' }))), 'implicitDeny');
    assert.equal(decide(req(), id(allow({ Resource: '*' }), deny({ Resource: undefined, NotResource: 'arn:aws:s3:::public/*' }))), 'explicitDeny');
  });

  it('substitutes policy variables, their defaults, and the ${*} ${?} ${$} escapes', () => {
    const ctx = { 'aws:username': 'alice', 'aws:userid': 'AIDAEXAMPLE', 'aws:PrincipalTag/team': 'docs', 's3:prefix': 'docs/' };
    const r = (Resource: string, context: AuthzRequest['context'] = ctx, resource = OBJ) => decide(req({ context, resource }), id(allow({ Resource })));
    assert.equal(r('arn:aws:s3:::bucket/docs/${aws:username}/*'), 'allowed');
    assert.equal(r('arn:aws:s3:::bucket/docs/${AWS:UserName}/*'), 'allowed', 'variable names are case-insensitive');
    assert.equal(r('arn:aws:s3:::bucket/${aws:PrincipalTag/team}/alice/*'), 'allowed');
    assert.equal(r('arn:aws:s3:::bucket/${s3:prefix}alice/*'), 'allowed');
    assert.equal(r('arn:aws:s3:::bucket/home/${aws:userid}/*', ctx, 'arn:aws:s3:::bucket/home/AIDAEXAMPLE/x'), 'allowed');
    assert.equal(r('arn:aws:s3:::bucket/docs/${aws:username}/*', { 'aws:username': 'bob' }), 'implicitDeny');
    // Absent variable: the default, or no match at all.
    assert.equal(r("arn:aws:s3:::bucket/docs/${aws:PrincipalTag/owner, 'alice'}/*"), 'allowed');
    assert.equal(r('arn:aws:s3:::bucket/docs/${aws:PrincipalTag/owner}/*'), 'implicitDeny');
    assert.equal(r('arn:aws:s3:::bucket/docs/${aws:PrincipalTag/owner}*', {}), 'implicitDeny');
    // A variable's value is literal: "*" in it is not a wildcard.
    assert.equal(r('arn:aws:s3:::bucket/docs/${aws:username}/notes.txt', { 'aws:username': '*' }), 'implicitDeny');
    // Escapes.
    assert.equal(r('arn:aws:s3:::bucket/a${*}b', ctx, 'arn:aws:s3:::bucket/a*b'), 'allowed');
    assert.equal(r('arn:aws:s3:::bucket/a${*}b', ctx, 'arn:aws:s3:::bucket/axxb'), 'implicitDeny');
    assert.equal(r('arn:aws:s3:::bucket/a${?}b${$}', ctx, 'arn:aws:s3:::bucket/a?b$'), 'allowed');
  });

  it('an unresolvable variable in NotResource leaves the statement inapplicable (unless the ARN plainly differs)', () => {
    assert.equal(decide(req({ context: {} }), id(allow({ Resource: undefined, NotResource: 'arn:aws:s3:::bucket/${aws:username}/*' }))), 'implicitDeny');
    assert.equal(decide(req({ context: {} }), id(allow({ Resource: undefined, NotResource: 'arn:aws:sqs:*:*:${aws:username}' }))), 'allowed');
  });
});

describe('IAM engine: condition operators', () => {
  it('String operators: exact, negated (NOR), ignore-case, Like with wildcards', () => {
    const c = { 'aws:username': 'alice' };
    assert.equal(cond({ StringEquals: { 'aws:username': 'alice' } }, c), true);
    assert.equal(cond({ StringEquals: { 'aws:username': 'Alice' } }, c), false);
    assert.equal(cond({ StringEquals: { 'aws:username': ['bob', 'alice'] } }, c), true, 'values are ORed');
    assert.equal(cond({ StringEquals: { 'aws:username': 'a*' } }, c), false, 'StringEquals has no wildcards');
    assert.equal(cond({ StringNotEquals: { 'aws:username': ['bob', 'carol'] } }, c), true);
    assert.equal(cond({ StringNotEquals: { 'aws:username': ['bob', 'alice'] } }, c), false, 'negated: matches none of the values');
    assert.equal(cond({ StringEqualsIgnoreCase: { 'aws:username': 'ALICE' } }, c), true);
    assert.equal(cond({ StringNotEqualsIgnoreCase: { 'aws:username': 'ALICE' } }, c), false);
    assert.equal(cond({ StringNotEqualsIgnoreCase: { 'aws:username': 'BOB' } }, c), true);
    assert.equal(cond({ StringLike: { 'aws:username': 'a?i*' } }, c), true);
    assert.equal(cond({ StringLike: { 'aws:username': 'A*' } }, c), false);
    assert.equal(cond({ StringNotLike: { 'aws:username': ['b*', 'c*'] } }, c), true);
    assert.equal(cond({ StringNotLike: { 'aws:username': ['b*', 'al*'] } }, c), false);
  });

  it('condition keys are case-insensitive, multiple keys and operators are ANDed', () => {
    const c = { 'AWS:UserName': 'alice', 'aws:SecureTransport': 'true' };
    assert.equal(cond({ StringEquals: { 'aws:username': 'alice' } }, c), true);
    assert.equal(cond({ StringEquals: { 'aws:username': 'alice', 'aws:securetransport': 'true' } }, c), true);
    assert.equal(cond({ StringEquals: { 'aws:username': 'alice', 'aws:securetransport': 'false' } }, c), false);
    assert.equal(cond({ StringEquals: { 'aws:username': 'alice' }, Bool: { 'aws:SecureTransport': 'false' } }, c), false);
  });

  it('policy variables in condition values', () => {
    const c = { 'aws:username': 'alice', 's3:prefix': 'home/alice/x' };
    assert.equal(cond({ StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, c), true);
    assert.equal(cond({ StringLike: { 's3:prefix': 'home/${aws:PrincipalTag/nick}/*' } }, c), false);
    assert.equal(cond({ StringLike: { 's3:prefix': "home/${aws:PrincipalTag/nick, 'alice'}/*" } }, c), true);
    assert.equal(cond({ StringNotEquals: { 's3:prefix': '${aws:PrincipalTag/nick}' } }, c), false, 'an unresolvable value matches neither way');
  });

  it('Numeric operators', () => {
    const c = { 's3:max-keys': '10' };
    assert.equal(cond({ NumericEquals: { 's3:max-keys': '10' } }, c), true);
    assert.equal(cond({ NumericEquals: { 's3:max-keys': '10.0' } }, c), true);
    assert.equal(cond({ NumericNotEquals: { 's3:max-keys': ['5', '20'] } }, c), true);
    assert.equal(cond({ NumericNotEquals: { 's3:max-keys': ['5', '10'] } }, c), false);
    assert.equal(cond({ NumericLessThan: { 's3:max-keys': '11' } }, c), true);
    assert.equal(cond({ NumericLessThan: { 's3:max-keys': '10' } }, c), false);
    assert.equal(cond({ NumericLessThanEquals: { 's3:max-keys': '10' } }, c), true);
    assert.equal(cond({ NumericGreaterThan: { 's3:max-keys': '9.5' } }, c), true);
    assert.equal(cond({ NumericGreaterThan: { 's3:max-keys': '10' } }, c), false);
    assert.equal(cond({ NumericGreaterThanEquals: { 's3:max-keys': '-3' } }, c), true);
    assert.equal(cond({ NumericEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': 10 }), true, 'JSON numbers on either side');
    assert.equal(cond({ NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': 'ten' }), false);
    assert.equal(cond({ NumericNotEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': 'ten' }), false, 'unparsable: neither way');
  });

  it('Date operators with ISO 8601 and epoch seconds, mixed', () => {
    const iso = { 'aws:CurrentTime': '2024-06-01T12:00:00Z' };
    assert.equal(cond({ DateGreaterThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } }, iso), true);
    assert.equal(cond({ DateLessThan: { 'aws:CurrentTime': '2024-01-01' } }, iso), false);
    assert.equal(cond({ DateEquals: { 'aws:CurrentTime': '2024-06-01T12:00:00.000Z' } }, iso), true);
    assert.equal(cond({ DateEquals: { 'aws:CurrentTime': '2024-06-01T14:00:00+02:00' } }, iso), true);
    assert.equal(cond({ DateNotEquals: { 'aws:CurrentTime': '2024-06-01T12:00:00Z' } }, iso), false);
    assert.equal(cond({ DateLessThanEquals: { 'aws:CurrentTime': '2024-06-01T12:00:00Z' } }, iso), true);
    assert.equal(cond({ DateGreaterThanEquals: { 'aws:CurrentTime': '2024-06-01T12:00:01Z' } }, iso), false);
    // 2024-06-01T12:00:00Z is epoch 1717243200.
    assert.equal(cond({ DateEquals: { 'aws:CurrentTime': '1717243200' } }, iso), true, 'epoch policy value vs ISO context');
    assert.equal(cond({ DateLessThan: { 'aws:EpochTime': '2024-06-01T12:00:01Z' } }, { 'aws:EpochTime': '1717243200' }), true, 'ISO policy value vs epoch context');
    assert.equal(cond({ DateGreaterThan: { 'aws:EpochTime': '1717243199' } }, { 'aws:EpochTime': 1717243200 }), true);
    assert.equal(cond({ DateEquals: { 'aws:CurrentTime': 'yesterday' } }, iso), false);
  });

  it('Bool and BinaryEquals', () => {
    assert.equal(cond({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }), true);
    assert.equal(cond({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }), true);
    assert.equal(cond({ Bool: { 'aws:SecureTransport': false } }, { 'aws:SecureTransport': 'FALSE' }), true);
    assert.equal(cond({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'false' }), false);
    assert.equal(cond({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'yes' }), false);
    assert.equal(cond({ BinaryEquals: { 'custom:blob': 'QmluYXJ5' } }, { 'custom:blob': 'QmluYXJ5' }), true);
    assert.equal(cond({ BinaryEquals: { 'custom:blob': 'QmluYXJ5' } }, { 'custom:blob': 'T3RoZXI=' }), false);
  });

  it('IpAddress / NotIpAddress with IPv4 and IPv6 CIDRs and bare addresses', () => {
    const v4 = { 'aws:SourceIp': '203.0.113.7' };
    const v6 = { 'aws:SourceIp': '2001:db8::1' };
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, v4), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '203.0.113.7/32'] } }, v4), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '203.0.113.7' } }, v4), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, v4), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, v4), false);
    assert.equal(cond({ NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } }, v4), true);
    assert.equal(cond({ NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '203.0.0.0/8'] } }, v4), false);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, v6), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '2001:DB8:0:0::/64' } }, v6), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '2001:db9::/32' } }, v6), false);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '2001:db8::1' } }, { 'aws:SourceIp': '2001:0db8:0000::0001' }), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '::/0' } }, v4), false, 'an IPv6 range holds no IPv4 address');
    assert.equal(cond({ NotIpAddress: { 'aws:SourceIp': '203.0.113.7' } }, v6), true);
    assert.equal(cond({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': 'not-an-ip' }), false);
    assert.equal(cond({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': 'not-an-ip' }), false);
  });

  it('Arn operators compare component by component', () => {
    const c = { 'aws:SourceArn': `arn:aws:lambda:us-east-1:${A}:function:f1` };
    assert.equal(cond({ ArnEquals: { 'aws:SourceArn': `arn:aws:lambda:us-east-1:${A}:function:f1` } }, c), true);
    assert.equal(cond({ ArnLike: { 'aws:SourceArn': `arn:aws:lambda:*:${A}:function:f?` } }, c), true);
    assert.equal(cond({ ArnEquals: { 'aws:SourceArn': `arn:aws:lambda:*:*:function:*` } }, c), true);
    assert.equal(cond({ ArnLike: { 'aws:SourceArn': `arn:aws:lambda:*:${B}:*` } }, c), false);
    assert.equal(cond({ ArnNotLike: { 'aws:SourceArn': [`arn:aws:s3:::*`, `arn:aws:sqs:*:*:*`] } }, c), true);
    assert.equal(cond({ ArnNotEquals: { 'aws:SourceArn': `arn:aws:lambda:us-east-1:${A}:function:*` } }, c), false);
    assert.equal(cond({ ArnLike: { 'aws:SourceArn': `arn:aws:lambda:us-east-1:${A}:function:\${aws:username}` } }, { ...c, 'aws:username': 'f1' }), true);
    assert.equal(cond({ ArnLike: { 'aws:SourceArn': 'not-an-arn' } }, c), false);
    assert.equal(cond({ ArnNotLike: { 'aws:SourceArn': 'not-an-arn' } }, c), false);
  });

  it('absent keys: positive operators fail, negated ones hold, ...IfExists holds; recorded as missing', () => {
    const none = {};
    assert.equal(cond({ StringEquals: { 'aws:PrincipalTag/team': 'dev' } }, none), false);
    assert.equal(cond({ StringNotEquals: { 'aws:PrincipalTag/team': 'dev' } }, none), true);
    assert.equal(cond({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, none), true);
    assert.equal(cond({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::*' } }, none), true);
    assert.equal(cond({ StringEqualsIfExists: { 'aws:PrincipalTag/team': 'dev' } }, none), true);
    assert.equal(cond({ NumericLessThanIfExists: { 's3:max-keys': '5' } }, none), true);
    assert.equal(cond({ NumericLessThanIfExists: { 's3:max-keys': '5' } }, { 's3:max-keys': '10' }), false);
    assert.equal(cond({ DateGreaterThanIfExists: { 'aws:CurrentTime': '2020-01-01' } }, { 'aws:CurrentTime': '2021-01-01' }), true);
    assert.equal(cond({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } }, { 'aws:MultiFactorAuthPresent': 'false' }), false);
    assert.equal(cond({ IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, none), true);
    assert.equal(cond({ ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:s3:::*' } }, none), true);
    const r = evaluate(req({ context: {} }), id(allow({ Condition: { StringEquals: { 'aws:PrincipalTag/team': 'dev' }, Bool: { 'aws:SecureTransport': 'true' } } })));
    assert.deepEqual(r.missingContextValues.sort(), ['aws:PrincipalTag/team', 'aws:SecureTransport']);
    assert.equal(r.decision, 'implicitDeny');
  });

  it('Null tests whether a key is absent', () => {
    assert.equal(cond({ Null: { 'aws:TokenIssueTime': 'true' } }, {}), true);
    assert.equal(cond({ Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' }), false);
    assert.equal(cond({ Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' }), true);
    assert.equal(cond({ Null: { 'aws:TokenIssueTime': false } }, {}), false);
    assert.equal(cond({ Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': undefined }), true, 'undefined counts as absent');
  });

  it('ForAllValues: and ForAnyValue: over multivalued keys', () => {
    const tags = { 'aws:TagKeys': ['env', 'team'] };
    assert.equal(cond({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team', 'cost'] } }, tags), true);
    assert.equal(cond({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, tags), false);
    assert.equal(cond({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, {}), true, 'absent key: an empty set');
    assert.equal(cond({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': [] }), true, 'empty set');
    assert.equal(cond({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'x'] } }, tags), true);
    assert.equal(cond({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['x'] } }, tags), false);
    assert.equal(cond({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, {}), false, 'absent key');
    assert.equal(cond({ 'ForAnyValue:StringLike': { 'aws:TagKeys': ['t*'] } }, tags), true);
    assert.equal(cond({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['e*', 't*'] } }, tags), true);
    assert.equal(cond({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } }, tags), true, 'no value is "secret"');
    assert.equal(cond({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['team'] } }, tags), false);
    assert.equal(cond({ 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['team'] } }, tags), true, '"env" is not "team"');
    assert.equal(cond({ 'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': ['TEAM'] } }, tags), true);
    assert.equal(cond({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'env' } }, { 'aws:TagKeys': 'env' }), true, 'a single value is a set of one');
    assert.equal(cond({ 'ForAnyValue:IpAddress': { 'custom:ips': '10.0.0.0/8' } }, { 'custom:ips': ['192.168.1.1', '10.2.3.4'] }), true);
    assert.equal(cond({ 'ForAllValues:NumericLessThan': { 'custom:n': '10' } }, { 'custom:n': ['1', '5', '12'] }), false);
    // A single-valued operator does not hold for a multivalued key.
    assert.equal(cond({ StringEquals: { 'aws:TagKeys': 'env' } }, tags), false);
    assert.equal(cond({ StringNotEquals: { 'aws:TagKeys': 'x' } }, tags), false);
  });

  it('an unknown operator never holds', () => {
    assert.equal(cond({ StringEqualz: { 'aws:username': 'alice' } }, { 'aws:username': 'alice' }), false);
  });
});

describe('IAM engine: principals in resource-based policies', () => {
  const rp = (Principal: Statement['Principal'], extra: Partial<Statement> = {}): PolicySet => ({ identity: [], resource: { id: 'bucket-policy', document: doc({ Effect: 'Allow', Principal, Action: 's3:GetObject', Resource: OBJ, ...extra }) } });

  it('"*", the user ARN, the session ARN, the role ARN, accounts', () => {
    assert.equal(decide(req(), rp('*')), 'allowed');
    assert.equal(decide(req(), rp({ AWS: '*' })), 'allowed');
    assert.equal(decide(req(), rp({ AWS: ALICE })), 'allowed');
    assert.equal(decide(req(), rp({ AWS: [BOB, ALICE] })), 'allowed');
    assert.equal(decide(req(), rp({ AWS: BOB })), 'implicitDeny');
    assert.equal(decide(req({ principal: session() }), rp({ AWS: SESSION })), 'allowed');
    assert.equal(decide(req({ principal: session() }), rp({ AWS: ROLE })), 'allowed', 'a role ARN grants its sessions');
    // The account (id or root ARN) delegates to the account's IAM policies: not sufficient alone.
    assert.equal(decide(req(), rp({ AWS: A })), 'implicitDeny');
    assert.equal(decide(req(), rp({ AWS: `arn:aws:iam::${A}:root` })), 'implicitDeny');
  });

  it('Service and Federated principals', () => {
    const svc: AuthzRequest['principal'] = { arn: 'lambda.amazonaws.com', accountId: '', type: 'service', service: 'lambda.amazonaws.com' };
    assert.equal(decide(req({ principal: svc }), rp({ Service: 'lambda.amazonaws.com' })), 'allowed');
    assert.equal(decide(req({ principal: svc }), rp({ Service: ['events.amazonaws.com'] })), 'implicitDeny');
    assert.equal(decide(req({ principal: svc }), rp({ AWS: A })), 'implicitDeny');
    assert.equal(decide(req({ principal: svc }), { identity: [{ id: 'x', document: doc(allow()) }] }), 'implicitDeny', 'identity policies do not apply to services');
    const fed: AuthzRequest['principal'] = { arn: 'cognito-identity.amazonaws.com', accountId: A, type: 'user' };
    assert.equal(decide(req({ principal: fed }), rp({ Federated: 'cognito-identity.amazonaws.com' })), 'allowed');
  });

  it('anonymous requests: only a grant to everyone', () => {
    const anon: AuthzRequest['principal'] = { arn: '*', accountId: '', type: 'anonymous' };
    assert.equal(decide(req({ principal: anon, context: {} }), rp('*')), 'allowed');
    assert.equal(decide(req({ principal: anon, context: {} }), rp({ AWS: A })), 'implicitDeny');
    assert.equal(decide(req({ principal: anon, context: {} }), { identity: [] }), 'implicitDeny');
  });

  it('a statement without Principal or NotPrincipal never applies in a resource-based policy', () => {
    assert.equal(decide(req(), rp(undefined)), 'implicitDeny');
  });

  it('NotPrincipal', () => {
    const np = (NotPrincipal: Statement['NotPrincipal'], Effect: 'Allow' | 'Deny' = 'Deny'): NamedDoc => ({ id: 'rp', document: doc({ Effect, NotPrincipal, Action: 's3:*', Resource: '*' }) });
    type NamedDoc = NonNullable<PolicySet['resource']>;
    const allowed = id(allow());
    assert.equal(decide(req(), { ...allowed, resource: np({ AWS: BOB }) }), 'explicitDeny', 'everyone but bob is denied');
    assert.equal(decide(req(), { ...allowed, resource: np({ AWS: [ALICE, BOB] }) }), 'allowed');
    assert.equal(decide(req(), { ...allowed, resource: np({ AWS: A }) }), 'allowed', 'the account excludes its principals');
    assert.equal(decide(req({ principal: session() }), { ...allowed, resource: np({ AWS: ROLE }) }), 'allowed');
    assert.equal(decide(req(), { identity: [], resource: np({ AWS: BOB }, 'Allow') }), 'allowed', 'Allow with NotPrincipal grants the others');
    // AWS: a NotPrincipal Deny always denies a principal that has a permissions boundary.
    assert.equal(decide(req(), { ...allowed, permissionsBoundary: { id: 'pb', document: doc(allow({ Action: '*' })) }, resource: np({ AWS: ALICE }) }), 'explicitDeny');
  });
});

describe('IAM engine: evaluation logic', () => {
  const bucketPolicy = (s: Partial<Statement>): NonNullable<PolicySet['resource']> => ({ id: 'bucket-policy', document: doc({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 's3:GetObject', Resource: OBJ, ...s } as Statement) });
  const boundary = (...s: Statement[]) => ({ id: 'arn:aws:iam::111111111111:policy/boundary', document: doc(...s) });

  it('denies by default, with AWS reason wording', () => {
    const r = evaluate(req(), { identity: [] });
    assert.equal(r.decision, 'implicitDeny');
    assert.equal(r.reason, 'no identity-based policy allows the s3:GetObject action');
    assert.deepEqual(r.matchedStatements, []);
  });

  it('an explicit deny wins over any allow, wherever it is', () => {
    let r = evaluate(req(), { identity: [{ id: 'a', document: doc(allow()) }, { id: 'd', document: doc(deny({ Sid: 'NoGet' })) }] });
    assert.equal(r.decision, 'explicitDeny');
    assert.equal(r.reason, 'an explicit deny in an identity-based policy');
    assert.deepEqual(r.matchedStatements, [
      { policyId: 'a', source: 'identity', sid: undefined, effect: 'Allow', index: 0 },
      { policyId: 'd', source: 'identity', sid: 'NoGet', effect: 'Deny', index: 0 },
    ]);
    r = evaluate(req(), { ...id(allow()), resource: bucketPolicy({ Effect: 'Deny', Principal: '*' }) });
    assert.equal(r.decision, 'explicitDeny');
    assert.equal(r.reason, 'an explicit deny in a resource-based policy');
    r = evaluate(req(), { identity: [], resource: { id: 'rp', document: doc({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Principal: { AWS: A }, Action: 's3:GetObject', Resource: '*' }) } });
    assert.equal(r.decision, 'explicitDeny', 'a deny naming the account applies to its principals');
    r = evaluate(req(), { ...id(allow()), permissionsBoundary: boundary(allow({ Action: '*' }), deny()) });
    assert.equal(r.reason, 'an explicit deny in a permissions boundary');
    r = evaluate(req({ principal: session() }), { ...id(allow()), session: [{ id: 's', document: doc(allow({ Action: '*' }), deny()) }] });
    assert.equal(r.reason, 'an explicit deny in a session policy');
    // A Deny whose condition does not hold does not apply.
    assert.equal(decide(req(), id(allow(), deny({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))), 'allowed');
  });

  it('same account: an identity policy or a resource policy suffices', () => {
    assert.equal(decide(req(), id(allow())), 'allowed');
    const r = evaluate(req(), { identity: [], resource: bucketPolicy({}) });
    assert.equal(r.decision, 'allowed');
    assert.deepEqual(r.matchedStatements, [{ policyId: 'bucket-policy', source: 'resource', sid: undefined, effect: 'Allow', index: 0 }]);
    assert.equal(decide(req(), { ...id(allow()), resource: bucketPolicy({ Principal: { AWS: BOB } }) }), 'allowed');
  });

  it('permissions boundaries limit identity policies', () => {
    assert.equal(decide(req(), { ...id(allow()), permissionsBoundary: boundary(allow({ Action: 's3:*', Resource: '*' })) }), 'allowed');
    const r = evaluate(req(), { ...id(allow()), permissionsBoundary: boundary(allow({ Action: 'sqs:*', Resource: '*' })) });
    assert.equal(r.decision, 'implicitDeny');
    assert.equal(r.reason, 'no permissions boundary allows the s3:GetObject action');
    // A boundary grants nothing by itself.
    assert.equal(evaluate(req(), { identity: [], permissionsBoundary: boundary(allow()) }).reason, 'no identity-based policy allows the s3:GetObject action');
  });

  it('a resource policy naming the user ARN is not limited by the boundary; the account is not enough', () => {
    const pb = boundary(allow({ Action: 'sqs:*', Resource: '*' }));
    assert.equal(decide(req(), { identity: [], permissionsBoundary: pb, resource: bucketPolicy({}) }), 'allowed');
    assert.equal(decide(req(), { identity: [], permissionsBoundary: pb, resource: bucketPolicy({ Principal: '*' }) }), 'allowed');
    assert.equal(decide(req(), { ...id(allow()), permissionsBoundary: pb, resource: bucketPolicy({ Principal: { AWS: A } }) }), 'implicitDeny');
    assert.equal(decide(req(), { ...id(allow()), resource: bucketPolicy({ Principal: { AWS: A } }) }), 'allowed');
  });

  it('session policies limit identity policies and role-ARN grants, not grants to the session itself', () => {
    const s = req({ principal: session(), context: {} });
    const sp = (...st: Statement[]) => [{ id: 'session-policy', document: doc(...st) }];
    assert.equal(decide(s, { ...id(allow()), session: sp(allow({ Action: 's3:*', Resource: '*' })) }), 'allowed');
    const r = evaluate(s, { ...id(allow()), session: sp(allow({ Action: 'sqs:*', Resource: '*' })) });
    assert.equal(r.decision, 'implicitDeny');
    assert.equal(r.reason, 'no session policy allows the s3:GetObject action');
    assert.equal(decide(s, { identity: [], session: sp(allow()) }), 'implicitDeny', 'a session policy grants nothing by itself');
    assert.equal(decide(s, { ...id(allow()), session: [] }), 'allowed', 'an empty list is no session policy');
    // Several session policies: any may allow.
    assert.equal(decide(s, { ...id(allow()), session: [...sp(allow({ Action: 'sqs:*' })), { id: 'arn:aws:iam::aws:policy/S3', document: doc(allow()) }] }), 'allowed');
    // Resource policy naming the role ARN: limited by the session policy and the boundary.
    const byRole = bucketPolicy({ Principal: { AWS: ROLE } });
    assert.equal(decide(s, { identity: [], resource: byRole }), 'allowed');
    assert.equal(decide(s, { identity: [], resource: byRole, session: sp(allow({ Action: 'sqs:*' })) }), 'implicitDeny');
    assert.equal(decide(s, { identity: [], resource: byRole, session: sp(allow()) }), 'allowed');
    assert.equal(decide(s, { identity: [], resource: byRole, permissionsBoundary: boundary(allow({ Action: 'sqs:*' })) }), 'implicitDeny');
    assert.equal(evaluate(s, { identity: [], resource: byRole, permissionsBoundary: boundary(allow({ Action: 'sqs:*' })) }).reason, 'no permissions boundary allows the s3:GetObject action');
    // Resource policy naming the session ARN: not limited by either.
    const bySession = bucketPolicy({ Principal: { AWS: SESSION } });
    assert.equal(decide(s, { identity: [], resource: bySession, session: sp(allow({ Action: 'sqs:*' })) }), 'allowed');
    assert.equal(decide(s, { identity: [], resource: bySession, permissionsBoundary: boundary(allow({ Action: 'sqs:*' })) }), 'allowed');
  });

  it('cross-account: both the identity side and the resource policy must allow', () => {
    const bob = req({ principal: { arn: BOB, accountId: B, type: 'user' }, resourceAccount: A });
    const bobAllowed = { identity: [{ id: 'bob-policy', document: doc(allow()) }] };
    let r = evaluate(bob, bobAllowed);
    assert.equal(r.decision, 'implicitDeny');
    assert.equal(r.reason, 'no resource-based policy allows the s3:GetObject action');
    r = evaluate(bob, { identity: [], resource: bucketPolicy({ Principal: { AWS: BOB } }) });
    assert.equal(r.reason, 'no identity-based policy allows the s3:GetObject action');
    assert.equal(decide(bob, { ...bobAllowed, resource: bucketPolicy({ Principal: { AWS: BOB } }) }), 'allowed');
    assert.equal(decide(bob, { ...bobAllowed, resource: bucketPolicy({ Principal: { AWS: B } }) }), 'allowed', 'a grant to the account');
    assert.equal(decide(bob, { ...bobAllowed, resource: bucketPolicy({ Principal: { AWS: `arn:aws:iam::${B}:root` } }) }), 'allowed');
    assert.equal(decide(bob, { ...bobAllowed, resource: bucketPolicy({ Principal: { AWS: A } }) }), 'implicitDeny');
    assert.equal(decide(bob, { ...bobAllowed, resource: bucketPolicy({ Principal: { AWS: BOB } }), permissionsBoundary: boundary(allow({ Action: 'sqs:*' })) }), 'implicitDeny', 'the boundary applies');
    assert.equal(decide(bob, { ...bobAllowed, resource: bucketPolicy({ Principal: '*', Effect: 'Deny' }) }), 'explicitDeny');
    // The principal's own account decides "same account": a resource in the caller's account.
    assert.equal(decide(req({ resourceAccount: A }), id(allow())), 'allowed');
  });

  it('the root user is not subject to identity policies; resource policy denies still apply', () => {
    const root = req({ principal: { arn: `arn:aws:iam::${A}:root`, accountId: A, type: 'root' }, context: {} });
    assert.equal(decide(root, { identity: [] }), 'allowed');
    assert.equal(decide(root, { identity: [{ id: 'x', document: doc(deny()) }] }), 'allowed');
    assert.equal(decide(root, { identity: [], resource: bucketPolicy({ Effect: 'Deny', Principal: '*' }) }), 'explicitDeny');
    assert.equal(decide(root, { identity: [], resource: bucketPolicy({ Effect: 'Deny', Principal: { AWS: A } }) }), 'explicitDeny');
    const other = req({ principal: { arn: `arn:aws:iam::${B}:root`, accountId: B, type: 'root' }, resourceAccount: A, context: {} });
    assert.equal(decide(other, { identity: [] }), 'implicitDeny');
    assert.equal(decide(other, { identity: [], resource: bucketPolicy({ Principal: { AWS: B } }) }), 'allowed');
  });

  it('trust policies (no Resource element) apply to the role itself', () => {
    const trust = { id: 'trust', document: doc({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sts:AssumeRole' } as Statement) };
    assert.equal(decide(req({ action: 'sts:AssumeRole', resource: ROLE }), { identity: [], resource: trust }), 'allowed');
    assert.equal(decide(req({ action: 'sts:TagSession', resource: ROLE }), { identity: [], resource: trust }), 'implicitDeny');
  });

  it('is fast: compiled policies and cached patterns', () => {
    const policies: PolicySet = {
      identity: [
        { id: 'a', document: doc(allow({ Action: ['s3:Get*', 's3:List*'], Resource: ['arn:aws:s3:::bucket/docs/${aws:username}/*', 'arn:aws:s3:::other/*'], Condition: { StringEquals: { 'aws:PrincipalTag/team': 'dev' }, IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } }), deny({ Action: 's3:Delete*', Resource: '*' })) },
        { id: 'b', document: doc(allow({ Action: 'sqs:*', Resource: 'arn:aws:sqs:*:*:*' })) },
      ],
      permissionsBoundary: boundary(allow({ Action: 's3:*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } })),
      resource: bucketPolicy({ Principal: { AWS: BOB } }),
    };
    const r = req({ context: { 'aws:username': 'alice', 'aws:PrincipalTag/team': 'dev', 'aws:SourceIp': '10.1.2.3', 'aws:CurrentTime': '2026-01-01T00:00:00Z' } });
    assert.equal(decide(r, policies), 'allowed');
    const n = 20_000;
    const t0 = performance.now();
    let last: EvaluationResult | undefined;
    for (let i = 0; i < n; i++) last = evaluate(r, policies);
    const perCall = ((performance.now() - t0) * 1000) / n;
    assert.equal(last!.decision, 'allowed');
    assert.ok(perCall < 50, `${perCall.toFixed(1)} µs per evaluation`);
  });
});

describe('IAM engine: validatePolicyDocument', () => {
  const ok = JSON.stringify(doc(allow()));
  const msg = (text: string, kind: 'identity' | 'resource' | 'trust' = 'identity') => {
    try {
      validatePolicyDocument(text, kind);
    } catch (e) {
      assert.ok(e instanceof PolicyValidationError);
      return (e as Error).message;
    }
    return 'valid';
  };
  const j = (d: unknown) => JSON.stringify(d);
  const st = (s: object) => j({ Version: '2012-10-17', Statement: [s] });

  it('accepts valid identity, resource and trust policies and returns the document', () => {
    assert.deepEqual(validatePolicyDocument(ok, 'identity'), doc(allow()));
    assert.equal(msg(j({ Version: '2012-10-17', Statement: allow() })), 'valid', 'a single statement object');
    assert.equal(msg(st({ Effect: 'Allow', Principal: { AWS: [ALICE, A] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }), 'resource'), 'valid');
    assert.equal(msg(st({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }), 'trust'), 'valid');
    assert.equal(msg(st({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': false }, 'ForAnyValue:StringLike': { 'aws:TagKeys': ['a*'] } } })), 'valid');
  });

  it('rejects malformed documents with IAM MalformedPolicyDocument messages', () => {
    assert.equal(msg('{not json'), 'Syntax errors in policy.');
    assert.equal(msg(''), 'Syntax errors in policy.');
    assert.equal(msg('[]'), 'Syntax errors in policy.');
    assert.equal(msg(j({ Version: '2012-10-18', Statement: [allow()] })), 'The policy failed legacy parsing');
    assert.equal(msg(j({ Version: '2012-10-17', Statement: [allow()], Foo: 1 })), 'Unknown field Foo');
    assert.equal(msg(st({ ...allow(), Foo: 'x' })), 'Unknown field Foo');
    assert.equal(msg(j({ Version: '2012-10-17' })), 'Missing required field Statement');
    assert.equal(msg(st({ Effect: 'Allow', Resource: '*' })), 'Policy statement must contain actions.');
    assert.equal(msg(st({ Effect: 'Allow', Action: 's3:GetObject' })), 'Policy statement must contain resources.');
    assert.equal(msg(st({ ...allow(), Principal: '*' })), 'Policy document should not specify a principal.');
    assert.equal(msg(st({ ...allow(), NotPrincipal: { AWS: ALICE } })), 'Policy document should not specify a principal.');
    assert.equal(msg(st(allow()), 'resource'), 'Missing required field Principal');
    assert.equal(msg(st({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'trust'), 'Missing required field Principal');
    assert.equal(msg(st({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }), 'trust'), 'Has prohibited field Resource');
    assert.equal(msg(st({ ...allow(), Action: 'GetObject' })), 'Actions/Conditions must be prefixed with a vendor, e.g., iam, sdb, ec2, etc.');
    assert.equal(msg(st({ ...allow(), Action: 's3:Get:Object' })), 'Actions/Condition can contain only one colon.');
    assert.equal(msg(st({ ...allow(), Resource: 'bucket' })), 'Resource bucket must be in ARN format or "*".');
    assert.equal(msg(j({ Version: '2012-10-17', Statement: [allow({ Sid: 'A' }), allow({ Sid: 'A' })] })), 'Statement IDs (SID) in a single policy must be unique.');
    assert.equal(msg(st({ ...allow(), Sid: 'not-alnum' })), 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
    assert.equal(msg(st({ Action: 's3:GetObject', Resource: '*' })), 'Missing required field Effect');
    assert.equal(msg(st({ ...allow(), Effect: 'allow' })), 'Syntax errors in policy.');
    assert.equal(msg(st({ ...allow(), Condition: { StringEqualz: { 'aws:username': 'a' } } })), 'Syntax errors in policy.');
    assert.equal(msg(st({ Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 's3:*', Resource: '*' }), 'resource'), 'Invalid principal in policy: "AWS":"alice"');
  });
});
