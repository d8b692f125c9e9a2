import type { Codec, ResponseSpec } from './codec.js';
import type { OperationModel, ServiceModel } from './model.js';
import type { RouteMatch } from './rest.js';
import { fromJson, parseJsonBody, toJson } from './json-shapes.js';
import { CommonErrors, type ServiceError } from './errors.js';
import type { RequestContext } from '../server/context.js';

/**
 * awsJson 1.0 / 1.1 (SQS, EventBridge, CloudWatch Logs): POST / with
 * `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON document each way.
 * Errors carry `__type`; services that are "query compatible" (SQS) also send
 * `x-amzn-query-error: <legacy code>;<fault>` so older SDKs find the old error codes.
 */
export class JsonCodec implements Codec {
  readonly protocol = 'json';
  readonly needsBodyToResolve = false;

  constructor(private readonly queryCodes: Record<string, string> = {}) {}

  resolve(ctx: RequestContext, model: ServiceModel): RouteMatch | undefined {
    const target = ctx.header('x-amz-target');
    if (!target) return undefined;
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const op = model.operations[target.slice(dot + 1)];
    if (!op || prefix !== model.metadata.targetPrefix) {
      throw CommonErrors.UnknownOperation({ message: `The requested operation ${target} is not recognised.` });
    }
    return { op, labels: {} };
  }

  streamsInput(): boolean {
    return false;
  }

  parse(ctx: RequestContext, model: ServiceModel, match: RouteMatch): unknown {
    const doc = parseJsonBody(ctx.body, () => CommonErrors.MalformedInput({ message: 'The request body is not valid JSON.' }));
    return match.op.input ? (fromJson(model, match.op.input, doc) ?? {}) : {};
  }

  serialize(_ctx: RequestContext, model: ServiceModel, op: OperationModel, output: unknown): ResponseSpec {
    const contentType = `application/x-amz-json-${model.metadata.jsonVersion ?? '1.0'}`;
    const body = JSON.stringify(op.output ? (toJson(model, op.output, output ?? {}) ?? {}) : {});
    return { status: 200, headers: { 'content-type': contentType }, body };
  }

  serializeError(ctx: RequestContext, err: ServiceError): ResponseSpec {
    const jsonVersion = ctx.service?.model().metadata.jsonVersion ?? '1.0';
    const headers: Record<string, string> = {
      'content-type': `application/x-amz-json-${jsonVersion}`,
      'x-amzn-errortype': err.code,
      ...err.headers,
    };
    const legacy = this.queryCodes[err.code];
    if (legacy) headers['x-amzn-query-error'] = `${legacy};${err.fault}`;
    return { status: err.status, headers, body: JSON.stringify({ __type: err.code, message: err.message }) };
  }
}
