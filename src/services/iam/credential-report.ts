import type { RequestContext } from '../../server/context.js';
import type { OperationImpl } from '../types.js';
import { now } from '../../util/clock.js';
import { IamErrors } from './errors.js';
import { account, iam, isoNow } from './common.js';
import type { AccessKeyDoc, AccountDoc, IamState, UserDoc } from './state.js';
import { op } from './table.js';
import { accountPasswordPolicy, loadSettings, passwordExpiry } from './password-policy.js';

/**
 * The credential report (GenerateCredentialReport, GetCredentialReport): one CSV row per
 * user, the root first, with AWS's columns and its N/A, not_supported and no_information.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
 */
type Input = Record<string, any>;

export const REPORT_COLUMNS = [
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
] as const;

/** "You can generate a credential report as often as once every four hours." */
const REPORT_TTL_MS = 4 * 3600_000;

/** The report's timestamps: ISO 8601 to the second with a +00:00 offset (2015-01-01T00:00:00+00:00). */
function time(iso: string | Date): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

const bool = (b: boolean) => (b ? 'true' : 'false');

/** A key's five columns; "N/A" throughout when there is no such key or it was never used. */
function keyColumns(k: AccessKeyDoc | undefined): string[] {
  if (!k) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  const used = k.LastUsed;
  return [bool(k.Status === 'Active'), time(k.CreateDate), used ? time(used.LastUsedDate) : 'N/A', used?.Region || 'N/A', used?.ServiceName || 'N/A'];
}

/** Nimbus has no X.509 signing certificates. */
const NO_CERTS = ['false', 'N/A', 'false', 'N/A'];

function userRow(state: IamState, u: UserDoc): string[] {
  const profile = state.get('loginprofile', u.UserName);
  const policy = accountPasswordPolicy(state);
  const next = profile && passwordExpiry(profile.PasswordLastChanged, policy);
  // Keys 1 and 2 in the order they were created. CreateDate has whole seconds; the sort is
  // stable, so keys made in the same second keep the state's order (creation order, or
  // the store's after a restart).
  const keys = state
    .list('accesskey')
    .filter((k) => k.UserName === u.UserName)
    .sort((a, b) => a.CreateDate.localeCompare(b.CreateDate));
  const mfa = state.list('mfa').some((d) => d.UserName === u.UserName);
  return [
    u.UserName,
    u.Arn,
    time(u.CreateDate),
    bool(!!profile),
    profile ? (profile.PasswordLastUsed ? time(profile.PasswordLastUsed) : 'no_information') : 'N/A',
    profile ? time(profile.PasswordLastChanged) : 'N/A',
    next ? time(next) : 'N/A',
    bool(mfa),
    ...keyColumns(keys[0]),
    ...keyColumns(keys[1]),
    ...NO_CERTS,
  ];
}

/**
 * The root's row: its password columns are not_supported; Nimbus's root signs in with
 * its configured access key, so key 1 is active (since the account's first day; its use
 * is not tracked).
 */
function rootRow(accountId: string, settings: AccountDoc): string[] {
  const created = time(settings.CreateDate ?? isoNow());
  return [
    '<root_account>',
    `arn:aws:iam::${accountId}:root`,
    created,
    'not_supported',
    'no_information',
    'not_supported',
    'not_supported',
    'false',
    'true',
    created,
    'N/A',
    'N/A',
    'N/A',
    ...keyColumns(undefined),
    ...NO_CERTS,
  ];
}

/** RFC 4180 quoting, for the few characters IAM names allow that CSV cares about (","). */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function buildCredentialReport(state: IamState, accountId: string, settings: AccountDoc): string {
  const users = [...state.list('user')].sort((a, b) => a.UserName.localeCompare(b.UserName));
  const rows = [[...REPORT_COLUMNS], rootRow(accountId, settings), ...users.map((u) => userRow(state, u))];
  return rows.map((r) => r.map(csvField).join(',')).join('\n');
}

/**
 * A report younger than four hours is kept (COMPLETE); otherwise a new one is made. AWS
 * builds it in the background and answers STARTED; Nimbus builds it at once but answers
 * the same, so GetCredentialReport works straight after.
 */
export async function generateCredentialReport(_input: Input, ctx: RequestContext) {
  const state = iam(ctx);
  const existing = state.get('account', 'settings')?.CredentialReport;
  if (existing && now() - Date.parse(existing.GeneratedTime) < REPORT_TTL_MS) return { State: 'COMPLETE' };
  await state.write(async (tx) => {
    const settings = await loadSettings(tx, state);
    const report = { GeneratedTime: isoNow(), Content: buildCredentialReport(state, account(ctx), settings) };
    await tx.put('account', 'settings', { ...settings, CredentialReport: report });
  });
  return existing ? { State: 'STARTED' } : { State: 'STARTED', Description: 'No report exists. Starting a new report generation task' };
}

export function getCredentialReport(_input: Input, ctx: RequestContext) {
  const report = iam(ctx).get('account', 'settings')?.CredentialReport;
  if (!report) throw IamErrors.ReportNotPresent();
  return { Content: Buffer.from(report.Content, 'utf8'), ReportFormat: 'text/csv', GeneratedTime: new Date(report.GeneratedTime) };
}

export const credentialReportOperations: Record<string, OperationImpl> = {
  GenerateCredentialReport: op(generateCredentialReport, 'GenerateCredentialReport'),
  GetCredentialReport: op(getCredentialReport, 'GetCredentialReport'),
};
