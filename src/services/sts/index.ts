import { randomBytes } from 'node:crypto';
import { loadModel } from '../../protocol/model.js';
import { QueryCodec } from '../../protocol/query.js';
import { defineErrors, CommonErrors } from '../../protocol/errors.js';
import type { RequestContext } from '../../server/context.js';
import type { ServiceDef } from '../types.js';
import type { SessionDoc } from '../iam/state.js';
import { iamId, secretKey } from '../../util/ids.js';
import { now } from '../../util/clock.js';
import { evaluate } from '../../iam/engine/evaluate.js';
import type { AuthzRequest, PolicyDocument } from '../../iam/engine/types.js';
import { validatePolicyDocument, PolicyValidationError } from '../../iam/engine/validate.js';
import { principalForEngine, requestContextKeys } from '../../server/authorize.js';

/**
 * STS: GetCallerIdentity and AssumeRole (trust policy evaluated, session policies,
 * duration bounds, role chaining capped at one hour).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export const StsErrors = {
  ...CommonErrors,
  ...defineErrors({
    ValidationError: { status: 400, message: 'The input fails to satisfy the constraints specified by an AWS service.' },
    MalformedPolicyDocument: { status: 400, message: 'The policy document was malformed.' },
    PackedPolicyTooLarge: { status: 400, message: 'Packed policy consumes 100% of allotted space, please use smaller policy.' },
  }),
};

type Input = Record<string, any>;

function getCallerIdentity(_input: unknown, ctx: RequestContext) {
  const p = ctx.principal!;
  return { UserId: p.userId, Account: p.accountId, Arn: p.arn };
}

const ALLOW_ALL: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

async function assumeRole(input: Input, ctx: RequestContext) {
  const caller = ctx.principal!;
  const state = ctx.runtime.iam;
  const deny = () =>
    StsErrors.AccessDenied({ message: `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}` });
  const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(String(input.RoleArn ?? ''));
  if (!m) throw StsErrors.ValidationError({ message: `${input.RoleArn} is invalid` });
  const role = state.get('role', m[2]!);
  if (!role || role.Arn !== input.RoleArn) throw deny();
  const sessionName = String(input.RoleSessionName ?? '');
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw StsErrors.ValidationError({ message: `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*` });
  }
  const chained = caller.type === 'assumed-role';
  const duration = input.DurationSeconds ?? 3600;
  if (duration < 900) throw StsErrors.ValidationError({ message: `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900` });
  if (chained && duration > 3600) throw StsErrors.ValidationError({ message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.' });
  if (duration > role.MaxSessionDuration) throw StsErrors.ValidationError({ message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.' });

  // The trust policy is the role's resource policy for sts:AssumeRole.
  const trust = { id: `${role.Arn}/trust`, document: state.document(role.AssumeRolePolicyDocument) };
  const context = { ...requestContextKeys(ctx), 'sts:ExternalId': input.ExternalId, 'sts:RoleSessionName': sessionName, 'sts:SourceIdentity': input.SourceIdentity };
  const req: AuthzRequest = { principal: principalForEngine(caller), action: 'sts:AssumeRole', resource: role.Arn, context };
  // 1. The trust policy itself must let this principal in. Evaluated as if cross-account
  //    with an allow-everything identity side, the outcome is the trust policy's alone
  //    (a grant to the account then counts, as it delegates to the account's policies).
  const trustOnly = evaluate({ ...req, resourceAccount: caller.accountId === '999999999999' ? '999999999998' : '999999999999' }, { identity: [{ id: 'allow-all', document: ALLOW_ALL }], resource: trust });
  if (trustOnly.decision !== 'allowed') throw deny();
  // 2. Unless the trust policy names the caller itself, the caller's identity policies must
  //    allow sts:AssumeRole too (a grant to the account delegates to them). Root may.
  if (caller.type !== 'root') {
    const named = evaluate(req, { identity: [], resource: trust }).decision === 'allowed';
    if (!named) {
      const own = state.policiesFor(caller);
      if (evaluate(req, { ...own, resource: undefined }).decision !== 'allowed') throw deny();
    }
  }

  let sessionPolicy: string | undefined;
  if (input.Policy !== undefined) {
    try {
      validatePolicyDocument(input.Policy, 'identity');
    } catch (e) {
      if (e instanceof PolicyValidationError) throw StsErrors.MalformedPolicyDocument({ message: (e as Error).message });
      throw e;
    }
    if (String(input.Policy).length > 2048) throw StsErrors.PackedPolicyTooLarge();
    sessionPolicy = input.Policy;
  }
  const policyArns = ((input.PolicyArns ?? []) as Array<{ arn?: string }>).map((p) => p.arn!).filter(Boolean);
  for (const a of policyArns) if (!state.managedPolicy(a)) throw StsErrors.ValidationError({ message: `Policy ${a} does not exist.` });

  const issued = now();
  const session: SessionDoc = {
    AccessKeyId: iamId('ASIA'),
    SecretAccessKey: secretKey(),
    SessionToken: randomBytes(160).toString('base64'),
    Expiration: new Date(issued + duration * 1000).toISOString(),
    RoleArn: role.Arn,
    RoleName: role.RoleName,
    SessionName: sessionName,
    AssumedRoleId: `${role.RoleId}:${sessionName}`,
    Arn: `arn:aws:sts::${ctx.runtime.config.accountId}:assumed-role/${role.RoleName}/${sessionName}`,
    SessionPolicy: sessionPolicy,
    PolicyArns: policyArns.length ? policyArns : undefined,
    SourceIdentity: input.SourceIdentity,
    Chained: chained,
  };
  await state.write((tx) => tx.put('session', session.AccessKeyId, session));
  return {
    Credentials: {
      AccessKeyId: session.AccessKeyId,
      SecretAccessKey: session.SecretAccessKey,
      SessionToken: session.SessionToken,
      Expiration: new Date(session.Expiration),
    },
    AssumedRoleUser: { AssumedRoleId: session.AssumedRoleId, Arn: session.Arn },
    PackedPolicySize: sessionPolicy || policyArns.length ? Math.min(100, Math.ceil(((sessionPolicy?.length ?? 0) + policyArns.length * 64) / 20.48)) : undefined,
    SourceIdentity: input.SourceIdentity,
  };
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
  },
};
