import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IAMClient,
  CreateUserCommand,
  UpdateUserCommand,
  DeleteUserCommand,
  GetUserCommand,
  CreateAccessKeyCommand,
  UpdateAccessKeyCommand,
  ListAccessKeysCommand,
  GetAccessKeyLastUsedCommand,
  AttachUserPolicyCommand,
  PutUserPolicyCommand,
  CreateRoleCommand,
  CreateLoginProfileCommand,
  GetLoginProfileCommand,
  UpdateLoginProfileCommand,
  DeleteLoginProfileCommand,
  ChangePasswordCommand,
  UpdateAccountPasswordPolicyCommand,
  GetAccountPasswordPolicyCommand,
  DeleteAccountPasswordPolicyCommand,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  type UpdateAccountPasswordPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { aws, requireAwsCli } from '../../helpers/python.js';

/**
 * Login profiles, the account password policy, ChangePassword and the credential report,
 * driven by the AWS SDK for JavaScript v3 (and one AWS CLI case) against the real server.
 */
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

let server: TestServer;
let iam: IAMClient;
let accountId: string;
const clients: Array<{ destroy(): void }> = [];

const iamAs = (c: Creds, url = server.url, systemClockOffset?: number) => {
  const client = new IAMClient({ endpoint: url, region: REGION, credentials: c, systemClockOffset });
  clients.push(client);
  return client;
};
const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const DAY = 86_400_000;

/** The error a call fails with: its code, message and HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

async function setPolicy(client: IAMClient, p: UpdateAccountPasswordPolicyCommandInput | undefined): Promise<void> {
  if (p) {
    await client.send(new UpdateAccountPasswordPolicyCommand(p));
    return;
  }
  try {
    await client.send(new DeleteAccountPasswordPolicyCommand({}));
  } catch (e) {
    if ((e as Error).name !== 'NoSuchEntityException') throw e;
  }
}

/** A user with an access key and (optionally) a password. */
async function userWithKey(client: IAMClient, name: string, password?: string, path?: string): Promise<Creds> {
  await client.send(new CreateUserCommand({ UserName: name, Path: path }));
  if (password) await client.send(new CreateLoginProfileCommand({ UserName: name, Password: password }));
  const k = await client.send(new CreateAccessKeyCommand({ UserName: name }));
  return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
}

/** The report's timestamps: second precision, +00:00. */
const reportTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '+00:00');

/** RFC 4180 CSV: rows of fields, quotes honoured. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
];

/** The report as records keyed by column, checking the header on the way. */
function reportRecords(csv: string): Map<string, Record<string, string>> {
  const [header, ...rows] = parseCsv(csv);
  assert.deepEqual(header, COLUMNS);
  const out = new Map<string, Record<string, string>>();
  for (const r of rows) {
    assert.equal(r.length, COLUMNS.length, `row ${r[0]} has ${r.length} fields`);
    out.set(r[0]!, Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]!])));
  }
  return out;
}

before(async () => {
  server = await startServer();
  iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
  accountId = (await sts.send(new GetCallerIdentityCommand({}))).Account!;
  sts.destroy();
});

after(async () => {
  for (const c of clients) c.destroy();
  iam?.destroy();
  await server?.dispose();
});

describe('credential report before any is generated', () => {
  it('GetCredentialReport is ReportNotPresent (410)', async () => {
    const f = await failure(iam.send(new GetCredentialReportCommand({})));
    assert.equal(f.name, 'CredentialReportNotPresentException');
    assert.equal(f.status, 410);
  });
});

