import type { RequestContext } from '../../server/context.js';
import { iamId } from '../../util/ids.js';
import { IamErrors } from './errors.js';
import { account, checkName, checkPath, checkTags, encodePolicy, iam, isoNow, paginate } from './common.js';
import type { InstanceProfileDoc, RoleDoc } from './state.js';
import { arn, op } from './table.js';
import { assertModifiableRole, requireRole } from './roles.js';
import { tagHandlers } from './tags.js';

/**
 * Instance profiles: containers for (at most) one role that EC2 passes to an instance.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html
 */
type Input = Record<string, any>;

/** AWS's default quota of instance profiles per account (GetAccountSummary's InstanceProfilesQuota). */
export const INSTANCE_PROFILES_QUOTA = 1000;

function profileArn(ctx: RequestContext, path: string, name: string): string {
  return `arn:aws:iam::${account(ctx)}:instance-profile${path}${name}`;
}

/** The resource ARN an instance-profile operation is authorized on. */
const profileResource = (i: Input, ctx: RequestContext) => iam(ctx).get('instanceprofile', i.InstanceProfileName)?.Arn ?? profileArn(ctx, i.Path ?? '/', i.InstanceProfileName);

export function requireInstanceProfile(ctx: RequestContext, name: string): InstanceProfileDoc {
  const p = iam(ctx).get('instanceprofile', name);
  if (!p) throw IamErrors.NoSuchEntity({ message: `Instance Profile ${name} cannot be found.` });
  return p;
}

/** A role as instance profiles show it: the Role shape without tags, boundary or last use. */
function roleInProfile(r: RoleDoc) {
  return { Path: r.Path, RoleName: r.RoleName, RoleId: r.RoleId, Arn: r.Arn, CreateDate: new Date(r.CreateDate), AssumeRolePolicyDocument: encodePolicy(r.AssumeRolePolicyDocument) };
}

export function instanceProfileOut(ctx: RequestContext, p: InstanceProfileDoc, withTags = true) {
  return {
    Path: p.Path,
    InstanceProfileName: p.InstanceProfileName,
    InstanceProfileId: p.InstanceProfileId,
    Arn: p.Arn,
    CreateDate: new Date(p.CreateDate),
    Roles: p.Roles.map((name) => iam(ctx).get('role', name)).filter((r): r is RoleDoc => !!r).map(roleInProfile),
    Tags: withTags && p.Tags.length ? p.Tags : undefined,
  };
}

/** The instance profiles that hold a role. */
export function profilesOfRole(ctx: RequestContext, roleName: string): InstanceProfileDoc[] {
  return iam(ctx).list('instanceprofile').filter((p) => p.Roles.includes(roleName));
}

export async function createInstanceProfile(input: Input, ctx: RequestContext) {
  const name = checkName(input.InstanceProfileName, 'instanceProfileName', 128);
  const path = checkPath(input.Path);
  const profile: InstanceProfileDoc = {
    InstanceProfileName: name,
    InstanceProfileId: iamId('AIPA'),
    Arn: profileArn(ctx, path, name),
    Path: path,
    CreateDate: isoNow(),
    Roles: [],
    Tags: checkTags(input.Tags, 'InstanceProfile'),
  };
  await iam(ctx).write(async (tx) => {
    const all = iam(ctx).list('instanceprofile');
    // Names are unique without regard to case, as for users, groups and roles.
    if (all.some((p) => p.InstanceProfileName.toLowerCase() === name.toLowerCase())) {
      throw IamErrors.EntityAlreadyExists({ message: `Instance Profile ${name} already exists.` });
    }
    if (all.length >= INSTANCE_PROFILES_QUOTA) throw IamErrors.LimitExceeded({ message: `Cannot exceed quota for InstanceProfilesPerAccount: ${INSTANCE_PROFILES_QUOTA}` });
    await tx.put('instanceprofile', name, profile);
  });
  return { InstanceProfile: instanceProfileOut(ctx, profile) };
}

export function getInstanceProfile(input: Input, ctx: RequestContext) {
  return { InstanceProfile: instanceProfileOut(ctx, requireInstanceProfile(ctx, input.InstanceProfileName)) };
}

export async function deleteInstanceProfile(input: Input, ctx: RequestContext) {
  const profile = requireInstanceProfile(ctx, input.InstanceProfileName);
  await iam(ctx).write(async (tx) => {
    const cur = (await tx.get('instanceprofile', profile.InstanceProfileName)) ?? profile;
    if (cur.Roles.length) throw IamErrors.DeleteConflict({ message: 'Cannot delete entity, must remove roles from instance profile first.' });
    await tx.delete('instanceprofile', profile.InstanceProfileName);
  });
  return {};
}

