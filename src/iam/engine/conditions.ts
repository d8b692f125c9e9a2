/**
 * The Condition element: every operator family, ...IfExists, the ForAllValues: and
 * ForAnyValue: set operators and Null, with AWS's rules for absent keys.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *
 * - Keys are case-insensitive; values are compared per operator (String* case-sensitive
 *   unless ...IgnoreCase).
 * - Within one block, every operator and every key must hold (AND); several values for one
 *   key are alternatives (OR). For a negated operator (StringNotEquals, NotIpAddress,
 *   ArnNotLike, …) the key's value must match none of the values (NOR).
 * - A key absent from the context: a positive operator is false; a negated operator is true;
 *   ...IfExists is true; ForAllValues: is true (an empty set); ForAnyValue: is false;
 *   Null tests exactly that ("true" = absent).
 * - A single-valued operator cannot hold for a multivalued key (use a set operator).
 * - Policy variables may be used in String*, Arn*, Bool and Binary values; one that cannot
 *   be resolved (no value, no default) makes that value unable to match.
 */
import type { Context } from './match.js';
import { arnPatternMatches, unresolvedArnComparison, matchWithVariables, hasVariables, resolveVariables, resolvedText } from './match.js';

export type BaseOperator =
  | 'StringEquals' | 'StringNotEquals' | 'StringEqualsIgnoreCase' | 'StringNotEqualsIgnoreCase' | 'StringLike' | 'StringNotLike'
  | 'NumericEquals' | 'NumericNotEquals' | 'NumericLessThan' | 'NumericLessThanEquals' | 'NumericGreaterThan' | 'NumericGreaterThanEquals'
  | 'DateEquals' | 'DateNotEquals' | 'DateLessThan' | 'DateLessThanEquals' | 'DateGreaterThan' | 'DateGreaterThanEquals'
  | 'Bool' | 'BinaryEquals' | 'IpAddress' | 'NotIpAddress' | 'ArnEquals' | 'ArnLike' | 'ArnNotEquals' | 'ArnNotLike' | 'Null';

export const BASE_OPERATORS: readonly BaseOperator[] = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
];
const BASE_BY_LOWER = new Map(BASE_OPERATORS.map((o) => [o.toLowerCase(), o] as const));

const NEGATED = new Set<BaseOperator>([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike',
]);

export interface ParsedOperator {
  base: BaseOperator;
  set?: 'ForAllValues' | 'ForAnyValue';
  ifExists: boolean;
  negated: boolean;
}

const operatorCache = new Map<string, ParsedOperator | null>();

/** "ForAnyValue:StringLikeIfExists" → its parts; undefined for an unknown operator. */
export function parseOperator(name: string): ParsedOperator | undefined {
  const cached = operatorCache.get(name);
  if (cached !== undefined) return cached ?? undefined;
  let rest = name;
  let set: ParsedOperator['set'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const q = rest.slice(0, colon).toLowerCase();
    if (q === 'forallvalues') set = 'ForAllValues';
    else if (q === 'foranyvalue') set = 'ForAnyValue';
    else {
      operatorCache.set(name, null);
      return undefined;
    }
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    rest = rest.slice(0, -'ifexists'.length);
  }
  const base = BASE_BY_LOWER.get(rest.toLowerCase());
  const parsed = base && !(base === 'Null' && (ifExists || set)) ? { base, set, ifExists, negated: NEGATED.has(base) } : undefined;
  operatorCache.set(name, parsed ?? null);
  return parsed;
}

// ---- value parsing -------------------------------------------------------------------

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  return NUMBER_RE.test(t) ? Number(t) : undefined;
}

const EPOCH_RE = /^[+-]?\d+$/;
const ISO_RE = /^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
/** Dates: ISO 8601 (W3C profile) or epoch (UNIX) seconds. Milliseconds since epoch. */
const dateCache = new Map<string, number | null>();
export function parseDate(s: string): number | undefined {
  const c = dateCache.get(s);
  if (c !== undefined) return c ?? undefined;
  const v = parseDateUncached(s);
  if (dateCache.size >= 10_000) dateCache.clear();
  dateCache.set(s, v ?? null);
  return v;
}

function parseDateUncached(s: string): number | undefined {
  const t = s.trim();
  if (EPOCH_RE.test(t)) return Number(t) * 1000;
  if (!ISO_RE.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

type Ip = { v6: boolean; bits: bigint };

function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0n;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    n = (n << 8n) | BigInt(b);
  }
  return n;
}

