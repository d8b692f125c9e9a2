import type { RequestContext } from '../../server/context.js';
import { iamId } from '../../util/ids.js';
import { IamErrors } from './errors.js';
import { account, checkName, checkPath, checkPolicy, checkTags, encodePolicy, iam, isoNow, paginate } from './common.js';
import type { GroupDoc, ManagedPolicyDoc, RoleDoc, UserDoc } from './state.js';
import { requireGroup, requireUser } from './users.js';
import { assertModifiableRole, requireRole } from './roles.js';

/**
 * Managed policies (customer and AWS), their versions, attachments, inline policies and
 * permissions boundaries — for users, groups and roles alike.
 */
type Input = Record<string, any>;
type OwnerKind = 'user' | 'group' | 'role';
type Owner = UserDoc | GroupDoc | RoleDoc;

const MAX_VERSIONS = 5;

function attachments(ctx: RequestContext, arn: string) {
  const s = iam(ctx);
  return {
    users: s.list('user').filter((u) => u.AttachedPolicies.includes(arn)),
    groups: s.list('group').filter((g) => g.AttachedPolicies.includes(arn)),
    roles: s.list('role').filter((r) => r.AttachedPolicies.includes(arn)),
    boundaries: [...s.list('user'), ...s.list('role')].filter((e) => e.PermissionsBoundary === arn).length,
  };
}

export function policyOut(ctx: RequestContext, p: ManagedPolicyDoc) {
  const a = attachments(ctx, p.Arn);
  return {
    PolicyName: p.PolicyName,
    PolicyId: p.PolicyId,
    Arn: p.Arn,
    Path: p.Path,
    DefaultVersionId: p.DefaultVersionId,
    AttachmentCount: a.users.length + a.groups.length + a.roles.length,
    PermissionsBoundaryUsageCount: a.boundaries,
    IsAttachable: true,
    Description: p.Description,
    CreateDate: new Date(p.CreateDate),
    UpdateDate: new Date(p.UpdateDate),
    Tags: p.Tags.length ? p.Tags : undefined,
  };
}

export function requirePolicy(ctx: RequestContext, arn: string | undefined): ManagedPolicyDoc {
  const p = arn ? iam(ctx).managedPolicy(arn) : undefined;
  if (!p) throw IamErrors.NoSuchEntity({ message: `Policy ${arn} does not exist or is not attachable.` });
  return p;
}

export function requireCustomerPolicy(ctx: RequestContext, arn: string | undefined): ManagedPolicyDoc {
  const p = requirePolicy(ctx, arn);
  if (p.Arn.startsWith('arn:aws:iam::aws:')) throw IamErrors.AccessDenied({ message: `You are not allowed to modify AWS managed policy ${p.Arn}.` });
  return p;
}

export async function createPolicy(input: Input, ctx: RequestContext) {
  const name = checkName(input.PolicyName, 'policyName', 128);
  const path = checkPath(input.Path);
  const arn = `arn:aws:iam::${account(ctx)}:policy${path}${name}`;
  const at = isoNow();
  const p: ManagedPolicyDoc = {
    PolicyName: name,
    PolicyId: iamId('ANPA'),
    Arn: arn,
    Path: path,
    Description: input.Description,
    CreateDate: at,
    UpdateDate: at,
    DefaultVersionId: 'v1',
    Versions: [{ VersionId: 'v1', Document: checkPolicy(input.PolicyDocument, 'identity'), CreateDate: at }],
    NextVersion: 2,
    Tags: checkTags(input.Tags, 'Policy'),
  };
  await iam(ctx).write(async (tx) => {
    if (iam(ctx).list('policy').some((x) => x.PolicyName.toLowerCase() === name.toLowerCase())) {
      throw IamErrors.EntityAlreadyExists({ message: `A policy called ${name} already exists. Duplicate names are not allowed.` });
    }
    await tx.put('policy', arn, p);
  });
  return { Policy: policyOut(ctx, p) };
}

export function getPolicy(input: Input, ctx: RequestContext) {
  return { Policy: policyOut(ctx, requirePolicy(ctx, input.PolicyArn)) };
}

export function listPolicies(input: Input, ctx: RequestContext) {
  const scope = input.Scope ?? 'All';
  const prefix = input.PathPrefix ?? '/';
  let all: ManagedPolicyDoc[] = [];
  if (scope === 'All' || scope === 'AWS') all.push(...iam(ctx).awsManagedPolicies());
  if (scope === 'All' || scope === 'Local') all.push(...iam(ctx).list('policy'));
  all = all.filter((p) => p.Path.startsWith(prefix));
  let out = all.map((p) => policyOut(ctx, p));
  if (input.OnlyAttached) out = out.filter((p) => p.AttachmentCount > 0);
  const { page, IsTruncated, Marker } = paginate(out, input, (p) => p.Arn);
  return { Policies: page, IsTruncated, Marker };
}

