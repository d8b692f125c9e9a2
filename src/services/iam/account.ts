import type { RequestContext } from '../../server/context.js';
import { IamErrors } from './errors.js';
import { account, encodePolicy, iam, paginate } from './common.js';
import type { AccountDoc, GroupDoc, ManagedPolicyDoc, RoleDoc, UserDoc } from './state.js';
import { op } from './table.js';
import { policyOut, versionOut } from './policies.js';
import { instanceProfileOut, profilesOfRole, INSTANCE_PROFILES_QUOTA } from './instance-profiles.js';

/**
 * The account as a whole: GetAccountSummary, GetAccountAuthorizationDetails and the
 * account alias.
 */
type Input = Record<string, any>;

function settings(ctx: RequestContext): AccountDoc {
  return iam(ctx).get('account', 'settings') ?? { Aliases: [] };
}

/**
 * AWS's default IAM quotas, as GetAccountSummary reports them.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
const QUOTAS = {
  UsersQuota: 5000,
  GroupsQuota: 300,
  RolesQuota: 1000,
  PoliciesQuota: 1500,
  InstanceProfilesQuota: INSTANCE_PROFILES_QUOTA,
  ServerCertificatesQuota: 20,
  GroupsPerUserQuota: 10,
  AccessKeysPerUserQuota: 2,
  SigningCertificatesPerUserQuota: 2,
  AttachedPoliciesPerUserQuota: 10,
  AttachedPoliciesPerGroupQuota: 10,
  AttachedPoliciesPerRoleQuota: 10,
  VersionsPerPolicyQuota: 5,
  PolicyVersionsInUseQuota: 10000,
  UserPolicySizeQuota: 2048,
  GroupPolicySizeQuota: 5120,
  RolePolicySizeQuota: 10240,
  PolicySizeQuota: 6144,
  AssumeRolePolicySizeQuota: 2048,
};

export function getAccountSummary(_input: Input, ctx: RequestContext) {
  const s = iam(ctx);
  const users = s.list('user');
  const groups = s.list('group');
  const roles = s.list('role');
  const mfa = s.list('mfa');
  const attachments = [...users, ...groups, ...roles].reduce((n, e) => n + e.AttachedPolicies.length, 0);
  return {
    SummaryMap: {
      Users: users.length,
      Groups: groups.length,
      Roles: roles.length,
      Policies: s.list('policy').length,
      InstanceProfiles: s.list('instanceprofile').length,
      // Each attachment of a managed policy keeps its default version in use.
      PolicyVersionsInUse: attachments,
      MFADevices: mfa.length,
      MFADevicesInUse: mfa.filter((d) => d.UserName).length,
      // The root's MFA: an enabled device not bound to any IAM user.
      AccountMFAEnabled: mfa.some((d) => d.EnableDate && (!d.UserName || !s.get('user', d.UserName))) ? 1 : 0,
      // The root always has the access key Nimbus was started with, and no password or signing certificate.
      AccountAccessKeysPresent: 1,
      AccountPasswordPresent: 0,
      AccountSigningCertificatesPresent: 0,
      ServerCertificates: 0,
      Providers: 0,
      GlobalEndpointTokenVersion: 1,
      ...QUOTAS,
    },
  };
}

const ENTITY_TYPES = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;
type EntityType = (typeof ENTITY_TYPES)[number];

function attached(ctx: RequestContext, arns: string[]) {
  return arns.map((a) => ({ PolicyName: iam(ctx).managedPolicy(a)?.PolicyName ?? a.slice(a.lastIndexOf('/') + 1), PolicyArn: a }));
}

function inline(policies: Record<string, string>) {
  return Object.entries(policies).map(([PolicyName, doc]) => ({ PolicyName, PolicyDocument: encodePolicy(doc) }));
}

function boundary(arn: string | undefined) {
  return arn ? { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: arn } : undefined;
}

function userDetail(ctx: RequestContext, u: UserDoc) {
  return {
    Path: u.Path,
    UserName: u.UserName,
    UserId: u.UserId,
    Arn: u.Arn,
    CreateDate: new Date(u.CreateDate),
    UserPolicyList: inline(u.InlinePolicies),
    GroupList: u.Groups,
    AttachedManagedPolicies: attached(ctx, u.AttachedPolicies),
    PermissionsBoundary: boundary(u.PermissionsBoundary),
    Tags: u.Tags.length ? u.Tags : undefined,
  };
}

function groupDetail(ctx: RequestContext, g: GroupDoc) {
  return {
    Path: g.Path,
    GroupName: g.GroupName,
    GroupId: g.GroupId,
    Arn: g.Arn,
    CreateDate: new Date(g.CreateDate),
    GroupPolicyList: inline(g.InlinePolicies),
    AttachedManagedPolicies: attached(ctx, g.AttachedPolicies),
  };
}

function roleDetail(ctx: RequestContext, r: RoleDoc) {
  return {
    Path: r.Path,
    RoleName: r.RoleName,
    RoleId: r.RoleId,
    Arn: r.Arn,
    CreateDate: new Date(r.CreateDate),
    AssumeRolePolicyDocument: encodePolicy(r.AssumeRolePolicyDocument),
    InstanceProfileList: profilesOfRole(ctx, r.RoleName).map((p) => instanceProfileOut(ctx, p)),
    RolePolicyList: inline(r.InlinePolicies),
    AttachedManagedPolicies: attached(ctx, r.AttachedPolicies),
    PermissionsBoundary: boundary(r.PermissionsBoundary),
    Tags: r.Tags.length ? r.Tags : undefined,
    // Nimbus does not record when a role was last used: AWS's answer for a role never used.
    RoleLastUsed: {},
  };
}

function policyDetail(ctx: RequestContext, p: ManagedPolicyDoc) {
  return { ...policyOut(ctx, p), Tags: undefined, PolicyVersionList: p.Versions.map((v) => versionOut(p, v)) };
}

/**
 * One snapshot of users, groups, roles and managed policies. AWS managed policies appear
 * only when something in the account uses them (attached, or as a permissions boundary),
 * which is what the API returns: the snapshot is of the account's configuration, not of
 * AWS's catalogue. One Marker/MaxItems walks the four lists in that order.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export function getAccountAuthorizationDetails(input: Input, ctx: RequestContext) {
  const filter = (input.Filter ?? []) as string[];
  for (const f of filter) {
    if (!ENTITY_TYPES.includes(f as EntityType)) {
      throw IamErrors.ValidationError({ message: `1 validation error detected: Value '[${filter.join(', ')}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${ENTITY_TYPES.join(', ')}]]` });
    }
  }
  const want = (t: EntityType) => filter.length === 0 || filter.includes(t);
  const s = iam(ctx);
  type Item = { key: string; list: 'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies'; render: () => unknown };
  const items: Item[] = [];
  if (want('User')) for (const u of s.list('user')) items.push({ key: `0/${u.UserName}`, list: 'UserDetailList', render: () => userDetail(ctx, u) });
  if (want('Group')) for (const g of s.list('group')) items.push({ key: `1/${g.GroupName}`, list: 'GroupDetailList', render: () => groupDetail(ctx, g) });
  if (want('Role')) for (const r of s.list('role')) items.push({ key: `2/${r.RoleName}`, list: 'RoleDetailList', render: () => roleDetail(ctx, r) });
  const policies: ManagedPolicyDoc[] = [];
  if (want('LocalManagedPolicy')) policies.push(...s.list('policy'));
  if (want('AWSManagedPolicy')) {
    const used = new Set<string>();
    for (const e of [...s.list('user'), ...s.list('group'), ...s.list('role')]) e.AttachedPolicies.forEach((a) => used.add(a));
    for (const e of [...s.list('user'), ...s.list('role')]) if (e.PermissionsBoundary) used.add(e.PermissionsBoundary);
    policies.push(...s.awsManagedPolicies().filter((p) => used.has(p.Arn)));
  }
  for (const p of policies) items.push({ key: `3/${p.PolicyName}/${p.Arn}`, list: 'Policies', render: () => policyDetail(ctx, p) });
  const { page, IsTruncated, Marker } = paginate(items, input, (i) => i.key);
  const out: Record<Item['list'], unknown[]> = { UserDetailList: [], GroupDetailList: [], RoleDetailList: [], Policies: [] };
  for (const item of page) out[item.list].push(item.render());
  return { ...out, IsTruncated, Marker };
}

/**
 * Account aliases: 3–63 characters, lower-case letters, digits and single hyphens, not at
 * either end (the model's pattern), and not a 12-digit number. An account has one alias:
 * creating another replaces it, as AWS does (EntityAlreadyExists means the name is taken,
 * here: it is already this account's alias).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/console_account-alias.html
 */
