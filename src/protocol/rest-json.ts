import type { Codec, ResponseSpec } from './codec.js';
import type { OperationModel, ServiceModel } from './model.js';
import { shapeOf } from './model.js';
import { beginRestResponse, readHttpBindings, routerFor, type RouteMatch } from './rest.js';
import { fromJson, parseJsonBody, toJson } from './json-shapes.js';
import { CommonErrors, type ServiceError } from './errors.js';
import type { RequestContext } from '../server/context.js';

/**
 * rest-json (Lambda, API Gateway): the same HTTP bindings as rest-xml, JSON bodies.
 * Errors: `x-amzn-ErrorType` header plus `{"Type": "User"|"Service", "message"}` body.
 */
export class RestJsonCodec implements Codec {
  readonly protocol = 'rest-json';
  readonly needsBodyToResolve = false;

  resolve(ctx: RequestContext, model: ServiceModel): RouteMatch | undefined {
    return routerFor(model).match(ctx.method, ctx.rawPath, ctx);
  }

  streamsInput(): boolean {
    return false;
  }

  parse(ctx: RequestContext, model: ServiceModel, match: RouteMatch): unknown {
    const out: Record<string, unknown> = {};
    if (!match.op.input) return out;
    const input = shapeOf(model, match.op.input);
    const bodyMembers = readHttpBindings(model, input, ctx, match.labels, out);
    if (input.payload) {
      const ref = input.members![input.payload]!;
      const shape = shapeOf(model, ref);
      if (shape.type === 'blob' || shape.type === 'string') out[input.payload] = shape.type === 'string' ? ctx.body?.toString('utf8') : ctx.body;
      else out[input.payload] = fromJson(model, ref, parseJsonBody(ctx.body, () => CommonErrors.MalformedInput({ message: 'The request body is not valid JSON.' })));
    } else if (bodyMembers.length) {
      const doc = parseJsonBody(ctx.body, () => CommonErrors.MalformedInput({ message: 'The request body is not valid JSON.' })) as Record<string, unknown>;
      const parsed = fromJson(model, match.op.input, doc) as Record<string, unknown> | undefined;
      for (const m of bodyMembers) if (parsed?.[m] !== undefined) out[m] = parsed[m];
    }
    return out;
  }

  serialize(_ctx: RequestContext, model: ServiceModel, op: OperationModel, output: unknown): ResponseSpec {
    const { spec, value, outShape, bodyMembers } = beginRestResponse(model, op, output);
    const headers = spec.headers;
    if (!outShape) return spec;
    if (outShape.payload) {
      const ref = outShape.members![outShape.payload]!;
      const v = value[outShape.payload];
      const shape = shapeOf(model, ref);
      if (v !== undefined) {
        if (shape.type === 'structure') {
          headers['content-type'] = 'application/json';
          spec.body = JSON.stringify(toJson(model, ref, v));
        } else spec.body = v as ResponseSpec['body'];
      }
      return spec;
    }
    const doc: Record<string, unknown> = {};
    for (const m of bodyMembers) {
      const ref = outShape.members![m]!;
      const jv = toJson(model, ref, value[m]);
      if (jv !== undefined) doc[ref.locationName ?? m] = jv;
    }
    headers['content-type'] = 'application/json';
    spec.body = JSON.stringify(doc);
    return spec;
  }

  serializeError(ctx: RequestContext, err: ServiceError): ResponseSpec {
    // The error's shape in the model says how its members are spelt ("message" for some of
    // Lambda's errors, "Message" for others) and which extra fields it has (Reason, …).
    const shape = ctx.service?.model().shapes[err.code];
    const members = shape?.members ?? {};
    const messageKey = 'Message' in members ? 'Message' : 'message';
    const body: Record<string, unknown> = { Type: err.fault === 'Sender' ? 'User' : 'Service', [messageKey]: err.message };
    for (const [k, v] of Object.entries(err.fields)) if (k in members && v !== undefined) body[k] = v;
    return {
      status: err.status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.code, ...err.headers },
      body: JSON.stringify(body),
    };
  }
}
