/**
 * Policy document validation, failing with the messages IAM returns in its
 * MalformedPolicyDocument errors.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 *
 * kind: 'identity' (identity-based, permissions boundaries, session policies: no Principal),
 * 'resource' (a Principal or NotPrincipal in every statement), 'trust' (a role's trust
 * policy: a Principal, and no Resource).
 */
import type { PolicyDocument, Statement } from './types.js';
import { parseOperator } from './conditions.js';

/** Thrown by validatePolicyDocument; the message is IAM's MalformedPolicyDocument message. */
export class PolicyValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyValidationError';
  }
}

export const POLICY_MESSAGES = {
  syntax: 'Syntax errors in policy.',
  legacy: 'The policy failed legacy parsing',
  noPrincipalAllowed: 'Policy document should not specify a principal.',
  missingPrincipal: 'Missing required field Principal',
  missingActions: 'Policy statement must contain actions.',
  missingResources: 'Policy statement must contain resources.',
  duplicateSid: 'Statement IDs (SID) in a single policy must be unique.',
  sidFormat: 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
  vendorPrefix: 'Actions/Conditions must be prefixed with a vendor, e.g., iam, sdb, ec2, etc.',
  oneColon: 'Actions/Condition can contain only one colon.',
} as const;

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

function fail(message: string): never {
  throw new PolicyValidationError(message);
}

function isStringOrList(v: unknown): v is string | string[] {
  return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
}

function asList(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v;
}

function checkActions(v: unknown): void {
  if (!isStringOrList(v)) fail(POLICY_MESSAGES.legacy);
  const actions = asList(v);
  if (actions.length === 0) fail(POLICY_MESSAGES.missingActions);
  for (const a of actions) {
    if (a === '*') continue;
    const colons = a.split(':').length - 1;
    if (colons === 0) fail(POLICY_MESSAGES.vendorPrefix);
    if (colons > 1) fail(POLICY_MESSAGES.oneColon);
    if (a.startsWith(':')) fail(POLICY_MESSAGES.vendorPrefix);
  }
}

function checkResources(v: unknown): void {
  if (!isStringOrList(v)) fail(POLICY_MESSAGES.legacy);
  const resources = asList(v);
  if (resources.length === 0) fail(POLICY_MESSAGES.missingResources);
  for (const r of resources) {
    if (r === '*') continue;
    if (!r.startsWith('arn:') || r.split(':').length < 6) {
      // A short ARN ending in a wildcard (arn:aws:s3:*) is accepted.
      if (!(r.startsWith('arn:') && r.endsWith('*'))) fail(`Resource ${r} must be in ARN format or "*".`);
    }
  }
}

const PRINCIPAL_KINDS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

function checkPrincipal(p: unknown): void {
  if (p === '*') return;
  if (!p || typeof p !== 'object' || Array.isArray(p)) fail(POLICY_MESSAGES.syntax);
  const entries = Object.entries(p as Record<string, unknown>);
  if (entries.length === 0) fail(POLICY_MESSAGES.syntax);
  for (const [kind, value] of entries) {
    if (!PRINCIPAL_KINDS.has(kind)) fail(`Invalid principal in policy: "${kind}":${JSON.stringify(value)}`);
    if (!isStringOrList(value) || asList(value).length === 0) fail(POLICY_MESSAGES.syntax);
    for (const v of asList(value)) {
      let ok = true;
      if (kind === 'AWS') ok = v === '*' || /^\d{12}$/.test(v) || /^arn:[a-z-]+:(iam|sts)::(\d{12}|aws):\S+$/.test(v);
      else if (kind === 'Service') ok = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(v) || v === '*';
      else ok = v.length > 0;
      if (!ok) fail(`Invalid principal in policy: "${kind}":"${v}"`);
    }
  }
}