const ALIAS_PATTERN = '^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$';
const ALIAS = new RegExp(ALIAS_PATTERN);

function checkAlias(alias: unknown): string {
  const a = typeof alias === 'string' ? alias : '';
  const fail = (rule: string) => IamErrors.ValidationError({ message: `1 validation error detected: Value '${a}' at 'accountAlias' failed to satisfy constraint: ${rule}` });
  if (a.length < 3) throw fail('Member must have length greater than or equal to 3');
  if (a.length > 63) throw fail('Member must have length less than or equal to 63');
  if (!ALIAS.test(a)) throw fail(`Member must satisfy regular expression pattern: ${ALIAS_PATTERN}`);
  if (/^\d{12}$/.test(a)) throw IamErrors.InvalidInput({ message: `The account alias ${a} is invalid: an alias cannot be a 12-digit number.` });
  return a;
}

export async function createAccountAlias(input: Input, ctx: RequestContext) {
  const alias = checkAlias(input.AccountAlias);
  await iam(ctx).write(async (tx) => {
    const cur = (await tx.get('account', 'settings')) ?? settings(ctx);
    // Aliases are unique across all accounts, as on AWS (they name the sign-in URL).
    const taken = ctx.runtime.iam.accounts().some((id) => id !== account(ctx) && ctx.runtime.iam.forAccount(id).get('account', 'settings')?.Aliases.includes(alias));
    if (taken || cur.Aliases.includes(alias)) throw IamErrors.EntityAlreadyExists({ message: `The account alias ${alias} already exists.` });
    await tx.put('account', 'settings', { ...cur, Aliases: [alias] });
  });
  return {};
}

