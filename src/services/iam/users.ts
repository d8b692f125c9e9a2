import type { RequestContext } from '../../server/context.js';
import { iamId, secretKey } from '../../util/ids.js';
import { IamErrors } from './errors.js';
import { account, checkName, checkPath, checkTags, iam, isoNow, paginate } from './common.js';
import type { AccessKeyDoc, GroupDoc, UserDoc } from './state.js';

/** Users, groups and access keys. */
type Input = Record<string, any>;

export function userOut(u: UserDoc) {
  return {
    Path: u.Path,
    UserName: u.UserName,
    UserId: u.UserId,
    Arn: u.Arn,
    CreateDate: new Date(u.CreateDate),
    Tags: u.Tags.length ? u.Tags : undefined,
    PermissionsBoundary: u.PermissionsBoundary ? { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: u.PermissionsBoundary } : undefined,
  };
}

export function groupOut(g: GroupDoc) {
  return { Path: g.Path, GroupName: g.GroupName, GroupId: g.GroupId, Arn: g.Arn, CreateDate: new Date(g.CreateDate) };
}

export function requireUser(ctx: RequestContext, name: string): UserDoc {
  const u = iam(ctx).get('user', name);
  if (!u) throw IamErrors.NoSuchEntity({ message: `The user with name ${name} cannot be found.` });
  return u;
}

export function requireGroup(ctx: RequestContext, name: string): GroupDoc {
  const g = iam(ctx).get('group', name);
  if (!g) throw IamErrors.NoSuchEntity({ message: `The group with name ${name} cannot be found.` });
  return g;
}

/** The user a request is about: the named one, or (for users) the caller. */
function subjectUser(ctx: RequestContext, name: string | undefined): UserDoc {
  if (name) return requireUser(ctx, name);
  const p = ctx.principal!;
  if (p.type === 'user') return requireUser(ctx, p.name!);
  throw IamErrors.ValidationError({ message: 'Must specify userName when calling with non-User credentials' });
}

export async function createUser(input: Input, ctx: RequestContext) {
  const name = checkName(input.UserName, 'userName');
  const path = checkPath(input.Path);
  const user: UserDoc = {
    UserName: name,
    UserId: iamId('AIDA'),
    Arn: `arn:aws:iam::${account(ctx)}:user${path}${name}`,
    Path: path,
    CreateDate: isoNow(),
    Tags: checkTags(input.Tags),
    Groups: [],
    AttachedPolicies: [],
    InlinePolicies: {},
    PermissionsBoundary: input.PermissionsBoundary,
  };
  await iam(ctx).write(async (tx) => {
    // IAM names are case-insensitive for uniqueness.
    if (iam(ctx).list('user').some((u) => u.UserName.toLowerCase() === name.toLowerCase())) {
      throw IamErrors.EntityAlreadyExists({ message: `User with name ${name} already exists.` });
    }
    await tx.put('user', name, user);
  });
  return { User: userOut(user) };
}

export function getUser(input: Input, ctx: RequestContext) {
  return { User: userOut(subjectUser(ctx, input.UserName)) };
}

export function listUsers(input: Input, ctx: RequestContext) {
  const prefix = input.PathPrefix ?? '/';
  const all = iam(ctx).list('user').filter((u) => u.Path.startsWith(prefix));
  const { page, IsTruncated, Marker } = paginate(all, input, (u) => u.UserName);
  return { Users: page.map(userOut), IsTruncated, Marker };
}

export async function updateUser(input: Input, ctx: RequestContext) {
  const user = requireUser(ctx, input.UserName);
  const newName = input.NewUserName ? checkName(input.NewUserName, 'newUserName') : user.UserName;
  const newPath = input.NewPath ? checkPath(input.NewPath) : user.Path;
  await iam(ctx).write(async (tx) => {
    if (newName !== user.UserName && iam(ctx).get('user', newName)) throw IamErrors.EntityAlreadyExists({ message: `User with name ${newName} already exists.` });
    const updated: UserDoc = { ...user, UserName: newName, Path: newPath, Arn: `arn:aws:iam::${account(ctx)}:user${newPath}${newName}` };
    if (newName !== user.UserName) {
      await tx.delete('user', user.UserName);
      for (const k of iam(ctx).list('accesskey').filter((k) => k.UserName === user.UserName)) await tx.put('accesskey', k.AccessKeyId, { ...k, UserName: newName });
      for (const d of iam(ctx).list('mfa').filter((d) => d.UserName === user.UserName)) await tx.put('mfa', d.SerialNumber, { ...d, UserName: newName });
      const profile = await tx.get('loginprofile', user.UserName);
      if (profile) {
        await tx.delete('loginprofile', user.UserName);
        await tx.put('loginprofile', newName, { ...profile, UserName: newName });
      }
    }
    await tx.put('user', newName, updated);
  });
  return {};
}

