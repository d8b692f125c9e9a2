/**
 * CloudWatch Logs filter patterns, as FilterLogEvents (and later metric and subscription
 * filters) apply them to event messages. A pure module: compile a pattern once, then test
 * messages with the returned function.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 *
 * Three families, chosen by the pattern's first character:
 * - terms: `ERROR Exception`, `"exact phrase"`, `?ERROR ?WARN` (any of), `-term` or
 *   `- "term"` (none of). Terms are case-sensitive substrings; `""` or empty matches all.
 * - JSON `{ $.a.b[0] = "x" && ($.n > 5 || $.flag IS TRUE) }`: selectors from `$`, the
 *   comparisons = != < <= > >=, IS NULL, IS TRUE, IS FALSE, NOT EXISTS, && over ||, and
 *   parentheses. A selector must reach a value node (string, number, boolean): one that
 *   reaches an object or array, or nothing, makes = and != false alike.
 * - space-delimited `[ip, user, ..., status=4* && size > 1000, bytes]`: the message is cut
 *   at spaces (a "…" or […] run is one field, without its quotes or brackets), fields bind
 *   to names by position, `...` absorbs any number of fields, and conditions may name any
 *   field of the pattern.
 * Values: quoted or bare strings, where a leading or trailing `*` is a wildcard (an inner
 * `*` is literal, as AWS documents for "Ev*ent"); numbers (sign, decimals, exponent)
 * compare numerically with numbers; `%regex%` is a regular expression (also standalone).
 */
export type Matcher = (message: string) => boolean;

/** A pattern AWS would reject; the message is the InvalidParameterException's. */
export class FilterPatternError extends Error {}

export function compileFilterPattern(pattern: string | undefined): Matcher {
  const p = (pattern ?? '').trim();
  if (p === '' || p === '""') return () => true;
  if (p.startsWith('{')) {
    if (!p.endsWith('}')) throw new FilterPatternError("If a filter pattern starts with '{' it must end with '}'");
    return compileJson(p.slice(1, -1));
  }
  if (p.startsWith('[')) {
    if (!p.endsWith(']')) throw new FilterPatternError("If a filter pattern starts with '[' it must end with ']'");
    return compileDelimited(p.slice(1, -1));
  }
  if (p.length > 1 && p.startsWith('%') && p.endsWith('%')) {
    const re = regex(p.slice(1, -1));
    return (m) => re.test(m);
  }
  return compileTerms(p);
}

// ---------------------------------------------------------------------------------------
// Terms