export async function deleteAccountAlias(input: Input, ctx: RequestContext) {
  const alias = checkAlias(input.AccountAlias);
  await iam(ctx).write(async (tx) => {
    const cur = (await tx.get('account', 'settings')) ?? settings(ctx);
    if (!cur.Aliases.includes(alias)) throw IamErrors.NoSuchEntity({ message: `The account alias ${alias} cannot be found.` });
    await tx.put('account', 'settings', { ...cur, Aliases: cur.Aliases.filter((a) => a !== alias) });
  });
  return {};
}

export function listAccountAliases(input: Input, ctx: RequestContext) {
  const { page, IsTruncated, Marker } = paginate(settings(ctx).Aliases, input, (a) => a);
  return { AccountAliases: page, IsTruncated, Marker };
}

export const accountOperations = {
  GetAccountSummary: op(getAccountSummary, 'GetAccountSummary'),
  GetAccountAuthorizationDetails: op(getAccountAuthorizationDetails, 'GetAccountAuthorizationDetails'),
  CreateAccountAlias: op(createAccountAlias, 'CreateAccountAlias'),
  DeleteAccountAlias: op(deleteAccountAlias, 'DeleteAccountAlias'),
  ListAccountAliases: op(listAccountAliases, 'ListAccountAliases'),
};