function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail4: bigint | undefined;
  let body = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail4 = parseIpv4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    body = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = body.indexOf('::');
  if (dbl !== body.lastIndexOf('::')) return undefined;
  let groups: string[];
  if (dbl >= 0) {
    const head = body.slice(0, dbl) ? body.slice(0, dbl).split(':') : [];
    const tail = body.slice(dbl + 2) ? body.slice(dbl + 2).split(':') : [];
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  } else {
    groups = body.split(':');
  }
  if (groups.length !== 8) return undefined;
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) n = (n & ~0xffffffffn) | tail4;
  return n;
}

const ipCache = new Map<string, Ip | null>();
export function parseIp(s: string): Ip | undefined {
  const c = ipCache.get(s);
  if (c !== undefined) return c ?? undefined;
  const v = parseIpUncached(s);
  if (ipCache.size >= 10_000) ipCache.clear();
  ipCache.set(s, v ?? null);
  return v;
}

function parseIpUncached(s: string): Ip | undefined {
  const t = s.trim();
  const v4 = parseIpv4(t);
  if (v4 !== undefined) return { v6: false, bits: v4 };
  const v6 = t.includes(':') ? parseIpv6(t) : undefined;
  return v6 !== undefined ? { v6: true, bits: v6 } : undefined;
}

interface Cidr { v6: boolean; net: bigint; mask: bigint }
const cidrCache = new Map<string, Cidr | null>();
/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). */
export function parseCidr(s: string): Cidr | undefined {
  const c = cidrCache.get(s);
  if (c !== undefined) return c ?? undefined;
  let result: Cidr | undefined;
  const slash = s.indexOf('/');
  const ip = parseIp(slash >= 0 ? s.slice(0, slash) : s);
  if (ip) {
    const width = ip.v6 ? 128 : 32;
    const lenText = slash >= 0 ? s.slice(slash + 1).trim() : String(width);
    const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : -1;
    if (len >= 0 && len <= width) {
      const all = (1n << BigInt(width)) - 1n;
      const mask = len === 0 ? 0n : (all << BigInt(width - len)) & all;
      result = { v6: ip.v6, net: ip.bits & mask, mask };
    }
  }
  if (cidrCache.size > 10_000) cidrCache.clear();
  cidrCache.set(s, result ?? null);
  return result;
}

// ---- comparisons ---------------------------------------------------------------------

/**
 * Compares one context value with one policy value for a (non-negated) operator:
 * true/false, or undefined when the comparison is impossible (unparsable values, an
 * unresolvable policy variable); an impossible comparison holds for neither a positive
 * nor a negated operator.
 */
function comparePositive(base: BaseOperator, ctxValue: string, policyValue: string, ctx: Context, missing: Set<string>): boolean | undefined {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
      return matchWithVariables(policyValue, ctxValue, ctx, false, false, missing);
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return matchWithVariables(policyValue, ctxValue, ctx, false, true, missing);
    case 'StringLike':
    case 'StringNotLike':
      return matchWithVariables(policyValue, ctxValue, ctx, true, false, missing);
    case 'NumericEquals':
    case 'NumericNotEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      const a = parseNumber(ctxValue);
      const b = parseNumber(policyValue);
      if (a === undefined || b === undefined) return undefined;
      return compareOrdered(base, a, b);
    }
    case 'DateEquals':
    case 'DateNotEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals': {
      const a = parseDate(ctxValue);
      const b = parseDate(policyValue);
      if (a === undefined || b === undefined) return undefined;
      return compareOrdered(base, a, b);
    }
    case 'Bool': {
      let p = policyValue;
      if (hasVariables(p)) {
        const r = resolveVariables(p, ctx);
        if (r.unresolved) {
          for (const k of r.unresolved) missing.add(k);
          return undefined;
        }
        p = resolvedText(r);
      }
      const pl = p.toLowerCase();
      const cl = ctxValue.toLowerCase();
      if ((pl !== 'true' && pl !== 'false') || (cl !== 'true' && cl !== 'false')) return undefined;
      return pl === cl;
    }
    case 'BinaryEquals':
      return policyValue === ctxValue;
    case 'IpAddress':
    case 'NotIpAddress': {
      const cidr = parseCidr(policyValue);
      const ip = parseIp(ctxValue);
      if (!cidr || !ip) return undefined;
      if (cidr.v6 !== ip.v6) return false;
      return (ip.bits & cidr.mask) === cidr.net;
    }
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike': {
      let p = policyValue;
      if (hasVariables(p)) {
        const r = resolveVariables(p, ctx);
        if (r.unresolved) {
          for (const k of r.unresolved) missing.add(k);
          return ctxValue.startsWith('arn:') ? unresolvedArnComparison(p, ctxValue) : undefined;
        }
        p = resolvedText(r);
      }
      const pp = p.split(':');
      if (pp.length < 6 || pp[0] !== 'arn') return undefined;
      if (ctxValue.split(':').length < 6 || !ctxValue.startsWith('arn:')) return undefined;
      return arnPatternMatches(p, ctxValue);
    }
    case 'Null':
      return undefined;
  }
}

