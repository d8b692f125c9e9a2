import { op, arn } from './table.js';
import { tagHandlers } from './tags.js';
import { requireUser } from './users.js';
import { requireCustomerPolicy, requirePolicy } from './policies.js';
import type { ManagedPolicyDoc, UserDoc } from './state.js';

/**
 * Tags of users and customer managed policies (roles' are in roles.ts, instance profiles'
 * in instance-profiles.ts), all by the shared rules of tags.ts.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagPolicy.html
 */
const userTags = tagHandlers({ resource: 'User', kind: 'user', find: (ctx, input) => requireUser(ctx, input.UserName), id: (u: UserDoc) => u.UserName });

// AWS managed policies can be read (no tags) but never tagged.
const policyTags = tagHandlers({
  resource: 'Policy',
  kind: 'policy',
  find: (ctx, input) => requirePolicy(ctx, input.PolicyArn),
  id: (p: ManagedPolicyDoc) => p.Arn,
  guard: (p, ctx) => void requireCustomerPolicy(ctx, p.Arn),
});

export const resourceTagOperations = {
  TagUser: op(userTags.tag, 'TagUser', arn.user),
  UntagUser: op(userTags.untag, 'UntagUser', arn.user),
  ListUserTags: op(userTags.list, 'ListUserTags', arn.user),
  TagPolicy: op(policyTags.tag, 'TagPolicy', arn.policy),
  UntagPolicy: op(policyTags.untag, 'UntagPolicy', arn.policy),
  ListPolicyTags: op(policyTags.list, 'ListPolicyTags', arn.policy),
};
