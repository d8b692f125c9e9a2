import type { ServiceModel, ShapeRef } from './model.js';
import { shapeOf } from './model.js';
import { parseTimestamp } from './timestamps.js';

/** Model-driven JSON values: timestamps are epoch seconds, blobs base64, as the SDKs send them. */
export function fromJson(model: ServiceModel, ref: ShapeRef, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'structure': {
      if (typeof v !== 'object' || Array.isArray(v)) return undefined;
      const out: Record<string, unknown> = {};
      for (const [name, mRef] of Object.entries(shape.members ?? {})) {
        const key = mRef.locationName && !mRef.location ? mRef.locationName : name;
        const mv = (v as Record<string, unknown>)[key];
        if (mv !== undefined) out[name] = fromJson(model, mRef, mv);
      }
      return out;
    }
    case 'list':
      return Array.isArray(v) ? v.map((x) => fromJson(model, shape.member!, x)) : undefined;
    case 'map': {
      if (typeof v !== 'object') return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) out[k] = fromJson(model, shape.value!, mv);
      return out;
    }
    case 'timestamp':
      return parseTimestamp(v as string | number);
    case 'blob':
      return typeof v === 'string' ? Buffer.from(v, 'base64') : undefined;
    default:
      return v;
  }
}

export function toJson(model: ServiceModel, ref: ShapeRef, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [name, mRef] of Object.entries(shape.members ?? {})) {
        if (mRef.location) continue;
        const mv = toJson(model, mRef, (v as Record<string, unknown>)[name]);
        if (mv !== undefined) out[mRef.locationName ?? name] = mv;
      }
      return out;
    }
    case 'list':
      return (v as unknown[]).map((x) => toJson(model, shape.member!, x));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) out[k] = toJson(model, shape.value!, mv);
      return out;
    }
    case 'timestamp':
      return v instanceof Date ? v.getTime() / 1000 : v;
    case 'blob':
      return Buffer.isBuffer(v) ? v.toString('base64') : v;
    default:
      return v;
  }
}

export function parseJsonBody(body: Buffer | undefined, onError: () => Error): unknown {
  if (!body || body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw onError();
  }
}
