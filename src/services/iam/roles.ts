import type { RequestContext } from '../../server/context.js';
import { iamId } from '../../util/ids.js';
import { IamErrors } from './errors.js';
import { account, checkName, checkPath, checkPolicy, checkTags, encodePolicy, iam, isoNow, paginate } from './common.js';
import type { RoleDoc } from './state.js';
import { tagHandlers } from './tags.js';

/** Roles: trust policies, max session duration, tags. */
type Input = Record<string, any>;

export function roleOut(r: RoleDoc) {
  return {
    Path: r.Path,
    RoleName: r.RoleName,
    RoleId: r.RoleId,
    Arn: r.Arn,
    CreateDate: new Date(r.CreateDate),
    AssumeRolePolicyDocument: encodePolicy(r.AssumeRolePolicyDocument),
    Description: r.Description,
    MaxSessionDuration: r.MaxSessionDuration,
    Tags: r.Tags.length ? r.Tags : undefined,
    PermissionsBoundary: r.PermissionsBoundary ? { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: r.PermissionsBoundary } : undefined,
  };
}

export function requireRole(ctx: RequestContext, name: string): RoleDoc {
  const r = iam(ctx).get('role', name);
  if (!r) throw IamErrors.NoSuchEntity({ message: `The role with name ${name} cannot be found.` });
  return r;
}

/**
 * Service-linked roles are changed only by their service (CreateServiceLinkedRole and
 * DeleteServiceLinkedRole here); every other change is refused in AWS's words.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
 */
export function assertModifiableRole(role: RoleDoc): void {
  if (role.AwsServiceName) {
    throw IamErrors.UnmodifiableEntity({ message: `Cannot perform the operation on the protected role '${role.RoleName}' - this role is only modifiable by AWS` });
  }
}

function checkMaxSession(n: number | undefined): number {
  const v = n ?? 3600;
  if (!Number.isInteger(v) || v < 3600 || v > 43200) {
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value '${v}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600 and less than or equal to 43200` });
  }
  return v;
}

export async function createRole(input: Input, ctx: RequestContext) {
  const name = checkName(input.RoleName, 'roleName');
  const path = checkPath(input.Path);
  const role: RoleDoc = {
    RoleName: name,
    RoleId: iamId('AROA'),
    Arn: `arn:aws:iam::${account(ctx)}:role${path}${name}`,
    Path: path,
    CreateDate: isoNow(),
    AssumeRolePolicyDocument: checkPolicy(input.AssumeRolePolicyDocument, 'trust'),
    Description: input.Description,
    MaxSessionDuration: checkMaxSession(input.MaxSessionDuration),
    Tags: checkTags(input.Tags, 'Role'),
    AttachedPolicies: [],
    InlinePolicies: {},
    PermissionsBoundary: input.PermissionsBoundary,
  };
  await iam(ctx).write(async (tx) => {
    if (iam(ctx).list('role').some((r) => r.RoleName.toLowerCase() === name.toLowerCase())) {
      throw IamErrors.EntityAlreadyExists({ message: `Role with name ${name} already exists.` });
    }
    await tx.put('role', name, role);
  });
  return { Role: roleOut(role) };
}

export function getRole(input: Input, ctx: RequestContext) {
  return { Role: roleOut(requireRole(ctx, input.RoleName)) };
}

export function listRoles(input: Input, ctx: RequestContext) {
  const prefix = input.PathPrefix ?? '/';
  const { page, IsTruncated, Marker } = paginate(iam(ctx).list('role').filter((r) => r.Path.startsWith(prefix)), input, (r) => r.RoleName);
  // ListRoles leaves out tags and boundaries, as AWS does.
  return { Roles: page.map((r) => ({ ...roleOut(r), Tags: undefined, PermissionsBoundary: undefined })), IsTruncated, Marker };
}

export async function updateAssumeRolePolicy(input: Input, ctx: RequestContext) {
  const role = requireRole(ctx, input.RoleName);
  assertModifiableRole(role);
  const doc = checkPolicy(input.PolicyDocument, 'trust');
  await iam(ctx).write((tx) => tx.put('role', role.RoleName, { ...role, AssumeRolePolicyDocument: doc }));
  return {};
}

export async function updateRole(input: Input, ctx: RequestContext) {
  const role = requireRole(ctx, input.RoleName);
  const updated = {
    ...role,
    Description: input.Description ?? role.Description,
    MaxSessionDuration: input.MaxSessionDuration !== undefined ? checkMaxSession(input.MaxSessionDuration) : role.MaxSessionDuration,
  };
  await iam(ctx).write((tx) => tx.put('role', role.RoleName, updated));
  return {};
}

export async function deleteRole(input: Input, ctx: RequestContext) {
  const role = requireRole(ctx, input.RoleName);
  assertModifiableRole(role);
  const conflict = (what: string) => IamErrors.DeleteConflict({ message: `Cannot delete entity, must ${what} first.` });
  if (iam(ctx).list('instanceprofile').some((p) => p.Roles.includes(role.RoleName))) throw conflict('remove roles from instance profile');
  if (Object.keys(role.InlinePolicies).length) throw conflict('delete policies');
  if (role.AttachedPolicies.length) throw conflict('detach all policies');
  await iam(ctx).write((tx) => tx.delete('role', role.RoleName));
  return {};
}

const roleTags = tagHandlers({ resource: 'Role', kind: 'role', find: (ctx, input) => requireRole(ctx, input.RoleName), id: (r: RoleDoc) => r.RoleName });
export const tagRole = roleTags.tag;
export const untagRole = roleTags.untag;
export const listRoleTags = roleTags.list;