describe('login profiles', () => {
  it('create, get, update and delete, with AWS errors and messages', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    let f = await failure(iam.send(new GetLoginProfileCommand({ UserName: 'alice' })));
    assert.deepEqual([f.name, f.message, f.status], ['NoSuchEntityException', 'Login Profile for User alice cannot be found.', 404]);

    const t0 = Date.now();
    const created = await iam.send(new CreateLoginProfileCommand({ UserName: 'alice', Password: 'Str0ng-Passw0rd', PasswordResetRequired: true }));
    assert.equal(created.LoginProfile!.UserName, 'alice');
    assert.equal(created.LoginProfile!.PasswordResetRequired, true);
    assert.ok(Math.abs(created.LoginProfile!.CreateDate!.getTime() - t0) < 60_000);

    f = await failure(iam.send(new CreateLoginProfileCommand({ UserName: 'alice', Password: 'An0ther-Passw0rd' })));
    assert.deepEqual([f.name, f.message, f.status], ['EntityAlreadyExistsException', 'Login Profile for user alice already exists.', 409]);

    const got = await iam.send(new GetLoginProfileCommand({ UserName: 'alice' }));
    assert.deepEqual(got.LoginProfile, created.LoginProfile);

    await iam.send(new UpdateLoginProfileCommand({ UserName: 'alice', PasswordResetRequired: false }));
    assert.equal((await iam.send(new GetLoginProfileCommand({ UserName: 'alice' }))).LoginProfile!.PasswordResetRequired, false);
    await iam.send(new UpdateLoginProfileCommand({ UserName: 'alice', Password: 'Th1rd-Passw0rd' }));
    // A new password leaves the profile's creation date alone.
    assert.deepEqual((await iam.send(new GetLoginProfileCommand({ UserName: 'alice' }))).LoginProfile!.CreateDate, created.LoginProfile!.CreateDate);

    f = await failure(iam.send(new CreateLoginProfileCommand({ UserName: 'nobody', Password: 'Str0ng-Passw0rd' })));
    assert.deepEqual([f.name, f.message], ['NoSuchEntityException', 'The user with name nobody cannot be found.']);
    await iam.send(new CreateUserCommand({ UserName: 'no-password' }));
    f = await failure(iam.send(new UpdateLoginProfileCommand({ UserName: 'no-password', Password: 'Str0ng-Passw0rd' })));
    assert.deepEqual([f.name, f.message], ['NoSuchEntityException', 'Login Profile for User no-password cannot be found.']);
    f = await failure(iam.send(new CreateLoginProfileCommand({ UserName: 'no-password' })));
    assert.equal(f.name, 'ValidationError');

    f = await failure(iam.send(new DeleteUserCommand({ UserName: 'alice' })));
    assert.deepEqual([f.name, f.message, f.status], ['DeleteConflictException', 'Cannot delete entity, must delete login profile first.', 409]);
    await iam.send(new DeleteLoginProfileCommand({ UserName: 'alice' }));
    f = await failure(iam.send(new GetLoginProfileCommand({ UserName: 'alice' })));
    assert.equal(f.name, 'NoSuchEntityException');
    f = await failure(iam.send(new DeleteLoginProfileCommand({ UserName: 'alice' })));
    assert.deepEqual([f.name, f.message], ['NoSuchEntityException', 'Login Profile for User alice cannot be found.']);
    await iam.send(new DeleteUserCommand({ UserName: 'alice' }));
  });

  it('stores passwords only as salted hashes', async () => {
    const password = 'Plaintext-Never-Stored-7';
    await iam.send(new CreateUserCommand({ UserName: 'hashed' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'hashed', Password: password }));
    let bytes = 0;
    for (const f of ['metadata.sqlite', 'metadata.sqlite-wal']) {
      const p = join(server.dataDir, f);
      if (!existsSync(p)) continue;
      const data = readFileSync(p);
      bytes += data.length;
      assert.equal(data.includes(password), false, `${f} holds the password`);
    }
    assert.ok(bytes > 0, 'the metadata store was read');
  });

  it('a renamed user keeps its login profile', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'before-rename' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'before-rename', Password: 'Str0ng-Passw0rd' }));
    await iam.send(new UpdateUserCommand({ UserName: 'before-rename', NewUserName: 'after-rename' }));
    assert.equal((await iam.send(new GetLoginProfileCommand({ UserName: 'after-rename' }))).LoginProfile!.UserName, 'after-rename');
    assert.equal((await failure(iam.send(new GetLoginProfileCommand({ UserName: 'before-rename' })))).name, 'NoSuchEntityException');
  });
});

