import type { RequestContext } from '../../server/context.js';
import { evaluate } from '../../iam/engine/evaluate.js';
import type { AuthzRequest, ContextValue, MatchedStatement, NamedPolicy, PolicySet } from '../../iam/engine/types.js';
import { IamErrors } from './errors.js';
import { account as accountOf, checkPolicy, iam, paginate } from './common.js';

/**
 * The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the
 * same engine that enforces requests.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
 */
type Input = Record<string, any>;

function contextOf(entries: Array<{ ContextKeyName: string; ContextKeyValues: string[]; ContextKeyType: string }> | undefined): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  for (const e of entries ?? []) {
    const values = e.ContextKeyValues ?? [];
    out[e.ContextKeyName] = e.ContextKeyType?.endsWith('List') ? values : (values[0] ?? '');
  }
  return out;
}

function inputPolicies(texts: string[] | undefined, label: string): NamedPolicy[] {
  return (texts ?? []).map((t, i) => ({ id: `${label}.${i + 1}`, document: JSON.parse(checkPolicy(t, 'identity')) }));
}

/** AWS names matched statements by policy name and kind. */
function statementOut(s: MatchedStatement) {
  const id = s.policyId;
  let SourcePolicyId = id;
  let SourcePolicyType = 'none';
  let m: RegExpExecArray | null;
  if ((m = /^arn:aws:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(id))) [SourcePolicyId, SourcePolicyType] = [m[1]!, 'aws-managed'];
  else if ((m = /^arn:aws:iam::\d{12}:policy\/(?:.*\/)?([^/]+)$/.exec(id))) [SourcePolicyId, SourcePolicyType] = [m[1]!, 'user-managed'];
  else if ((m = /^(user|group|role)\/[^/]+\/(.+)$/.exec(id))) [SourcePolicyId, SourcePolicyType] = [m[2]!, m[1]!];
  else if (s.source === 'resource') SourcePolicyType = 'resource';
  return { SourcePolicyId, SourcePolicyType };
}

function simulate(ctx: RequestContext, principal: AuthzRequest['principal'], set: PolicySet, input: Input) {
  const actions = (input.ActionNames ?? []) as string[];
  if (!actions.length) throw IamErrors.InvalidInput({ message: 'ActionNames must not be empty.' });
  const resources = ((input.ResourceArns as string[] | undefined)?.length ? input.ResourceArns : ['*']) as string[];
  const context = contextOf(input.ContextEntries);
  if (input.ResourcePolicy) set = { ...set, resource: { id: 'ResourcePolicy', document: JSON.parse(checkPolicy(input.ResourcePolicy, 'resource')) } };
  if (input.PermissionsBoundaryPolicyInputList?.length) set = { ...set, permissionsBoundary: inputPolicies(input.PermissionsBoundaryPolicyInputList, 'PermissionsBoundaryPolicyInputList')[0] };
  const results = [];
  for (const action of actions) {
    for (const resource of resources) {
      const r = evaluate({ principal, action, resource, resourceAccount: input.ResourceOwner?.split(':')[4] || undefined, context }, set);
      results.push({
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: r.decision,
        MatchedStatements: r.matchedStatements.map(statementOut),
        MissingContextValues: r.missingContextValues,
        ...(set.permissionsBoundary ? { PermissionsBoundaryDecisionDetail: { AllowedByPermissionsBoundary: !/permissions boundary/.test(r.reason ?? '') } } : {}),
      });
    }
  }
  const { page, IsTruncated, Marker } = paginate(results.map((r, i) => ({ r, k: String(i).padStart(8, '0') })), { MaxItems: input.MaxItems ?? 1000, Marker: input.Marker }, (x) => x.k);
  return { EvaluationResults: page.map((x) => x.r), IsTruncated, Marker };
}

export function simulatePrincipalPolicy(input: Input, ctx: RequestContext) {
  const state = iam(ctx);
  const arn = String(input.PolicySourceArn ?? '');
  const m = /^arn:aws:iam::(\d{12}):(user|group|role)\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  if (!m) throw IamErrors.InvalidInput({ message: `Invalid ARN: ${arn}` });
  const [, account, kind, name] = m as unknown as [string, string, 'user' | 'group' | 'role', string];
  const entity = state.get(kind, name);
  if (!entity) throw IamErrors.NoSuchEntity({ message: `The ${kind} with name ${name} cannot be found.` });
  let set: PolicySet;
  if (kind === 'user') set = state.policiesFor({ accountId: account, arn, userId: '', accessKeyId: '', type: 'user', name });
  else {
    // A group's or role's own attached and inline policies.
    set = { identity: state.policiesOfEntity(kind, name) };
  }
  set = { ...set, identity: [...set.identity, ...inputPolicies(input.PolicyInputList, 'PolicyInputList')] };
  const principal: AuthzRequest['principal'] = input.CallerArn
    ? { arn: input.CallerArn, accountId: account, type: 'user' }
    : { arn, accountId: account, type: kind === 'role' ? 'assumed-role' : 'user', roleArn: kind === 'role' ? arn : undefined };
  return simulate(ctx, principal, set, input);
}

export function simulateCustomPolicy(input: Input, ctx: RequestContext) {
  const account = accountOf(ctx);
  const principal: AuthzRequest['principal'] = { arn: input.CallerArn ?? `arn:aws:iam::${account}:user/simulated-caller`, accountId: account, type: 'user' };
  return simulate(ctx, principal, { identity: inputPolicies(input.PolicyInputList, 'PolicyInputList') }, input);
}
