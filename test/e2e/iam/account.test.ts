import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  IAMClient,
  GetAccountSummaryCommand,
  GetAccountAuthorizationDetailsCommand,
  CreateAccountAliasCommand,
  DeleteAccountAliasCommand,
  ListAccountAliasesCommand,
  CreateUserCommand,
  CreateGroupCommand,
  AddUserToGroupCommand,
  CreateRoleCommand,
  GetRoleCommand,
  ListRolesCommand,
  DeleteRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  PutRolePolicyCommand,
  AttachRolePolicyCommand,
  PutUserPolicyCommand,
  PutGroupPolicyCommand,
  AttachUserPolicyCommand,
  AttachGroupPolicyCommand,
  PutUserPermissionsBoundaryCommand,
  CreatePolicyCommand,
  GetPolicyCommand,
  CreateAccessKeyCommand,
  TagUserCommand,
  UntagUserCommand,
  ListUserTagsCommand,
  TagRoleCommand,
  UntagRoleCommand,
  ListRoleTagsCommand,
  TagPolicyCommand,
  UntagPolicyCommand,
  ListPolicyTagsCommand,
  CreateInstanceProfileCommand,
  GetInstanceProfileCommand,
  DeleteInstanceProfileCommand,
  ListInstanceProfilesCommand,
  AddRoleToInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
  ListInstanceProfilesForRoleCommand,
  TagInstanceProfileCommand,
  UntagInstanceProfileCommand,
  ListInstanceProfileTagsCommand,
  CreateServiceLinkedRoleCommand,
  DeleteServiceLinkedRoleCommand,
  GetServiceLinkedRoleDeletionStatusCommand,
  GetContextKeysForCustomPolicyCommand,
  GetContextKeysForPrincipalPolicyCommand,
  type EntityType,
} from '@aws-sdk/client-iam';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { awsEnv, requireAwsCli } from '../../helpers/python.js';

/**
 * The account-wide slice of IAM with the AWS SDK for JavaScript v3 (and a few AWS CLI
 * cases): account summary and authorization details, aliases, tags of users, roles,
 * policies and instance profiles, instance profiles, service-linked roles and context keys.
 */
let server: TestServer;
let iam: IAMClient;
const ACCOUNT = '000000000000';

const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const trust = (service = 'ec2.amazonaws.com') => doc([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }]);
const allowAll = doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }]);

