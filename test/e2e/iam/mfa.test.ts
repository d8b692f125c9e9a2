import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IAMClient,
  CreateUserCommand,
  DeleteUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  ResyncMFADeviceCommand,
  DeactivateMFADeviceCommand,
  DeleteVirtualMFADeviceCommand,
  GetMFADeviceCommand,
  ListMFADevicesCommand,
  ListVirtualMFADevicesCommand,
  TagMFADeviceCommand,
  UntagMFADeviceCommand,
  ListMFADeviceTagsCommand,
  UpdateUserCommand,
  type AssignmentStatusType,
} from '@aws-sdk/client-iam';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { awsEnv, requireAwsCli } from '../../helpers/python.js';
import { decodePng, qrModules, PNG_SIGNATURE } from '../../helpers/png.js';

/**
 * Virtual MFA devices with the AWS SDK for JavaScript v3 and the AWS CLI: the seed and QR
 * code, binding with two consecutive TOTP codes computed here from the seed, resync,
 * listing, tags, deactivation, deletion and the conflicts in between.
 */
let server: TestServer;
let iam: IAMClient;

/** The code a device with this seed shows during time step `step` (computed with otpauth, independently of Nimbus). */
const code = (seed: string, step: number) => TOTP.generate({ secret: Secret.fromBase32(seed), algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * 30_000 });
const stepNow = () => Math.floor(Date.now() / 30_000);

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const x = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: x.name, message: x.message, status: x.$metadata?.httpStatusCode };
  }
  assert.fail('expected the request to fail');
}

async function createDevice(name: string, extra: { Path?: string; Tags?: { Key: string; Value: string }[] } = {}) {
  const r = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: name, ...extra }));
  const d = r.VirtualMFADevice!;
  return { serial: d.SerialNumber!, seed: Buffer.from(d.Base32StringSeed!).toString('ascii'), png: Buffer.from(d.QRCodePNG!), tags: d.Tags };
}

/** Whether a PNG holds exactly the QR symbol of `text` (at whichever error-correction level). */
function pngEncodes(png: Buffer, text: string): boolean {
  const modules = qrModules(decodePng(png));
  return (['L', 'M', 'Q', 'H'] as const).some((level) => {
    const m = QRCode.create(text, { errorCorrectionLevel: level }).modules;
    return m.size === modules.length && modules.every((row, r) => row.every((v, c) => v === !!m.get(r, c)));
  });
}

before(async () => {
  server = await startServer();
  iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
});

after(async () => {
  iam?.destroy();
  await server?.dispose();
});

