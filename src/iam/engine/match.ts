/**
 * Matching helpers for the policy engine: IAM wildcards ('*' and '?'), policy variables
 * (${aws:username}, ${aws:PrincipalTag/team, 'default'}, ${*} ${?} ${$}), Action and
 * Resource elements, and ARNs compared component by component.
 *
 * Compiled regular expressions are cached by pattern so that evaluating the same policies
 * again costs a Map lookup rather than a RegExp construction.
 */

/**
 * The request context, looked up by lower-cased key (condition keys are case-insensitive).
 * The lower-cased index is built on first use: most requests meet no condition at all.
 */
export class Context {
  private index: Map<string, string | string[]> | undefined;
  constructor(private readonly raw: Record<string, unknown>) {}

  /** The value of a key, however it is cased (tried as written first). */
  get(key: string): string | string[] | undefined {
    if (Object.prototype.hasOwnProperty.call(this.raw, key)) {
      const v = this.raw[key];
      if (v !== undefined && v !== null) return typeof v === 'string' ? v : Array.isArray(v) ? v.map((x) => String(x)) : String(v);
    }
    const lowerKey = key.toLowerCase();
    if (!this.index) {
      this.index = new Map();
      for (const key in this.raw) {
        const v = this.raw[key];
        if (v === undefined || v === null) continue;
        this.index.set(key.toLowerCase(), Array.isArray(v) ? v.map((x) => String(x)) : String(v));
      }
    }
    return this.index.get(lowerKey);
  }
}

const MAX_CACHE = 20_000;
const caseSensitive = new Map<string, RegExp>();
const caseInsensitive = new Map<string, RegExp>();

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\\/]/g, '\\$&');
}

/** '*' = any run of characters (possibly empty), '?' = exactly one; everything else literal. */
export function wildcardRegex(pattern: string, ignoreCase: boolean): RegExp {
  const cache = ignoreCase ? caseInsensitive : caseSensitive;
  let re = cache.get(pattern);
  if (re) return re;
  let src = '^';
  let lit = '';
  for (const ch of pattern) {
    if (ch === '*' || ch === '?') {
      if (lit) src += escapeRegex(lit);
      lit = '';
      src += ch === '*' ? '[\\s\\S]*' : '[\\s\\S]';
    } else {
      lit += ch;
    }
  }
  if (lit) src += escapeRegex(lit);
  re = new RegExp(src + '$', ignoreCase ? 'is' : 's');
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Whether a pattern has IAM wildcards at all (fast path for literal comparisons). */
export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  if (pattern === '*') return true;
  if (!hasWildcard(pattern)) return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  return wildcardRegex(pattern, ignoreCase).test(value);
}

/**
 * A string with its policy variables resolved. Literal text and variable values are kept
 * apart so that a '*' inside a variable's value is never treated as a wildcard.
 */
export interface Resolved {
  /** Alternating pieces: kind 'lit' may hold wildcards; kind 'val' is matched literally. */
  parts: Array<{ kind: 'lit' | 'val'; text: string }>;
  /** Variables with no value in the context and no default: the string cannot match. */
  unresolved?: string[];
}

const VAR_RE = /\$\{([^}]*)\}/g;

export function hasVariables(s: string): boolean {
  return s.includes('${');
}

/** Parses "${key}" / "${key, 'default'}" bodies. */
function parseVariable(body: string): { key: string; def?: string } {
  const comma = body.indexOf(',');
  if (comma < 0) return { key: body.trim() };
  const key = body.slice(0, comma).trim();
  const rest = body.slice(comma + 1).trim();
  if (rest.length >= 2 && rest.startsWith("'") && rest.endsWith("'")) return { key, def: rest.slice(1, -1) };
  return { key: body.trim() };
}

/** The single value of a key for substitution (multivalued keys cannot be substituted). */
function singleValue(ctx: Context, key: string): string | undefined {
  const v = ctx.get(key);
  if (v === undefined || Array.isArray(v)) return undefined;
  return v;
}

/** Resolves policy variables against the context. */
export function resolveVariables(s: string, ctx: Context): Resolved {
  const parts: Resolved['parts'] = [];
  let unresolved: string[] | undefined;
  let last = 0;
  VAR_RE.lastIndex = 0;
  for (let m = VAR_RE.exec(s); m; m = VAR_RE.exec(s)) {
    if (m.index > last) parts.push({ kind: 'lit', text: s.slice(last, m.index) });
    last = m.index + m[0].length;
    const body = m[1]!;
    if (body === '*' || body === '?' || body === '$') {
      parts.push({ kind: 'val', text: body });
      continue;
    }
    const { key, def } = parseVariable(body);
    const value = singleValue(ctx, key);
    if (value !== undefined) parts.push({ kind: 'val', text: value });
    else if (def !== undefined) parts.push({ kind: 'val', text: def });
    else (unresolved ??= []).push(key);
  }
  if (last < s.length) parts.push({ kind: 'lit', text: s.slice(last) });
  return { parts, unresolved };
}