export async function deleteUser(input: Input, ctx: RequestContext) {
  const user = requireUser(ctx, input.UserName);
  // AWS refuses to delete a user that still has subordinate entities.
  const conflict = (what: string) => IamErrors.DeleteConflict({ message: `Cannot delete entity, must ${what} first.` });
  if (iam(ctx).get('loginprofile', user.UserName)) throw conflict('delete login profile');
  if (iam(ctx).list('accesskey').some((k) => k.UserName === user.UserName)) throw conflict('delete access keys');
  if (iam(ctx).list('mfa').some((d) => d.UserName === user.UserName)) throw conflict('delete MFA device');
  if (Object.keys(user.InlinePolicies).length) throw conflict('delete policies');
  if (user.AttachedPolicies.length) throw conflict('detach all policies');
  if (user.Groups.length) throw conflict('remove users from group');
  await iam(ctx).write((tx) => tx.delete('user', user.UserName));
  return {};
}

export async function createGroup(input: Input, ctx: RequestContext) {
  const name = checkName(input.GroupName, 'groupName', 128);
  const path = checkPath(input.Path);
  const group: GroupDoc = {
    GroupName: name,
    GroupId: iamId('AGPA'),
    Arn: `arn:aws:iam::${account(ctx)}:group${path}${name}`,
    Path: path,
    CreateDate: isoNow(),
    AttachedPolicies: [],
    InlinePolicies: {},
  };
  await iam(ctx).write(async (tx) => {
    if (iam(ctx).list('group').some((g) => g.GroupName.toLowerCase() === name.toLowerCase())) {
      throw IamErrors.EntityAlreadyExists({ message: `Group with name ${name} already exists.` });
    }
    await tx.put('group', name, group);
  });
  return { Group: groupOut(group) };
}

export function getGroup(input: Input, ctx: RequestContext) {
  const group = requireGroup(ctx, input.GroupName);
  const members = iam(ctx).list('user').filter((u) => u.Groups.includes(group.GroupName));
  const { page, IsTruncated, Marker } = paginate(members, input, (u) => u.UserName);
  return { Group: groupOut(group), Users: page.map(userOut), IsTruncated, Marker };
}

export function listGroups(input: Input, ctx: RequestContext) {
  const prefix = input.PathPrefix ?? '/';
  const { page, IsTruncated, Marker } = paginate(iam(ctx).list('group').filter((g) => g.Path.startsWith(prefix)), input, (g) => g.GroupName);
  return { Groups: page.map(groupOut), IsTruncated, Marker };
}

export function listGroupsForUser(input: Input, ctx: RequestContext) {
  const user = requireUser(ctx, input.UserName);
  const groups = user.Groups.map((g) => iam(ctx).get('group', g)).filter((g): g is GroupDoc => !!g);
  const { page, IsTruncated, Marker } = paginate(groups, input, (g) => g.GroupName);
  return { Groups: page.map(groupOut), IsTruncated, Marker };
}

export async function addUserToGroup(input: Input, ctx: RequestContext) {
  requireGroup(ctx, input.GroupName);
  requireUser(ctx, input.UserName);
  await iam(ctx).write(async (tx) => {
    const user = (await tx.get('user', input.UserName))!;
    if (!user.Groups.includes(input.GroupName)) await tx.put('user', user.UserName, { ...user, Groups: [...user.Groups, input.GroupName] });
  });
  return {};
}