describe('account password policy', () => {
  it('none set: NoSuchEntity, and AWS default rules apply (8 characters, three of four types)', async () => {
    await setPolicy(iam, undefined);
    const f = await failure(iam.send(new GetAccountPasswordPolicyCommand({})));
    assert.deepEqual([f.name, f.message, f.status], ['NoSuchEntityException', `The Password Policy with domain name ${accountId} cannot be found.`, 404]);
    await iam.send(new CreateUserCommand({ UserName: 'default-rules' }));
    const create = (Password: string) => iam.send(new CreateLoginProfileCommand({ UserName: 'default-rules', Password }));
    const cases: Array<[string, string]> = [
      ['Ab1!xyz', 'Password should have a minimum length of 8'],
      ['alllowercase1', 'Password should meet 1 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one symbol'],
      ['alllowercase', 'Password should meet 2 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one number, Password should have at least one symbol'],
    ];
    for (const [pw, message] of cases) {
      const v = await failure(create(pw));
      assert.deepEqual([v.name, v.message, v.status], ['PasswordPolicyViolationException', message, 400], pw);
    }
    // Three of the four types is enough (no symbol here).
    await create('Lowercase1Upper');
  });

  it('UpdateAccountPasswordPolicy is not a partial update: omitted fields take their defaults', async () => {
    await setPolicy(iam, {});
    assert.deepEqual((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy, {
      MinimumPasswordLength: 6,
      RequireSymbols: false,
      RequireNumbers: false,
      RequireUppercaseCharacters: false,
      RequireLowercaseCharacters: false,
      AllowUsersToChangePassword: false,
      ExpirePasswords: false,
    });
    await setPolicy(iam, {
      MinimumPasswordLength: 14,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      AllowUsersToChangePassword: true,
      MaxPasswordAge: 90,
      PasswordReusePrevention: 24,
      HardExpiry: true,
    });
    assert.deepEqual((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy, {
      MinimumPasswordLength: 14,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      AllowUsersToChangePassword: true,
      ExpirePasswords: true,
      MaxPasswordAge: 90,
      PasswordReusePrevention: 24,
      HardExpiry: true,
    });
    await setPolicy(iam, { MinimumPasswordLength: 12 });
    const p = (await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy!;
    assert.equal(p.MinimumPasswordLength, 12);
    assert.equal(p.RequireSymbols, false);
    assert.equal(p.AllowUsersToChangePassword, false);
    assert.equal(p.ExpirePasswords, false);
    assert.equal(p.MaxPasswordAge, undefined);
    assert.equal(p.PasswordReusePrevention, undefined);
    assert.equal(p.HardExpiry, undefined);
  });

  it('refuses values out of AWS bounds with ValidationError and keeps the policy', async () => {
    await setPolicy(iam, { MinimumPasswordLength: 10 });
    const cases: Array<[UpdateAccountPasswordPolicyCommandInput, string]> = [
      [{ MinimumPasswordLength: 5 }, "Value '5' at 'minimumPasswordLength' failed to satisfy constraint: Member must have value greater than or equal to 6"],
      [{ MinimumPasswordLength: 129 }, "Value '129' at 'minimumPasswordLength' failed to satisfy constraint: Member must have value less than or equal to 128"],
      [{ MaxPasswordAge: 0 }, "Value '0' at 'maxPasswordAge' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      [{ MaxPasswordAge: 1096 }, "Value '1096' at 'maxPasswordAge' failed to satisfy constraint: Member must have value less than or equal to 1095"],
      [{ PasswordReusePrevention: 0 }, "Value '0' at 'passwordReusePrevention' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      [{ PasswordReusePrevention: 25 }, "Value '25' at 'passwordReusePrevention' failed to satisfy constraint: Member must have value less than or equal to 24"],
    ];
    for (const [input, message] of cases) {
      const f = await failure(iam.send(new UpdateAccountPasswordPolicyCommand(input)));
      assert.deepEqual([f.name, f.message, f.status], ['ValidationError', `1 validation error detected: ${message}`, 400]);
    }
    const two = await failure(iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 200, PasswordReusePrevention: 30 })));
    assert.match(two.message, /^2 validation errors detected: Value '200' at 'minimumPasswordLength' .*; Value '30' at 'passwordReusePrevention' /);
    // The bounds themselves are accepted.
    await setPolicy(iam, { MinimumPasswordLength: 128, MaxPasswordAge: 1095, PasswordReusePrevention: 24 });
    await setPolicy(iam, { MinimumPasswordLength: 6, MaxPasswordAge: 1, PasswordReusePrevention: 1 });
    assert.equal((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy!.MaxPasswordAge, 1);
  });

  it('PasswordPolicyViolation for each rule, on CreateLoginProfile and UpdateLoginProfile', async () => {
    await setPolicy(iam, { MinimumPasswordLength: 10, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true });
    await iam.send(new CreateUserCommand({ UserName: 'rules' }));
    const cases: Array<[string, string]> = [
      ['Aa1!short', 'Password should have a minimum length of 10'],
      ['aaaaaaaa1!', 'Password should have at least one uppercase letter'],
      ['AAAAAAAA1!', 'Password should have at least one lowercase letter'],
      ['Aaaaaaaaa!', 'Password should have at least one number'],
      ['Aaaaaaaaa1', 'Password should have at least one symbol'],
      // Only the policy's symbols count: "." is not one of them.
      ['Aaaaaaaa1.', 'Password should have at least one symbol'],
    ];
    for (const [pw, message] of cases) {
      const f = await failure(iam.send(new CreateLoginProfileCommand({ UserName: 'rules', Password: pw })));
      assert.deepEqual([f.name, f.message, f.status], ['PasswordPolicyViolationException', message, 400], pw);
    }
    assert.equal((await failure(iam.send(new GetLoginProfileCommand({ UserName: 'rules' })))).name, 'NoSuchEntityException');
    await iam.send(new CreateLoginProfileCommand({ UserName: 'rules', Password: 'Aaaaaaaa1!' }));
    for (const [pw, message] of cases) {
      const f = await failure(iam.send(new UpdateLoginProfileCommand({ UserName: 'rules', Password: pw })));
      assert.deepEqual([f.name, f.message], ['PasswordPolicyViolationException', message], pw);
    }
    // A policy change binds new passwords, not existing ones; PasswordResetRequired alone needs no password.
    await setPolicy(iam, { MinimumPasswordLength: 20 });
    await iam.send(new UpdateLoginProfileCommand({ UserName: 'rules', PasswordResetRequired: true }));
    assert.equal((await iam.send(new GetLoginProfileCommand({ UserName: 'rules' }))).LoginProfile!.PasswordResetRequired, true);
  });

  it('reuse prevention compares with the last N passwords', async () => {
    await setPolicy(iam, { PasswordReusePrevention: 2 });
    await iam.send(new CreateUserCommand({ UserName: 'reuse' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'reuse', Password: 'first-password' }));
    const set = (Password: string) => iam.send(new UpdateLoginProfileCommand({ UserName: 'reuse', Password }));
    const reused = async (pw: string) => {
      const f = await failure(set(pw));
      assert.deepEqual([f.name, f.message, f.status], ['PasswordPolicyViolationException', 'Policy constraint violation with password reuse prevention during password change.', 400], pw);
    };
    await reused('first-password');
    await set('second-password');
    await reused('first-password');
    await reused('second-password');
    await set('third-password');
    // The last two are third and second: first may come back.
    await reused('second-password');
    await set('first-password');
  });

  it('DeleteAccountPasswordPolicy brings the default rules back', async () => {
    await setPolicy(iam, { MinimumPasswordLength: 6 });
    await iam.send(new CreateUserCommand({ UserName: 'after-delete' }));
    await iam.send(new DeleteAccountPasswordPolicyCommand({}));
    assert.equal((await failure(iam.send(new GetAccountPasswordPolicyCommand({})))).name, 'NoSuchEntityException');
    const f = await failure(iam.send(new DeleteAccountPasswordPolicyCommand({})));
    assert.deepEqual([f.name, f.message, f.status], ['NoSuchEntityException', 'The account policy with name PasswordPolicy cannot be found.', 404]);
    const v = await failure(iam.send(new CreateLoginProfileCommand({ UserName: 'after-delete', Password: 'sixsix' })));
    assert.deepEqual([v.name, v.message], ['PasswordPolicyViolationException', 'Password should have a minimum length of 8']);
  });
});

describe('ChangePassword', () => {
  let carol: Creds;

  before(async () => {
    await setPolicy(iam, undefined);
    carol = await userWithKey(iam, 'carol', 'Initial-pass1');
    await iam.send(new UpdateLoginProfileCommand({ UserName: 'carol', PasswordResetRequired: true }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'carol', PolicyArn: 'arn:aws:iam::aws:policy/IAMUserChangePassword' }));
  });

  it('a user with IAMUserChangePassword changes its own password; PasswordResetRequired is cleared', async () => {
    const asCarol = iamAs(carol);
    await asCarol.send(new ChangePasswordCommand({ OldPassword: 'Initial-pass1', NewPassword: 'Second-pass2' }));
    assert.equal((await iam.send(new GetLoginProfileCommand({ UserName: 'carol' }))).LoginProfile!.PasswordResetRequired, false);
    // The managed policy also grants reading the policy (there is none: NoSuchEntity, not AccessDenied) …
    assert.equal((await failure(asCarol.send(new GetAccountPasswordPolicyCommand({})))).name, 'NoSuchEntityException');
    // … and nothing else.
    assert.equal((await failure(asCarol.send(new GetLoginProfileCommand({})))).name, 'AccessDenied');
    // The new password is the one checked now.
    await asCarol.send(new ChangePasswordCommand({ OldPassword: 'Second-pass2', NewPassword: 'Third-pass3' }));
  });

  it('refuses a wrong old password, the same password, and one that breaks the policy', async () => {
    const asCarol = iamAs(carol);
    let f = await failure(asCarol.send(new ChangePasswordCommand({ OldPassword: 'not-my-password', NewPassword: 'Fourth-pass4' })));
    assert.deepEqual([f.name, f.message, f.status], ['AccessDenied', 'The old password was incorrect.', 403]);
    f = await failure(asCarol.send(new ChangePasswordCommand({ OldPassword: 'Third-pass3', NewPassword: 'Third-pass3' })));
    assert.deepEqual([f.name, f.message], ['PasswordPolicyViolationException', 'Policy constraint violation with password reuse prevention during password change.']);
    f = await failure(asCarol.send(new ChangePasswordCommand({ OldPassword: 'Third-pass3', NewPassword: 'short' })));
    assert.deepEqual([f.name, f.message], ['PasswordPolicyViolationException', 'Password should have a minimum length of 8']);
    await setPolicy(iam, { PasswordReusePrevention: 3 });
    f = await failure(asCarol.send(new ChangePasswordCommand({ OldPassword: 'Third-pass3', NewPassword: 'Second-pass2' })));
    assert.deepEqual([f.name, f.message], ['PasswordPolicyViolationException', 'Policy constraint violation with password reuse prevention during password change.']);
    await asCarol.send(new ChangePasswordCommand({ OldPassword: 'Third-pass3', NewPassword: 'Fourth-pass4' }));
    await setPolicy(iam, undefined);
  });

  it('a user without a password gets NoSuchEntity', async () => {
    const keyOnly = await userWithKey(iam, 'key-only');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'key-only', PolicyArn: 'arn:aws:iam::aws:policy/IAMUserChangePassword' }));
    const f = await failure(iamAs(keyOnly).send(new ChangePasswordCommand({ OldPassword: 'whatever1A', NewPassword: 'Whatever-2' })));
    assert.deepEqual([f.name, f.message, f.status], ['NoSuchEntityException', 'Login Profile for User key-only cannot be found.', 404]);
  });

  it('AllowUsersToChangePassword grants it account-wide; without it (or under an explicit deny) AccessDenied', async () => {
    const dave = await userWithKey(iam, 'dave', 'Dave-pass-1');
    const asDave = iamAs(dave);
    const daveArn = (await iam.send(new GetUserCommand({ UserName: 'dave' }))).User!.Arn!;
    await setPolicy(iam, { AllowUsersToChangePassword: false });
    let f = await failure(asDave.send(new ChangePasswordCommand({ OldPassword: 'Dave-pass-1', NewPassword: 'Dave-pass-2' })));
    assert.deepEqual(
      [f.name, f.message, f.status],
      ['AccessDenied', `User: ${daveArn} is not authorized to perform: iam:ChangePassword on resource: ${daveArn} because no identity-based policy allows the iam:ChangePassword action`, 403],
    );
    assert.equal((await failure(asDave.send(new GetAccountPasswordPolicyCommand({})))).name, 'AccessDenied');

    await setPolicy(iam, { AllowUsersToChangePassword: true });
    assert.equal((await asDave.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy!.AllowUsersToChangePassword, true);
    await asDave.send(new ChangePasswordCommand({ OldPassword: 'Dave-pass-1', NewPassword: 'Dave-pass-2' }));
    // The grant is only for these two actions.
    assert.equal((await failure(asDave.send(new GetLoginProfileCommand({})))).name, 'AccessDenied');

    await iam.send(new PutUserPolicyCommand({ UserName: 'dave', PolicyName: 'no-change', PolicyDocument: doc([{ Effect: 'Deny', Action: 'iam:ChangePassword', Resource: '*' }]) }));
    f = await failure(asDave.send(new ChangePasswordCommand({ OldPassword: 'Dave-pass-2', NewPassword: 'Dave-pass-3' })));
    assert.equal(f.name, 'AccessDenied');
    assert.match(f.message, /with an explicit deny in an identity-based policy/);
    await setPolicy(iam, undefined);
  });

  it('the root and role sessions get InvalidUserType', async () => {
    let f = await failure(iam.send(new ChangePasswordCommand({ OldPassword: 'Root-pass-1', NewPassword: 'Root-pass-2' })));
    assert.deepEqual([f.name, f.message, f.status], ['InvalidUserTypeException', 'Only IAM Users can change their own password.', 400]);
    const carolArn = (await iam.send(new GetUserCommand({ UserName: 'carol' }))).User!.Arn!;
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: 'password-changer', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: carolArn }, Action: 'sts:AssumeRole' }]) }),
    );
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: carol });
    clients.push(sts);
    const s = (await sts.send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'session' }))).Credentials!;
    const session = iamAs({ accessKeyId: s.AccessKeyId!, secretAccessKey: s.SecretAccessKey!, sessionToken: s.SessionToken! });
    f = await failure(session.send(new ChangePasswordCommand({ OldPassword: 'Fourth-pass4', NewPassword: 'Fifth-pass5' })));
    assert.deepEqual([f.name, f.status], ['InvalidUserTypeException', 400]);
  });
});

