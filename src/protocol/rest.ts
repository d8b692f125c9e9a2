import type { OperationModel, ServiceModel, Shape, ShapeRef } from './model.js';
import { shapeOf } from './model.js';
import { uriDecode } from './sigv4/canonical.js';
import type { RequestContext } from '../server/context.js';
import { CommonErrors } from './errors.js';
import { formatTimestamp, parseTimestamp } from './timestamps.js';
import type { ResponseSpec } from './codec.js';

/**
 * The HTTP binding shared by rest-xml and rest-json: a router built from each operation's
 * `http.requestUri`, and the mapping of members bound to the URI, query string and headers.
 * Ambiguous routes (S3's PUT /{Bucket}/{Key+} is PutObject, CopyObject, UploadPart or
 * UploadPartCopy) are decided by the members the model marks required: a request carrying
 * x-amz-copy-source plus partNumber and uploadId is UploadPartCopy.
 */
type Segment = { literal: string } | { label: string; greedy: boolean };

interface Route {
  op: OperationModel;
  method: string;
  segments: Segment[];
  literalQuery: Array<[string, string | undefined]>;
  requiredQuery: string[];
  requiredHeaders: string[];
  score: number;
}

export interface RouteMatch {
  op: OperationModel;
  labels: Record<string, string>;
}

export class RestRouter {
  private readonly byMethod = new Map<string, Route[]>();

  constructor(model: ServiceModel) {
    for (const op of Object.values(model.operations)) {
      const [pathPart, queryPart = ''] = op.http.requestUri.split('?') as [string, string?];
      const segments: Segment[] = pathPart
        .split('/')
        .filter((s) => s !== '')
        .map((s) => {
          const m = /^\{([^}+]+)(\+?)\}$/.exec(s);
          return m ? { label: m[1]!, greedy: m[2] === '+' } : { literal: s };
        });
      const literalQuery: Array<[string, string | undefined]> = [];
      for (const p of queryPart.split('&')) {
        if (!p) continue;
        const [k, v] = p.split('=') as [string, string?];
        if (k === 'x-id') continue;
        literalQuery.push([k, v]);
      }
      const input = op.input ? shapeOf(model, op.input) : undefined;
      const requiredQuery: string[] = [];
      const requiredHeaders: string[] = [];
      for (const name of input?.required ?? []) {
        const m = input!.members![name]!;
        if (m.location === 'querystring') requiredQuery.push(m.locationName ?? name);
        if (m.location === 'header') requiredHeaders.push((m.locationName ?? name).toLowerCase());
      }
      const literalSegments = segments.filter((s) => 'literal' in s).length;
      const route: Route = {
        op,
        method: op.http.method,
        segments,
        literalQuery,
        requiredQuery,
        requiredHeaders,
        // A deprecated operation yields the route it shares with its replacement (S3's
        // PutBucketLifecycle / GetBucketLifecycle and PutBucketLifecycleConfiguration /
        // GetBucketLifecycleConfiguration are both PUT|GET /{Bucket}?lifecycle).
        score: literalSegments * 1000 + segments.length * 100 + (literalQuery.length + requiredQuery.length + requiredHeaders.length) * 10 - (op.deprecated ? 1 : 0),
      };
      const list = this.byMethod.get(route.method) ?? [];
      list.push(route);
      this.byMethod.set(route.method, list);
    }
    for (const list of this.byMethod.values()) list.sort((a, b) => b.score - a.score);
  }

  /** `path` is the raw (encoded) path; for virtual-hosted S3 the bucket is already prefixed. */
  match(method: string, path: string, ctx: RequestContext): RouteMatch | undefined {
    const routes = this.byMethod.get(method);
    if (!routes) return undefined;
    const parts = path.split('/').slice(1);
    // "/bucket/" addresses the bucket, not an empty key.
    if (parts.length === 2 && parts[1] === '') parts.pop();
    if (parts.length === 1 && parts[0] === '') parts.pop();
    // S3 has ~30 routes a method, most told apart by a query literal (?tagging, ?acl…):
    // those checks come first, and labels are built only for the route that matches
    // (the path walk with a labels object per route was ~1.6 µs of every PUT).
    outer: for (const r of routes) {
      for (const [k, v] of r.literalQuery) {
        if (v === undefined ? !ctx.hasQuery(k) : ctx.queryParam(k) !== v) continue outer;
      }
      for (const k of r.requiredQuery) if (!ctx.hasQuery(k)) continue outer;
      for (const h of r.requiredHeaders) if (ctx.headers[h] === undefined) continue outer;
      let i = 0;
      for (const seg of r.segments) {
        if ('literal' in seg) {
          if (parts[i] !== seg.literal) continue outer;
          i++;
        } else if (seg.greedy) {
          if (i >= parts.length) continue outer;
          i = parts.length;
        } else {
          if (i >= parts.length || parts[i] === '') continue outer;
          i++;
        }
      }
      if (i !== parts.length) continue;
      const labels: Record<string, string> = {};
      i = 0;
      for (const seg of r.segments) {
        if ('literal' in seg) {
          i++;
          continue;
        }
        const raw = seg.greedy ? parts.slice(i).join('/') : parts[i]!;
        i = seg.greedy ? parts.length : i + 1;
        try {
          labels[seg.label] = uriDecode(raw);
        } catch {
          throw CommonErrors.InvalidURI({ URI: path });
        }
      }
      return { op: r.op, labels };
    }
    return undefined;
  }
}