export async function deletePolicy(input: Input, ctx: RequestContext) {
  const p = requireCustomerPolicy(ctx, input.PolicyArn);
  const a = attachments(ctx, p.Arn);
  if (a.users.length + a.groups.length + a.roles.length) throw IamErrors.DeleteConflict({ message: 'Cannot delete a policy attached to entities.' });
  if (p.Versions.length > 1) throw IamErrors.DeleteConflict({ message: 'Cannot delete a policy with non-default versions. Delete the versions first.' });
  await iam(ctx).write((tx) => tx.delete('policy', p.Arn));
  return {};
}

export function versionOut(p: ManagedPolicyDoc, v: ManagedPolicyDoc['Versions'][number]) {
  return { Document: encodePolicy(v.Document), VersionId: v.VersionId, IsDefaultVersion: v.VersionId === p.DefaultVersionId, CreateDate: new Date(v.CreateDate) };
}

export async function createPolicyVersion(input: Input, ctx: RequestContext) {
  const p = requireCustomerPolicy(ctx, input.PolicyArn);
  const doc = checkPolicy(input.PolicyDocument, 'identity');
  if (p.Versions.length >= MAX_VERSIONS) {
    throw IamErrors.LimitExceeded({ message: `A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.` });
  }
  const v = { VersionId: `v${p.NextVersion}`, Document: doc, CreateDate: isoNow() };
  const updated: ManagedPolicyDoc = {
    ...p,
    Versions: [...p.Versions, v],
    NextVersion: p.NextVersion + 1,
    DefaultVersionId: input.SetAsDefault ? v.VersionId : p.DefaultVersionId,
    UpdateDate: v.CreateDate,
  };
  await iam(ctx).write((tx) => tx.put('policy', p.Arn, updated));
  return { PolicyVersion: versionOut(updated, v) };
}

function requireVersion(p: ManagedPolicyDoc, id: string) {
  const v = p.Versions.find((x) => x.VersionId === id);
  if (!v) throw IamErrors.NoSuchEntity({ message: `Policy ${p.Arn} version ${id} does not exist or is not attachable.` });
  return v;
}

export function getPolicyVersion(input: Input, ctx: RequestContext) {
  const p = requirePolicy(ctx, input.PolicyArn);
  return { PolicyVersion: versionOut(p, requireVersion(p, input.VersionId)) };
}

export function listPolicyVersions(input: Input, ctx: RequestContext) {
  const p = requirePolicy(ctx, input.PolicyArn);
  return { Versions: p.Versions.map((v) => ({ ...versionOut(p, v), Document: undefined })), IsTruncated: false };
}

export async function deletePolicyVersion(input: Input, ctx: RequestContext) {
  const p = requireCustomerPolicy(ctx, input.PolicyArn);
  requireVersion(p, input.VersionId);
  if (input.VersionId === p.DefaultVersionId) throw IamErrors.DeleteConflict({ message: 'Cannot delete the default version of a policy.' });
  await iam(ctx).write((tx) => tx.put('policy', p.Arn, { ...p, Versions: p.Versions.filter((v) => v.VersionId !== input.VersionId) }));
  return {};
}

export async function setDefaultPolicyVersion(input: Input, ctx: RequestContext) {
  const p = requireCustomerPolicy(ctx, input.PolicyArn);
  requireVersion(p, input.VersionId);
  await iam(ctx).write((tx) => tx.put('policy', p.Arn, { ...p, DefaultVersionId: input.VersionId, UpdateDate: isoNow() }));
  return {};
}

function owner(ctx: RequestContext, kind: OwnerKind, name: string): Owner {
  return kind === 'user' ? requireUser(ctx, name) : kind === 'group' ? requireGroup(ctx, name) : requireRole(ctx, name);
}

function ownerName(kind: OwnerKind, o: Owner): string {
  return kind === 'user' ? (o as UserDoc).UserName : kind === 'group' ? (o as GroupDoc).GroupName : (o as RoleDoc).RoleName;
}

/** Read-modify-write of one user, group or role inside a transaction. */
async function updateOwner(ctx: RequestContext, kind: OwnerKind, name: string, change: (o: Owner) => Owner): Promise<void> {
  const o = owner(ctx, kind, name);
  if (kind === 'role') assertModifiableRole(o as RoleDoc);
  await iam(ctx).write(async (tx) => {
    const cur = (await tx.get(kind, name)) as Owner;
    await tx.put(kind, name, change(cur) as never);
  });
}

const nameKey: Record<OwnerKind, string> = { user: 'UserName', group: 'GroupName', role: 'RoleName' };