/** The error a call fails with: SDK name (modeled exception or code), HTTP status and message. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('expected the call to fail');
}

async function assertFails(p: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<void> {
  const f = await failure(p);
  assert.equal(f.name, name, `${f.name}: ${f.message}`);
  assert.equal(f.status, status, `${f.name}: ${f.message}`);
  if (message) assert.match(f.message, message);
}

before(async () => {
  server = await startServer();
  // One attempt: the SDK retries LimitExceededException as throttling, which only slows the error cases down.
  iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
});

after(async () => {
  iam?.destroy();
  await server?.dispose();
});

const SUMMARY_KEYS = [
  'Users', 'UsersQuota', 'Groups', 'GroupsQuota', 'ServerCertificates', 'ServerCertificatesQuota', 'UserPolicySizeQuota',
  'GroupPolicySizeQuota', 'GroupsPerUserQuota', 'SigningCertificatesPerUserQuota', 'AccessKeysPerUserQuota', 'MFADevices',
  'MFADevicesInUse', 'AccountMFAEnabled', 'AccountAccessKeysPresent', 'AccountPasswordPresent', 'AccountSigningCertificatesPresent',
  'AttachedPoliciesPerGroupQuota', 'AttachedPoliciesPerRoleQuota', 'AttachedPoliciesPerUserQuota', 'Policies', 'PoliciesQuota',
  'PolicySizeQuota', 'PolicyVersionsInUse', 'PolicyVersionsInUseQuota', 'VersionsPerPolicyQuota', 'GlobalEndpointTokenVersion',
  'AssumeRolePolicySizeQuota', 'InstanceProfiles', 'InstanceProfilesQuota', 'Providers', 'RolePolicySizeQuota', 'Roles', 'RolesQuota',
];

describe('GetAccountSummary', () => {
  it('reports every key of the model with AWS default quotas, counted from the state', async () => {
    const before = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap!;
    assert.deepEqual(Object.keys(before).sort(), [...SUMMARY_KEYS].sort());
    assert.equal(before.UsersQuota, 5000);
    assert.equal(before.GroupsQuota, 300);
    assert.equal(before.RolesQuota, 1000);
    assert.equal(before.PoliciesQuota, 1500);
    assert.equal(before.InstanceProfilesQuota, 1000);
    assert.equal(before.ServerCertificatesQuota, 20);
    assert.equal(before.AccessKeysPerUserQuota, 2);
    assert.equal(before.SigningCertificatesPerUserQuota, 2);
    assert.equal(before.GroupsPerUserQuota, 10);
    assert.equal(before.AttachedPoliciesPerUserQuota, 10);
    assert.equal(before.AttachedPoliciesPerGroupQuota, 10);
    assert.equal(before.AttachedPoliciesPerRoleQuota, 10);
    assert.equal(before.VersionsPerPolicyQuota, 5);
    assert.equal(before.PolicyVersionsInUseQuota, 10000);
    assert.equal(before.UserPolicySizeQuota, 2048);
    assert.equal(before.GroupPolicySizeQuota, 5120);
    assert.equal(before.RolePolicySizeQuota, 10240);
    assert.equal(before.PolicySizeQuota, 6144);
    assert.equal(before.AssumeRolePolicySizeQuota, 2048);
    assert.equal(before.AccountAccessKeysPresent, 1);
    assert.equal(before.AccountMFAEnabled, 0);
    assert.equal(before.MFADevices, 0);
    assert.equal(before.ServerCertificates, 0);

    await iam.send(new CreateUserCommand({ UserName: 'summary-user' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'summary-group' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'summary-role', AssumeRolePolicyDocument: trust() }));
    const p = await iam.send(new CreatePolicyCommand({ PolicyName: 'summary-policy', PolicyDocument: allowAll }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'summary-user', PolicyArn: p.Policy!.Arn! }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'summary-group', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'summary-profile' }));

    const after = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap!;
    assert.equal(after.Users, before.Users! + 1);
    assert.equal(after.Groups, before.Groups! + 1);
    assert.equal(after.Roles, before.Roles! + 1);
    assert.equal(after.Policies, before.Policies! + 1);
    assert.equal(after.InstanceProfiles, before.InstanceProfiles! + 1);
    assert.equal(after.PolicyVersionsInUse, before.PolicyVersionsInUse! + 2);
  });
});

describe('account aliases', () => {
  it('creates, lists, replaces and deletes the one alias of the account', async () => {
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, []);
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'example-corp' }));
    const list = await iam.send(new ListAccountAliasesCommand({}));
    assert.deepEqual(list.AccountAliases, ['example-corp']);
    assert.equal(list.IsTruncated, false);
    // Already this account's alias: the name is taken.
    await assertFails(iam.send(new CreateAccountAliasCommand({ AccountAlias: 'example-corp' })), 'EntityAlreadyExistsException', 409, /example-corp already exists/);
    // One alias per account: a new one replaces it, as AWS does.
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'example-2' }));
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, ['example-2']);
    await assertFails(iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'example-corp' })), 'NoSuchEntityException', 404, /example-corp/);
    await iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'example-2' }));
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, []);
  });

  it('refuses aliases outside AWS\'s rules', async () => {
    const bad: Array<[string, RegExp]> = [
      ['ab', /length greater than or equal to 3/],
      ['a'.repeat(64), /length less than or equal to 63/],
      ['Example', /regular expression pattern/],
      ['-lead', /regular expression pattern/],
      ['trail-', /regular expression pattern/],
      ['two--hyphens', /regular expression pattern/],
      ['under_score', /regular expression pattern/],
    ];
    for (const [alias, message] of bad) {
      await assertFails(iam.send(new CreateAccountAliasCommand({ AccountAlias: alias })), 'ValidationError', 400, message);
    }
    await assertFails(iam.send(new CreateAccountAliasCommand({ AccountAlias: '123456789012' })), 'InvalidInputException', 400, /12-digit/);
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, []);
    // 63 characters with single hyphens is fine.
    const longest = `a${'-b'.repeat(30)}c`;
    assert.equal(longest.length, 62);
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: `${longest}d` }));
    assert.deepEqual((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases, [`${longest}d`]);
    await iam.send(new DeleteAccountAliasCommand({ AccountAlias: `${longest}d` }));
  });
});

describe('tags', () => {
  it('TagUser, ListUserTags (sorted, paginated) and UntagUser, keys case-insensitive for users', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'tagged', Tags: [{ Key: 'Team', Value: 'core' }] }));
    await iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'Department', Value: 'finance' }, { Key: 'cost', Value: '' }, { Key: 'Zone', Value: 'a b:c/d=e+f-g@h_i.j' }] }));
    let tags = (await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags!;
    assert.deepEqual(tags.map((t) => t.Key), ['Department', 'Team', 'Zone', 'cost']);
    assert.equal(tags.find((t) => t.Key === 'cost')!.Value, '');
    // department=hr replaces Department=finance (user tag keys ignore case; the new spelling stays).
    await iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'department', Value: 'hr' }] }));
    tags = (await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags!;
    assert.deepEqual(tags, [{ Key: 'Team', Value: 'core' }, { Key: 'Zone', Value: 'a b:c/d=e+f-g@h_i.j' }, { Key: 'cost', Value: '' }, { Key: 'department', Value: 'hr' }]);
    const p1 = await iam.send(new ListUserTagsCommand({ UserName: 'tagged', MaxItems: 3 }));
    assert.equal(p1.IsTruncated, true);
    assert.deepEqual(p1.Tags!.map((t) => t.Key), ['Team', 'Zone', 'cost']);
    const p2 = await iam.send(new ListUserTagsCommand({ UserName: 'tagged', MaxItems: 3, Marker: p1.Marker }));
    assert.equal(p2.IsTruncated, false);
    assert.deepEqual(p2.Tags!.map((t) => t.Key), ['department']);
    await iam.send(new UntagUserCommand({ UserName: 'tagged', TagKeys: ['TEAM', 'cost', 'not-there'] }));
    tags = (await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags!;
    assert.deepEqual(tags.map((t) => t.Key), ['Zone', 'department']);
  });

  it('enforces AWS\'s tag limits and characters', async () => {
    const many = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: 'v' }));
    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: many(51) })), 'LimitExceededException', 409, /TagsPerUser: 50/);
    // The total counts too: 2 existing + 49 new is 51.
    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: many(49) })), 'LimitExceededException', 409, /50/);
    await iam.send(new TagUserCommand({ UserName: 'tagged', Tags: many(48) }));
    assert.equal((await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags!.length, 50);
    // Replacing a key at the limit is fine.
    await iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'K0', Value: 'replaced' }] }));
    assert.equal((await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags!.length, 50);
    await iam.send(new UntagUserCommand({ UserName: 'tagged', TagKeys: many(48).map((t) => t.Key) }));

    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] })), 'ValidationError', 400, /tags\.1\.member\.key.*less than or equal to 128/);
    await iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] }));
    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'ok', Value: 'v'.repeat(257) }] })), 'ValidationError', 400, /tags\.1\.member\.value.*less than or equal to 256/);
    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'ok', Value: 'v' }, { Key: 'bad*key', Value: 'v' }] })), 'ValidationError', 400, /tags\.2\.member\.key.*regular expression/);
    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'aws:owner', Value: 'me' }] })), 'InvalidInputException', 400, /aws:/);
    await assertFails(iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'Dup', Value: '1' }, { Key: 'dup', Value: '2' }] })), 'InvalidInputException', 400, /Duplicate tag keys/);
    await assertFails(iam.send(new TagUserCommand({ UserName: 'nobody', Tags: [{ Key: 'a', Value: 'b' }] })), 'NoSuchEntityException', 404, /nobody/);
    await assertFails(iam.send(new ListUserTagsCommand({ UserName: 'nobody' })), 'NoSuchEntityException', 404);
    await assertFails(iam.send(new CreateUserCommand({ UserName: 'bad-tags', Tags: [{ Key: 'aws:x', Value: 'y' }] })), 'InvalidInputException', 400);
  });

  it('TagRole, UntagRole and ListRoleTags share the rules (case-insensitive keys)', async () => {
    await iam.send(new CreateRoleCommand({ RoleName: 'tagged-role', AssumeRolePolicyDocument: trust(), Tags: [{ Key: 'Env', Value: 'dev' }] }));
    await iam.send(new TagRoleCommand({ RoleName: 'tagged-role', Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'App', Value: 'web' }] }));
    assert.deepEqual((await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged-role' }))).Tags, [{ Key: 'App', Value: 'web' }, { Key: 'env', Value: 'prod' }]);
    assert.deepEqual((await iam.send(new GetRoleCommand({ RoleName: 'tagged-role' }))).Role!.Tags?.length, 2);
    await iam.send(new UntagRoleCommand({ RoleName: 'tagged-role', TagKeys: ['ENV'] }));
    assert.deepEqual((await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged-role' }))).Tags, [{ Key: 'App', Value: 'web' }]);
    await assertFails(iam.send(new TagRoleCommand({ RoleName: 'tagged-role', Tags: [{ Key: 'aws:x', Value: 'y' }] })), 'InvalidInputException', 400);
  });

  it('TagPolicy, UntagPolicy and ListPolicyTags: CreatePolicy\'s tags kept, keys case-sensitive', async () => {
    const p = await iam.send(new CreatePolicyCommand({ PolicyName: 'tagged-policy', PolicyDocument: allowAll, Tags: [{ Key: 'Costcenter', Value: '1234' }] }));
    assert.deepEqual(p.Policy!.Tags, [{ Key: 'Costcenter', Value: '1234' }]);
    const arn = p.Policy!.Arn!;
    await iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: [{ Key: 'costcenter', Value: '5678' }] }));
    assert.deepEqual((await iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags, [{ Key: 'Costcenter', Value: '1234' }, { Key: 'costcenter', Value: '5678' }]);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.Tags!.length, 2);
    await iam.send(new UntagPolicyCommand({ PolicyArn: arn, TagKeys: ['COSTCENTER', 'Costcenter'] }));
    assert.deepEqual((await iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags, [{ Key: 'costcenter', Value: '5678' }]);
    await assertFails(iam.send(new CreatePolicyCommand({ PolicyName: 'bad-tagged', PolicyDocument: allowAll, Tags: [{ Key: 'x', Value: 'v'.repeat(257) }] })), 'ValidationError', 400);
    await assertFails(iam.send(new TagPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/missing`, Tags: [{ Key: 'a', Value: 'b' }] })), 'NoSuchEntityException', 404);
    // AWS managed policies have no tags and cannot be tagged.
    assert.deepEqual((await iam.send(new ListPolicyTagsCommand({ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }))).Tags, []);
    await assertFails(iam.send(new TagPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', Tags: [{ Key: 'a', Value: 'b' }] })), 'AccessDenied', 403);
  });
});

describe('instance profiles', () => {
  it('creates, gets and lists instance profiles (AIPA ids, instance-profile ARNs, PathPrefix, pagination)', async () => {
    const created = (await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'web', Path: '/apps/', Tags: [{ Key: 'tier', Value: 'front' }] }))).InstanceProfile!;
    assert.match(created.InstanceProfileId!, /^AIPA[A-Z0-9]{16}$/);
    assert.equal(created.Arn, `arn:aws:iam::${ACCOUNT}:instance-profile/apps/web`);
    assert.equal(created.Path, '/apps/');
    assert.deepEqual(created.Roles, []);
    assert.deepEqual(created.Tags, [{ Key: 'tier', Value: 'front' }]);
    assert.ok(created.CreateDate instanceof Date);
    const got = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'web' }))).InstanceProfile!;
    assert.equal(got.InstanceProfileId, created.InstanceProfileId);
    await assertFails(iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'WEB' })), 'EntityAlreadyExistsException', 409, /WEB already exists/);
    await assertFails(iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'bad name' })), 'ValidationError', 400);
    await assertFails(iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'x', Path: 'no-slash' })), 'ValidationError', 400);
    await assertFails(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'missing' })), 'NoSuchEntityException', 404, /Instance Profile missing cannot be found/);

    for (const n of ['ip-a', 'ip-b', 'ip-c', 'ip-d']) await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: n, Path: '/batch/' }));
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await iam.send(new ListInstanceProfilesCommand({ PathPrefix: '/batch/', MaxItems: 3, Marker: marker }));
      // Listings leave tags out.
      for (const p of page.InstanceProfiles!) assert.equal(p.Tags, undefined);
      names.push(...page.InstanceProfiles!.map((p) => p.InstanceProfileName!));
      marker = page.IsTruncated ? page.Marker : undefined;
      pages++;
    } while (marker);
    assert.deepEqual(names, ['ip-a', 'ip-b', 'ip-c', 'ip-d']);
    assert.equal(pages, 2);
    const all = (await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles!.map((p) => p.InstanceProfileName);
    assert.ok(all.includes('web') && all.includes('ip-a'));
    assert.deepEqual((await iam.send(new ListInstanceProfilesCommand({ PathPrefix: '/apps/' }))).InstanceProfiles!.map((p) => p.InstanceProfileName), ['web']);
    for (const n of ['ip-a', 'ip-b', 'ip-c', 'ip-d']) await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: n }));
  });

  it('holds one role; DeleteRole and DeleteInstanceProfile refuse while it does', async () => {
    await iam.send(new CreateRoleCommand({ RoleName: 'ec2-app', AssumeRolePolicyDocument: trust() }));
    await iam.send(new CreateRoleCommand({ RoleName: 'ec2-other', AssumeRolePolicyDocument: trust() }));
    const roleBefore = (await iam.send(new GetRoleCommand({ RoleName: 'ec2-app' }))).Role!;
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'ec2-app' }));
    const profile = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'web' }))).InstanceProfile!;
    assert.deepEqual(profile.Roles!.map((r) => [r.RoleName, r.Arn, r.RoleId]), [['ec2-app', roleBefore.Arn, roleBefore.RoleId]]);
    assert.equal(JSON.parse(decodeURIComponent(profile.Roles![0]!.AssumeRolePolicyDocument!)).Statement[0].Principal.Service, 'ec2.amazonaws.com');

    await assertFails(iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'ec2-other' })), 'LimitExceededException', 409, /Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1/);
    await assertFails(iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'ec2-app' })), 'LimitExceededException', 409);
    await assertFails(iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'missing', RoleName: 'ec2-app' })), 'NoSuchEntityException', 404);
    await assertFails(iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'summary-profile', RoleName: 'no-role' })), 'NoSuchEntityException', 404, /no-role/);

    const forRole = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'ec2-app' }));
    assert.deepEqual(forRole.InstanceProfiles!.map((p) => p.InstanceProfileName), ['web']);
    assert.equal(forRole.IsTruncated, false);
    assert.deepEqual((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'ec2-other' }))).InstanceProfiles, []);
    await assertFails(iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'no-role' })), 'NoSuchEntityException', 404);

    // GetRole and ListRoles are unchanged by the profile.
    assert.deepEqual((await iam.send(new GetRoleCommand({ RoleName: 'ec2-app' }))).Role, roleBefore);
    assert.ok((await iam.send(new ListRolesCommand({}))).Roles!.some((r) => r.RoleName === 'ec2-app'));

    await assertFails(iam.send(new DeleteRoleCommand({ RoleName: 'ec2-app' })), 'DeleteConflictException', 409, /must remove roles from instance profile first/);
    await assertFails(iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'web' })), 'DeleteConflictException', 409, /must remove roles from instance profile first/);
    await assertFails(iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'ec2-other' })), 'NoSuchEntityException', 404);
    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'ec2-app' }));
    assert.deepEqual((await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'web' }))).InstanceProfile!.Roles, []);
    await iam.send(new DeleteRoleCommand({ RoleName: 'ec2-other' }));
    // Re-added for the authorization-details test below.
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'ec2-app' }));
  });

  it('AddRoleToInstanceProfile needs iam:PassRole on the role as well', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'ops' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'ops', PolicyName: 'profiles', PolicyDocument: doc([{ Effect: 'Allow', Action: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:CreateInstanceProfile'], Resource: '*' }]) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ops' }))).AccessKey!;
    const ops = new IAMClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    await iam.send(new CreateRoleCommand({ RoleName: 'worker', AssumeRolePolicyDocument: trust() }));
    await ops.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'worker-profile' }));
    await assertFails(ops.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'worker-profile', RoleName: 'worker' })), 'AccessDenied', 403, /iam:PassRole on resource: arn:aws:iam::000000000000:role\/worker/);
    await iam.send(new PutUserPolicyCommand({ UserName: 'ops', PolicyName: 'pass', PolicyDocument: doc([{ Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${ACCOUNT}:role/worker` }]) }));
    await ops.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'worker-profile', RoleName: 'worker' }));
    await assertFails(ops.send(new GetInstanceProfileCommand({ InstanceProfileName: 'worker-profile' })), 'AccessDenied', 403, /iam:GetInstanceProfile on resource: arn:aws:iam::000000000000:instance-profile\/worker-profile/);
    await ops.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'worker-profile', RoleName: 'worker' }));
    ops.destroy();
  });

  it('TagInstanceProfile, UntagInstanceProfile and ListInstanceProfileTags (case-sensitive keys)', async () => {
    await iam.send(new TagInstanceProfileCommand({ InstanceProfileName: 'web', Tags: [{ Key: 'Tier', Value: 'edge' }, { Key: 'owner', Value: 'ops' }] }));
    assert.deepEqual((await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'web' }))).Tags, [
      { Key: 'Tier', Value: 'edge' },
      { Key: 'owner', Value: 'ops' },
      { Key: 'tier', Value: 'front' },
    ]);
    await iam.send(new UntagInstanceProfileCommand({ InstanceProfileName: 'web', TagKeys: ['Tier', 'OWNER'] }));
    assert.deepEqual((await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'web' }))).Tags, [{ Key: 'owner', Value: 'ops' }, { Key: 'tier', Value: 'front' }]);
    await assertFails(iam.send(new TagInstanceProfileCommand({ InstanceProfileName: 'web', Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: '' })) })), 'LimitExceededException', 409, /TagsPerInstanceProfile: 50/);
    await assertFails(iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'missing' })), 'NoSuchEntityException', 404);
  });
});

describe('service-linked roles', () => {
  let deletionTaskId: string;

  it('CreateServiceLinkedRole: AWSServiceRoleFor<Service> under /aws-service-role/<service>/, trusted by the service', async () => {
    const role = (await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'elasticbeanstalk.amazonaws.com', Description: 'Beanstalk' }))).Role!;
    assert.equal(role.RoleName, 'AWSServiceRoleForElasticBeanstalk');
    assert.equal(role.Path, '/aws-service-role/elasticbeanstalk.amazonaws.com/');
    assert.equal(role.Arn, `arn:aws:iam::${ACCOUNT}:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk`);
    assert.match(role.RoleId!, /^AROA/);
    assert.equal(role.Description, 'Beanstalk');
    const trustDoc = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!));
    assert.deepEqual(trustDoc.Statement, [{ Effect: 'Allow', Principal: { Service: ['elasticbeanstalk.amazonaws.com'] }, Action: ['sts:AssumeRole'] }]);
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: 'AWSServiceRoleForElasticBeanstalk' }))).Role!.Arn, role.Arn);

    await assertFails(iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'elasticbeanstalk.amazonaws.com' })), 'InvalidInputException', 400, /AWSServiceRoleForElasticBeanstalk has been taken in this account, please try a different suffix/);
    const suffixed = (await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'autoscaling.amazonaws.com', CustomSuffix: 'batch' }))).Role!;
    assert.equal(suffixed.RoleName, 'AWSServiceRoleForAutoScaling_batch');
    assert.equal(suffixed.Path, '/aws-service-role/autoscaling.amazonaws.com/');
    assert.equal((await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'lex.amazonaws.com' }))).Role!.RoleName, 'AWSServiceRoleForLexBots');
    // A principal without a listed name: each label PascalCased.
    assert.equal((await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'lambda.amazonaws.com' }))).Role!.RoleName, 'AWSServiceRoleForLambda');
    await assertFails(iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'not-a-service' })), 'InvalidInputException', 400);
  });

  it('refuses DeleteRole, UpdateAssumeRolePolicy, PutRolePolicy and AttachRolePolicy with UnmodifiableEntity', async () => {
    const message = /Cannot perform the operation on the protected role 'AWSServiceRoleForElasticBeanstalk' - this role is only modifiable by AWS/;
    const RoleName = 'AWSServiceRoleForElasticBeanstalk';
    await assertFails(iam.send(new DeleteRoleCommand({ RoleName })), 'UnmodifiableEntityException', 400, message);
    await assertFails(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: trust('ec2.amazonaws.com') })), 'UnmodifiableEntityException', 400, message);
    await assertFails(iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'extra', PolicyDocument: allowAll })), 'UnmodifiableEntityException', 400, message);
    await assertFails(iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' })), 'UnmodifiableEntityException', 400, message);
    await assertFails(iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'summary-profile', RoleName })), 'UnmodifiableEntityException', 400, message);
    // Its description can still be edited.
    await iam.send(new UpdateRoleCommand({ RoleName, Description: 'edited' }));
    assert.equal((await iam.send(new GetRoleCommand({ RoleName }))).Role!.Description, 'edited');
  });

  it('DeleteServiceLinkedRole returns a task that GetServiceLinkedRoleDeletionStatus reports SUCCEEDED', async () => {
    const del = await iam.send(new DeleteServiceLinkedRoleCommand({ RoleName: 'AWSServiceRoleForLexBots' }));
    deletionTaskId = del.DeletionTaskId!;
    assert.match(deletionTaskId, /^task\/aws-service-role\/lex\.amazonaws\.com\/AWSServiceRoleForLexBots\/[0-9a-f-]{36}$/);
    assert.deepEqual((await iam.send(new GetServiceLinkedRoleDeletionStatusCommand({ DeletionTaskId: deletionTaskId }))).Status, 'SUCCEEDED');
    await assertFails(iam.send(new GetRoleCommand({ RoleName: 'AWSServiceRoleForLexBots' })), 'NoSuchEntityException', 404);
    await assertFails(iam.send(new DeleteServiceLinkedRoleCommand({ RoleName: 'AWSServiceRoleForLexBots' })), 'NoSuchEntityException', 404);
    // A role the account created itself is not service-linked.
    await assertFails(iam.send(new DeleteServiceLinkedRoleCommand({ RoleName: 'tagged-role' })), 'NoSuchEntityException', 404, /not a service-linked role/);
    await assertFails(iam.send(new GetServiceLinkedRoleDeletionStatusCommand({ DeletionTaskId: 'nonsense' })), 'InvalidInputException', 400);
    await assertFails(
      iam.send(new GetServiceLinkedRoleDeletionStatusCommand({ DeletionTaskId: 'task/aws-service-role/lex.amazonaws.com/AWSServiceRoleForLexBots/00000000-0000-0000-0000-000000000000' })),
      'NoSuchEntityException',
      404,
    );
  });
});

describe('GetAccountAuthorizationDetails', () => {
  let localPolicyArn: string;

  before(async () => {
    const p = await iam.send(new CreatePolicyCommand({ PolicyName: 'gaad-local', Path: '/team/', PolicyDocument: allowAll, Description: 'local' }));
    localPolicyArn = p.Policy!.Arn!;
    await iam.send(new CreatePolicyCommand({ PolicyName: 'gaad-unattached', PolicyDocument: allowAll }));
    await iam.send(new CreateGroupCommand({ GroupName: 'gaad-group' }));
    await iam.send(new PutGroupPolicyCommand({ GroupName: 'gaad-group', PolicyName: 'group-inline', PolicyDocument: allowAll }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'gaad-group', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    await iam.send(new CreateUserCommand({ UserName: 'gaad-user', Tags: [{ Key: 'team', Value: 'blue' }] }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'gaad-group', UserName: 'gaad-user' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'gaad-user', PolicyName: 'user-inline', PolicyDocument: allowAll }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'gaad-user', PolicyArn: localPolicyArn }));
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'gaad-user', PermissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess' }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'ec2-app', PolicyName: 'role-inline', PolicyDocument: allowAll }));
  });

  it('describes users, groups, roles and policies with their relationships, documents URL-encoded', async () => {
    const d = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    assert.equal(d.IsTruncated, false);
    const user = d.UserDetailList!.find((u) => u.UserName === 'gaad-user')!;
    assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT}:user/gaad-user`);
    assert.deepEqual(user.GroupList, ['gaad-group']);
    assert.deepEqual(user.AttachedManagedPolicies, [{ PolicyName: 'gaad-local', PolicyArn: localPolicyArn }]);
    assert.equal(user.UserPolicyList![0]!.PolicyName, 'user-inline');
    assert.equal(decodeURIComponent(user.UserPolicyList![0]!.PolicyDocument!), allowAll);
    assert.deepEqual(user.PermissionsBoundary, { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: 'arn:aws:iam::aws:policy/PowerUserAccess' });
    assert.deepEqual(user.Tags, [{ Key: 'team', Value: 'blue' }]);

    const group = d.GroupDetailList!.find((g) => g.GroupName === 'gaad-group')!;
    assert.deepEqual(group.AttachedManagedPolicies, [{ PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }]);
    assert.deepEqual(group.GroupPolicyList!.map((p) => [p.PolicyName, decodeURIComponent(p.PolicyDocument!)]), [['group-inline', allowAll]]);

    const role = d.RoleDetailList!.find((r) => r.RoleName === 'ec2-app')!;
    assert.equal(decodeURIComponent(role.AssumeRolePolicyDocument!), trust());
    assert.deepEqual(role.InstanceProfileList!.map((p) => [p.InstanceProfileName, p.Arn, p.Roles!.map((r) => r.RoleName)]), [['web', `arn:aws:iam::${ACCOUNT}:instance-profile/apps/web`, ['ec2-app']]]);
    assert.deepEqual(role.RolePolicyList!.map((p) => p.PolicyName), ['role-inline']);
    assert.deepEqual(role.AttachedManagedPolicies, []);
    assert.deepEqual(role.RoleLastUsed, {});
    assert.ok(d.RoleDetailList!.some((r) => r.RoleName === 'AWSServiceRoleForElasticBeanstalk'));

    const local = d.Policies!.find((p) => p.Arn === localPolicyArn)!;
    assert.equal(local.Path, '/team/');
    assert.equal(local.AttachmentCount, 1);
    assert.equal(local.IsAttachable, true);
    assert.equal(local.Description, 'local');
    assert.equal(local.DefaultVersionId, 'v1');
    assert.deepEqual(local.PolicyVersionList!.map((v) => [v.VersionId, v.IsDefaultVersion, decodeURIComponent(v.Document!)]), [['v1', true, allowAll]]);
    // Unattached customer policies are listed; AWS managed ones only when the account uses them.
    assert.ok(d.Policies!.some((p) => p.PolicyName === 'gaad-unattached' && p.AttachmentCount === 0));
    const aws = d.Policies!.filter((p) => p.Arn!.startsWith('arn:aws:iam::aws:policy/')).map((p) => p.PolicyName).sort();
    assert.deepEqual(aws, ['AmazonS3ReadOnlyAccess', 'PowerUserAccess', 'ReadOnlyAccess']);
    const s3ro = d.Policies!.find((p) => p.PolicyName === 'AmazonS3ReadOnlyAccess')!;
    assert.equal(s3ro.AttachmentCount, 1);
    assert.ok(JSON.parse(decodeURIComponent(s3ro.PolicyVersionList![0]!.Document!)).Statement);
    assert.equal(d.Policies!.find((p) => p.PolicyName === 'PowerUserAccess')!.PermissionsBoundaryUsageCount, 1);
  });

  it('Filter selects entity types', async () => {
    const only = async (filter: EntityType[]) => {
      const d = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: filter }));
      return { users: d.UserDetailList!.length, groups: d.GroupDetailList!.length, roles: d.RoleDetailList!.length, policies: d.Policies! };
    };
    const users = await only(['User']);
    assert.ok(users.users > 0);
    assert.deepEqual([users.groups, users.roles, users.policies.length], [0, 0, 0]);
    const rg = await only(['Role', 'Group']);
    assert.ok(rg.roles > 0 && rg.groups > 0);
    assert.deepEqual([rg.users, rg.policies.length], [0, 0]);
    const local = await only(['LocalManagedPolicy']);
    assert.ok(local.policies.length > 0 && local.policies.every((p) => p.Arn!.startsWith(`arn:aws:iam::${ACCOUNT}:`)));
    const awsManaged = await only(['AWSManagedPolicy']);
    assert.deepEqual(awsManaged.policies.map((p) => p.PolicyName).sort(), ['AmazonS3ReadOnlyAccess', 'PowerUserAccess', 'ReadOnlyAccess']);
    await assertFails(iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Bogus' as EntityType] })), 'ValidationError', 400, /enum value set/);
  });

  it('paginates the combined list with Marker and MaxItems', async () => {
    const full = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    const seen = { users: [] as string[], groups: [] as string[], roles: [] as string[], policies: [] as string[] };
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 4, Marker: marker }));
      const count = page.UserDetailList!.length + page.GroupDetailList!.length + page.RoleDetailList!.length + page.Policies!.length;
      assert.ok(count <= 4);
      seen.users.push(...page.UserDetailList!.map((u) => u.UserName!));
      seen.groups.push(...page.GroupDetailList!.map((g) => g.GroupName!));
      seen.roles.push(...page.RoleDetailList!.map((r) => r.RoleName!));
      seen.policies.push(...page.Policies!.map((p) => p.Arn!));
      marker = page.IsTruncated ? page.Marker : undefined;
      pages++;
    } while (marker);
    const total = full.UserDetailList!.length + full.GroupDetailList!.length + full.RoleDetailList!.length + full.Policies!.length;
    assert.equal(pages, Math.ceil(total / 4));
    assert.deepEqual(seen.users, full.UserDetailList!.map((u) => u.UserName));
    assert.deepEqual(seen.groups, full.GroupDetailList!.map((g) => g.GroupName));
    assert.deepEqual(seen.roles, full.RoleDetailList!.map((r) => r.RoleName));
    assert.deepEqual(seen.policies, full.Policies!.map((p) => p.Arn));
    await assertFails(iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 0 })), 'ValidationError', 400);
  });
});

describe('context keys', () => {
  it('GetContextKeysForCustomPolicy: condition keys and policy variables, as the policy spells them, once each', async () => {
    // AWS's documented example.
    const example = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}';
    assert.deepEqual((await iam.send(new GetContextKeysForCustomPolicyCommand({ PolicyInputList: [example] }))).ContextKeyNames, ['aws:username', 'aws:CurrentTime']);

    const second = doc([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': ['home/${aws:userid}/*', '${*}literal'] }, Bool: { 'aws:SecureTransport': 'true' } } },
      { Effect: 'Deny', Action: 's3:*', NotResource: "arn:aws:s3:::b/${aws:PrincipalTag/team, 'none'}/*", Condition: { 'ForAnyValue:StringEquals': { 'aws:currenttime': 'x', 'aws:TagKeys': ['a'] }, Null: { 'aws:TokenIssueTime': 'true' } } },
    ]);
    assert.deepEqual((await iam.send(new GetContextKeysForCustomPolicyCommand({ PolicyInputList: [example, second] }))).ContextKeyNames, [
      'aws:username',
      'aws:CurrentTime',
      's3:prefix',
      'aws:userid',
      'aws:SecureTransport',
      'aws:PrincipalTag/team',
      'aws:TagKeys',
      'aws:TokenIssueTime',
    ]);
    // No conditions, no variables: no keys.
    assert.deepEqual((await iam.send(new GetContextKeysForCustomPolicyCommand({ PolicyInputList: [allowAll] }))).ContextKeyNames ?? [], []);
    // Resource-based policies (with a Principal) are read too.
    const bucketPolicy = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]);
    assert.deepEqual((await iam.send(new GetContextKeysForCustomPolicyCommand({ PolicyInputList: [bucketPolicy] }))).ContextKeyNames, ['aws:SourceIp']);
    await assertFails(iam.send(new GetContextKeysForCustomPolicyCommand({ PolicyInputList: ['{not json'] })), 'InvalidInputException', 400);
  });

  it('GetContextKeysForPrincipalPolicy: a user\'s own and its groups\' policies, plus PolicyInputList', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'ctx-user' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'ctx-user', PolicyName: 'p', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: { StringEquals: { 's3:prefix': 'a' } } }]) }));
    const managed = await iam.send(new CreatePolicyCommand({ PolicyName: 'ctx-managed', PolicyDocument: doc([{ Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } }]) }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'ctx-user', PolicyArn: managed.Policy!.Arn! }));
    await iam.send(new CreateGroupCommand({ GroupName: 'ctx-group' }));
    await iam.send(new PutGroupPolicyCommand({ GroupName: 'ctx-group', PolicyName: 'g', PolicyDocument: doc([{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]) }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'ctx-group', UserName: 'ctx-user' }));
    const extra = doc([{ Effect: 'Allow', Action: 'iam:*', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }]);

    const user = await iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/ctx-user`, PolicyInputList: [extra] }));
    assert.deepEqual(user.ContextKeyNames, ['s3:prefix', 'aws:RequestedRegion', 'aws:SourceIp', 'aws:MultiFactorAuthPresent']);
    const group = await iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:group/ctx-group` }));
    assert.deepEqual(group.ContextKeyNames, ['aws:SourceIp']);
    await iam.send(new CreateRoleCommand({ RoleName: 'ctx-role', AssumeRolePolicyDocument: trust() }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'ctx-role', PolicyName: 'r', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:PrincipalTag/project}/*' }]) }));
    const role = await iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/ctx-role` }));
    assert.deepEqual(role.ContextKeyNames, ['aws:PrincipalTag/project']);

    await assertFails(iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/nobody` })), 'NoSuchEntityException', 404);
    await assertFails(iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: 'arn:aws:s3:::not-a-principal' })), 'InvalidInputException', 400);
  });
});

describe('AWS CLI', () => {
  before(() => {
    requireAwsCli();
  });

  function cli(args: string[]): any {
    const r = spawnSync('aws', [...args, '--output', 'json'], { env: awsEnv(server.url), encoding: 'utf8' });
    assert.equal(r.status, 0, `aws ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  it('aws iam get-account-summary', () => {
    const s = cli(['iam', 'get-account-summary']).SummaryMap;
    assert.equal(s.UsersQuota, 5000);
    assert.equal(s.InstanceProfilesQuota, 1000);
    assert.equal(typeof s.Users, 'number');
    assert.ok(s.Users >= 1);
  });

  it('aws iam create-account-alias, list-account-aliases and delete-account-alias', () => {
    cli(['iam', 'create-account-alias', '--account-alias', 'cli-corp']);
    assert.deepEqual(cli(['iam', 'list-account-aliases']).AccountAliases, ['cli-corp']);
    const dup = spawnSync('aws', ['iam', 'create-account-alias', '--account-alias', 'cli-corp'], { env: awsEnv(server.url), encoding: 'utf8' });
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /EntityAlreadyExists/);
    cli(['iam', 'delete-account-alias', '--account-alias', 'cli-corp']);
    assert.deepEqual(cli(['iam', 'list-account-aliases']).AccountAliases, []);
  });

  it('aws iam get-account-authorization-details, paginated by the CLI', () => {
    const whole = cli(['iam', 'get-account-authorization-details']);
    // --page-size makes the CLI send MaxItems and follow every Marker, merging the pages.
    const paged = cli(['iam', 'get-account-authorization-details', '--page-size', '2']);
    assert.deepEqual(paged.UserDetailList.map((u: { UserName: string }) => u.UserName), whole.UserDetailList.map((u: { UserName: string }) => u.UserName));
    assert.deepEqual(paged.Policies.map((p: { Arn: string }) => p.Arn), whole.Policies.map((p: { Arn: string }) => p.Arn));
    const user = whole.UserDetailList.find((u: { UserName: string }) => u.UserName === 'gaad-user');
    // The CLI decodes the URL-encoded documents.
    assert.equal(user.UserPolicyList[0].PolicyDocument.Statement[0].Action, 's3:ListAllMyBuckets');
    const roles = cli(['iam', 'get-account-authorization-details', '--filter', 'Role']);
    assert.deepEqual(roles.UserDetailList, []);
    assert.ok(roles.RoleDetailList.some((r: { RoleName: string }) => r.RoleName === 'ec2-app'));
  });

  it('aws iam create-instance-profile, add-role-to-instance-profile and get-instance-profile', () => {
    const created = cli(['iam', 'create-instance-profile', '--instance-profile-name', 'cli-profile']).InstanceProfile;
    assert.match(created.InstanceProfileId, /^AIPA/);
    assert.equal(created.Arn, `arn:aws:iam::${ACCOUNT}:instance-profile/cli-profile`);
    cli(['iam', 'create-role', '--role-name', 'cli-role', '--assume-role-policy-document', trust()]);
    cli(['iam', 'add-role-to-instance-profile', '--instance-profile-name', 'cli-profile', '--role-name', 'cli-role']);
    const got = cli(['iam', 'get-instance-profile', '--instance-profile-name', 'cli-profile']).InstanceProfile;
    assert.deepEqual(got.Roles.map((r: { RoleName: string }) => r.RoleName), ['cli-role']);
    assert.equal(got.Roles[0].AssumeRolePolicyDocument.Statement[0].Principal.Service, 'ec2.amazonaws.com');
    const forRole = cli(['iam', 'list-instance-profiles-for-role', '--role-name', 'cli-role']);
    assert.deepEqual(forRole.InstanceProfiles.map((p: { InstanceProfileName: string }) => p.InstanceProfileName), ['cli-profile']);
  });
});