/** ListInstanceProfiles leaves tags out, as AWS's listing operations do. */
export function listInstanceProfiles(input: Input, ctx: RequestContext) {
  const prefix = input.PathPrefix ?? '/';
  const all = iam(ctx).list('instanceprofile').filter((p) => p.Path.startsWith(prefix));
  const { page, IsTruncated, Marker } = paginate(all, input, (p) => p.InstanceProfileName);
  return { InstanceProfiles: page.map((p) => instanceProfileOut(ctx, p, false)), IsTruncated, Marker };
}

export function listInstanceProfilesForRole(input: Input, ctx: RequestContext) {
  const role = requireRole(ctx, input.RoleName);
  const { page, IsTruncated, Marker } = paginate(profilesOfRole(ctx, role.RoleName), input, (p) => p.InstanceProfileName);
  return { InstanceProfiles: page.map((p) => instanceProfileOut(ctx, p, false)), IsTruncated, Marker };
}

/**
 * AddRoleToInstanceProfile needs iam:PassRole on the role besides the action on the
 * profile (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddRoleToInstanceProfile.html),
 * so it authorizes itself. An instance profile holds one role, a quota AWS cannot raise.
 */
export async function addRoleToInstanceProfile(input: Input, ctx: RequestContext) {
  await ctx.authorize('iam:AddRoleToInstanceProfile', profileResource(input, ctx));
  const profile = requireInstanceProfile(ctx, input.InstanceProfileName);
  const role = requireRole(ctx, input.RoleName);
  assertModifiableRole(role);
  await ctx.authorize('iam:PassRole', role.Arn);
  await iam(ctx).write(async (tx) => {
    const cur = (await tx.get('instanceprofile', profile.InstanceProfileName)) ?? profile;
    if (cur.Roles.length >= 1) throw IamErrors.LimitExceeded({ message: 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1' });
    await tx.put('instanceprofile', cur.InstanceProfileName, { ...cur, Roles: [role.RoleName] });
  });
  return {};
}

export async function removeRoleFromInstanceProfile(input: Input, ctx: RequestContext) {
  const profile = requireInstanceProfile(ctx, input.InstanceProfileName);
  requireRole(ctx, input.RoleName);
  await iam(ctx).write(async (tx) => {
    const cur = (await tx.get('instanceprofile', profile.InstanceProfileName)) ?? profile;
    if (!cur.Roles.includes(input.RoleName)) {
      throw IamErrors.NoSuchEntity({ message: `The role with name ${input.RoleName} cannot be found in instance profile ${cur.InstanceProfileName}.` });
    }
    await tx.put('instanceprofile', cur.InstanceProfileName, { ...cur, Roles: cur.Roles.filter((r) => r !== input.RoleName) });
  });
  return {};
}

const profileTags = tagHandlers({
  resource: 'InstanceProfile',
  kind: 'instanceprofile',
  find: (ctx, input) => requireInstanceProfile(ctx, input.InstanceProfileName),
  id: (p: InstanceProfileDoc) => p.InstanceProfileName,
});

export const instanceProfileOperations = {
  CreateInstanceProfile: op(createInstanceProfile, 'CreateInstanceProfile', profileResource),
  GetInstanceProfile: op(getInstanceProfile, 'GetInstanceProfile', profileResource),
  DeleteInstanceProfile: op(deleteInstanceProfile, 'DeleteInstanceProfile', profileResource),
  ListInstanceProfiles: op(listInstanceProfiles, 'ListInstanceProfiles'),
  ListInstanceProfilesForRole: op(listInstanceProfilesForRole, 'ListInstanceProfilesForRole', arn.role),
  AddRoleToInstanceProfile: { ...op(addRoleToInstanceProfile, 'AddRoleToInstanceProfile', profileResource), selfAuthorized: true },
  RemoveRoleFromInstanceProfile: op(removeRoleFromInstanceProfile, 'RemoveRoleFromInstanceProfile', profileResource),
  TagInstanceProfile: op(profileTags.tag, 'TagInstanceProfile', profileResource),
  UntagInstanceProfile: op(profileTags.untag, 'UntagInstanceProfile', profileResource),
  ListInstanceProfileTags: op(profileTags.list, 'ListInstanceProfileTags', profileResource),
};
