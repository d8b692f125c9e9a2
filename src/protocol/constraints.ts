import type { ServiceModel, ShapeRef } from './model.js';
import { shapeOf } from './model.js';

/**
 * The model's input constraints (required, min/max length or value, pattern, enum), checked
 * the way AWS's JSON services report them: one message listing every violation, e.g.
 *   1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy
 *   constraint: Member must satisfy regular expression pattern: [^:*]*
 * Paths name list members AWS's way, 1-based: logEvents.3.member.message.
 * Returns undefined when the input satisfies the model.
 */
export function constraintViolations(model: ServiceModel, ref: ShapeRef, input: unknown): string | undefined {
  const errors: string[] = [];
  check(model, ref, input, '', errors);
  if (errors.length === 0) return undefined;
  return `${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`;
}

const patterns = new Map<string, RegExp>();

/** The model's (Java) patterns must match the whole value. */
function fullMatch(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    const body = pattern.replace(/^\^/, '').replace(/\$$/, '');
    try {
      re = new RegExp(`^(?:${body})$`, 'u');
    } catch {
      re = new RegExp(`^(?:${body})$`);
    }
    patterns.set(pattern, re);
  }
  return re;
}

function render(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return `'${String(v)}'`;
  const text = JSON.stringify(v);
  return `'${text.length > 256 ? `${text.slice(0, 256)}…` : text}'`;
}

function violation(errors: string[], value: unknown, path: string, what: string): void {
  errors.push(`Value ${render(value)} at '${path}' failed to satisfy constraint: Member must ${what}`);
}

function check(model: ServiceModel, ref: ShapeRef, v: unknown, path: string, errors: string[]): void {
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'structure': {
      if (v === null || typeof v !== 'object') return;
      const obj = v as Record<string, unknown>;
      for (const name of shape.required ?? []) {
        if (obj[name] === undefined || obj[name] === null) violation(errors, null, join(path, name), 'not be null');
      }
      for (const [name, mRef] of Object.entries(shape.members ?? {})) {
        const mv = obj[name];
        if (mv !== undefined && mv !== null) check(model, mRef, mv, join(path, name), errors);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(v)) return;
      lengthRule(shape, v.length, v, path, errors);
      v.forEach((item, i) => item !== undefined && item !== null && check(model, shape.member!, item, `${join(path, String(i + 1))}.member`, errors));
      return;
    }
    case 'map': {
      if (v === null || typeof v !== 'object') return;
      lengthRule(shape, Object.keys(v).length, v, path, errors);
      const keyErrors: string[] = [];
      const valueErrors: string[] = [];
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) {
        scalarRules(model, shape.key!, k, keyErrors);
        if (mv !== undefined && mv !== null) scalarRules(model, shape.value!, mv, valueErrors);
      }
      if (keyErrors.length) errors.push(`Value ${render(v)} at '${path}' failed to satisfy constraint: Map keys must satisfy constraint: [${[...new Set(keyErrors)].join(', ')}]`);
      if (valueErrors.length) errors.push(`Value ${render(v)} at '${path}' failed to satisfy constraint: Map value must satisfy constraint: [${[...new Set(valueErrors)].join(', ')}]`);
      return;
    }
    default: {
      const found: string[] = [];
      scalarRules(model, ref, v, found);
      for (const f of found) errors.push(`Value ${render(v)} at '${path}' failed to satisfy constraint: ${f}`);
    }
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function lengthRule(shape: { min?: number; max?: number }, n: number, v: unknown, path: string, errors: string[]): void {
  if (shape.max !== undefined && n > shape.max) violation(errors, v, path, `have length less than or equal to ${shape.max}`);
  if (shape.min !== undefined && n < shape.min) violation(errors, v, path, `have length greater than or equal to ${shape.min}`);
}

/** The rules of a scalar shape, as "Member must …" phrases. */
function scalarRules(model: ServiceModel, ref: ShapeRef, v: unknown, out: string[]): void {
  const shape = shapeOf(model, ref);
  if (shape.type === 'string' && typeof v === 'string') {
    // Lengths count code points, as Java's String#codePointCount does for these checks.
    const len = [...v].length;
    if (shape.max !== undefined && len > shape.max) out.push(`Member must have length less than or equal to ${shape.max}`);
    if (shape.min !== undefined && len < shape.min) out.push(`Member must have length greater than or equal to ${shape.min}`);
    const pattern = (shape as { pattern?: string }).pattern;
    if (pattern !== undefined && !fullMatch(pattern).test(v)) out.push(`Member must satisfy regular expression pattern: ${pattern}`);
    if (shape.enum && !shape.enum.includes(v)) out.push(`Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
  } else if ((shape.type === 'integer' || shape.type === 'long') && typeof v === 'number') {
    if (shape.max !== undefined && v > shape.max) out.push(`Member must have value less than or equal to ${shape.max}`);
    if (shape.min !== undefined && v < shape.min) out.push(`Member must have value greater than or equal to ${shape.min}`);
  }
}

/**
 * Members whose JSON type does not fit the shape (a string where a number belongs): AWS
 * answers these with SerializationException before any constraint is checked.
 */
export function typeMismatch(model: ServiceModel, ref: ShapeRef, v: unknown, path = ''): string | undefined {
  if (v === undefined || v === null) return undefined;
  const shape = shapeOf(model, ref);
  const bad = (expected: string) => `${path || 'input'}: expected ${expected}`;
  switch (shape.type) {
    case 'structure': {
      if (typeof v !== 'object' || Array.isArray(v)) return bad('an object');
      for (const [name, mRef] of Object.entries(shape.members ?? {})) {
        const r = typeMismatch(model, mRef, (v as Record<string, unknown>)[name], join(path, name));
        if (r) return r;
      }
      return undefined;
    }
    case 'list': {
      if (!Array.isArray(v)) return bad('a list');
      for (let i = 0; i < v.length; i++) {
        const r = typeMismatch(model, shape.member!, v[i], `${path}[${i}]`);
        if (r) return r;
      }
      return undefined;
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return bad('a map');
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) {
        const r = typeMismatch(model, shape.value!, mv, `${path}.${k}`);
        if (r) return r;
      }
      return undefined;
    }
    case 'string':
      return typeof v === 'string' ? undefined : bad('a string');
    case 'boolean':
      return typeof v === 'boolean' ? undefined : bad('a boolean');
    case 'integer':
    case 'long':
      return typeof v === 'number' && Number.isInteger(v) ? undefined : bad('an integer');
    case 'float':
    case 'double':
      return typeof v === 'number' ? undefined : bad('a number');
    default:
      return undefined;
  }
}
