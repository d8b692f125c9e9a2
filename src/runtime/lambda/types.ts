/**
 * The engine's programmatic interface: what the Lambda API layer hands in (a
 * FunctionSpec per invoke) and gets back (an InvokeResult, or a typed error).
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FunctionSpec {
  functionName: string;
  /** Unqualified ARN: arn:aws:lambda:<region>:<account>:function:<name>. Keys concurrency. */
  functionArn: string;
  /** '$LATEST' or a published version number. */
  version: string;
  /** nodejs18.x … nodejs24.x, python3.9 … python3.13, provided.al2, provided.al2023, provided. */
  runtime: string;
  handler: string;
  /** The function's code, already extracted (see extractZip). Never written to. */
  codeDir: string;
  /** Extracted layers, in the function's layer order; later ones win on conflicting paths. */
  layerDirs: string[];
  memoryMB: number;
  timeoutSec: number;
  /** /tmp size; enforced per file (RLIMIT_FSIZE), see docs/services/lambda-runtime.md. */
  ephemeralStorageMB: number;
  /** The user's variables. Reserved names (RESERVED_ENV_VARS) are ignored. */
  environment: Record<string, string>;
  region: string;
  /** /aws/lambda/<name> unless the function's LoggingConfig says otherwise. */
  logGroupName: string;
  /** Reserved concurrency; 0 throttles every invoke. Undefined: only the account limit. */
  reservedConcurrency?: number;
  /** The execution role's credentials, asked for when an environment starts. */
  credentials: () => Promise<Credentials>;
  /** AWS_ENDPOINT_URL inside the function: Nimbus itself, so SDKs reach it. */
  endpointUrl: string;
  /** Changes whenever code or configuration changes; a new key gets fresh environments. */
  configKey: string;
}

export interface InvokeOptions {
  requestId: string;
  /** The ARN the caller used (qualified with a version or alias); defaults to functionArn. */
  invokedFunctionArn?: string;
  /** Client context as JSON text (the Invoke API's X-Amz-Client-Context, base64-decoded). */
  clientContext?: string;
  /** Cognito identity as JSON text ({"cognitoIdentityId":…,"cognitoIdentityPoolId":…}). */
  cognitoIdentity?: string;
  /** X-Ray trace header; one is generated when absent. */
  traceId?: string;
  /** An absolute deadline (epoch ms) earlier than the function's own timeout. */
  deadlineMs?: number;
}

export interface InvokeResult {
  /** The function's response, or AWS's error document when functionError is set. */
  payload: Buffer;
  /** Set when the invocation failed (X-Amz-Function-Error). */
  functionError?: 'Unhandled';
  /** errorType of the failure (Runtime.ExitError, Sandbox.Timedout, the user's error name…). */
  errorType?: string;
  /** The last 4 KB of this invocation's log (LogType=Tail), as text. */
  logTail: string;
  durationMs: number;
  billedDurationMs: number;
  maxMemoryUsedMB: number;
  /** Present on a cold start. */
  initDurationMs?: number;
  executedVersion: string;
  logStreamName: string;
}

export interface LogEvent {
  timestamp: number;
  message: string;
}

export type LogSink = (logGroupName: string, logStreamName: string, events: LogEvent[]) => void;

export interface EngineLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * AWS's TooManyRequestsException, with the Reason AWS sends.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
 */
export class TooManyRequestsError extends Error {
  readonly code = 'TooManyRequestsException';
  readonly status = 429;
  constructor(readonly reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded') {
    super('Rate Exceeded.');
    this.name = 'TooManyRequestsError';
  }
}

/** The engine could not run the function at all (no interpreter, shut down, bad runtime…). */
export class LambdaEngineError extends Error {
  constructor(
    readonly code: 'ServiceException' | 'InvalidRuntimeException' | 'ResourceConflictException',
    message: string,
  ) {
    super(message);
    this.name = 'LambdaEngineError';
  }
}