describe('credential report', () => {
  it('has the root first, then each user, column by column', async () => {
    await setPolicy(iam, { MaxPasswordAge: 90 });
    const frank = await userWithKey(iam, 'frank', 'Frank-pass-1', '/team/');
    const second = await iam.send(new CreateAccessKeyCommand({ UserName: 'frank' }));
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'frank', AccessKeyId: second.AccessKey!.AccessKeyId!, Status: 'Inactive' }));
    await iam.send(new CreateUserCommand({ UserName: 'plain' }));
    // A call signed with frank's first key (what GetAccessKeyLastUsed and the report record).
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: frank });
    clients.push(sts);
    await sts.send(new GetCallerIdentityCommand({}));

    const t0 = Date.now();
    const g1 = await iam.send(new GenerateCredentialReportCommand({}));
    assert.deepEqual([g1.State, g1.Description], ['STARTED', 'No report exists. Starting a new report generation task']);
    // Within four hours the report is kept.
    const g2 = await iam.send(new GenerateCredentialReportCommand({}));
    assert.deepEqual([g2.State, g2.Description], ['COMPLETE', undefined]);

    const r = await iam.send(new GetCredentialReportCommand({}));
    assert.equal(r.ReportFormat, 'text/csv');
    assert.ok(Math.abs(r.GeneratedTime!.getTime() - t0) < 60_000);
    const csv = Buffer.from(r.Content!).toString('utf8');
    const rows = reportRecords(csv);
    assert.equal([...rows.keys()][0], '<root_account>');

    const root = rows.get('<root_account>')!;
    assert.match(root.user_creation_time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    assert.deepEqual(root, {
      user: '<root_account>',
      arn: `arn:aws:iam::${accountId}:root`,
      user_creation_time: root.user_creation_time,
      password_enabled: 'not_supported',
      password_last_used: 'no_information',
      password_last_changed: 'not_supported',
      password_next_rotation: 'not_supported',
      mfa_active: 'false',
      // The root signs with its configured access key.
      access_key_1_active: 'true',
      access_key_1_last_rotated: root.user_creation_time,
      access_key_1_last_used_date: 'N/A',
      access_key_1_last_used_region: 'N/A',
      access_key_1_last_used_service: 'N/A',
      access_key_2_active: 'false',
      access_key_2_last_rotated: 'N/A',
      access_key_2_last_used_date: 'N/A',
      access_key_2_last_used_region: 'N/A',
      access_key_2_last_used_service: 'N/A',
      cert_1_active: 'false',
      cert_1_last_rotated: 'N/A',
      cert_2_active: 'false',
      cert_2_last_rotated: 'N/A',
    });

    const user = (await iam.send(new GetUserCommand({ UserName: 'frank' }))).User!;
    const profile = (await iam.send(new GetLoginProfileCommand({ UserName: 'frank' }))).LoginProfile!;
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'frank' }))).AccessKeyMetadata!;
    const key1 = keys.find((k) => k.AccessKeyId === frank.accessKeyId)!;
    const key2 = keys.find((k) => k.AccessKeyId === second.AccessKey!.AccessKeyId)!;
    const used = async (id: string) => {
      const u = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }))).AccessKeyLastUsed!;
      return u.LastUsedDate ? [reportTime(u.LastUsedDate), u.Region!, u.ServiceName!] : ['N/A', 'N/A', 'N/A'];
    };
    const [used1, used2] = [await used(key1.AccessKeyId!), await used(key2.AccessKeyId!)];
    const f = rows.get('frank')!;
    assert.deepEqual(f, {
      user: 'frank',
      arn: `arn:aws:iam::${accountId}:user/team/frank`,
      user_creation_time: reportTime(user.CreateDate!),
      password_enabled: 'true',
      password_last_used: 'no_information',
      password_last_changed: reportTime(profile.CreateDate!),
      password_next_rotation: reportTime(new Date(profile.CreateDate!.getTime() + 90 * DAY)),
      mfa_active: 'false',
      access_key_1_active: 'true',
      access_key_1_last_rotated: reportTime(key1.CreateDate!),
      access_key_1_last_used_date: used1[0],
      access_key_1_last_used_region: used1[1],
      access_key_1_last_used_service: used1[2],
      access_key_2_active: 'false',
      access_key_2_last_rotated: reportTime(key2.CreateDate!),
      access_key_2_last_used_date: used2[0],
      access_key_2_last_used_region: used2[1],
      access_key_2_last_used_service: used2[2],
      cert_1_active: 'false',
      cert_1_last_rotated: 'N/A',
      cert_2_active: 'false',
      cert_2_last_rotated: 'N/A',
    });

    const plainUser = (await iam.send(new GetUserCommand({ UserName: 'plain' }))).User!;
    assert.deepEqual(rows.get('plain'), {
      user: 'plain',
      arn: plainUser.Arn,
      user_creation_time: reportTime(plainUser.CreateDate!),
      password_enabled: 'false',
      password_last_used: 'N/A',
      password_last_changed: 'N/A',
      password_next_rotation: 'N/A',
      mfa_active: 'false',
      access_key_1_active: 'false',
      access_key_1_last_rotated: 'N/A',
      access_key_1_last_used_date: 'N/A',
      access_key_1_last_used_region: 'N/A',
      access_key_1_last_used_service: 'N/A',
      access_key_2_active: 'false',
      access_key_2_last_rotated: 'N/A',
      access_key_2_last_used_date: 'N/A',
      access_key_2_last_used_region: 'N/A',
      access_key_2_last_used_service: 'N/A',
      cert_1_active: 'false',
      cert_1_last_rotated: 'N/A',
      cert_2_active: 'false',
      cert_2_last_rotated: 'N/A',
    });
    // Users come after the root in name order.
    const names = [...rows.keys()].slice(1);
    assert.deepEqual(names, [...names].sort());
    await setPolicy(iam, undefined);
  });
});