describe('virtual MFA devices (SDK v3)', () => {
  let dev1: Awaited<ReturnType<typeof createDevice>>;
  let dev2: Awaited<ReturnType<typeof createDevice>>;
  let enabledAt: number;

  it('CreateVirtualMFADevice returns the serial ARN, a Base32 seed of 160 bits and a QR code PNG of the otpauth URI', async () => {
    dev1 = await createDevice('dev1', { Tags: [{ Key: 'team', Value: 'blue' }] });
    const account = /^arn:aws:iam::(\d{12}):mfa\/dev1$/.exec(dev1.serial)?.[1];
    assert.ok(account, dev1.serial);
    assert.match(dev1.seed, /^[A-Z2-7]{32}$/);
    assert.equal(Secret.fromBase32(dev1.seed).bytes.length, 20);
    assert.deepEqual(dev1.tags, [{ Key: 'team', Value: 'blue' }]);

    assert.deepEqual(dev1.png.subarray(0, 8), PNG_SIGNATURE);
    assert.equal(dev1.png.toString('latin1', 12, 16), 'IHDR');
    const png = decodePng(dev1.png);
    assert.equal(png.width, png.height);
    assert.ok(png.width >= 100, `a scannable size (${png.width} px)`);
    assert.ok(pngEncodes(dev1.png, `otpauth://totp/dev1@${account}?secret=${dev1.seed}`), 'the PNG is the QR code of otpauth://totp/dev1@<account>?secret=<seed>');
    assert.ok(!pngEncodes(dev1.png, `otpauth://totp/dev1@${account}?secret=${'A'.repeat(32)}`), 'and of nothing else');

    dev2 = await createDevice('dev2', { Path: '/team/' });
    assert.equal(dev2.serial, `arn:aws:iam::${account}:mfa/team/dev2`);
    assert.notEqual(dev2.seed, dev1.seed);
    assert.equal(dev2.tags, undefined);
  });

  it('names are unique (whatever the case or path) and validated', async () => {
    for (const [name, path] of [['dev2', '/team/'], ['DEV2', undefined], ['dev1', '/other/']] as const) {
      const e = await failure(iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: name, Path: path })));
      assert.deepEqual([e.name, e.status], ['EntityAlreadyExistsException', 409], `${path ?? '/'}${name}`);
    }
    assert.equal((await failure(iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'bad name' })))).status, 400);
    assert.equal((await failure(iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'p', Path: 'nope' })))).status, 400);
  });

  it('EnableMFADevice refuses wrong, non-consecutive, reversed, repeated, distant and malformed codes', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const n = stepNow();
    const c = (s: number) => code(dev1.seed, n + s);
    const wrong = ['000000', '111111'].find((x) => ![-3, -2, -1, 0, 1, 2, 3].some((s) => c(s) === x))!;
    const cases: [string, string, string][] = [
      ['wrong first code', wrong, c(1)],
      ['wrong second code', c(0), wrong],
      ['not consecutive', c(0), c(2)],
      ['reversed', c(1), c(0)],
      ['the same code twice', c(0), c(0)],
      ['five minutes ahead', c(10), c(11)],
      ['five minutes behind', c(-10), c(-9)],
    ];
    for (const [what, a, b] of cases) {
      const e = await failure(iam.send(new EnableMFADeviceCommand({ UserName: 'alice', SerialNumber: dev1.serial, AuthenticationCode1: a, AuthenticationCode2: b })));
      assert.deepEqual(e, { name: 'InvalidAuthenticationCodeException', message: 'Authentication code for device is not valid.', status: 403 }, what);
    }
    for (const bad of ['12345', '1234567', 'abcdef']) {
      const e = await failure(iam.send(new EnableMFADeviceCommand({ UserName: 'alice', SerialNumber: dev1.serial, AuthenticationCode1: bad, AuthenticationCode2: c(1) })));
      assert.deepEqual([e.name, e.status], ['ValidationError', 400], bad);
    }
    const noUser = await failure(iam.send(new EnableMFADeviceCommand({ UserName: 'nobody', SerialNumber: dev1.serial, AuthenticationCode1: c(0), AuthenticationCode2: c(1) })));
    assert.deepEqual([noUser.name, noUser.status], ['NoSuchEntityException', 404]);
    const noDevice = await failure(iam.send(new EnableMFADeviceCommand({ UserName: 'alice', SerialNumber: dev1.serial + 'x', AuthenticationCode1: c(0), AuthenticationCode2: c(1) })));
    assert.deepEqual([noDevice.name, noDevice.status], ['NoSuchEntityException', 404]);
    const listed = await iam.send(new ListMFADevicesCommand({ UserName: 'alice' }));
    assert.deepEqual(listed.MFADevices, [], 'nothing was bound by the failures');
  });

  it('EnableMFADevice binds the device with the codes of the current and the next step', async () => {
    enabledAt = stepNow();
    const before = Date.now();
    await iam.send(new EnableMFADeviceCommand({ UserName: 'alice', SerialNumber: dev1.serial, AuthenticationCode1: code(dev1.seed, enabledAt), AuthenticationCode2: code(dev1.seed, enabledAt + 1) }));
    const got = await iam.send(new GetMFADeviceCommand({ SerialNumber: dev1.serial }));
    assert.equal(got.UserName, 'alice');
    assert.equal(got.SerialNumber, dev1.serial);
    assert.ok(got.EnableDate instanceof Date && Math.abs(got.EnableDate.getTime() - before) < 60_000, String(got.EnableDate));
    assert.equal((await iam.send(new GetMFADeviceCommand({ SerialNumber: dev1.serial, UserName: 'alice' }))).UserName, 'alice');
    assert.equal((await failure(iam.send(new GetMFADeviceCommand({ SerialNumber: dev1.serial, UserName: 'bob' })))).status, 404);
    assert.equal((await failure(iam.send(new GetMFADeviceCommand({ SerialNumber: dev2.serial })))).status, 404, 'an unassigned device');

    const again = await failure(
      iam.send(new EnableMFADeviceCommand({ UserName: 'bob', SerialNumber: dev1.serial, AuthenticationCode1: code(dev1.seed, enabledAt + 2), AuthenticationCode2: code(dev1.seed, enabledAt + 3) })),
    );
    assert.deepEqual([again.name, again.status], ['EntityAlreadyExistsException', 409]);
  });

  it('ListMFADevices lists a user\'s devices; ListVirtualMFADevices filters by assignment and paginates', async () => {
    const mine = await iam.send(new ListMFADevicesCommand({ UserName: 'alice' }));
    assert.deepEqual(mine.MFADevices?.map((d) => [d.UserName, d.SerialNumber, d.EnableDate instanceof Date]), [['alice', dev1.serial, true]]);
    assert.equal(mine.IsTruncated, false);
    assert.deepEqual((await iam.send(new ListMFADevicesCommand({ UserName: 'bob' }))).MFADevices, []);
    assert.deepEqual((await iam.send(new ListMFADevicesCommand({}))).MFADevices, [], 'the root caller has none');
    assert.equal((await failure(iam.send(new ListMFADevicesCommand({ UserName: 'nobody' })))).status, 404);

    const list = async (status?: AssignmentStatusType) => (await iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: status }))).VirtualMFADevices!;
    const assigned = await list('Assigned');
    assert.deepEqual(assigned.map((d) => d.SerialNumber), [dev1.serial]);
    assert.equal(assigned[0]!.User?.UserName, 'alice');
    assert.match(assigned[0]!.User?.Arn ?? '', /:user\/alice$/);
    assert.ok(assigned[0]!.EnableDate instanceof Date);
    assert.equal(assigned[0]!.Base32StringSeed, undefined, 'the seed is never listed');
    assert.equal(assigned[0]!.Tags, undefined, 'nor the tags');
    const unassigned = await list('Unassigned');
    assert.deepEqual(unassigned.map((d) => [d.SerialNumber, d.User, d.EnableDate]), [[dev2.serial, undefined, undefined]]);
    assert.deepEqual((await list('Any')).map((d) => d.SerialNumber).sort(), [dev1.serial, dev2.serial].sort());
    assert.deepEqual((await list()).map((d) => d.SerialNumber).sort(), [dev1.serial, dev2.serial].sort());
    assert.equal((await failure(iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Some' as AssignmentStatusType })))).status, 400);

    const p1 = await iam.send(new ListVirtualMFADevicesCommand({ MaxItems: 1 }));
    assert.equal(p1.VirtualMFADevices?.length, 1);
    assert.equal(p1.IsTruncated, true);
    assert.ok(p1.Marker);
    const p2 = await iam.send(new ListVirtualMFADevicesCommand({ MaxItems: 1, Marker: p1.Marker }));
    assert.equal(p2.IsTruncated, false);
    assert.deepEqual([...p1.VirtualMFADevices!, ...p2.VirtualMFADevices!].map((d) => d.SerialNumber).sort(), [dev1.serial, dev2.serial].sort());
  });

  it('ResyncMFADevice takes two new consecutive codes over a wider window, and refuses used, wrong and far codes', async () => {
    const resync = (user: string, a: string, b: string, serial = dev1.serial) =>
      iam.send(new ResyncMFADeviceCommand({ UserName: user, SerialNumber: serial, AuthenticationCode1: a, AuthenticationCode2: b }));
    const n = enabledAt;
    const used = await failure(resync('alice', code(dev1.seed, n), code(dev1.seed, n + 1)));
    assert.deepEqual([used.name, used.status], ['InvalidAuthenticationCodeException', 403], 'the codes EnableMFADevice accepted');
    assert.equal((await failure(resync('alice', code(dev1.seed, n + 5), code(dev1.seed, n + 7)))).status, 403, 'not consecutive');
    assert.equal((await failure(resync('alice', code(dev1.seed, n + 60), code(dev1.seed, n + 61)))).status, 403, 'half an hour ahead');
    assert.equal((await failure(resync('bob', code(dev1.seed, n + 5), code(dev1.seed, n + 6)))).status, 404, 'not bob\'s device');
    assert.equal((await failure(resync('alice', code(dev2.seed, n + 5), code(dev2.seed, n + 6), dev2.serial))).status, 404, 'not assigned to alice');
    // A device whose clock runs five minutes ahead: too far for EnableMFADevice, fine for a resync.
    await resync('alice', code(dev1.seed, n + 10), code(dev1.seed, n + 11));
    assert.equal((await failure(resync('alice', code(dev1.seed, n + 10), code(dev1.seed, n + 11)))).status, 403, 'the same codes again');
  });

  it('tags: TagMFADevice adds and overwrites, UntagMFADevice removes, ListMFADeviceTags lists by key', async () => {
    await iam.send(new TagMFADeviceCommand({ SerialNumber: dev1.serial, Tags: [{ Key: 'owner', Value: 'alice' }, { Key: 'team', Value: 'red' }] }));
    const t1 = await iam.send(new ListMFADeviceTagsCommand({ SerialNumber: dev1.serial }));
    assert.deepEqual(t1.Tags, [{ Key: 'owner', Value: 'alice' }, { Key: 'team', Value: 'red' }]);
    assert.equal(t1.IsTruncated, false);
    const page = await iam.send(new ListMFADeviceTagsCommand({ SerialNumber: dev1.serial, MaxItems: 1 }));
    assert.deepEqual([page.Tags?.length, page.IsTruncated], [1, true]);
    await iam.send(new UntagMFADeviceCommand({ SerialNumber: dev1.serial, TagKeys: ['team', 'absent'] }));
    assert.deepEqual((await iam.send(new ListMFADeviceTagsCommand({ SerialNumber: dev1.serial }))).Tags, [{ Key: 'owner', Value: 'alice' }]);
    assert.deepEqual((await iam.send(new ListMFADeviceTagsCommand({ SerialNumber: dev2.serial }))).Tags, []);
    const missing = dev1.serial.replace('dev1', 'missing');
    for (const p of [
      iam.send(new TagMFADeviceCommand({ SerialNumber: missing, Tags: [{ Key: 'a', Value: 'b' }] })),
      iam.send(new UntagMFADeviceCommand({ SerialNumber: missing, TagKeys: ['a'] })),
      iam.send(new ListMFADeviceTagsCommand({ SerialNumber: missing })),
    ]) {
      assert.deepEqual((await failure(p)).name, 'NoSuchEntityException');
    }
  });

  it('renaming the user carries the device along', async () => {
    await iam.send(new UpdateUserCommand({ UserName: 'alice', NewUserName: 'alice2' }));
    assert.deepEqual((await iam.send(new ListMFADevicesCommand({ UserName: 'alice2' }))).MFADevices?.map((d) => d.SerialNumber), [dev1.serial]);
    await iam.send(new UpdateUserCommand({ UserName: 'alice2', NewUserName: 'alice' }));
    assert.equal((await iam.send(new GetMFADeviceCommand({ SerialNumber: dev1.serial }))).UserName, 'alice');
  });

  it('an assigned device cannot be deleted, nor its user; DeactivateMFADevice unbinds it, then both can go', async () => {
    const del = await failure(iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: dev1.serial })));
    assert.deepEqual([del.name, del.status], ['DeleteConflictException', 409]);
    const delUser = await failure(iam.send(new DeleteUserCommand({ UserName: 'alice' })));
    assert.deepEqual(delUser, { name: 'DeleteConflictException', message: 'Cannot delete entity, must delete MFA device first.', status: 409 });

    assert.equal((await failure(iam.send(new DeactivateMFADeviceCommand({ UserName: 'bob', SerialNumber: dev1.serial })))).status, 404, 'not bob\'s');
    await iam.send(new DeactivateMFADeviceCommand({ UserName: 'alice', SerialNumber: dev1.serial }));
    assert.equal((await failure(iam.send(new DeactivateMFADeviceCommand({ UserName: 'alice', SerialNumber: dev1.serial })))).status, 404, 'already deactivated');
    assert.deepEqual((await iam.send(new ListMFADevicesCommand({ UserName: 'alice' }))).MFADevices, []);
    assert.deepEqual((await iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Assigned' }))).VirtualMFADevices, []);

    // The codes accepted before stay used: they cannot bind the device again.
    const replay = await failure(
      iam.send(new EnableMFADeviceCommand({ UserName: 'bob', SerialNumber: dev1.serial, AuthenticationCode1: code(dev1.seed, enabledAt), AuthenticationCode2: code(dev1.seed, enabledAt + 1) })),
    );
    assert.deepEqual([replay.name, replay.status], ['InvalidAuthenticationCodeException', 403]);

    await iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: dev1.serial }));
    const gone = await failure(iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: dev1.serial })));
    assert.deepEqual(gone, { name: 'NoSuchEntityException', message: `VirtualMFADevice with serial number ${dev1.serial} doesn't exist.`, status: 404 });
    await iam.send(new DeleteUserCommand({ UserName: 'alice' }));
    await iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: dev2.serial }));
    assert.deepEqual((await iam.send(new ListVirtualMFADevicesCommand({}))).VirtualMFADevices, []);
    // The name is free again.
    const again = await createDevice('dev1');
    await iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: again.serial }));
  });

  it('enforcement: AWS\'s self-managed MFA policy lets a user set up their own device and nobody else\'s', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'selfie' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'selfie',
        PolicyName: 'self-mfa',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'iam:ListVirtualMFADevices', Resource: '*' },
            { Effect: 'Allow', Action: 'iam:CreateVirtualMFADevice', Resource: 'arn:aws:iam::*:mfa/${aws:username}' },
            { Effect: 'Allow', Action: ['iam:EnableMFADevice', 'iam:GetMFADevice', 'iam:ListMFADevices', 'iam:ResyncMFADevice'], Resource: 'arn:aws:iam::*:user/${aws:username}' },
          ],
        }),
      }),
    );
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'selfie' }))).AccessKey!;
    const me = new IAMClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
    try {
      const r = await me.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'selfie' }));
      const serial = r.VirtualMFADevice!.SerialNumber!;
      const seed = Buffer.from(r.VirtualMFADevice!.Base32StringSeed!).toString('ascii');
      assert.equal((await failure(me.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'someone-else' })))).name, 'AccessDenied');
      const n = stepNow();
      await me.send(new EnableMFADeviceCommand({ UserName: 'selfie', SerialNumber: serial, AuthenticationCode1: code(seed, n), AuthenticationCode2: code(seed, n + 1) }));
      // Without UserName, ListMFADevices is about the caller.
      assert.deepEqual((await me.send(new ListMFADevicesCommand({}))).MFADevices?.map((d) => [d.UserName, d.SerialNumber]), [['selfie', serial]]);
      assert.equal((await failure(me.send(new ListMFADevicesCommand({ UserName: 'bob' })))).name, 'AccessDenied');
      assert.equal((await failure(me.send(new DeactivateMFADeviceCommand({ UserName: 'selfie', SerialNumber: serial })))).name, 'AccessDenied');
    } finally {
      me.destroy();
    }
  });
});

