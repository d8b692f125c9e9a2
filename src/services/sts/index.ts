import { randomBytes } from 'node:crypto';
import { loadModel } from '../../protocol/model.js';
import { QueryCodec } from '../../protocol/query.js';
import { defineErrors, CommonErrors } from '../../protocol/errors.js';
import type { RequestContext } from '../../server/context.js';
import type { ServiceDef } from '../types.js';
import type { IamAccounts, IamState, SessionDoc, Tag } from '../iam/state.js';
import { verifyMfaCode } from '../iam/mfa.js';
import { iamId, secretKey } from '../../util/ids.js';
import { now } from '../../util/clock.js';
import { evaluate } from '../../iam/engine/evaluate.js';
import type { AuthzRequest, ContextValue, PolicyDocument } from '../../iam/engine/types.js';
import { validatePolicyDocument, PolicyValidationError } from '../../iam/engine/validate.js';
import { principalForEngine, requestContextKeys, requestTagKeys } from '../../server/authorize.js';

/**
 * STS: GetCallerIdentity, AssumeRole (trust policy evaluated, MFA, ExternalId, session
 * policies and tags, duration bounds, role chaining capped at one hour) and
 * GetSessionToken (MFA-authenticated sessions for users and the root).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
 */
export const StsErrors = {
  ...CommonErrors,
  ...defineErrors({
    ValidationError: { status: 400, message: 'The input fails to satisfy the constraints specified by an AWS service.' },
    MalformedPolicyDocument: { status: 400, message: 'The policy document was malformed.' },
    PackedPolicyTooLarge: { status: 400, message: 'Packed policy consumes 100% of allotted space, please use smaller policy.' },
    InvalidParameterValue: { status: 400, message: 'An invalid or out-of-range value was supplied for an input parameter.' },
  }),
};

type Input = Record<string, any>;

const MFA_FAILED = 'MultiFactorAuthentication failed with invalid MFA one time pass code.';

/** SerialNumber + TokenCode: both or neither; a wrong code is AccessDenied, as on AWS. */
async function checkMfa(input: Input, state: IamState, userName: string | undefined): Promise<boolean> {
  const serial = input.SerialNumber as string | undefined;
  const code = input.TokenCode as string | undefined;
  if (serial === undefined && code === undefined) return false;
  if (serial === undefined || code === undefined) {
    throw StsErrors.AccessDenied({ message: 'MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.' });
  }
  if (!/^\d{6}$/.test(code)) {
    throw StsErrors.ValidationError({ message: `1 validation error detected: Value '${code}' at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*` });
  }
  if (!(await verifyMfaCode(state, serial, code, userName))) throw StsErrors.AccessDenied({ message: MFA_FAILED });
  return true;
}

function getCallerIdentity(_input: unknown, ctx: RequestContext) {
  const p = ctx.principal!;
  return { UserId: p.userId, Account: p.accountId, Arn: p.arn };
}

const ALLOW_ALL: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

function validation(value: unknown, member: string, constraint: string) {
  return StsErrors.ValidationError({ message: `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}` });
}

/** Session tags: at most 50, keys 1–128, values 0–256; no key twice (case-insensitively). */
function checkSessionTags(tags: Tag[] | undefined, transitive: string[] | undefined): { tags: Tag[]; transitive: string[] } {
  const list = tags ?? [];
  if (list.length > 50) throw validation('tags', 'tags', 'Member must have length less than or equal to 50');
  const seen = new Set<string>();
  for (const t of list) {
    if (!t.Key || t.Key.length > 128) throw validation(t.Key, 'tags.member.key', 'Member must have length less than or equal to 128');
    if ((t.Value ?? '').length > 256) throw validation(t.Value, 'tags.member.value', 'Member must have length less than or equal to 256');
    const k = t.Key.toLowerCase();
    if (seen.has(k)) throw StsErrors.InvalidParameterValue({ message: 'Duplicate tag keys found. Please note that Tag keys are case insensitive.' });
    seen.add(k);
  }
  const keys = transitive ?? [];
  for (const k of keys) {
    if (!seen.has(k.toLowerCase())) throw StsErrors.InvalidParameterValue({ message: 'The specified transitive tag key must be included in the requested tags.' });
  }
  return { tags: list.map((t) => ({ Key: t.Key, Value: t.Value ?? '' })), transitive: keys };
}

