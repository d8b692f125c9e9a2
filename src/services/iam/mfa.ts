import { createRequire } from 'node:module';
import type { RequestContext } from '../../server/context.js';
import type { OperationImpl } from '../types.js';
import { now } from '../../util/clock.js';
import { newSecretBase32, stepsMatching, timeStep } from '../../util/totp.js';
import { IamErrors } from './errors.js';
import { account, checkName, checkPath, checkTags, iam, isoNow, paginate } from './common.js';
import { arn, op } from './table.js';
import { requireUser } from './users.js';
import type { IamState, MfaDeviceDoc, UserDoc } from './state.js';

/**
 * Virtual MFA devices: TOTP (RFC 6238, SHA-1, 30 s, 6 digits) secrets the account creates
 * and binds to a user with two consecutive codes.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html
 *
 * Time is counted in TOTP steps. Each device remembers the last step it accepted (no code
 * is accepted twice) and how far its clock runs from ours, learnt when it was enabled or
 * resynchronised; later codes are looked for around that drift.
 */
type Input = Record<string, any>;

/** EnableMFADevice: both codes within this many steps of now (±60 s). */
const ENABLE_WINDOW = 2;
/** ResyncMFADevice exists for clocks that drifted: both codes within ±10 minutes. */
const RESYNC_WINDOW = 20;
/** A single code (STS MFA authentication): the device's current step ±1, as RFC 6238 §5.2 recommends. */
const VERIFY_WINDOW = 1;
/** https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html */
const MFA_DEVICES_PER_USER = 8;

// qrcode (and its PNG encoder) loads on the first CreateVirtualMFADevice: few servers ever make one.
type QrCode = typeof import('qrcode');
const load = createRequire(import.meta.url);
let qrcodeLib: QrCode | undefined;
const qrcode = (): QrCode => (qrcodeLib ??= load('qrcode') as QrCode);

const noSuchDevice = (serial: string) => IamErrors.NoSuchEntity({ message: `VirtualMFADevice with serial number ${serial} doesn't exist.` });
const invalidForUser = () => IamErrors.NoSuchEntity({ message: 'MFA Device invalid for user.' });
const invalidCode = () => IamErrors.InvalidAuthenticationCode();

function deviceName(d: MfaDeviceDoc): string {
  return d.SerialNumber.slice(d.SerialNumber.lastIndexOf('/') + 1);
}

/** The label AWS puts in the otpauth URI: the account alias if there is one, else the account id. */
export function mfaAccountName(state: IamState, accountId: string): string {
  return state.get('account', 'settings')?.Aliases?.[0] ?? accountId;
}

/**
 * The URI the QR code encodes, in the form the API reference gives:
 * otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_VirtualMFADevice.html
 */
export function otpauthUri(name: string, accountName: string, seed: string): string {
  return `otpauth://totp/${name}@${accountName}?secret=${seed}`;
}

function checkSerial(serial: string | undefined): string {
  if (!serial || serial.length < 9 || serial.length > 256 || !/^[\w+=/:,.@-]+$/.test(serial)) {
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value '${serial ?? ''}' at 'serialNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=/:,.@-]+` });
  }
  return serial;
}

function checkCode(code: string | undefined, member: string): string {
  const c = code ?? '';
  if (c.length !== 6) {
    const bound = c.length < 6 ? 'greater than or equal to 6' : 'less than or equal to 6';
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value '${c}' at '${member}' failed to satisfy constraint: Member must have length ${bound}` });
  }
  if (!/^\d+$/.test(c)) {
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value '${c}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]+` });
  }
  return c;
}

/** The step of code1 when code1 and code2 are the codes of two consecutive unused steps in [from, to]. */
function consecutiveSteps(d: MfaDeviceDoc, code1: string, code2: string, from: number, to: number): number | undefined {
  const lo = Math.max(from, (d.LastStep ?? -Infinity) + 1);
  for (const s of stepsMatching(d.Base32StringSeed, code1, lo, to - 1)) {
    if (stepsMatching(d.Base32StringSeed, code2, s + 1, s + 1).length) return s;
  }
  return undefined;
}