describe('virtual MFA devices (AWS CLI)', () => {
  it('create-virtual-mfa-device --outfile/--bootstrap-method writes the PNG or the seed; enable-mfa-device with codes from the seed', () => {
    requireAwsCli();
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-mfa-cli-'));
    const aws = (...args: string[]) => execFileSync('aws', args, { env: awsEnv(server.url), cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const qr = JSON.parse(aws('iam', 'create-virtual-mfa-device', '--virtual-mfa-device-name', 'cli-qr', '--outfile', 'qr.png', '--bootstrap-method', 'QRCodePNG'));
      assert.match(qr.VirtualMFADevice.SerialNumber, /^arn:aws:iam::\d{12}:mfa\/cli-qr$/);
      assert.equal(qr.VirtualMFADevice.QRCodePNG, undefined, 'the CLI writes the blob to the file instead of printing it');
      const png = readFileSync(join(dir, 'qr.png'));
      assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
      assert.ok(qrModules(decodePng(png)).length >= 21, 'a QR symbol');

      const dev = JSON.parse(aws('iam', 'create-virtual-mfa-device', '--virtual-mfa-device-name', 'cli-seed', '--outfile', 'seed.txt', '--bootstrap-method', 'Base32StringSeed'));
      const serial: string = dev.VirtualMFADevice.SerialNumber;
      const seed = readFileSync(join(dir, 'seed.txt'), 'ascii');
      assert.match(seed, /^[A-Z2-7]{32}$/);

      aws('iam', 'create-user', '--user-name', 'cli-user');
      const n = stepNow();
      assert.equal(aws('iam', 'enable-mfa-device', '--user-name', 'cli-user', '--serial-number', serial, '--authentication-code1', code(seed, n), '--authentication-code2', code(seed, n + 1)).trim(), '');
      const listed = JSON.parse(aws('iam', 'list-mfa-devices', '--user-name', 'cli-user'));
      assert.deepEqual(listed.MFADevices.map((d: { UserName: string; SerialNumber: string }) => [d.UserName, d.SerialNumber]), [['cli-user', serial]]);
      const assigned = JSON.parse(aws('iam', 'list-virtual-mfa-devices', '--assignment-status', 'Assigned'));
      const mine = assigned.VirtualMFADevices.filter((d: { SerialNumber: string }) => d.SerialNumber.includes(':mfa/cli-'));
      assert.deepEqual(mine.map((d: { SerialNumber: string; User: { UserName: string } }) => [d.SerialNumber, d.User.UserName]), [[serial, 'cli-user']], 'cli-qr stays unassigned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
