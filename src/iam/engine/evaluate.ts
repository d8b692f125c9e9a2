/**
 * The IAM policy evaluation engine: a pure function from a request and the policies that
 * apply to it to a decision, following AWS's documented logic.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 *
 * 1. An explicit Deny in any applicable policy (identity, resource, permissions boundary,
 *    session) decides: explicitDeny.
 * 2. Within one account, an Allow in the identity-based policies OR in the resource-based
 *    policy suffices, with these limits:
 *    - the identity-based route must also be allowed by the permissions boundary (if any)
 *      and by the session policies (if any);
 *    - a resource-based grant naming the principal itself — the IAM user's ARN, the role
 *      session's ARN, or "*" — is not limited by an implicit deny in a permissions boundary
 *      or session policy;
 *    - a grant naming the role's ARN (for one of its sessions) is limited by both;
 *    - a grant naming the account (its id or :root ARN) delegates to the account's IAM
 *      policies: it is not sufficient on its own.
 * 3. Across accounts (resourceAccount ≠ principal.accountId), the identity route (with its
 *    boundary and session policies) AND the resource-based policy must both allow; a grant
 *    to the principal's account counts for the resource side.
 * 4. The account's root user is not subject to identity policies, boundaries or session
 *    policies (none can be attached to it): within its account it is allowed unless a
 *    resource-based policy explicitly denies it; across accounts a resource-based policy
 *    must allow it (a grant to its account names it). The pipeline skips evaluation for
 *    root anyway.
 * 5. Anonymous requests are allowed only by a resource-based policy granting "*"; service
 *    principals only by a resource-based policy naming the service (or "*").
 */
import type { AuthzRequest, EvaluationResult, MatchedStatement, NamedPolicy, PolicyDocument, PolicySet, Statement } from './types.js';
import { Context, actionMatches, resourceMatches } from './match.js';
import { compileConditions, conditionsHold, toStrings, type CompiledCondition } from './conditions.js';

export { validatePolicyDocument, PolicyValidationError } from './validate.js';

type Source = MatchedStatement['source'];

interface CompiledStatement {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principal?: CompiledPrincipal;
  notPrincipal?: CompiledPrincipal;
  conditions: CompiledCondition[];
}

/** A Principal / NotPrincipal element, normalised. */
interface CompiledPrincipal {
  any: boolean;
  aws: string[];
  service: string[];
  federated: string[];
  canonical: string[];
}

const compiled = new WeakMap<PolicyDocument, CompiledStatement[]>();

function list(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return toStrings(v);
}

function compilePrincipal(p: Statement['Principal']): CompiledPrincipal | undefined {
  if (p === undefined || p === null) return undefined;
  const out: CompiledPrincipal = { any: false, aws: [], service: [], federated: [], canonical: [] };
  if (typeof p === 'string') {
    if (p === '*') out.any = true;
    return out;
  }
  for (const [kind, value] of Object.entries(p)) {
    const values = toStrings(value);
    switch (kind.toLowerCase()) {
      case 'aws':
        for (const v of values) {
          if (v === '*') out.any = true;
          else out.aws.push(v);
        }
        break;
      case 'service':
        out.service.push(...values);
        break;
      case 'federated':
        out.federated.push(...values);
        break;
      case 'canonicaluser':
        out.canonical.push(...values);
        break;
    }
  }
  return out;
}

/**
 * A document's statements in normalised form, cached per document object: documents are
 * treated as immutable once evaluated (build a new object to change a policy).
 */
function compilePolicy(doc: PolicyDocument): CompiledStatement[] {
  let c = compiled.get(doc);
  if (c) return c;
  const raw = doc && (doc as { Statement?: unknown }).Statement;
  const statements = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Statement[];
  c = statements.map((s, index) => ({
    index,
    sid: s.Sid,
    effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
    actions: list(s.Action),
    notActions: list(s.NotAction),
    resources: list(s.Resource),
    notResources: list(s.NotResource),
    principal: compilePrincipal(s.Principal),
    notPrincipal: compilePrincipal(s.NotPrincipal),
    conditions: compileConditions(s.Condition),
  }));
  if (doc && typeof doc === 'object') compiled.set(doc, c);
  return c;
}