function requireDevice(ctx: RequestContext, serial: string): MfaDeviceDoc {
  const d = iam(ctx).get('mfa', checkSerial(serial));
  if (!d) throw noSuchDevice(serial);
  return d;
}

/** The user a request names, or (when it names none) the calling user; undefined for root. */
function namedOrCaller(ctx: RequestContext, name: string | undefined): UserDoc | undefined {
  if (name) return requireUser(ctx, name);
  const p = ctx.principal;
  if (p?.type === 'user') return requireUser(ctx, p.name!);
  if (p?.type === 'root') return undefined;
  throw IamErrors.ValidationError({ message: 'Must specify userName when calling with non-User credentials' });
}

function userElement(u: UserDoc) {
  return { Path: u.Path, UserName: u.UserName, UserId: u.UserId, Arn: u.Arn, CreateDate: new Date(u.CreateDate) };
}

function unassigned(d: MfaDeviceDoc): MfaDeviceDoc {
  const { UserName: _u, EnableDate: _e, DriftSteps: _d, ...rest } = d;
  // LastStep stays: a code the device once produced is never accepted again.
  return rest;
}

export async function createVirtualMFADevice(input: Input, ctx: RequestContext) {
  const name = checkName(input.VirtualMFADeviceName, 'virtualMFADeviceName', 226);
  const path = checkPath(input.Path);
  const tags = checkTags(input.Tags);
  const serial = `arn:aws:iam::${account(ctx)}:mfa${path}${name}`;
  if (serial.length > 256) checkSerial(serial);
  const seed = newSecretBase32(20);
  const device: MfaDeviceDoc = { SerialNumber: serial, Base32StringSeed: seed, Path: path, CreateDate: isoNow(), Tags: tags };
  // Rendered before anything is stored, so a failure leaves no device behind.
  const png = await qrcode().toBuffer(otpauthUri(name, mfaAccountName(iam(ctx), account(ctx)), seed), { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 4 });
  await iam(ctx).write(async (tx) => {
    // Names are unique in the account whatever the path, case-insensitively, as for users.
    if ((await tx.get('mfa', serial)) || iam(ctx).list('mfa').some((d) => deviceName(d).toLowerCase() === name.toLowerCase())) {
      throw IamErrors.EntityAlreadyExists({ message: 'MFADevice entity at the same path and name already exists.' });
    }
    await tx.put('mfa', serial, device);
  });
  return {
    VirtualMFADevice: {
      SerialNumber: serial,
      // Both are blobs: the SDKs base64-decode them to the Base32 text and the PNG bytes.
      Base32StringSeed: Buffer.from(seed, 'ascii'),
      QRCodePNG: png,
      Tags: tags.length ? tags : undefined,
    },
  };
}

export async function enableMFADevice(input: Input, ctx: RequestContext) {
  const user = requireUser(ctx, input.UserName);
  const serial = checkSerial(input.SerialNumber);
  const code1 = checkCode(input.AuthenticationCode1, 'authenticationCode1');
  const code2 = checkCode(input.AuthenticationCode2, 'authenticationCode2');
  await iam(ctx).write(async (tx) => {
    const d = await tx.get('mfa', serial);
    if (!d) throw noSuchDevice(serial);
    if (d.UserName) throw IamErrors.EntityAlreadyExists({ message: 'MFA Device is already in use.' });
    if (iam(ctx).list('mfa').filter((x) => x.UserName === user.UserName).length >= MFA_DEVICES_PER_USER) {
      throw IamErrors.LimitExceeded({ message: `Cannot exceed quota for MFADevicesPerUser: ${MFA_DEVICES_PER_USER}` });
    }
    const n = timeStep(now());
    const s = consecutiveSteps(d, code1, code2, n - ENABLE_WINDOW, n + ENABLE_WINDOW);
    if (s === undefined) throw invalidCode();
    await tx.put('mfa', serial, { ...d, UserName: user.UserName, EnableDate: isoNow(), LastStep: s + 1, DriftSteps: s + 1 - n });
  });
  return {};
}