/** Flattens a resolution into a wildcard pattern in which variable values are literal. */
function resolvedToRegex(r: Resolved, wildcards: boolean, ignoreCase: boolean): RegExp {
  let src = '^';
  for (const p of r.parts) {
    if (p.kind === 'val' || !wildcards) src += escapeRegex(p.text);
    else src += wildcardRegex(p.text, ignoreCase).source.slice(1, -1);
  }
  return new RegExp(src + '$', ignoreCase ? 'is' : 's');
}

export function resolvedText(r: Resolved): string {
  return r.parts.map((p) => p.text).join('');
}

/**
 * Compares a policy value (which may hold policy variables) with a request value.
 * Returns undefined when a variable could not be resolved (the comparison cannot hold).
 */
export function matchWithVariables(policy: string, value: string, ctx: Context, wildcards: boolean, ignoreCase: boolean, missing?: Set<string>): boolean | undefined {
  if (!hasVariables(policy)) {
    if (!wildcards) return ignoreCase ? policy.toLowerCase() === value.toLowerCase() : policy === value;
    return wildcardMatch(policy, value, ignoreCase);
  }
  const r = resolveVariables(policy, ctx);
  if (r.unresolved) {
    if (missing) for (const k of r.unresolved) missing.add(k);
    return undefined;
  }
  if (r.parts.every((p) => p.kind === 'val') || !wildcards) {
    const text = resolvedText(r);
    return ignoreCase ? text.toLowerCase() === value.toLowerCase() : text === value;
  }
  return resolvedToRegex(r, wildcards, ignoreCase).test(value);
}

/** Action / NotAction entries: "service:Action" with wildcards, case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return wildcardMatch(pattern, action, true);
}

/** Splits an ARN into its six components (the resource part keeps any further colons). */
export function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const idx = arn.indexOf(':', start);
    if (idx < 0) return undefined;
    parts.push(arn.slice(start, idx));
    start = idx + 1;
  }
  parts.push(arn.slice(start));
  return parts[0] === 'arn' ? parts : undefined;
}

/**
 * Resource / NotResource entries and the Arn* condition operators: an ARN pattern is
 * compared component by component (a wildcard does not cross a component's colon), the
 * resource component being the rest of the ARN. A pattern with fewer than six components
 * ending in '*' has its missing components filled with '*'. Case-sensitive.
 */
export function arnPatternMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  if (pattern === arn) return true;
  if (!hasWildcard(pattern)) return false;
  let p = splitArn(pattern);
  if (!p) {
    const segs = pattern.split(':');
    if (segs[0] !== 'arn' || !segs[segs.length - 1]!.endsWith('*')) return false;
    while (segs.length < 6) segs.push('*');
    p = segs;
  }
  const a = splitArn(arn);
  if (!a) return false;
  for (let i = 1; i < 6; i++) if (!wildcardMatch(p[i]!, a[i]!, false)) return false;
  return true;
}

/**
 * An ARN pattern holding a variable that cannot be resolved, compared with an ARN: the
 * components are compared in order (partition, service, region, account, resource); one
 * that differs before a component holding the unresolved variable is reached decides
 * "no match" (false) whatever the variable would have held; otherwise the comparison is
 * undecidable (undefined) — AWS: an unresolvable variable can make the statement invalid.
 */
export function unresolvedArnComparison(pattern: string, arn: string): false | undefined {
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return undefined;
  for (let i = 1; i < 6; i++) {
    if (hasVariables(p[i]!)) return undefined;
    if (!wildcardMatch(p[i]!, a[i]!, false)) return false;
  }
  return undefined;
}

/**
 * Matches a Resource entry, resolving policy variables first. Returns undefined when a
 * variable cannot be resolved: AWS then treats the entry as not applicable.
 */
export function resourceMatches(pattern: string, resource: string, ctx: Context, missing?: Set<string>): boolean | undefined {
  if (!hasVariables(pattern)) return arnPatternMatches(pattern, resource);
  const r = resolveVariables(pattern, ctx);
  if (r.unresolved) {
    if (missing) for (const k of r.unresolved) missing.add(k);
    // An ARN whose partition, service, region or account already differs is not this
    // resource whatever the variable would have held; otherwise the entry is undecidable
    // (AWS: an unresolvable variable can make the whole statement invalid).
    return unresolvedArnComparison(pattern, resource);
  }
  // Variable values are literal: escape any wildcard characters they hold by matching
  // component-wise on the resolved text only where literal parts carry the wildcards.
  const literalHasWildcard = r.parts.some((p) => p.kind === 'lit' && hasWildcard(p.text));
  const valueHasWildcard = r.parts.some((p) => p.kind === 'val' && hasWildcard(p.text));
  const text = resolvedText(r);
  if (!valueHasWildcard) return literalHasWildcard ? arnPatternMatches(text, resource) : text === resource;
  // Rare: a substituted value contains '*' or '?' (or ${*} was used). Compare the whole ARN
  // with only the literal parts' wildcards active.
  return resolvedToRegex(r, true, false).test(resource);
}
