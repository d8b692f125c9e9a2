/** Nimbus's Lambda execution engine; see docs/services/lambda-runtime.md. */
export { LambdaEngine, type LambdaEngineOptions, type EnvironmentInfo } from './engine.js';
export { extractZip, ExtractZipError, MAX_UNZIPPED_BYTES, type ExtractZipOptions, type ExtractZipResult } from './zip.js';
export { RESERVED_ENV_VARS, runtimeInfo } from './runtimes.js';
export { MAX_RESPONSE_BYTES } from './runtime-api.js';
export type { SandboxMode } from './sandbox.js';
export * from './types.js';
