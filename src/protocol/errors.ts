/**
 * Service errors as data. Each service declares a catalogue (code, HTTP status, default
 * message); handlers throw `S3Errors.NoSuchKey({ Key })`. Fields other than `message`
 * are rendered as extra elements where the protocol carries them (S3's <Key>, <BucketName>).
 * Anything thrown that is not a ServiceError becomes InternalError 500 in the pipeline.
 */
export interface ErrorDef {
  status: number;
  message: string;
  /** 'Sender' (client) or 'Receiver' (server); derived from status when omitted. */
  fault?: 'Sender' | 'Receiver';
}

export type ErrorFields = { message?: string; headers?: Record<string, string> } & Record<string, unknown>;

export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: 'Sender' | 'Receiver';
  /** Extra fields rendered into the error document (S3) — never secrets or stacks. */
  readonly fields: Record<string, unknown>;
  /** Extra response headers (e.g. x-amz-bucket-region on a 301). */
  readonly headers: Record<string, string>;

  constructor(code: string, def: ErrorDef, fields: ErrorFields = {}) {
    const { message, headers, ...rest } = fields;
    super(message ?? def.message);
    this.code = code;
    this.status = def.status;
    this.fault = def.fault ?? (def.status >= 500 ? 'Receiver' : 'Sender');
    this.fields = rest;
    this.headers = headers ?? {};
  }
}

export type ErrorFactory = (fields?: ErrorFields) => ServiceError;

export function defineErrors<K extends string>(defs: Record<K, ErrorDef>): Record<K, ErrorFactory> & { defs: Record<K, ErrorDef> } {
  const out = { defs } as Record<K, ErrorFactory> & { defs: Record<K, ErrorDef> };
  for (const code of Object.keys(defs) as K[]) {
    (out as Record<string, ErrorFactory>)[code] = (fields?: ErrorFields) => new ServiceError(code, defs[code], fields);
  }
  return out;
}

/**
 * Errors any service may raise from the shared stages of the pipeline (authentication,
 * parsing, dispatch). Service catalogues map the auth ones to the codes their SDKs expect.
 */
export const CommonErrors = defineErrors({
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  NotImplemented: { status: 501, message: 'A header you provided implies functionality that is not implemented.' },
  AccessDenied: { status: 403, message: 'Access Denied' },
  MissingAuthenticationToken: { status: 403, message: 'Missing Authentication Token' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the current time is too large.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { status: 400, message: 'Query-string authentication parameters are malformed.' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to AWS standards.' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  MalformedInput: { status: 400, message: 'The request could not be parsed.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed size' },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
  InvalidDigest: { status: 400, message: 'The Content-MD5 or checksum value you specified is not valid.' },
  BadDigest: { status: 400, message: 'The Content-MD5 you specified did not match what we received.' },
  InvalidChunkSizeError: { status: 403, message: 'Only the last chunk is allowed to have a size less than 8192 bytes' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  RequestHeaderSectionTooLarge: { status: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  UnknownOperation: { status: 400, message: 'The requested operation is not recognised.' },
  InvalidAction: { status: 400, message: 'The action or operation requested is invalid. Verify that the action is typed correctly.' },
});

export type CommonErrorCode = keyof typeof CommonErrors.defs;

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof ServiceError;
}
