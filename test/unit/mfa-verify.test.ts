import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/storage/sqlite.js';
import { IamState, type MfaDeviceDoc } from '../../src/services/iam/state.js';
import { mfaAccountName, otpauthUri, verifyMfaCode } from '../../src/services/iam/mfa.js';
import { base32Encode, timeStep, totpCode } from '../../src/util/totp.js';
import { now, setClockOffset } from '../../src/util/clock.js';

/**
 * verifyMfaCode, the check STS calls for SerialNumber + TokenCode, on a real IamState over
 * SQLite: current codes pass once, replays, other users, unassigned devices and codes off
 * the device's clock do not, and the accepted step survives a restart.
 */
const ACCOUNT = '000000000000';
const SEED = base32Encode(Buffer.from('12345678901234567890'));
let dir: string;
let store: SqliteMetadataStore;
let state: IamState;

const serial = (name: string) => `arn:aws:iam::${ACCOUNT}:mfa/${name}`;
async function putDevice(name: string, extra: Partial<MfaDeviceDoc>): Promise<string> {
  const doc: MfaDeviceDoc = { SerialNumber: serial(name), Base32StringSeed: SEED, Path: '/', CreateDate: new Date().toISOString(), Tags: [], ...extra };
  await state.write((tx) => tx.put('mfa', doc.SerialNumber, doc));
  return doc.SerialNumber;
}
const enabled = (user: string, extra: Partial<MfaDeviceDoc> = {}) => ({ UserName: user, EnableDate: new Date().toISOString(), ...extra });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimbus-mfa-'));
  store = new SqliteMetadataStore(dir);
  state = new IamState(store, ACCOUNT);
  await state.load();
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => setClockOffset(0));

describe('verifyMfaCode', () => {
  it('accepts the current code once, then refuses it (replay) but accepts the next step', async () => {
    const sn = await putDevice('alice', enabled('alice'));
    const n = timeStep(now());
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n), 'alice'), true);
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n), 'alice'), false, 'a code is accepted only once');
    assert.equal(state.get('mfa', sn)!.LastStep, n);
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n - 1), 'alice'), false, 'an earlier step than the last accepted one');
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n + 1)), true, 'the next step, without naming the user');
  });

  it('refuses codes outside ±1 step, wrong codes and malformed codes', async () => {
    const sn = await putDevice('bob', enabled('bob'));
    const n = timeStep(now());
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n + 3), 'bob'), false);
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n - 3), 'bob'), false);
    const wrong = totpCode(SEED, n) === '000000' ? '111111' : '000000';
    assert.equal(await verifyMfaCode(state, sn, wrong, 'bob'), false);
    assert.equal(await verifyMfaCode(state, sn, '12345', 'bob'), false);
    assert.equal(await verifyMfaCode(state, sn, 'abcdef', 'bob'), false);
    assert.equal(state.get('mfa', sn)!.LastStep, undefined, 'refusals record nothing');
  });

  it('refuses another user, an unassigned device and an unknown serial', async () => {
    const sn = await putDevice('carol', enabled('carol'));
    const free = await putDevice('free', {});
    const code = totpCode(SEED, timeStep(now()));
    assert.equal(await verifyMfaCode(state, sn, code, 'mallory'), false);
    assert.equal(await verifyMfaCode(state, free, code), false);
    assert.equal(await verifyMfaCode(state, serial('nope'), code), false);
    assert.equal(await verifyMfaCode(state, `arn:aws:iam::${ACCOUNT}:user/carol`, code, 'carol'), false);
  });

  it('looks for codes around the drift learnt at enable/resync time', async () => {
    const sn = await putDevice('dave', enabled('dave', { DriftSteps: 10 }));
    const n = timeStep(now());
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n - 5), 'dave'), false, 'our clock: too far from the device');
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, n + 10), 'dave'), true);
  });

  it('follows Nimbus\'s clock (util/clock), not the wall clock', async () => {
    const sn = await putDevice('erin', enabled('erin'));
    const wall = timeStep(Date.now());
    setClockOffset(10 * 60_000);
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, wall), 'erin'), false);
    assert.equal(await verifyMfaCode(state, sn, totpCode(SEED, timeStep(now())), 'erin'), true);
  });

  it('only one of two concurrent verifications of one code succeeds', async () => {
    const sn = await putDevice('frank', enabled('frank'));
    const code = totpCode(SEED, timeStep(now()));
    const results = await Promise.all([verifyMfaCode(state, sn, code, 'frank'), verifyMfaCode(state, sn, code, 'frank')]);
    assert.deepEqual(results.sort(), [false, true]);
  });

  it('the accepted step is persisted: a restarted server still refuses the replay', async () => {
    const sn = await putDevice('gina', enabled('gina'));
    const code = totpCode(SEED, timeStep(now()));
    assert.equal(await verifyMfaCode(state, sn, code, 'gina'), true);
    const reloaded = new IamState(store, ACCOUNT);
    await reloaded.load();
    assert.equal(await verifyMfaCode(reloaded, sn, code, 'gina'), false);
  });
});

describe('the otpauth URI of the QR code', () => {
  it('names the device and the account id, or the account alias once there is one', async () => {
    assert.equal(mfaAccountName(state, ACCOUNT), ACCOUNT);
    assert.equal(otpauthUri('dev', mfaAccountName(state, ACCOUNT), SEED), `otpauth://totp/dev@${ACCOUNT}?secret=${SEED}`);
    await state.write((tx) => tx.put('account', 'settings', { Aliases: ['my-alias'] }));
    assert.equal(mfaAccountName(state, ACCOUNT), 'my-alias');
    assert.equal(otpauthUri('dev', mfaAccountName(state, ACCOUNT), SEED), `otpauth://totp/dev@my-alias?secret=${SEED}`);
  });
});
