import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { OperationImpl } from '../types.js';
import { now } from '../../util/clock.js';
import { IamErrors } from './errors.js';
import { checkName, iam, isoNow } from './common.js';
import type { IamState, LoginProfileDoc, UserDoc } from './state.js';
import { requireUser } from './users.js';
import { arn, op } from './table.js';
import { accountPasswordPolicy, authorizeWithAccountGrant, enforcePasswordPolicy, passwordExpiry } from './password-policy.js';

/**
 * Console passwords: login profiles (Create/Get/Update/DeleteLoginProfile) and
 * ChangePassword, which an IAM user calls for itself. Passwords are kept only as salted
 * scrypt hashes, with the earlier ones for PasswordReusePrevention.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_admin-change-user.html
 */
type Input = Record<string, any>;

// scrypt with N=2^14, r=8, p=1 (the node default, ~16 MiB and tens of ms per hash).
const SCRYPT: ScryptOptions = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;
/** AWS's largest PasswordReusePrevention: the history never needs more. */
const HISTORY = 24;

function scryptHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, KEY_LENGTH, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

/** "salt:hash", both hex. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${(await scryptHash(password, salt)).toString('hex')}`;
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [salt, hash] = stored.split(':');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'hex');
  const actual = await scryptHash(password, Buffer.from(salt, 'hex'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** AWS's message when a new password is one of the last PasswordReusePrevention ones. */
const REUSE = 'Policy constraint violation with password reuse prevention during password change.';

/** The model's constraints on a password member (1–128 characters, tab/LF/CR and U+0020–U+00FF). */
function checkPassword(value: unknown, member: string): string {
  const fail = (v: string, constraint: string) => IamErrors.ValidationError({ message: `1 validation error detected: Value ${v} at '${member}' failed to satisfy constraint: ${constraint}` });
  // The value is not echoed back: it is a password.
  if (typeof value !== 'string') throw fail('null', 'Member must not be null');
  if (value.length < 1) throw fail("'*'", 'Member must have length greater than or equal to 1');
  if (value.length > 128) throw fail("'*'", 'Member must have length less than or equal to 128');
  if (!/^[\t\n\r\u0020-\u00ff]+$/.test(value)) throw fail("'*'", 'Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+');
  return value;
}

function profileOut(p: LoginProfileDoc) {
  return { UserName: p.UserName, CreateDate: new Date(p.CreateDate), PasswordResetRequired: p.PasswordResetRequired };
}

function noProfile(userName: string) {
  return IamErrors.NoSuchEntity({ message: `Login Profile for User ${userName} cannot be found.` });
}

function requireProfile(ctx: RequestContext, user: UserDoc): LoginProfileDoc {
  const p = iam(ctx).get('loginprofile', user.UserName);
  if (!p) throw noProfile(user.UserName);
  return p;
}

/** The user a request is about: the named one, or (for an IAM user) the caller itself. */
function subjectUser(ctx: RequestContext, name: string | undefined): UserDoc {
  if (name !== undefined) return requireUser(ctx, checkName(name, 'userName'));
  const p = ctx.principal!;
  if (p.type === 'user') return requireUser(ctx, p.name!);
  throw IamErrors.ValidationError({ message: 'Must specify userName when calling with non-User credentials' });
}

/** Throws PasswordPolicyViolation if `password` is the current one or among the last N (N = PasswordReusePrevention). */
async function enforceReusePrevention(ctx: RequestContext, profile: LoginProfileDoc, password: string): Promise<void> {
  const n = accountPasswordPolicy(iam(ctx))?.PasswordReusePrevention ?? 0;
  if (n <= 0) return;
  const recent = [profile.PasswordHash, ...profile.PreviousPasswordHashes].slice(0, n);
  const matches = await Promise.all(recent.map((h) => passwordMatches(password, h)));
  if (matches.some(Boolean)) throw IamErrors.PasswordPolicyViolation({ message: REUSE });
}