/** Characters a term may have without quotes (AWS asks for quotes around anything else). */
const BARE_TERM = /^[\p{L}\p{N}_.:/#-]+$/u;

function compileTerms(p: string): Matcher {
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  let i = 0;
  while (i < p.length) {
    if (/\s/.test(p[i]!)) {
      i++;
      continue;
    }
    let kind: 'all' | 'any' | 'none' = 'all';
    if (p[i] === '?') {
      kind = 'any';
      i++;
    } else if (p[i] === '-' && (i + 1 >= p.length || /[\s"]/.test(p[i + 1]!) || BARE_TERM.test(p[i + 1]!))) {
      kind = 'none';
      i++;
      while (i < p.length && /\s/.test(p[i]!)) i++;
    }
    let term: string;
    if (p[i] === '"') {
      const q = readQuoted(p, i);
      term = q.text;
      i = q.end;
    } else {
      const start = i;
      while (i < p.length && !/\s/.test(p[i]!)) i++;
      term = p.slice(start, i);
      if (term === '') throw new FilterPatternError('Invalid filter pattern');
      if (!BARE_TERM.test(term)) throw new FilterPatternError(`Invalid character(s) in term '${term}'`);
    }
    (kind === 'all' ? all : kind === 'any' ? any : none).push(term);
  }
  return (m) => all.every((t) => m.includes(t)) && (any.length === 0 || any.some((t) => m.includes(t))) && !none.some((t) => m.includes(t));
}

/** A double-quoted string starting at p[i]; backslash escapes the next character. */
function readQuoted(p: string, i: number): { text: string; end: number } {
  let out = '';
  let j = i + 1;
  for (; j < p.length; j++) {
    const c = p[j]!;
    if (c === '\\' && j + 1 < p.length) {
      out += p[++j];
    } else if (c === '"') {
      return { text: out, end: j + 1 };
    } else out += c;
  }
  throw new FilterPatternError('Invalid filter pattern: unterminated quoted string');
}

function regex(source: string): RegExp {
  // AWS's regex subset has no groups ("The ( and ) operators are not supported").
  if (/[()]/.test(source)) throw new FilterPatternError('Invalid regex pattern: ( and ) are not supported');
  try {
    return new RegExp(source);
  } catch {
    throw new FilterPatternError(`Invalid regex pattern: %${source}%`);
  }
}

// ---------------------------------------------------------------------------------------
// Values and comparisons (shared by JSON and space-delimited patterns)

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

type Value =
  | { kind: 'number'; n: number; text: string }
  | { kind: 'string'; text: string; quoted: boolean }
  | { kind: 'regex'; re: RegExp };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function bareValue(text: string): Value {
  if (NUMBER.test(text)) return { kind: 'number', n: Number(text), text };
  return { kind: 'string', text, quoted: false };
}

/** `*x`, `x*`, `*x*` and `*` are wildcards; a `*` anywhere else is a literal character. */
function globMatch(pattern: string, s: string): boolean {
  if (pattern === '*') return true;
  const lead = pattern.startsWith('*');
  const trail = pattern.length > 1 && pattern.endsWith('*');
  const core = pattern.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (lead && trail) return s.includes(core);
  if (lead) return s.endsWith(core);
  if (trail) return s.startsWith(core);
  return s === core;
}

/** A scalar the comparison applies to: a JSON value node, or a space-delimited field. */
type Scalar = string | number | boolean;

function compare(target: Scalar, op: Op, v: Value): boolean {
  if (op === '=' || op === '!=') {
    let eq: boolean;
    if (v.kind === 'regex') eq = v.re.test(String(target));
    else if (v.kind === 'number' && numeric(target) !== undefined) eq = numeric(target) === v.n;
    else eq = v.kind === 'string' ? globMatch(v.text, String(target)) : String(target) === v.text;
    return op === '=' ? eq : !eq;
  }
  const n = numeric(target);
  if (n === undefined || v.kind !== 'number') return false;
  switch (op) {
    case '<':
      return n < v.n;
    case '<=':
      return n <= v.n;
    case '>':
      return n > v.n;
    case '>=':
      return n >= v.n;
  }
}

function numeric(t: Scalar): number | undefined {
  if (typeof t === 'number') return t;
  if (typeof t === 'string' && NUMBER.test(t)) return Number(t);
  return undefined;
}

// ---------------------------------------------------------------------------------------
// A small tokenizer for the expression languages inside { } and [ ]

type Tok =
  | { t: 'op'; v: Op }
  | { t: 'and' }
  | { t: 'or' }
  | { t: 'lp' }
  | { t: 'rp' }
  | { t: 'quoted'; v: string }
  | { t: 'regex'; v: string }
  | { t: 'word'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith('&&', i)) {
      out.push({ t: 'and' });
      i += 2;
    } else if (src.startsWith('||', i)) {
      out.push({ t: 'or' });
      i += 2;
    } else if (src.startsWith('!=', i) || src.startsWith('<=', i) || src.startsWith('>=', i)) {
      out.push({ t: 'op', v: src.slice(i, i + 2) as Op });
      i += 2;
    } else if (c === '=' || c === '<' || c === '>') {
      out.push({ t: 'op', v: c });
      i++;
    } else if (c === '(') {
      out.push({ t: 'lp' });
      i++;
    } else if (c === ')') {
      out.push({ t: 'rp' });
      i++;
    } else if (c === '"') {
      const q = readQuoted(src, i);
      out.push({ t: 'quoted', v: q.text });
      i = q.end;
    } else if (c === '%') {
      const end = src.indexOf('%', i + 1);
      if (end < 0) throw new FilterPatternError('Invalid filter pattern: unterminated regex');
      out.push({ t: 'regex', v: src.slice(i + 1, end) });
      i = end + 1;
    } else {
      const start = i;
      while (i < src.length && !/[\s()=<>!&|"]/.test(src[i]!)) i++;
      // A lone "!" that does not start "!=" is not part of the grammar.
      if (i === start) throw new FilterPatternError('Invalid filter pattern');
      out.push({ t: 'word', v: src.slice(start, i) });
    }
  }
  return out;
}

/** Recursive-descent boolean expressions: || binds looser than &&; parentheses group. */
class ExprParser<T> {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly leaf: (p: ExprParser<T>) => (x: T) => boolean,
  ) {}

  parseAll(): (x: T) => boolean {
    if (this.toks.length === 0) throw new FilterPatternError('Invalid filter pattern: empty expression');
    const e = this.or();
    if (this.i < this.toks.length) throw new FilterPatternError('Invalid filter pattern');
    return e;
  }

  peek(): Tok | undefined {
    return this.toks[this.i];
  }

  next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new FilterPatternError('Invalid filter pattern: unexpected end');
    return t;
  }

  private or(): (x: T) => boolean {
    const parts = [this.and()];
    while (this.peek()?.t === 'or') {
      this.i++;
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0]! : (x) => parts.some((p) => p(x));
  }

  private and(): (x: T) => boolean {
    const parts = [this.unary()];
    while (this.peek()?.t === 'and') {
      this.i++;
      parts.push(this.unary());
    }
    return parts.length === 1 ? parts[0]! : (x) => parts.every((p) => p(x));
  }

  private unary(): (x: T) => boolean {
    if (this.peek()?.t === 'lp') {
      this.i++;
      const e = this.or();
      if (this.peek()?.t !== 'rp') throw new FilterPatternError('Invalid filter pattern: missing )');
      this.i++;
      return e;
    }
    return this.leaf(this);
  }

  /** The value after an operator. */
  value(): Value {
    const t = this.next();
    if (t.t === 'quoted') return { kind: 'string', text: t.v, quoted: true };
    if (t.t === 'regex') return { kind: 'regex', re: regex(t.v) };
    if (t.t === 'word') return bareValue(t.v);
    throw new FilterPatternError('Invalid filter pattern: expected a value');
  }
}

// ---------------------------------------------------------------------------------------
// JSON patterns

type Step = { key: string } | { index: number };

function parseSelector(text: string): Step[] {
  if (!text.startsWith('$')) throw new FilterPatternError(`Invalid selector ${text}: selectors start with $`);
  const steps: Step[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) throw new FilterPatternError(`Invalid selector ${text}`);
    steps.push(m[1] !== undefined ? { key: m[1] } : { index: Number(m[2]) });
  }
  return steps;
}

