import type { RequestContext } from './context.js';
import type { Principal } from '../services/principal.js';
import type { AuthzRequest, ContextValue } from '../iam/engine/types.js';
import { evaluate } from '../iam/engine/evaluate.js';
import { CommonErrors } from '../protocol/errors.js';
import { now } from '../util/clock.js';
import { enabled, log } from '../util/log.js';

/**
 * The authorize stage: every request by a non-root principal is evaluated by the IAM
 * engine before its handler runs, with the operation's action and resource ARN.
 * NIMBUS_IAM=log allows everything but logs what would be denied; off skips evaluation.
 */
export type IamMode = 'enforce' | 'log' | 'off';

export function principalForEngine(p: Principal): AuthzRequest['principal'] {
  return { arn: p.arn, accountId: p.accountId, type: p.type, roleArn: p.roleArn };
}

/** Global condition keys filled from the request. */
export function requestContextKeys(ctx: RequestContext): Record<string, ContextValue | undefined> {
  const p = ctx.principal!;
  const t = now();
  if (p.type === 'anonymous') {
    return { 'aws:CurrentTime': new Date(t).toISOString(), 'aws:EpochTime': String(Math.floor(t / 1000)), 'aws:SecureTransport': 'false', 'aws:SourceIp': (ctx.req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''), 'aws:PrincipalType': 'Anonymous' };
  }
  const keys: Record<string, ContextValue | undefined> = {
    'aws:CurrentTime': new Date(t).toISOString(),
    'aws:EpochTime': String(Math.floor(t / 1000)),
    'aws:SecureTransport': 'false',
    'aws:SourceIp': (ctx.req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    'aws:PrincipalArn': p.type === 'assumed-role' ? p.roleArn : p.arn,
    'aws:PrincipalAccount': p.accountId,
    'aws:PrincipalType': p.type === 'root' ? 'Account' : p.type === 'user' ? 'User' : 'AssumedRole',
    'aws:userid': p.userId,
    'aws:RequestedRegion': ctx.region,
    'aws:CalledVia': undefined,
  };
  if (p.type === 'user') keys['aws:username'] = p.name;
  // Temporary credentials carry their MFA state and issue time; long-term keys have neither.
  if (p.session) {
    keys['aws:TokenIssueTime'] = new Date(p.session.issuedAt).toISOString();
    if (p.session.mfaAt !== undefined) {
      keys['aws:MultiFactorAuthPresent'] = 'true';
      keys['aws:MultiFactorAuthAge'] = String(Math.max(0, Math.floor((t - p.session.mfaAt) / 1000)));
    } else keys['aws:MultiFactorAuthPresent'] = 'false';
  }
  for (const [k, v] of Object.entries(ctx.runtime.iam.forAccount(p.accountId).principalTags(p))) keys[`aws:PrincipalTag/${k}`] = v;
  return keys;
}

/** aws:RequestTag/<key> and aws:TagKeys for the tags a request sets. */
export function requestTagKeys(tags: Array<{ Key: string; Value?: string }> | undefined): Record<string, ContextValue | undefined> {
  if (!tags?.length) return {};
  const out: Record<string, ContextValue | undefined> = { 'aws:TagKeys': tags.map((t) => t.Key) };
  for (const t of tags) out[`aws:RequestTag/${t.Key}`] = t.Value ?? '';
  return out;
}

/**
 * GetSessionToken credentials cannot call IAM without MFA, nor STS beyond AssumeRole and
 * GetCallerIdentity (id_credentials_temp_request.html#stsapi_comparison).
 */
function checkSessionTokenScope(p: Principal, action: string): void {
  const service = action.slice(0, action.indexOf(':')).toLowerCase();
  if (service === 'iam' && p.session!.mfaAt === undefined) {
    throw CommonErrors.AccessDenied({ message: `User: ${p.arn} is not authorized to perform: ${action} with session credentials obtained without MFA (GetSessionToken)` });
  }
  if (service === 'sts' && !/^sts:(AssumeRole|GetCallerIdentity)$/i.test(action)) {
    throw CommonErrors.AccessDenied({ message: `User: ${p.arn} is not authorized to perform: ${action} with session credentials obtained from GetSessionToken` });
  }
}

/** The account field of an ARN (arn:partition:service:region:account:…), if it has one. */
export function arnAccount(arn: string): string | undefined {
  const parts = arn.split(':', 5);
  return parts.length === 5 && /^\d{12}$/.test(parts[4]!) ? parts[4] : undefined;
}

/** The root may always manage its bucket's policy, even one that denies it (no lock-out). */
const ROOT_ALWAYS = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

/** Throws AccessDenied (in AWS's words) unless the caller may do `action` on `resource`. */
export async function authorize(ctx: RequestContext, action: string, resource: string, conditions: Record<string, ContextValue | undefined> = {}): Promise<void> {
  const p = ctx.principal;
  const mode = ctx.runtime.config.iamMode;
  if (!p || mode === 'off') return;
  const info = await ctx.service?.resourceInfo?.(ctx, resource, action, conditions);
  const resourcePolicy = info?.policy;
  // The resource's account: the service knows it (S3 buckets' owners) or the ARN says it.
  const resourceAccount = info?.account ?? arnAccount(resource) ?? p.accountId;
  const ownAccount = resourceAccount === p.accountId;
  // Within its account the root is unrestricted by identity policies; only a resource
  // policy's explicit deny binds it. In another account it needs that account's grant.
  if (p.session?.kind === 'token') checkSessionTokenScope(p, action);
  if (p.type === 'root' && ownAccount && (!resourcePolicy || ROOT_ALWAYS.has(action))) return;
  const req: AuthzRequest = { principal: principalForEngine(p), action, resource, resourceAccount, context: { ...requestContextKeys(ctx), ...info?.context, ...conditions } };
  const identity = p.type === 'anonymous' ? { identity: [] } : ctx.runtime.iam.forAccount(p.accountId).policiesFor(p);
  const result = evaluate(req, { ...identity, resource: resourcePolicy });
  if (result.decision === 'allowed') return;
  if (p.type === 'anonymous') {
    if (mode === 'log') return void log.warn(`NIMBUS_IAM=log: would deny anonymous request ${ctx.requestId}: ${action} on ${resource}`);
    throw CommonErrors.AccessDenied({ message: 'Access Denied' });
  }
  // AWS's wording: "User:" for every kind of principal; implicit denies say "because no …
  // allows", explicit ones "with an explicit deny in …".
  const reason = result.reason ?? `no identity-based policy allows the ${action} action`;
  const why = result.decision === 'explicitDeny' ? `with ${reason}` : `because ${reason}`;
  const message = `User: ${p.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  if (enabled('debug')) {
    // Which policies were considered, and which of their statements applied.
    const considered = [
      ...identity.identity.map((x) => `identity:${x.id}`),
      ...(identity.permissionsBoundary ? [`boundary:${identity.permissionsBoundary.id}`] : []),
      ...(identity.session ?? []).map((x) => `session:${x.id}`),
      ...(resourcePolicy ? [`resource:${resourcePolicy.id}`] : []),
    ];
    log.debug(`request ${ctx.requestId}: ${result.decision} ${action} on ${resource} for ${p.arn} (resource account ${resourceAccount}); considered [${considered.join(', ')}]; matched ${JSON.stringify(result.matchedStatements)}`);
  }
  if (mode === 'log') {
    log.warn(`NIMBUS_IAM=log: would deny request ${ctx.requestId}: ${message}`);
    return;
  }
  throw CommonErrors.AccessDenied({ message });
}

/** Like authorize, but answers instead of throwing (S3's 404-or-403 rule for missing keys). */
export async function isAllowed(ctx: RequestContext, action: string, resource: string, conditions?: Record<string, ContextValue | undefined>): Promise<boolean> {
  try {
    await authorize(ctx, action, resource, conditions);
    return true;
  } catch {
    return false;
  }
}