function compareOrdered(base: BaseOperator, ctxValue: number, policyValue: number): boolean {
  if (base.endsWith('NotEquals') || base.endsWith('Equals') && !base.includes('Than')) {
    return ctxValue === policyValue;
  }
  if (base.endsWith('LessThan')) return ctxValue < policyValue;
  if (base.endsWith('LessThanEquals')) return ctxValue <= policyValue;
  if (base.endsWith('GreaterThan')) return ctxValue > policyValue;
  return ctxValue >= policyValue;
}

/** One context value against the key's policy values: OR, or NOR for negated operators. */
function valueSatisfies(op: ParsedOperator, ctxValue: string, policyValues: string[], ctx: Context, missing: Set<string>): boolean {
  if (!op.negated) {
    for (const pv of policyValues) if (comparePositive(op.base, ctxValue, pv, ctx, missing) === true) return true;
    return false;
  }
  for (const pv of policyValues) if (comparePositive(op.base, ctxValue, pv, ctx, missing) !== false) return false;
  return true;
}

export function toStrings(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (v === undefined || v === null) return [];
  return [String(v)];
}

/** Evaluates one operator's key/value map (the keys ANDed). */
export function evaluateOperatorBlock(op: ParsedOperator, entries: Array<[string, string[]]>, ctx: Context, missing: Set<string>): boolean {
  let ok = true;
  for (const [key, policyValues] of entries) {
    if (!evaluateKey(op, key, policyValues, ctx, missing)) ok = false;
  }
  return ok;
}

export function evaluateKey(op: ParsedOperator, key: string, policyValues: string[], ctx: Context, missing: Set<string>): boolean {
  const value = ctx.get(key);
  if (op.base === 'Null') {
    if (value === undefined) missing.add(key);
    const want = value === undefined ? 'true' : 'false';
    return policyValues.some((v) => v.toLowerCase() === want);
  }
  if (value === undefined) {
    missing.add(key);
    if (op.set === 'ForAllValues') return true;
    if (op.set === 'ForAnyValue') return false;
    return op.ifExists || op.negated;
  }
  if (op.set) {
    const values = Array.isArray(value) ? value : [value];
    if (op.set === 'ForAllValues') {
      for (const v of values) if (!valueSatisfies(op, v, policyValues, ctx, missing)) return false;
      return true;
    }
    for (const v of values) if (valueSatisfies(op, v, policyValues, ctx, missing)) return true;
    return false;
  }
  if (Array.isArray(value)) return false;
  return valueSatisfies(op, value, policyValues, ctx, missing);
}

export interface CompiledCondition {
  op: ParsedOperator | undefined;
  entries: Array<[string, string[]]>;
}

export function compileConditions(cond: Record<string, Record<string, unknown>> | undefined): CompiledCondition[] {
  if (!cond || typeof cond !== 'object') return [];
  const out: CompiledCondition[] = [];
  for (const [opName, block] of Object.entries(cond)) {
    const entries: Array<[string, string[]]> = [];
    if (block && typeof block === 'object') for (const [k, v] of Object.entries(block)) entries.push([k, toStrings(v)]);
    out.push({ op: parseOperator(opName), entries });
  }
  return out;
}

/** All blocks must hold; an unknown operator never holds. */
export function conditionsHold(conds: CompiledCondition[], ctx: Context, missing: Set<string>): boolean {
  let ok = true;
  for (const c of conds) {
    if (!c.op) {
      ok = false;
      continue;
    }
    if (!evaluateOperatorBlock(c.op, c.entries, ctx, missing)) ok = false;
  }
  return ok;
}