export async function resyncMFADevice(input: Input, ctx: RequestContext) {
  const user = requireUser(ctx, input.UserName);
  const serial = checkSerial(input.SerialNumber);
  const code1 = checkCode(input.AuthenticationCode1, 'authenticationCode1');
  const code2 = checkCode(input.AuthenticationCode2, 'authenticationCode2');
  await iam(ctx).write(async (tx) => {
    const d = await tx.get('mfa', serial);
    if (!d) throw noSuchDevice(serial);
    if (d.UserName !== user.UserName) throw invalidForUser();
    const n = timeStep(now());
    const s = consecutiveSteps(d, code1, code2, n - RESYNC_WINDOW, n + RESYNC_WINDOW);
    if (s === undefined) throw invalidCode();
    await tx.put('mfa', serial, { ...d, LastStep: s + 1, DriftSteps: s + 1 - n });
  });
  return {};
}

export async function deactivateMFADevice(input: Input, ctx: RequestContext) {
  const serial = checkSerial(input.SerialNumber);
  const user = namedOrCaller(ctx, input.UserName);
  await iam(ctx).write(async (tx) => {
    const d = await tx.get('mfa', serial);
    if (!d) throw noSuchDevice(serial);
    if (!d.UserName || (user && d.UserName !== user.UserName)) throw invalidForUser();
    await tx.put('mfa', serial, unassigned(d));
  });
  return {};
}

export async function deleteVirtualMFADevice(input: Input, ctx: RequestContext) {
  const serial = checkSerial(input.SerialNumber);
  await iam(ctx).write(async (tx) => {
    const d = await tx.get('mfa', serial);
    if (!d) throw noSuchDevice(serial);
    if (d.UserName) throw IamErrors.DeleteConflict({ message: 'MFA VirtualDevice in use. Must deactivate first.' });
    await tx.delete('mfa', serial);
  });
  return {};
}

export function getMFADevice(input: Input, ctx: RequestContext) {
  const d = requireDevice(ctx, input.SerialNumber);
  const user = namedOrCaller(ctx, input.UserName);
  if (!d.UserName || (user && d.UserName !== user.UserName)) throw invalidForUser();
  return { UserName: d.UserName, SerialNumber: d.SerialNumber, EnableDate: new Date(d.EnableDate!) };
}

export function listMFADevices(input: Input, ctx: RequestContext) {
  const user = namedOrCaller(ctx, input.UserName);
  // The root user's own MFA is not modelled; it has none.
  const devices = user ? iam(ctx).list('mfa').filter((d) => d.UserName === user.UserName) : [];
  const { page, IsTruncated, Marker } = paginate(devices, input, (d) => d.SerialNumber);
  return {
    MFADevices: page.map((d) => ({ UserName: d.UserName!, SerialNumber: d.SerialNumber, EnableDate: new Date(d.EnableDate!) })),
    IsTruncated,
    Marker,
  };
}