/** The profile after a password change: the old hash moves into the history. */
function withNewPassword(p: LoginProfileDoc, hash: string, resetRequired: boolean): LoginProfileDoc {
  return {
    ...p,
    PasswordHash: hash,
    PasswordLastChanged: isoNow(),
    PreviousPasswordHashes: [p.PasswordHash, ...p.PreviousPasswordHashes].slice(0, HISTORY),
    PasswordResetRequired: resetRequired,
  };
}

export async function createLoginProfile(input: Input, ctx: RequestContext) {
  const user = subjectUser(ctx, input.UserName);
  if (iam(ctx).get('loginprofile', user.UserName)) throw IamErrors.EntityAlreadyExists({ message: `Login Profile for user ${user.UserName} already exists.` });
  const password = checkPassword(input.Password, 'password');
  enforcePasswordPolicy(ctx, password);
  const created = isoNow();
  const profile: LoginProfileDoc = {
    UserName: user.UserName,
    CreateDate: created,
    PasswordHash: await hashPassword(password),
    PasswordResetRequired: input.PasswordResetRequired ?? false,
    PasswordLastChanged: created,
    PreviousPasswordHashes: [],
  };
  await iam(ctx).write(async (tx) => {
    if (!(await tx.get('user', user.UserName))) throw IamErrors.NoSuchEntity({ message: `The user with name ${user.UserName} cannot be found.` });
    if (await tx.get('loginprofile', user.UserName)) throw IamErrors.EntityAlreadyExists({ message: `Login Profile for user ${user.UserName} already exists.` });
    await tx.put('loginprofile', user.UserName, profile);
  });
  return { LoginProfile: profileOut(profile) };
}

export function getLoginProfile(input: Input, ctx: RequestContext) {
  return { LoginProfile: profileOut(requireProfile(ctx, subjectUser(ctx, input.UserName))) };
}

/** An administrator's reset: a new password (policy and reuse prevention apply) and/or PasswordResetRequired. */
export async function updateLoginProfile(input: Input, ctx: RequestContext) {
  const user = requireUser(ctx, checkName(input.UserName, 'userName'));
  const profile = requireProfile(ctx, user);
  let hash: string | undefined;
  if (input.Password !== undefined) {
    const password = checkPassword(input.Password, 'password');
    enforcePasswordPolicy(ctx, password);
    await enforceReusePrevention(ctx, profile, password);
    hash = await hashPassword(password);
  }
  await iam(ctx).write(async (tx) => {
    const current = await tx.get('loginprofile', user.UserName);
    if (!current) throw noProfile(user.UserName);
    const resetRequired: boolean = input.PasswordResetRequired ?? current.PasswordResetRequired;
    await tx.put('loginprofile', user.UserName, hash ? withNewPassword(current, hash, resetRequired) : { ...current, PasswordResetRequired: resetRequired });
  });
  return {};
}

export async function deleteLoginProfile(input: Input, ctx: RequestContext) {
  const user = subjectUser(ctx, input.UserName);
  requireProfile(ctx, user);
  await iam(ctx).write(async (tx) => {
    if (!(await tx.get('loginprofile', user.UserName))) throw noProfile(user.UserName);
    await tx.delete('loginprofile', user.UserName);
  });
  return {};
}

/**
 * An IAM user changes its own password. Only IAM users may (the root and role sessions get
 * InvalidUserType); it needs iam:ChangePassword on the user's own ARN, from a policy such
 * as IAMUserChangePassword or from the account's AllowUsersToChangePassword. A wrong old
 * password is AccessDenied. An expired password can be changed here even under
 * HardExpiry: that setting only stops the console from letting the user set one ("IAM
 * users with iam:ChangePassword permission and active access keys can reset their own
 * expired console password using the CLI or API").
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_ChangePassword.html
 */
