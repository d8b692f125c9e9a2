import type { RequestContext } from '../../server/context.js';
import type { PolicyDocument, Statement } from '../../iam/engine/types.js';
import { validatePolicyDocument, PolicyValidationError } from '../../iam/engine/validate.js';
import { IamErrors } from './errors.js';
import { iam } from './common.js';
import { op } from './table.js';
import type { ManagedPolicyDoc } from './state.js';

/**
 * GetContextKeysForPrincipalPolicy and GetContextKeysForCustomPolicy: the context keys a
 * simulation needs values for. AWS lists the keys named in Condition blocks and the
 * policy variables used in Resource and in condition values (its documented example
 * answers `aws:username`, from `table/${aws:username}`, then `aws:CurrentTime`), each key
 * once, spelled as the policy first spells it (keys are case-insensitive), in the order
 * they appear.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForCustomPolicy.html
 */
type Input = Record<string, any>;

const VARIABLE = /\$\{([^}]*)\}/g;

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The keys of "${key}" and "${key, 'default'}"; ${*}, ${?} and ${$} are escapes, not keys. */
function variables(s: string): string[] {
  const out: string[] = [];
  VARIABLE.lastIndex = 0;
  for (let m = VARIABLE.exec(s); m; m = VARIABLE.exec(s)) {
    const key = m[1]!.split(',')[0]!.trim();
    if (key && !['*', '?', '$'].includes(key)) out.push(key);
  }
  return out;
}

class KeySet {
  private readonly keys = new Map<string, string>();
  add(key: string): void {
    const k = key.toLowerCase();
    if (!this.keys.has(k)) this.keys.set(k, key);
  }
  list(): string[] {
    return [...this.keys.values()];
  }
}

function collect(doc: PolicyDocument, keys: KeySet): void {
  const statements: Statement[] = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  for (const st of statements) {
    // The statement's own field order is the document's order.
    for (const [field, value] of Object.entries(st)) {
      if (field === 'Resource' || field === 'NotResource') {
        for (const r of strings(value)) variables(r).forEach((k) => keys.add(k));
      } else if (field === 'Condition' && value && typeof value === 'object') {
        for (const block of Object.values(value as Record<string, Record<string, unknown>>)) {
          if (!block || typeof block !== 'object') continue;
          for (const [key, v] of Object.entries(block)) {
            keys.add(key);
            for (const s of strings(v)) variables(s).forEach((k) => keys.add(k));
          }
        }
      }
    }
  }
}

/** A PolicyInputList entry: any valid policy, identity or resource-based (with a Principal). */
function parseInput(text: unknown): PolicyDocument {
  try {
    const raw = JSON.parse(String(text)) as { Statement?: unknown };
    const statements = Array.isArray(raw?.Statement) ? raw.Statement : [raw?.Statement];
    const resource = statements.some((s) => s && typeof s === 'object' && ('Principal' in s || 'NotPrincipal' in s));
    return validatePolicyDocument(String(text), resource ? 'resource' : 'identity');
  } catch (e) {
    if (e instanceof PolicyValidationError) throw IamErrors.InvalidInput({ message: e.message });
    throw IamErrors.InvalidInput({ message: 'Syntax errors in policy.' });
  }
}

function defaultVersion(p: ManagedPolicyDoc | undefined): string | undefined {
  return p?.Versions.find((v) => v.VersionId === p.DefaultVersionId)?.Document;
}

/** The policy texts of a user (with its groups'), a group or a role: inline and attached. */
function principalPolicies(ctx: RequestContext, arn: string): string[] {
  const m = /^arn:aws:iam::(\d{12}):(user|group|role)\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  if (!m) throw IamErrors.InvalidInput({ message: `Invalid ARN: ${arn}` });
  const kind = m[2] as 'user' | 'group' | 'role';
  const name = m[3]!;
  const state = iam(ctx);
  const entity = state.get(kind, name);
  if (!entity || entity.Arn !== arn) throw IamErrors.NoSuchEntity({ message: `The ${kind} with name ${name} cannot be found.` });
  const owners: Array<{ AttachedPolicies: string[]; InlinePolicies: Record<string, string> }> = [entity];
  if (kind === 'user') {
    for (const g of state.get('user', name)!.Groups) {
      const group = state.get('group', g);
      if (group) owners.push(group);
    }
  }
  const texts: string[] = [];
  for (const o of owners) {
    texts.push(...Object.values(o.InlinePolicies));
    for (const a of o.AttachedPolicies) {
      const doc = defaultVersion(state.managedPolicy(a));
      if (doc) texts.push(doc);
    }
  }
  return texts;
}

export function getContextKeysForCustomPolicy(input: Input, _ctx: RequestContext) {
  const list = (input.PolicyInputList ?? []) as string[];
  if (!list.length) throw IamErrors.InvalidInput({ message: 'PolicyInputList must contain at least one policy.' });
  const keys = new KeySet();
  for (const text of list) collect(parseInput(text), keys);
  return { ContextKeyNames: keys.list() };
}

export function getContextKeysForPrincipalPolicy(input: Input, ctx: RequestContext) {
  const keys = new KeySet();
  for (const text of principalPolicies(ctx, String(input.PolicySourceArn ?? ''))) collect(iam(ctx).document(text), keys);
  for (const text of (input.PolicyInputList ?? []) as string[]) collect(parseInput(text), keys);
  return { ContextKeyNames: keys.list() };
}

export const contextKeyOperations = {
  GetContextKeysForPrincipalPolicy: op(getContextKeysForPrincipalPolicy, 'GetContextKeysForPrincipalPolicy', (i: Input) => i.PolicySourceArn),
  GetContextKeysForCustomPolicy: op(getContextKeysForCustomPolicy, 'GetContextKeysForCustomPolicy'),
};