export function listVirtualMFADevices(input: Input, ctx: RequestContext) {
  const status = input.AssignmentStatus ?? 'Any';
  if (!['Assigned', 'Unassigned', 'Any'].includes(status)) {
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value '${status}' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Any, Assigned, Unassigned]` });
  }
  const devices = iam(ctx)
    .list('mfa')
    .filter((d) => status === 'Any' || (status === 'Assigned') === !!d.UserName);
  const { page, IsTruncated, Marker } = paginate(devices, input, (d) => d.SerialNumber);
  return {
    // Listing returns neither the seed nor the tags (ListMFADeviceTags has those).
    VirtualMFADevices: page.map((d) => {
      const u = d.UserName ? iam(ctx).get('user', d.UserName) : undefined;
      return { SerialNumber: d.SerialNumber, User: u ? userElement(u) : undefined, EnableDate: d.EnableDate ? new Date(d.EnableDate) : undefined };
    }),
    IsTruncated,
    Marker,
  };
}

export async function tagMFADevice(input: Input, ctx: RequestContext) {
  const serial = requireDevice(ctx, input.SerialNumber).SerialNumber;
  const add = checkTags(input.Tags);
  await iam(ctx).write(async (tx) => {
    const d = await tx.get('mfa', serial);
    if (!d) throw noSuchDevice(serial);
    const tags = new Map(d.Tags.map((t) => [t.Key, t.Value]));
    for (const t of add) tags.set(t.Key, t.Value);
    await tx.put('mfa', serial, { ...d, Tags: checkTags([...tags].map(([Key, Value]) => ({ Key, Value }))) });
  });
  return {};
}

export async function untagMFADevice(input: Input, ctx: RequestContext) {
  const serial = requireDevice(ctx, input.SerialNumber).SerialNumber;
  const drop = new Set<string>(input.TagKeys ?? []);
  await iam(ctx).write(async (tx) => {
    const d = await tx.get('mfa', serial);
    if (!d) throw noSuchDevice(serial);
    await tx.put('mfa', serial, { ...d, Tags: d.Tags.filter((t) => !drop.has(t.Key)) });
  });
  return {};
}

export function listMFADeviceTags(input: Input, ctx: RequestContext) {
  const d = requireDevice(ctx, input.SerialNumber);
  const { page, IsTruncated, Marker } = paginate(d.Tags, input, (t) => t.Key);
  return { Tags: page, IsTruncated, Marker };
}

/**
 * For STS (AssumeRole / GetSessionToken with SerialNumber and TokenCode): true iff
 * `serialNumber` is an enabled MFA device (assigned to `userName` when given) and `code` is
 * its current TOTP code, not used before. The accepted step is recorded, so the same code
 * cannot authenticate twice.
 */
export async function verifyMfaCode(state: IamState, serialNumber: string, code: string, userName?: string): Promise<boolean> {
  if (!/^\d{6}$/.test(code ?? '')) return false;
  const check = (d: MfaDeviceDoc | undefined): number | undefined => {
    if (!d?.UserName || (userName !== undefined && d.UserName !== userName)) return undefined;
    const center = timeStep(now()) + (d.DriftSteps ?? 0);
    const from = Math.max(center - VERIFY_WINDOW, (d.LastStep ?? -Infinity) + 1);
    return stepsMatching(d.Base32StringSeed, code, from, center + VERIFY_WINDOW)[0];
  };
  // Cheap refusal from memory; the decision is taken again inside the transaction, so two
  // requests racing with one code cannot both pass.
  if (check(state.get('mfa', serialNumber)) === undefined) return false;
  return state.write(async (tx) => {
    const d = await tx.get('mfa', serialNumber);
    const step = check(d);
    if (step === undefined) return false;
    await tx.put('mfa', serialNumber, { ...d!, LastStep: step });
    return true;
  });
}

const mfaArn = (i: Input, ctx: RequestContext) => i.SerialNumber ?? `arn:aws:iam::${account(ctx)}:mfa${i.Path ?? '/'}${i.VirtualMFADeviceName}`;

/**
 * Resources as the Service Authorization Reference gives them: device operations act on
 * the mfa resource, binding and listing on the user.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export const mfaOperations: Record<string, OperationImpl> = {
  CreateVirtualMFADevice: op(createVirtualMFADevice, 'CreateVirtualMFADevice', mfaArn),
  EnableMFADevice: op(enableMFADevice, 'EnableMFADevice', arn.user),
  ResyncMFADevice: op(resyncMFADevice, 'ResyncMFADevice', arn.user),
  DeactivateMFADevice: op(deactivateMFADevice, 'DeactivateMFADevice', arn.user),
  DeleteVirtualMFADevice: op(deleteVirtualMFADevice, 'DeleteVirtualMFADevice', mfaArn),
  GetMFADevice: op(getMFADevice, 'GetMFADevice', arn.user),
  ListMFADevices: op(listMFADevices, 'ListMFADevices', arn.user),
  ListVirtualMFADevices: op(listVirtualMFADevices, 'ListVirtualMFADevices'),
  TagMFADevice: op(tagMFADevice, 'TagMFADevice', mfaArn),
  UntagMFADevice: op(untagMFADevice, 'UntagMFADevice', mfaArn),
  ListMFADeviceTags: op(listMFADeviceTags, 'ListMFADeviceTags', mfaArn),
};