type Resolved = { found: false } | { found: true; value: unknown };

function resolve(doc: unknown, steps: Step[]): Resolved {
  let cur = doc;
  for (const s of steps) {
    if ('key' in s) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, s.key)) return { found: false };
      cur = (cur as Record<string, unknown>)[s.key];
    } else {
      if (!Array.isArray(cur) || s.index >= cur.length) return { found: false };
      cur = cur[s.index];
    }
  }
  return { found: true, value: cur };
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** A parsed message; undefined when it is not JSON (the pattern then matches nothing). */
type JsonDoc = { doc: unknown } | undefined;

function compileJson(body: string): Matcher {
  const expr = new ExprParser<JsonDoc>(tokenize(body), (p) => {
    const sel = p.next();
    if (sel.t !== 'word' || !sel.v.startsWith('$')) throw new FilterPatternError('Invalid filter pattern: expected a selector starting with $');
    const steps = parseSelector(sel.v);
    const t = p.next();
    if (t.t === 'op') {
      const op = t.v;
      const v = p.value();
      if (op !== '=' && op !== '!=' && v.kind !== 'number') throw new FilterPatternError(`Invalid filter pattern: ${op} needs a number`);
      return (d) => {
        if (!d) return false;
        const r = resolve(d.doc, steps);
        return r.found && isScalar(r.value) && compare(r.value, op, v);
      };
    }
    if (t.t === 'word' && t.v.toUpperCase() === 'IS') {
      const w = p.next();
      const what = w.t === 'word' ? w.v.toUpperCase() : '';
      const expected = what === 'NULL' ? null : what === 'TRUE' ? true : what === 'FALSE' ? false : undefined;
      if (expected === undefined) throw new FilterPatternError('Invalid filter pattern: IS takes NULL, TRUE or FALSE');
      return (d) => {
        if (!d) return false;
        const r = resolve(d.doc, steps);
        return r.found && r.value === expected;
      };
    }
    if (t.t === 'word' && t.v.toUpperCase() === 'NOT') {
      const w = p.next();
      if (w.t !== 'word' || w.v.toUpperCase() !== 'EXISTS') throw new FilterPatternError('Invalid filter pattern: expected NOT EXISTS');
      return (d) => !!d && !resolve(d.doc, steps).found;
    }
    throw new FilterPatternError('Invalid filter pattern: expected an operator after the selector');
  }).parseAll();
  return (m) => {
    let doc: JsonDoc;
    try {
      doc = { doc: JSON.parse(m) };
    } catch {
      doc = undefined;
    }
    return expr(doc);
  };
}