/** How a resource-based policy statement's principal element named the caller. */
type PrincipalMatch = 'none' | 'direct' | 'role' | 'account';

function accountOf(arnOrId: string): string | undefined {
  if (/^\d{12}$/.test(arnOrId)) return arnOrId;
  const m = /^arn:[^:]+:iam::(\d{12}):root$/.exec(arnOrId);
  return m ? m[1] : undefined;
}

function matchPrincipal(p: CompiledPrincipal, req: AuthzRequest): PrincipalMatch {
  const pr = req.principal;
  if (p.any) return 'direct';
  if (pr.type === 'anonymous') return 'none';
  if (pr.type === 'service') {
    const svc = pr.service ?? pr.arn;
    return p.service.some((s) => s === svc) ? 'direct' : 'none';
  }
  let best: PrincipalMatch = 'none';
  for (const a of p.aws) {
    if (a === pr.arn) return 'direct';
    if (pr.roleArn && a === pr.roleArn) best = 'role';
    else if (best === 'none' && accountOf(a) === pr.accountId) best = 'account';
  }
  for (const f of p.federated) if (f === pr.arn) return 'direct';
  if (best === 'none' && pr.type === 'root') {
    // The root user is the account: a grant to the account names it.
    for (const a of p.aws) if (accountOf(a) === pr.accountId) return 'direct';
  }
  return best;
}

function notPrincipalApplies(p: CompiledPrincipal, req: AuthzRequest): boolean {
  return matchPrincipal(p, req) === 'none';
}

