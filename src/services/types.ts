import type { Codec, ResponseSpec } from '../protocol/codec.js';
import type { ServiceModel } from '../protocol/model.js';
import type { RequestContext } from '../server/context.js';
import type { ContextValue, NamedPolicy } from '../iam/engine/types.js';

/** A handler: typed input in, typed output out. It never touches XML, JSON or raw headers. */
export type Handler = (input: any, ctx: RequestContext) => Promise<unknown> | unknown;

export interface ResourceInfo {
  policy?: NamedPolicy;
  /** The owning account's id. */
  account?: string;
  /** Condition keys the resource itself supplies (S3: s3:ExistingObjectTag/<key>). */
  context?: Record<string, ContextValue>;
}

export interface OperationImpl {
  handler: Handler;
  /** The IAM action the operation needs, e.g. "s3:GetObject", or the input decides (GetObject by version is s3:GetObjectVersion). */
  action: string | ((input: any) => string);
  /** The resource ARN the action is evaluated on (default '*'). */
  resource?: (input: any, ctx: RequestContext) => string;
  /** Service condition keys taken from the input (e.g. s3:prefix). */
  conditions?: (input: any, ctx: RequestContext) => Record<string, ContextValue | undefined> | undefined;
  /**
   * Authorization the table cannot express (CopyObject reads one object and writes
   * another; DeleteObjects is checked per key): the handler calls ctx.authorize itself.
   */
  selfAuthorized?: boolean;
}

/** Codes a service's SDKs expect for the shared authentication failures. */
export interface AuthErrorCodes {
  unknownKey: string;
  badSignature: string;
  /** The code of an authorization denial when it is not AccessDenied (Lambda: AccessDeniedException). */
  accessDenied?: string;
}

export interface ServiceDef {
  /** Service name as it appears in health output and logs, e.g. "s3". */
  name: string;
  /** SigV4 credential-scope service names that select this service. */
  signingNames: string[];
  model: () => ServiceModel;
  codec: Codec;
  /** Operation name → implementation. Model operations missing here answer 501. */
  operations: Record<string, OperationImpl>;
  authErrors: AuthErrorCodes;
  /** S3 sends x-amz-request-id/x-amz-id-2; the others x-amzn-RequestId. */
  requestIdStyle: 's3' | 'amzn';
  /**
   * What authorization needs to know of a resource of this service: its resource-based
   * policy (S3: the bucket policy) and the account that owns it, where the ARN does not
   * say (S3 ARNs carry no account). Undefined when the resource does not exist. It sees the
   * request's condition keys (S3 reads s3:versionid to know which object version is meant).
   */
  resourceInfo?: (ctx: RequestContext, resourceArn: string, action: string, conditions?: Record<string, ContextValue | undefined>) => Promise<ResourceInfo | undefined>;
  /**
   * Answers a request before authentication, or prepares its response (S3: CORS preflights
   * are unsigned; an Origin header gets the bucket's CORS headers, on errors too).
   */
  beforeAuth?: (ctx: RequestContext) => Promise<ResponseSpec | undefined>;
  /** Answers authenticated requests that are not operations of the model (S3: POST Object). */
  beforeDispatch?: (ctx: RequestContext) => Promise<ResponseSpec | undefined>;
  /**
   * Runs once the response has been sent, errors included (S3: server access log records).
   * It must not throw and should cost nothing for requests it has no interest in.
   */
  afterResponse?: (ctx: RequestContext) => void;
  /** Largest buffered (non-streaming) request body accepted. */
  maxBodyBytes: number;
}
