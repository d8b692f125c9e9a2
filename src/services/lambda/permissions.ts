import type { RequestContext } from '../../server/context.js';
import type { NamedPolicy, PolicyDocument } from '../../iam/engine/types.js';
import type { ResourceInfo } from '../types.js';
import { LambdaErrors } from './errors.js';
import { revisionId } from './config.js';
import { functionArn, parseFunctionName, type FunctionDoc, type PolicyStatement } from './store.js';
import { lambda } from './runtime.js';
import { requireFunction } from './functions.js';

/**
 * A function's resource-based policy (AddPermission / RemovePermission / GetPolicy),
 * evaluated by IAM whenever another principal, account or service calls the function.
 * Statements added with a qualifier belong to that version or alias only.
 * https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
 */
type Input = Record<string, any>;

function qualifierOf(fn: FunctionDoc, q: string | undefined): string {
  if (q === undefined) return '';
  if (q !== '$LATEST' && !fn.versions[q] && !fn.aliases[q]) {
    throw LambdaErrors.ResourceNotFoundException({ message: `Function not found: ${functionArn(fn.Region, fn.Account, fn.FunctionName, q)}` });
  }
  return q;
}

/** AWS's Principal forms: "*", an account id, an ARN, or a service principal. */
function principalOf(p: string): PolicyStatement['Principal'] {
  if (p === '*') return '*';
  if (/^\d{12}$/.test(p)) return { AWS: `arn:aws:iam::${p}:root` };
  if (p.startsWith('arn:')) return { AWS: p };
  if (/^[a-z0-9.-]+\.amazonaws\.com$/.test(p) || /\.amazonaws\.com\.cn$/.test(p)) return { Service: p };
  throw LambdaErrors.InvalidParameterValueException({ message: `The provided principal was invalid. Please check the principal and try again.` });
}

export function policyDocument(fn: FunctionDoc, qualifier: string): PolicyDocument | undefined {
  const statements = fn.policy[qualifier] ?? [];
  return statements.length ? ({ Version: '2012-10-17', Id: 'default', Statement: statements } as unknown as PolicyDocument) : undefined;
}

export async function addPermission(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  await requireFunction(ctx, ref);
  const action = String(input.Action ?? '');
  if (!/^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/.test(action)) {
    throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])` });
  }
  if (!/^([a-zA-Z0-9-_.]+)$/.test(String(input.StatementId ?? '')) || String(input.StatementId).length > 100) {
    throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${input.StatementId}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)` });
  }
  const principal = principalOf(String(input.Principal ?? ''));
  const result = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const q = qualifierOf(cur, ref.qualifier);
    const list = cur.policy[q] ?? [];
    if (input.RevisionId !== undefined && input.RevisionId !== (cur.policyRevision[q] ?? cur.latest.RevisionId)) throw LambdaErrors.PreconditionFailedException();
    if (list.some((s) => s.Sid === input.StatementId)) {
      throw LambdaErrors.ResourceConflictException({ message: `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.` });
    }
    const condition: Record<string, Record<string, string>> = {};
    if (input.SourceArn) condition.ArnLike = { 'AWS:SourceArn': input.SourceArn };
    const equals: Record<string, string> = {};
    if (input.SourceAccount) equals['AWS:SourceAccount'] = input.SourceAccount;
    if (input.PrincipalOrgID) equals['aws:PrincipalOrgID'] = input.PrincipalOrgID;
    if (input.FunctionUrlAuthType) equals['lambda:FunctionUrlAuthType'] = input.FunctionUrlAuthType;
    if (input.EventSourceToken) equals['lambda:EventSourceToken'] = input.EventSourceToken;
    if (Object.keys(equals).length) condition.StringEquals = equals;
    // A boolean key: AWS writes it with Bool.
    if (input.InvokedViaFunctionUrl) condition.Bool = { 'lambda:InvokedViaFunctionUrl': 'true' };
    const st: PolicyStatement = {
      Sid: input.StatementId,
      Effect: 'Allow',
      Principal: principal,
      Action: action,
      Resource: functionArn(cur.Region, cur.Account, cur.FunctionName, q || undefined),
      ...(Object.keys(condition).length ? { Condition: condition } : {}),
    };
    const next = [...list, st];
    if (JSON.stringify(next).length > 20480) throw LambdaErrors.PolicyLengthExceededException({ message: 'The final policy size (bigger than 20480) is bigger than the limit.' });
    const rev = revisionId();
    return { doc: { ...cur, policy: { ...cur.policy, [q]: next }, policyRevision: { ...cur.policyRevision, [q]: rev } }, result: { Statement: JSON.stringify(st) } };
  });
  ctx.statusOverride = 201;
  return result;
}

export async function removePermission(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  await requireFunction(ctx, ref);
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw LambdaErrors.ResourceNotFoundException();
    const q = qualifierOf(cur, ref.qualifier);
    const list = cur.policy[q] ?? [];
    if (input.RevisionId !== undefined && input.RevisionId !== (cur.policyRevision[q] ?? cur.latest.RevisionId)) throw LambdaErrors.PreconditionFailedException();
    if (!list.some((s) => s.Sid === input.StatementId)) {
      throw LambdaErrors.ResourceNotFoundException({ message: `Statement ${input.StatementId} is not found in resource policy.` });
    }
    return { doc: { ...cur, policy: { ...cur.policy, [q]: list.filter((s) => s.Sid !== input.StatementId) }, policyRevision: { ...cur.policyRevision, [q]: revisionId() } }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export async function getPolicy(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  const fn = await requireFunction(ctx, ref);
  const q = qualifierOf(fn, ref.qualifier);
  const doc = policyDocument(fn, q);
  if (!doc) throw LambdaErrors.ResourceNotFoundException({ message: 'The resource you requested does not exist.' });
  return { Policy: JSON.stringify(doc), RevisionId: fn.policyRevision[q] };
}

const FUNCTION_ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/;

/** For IAM: a function ARN's owner and resource policy (of the qualifier it names). */
export async function functionResourceInfo(ctx: RequestContext, arn: string): Promise<ResourceInfo | undefined> {
  const m = FUNCTION_ARN.exec(arn);
  if (!m) return undefined;
  const fn = await lambda(ctx).store.getFunction({ region: m[1]!, account: m[2]!, name: m[3]! });
  if (!fn) return { account: m[2] };
  const q = m[4] === '$LATEST' ? '' : (m[4] ?? '');
  const doc = policyDocument(fn, q);
  const policy: NamedPolicy | undefined = doc ? { id: `${arn}/policy`, document: doc } : undefined;
  return { account: m[2], policy };
}
