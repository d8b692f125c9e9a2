import type { Codec, ResponseSpec } from './codec.js';
import type { OperationModel, ServiceModel, ShapeRef } from './model.js';
import { shapeOf } from './model.js';
import type { RouteMatch } from './rest.js';
import { toXml } from './xml-shapes.js';
import { CommonErrors, type ServiceError } from './errors.js';
import type { RequestContext } from '../server/context.js';
import { escapeXml } from '../util/xml.js';
import { parseTimestamp } from './timestamps.js';

/**
 * The query protocol (IAM, STS): form-encoded `Action=…&Version=…` requests, XML
 * `<OpResponse><OpResult>…</OpResult><ResponseMetadata/></OpResponse>` responses.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
export class QueryCodec implements Codec {
  readonly protocol = 'query';
  readonly needsBodyToResolve = true;

  private params(ctx: RequestContext): Map<string, string> {
    const map = new Map<string, string>();
    for (const [k, v] of ctx.query) map.set(k, v);
    const ct = ctx.header('content-type') ?? '';
    if (ctx.body && ctx.body.length && (ct === '' || ct.startsWith('application/x-www-form-urlencoded'))) {
      for (const [k, v] of new URLSearchParams(ctx.body.toString('utf8'))) map.set(k, v);
    }
    return map;
  }

  resolve(ctx: RequestContext, model: ServiceModel): RouteMatch | undefined {
    const action = this.params(ctx).get('Action');
    if (!action) return undefined;
    const op = model.operations[action];
    if (!op) throw CommonErrors.InvalidAction({ message: `Could not find operation ${action} for version ${model.metadata.apiVersion}` });
    return { op, labels: {} };
  }

  streamsInput(): boolean {
    return false;
  }

  parse(ctx: RequestContext, model: ServiceModel, match: RouteMatch): unknown {
    const params = this.params(ctx);
    if (!match.op.input) return {};
    const keys = [...params.keys()];
    return readValue(model, match.op.input, '', params, keys) ?? {};
  }

  serialize(ctx: RequestContext, model: ServiceModel, op: OperationModel, output: unknown): ResponseSpec {
    const ns = model.metadata.xmlNamespace ?? `https://${model.metadata.endpointPrefix}.amazonaws.com/doc/${model.metadata.apiVersion}/`;
    let result = '';
    if (op.output && output) {
      const wrapper = op.output.resultWrapper ?? `${op.name}Result`;
      result = toXml(model, op.output, output, wrapper);
    }
    const body =
      `<${op.name}Response xmlns="${ns}">${result}` +
      `<ResponseMetadata><RequestId>${ctx.requestId}</RequestId></ResponseMetadata></${op.name}Response>`;
    return { status: 200, headers: { 'content-type': 'text/xml' }, body };
  }

  serializeError(ctx: RequestContext, err: ServiceError): ResponseSpec {
    const ns = ctx.service ? `https://${ctx.service.name}.amazonaws.com/doc/${ctx.service.model().metadata.apiVersion}/` : '';
    const body =
      `<ErrorResponse xmlns="${ns}"><Error><Type>${err.fault}</Type><Code>${err.code}</Code>` +
      `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${ctx.requestId}</RequestId></ErrorResponse>`;
    return { status: err.status, headers: { 'content-type': 'text/xml', ...err.headers }, body };
  }
}

function hasPrefix(keys: string[], prefix: string): boolean {
  const dotted = prefix + '.';
  return keys.some((k) => k === prefix || k.startsWith(dotted));
}

function readValue(model: ServiceModel, ref: ShapeRef, prefix: string, params: Map<string, string>, keys: string[]): unknown {
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      let any = false;
      for (const [name, mRef] of Object.entries(shape.members ?? {})) {
        const key = prefix ? `${prefix}.${mRef.locationName ?? name}` : (mRef.locationName ?? name);
        if (!hasPrefix(keys, key)) continue;
        const v = readValue(model, mRef, key, params, keys);
        if (v !== undefined) {
          out[name] = v;
          any = true;
        }
      }
      return any || prefix === '' ? out : undefined;
    }
    case 'list': {
      const flattened = shape.flattened || ref.flattened;
      const base = flattened ? prefix : `${prefix}.${shape.member!.locationName ?? 'member'}`;
      const items: unknown[] = [];
      for (let i = 1; hasPrefix(keys, `${base}.${i}`); i++) items.push(readValue(model, shape.member!, `${base}.${i}`, params, keys));
      // "Name=" with no members is AWS's way to send an empty list.
      return items.length || params.get(prefix) === '' ? items : undefined;
    }
    case 'map': {
      const flattened = shape.flattened || ref.flattened;
      const base = flattened ? prefix : `${prefix}.entry`;
      const out: Record<string, unknown> = {};
      for (let i = 1; hasPrefix(keys, `${base}.${i}`); i++) {
        const k = params.get(`${base}.${i}.${shape.key!.locationName ?? 'key'}`);
        if (k !== undefined) out[k] = readValue(model, shape.value!, `${base}.${i}.${shape.value!.locationName ?? 'value'}`, params, keys);
      }
      return out;
    }
    default: {
      const text = params.get(prefix);
      if (text === undefined) return undefined;
      switch (shape.type) {
        case 'integer':
        case 'long':
        case 'float':
        case 'double': {
          const n = Number(text);
          if (Number.isNaN(n)) throw CommonErrors.InvalidArgument({ message: `Invalid value for parameter ${prefix}: ${text}` });
          return n;
        }
        case 'boolean':
          return text === 'true';
        case 'timestamp':
          return parseTimestamp(text);
        case 'blob':
          return Buffer.from(text, 'base64');
        default:
          return text;
      }
    }
  }
}