function sessionPolicyOf(input: Input, state: IamState): { policy?: string; arns: string[] } {
  let policy: string | undefined;
  if (input.Policy !== undefined) {
    try {
      validatePolicyDocument(input.Policy, 'identity');
    } catch (e) {
      if (e instanceof PolicyValidationError) throw StsErrors.MalformedPolicyDocument({ message: (e as Error).message });
      throw e;
    }
    if (String(input.Policy).length > 2048) throw StsErrors.PackedPolicyTooLarge();
    policy = input.Policy;
  }
  const arns = ((input.PolicyArns ?? []) as Array<{ arn?: string }>).map((p) => p.arn!).filter(Boolean);
  for (const a of arns) if (!state.managedPolicy(a)) throw StsErrors.ValidationError({ message: `Policy ${a} does not exist.` });
  return { policy, arns };
}

function newKeys(): Pick<SessionDoc, 'AccessKeyId' | 'SecretAccessKey' | 'SessionToken'> {
  return { AccessKeyId: iamId('ASIA'), SecretAccessKey: secretKey(), SessionToken: randomBytes(160).toString('base64') };
}

async function assumeRole(input: Input, ctx: RequestContext) {
  const caller = ctx.principal!;
  const deny = () => StsErrors.AccessDenied({ message: `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}` });
  const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(String(input.RoleArn ?? ''));
  if (!m) throw StsErrors.ValidationError({ message: `${input.RoleArn} is invalid` });
  const roleAccount = m[1]!;
  // The role lives in its own account; the caller's policies in the caller's.
  const state = ctx.runtime.iam.forAccount(roleAccount);
  const callerState = ctx.runtime.iam.forAccount(caller.accountId);
  const role = state.get('role', m[2]!);
  if (!role || role.Arn !== input.RoleArn) throw deny();
  const sessionName = String(input.RoleSessionName ?? '');
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw validation(sessionName, 'roleSessionName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  if (caller.session?.kind === 'token' && caller.type === 'root') throw deny();
  const chained = caller.type === 'assumed-role';
  const duration = input.DurationSeconds ?? 3600;
  if (duration < 900) throw validation(duration, 'durationSeconds', 'Member must have value greater than or equal to 900');
  if (chained && duration > 3600) throw StsErrors.ValidationError({ message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.' });
  if (duration > role.MaxSessionDuration) throw StsErrors.ValidationError({ message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.' });
  const sessionTags = checkSessionTags(input.Tags, input.TransitiveTagKeys);
  // Role chaining passes the caller's transitive tags on; they cannot be overridden.
  const inherited = (caller.session?.transitiveTagKeys ?? []).map((k) => ({ Key: k, Value: caller.session!.tags?.[k] ?? '' }));
  for (const t of sessionTags.tags) {
    if (inherited.some((i) => i.Key.toLowerCase() === t.Key.toLowerCase())) {
      throw StsErrors.InvalidParameterValue({ message: `One of the specified tag keys (${t.Key}) is a transitive tag key of the current session and cannot be overwritten.` });
    }
  }

  const mfa = await checkMfa(input, callerState, caller.type === 'user' ? caller.name : undefined);
  const issued = now();
  const mfaAt = mfa ? issued : caller.session?.mfaAt;

  // The trust policy is the role's resource policy for sts:AssumeRole (and sts:TagSession
  // when session tags are passed), evaluated with the request's context.
  const trust = { id: `${role.Arn}/trust`, document: state.document(role.AssumeRolePolicyDocument) };
  const context: Record<string, ContextValue | undefined> = {
    ...requestContextKeys(ctx),
    ...mfaContext(mfaAt, issued),
    'sts:ExternalId': input.ExternalId,
    'sts:RoleSessionName': sessionName,
    'sts:SourceIdentity': input.SourceIdentity,
    ...requestTagKeys(sessionTags.tags),
  };
  const actions = sessionTags.tags.length ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'];
  for (const action of actions) {
    const req: AuthzRequest = { principal: principalForEngine(caller), action, resource: role.Arn, resourceAccount: roleAccount, context };
    // 1. The trust policy itself must let this principal in. Evaluated as if cross-account
    //    with an allow-everything identity side, the outcome is the trust policy's alone
    //    (a grant to the account then counts, as it delegates to the account's policies).
    const elsewhere = caller.accountId === '999999999999' ? '999999999998' : '999999999999';
    const trustOnly = evaluate({ ...req, resourceAccount: elsewhere }, { identity: [{ id: 'allow-all', document: ALLOW_ALL }], resource: trust });
    if (trustOnly.decision !== 'allowed') throw deny();
    // 2. The root of the role's account may then assume it. Anyone else needs the engine's
    //    full answer: in the same account a trust policy naming the caller stands alone and
    //    one naming the account delegates to the caller's identity policies; across
    //    accounts both sides must allow; boundaries and session policies apply.
    if (caller.type === 'root' && caller.accountId === roleAccount) continue;
    const identity = caller.type === 'root' ? { identity: [{ id: 'root', document: ALLOW_ALL }] } : callerState.policiesFor(caller);
    if (evaluate(req, { ...identity, resource: trust }).decision !== 'allowed') throw deny();
  }

  const { policy: sessionPolicy, arns: policyArns } = sessionPolicyOf(input, state);
  const tags = mergeTags(inherited, sessionTags.tags);
  const session: SessionDoc = {
    ...newKeys(),
    Expiration: new Date(issued + duration * 1000).toISOString(),
    IssuedAt: new Date(issued).toISOString(),
    MfaAuthTime: mfaAt !== undefined ? new Date(mfaAt).toISOString() : undefined,
    Tags: tags.length ? tags : undefined,
    TransitiveTagKeys: [...inherited.map((t) => t.Key), ...sessionTags.transitive].length ? [...inherited.map((t) => t.Key), ...sessionTags.transitive] : undefined,
    RoleArn: role.Arn,
    RoleName: role.RoleName,
    SessionName: sessionName,
    AssumedRoleId: `${role.RoleId}:${sessionName}`,
    Arn: `arn:aws:sts::${roleAccount}:assumed-role/${role.RoleName}/${sessionName}`,
    SessionPolicy: sessionPolicy,
    PolicyArns: policyArns.length ? policyArns : undefined,
    SourceIdentity: input.SourceIdentity,
    Chained: chained,
  };
  await state.write((tx) => tx.put('session', session.AccessKeyId, session));
  const packed = (sessionPolicy?.length ?? 0) + policyArns.length * 64 + JSON.stringify(tags).length;
  return {
    Credentials: credentialsOut(session),
    AssumedRoleUser: { AssumedRoleId: session.AssumedRoleId, Arn: session.Arn },
    PackedPolicySize: sessionPolicy || policyArns.length || tags.length ? Math.min(100, Math.ceil(packed / 20.48)) : undefined,
    SourceIdentity: input.SourceIdentity,
  };
}

function mergeTags(inherited: Tag[], own: Tag[]): Tag[] {
  const out = new Map<string, Tag>();
  for (const t of [...inherited, ...own]) out.set(t.Key.toLowerCase(), t);
  return [...out.values()];
}

/** aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge for a session made at `issued`. */
function mfaContext(mfaAt: number | undefined, at: number): Record<string, ContextValue | undefined> {
  return mfaAt === undefined
    ? { 'aws:MultiFactorAuthPresent': 'false' }
    : { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': String(Math.max(0, Math.floor((at - mfaAt) / 1000))) };
}

function credentialsOut(s: SessionDoc) {
  return { AccessKeyId: s.AccessKeyId, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken, Expiration: new Date(s.Expiration) };
}

/**
 * GetSessionToken: temporary credentials for an IAM user (15 min – 36 h, default 12 h) or
 * the root (15 min – 1 h), with MFA when SerialNumber and TokenCode are given. Role
 * sessions may not call it.
 */
async function getSessionToken(input: Input, ctx: RequestContext) {
  const caller = ctx.principal!;
  if (caller.type === 'assumed-role' || caller.session) {
    throw StsErrors.AccessDenied({ message: 'Cannot call GetSessionToken with session credentials' });
  }
  const root = caller.type === 'root';
  const max = root ? 3600 : 129600;
  const duration = input.DurationSeconds ?? (root ? 3600 : 43200);
  if (duration < 900) throw validation(duration, 'durationSeconds', 'Member must have value greater than or equal to 900');
  if (duration > 129600) throw validation(duration, 'durationSeconds', 'Member must have value less than or equal to 129600');
  // No permission is needed: it authenticates, and policies do not control authentication
  // (id_credentials_temp_control-access_getsessiontoken.html).
  const state = ctx.runtime.iam.forAccount(caller.accountId);
  const mfa = await checkMfa(input, state, root ? undefined : caller.name);
  const issued = now();
  const session: SessionDoc = {
    ...newKeys(),
    Kind: 'token',
    UserName: root ? undefined : caller.name,
    Expiration: new Date(issued + Math.min(duration, max) * 1000).toISOString(),
    IssuedAt: new Date(issued).toISOString(),
    MfaAuthTime: mfa ? new Date(issued).toISOString() : undefined,
    RoleArn: '',
    RoleName: '',
    SessionName: '',
    AssumedRoleId: caller.userId,
    Arn: caller.arn,
    Chained: false,
  };
  await state.write((tx) => tx.put('session', session.AccessKeyId, session));
  return { Credentials: credentialsOut(session) };
}

/**
 * Credentials a service gets by assuming a role for its own work (Lambda's execution
 * role): the role's trust policy must allow the service principal, as on AWS. The
 * session is an ordinary role session, so the role's policies bind what it does.
 */
export async function assumeRoleForService(iam: IamAccounts, roleArn: string, service: string, sessionName: string, durationSeconds = 3600): Promise<SessionDoc> {
  const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
  const state = m ? iam.forAccount(m[1]!) : undefined;
  const role = m && state!.get('role', m[2]!);
  if (!state || !role || role.Arn !== roleArn) throw StsErrors.AccessDenied({ message: `${service} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}` });
  const trust = { id: `${role.Arn}/trust`, document: state.document(role.AssumeRolePolicyDocument) };
  const t = now();
  const req: AuthzRequest = {
    principal: { arn: service, accountId: '', type: 'service', service },
    action: 'sts:AssumeRole',
    resource: role.Arn,
    context: { 'aws:CurrentTime': new Date(t).toISOString(), 'aws:EpochTime': String(Math.floor(t / 1000)), 'aws:PrincipalServiceName': service, 'aws:SecureTransport': 'false' },
  };
  if (evaluate(req, { identity: [], resource: trust }).decision !== 'allowed') {
    throw StsErrors.AccessDenied({ message: `${service} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}` });
  }
  const name = sessionName.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  const session: SessionDoc = {
    ...newKeys(),
    Expiration: new Date(t + Math.min(durationSeconds, role.MaxSessionDuration) * 1000).toISOString(),
    IssuedAt: new Date(t).toISOString(),
    RoleArn: role.Arn,
    RoleName: role.RoleName,
    SessionName: name,
    AssumedRoleId: `${role.RoleId}:${name}`,
    Arn: `arn:aws:sts::${m![1]}:assumed-role/${role.RoleName}/${name}`,
    Chained: false,
  };
  await state.write((tx) => tx.put('session', session.AccessKeyId, session));
  return session;
}

export const stsService: ServiceDef = {
  name: 'sts',
  signingNames: ['sts'],
  model: () => loadModel('sts'),
  codec: new QueryCodec(),
  authErrors: { unknownKey: 'InvalidClientTokenId', badSignature: 'SignatureDoesNotMatch' },
  requestIdStyle: 'amzn',
  maxBodyBytes: 1 << 20,
  operations: {
    // Always allowed, whatever the policies say.
    GetCallerIdentity: { handler: getCallerIdentity, action: 'sts:GetCallerIdentity', selfAuthorized: true },
    // The trust policy and the caller's own policies are evaluated by the handler.
    AssumeRole: { handler: assumeRole, action: 'sts:AssumeRole', selfAuthorized: true },
    GetSessionToken: { handler: getSessionToken, action: 'sts:GetSessionToken', selfAuthorized: true },
  },
};