/** Converts a header or query-string text into the member's type. */
export function scalarFromString(model: ServiceModel, ref: ShapeRef, text: string, location: 'header' | 'querystring'): unknown {
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'integer':
    case 'long': {
      const n = Number(text);
      if (!Number.isInteger(n)) throw CommonErrors.InvalidArgument({ message: `Invalid value for ${ref.locationName}: ${text}` });
      return n;
    }
    case 'float':
    case 'double':
      return Number(text);
    case 'boolean':
      return text.toLowerCase() === 'true';
    case 'timestamp': {
      const d = parseTimestamp(text);
      if (!d) throw CommonErrors.InvalidArgument({ message: `Invalid date for ${ref.locationName}: ${text}` });
      return d;
    }
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'string':
      if (ref.jsonvalue || shape.type === 'string' && (ref as { jsonvalue?: boolean }).jsonvalue) {
        return JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
      }
      return location === 'header' ? text : text;
    default:
      return text;
  }
}

/**
 * A shape's members as the HTTP binding reads and writes them, worked out once per shape:
 * every request used to walk Object.entries of its input and output shapes (PutObject's
 * input has ~50 members) and lower-case each header name again, ~10 KB of garbage and
 * ~8 µs per request (measured with the sampling heap profiler and the CPU profile).
 */
interface MemberPlan {
  name: string;
  ref: ShapeRef;
  loc: ShapeRef['location'];
  /** locationName ?? name; lower-cased for headers and header prefixes. */
  locName: string;
  /** The member's shape type (querystring members: map and list are special). */
  type: Shape['type'];
}

interface BindingPlan {
  members: MemberPlan[];
  /** Members with no HTTP location: the body's. */
  bodyMembers: string[];
  /** On the way out, every member but headers and the status code (in model order). */
  outBodyMembers: string[];
}

const plans = new WeakMap<Shape, BindingPlan>();

function planFor(model: ServiceModel, shape: Shape): BindingPlan {
  let plan = plans.get(shape);
  if (!plan) {
    const members: MemberPlan[] = [];
    const bodyMembers: string[] = [];
    const outBodyMembers: string[] = [];
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const loc = ref.location;
      if (loc !== 'header' && loc !== 'headers' && loc !== 'statusCode') outBodyMembers.push(name);
      if (loc === undefined) {
        bodyMembers.push(name);
        continue;
      }
      const locName = ref.locationName ?? name;
      members.push({ name, ref, loc, locName: loc === 'header' || loc === 'headers' ? locName.toLowerCase() : locName, type: shapeOf(model, ref).type });
    }
    plan = { members, bodyMembers, outBodyMembers };
    plans.set(shape, plan);
  }
  return plan;
}

