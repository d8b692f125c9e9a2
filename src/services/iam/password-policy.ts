import type { RequestContext } from '../../server/context.js';
import type { OperationImpl } from '../types.js';
import type { NamedPolicy } from '../../iam/engine/types.js';
import { evaluate } from '../../iam/engine/evaluate.js';
import { principalForEngine, requestContextKeys } from '../../server/authorize.js';
import { isServiceError } from '../../protocol/errors.js';
import { IamErrors } from './errors.js';
import { account, iam, isoNow } from './common.js';
import type { AccountDoc, IamState, IamTx, PasswordPolicy } from './state.js';
import { op } from './table.js';

/**
 * The account password policy (UpdateAccountPasswordPolicy, GetAccountPasswordPolicy,
 * DeleteAccountPasswordPolicy) and the rules every new IAM user password must meet.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html
 */
type Input = Record<string, any>;

/** The symbols that count as one for RequireSymbols and for the default policy. */
export const PASSWORD_SYMBOLS = "!@#$%^&*()_+-=[]{}|'";

const DAY_MS = 86_400_000;

/** The account's custom password policy, if one is set. */
export function accountPasswordPolicy(state: IamState): PasswordPolicy | undefined {
  return state.get('account', 'settings')?.PasswordPolicy;
}

/** The account settings document inside a transaction, created (with its CreateDate) on first use. */
export async function loadSettings(tx: IamTx, state: IamState): Promise<AccountDoc> {
  const doc = (await tx.get('account', 'settings')) ?? { Aliases: [] };
  if (doc.CreateDate) return doc;
  // Nimbus keeps no account-creation time; the oldest IAM entity (or now, for a fresh
  // account) stands in for it, and is kept so the root's row stays stable.
  const dates = [...state.list('user'), ...state.list('group'), ...state.list('role'), ...state.list('policy')].map((e) => e.CreateDate);
  return { ...doc, CreateDate: dates.sort()[0] ?? isoNow() };
}

/** When a password set at `lastChanged` expires under the policy (MaxPasswordAge), if it does. */
export function passwordExpiry(lastChanged: string, policy: PasswordPolicy | undefined): Date | undefined {
  return policy?.MaxPasswordAge ? new Date(Date.parse(lastChanged) + policy.MaxPasswordAge * DAY_MS) : undefined;
}

const RULES = {
  uppercase: { test: (p: string) => /[A-Z]/.test(p), message: 'Password should have at least one uppercase letter' },
  lowercase: { test: (p: string) => /[a-z]/.test(p), message: 'Password should have at least one lowercase letter' },
  number: { test: (p: string) => /[0-9]/.test(p), message: 'Password should have at least one number' },
  symbol: { test: (p: string) => [...p].some((c) => PASSWORD_SYMBOLS.includes(c)), message: 'Password should have at least one symbol' },
};

/**
 * Why a password does not meet the account's policy, in AWS's words; undefined when it does.
 * Without a custom policy AWS's default one applies: at least 8 characters and three of
 * the four character types ("Password should meet 1 more of the following requirements: …").
 * (The default policy's "not identical to the account name or email" has nothing to
 * compare with in Nimbus.)
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html#default-policy-details
 */
export function passwordViolation(password: string, policy: PasswordPolicy | undefined): string | undefined {
  if (!policy) {
    if (password.length < 8) return 'Password should have a minimum length of 8';
    const missing = Object.values(RULES).filter((r) => !r.test(password));
    if (missing.length > 1) return `Password should meet ${missing.length - 1} more of the following requirements: ${missing.map((r) => r.message).join(', ')}`;
    return undefined;
  }
  const failed: string[] = [];
  if (password.length < policy.MinimumPasswordLength) failed.push(`Password should have a minimum length of ${policy.MinimumPasswordLength}`);
  if (policy.RequireUppercaseCharacters && !RULES.uppercase.test(password)) failed.push(RULES.uppercase.message);
  if (policy.RequireLowercaseCharacters && !RULES.lowercase.test(password)) failed.push(RULES.lowercase.message);
  if (policy.RequireNumbers && !RULES.number.test(password)) failed.push(RULES.number.message);
  if (policy.RequireSymbols && !RULES.symbol.test(password)) failed.push(RULES.symbol.message);
  return failed.length ? failed.join(', ') : undefined;
}

/** Throws PasswordPolicyViolation unless the password meets the account's policy. */
export function enforcePasswordPolicy(ctx: RequestContext, password: string): void {
  const why = passwordViolation(password, accountPasswordPolicy(iam(ctx)));
  if (why) throw IamErrors.PasswordPolicyViolation({ message: why });
}

/**
 * Authorizes `action` like the pipeline does, plus the grant AllowUsersToChangePassword
 * makes: IAM applies, account-wide and without attaching a policy, iam:ChangePassword on
 * the user itself and iam:GetAccountPasswordPolicy to every IAM user. Explicit denies and
 * permissions boundaries still apply to it.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html
 */