export async function changePassword(input: Input, ctx: RequestContext) {
  const p = ctx.principal!;
  if (p.type !== 'user') throw IamErrors.InvalidUserType({ message: 'Only IAM Users can change their own password.' });
  const oldPassword = checkPassword(input.OldPassword, 'oldPassword');
  const newPassword = checkPassword(input.NewPassword, 'newPassword');
  const user = requireUser(ctx, p.name!);
  await authorizeWithAccountGrant(ctx, 'iam:ChangePassword', user.Arn);
  const profile = requireProfile(ctx, user);
  if (!(await passwordMatches(oldPassword, profile.PasswordHash))) throw IamErrors.AccessDenied({ message: 'The old password was incorrect.' });
  if (newPassword === oldPassword) throw IamErrors.PasswordPolicyViolation({ message: REUSE });
  enforcePasswordPolicy(ctx, newPassword);
  await enforceReusePrevention(ctx, profile, newPassword);
  const hash = await hashPassword(newPassword);
  await iam(ctx).write(async (tx) => {
    const current = await tx.get('loginprofile', user.UserName);
    if (!current) throw noProfile(user.UserName);
    // Setting a new password satisfies a pending PasswordResetRequired.
    await tx.put('loginprofile', user.UserName, withNewPassword(current, hash, false));
  });
  return {};
}

/** The outcome of checking a console password (for a sign-in page). */
export type PasswordCheck =
  | { ok: false; reason: 'NoSuchUser' | 'NoPassword' | 'WrongPassword' }
  | {
      ok: true;
      user: UserDoc;
      /** An administrator asked for a new password at next sign-in. */
      passwordResetRequired: boolean;
      /** Older than the policy's MaxPasswordAge: the user must set a new password first. */
      expired: boolean;
      /** Expired under HardExpiry: the user may not set one; an administrator must reset it. */
      hardExpired: boolean;
      /** When the password expires (MaxPasswordAge), if it does. */
      expiresAt?: Date;
    };

/**
 * Checks a user's console password, for a future console sign-in. Changes nothing; a
 * successful sign-in should then call notePasswordUse. Expiry is immediate when a policy
 * sets MaxPasswordAge, also for passwords set before it.
 */
export async function verifyPassword(state: IamState, userName: string, password: string): Promise<PasswordCheck> {
  const user = state.get('user', userName);
  if (!user) return { ok: false, reason: 'NoSuchUser' };
  const profile = state.get('loginprofile', user.UserName);
  if (!profile) return { ok: false, reason: 'NoPassword' };
  if (!(await passwordMatches(password, profile.PasswordHash))) return { ok: false, reason: 'WrongPassword' };
  const policy = accountPasswordPolicy(state);
  const expiresAt = passwordExpiry(profile.PasswordLastChanged, policy);
  const expired = expiresAt !== undefined && now() >= expiresAt.getTime();
  return { ok: true, user, passwordResetRequired: profile.PasswordResetRequired, expired, hardExpired: expired && policy?.HardExpiry === true, expiresAt };
}

/** Records a console sign-in with the password (the credential report's password_last_used). */
export async function notePasswordUse(state: IamState, userName: string): Promise<void> {
  await state.write(async (tx) => {
    const p = await tx.get('loginprofile', userName);
    if (p) await tx.put('loginprofile', userName, { ...p, PasswordLastUsed: isoNow() });
  });
}

export const loginOperations: Record<string, OperationImpl> = {
  CreateLoginProfile: op(createLoginProfile, 'CreateLoginProfile', arn.user),
  GetLoginProfile: op(getLoginProfile, 'GetLoginProfile', arn.user),
  UpdateLoginProfile: op(updateLoginProfile, 'UpdateLoginProfile', arn.user),
  DeleteLoginProfile: op(deleteLoginProfile, 'DeleteLoginProfile', arn.user),
  // Self-authorized: only users may call it, and AllowUsersToChangePassword grants it account-wide.
  ChangePassword: { ...op(changePassword, 'ChangePassword', arn.user), selfAuthorized: true },
};