/** Fills members bound to the URI, query string and headers. Returns names of body members. */
export function readHttpBindings(model: ServiceModel, input: Shape, ctx: RequestContext, labels: Record<string, string>, out: Record<string, unknown>): string[] {
  const plan = planFor(model, input);
  for (const m of plan.members) {
    const loc = m.loc;
    if (loc === 'uri') {
      if (labels[m.locName] !== undefined) out[m.name] = labels[m.locName];
    } else if (loc === 'querystring') {
      if (m.type === 'map') {
        const map: Record<string, string> = {};
        for (const [k, v] of ctx.query) map[k] = v;
        out[m.name] = map;
      } else if (m.type === 'list') {
        const values = ctx.query.filter(([k]) => k === m.locName).map(([, v]) => v);
        if (values.length) out[m.name] = values;
      } else {
        const v = ctx.queryParam(m.locName);
        if (v !== undefined) out[m.name] = scalarFromString(model, m.ref, v, 'querystring');
      }
    } else if (loc === 'header') {
      const v = ctx.header(m.locName);
      if (v !== undefined) out[m.name] = m.type === 'string' && !m.ref.jsonvalue ? v : scalarFromString(model, m.ref, v, 'header');
    } else if (loc === 'headers') {
      const prefix = m.locName;
      let map: Record<string, string> | undefined;
      const headers = ctx.headers;
      for (const k in headers) {
        const v = headers[k];
        if (k.startsWith(prefix) && v !== undefined) {
          (map ??= {})[k.slice(prefix.length)] = Array.isArray(v) ? v.join(',') : v;
        }
      }
      if (map) out[m.name] = map;
    }
  }
  return plan.bodyMembers;
}

function headerText(model: ServiceModel, ref: ShapeRef, value: unknown): string {
  if (typeof value === 'string' && !ref.jsonvalue) return value;
  const shape = shapeOf(model, ref);
  if (value instanceof Date) return formatTimestamp(value, ref.timestampFormat ?? shape.timestampFormat ?? 'rfc822');
  if (Array.isArray(value)) return value.join(',');
  if (shape.type === 'string' && ref.jsonvalue) return Buffer.from(JSON.stringify(value)).toString('base64');
  return String(value);
}

/**
 * Writes members bound to headers and the status code. Returns the status, and the names
 * of the members that belong in the body.
 */
export function writeHttpBindings(model: ServiceModel, output: Shape | undefined, value: Record<string, unknown>, headers: Record<string, string>): { status?: number; bodyMembers: string[] } {
  let status: number | undefined;
  if (!output) return { status, bodyMembers: [] };
  const plan = planFor(model, output);
  for (const m of plan.members) {
    const v = value[m.name];
    if (v === undefined || v === null) continue;
    const loc = m.loc;
    if (loc === 'header') {
      headers[m.locName] = headerText(model, m.ref, v);
    } else if (loc === 'headers') {
      if (typeof v === 'object') {
        for (const [k, val] of Object.entries(v as Record<string, string>)) headers[m.locName + k.toLowerCase()] = String(val);
      }
    } else if (loc === 'statusCode') {
      if (typeof v === 'number') status = v;
    }
  }
  return { status, bodyMembers: plan.outBodyMembers };
}

const routers = new WeakMap<ServiceModel, RestRouter>();

/** One router per service model, built on first use. */
export function routerFor(model: ServiceModel): RestRouter {
  let r = routers.get(model);
  if (!r) {
    r = new RestRouter(model);
    routers.set(model, r);
  }
  return r;
}

export interface RestResponse {
  spec: ResponseSpec;
  value: Record<string, unknown>;
  outShape?: Shape;
  /** Members that belong in the body (neither headers nor status). */
  bodyMembers: string[];
}

/** The part of a REST response both codecs share: headers, status, and what is left for the body. */
export function beginRestResponse(model: ServiceModel, op: OperationModel, output: unknown): RestResponse {
  const headers: Record<string, string> = {};
  const value = (output ?? {}) as Record<string, unknown>;
  const outShape = op.output ? shapeOf(model, op.output) : undefined;
  const { status, bodyMembers } = writeHttpBindings(model, outShape, value, headers);
  return { spec: { status: status ?? op.http.responseCode ?? 200, headers }, value, outShape, bodyMembers };
}
