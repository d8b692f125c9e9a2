import type { IncomingMessage, ServerResponse, IncomingHttpHeaders } from 'node:http';
import type { AuthInfo } from '../protocol/sigv4/verify.js';
import type { ServiceDef } from '../services/types.js';
import type { OperationModel } from '../protocol/model.js';
import type { Principal } from '../services/principal.js';
import type { Runtime } from './runtime.js';
import { authorize, isAllowed } from './authorize.js';
import type { ContextValue } from '../iam/engine/types.js';

/**
 * Everything a request carries through the pipeline. Built once per request; stages
 * fill in what they learn (service, auth, operation) and later stages read it.
 */
export class RequestContext {
  readonly start = performance.now();
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** Repeated headers kept apart, for SigV4 canonicalisation. */
  get headersDistinct(): Record<string, string[] | undefined> {
    return this.req.headersDistinct;
  }
  /** Path exactly as sent, still percent-encoded. */
  readonly rawPath: string;
  readonly rawQuery: string;
  query: Array<[string, string]> = [];
  service?: ServiceDef;
  operation?: OperationModel;
  /** Bucket named by the Host header (virtual-hosted-style S3). */
  hostBucket?: string;
  auth?: AuthInfo;
  principal?: Principal;
  /** Buffered request body, for protocols whose bodies are small documents. */
  body?: Buffer;
  /** The verified, decoded body stream, for S3 uploads. */
  bodyStream?: AsyncIterable<Buffer>;
  /** Trailing headers of an aws-chunked body, filled once the body has been read. */
  trailers: Record<string, string> = {};
  /** Set when the body has been consumed (so the connection can be kept alive). */
  get bodyConsumed(): boolean {
    return this.bodyEndAt !== undefined;
  }
  set bodyConsumed(v: boolean) {
    this.bodyEndAt = v ? (this.bodyEndAt ?? performance.now()) : undefined;
  }
  /** When the request body was read to its end (performance.now()), for access logs' turn-around time. */
  bodyEndAt?: number;
  /** When the response's status and headers were sent (performance.now()). */
  responseAt?: number;
  /** The error code the response carries, if it is an error. */
  errorCode?: string;
  requestId = '';
  /** A status the model cannot express (S3's 206 Partial Content), set by a handler. */
  statusOverride?: number;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly runtime: Runtime,
  ) {
    this.method = req.method ?? 'GET';
    this.headers = req.headers;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.rawPath = q < 0 ? url : url.slice(0, q);
    this.rawQuery = q < 0 ? '' : url.slice(q + 1);
  }

  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }

  queryParam(name: string): string | undefined {
    for (const [k, v] of this.query) if (k === name) return v;
    return undefined;
  }

  hasQuery(name: string): boolean {
    for (const [k] of this.query) if (k === name) return true;
    return false;
  }

  /** Throws AccessDenied unless the caller may do `action` on `resource`. */
  authorize(action: string, resource: string, conditions?: Record<string, ContextValue | undefined>): Promise<void> {
    return authorize(this, action, resource, conditions);
  }

  isAllowed(action: string, resource: string, conditions?: Record<string, ContextValue | undefined>): Promise<boolean> {
    return isAllowed(this, action, resource, conditions);
  }

  get region(): string {
    return this.auth?.region ?? this.runtime.config.region;
  }
}

/** A name for the request log of a request that no model operation describes (POST Object, a CORS preflight). */
export function pseudoOperation(ctx: RequestContext, name: string): OperationModel {
  return { name, http: { method: ctx.method, requestUri: ctx.rawPath } };
}
