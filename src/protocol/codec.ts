import type { Readable } from 'node:stream';
import type { OperationModel, ServiceModel } from './model.js';
import type { RequestContext } from '../server/context.js';
import type { ServiceError } from './errors.js';
import type { RouteMatch } from './rest.js';

/** What a codec produces; the pipeline writes it to the socket. */
export interface ResponseSpec {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer | Readable | AsyncIterable<Buffer>;
}

/**
 * One implementation per AWS protocol (rest-xml, query, json, rest-json). Codecs are
 * driven by the service model and know nothing about any one service's semantics.
 */
export interface Codec {
  readonly protocol: string;
  /** True when the request body must be buffered before the operation can be resolved (query protocol). */
  readonly needsBodyToResolve: boolean;
  resolve(ctx: RequestContext, model: ServiceModel): RouteMatch | undefined;
  /** True when the operation's payload is a raw stream the handler reads itself. */
  streamsInput(model: ServiceModel, op: OperationModel): boolean;
  parse(ctx: RequestContext, model: ServiceModel, match: RouteMatch): unknown;
  serialize(ctx: RequestContext, model: ServiceModel, op: OperationModel, output: unknown): ResponseSpec;
  serializeError(ctx: RequestContext, err: ServiceError): ResponseSpec;
}