export async function removeUserFromGroup(input: Input, ctx: RequestContext) {
  requireGroup(ctx, input.GroupName);
  const user = requireUser(ctx, input.UserName);
  if (!user.Groups.includes(input.GroupName)) {
    throw IamErrors.NoSuchEntity({ message: `The user with name ${input.UserName} cannot be found in group ${input.GroupName}.` });
  }
  await iam(ctx).write(async (tx) => {
    const u = (await tx.get('user', input.UserName))!;
    await tx.put('user', u.UserName, { ...u, Groups: u.Groups.filter((g) => g !== input.GroupName) });
  });
  return {};
}

export async function deleteGroup(input: Input, ctx: RequestContext) {
  const group = requireGroup(ctx, input.GroupName);
  const conflict = (what: string) => IamErrors.DeleteConflict({ message: `Cannot delete entity, must ${what} first.` });
  if (iam(ctx).list('user').some((u) => u.Groups.includes(group.GroupName))) throw conflict('remove all users from group');
  if (Object.keys(group.InlinePolicies).length) throw conflict('delete policies');
  if (group.AttachedPolicies.length) throw conflict('detach all policies');
  await iam(ctx).write((tx) => tx.delete('group', group.GroupName));
  return {};
}

function keyMeta(k: AccessKeyDoc) {
  return { UserName: k.UserName, AccessKeyId: k.AccessKeyId, Status: k.Status, CreateDate: new Date(k.CreateDate) };
}

export async function createAccessKey(input: Input, ctx: RequestContext) {
  const user = subjectUser(ctx, input.UserName);
  const key: AccessKeyDoc = {
    AccessKeyId: iamId('AKIA'),
    SecretAccessKey: secretKey(),
    UserName: user.UserName,
    Status: 'Active',
    CreateDate: isoNow(),
  };
  await iam(ctx).write(async (tx) => {
    if (iam(ctx).list('accesskey').filter((k) => k.UserName === user.UserName).length >= 2) {
      throw IamErrors.LimitExceeded({ message: 'Cannot exceed quota for AccessKeysPerUser: 2' });
    }
    await tx.put('accesskey', key.AccessKeyId, key);
  });
  return { AccessKey: { ...keyMeta(key), SecretAccessKey: key.SecretAccessKey } };
}

function requireKey(ctx: RequestContext, id: string, user: UserDoc): AccessKeyDoc {
  const k = iam(ctx).get('accesskey', id);
  if (!k || k.UserName !== user.UserName) throw IamErrors.NoSuchEntity({ message: `The Access Key with id ${id} cannot be found.` });
  return k;
}

export function listAccessKeys(input: Input, ctx: RequestContext) {
  const user = subjectUser(ctx, input.UserName);
  const keys = iam(ctx).list('accesskey').filter((k) => k.UserName === user.UserName);
  const { page, IsTruncated, Marker } = paginate(keys, input, (k) => k.AccessKeyId);
  return { AccessKeyMetadata: page.map(keyMeta), IsTruncated, Marker };
}

export async function updateAccessKey(input: Input, ctx: RequestContext) {
  const user = subjectUser(ctx, input.UserName);
  const key = requireKey(ctx, input.AccessKeyId, user);
  if (input.Status !== 'Active' && input.Status !== 'Inactive') throw IamErrors.ValidationError({ message: `Invalid status ${input.Status}` });
  await iam(ctx).write((tx) => tx.put('accesskey', key.AccessKeyId, { ...key, Status: input.Status }));
  return {};
}

export async function deleteAccessKey(input: Input, ctx: RequestContext) {
  const user = subjectUser(ctx, input.UserName);
  const key = requireKey(ctx, input.AccessKeyId, user);
  await iam(ctx).write((tx) => tx.delete('accesskey', key.AccessKeyId));
  return {};
}

export function getAccessKeyLastUsed(input: Input, ctx: RequestContext) {
  const key = iam(ctx).get('accesskey', input.AccessKeyId);
  if (!key) throw IamErrors.AccessDenied({ message: 'The Access Key does not exist or you are not authorized to see it.' });
  return {
    UserName: key.UserName,
    AccessKeyLastUsed: key.LastUsed
      ? { LastUsedDate: new Date(key.LastUsed.LastUsedDate), ServiceName: key.LastUsed.ServiceName, Region: key.LastUsed.Region }
      : { ServiceName: 'N/A', Region: 'N/A' },
  };
}
