import type { RequestContext } from '../../server/context.js';
import type { OperationImpl } from '../types.js';
import { account, iam } from './common.js';
import { requestTagKeys } from '../../server/authorize.js';
import type { ContextValue } from '../../iam/engine/types.js';

/**
 * Building blocks of IAM's operation table: the IAM action of an operation and the ARN of
 * the entity it acts on. Each handler file exports its part of the table.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
type Input = Record<string, any>;
const acct = account;
export const arn = {
  user: (i: Input, ctx: RequestContext) => iam(ctx).get('user', i.UserName ?? ctx.principal?.name ?? '')?.Arn ?? `arn:aws:iam::${acct(ctx)}:user/${i.UserName ?? ctx.principal?.name}`,
  group: (i: Input, ctx: RequestContext) => iam(ctx).get('group', i.GroupName)?.Arn ?? `arn:aws:iam::${acct(ctx)}:group/${i.GroupName}`,
  role: (i: Input, ctx: RequestContext) => iam(ctx).get('role', i.RoleName)?.Arn ?? `arn:aws:iam::${acct(ctx)}:role/${i.RoleName}`,
  policy: (i: Input, ctx: RequestContext) => i.PolicyArn ?? `arn:aws:iam::${acct(ctx)}:policy${i.Path ?? '/'}${i.PolicyName}`,
};

/**
 * An operation: its handler, IAM action (without the "iam:" prefix) and resource ARN. Tags
 * the request sets (Tags, or TagKeys it removes) become aws:RequestTag/* and aws:TagKeys.
 */
export function op(handler: OperationImpl['handler'], action: string, resource?: OperationImpl['resource']): OperationImpl {
  return { handler, action: `iam:${action}`, resource, conditions: tagConditions };
}

function tagConditions(i: Input): Record<string, ContextValue | undefined> {
  if (Array.isArray(i.Tags)) return requestTagKeys(i.Tags);
  if (Array.isArray(i.TagKeys)) return { 'aws:TagKeys': i.TagKeys };
  return {};
}