export async function authorizeWithAccountGrant(ctx: RequestContext, action: string, resource: string): Promise<void> {
  try {
    await ctx.authorize(action, resource);
  } catch (e) {
    const p = ctx.principal;
    const state = iam(ctx);
    const user = p?.type === 'user' ? state.get('user', p.name!) : undefined;
    if (!isServiceError(e) || e.code !== 'AccessDenied' || !p || !user || !accountPasswordPolicy(state)?.AllowUsersToChangePassword) throw e;
    const grant: NamedPolicy = {
      id: 'account-password-policy/AllowUsersToChangePassword',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iam:ChangePassword', Resource: user.Arn },
          { Effect: 'Allow', Action: 'iam:GetAccountPasswordPolicy', Resource: '*' },
        ],
      },
    };
    const set = state.policiesFor(p);
    const result = evaluate({ principal: principalForEngine(p), action, resource, context: requestContextKeys(ctx) }, { ...set, identity: [...set.identity, grant] });
    if (result.decision !== 'allowed') throw e;
  }
}

function checkRange(errors: string[], name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (value < min) errors.push(`Value '${value}' at '${name}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  else if (value > max) errors.push(`Value '${value}' at '${name}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
}

/**
 * Not a partial update: every parameter left out takes its default (length 6, no
 * character requirements, no expiry, no reuse prevention, users may not change their
 * own password). The defaults cannot be sent explicitly: MaxPasswordAge 0 is out of range.
 */
export async function updateAccountPasswordPolicy(input: Input, ctx: RequestContext) {
  const errors: string[] = [];
  checkRange(errors, 'minimumPasswordLength', input.MinimumPasswordLength, 6, 128);
  checkRange(errors, 'maxPasswordAge', input.MaxPasswordAge, 1, 1095);
  checkRange(errors, 'passwordReusePrevention', input.PasswordReusePrevention, 1, 24);
  if (errors.length) {
    throw IamErrors.ValidationError({ message: `${errors.length} validation error${errors.length > 1 ? 's' : ''} detected: ${errors.join('; ')}` });
  }
  const policy: PasswordPolicy = {
    MinimumPasswordLength: input.MinimumPasswordLength ?? 6,
    RequireSymbols: input.RequireSymbols ?? false,
    RequireNumbers: input.RequireNumbers ?? false,
    RequireUppercaseCharacters: input.RequireUppercaseCharacters ?? false,
    RequireLowercaseCharacters: input.RequireLowercaseCharacters ?? false,
    AllowUsersToChangePassword: input.AllowUsersToChangePassword ?? false,
    MaxPasswordAge: input.MaxPasswordAge,
    PasswordReusePrevention: input.PasswordReusePrevention,
    HardExpiry: input.HardExpiry,
  };
  const state = iam(ctx);
  await state.write(async (tx) => {
    const doc = await loadSettings(tx, state);
    await tx.put('account', 'settings', { ...doc, PasswordPolicy: policy });
  });
  return {};
}

export async function getAccountPasswordPolicy(_input: Input, ctx: RequestContext) {
  await authorizeWithAccountGrant(ctx, 'iam:GetAccountPasswordPolicy', '*');
  const p = accountPasswordPolicy(iam(ctx));
  if (!p) throw IamErrors.NoSuchEntity({ message: `The Password Policy with domain name ${account(ctx)} cannot be found.` });
  return {
    PasswordPolicy: {
      MinimumPasswordLength: p.MinimumPasswordLength,
      RequireSymbols: p.RequireSymbols,
      RequireNumbers: p.RequireNumbers,
      RequireUppercaseCharacters: p.RequireUppercaseCharacters,
      RequireLowercaseCharacters: p.RequireLowercaseCharacters,
      AllowUsersToChangePassword: p.AllowUsersToChangePassword,
      // "true if MaxPasswordAge contains a value greater than 0".
      ExpirePasswords: (p.MaxPasswordAge ?? 0) > 0,
      MaxPasswordAge: p.MaxPasswordAge,
      PasswordReusePrevention: p.PasswordReusePrevention,
      HardExpiry: p.HardExpiry,
    },
  };
}

export async function deleteAccountPasswordPolicy(_input: Input, ctx: RequestContext) {
  const state = iam(ctx);
  await state.write(async (tx) => {
    const doc = await tx.get('account', 'settings');
    if (!doc?.PasswordPolicy) throw IamErrors.NoSuchEntity({ message: 'The account policy with name PasswordPolicy cannot be found.' });
    const { PasswordPolicy: _removed, ...rest } = doc;
    await tx.put('account', 'settings', rest);
  });
  return {};
}

export const passwordPolicyOperations: Record<string, OperationImpl> = {
  UpdateAccountPasswordPolicy: op(updateAccountPasswordPolicy, 'UpdateAccountPasswordPolicy'),
  // Self-authorized: AllowUsersToChangePassword grants it to every user (see authorizeWithAccountGrant).
  GetAccountPasswordPolicy: { ...op(getAccountPasswordPolicy, 'GetAccountPasswordPolicy'), selfAuthorized: true },
  DeleteAccountPasswordPolicy: op(deleteAccountPasswordPolicy, 'DeleteAccountPasswordPolicy'),
};