/** Builds the attach/detach/list/inline handlers for one owner kind. */
function ownerHandlers(kind: OwnerKind) {
  const nameOf = (input: Input) => input[nameKey[kind]] as string;
  return {
    attach: async (input: Input, ctx: RequestContext) => {
      const p = requirePolicy(ctx, input.PolicyArn);
      await updateOwner(ctx, kind, nameOf(input), (o) => (o.AttachedPolicies.includes(p.Arn) ? o : { ...o, AttachedPolicies: [...o.AttachedPolicies, p.Arn] }));
      return {};
    },
    detach: async (input: Input, ctx: RequestContext) => {
      const o = owner(ctx, kind, nameOf(input));
      if (!o.AttachedPolicies.includes(input.PolicyArn)) throw IamErrors.NoSuchEntity({ message: `Policy ${input.PolicyArn} was not found.` });
      await updateOwner(ctx, kind, nameOf(input), (x) => ({ ...x, AttachedPolicies: x.AttachedPolicies.filter((a) => a !== input.PolicyArn) }));
      return {};
    },
    listAttached: (input: Input, ctx: RequestContext) => {
      const o = owner(ctx, kind, nameOf(input));
      const list = o.AttachedPolicies.map((arn) => iam(ctx).managedPolicy(arn)).filter((p): p is ManagedPolicyDoc => !!p && p.Path.startsWith(input.PathPrefix ?? '/'));
      const { page, IsTruncated, Marker } = paginate(list, input, (p) => p.PolicyName);
      return { AttachedPolicies: page.map((p) => ({ PolicyName: p.PolicyName, PolicyArn: p.Arn })), IsTruncated, Marker };
    },
    putInline: async (input: Input, ctx: RequestContext) => {
      const name = checkName(input.PolicyName, 'policyName', 128);
      const doc = checkPolicy(input.PolicyDocument, 'identity');
      await updateOwner(ctx, kind, nameOf(input), (o) => ({ ...o, InlinePolicies: { ...o.InlinePolicies, [name]: doc } }));
      return {};
    },
    getInline: (input: Input, ctx: RequestContext) => {
      const o = owner(ctx, kind, nameOf(input));
      const doc = o.InlinePolicies[input.PolicyName];
      if (doc === undefined) throw IamErrors.NoSuchEntity({ message: `The ${kind} policy with name ${input.PolicyName} cannot be found.` });
      return { [nameKey[kind]]: ownerName(kind, o), PolicyName: input.PolicyName, PolicyDocument: encodePolicy(doc) };
    },
    deleteInline: async (input: Input, ctx: RequestContext) => {
      const o = owner(ctx, kind, nameOf(input));
      if (o.InlinePolicies[input.PolicyName] === undefined) throw IamErrors.NoSuchEntity({ message: `The ${kind} policy with name ${input.PolicyName} cannot be found.` });
      await updateOwner(ctx, kind, nameOf(input), (x) => {
        const rest = { ...x.InlinePolicies };
        delete rest[input.PolicyName];
        return { ...x, InlinePolicies: rest };
      });
      return {};
    },
    listInline: (input: Input, ctx: RequestContext) => {
      const o = owner(ctx, kind, nameOf(input));
      const { page, IsTruncated, Marker } = paginate(Object.keys(o.InlinePolicies), input, (n) => n);
      return { PolicyNames: page, IsTruncated, Marker };
    },
    putBoundary: async (input: Input, ctx: RequestContext) => {
      const p = requirePolicy(ctx, input.PermissionsBoundary);
      await updateOwner(ctx, kind, nameOf(input), (o) => ({ ...o, PermissionsBoundary: p.Arn }));
      return {};
    },
    deleteBoundary: async (input: Input, ctx: RequestContext) => {
      await updateOwner(ctx, kind, nameOf(input), (o) => ({ ...o, PermissionsBoundary: undefined }));
      return {};
    },
  };
}

export const userPolicies = ownerHandlers('user');
export const groupPolicies = ownerHandlers('group');
export const rolePolicies = ownerHandlers('role');

export function listEntitiesForPolicy(input: Input, ctx: RequestContext) {
  const p = requirePolicy(ctx, input.PolicyArn);
  const a = attachments(ctx, p.Arn);
  const filter = input.EntityFilter as string | undefined;
  return {
    PolicyUsers: !filter || filter === 'User' ? a.users.map((u) => ({ UserName: u.UserName, UserId: u.UserId })) : [],
    PolicyGroups: !filter || filter === 'Group' ? a.groups.map((g) => ({ GroupName: g.GroupName, GroupId: g.GroupId })) : [],
    PolicyRoles: !filter || filter === 'Role' ? a.roles.map((r) => ({ RoleName: r.RoleName, RoleId: r.RoleId })) : [],
    IsTruncated: false,
  };
}
