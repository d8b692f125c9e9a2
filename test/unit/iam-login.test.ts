import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/storage/sqlite.js';
import { IamState, type PasswordPolicy, type UserDoc } from '../../src/services/iam/state.js';
import { hashPassword, notePasswordUse, passwordMatches, verifyPassword } from '../../src/services/iam/login.js';
import { passwordViolation } from '../../src/services/iam/password-policy.js';
import { setClockOffset } from '../../src/util/clock.js';

/**
 * verifyPassword, what a console sign-in will call: the password check itself and the
 * expiry rules (MaxPasswordAge, HardExpiry, PasswordResetRequired), with time moved
 * through the injectable clock.
 */
const DAY = 86_400_000;
let dir: string;
let store: SqliteMetadataStore;
let state: IamState;

const basePolicy: PasswordPolicy = {
  MinimumPasswordLength: 6,
  RequireSymbols: false,
  RequireNumbers: false,
  RequireUppercaseCharacters: false,
  RequireLowercaseCharacters: false,
  AllowUsersToChangePassword: false,
};

async function setPolicy(p: PasswordPolicy | undefined): Promise<void> {
  await state.write(async (tx) => {
    const doc = (await tx.get('account', 'settings')) ?? { Aliases: [] };
    await tx.put('account', 'settings', { ...doc, PasswordPolicy: p });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimbus-login-unit-'));
  store = new SqliteMetadataStore(dir);
  state = new IamState(store, '123456789012');
  await state.load();
  const user: UserDoc = {
    UserName: 'ana',
    UserId: 'AIDAEXAMPLE',
    Arn: 'arn:aws:iam::123456789012:user/ana',
    Path: '/',
    CreateDate: '2024-01-01T00:00:00Z',
    Tags: [],
    Groups: [],
    AttachedPolicies: [],
    InlinePolicies: {},
  };
  const changed = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await state.write(async (tx) => {
    await tx.put('user', 'ana', user);
    await tx.put('user', 'no-password', { ...user, UserName: 'no-password', Arn: 'arn:aws:iam::123456789012:user/no-password' });
    await tx.put('loginprofile', 'ana', {
      UserName: 'ana',
      CreateDate: changed,
      PasswordHash: await hashPassword('Correct-horse-1'),
      PasswordResetRequired: true,
      PasswordLastChanged: changed,
      PreviousPasswordHashes: [],
    });
  });
});

afterEach(() => setClockOffset(0));

after(async () => {
  setClockOffset(0);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('password hashes', () => {
  it('are salted scrypt, never the password, and verify only the right one', async () => {
    const a = await hashPassword('same-password');
    const b = await hashPassword('same-password');
    assert.notEqual(a, b, 'each hash has its own salt');
    assert.match(a, /^[0-9a-f]{32}:[0-9a-f]{64}$/);
    assert.equal(a.includes('same-password'), false);
    assert.equal(await passwordMatches('same-password', a), true);
    assert.equal(await passwordMatches('same-passworD', a), false);
    assert.equal(await passwordMatches('same-password', 'garbage'), false);
  });
});

describe('verifyPassword', () => {
  it('tells a missing user, a user without a password and a wrong password apart', async () => {
    assert.deepEqual(await verifyPassword(state, 'nobody', 'x'), { ok: false, reason: 'NoSuchUser' });
    assert.deepEqual(await verifyPassword(state, 'no-password', 'x'), { ok: false, reason: 'NoPassword' });
    assert.deepEqual(await verifyPassword(state, 'ana', 'wrong'), { ok: false, reason: 'WrongPassword' });
  });

  it('without MaxPasswordAge a password never expires; PasswordResetRequired is reported', async () => {
    await setPolicy(undefined);
    setClockOffset(3650 * DAY);
    const r = await verifyPassword(state, 'ana', 'Correct-horse-1');
    assert.equal(r.ok, true);
    if (!r.ok) return;
    assert.equal(r.user.UserName, 'ana');
    assert.equal(r.passwordResetRequired, true);
    assert.equal(r.expired, false);
    assert.equal(r.hardExpired, false);
    assert.equal(r.expiresAt, undefined);
  });

  it('MaxPasswordAge expires a password once it is older, at once also for passwords set before the policy', async () => {
    await setPolicy({ ...basePolicy, MaxPasswordAge: 30 });
    const changed = Date.parse(state.get('loginprofile', 'ana')!.PasswordLastChanged);
    let r = await verifyPassword(state, 'ana', 'Correct-horse-1');
    assert.ok(r.ok && !r.expired && !r.hardExpired);
    assert.equal(r.ok && r.expiresAt?.getTime(), changed + 30 * DAY);
    setClockOffset(29 * DAY);
    r = await verifyPassword(state, 'ana', 'Correct-horse-1');
    assert.ok(r.ok && !r.expired);
    setClockOffset(31 * DAY);
    r = await verifyPassword(state, 'ana', 'Correct-horse-1');
    // Expired without HardExpiry: the user must set a new password, and may.
    assert.ok(r.ok && r.expired && !r.hardExpired);
  });

  it('with HardExpiry an expired password needs an administrator reset', async () => {
    await setPolicy({ ...basePolicy, MaxPasswordAge: 30, HardExpiry: true });
    let r = await verifyPassword(state, 'ana', 'Correct-horse-1');
    assert.ok(r.ok && !r.expired && !r.hardExpired, 'not expired yet');
    setClockOffset(31 * DAY);
    r = await verifyPassword(state, 'ana', 'Correct-horse-1');
    assert.ok(r.ok && r.expired && r.hardExpired);
    // A wrong password stays wrong, expired or not.
    assert.deepEqual(await verifyPassword(state, 'ana', 'wrong'), { ok: false, reason: 'WrongPassword' });
  });

  it('notePasswordUse records the sign-in (password_last_used)', async () => {
    setClockOffset(DAY);
    await notePasswordUse(state, 'ana');
    const used = state.get('loginprofile', 'ana')!.PasswordLastUsed!;
    assert.ok(Math.abs(Date.parse(used) - (Date.now() + DAY)) < 5_000);
  });
});

describe('passwordViolation', () => {
  it('applies AWS default rules without a policy, and only the chosen ones with a policy', () => {
    assert.equal(passwordViolation('Abcdef1!', undefined), undefined);
    assert.equal(passwordViolation('abcdefgh1', undefined), 'Password should meet 1 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one symbol');
    assert.equal(passwordViolation('Ab1!', undefined), 'Password should have a minimum length of 8');
    assert.equal(passwordViolation('abcdef', basePolicy), undefined);
    assert.equal(passwordViolation('abcde', basePolicy), 'Password should have a minimum length of 6');
    assert.equal(passwordViolation('abcdef', { ...basePolicy, RequireUppercaseCharacters: true, RequireNumbers: true }), 'Password should have at least one uppercase letter, Password should have at least one number');
    assert.equal(passwordViolation("abcdef'", { ...basePolicy, RequireSymbols: true }), undefined);
  });
});