// ---------------------------------------------------------------------------------------
// Space-delimited patterns

type Slot = { ellipsis: true } | { ellipsis: false; name?: string; cond?: (fields: Map<string, string>) => boolean };

/** Splits at top-level commas (not inside quotes). */
function splitSlots(body: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"') {
      const q = readQuoted(body, i);
      cur += body.slice(i, q.end);
      i = q.end - 1;
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

function compileSlot(spec: string): Slot {
  if (spec === '...' || spec === '…') return { ellipsis: true };
  if (spec === '') return { ellipsis: false };
  const toks = tokenize(spec);
  if (toks.length === 1) {
    const t = toks[0]!;
    if (t.t === 'word' && NAME.test(t.v)) return { ellipsis: false, name: t.v };
    throw new FilterPatternError(`Invalid filter pattern: field ${spec}`);
  }
  let name: string | undefined;
  const cond = new ExprParser<Map<string, string>>(toks, (p) => {
    const f = p.next();
    if (f.t !== 'word' || !NAME.test(f.v)) throw new FilterPatternError(`Invalid filter pattern: field ${spec}`);
    name ??= f.v;
    const opTok = p.next();
    if (opTok.t !== 'op') throw new FilterPatternError(`Invalid filter pattern: expected an operator in ${spec}`);
    const op = opTok.v;
    const v = p.value();
    if (op !== '=' && op !== '!=' && v.kind !== 'number') throw new FilterPatternError(`Invalid filter pattern: ${op} needs a number`);
    const field = f.v;
    return (fields) => {
      const val = fields.get(field);
      return val !== undefined && compare(val, op, v);
    };
  }).parseAll();
  return { ellipsis: false, name, cond };
}

/** The message's fields: runs of non-spaces, with "…" and […] each one field. */
export function splitFields(message: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < message.length) {
    const c = message[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const close = c === '"' ? '"' : c === '[' ? ']' : undefined;
    if (close) {
      const end = message.indexOf(close, i + 1);
      if (end >= 0) {
        out.push(message.slice(i + 1, end));
        i = end + 1;
        continue;
      }
    }
    const start = i;
    while (i < message.length && !/\s/.test(message[i]!)) i++;
    out.push(message.slice(start, i));
  }
  return out;
}

function compileDelimited(body: string): Matcher {
  const slots = splitSlots(body).map(compileSlot);
  const fixed = slots.filter((s) => !s.ellipsis).length;
  const conds = slots.filter((s): s is Extract<Slot, { ellipsis: false }> => !s.ellipsis && !!s.cond).map((s) => s.cond!);
  return (m) => {
    const fields = splitFields(m);
    if (fields.length < fixed) return false;
    // Try every way the ellipses can absorb fields; the first alignment whose conditions
    // all hold matches (patterns rarely have more than one ellipsis).
    const bind = (si: number, fi: number, names: Map<string, string>): boolean => {
      if (si === slots.length) return fi === fields.length && conds.every((c) => c(names));
      const s = slots[si]!;
      if (s.ellipsis) {
        const remainingFixed = slots.slice(si + 1).filter((x) => !x.ellipsis).length;
        for (let take = 0; fi + take + remainingFixed <= fields.length; take++) if (bind(si + 1, fi + take, names)) return true;
        return false;
      }
      if (fi >= fields.length) return false;
      const had = s.name !== undefined && names.has(s.name);
      const prev = s.name !== undefined ? names.get(s.name) : undefined;
      if (s.name !== undefined && !had) names.set(s.name, fields[fi]!);
      const ok = bind(si + 1, fi + 1, names);
      if (s.name !== undefined && !had) names.delete(s.name);
      else if (s.name !== undefined) names.set(s.name, prev!);
      return ok;
    };
    return bind(0, 0, new Map());
  };
}