function checkCondition(c: unknown): void {
  if (!c || typeof c !== 'object' || Array.isArray(c)) fail(POLICY_MESSAGES.syntax);
  for (const [op, block] of Object.entries(c as Record<string, unknown>)) {
    if (!parseOperator(op)) fail(POLICY_MESSAGES.syntax);
    if (!block || typeof block !== 'object' || Array.isArray(block)) fail(POLICY_MESSAGES.syntax);
    for (const [key, value] of Object.entries(block as Record<string, unknown>)) {
      if (key.length === 0) fail(POLICY_MESSAGES.syntax);
      const ok = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
      if (!(ok(value) || (Array.isArray(value) && value.every(ok)))) fail(POLICY_MESSAGES.syntax);
    }
  }
}

function checkStatement(s: unknown, kind: 'identity' | 'resource' | 'trust', sids: Set<string>): void {
  if (!s || typeof s !== 'object' || Array.isArray(s)) fail(POLICY_MESSAGES.syntax);
  const st = s as Record<string, unknown>;
  for (const field of Object.keys(st)) if (!STATEMENT_FIELDS.has(field)) fail(`Unknown field ${field}`);
  if (st.Sid !== undefined) {
    if (typeof st.Sid !== 'string') fail(POLICY_MESSAGES.syntax);
    if (kind === 'identity' && !/^[0-9A-Za-z]*$/.test(st.Sid)) fail(POLICY_MESSAGES.sidFormat);
    if (st.Sid !== '') {
      if (sids.has(st.Sid)) fail(POLICY_MESSAGES.duplicateSid);
      sids.add(st.Sid);
    }
  }
  if (st.Effect === undefined) fail('Missing required field Effect');
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') fail(POLICY_MESSAGES.syntax);

  const hasPrincipal = st.Principal !== undefined || st.NotPrincipal !== undefined;
  if (kind === 'identity' && hasPrincipal) fail(POLICY_MESSAGES.noPrincipalAllowed);
  if (kind !== 'identity' && !hasPrincipal) fail(POLICY_MESSAGES.missingPrincipal);
  if (st.Principal !== undefined && st.NotPrincipal !== undefined) fail(POLICY_MESSAGES.syntax);
  if (st.Principal !== undefined) checkPrincipal(st.Principal);
  if (st.NotPrincipal !== undefined) checkPrincipal(st.NotPrincipal);

  if (st.Action !== undefined && st.NotAction !== undefined) fail(POLICY_MESSAGES.syntax);
  if (st.Action === undefined && st.NotAction === undefined) fail(POLICY_MESSAGES.missingActions);
  checkActions(st.Action ?? st.NotAction);

  if (st.Resource !== undefined && st.NotResource !== undefined) fail(POLICY_MESSAGES.syntax);
  if (kind === 'trust') {
    if (st.Resource !== undefined) fail('Has prohibited field Resource');
    if (st.NotResource !== undefined) fail('Has prohibited field NotResource');
  } else {
    if (st.Resource === undefined && st.NotResource === undefined) fail(POLICY_MESSAGES.missingResources);
    checkResources(st.Resource ?? st.NotResource);
  }
  if (st.Condition !== undefined) checkCondition(st.Condition);
}

/**
 * Parses and validates a policy document's JSON text; throws PolicyValidationError with
 * IAM's MalformedPolicyDocument message when it is not acceptable.
 */
export function validatePolicyDocument(text: string, kind: 'identity' | 'resource' | 'trust'): PolicyDocument {
  if (typeof text !== 'string' || text.trim() === '') fail(POLICY_MESSAGES.syntax);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail(POLICY_MESSAGES.syntax);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail(POLICY_MESSAGES.syntax);
  const d = doc as Record<string, unknown>;
  for (const field of Object.keys(d)) if (!TOP_FIELDS.has(field)) fail(`Unknown field ${field}`);
  if (d.Version !== undefined && (typeof d.Version !== 'string' || !VERSIONS.has(d.Version))) fail(POLICY_MESSAGES.legacy);
  if (d.Id !== undefined && typeof d.Id !== 'string') fail(POLICY_MESSAGES.syntax);
  if (d.Statement === undefined) fail('Missing required field Statement');
  const statements = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (statements.length === 0) fail(POLICY_MESSAGES.syntax);
  const sids = new Set<string>();
  for (const s of statements) checkStatement(s as Statement, kind, sids);
  return d as unknown as PolicyDocument;
}