describe('password expiry (the server clock moved with NIMBUS_CLOCK_OFFSET_MS)', () => {
  it('MaxPasswordAge with HardExpiry: the password expires; the user can still change it through the API', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-expiry-'));
    const servers: TestServer[] = [];
    const start = async (offsetMs: number) => {
      const s = await startServer({ dataDir, env: { NIMBUS_CLOCK_OFFSET_MS: String(offsetMs) } });
      servers.push(s);
      return { s, root: iamAs(CREDENTIALS, s.url, offsetMs) };
    };
    try {
      let { s, root } = await start(0);
      await setPolicy(root, { MaxPasswordAge: 30, HardExpiry: true, AllowUsersToChangePassword: true });
      const erin = await userWithKey(root, 'erin', 'Erin-pass-1');
      const changed = (await root.send(new GetLoginProfileCommand({ UserName: 'erin' }))).LoginProfile!.CreateDate!;
      await s.stop();

      // 31 days later: past MaxPasswordAge. Clients sign with the same skew.
      const later = 31 * DAY;
      ({ s, root } = await start(later));
      // The server's Date header follows its clock, so even a client on the wall clock
      // gets through: the SDK corrects its skew from Date after RequestTimeTooSkewed.
      const wall = iamAs(CREDENTIALS, s.url);
      assert.equal((await wall.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy!.MaxPasswordAge, 30);
      assert.ok(Math.abs(wall.config.systemClockOffset! - later) < 60_000);
      // The four-hour-old rule: no report yet, so one is made.
      assert.equal((await root.send(new GenerateCredentialReportCommand({}))).State, 'STARTED');
      let report = await root.send(new GetCredentialReportCommand({}));
      assert.ok(Math.abs(report.GeneratedTime!.getTime() - (Date.now() + later)) < 60_000);
      let row = reportRecords(Buffer.from(report.Content!).toString('utf8')).get('erin')!;
      const rotation = new Date(changed.getTime() + 30 * DAY);
      assert.equal(row.password_next_rotation, reportTime(rotation));
      assert.ok(report.GeneratedTime!.getTime() > rotation.getTime(), 'the password has expired');

      // HardExpiry binds the console only: with iam:ChangePassword and a key, the API still works.
      const asErin = iamAs(erin, s.url, later);
      await asErin.send(new ChangePasswordCommand({ OldPassword: 'Erin-pass-1', NewPassword: 'Erin-pass-2' }));
      await s.stop();

      // Five hours on, a new report (the last is older than four hours) shows the new deadline.
      const evenLater = later + 5 * 3600_000;
      ({ s, root } = await start(evenLater));
      const g = await root.send(new GenerateCredentialReportCommand({}));
      assert.deepEqual([g.State, g.Description], ['STARTED', undefined]);
      report = await root.send(new GetCredentialReportCommand({}));
      row = reportRecords(Buffer.from(report.Content!).toString('utf8')).get('erin')!;
      const lastChanged = Date.parse(row.password_last_changed!);
      assert.ok(Math.abs(lastChanged - (Date.now() + later)) < 5 * 60_000, `password_last_changed ${row.password_last_changed} is when erin changed it`);
      assert.equal(row.password_next_rotation, reportTime(new Date(lastChanged + 30 * DAY)));
      assert.ok(Date.parse(row.password_next_rotation!) > report.GeneratedTime!.getTime(), 'the new password has not expired');
    } finally {
      for (const s of servers) await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('AWS CLI', () => {
  it('update/get-account-password-policy and generate/get-credential-report', async () => {
    requireAwsCli();
    // A server of its own: the report is account-wide and kept for four hours.
    const s = await startServer();
    try {
      aws(s.url, ['iam', 'update-account-password-policy', '--minimum-password-length', '12', '--require-numbers', '--require-symbols', '--max-password-age', '60', '--password-reuse-prevention', '5', '--allow-users-to-change-password']);
      const policy = JSON.parse(aws(s.url, ['iam', 'get-account-password-policy', '--output', 'json']));
      assert.deepEqual(policy, {
        PasswordPolicy: {
          MinimumPasswordLength: 12,
          RequireSymbols: true,
          RequireNumbers: true,
          RequireUppercaseCharacters: false,
          RequireLowercaseCharacters: false,
          AllowUsersToChangePassword: true,
          ExpirePasswords: true,
          MaxPasswordAge: 60,
          PasswordReusePrevention: 5,
        },
      });
      aws(s.url, ['iam', 'create-user', '--user-name', 'cli-user']);
      aws(s.url, ['iam', 'create-login-profile', '--user-name', 'cli-user', '--password', 'Cli-password-1']);
      const g = JSON.parse(aws(s.url, ['iam', 'generate-credential-report', '--output', 'json']));
      assert.deepEqual(g, { State: 'STARTED', Description: 'No report exists. Starting a new report generation task' });
      assert.deepEqual(JSON.parse(aws(s.url, ['iam', 'generate-credential-report', '--output', 'json'])), { State: 'COMPLETE' });
      const r = JSON.parse(aws(s.url, ['iam', 'get-credential-report', '--output', 'json']));
      assert.equal(r.ReportFormat, 'text/csv');
      assert.ok(Math.abs(Date.parse(r.GeneratedTime) - Date.now()) < 60_000);
      const rows = reportRecords(Buffer.from(r.Content, 'base64').toString('utf8'));
      assert.deepEqual([...rows.keys()], ['<root_account>', 'cli-user']);
      const u = rows.get('cli-user')!;
      assert.equal(u.password_enabled, 'true');
      assert.equal(u.password_next_rotation, reportTime(new Date(Date.parse(u.password_last_changed!) + 60 * DAY)));
      assert.equal(u.access_key_1_active, 'false');
    } finally {
      await s.dispose();
    }
  });
});