function statementTargets(s: CompiledStatement, req: AuthzRequest, ctx: Context, missing: Set<string>): boolean {
  const action = req.action;
  if (s.actions) {
    if (!s.actions.some((a) => actionMatches(a, action))) return false;
  } else if (s.notActions) {
    if (s.notActions.some((a) => actionMatches(a, action))) return false;
  } else return false;

  if (s.resources) {
    let any = false;
    for (const r of s.resources) {
      if (resourceMatches(r, req.resource, ctx, missing) === true) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  } else if (s.notResources) {
    for (const r of s.notResources) {
      // A NotResource entry that cannot be resolved leaves the statement inapplicable.
      if (resourceMatches(r, req.resource, ctx, missing) !== false) return false;
    }
  }
  // Resource policies (trust policies) may omit Resource: they apply to the resource itself.
  return true;
}

interface Side {
  allow: boolean;
  deny: boolean;
}

interface ResourceSide extends Side {
  /** The strongest way an applicable Allow named the caller. */
  grant: PrincipalMatch;
}

const GRANT_RANK: Record<PrincipalMatch, number> = { none: 0, account: 1, role: 2, direct: 3 };

function evalIdentityLike(policies: NamedPolicy[], source: Source, req: AuthzRequest, ctx: Context, missing: Set<string>, matched: MatchedStatement[]): Side {
  const side: Side = { allow: false, deny: false };
  for (const pol of policies) {
    for (const s of compilePolicy(pol.document)) {
      if (!statementTargets(s, req, ctx, missing)) continue;
      if (!conditionsHold(s.conditions, ctx, missing)) continue;
      matched.push({ policyId: pol.id, source, sid: s.sid, effect: s.effect, index: s.index });
      if (s.effect === 'Deny') side.deny = true;
      else side.allow = true;
    }
  }
  return side;
}

function evalResource(pol: NamedPolicy | undefined, req: AuthzRequest, ctx: Context, missing: Set<string>, matched: MatchedStatement[], hasBoundary: boolean): ResourceSide {
  const side: ResourceSide = { allow: false, deny: false, grant: 'none' };
  if (!pol) return side;
  for (const s of compilePolicy(pol.document)) {
    let how: PrincipalMatch;
    if (s.principal) how = matchPrincipal(s.principal, req);
    else if (s.notPrincipal) {
      // "A NotPrincipal element with a Deny effect will always deny any IAM principal that
      // has a permissions boundary policy attached" (access_policies_boundaries.html).
      const forced = s.effect === 'Deny' && hasBoundary && (req.principal.type === 'user' || req.principal.type === 'assumed-role');
      how = forced || notPrincipalApplies(s.notPrincipal, req) ? 'direct' : 'none';
    } else how = 'none';
    if (how === 'none') continue;
    if (!statementTargets(s, req, ctx, missing)) continue;
    if (!conditionsHold(s.conditions, ctx, missing)) continue;
    matched.push({ policyId: pol.id, source: 'resource', sid: s.sid, effect: s.effect, index: s.index });
    if (s.effect === 'Deny') side.deny = true;
    else {
      side.allow = true;
      if (GRANT_RANK[how] > GRANT_RANK[side.grant]) side.grant = how;
    }
  }
  return side;
}

export function evaluate(req: AuthzRequest, policies: PolicySet): EvaluationResult {
  const ctx = new Context(req.context ?? {});
  const missing = new Set<string>();
  const matched: MatchedStatement[] = [];
  const principal = req.principal;
  const isRoot = principal.type === 'root';
  const subjectToIam = principal.type === 'user' || principal.type === 'assumed-role';
  const action = req.action;

  const boundaryPolicy = subjectToIam ? policies.permissionsBoundary : undefined;
  // An empty list is the same as none (a session without session policies).
  const sessionPolicies = subjectToIam && policies.session?.length ? policies.session : undefined;

  const identity = subjectToIam ? evalIdentityLike(policies.identity ?? [], 'identity', req, ctx, missing, matched) : { allow: false, deny: false };
  const resource = evalResource(policies.resource, req, ctx, missing, matched, !!boundaryPolicy);
  const boundary = boundaryPolicy ? evalIdentityLike([boundaryPolicy], 'permissionsBoundary', req, ctx, missing, matched) : undefined;
  const session = sessionPolicies ? evalIdentityLike(sessionPolicies, 'session', req, ctx, missing, matched) : undefined;

  const result = (decision: EvaluationResult['decision'], reason?: string): EvaluationResult => ({
    decision,
    matchedStatements: matched,
    missingContextValues: [...missing],
    ...(reason !== undefined ? { reason } : {}),
  });

  // 1. Explicit denies.
  if (identity.deny) return result('explicitDeny', 'an explicit deny in an identity-based policy');
  if (resource.deny) return result('explicitDeny', 'an explicit deny in a resource-based policy');
  if (boundary?.deny) return result('explicitDeny', 'an explicit deny in a permissions boundary');
  if (session?.deny) return result('explicitDeny', 'an explicit deny in a session policy');

  const noResourceAllows = `no resource-based policy allows the ${action} action`;
  const resourceAccount = req.resourceAccount ?? principal.accountId;
  const sameAccount = principal.type !== 'anonymous' && principal.type !== 'service' && resourceAccount === principal.accountId;

  // 5. Anonymous and service principals: only a resource-based policy can grant.
  if (principal.type === 'anonymous' || principal.type === 'service') {
    return resource.allow && resource.grant === 'direct' ? result('allowed') : result('implicitDeny', noResourceAllows);
  }

  // 4. The root user.
  if (isRoot) {
    if (sameAccount) return result('allowed');
    return resource.allow ? result('allowed') : result('implicitDeny', noResourceAllows);
  }

  const boundaryOk = !boundary || boundary.allow;
  const sessionOk = !session || session.allow;
  const identityRoute = identity.allow && boundaryOk && sessionOk;
  const identityReason = !identity.allow
    ? `no identity-based policy allows the ${action} action`
    : !boundaryOk
      ? `no permissions boundary allows the ${action} action`
      : !sessionOk
        ? `no session policy allows the ${action} action`
        : undefined;

  if (sameAccount) {
    if (identityRoute) return result('allowed');
    if (resource.allow) {
      // A grant naming the user or the session itself stands alone; one naming the role
      // is limited by the boundary and session policies; one naming the account delegates.
      if (resource.grant === 'direct') return result('allowed');
      if (resource.grant === 'role' && boundaryOk && sessionOk) return result('allowed');
    }
    return result('implicitDeny', resource.allow && resource.grant === 'role' ? (!boundaryOk ? `no permissions boundary allows the ${action} action` : `no session policy allows the ${action} action`) : identityReason);
  }

  // 3. Cross-account: both sides.
  if (!identityRoute) return result('implicitDeny', identityReason);
  if (!resource.allow) return result('implicitDeny', noResourceAllows);
  return result('allowed');
}
