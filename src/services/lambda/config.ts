import { createHash, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import { RESERVED_ENV_VARS, runtimeInfo } from '../../runtime/lambda/index.js';
import { now } from '../../util/clock.js';
import { LambdaErrors } from './errors.js';
import { functionArn, layerArn, type FunctionDoc, type VersionConfig } from './store.js';

/** Shared pieces of the function handlers: validation, output shapes, revisions. */
type Input = Record<string, any>;

/** Lambda's timestamps are strings: 2026-12-01T08:00:00.000+0000. */
export function lambdaTime(ms = now()): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function revisionId(): string {
  return randomUUID();
}

function validation(value: unknown, member: string, constraint: string) {
  return LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}` });
}

/** The runtimes Nimbus runs. */
const SUPPORTED = new Set(['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14', 'provided', 'provided.al2', 'provided.al2023']);
/** Runtimes AWS no longer accepts for new or updated functions, and what it suggests instead. */
const DEPRECATED: Record<string, string> = { nodejs: 'nodejs22.x', 'nodejs4.3': 'nodejs22.x', 'nodejs4.3-edge': 'nodejs22.x', 'nodejs6.10': 'nodejs22.x', 'nodejs8.10': 'nodejs22.x', 'nodejs10.x': 'nodejs22.x', 'nodejs12.x': 'nodejs22.x', 'nodejs14.x': 'nodejs22.x', 'nodejs16.x': 'nodejs22.x', 'python2.7': 'python3.13', 'python3.6': 'python3.13', 'python3.7': 'python3.13', 'python3.8': 'python3.13' };

/**
 * AWS's checks, in its words: a value outside the Runtime enum is a ValidationException, a
 * deprecated runtime is refused with the suggested replacement; runtimes AWS has that
 * Nimbus cannot run locally (Java, .NET, Ruby) are refused saying so.
 */
export function checkRuntime(runtime: string | undefined, model?: string[]): void {
  if (runtime === undefined) throw LambdaErrors.InvalidParameterValueException({ message: 'Runtime and Handler are mandatory parameters for functions created with deployment packages.' });
  if (SUPPORTED.has(runtime)) {
    runtimeInfo(runtime);
    return;
  }
  const known = model ?? [];
  if (DEPRECATED[runtime]) {
    throw LambdaErrors.InvalidParameterValueException({
      message: `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (${DEPRECATED[runtime]}) while creating or updating functions.`,
    });
  }
  if (known.length && !known.includes(runtime)) throw validation(runtime, 'runtime', `Member must satisfy enum value set: [${known.join(', ')}]`);
  throw LambdaErrors.InvalidParameterValueException({
    message: `The runtime parameter of ${runtime} is not supported by Nimbus, which runs nodejs18.x … nodejs24.x, python3.9 … python3.14, provided, provided.al2 and provided.al2023 locally.`,
  });
}

export function checkLimits(input: Input): void {
  if (input.MemorySize !== undefined && (input.MemorySize < 128 || input.MemorySize > 10240)) {
    throw input.MemorySize < 128
      ? validation(input.MemorySize, 'memorySize', 'Member must have value greater than or equal to 128')
      : validation(input.MemorySize, 'memorySize', 'Member must have value less than or equal to 10240');
  }
  if (input.Timeout !== undefined && (input.Timeout < 1 || input.Timeout > 900)) {
    throw input.Timeout < 1 ? validation(input.Timeout, 'timeout', 'Member must have value greater than or equal to 1') : validation(input.Timeout, 'timeout', 'Member must have value less than or equal to 900');
  }
  const eph = input.EphemeralStorage?.Size;
  if (eph !== undefined && (eph < 512 || eph > 10240)) {
    throw eph < 512 ? validation(eph, 'ephemeralStorage.size', 'Member must have value greater than or equal to 512') : validation(eph, 'ephemeralStorage.size', 'Member must have value less than or equal to 10240');
  }
  const vars = input.Environment?.Variables as Record<string, string> | undefined;
  if (vars) {
    const size = JSON.stringify(vars).length;
    if (size > 4096) {
      throw LambdaErrors.InvalidParameterValueException({
        message: `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(vars)}`,
      });
    }
    const reserved = Object.keys(vars).filter((k) => RESERVED_ENV_VARS.has(k));
    if (reserved.length) {
      throw LambdaErrors.InvalidParameterValueException({
        message: `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
      });
    }
    for (const k of Object.keys(vars)) {
      if (!/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k)) throw validation(k, 'environment.variables', 'Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+');
    }
  }
  if (input.Description !== undefined && String(input.Description).length > 256) throw validation(input.Description, 'description', 'Member must have length less than or equal to 256');
  if (input.Layers && input.Layers.length > 5) throw LambdaErrors.InvalidParameterValueException({ message: 'Cannot reference more than 5 layers.' });
}

/** The execution role must exist and trust lambda.amazonaws.com, as AWS checks at create/update. */
export function checkRole(ctx: RequestContext, role: string | undefined): string {
  const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(String(role ?? ''));
  if (!m) throw validation(role, 'role', 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
  const doc = ctx.runtime.iam.forAccount(m[1]!).get('role', m[2]!);
  const trust = doc ? JSON.stringify(JSON.parse(doc.AssumeRolePolicyDocument)) : '';
  if (!doc || doc.Arn !== role || !trust.includes('lambda.amazonaws.com')) {
    throw LambdaErrors.InvalidParameterValueException({ message: 'The role defined for the function cannot be assumed by Lambda.' });
  }
  return role!;
}

/** A hash of what a published version freezes, to tell whether $LATEST changed since. */
export function configHash(c: VersionConfig): string {
  const { Version: _v, LastModified: _l, RevisionId: _r, State: _s, LastUpdateStatus: _u, StateReason: _sr, StateReasonCode: _sc, LastUpdateStatusReason: _ur, LastUpdateStatusReasonCode: _uc, SourceHash: _h, ...rest } = c;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** FunctionConfiguration as the API returns it, for $LATEST or a published version. */
export function configurationOut(fn: FunctionDoc, c: VersionConfig) {
  return {
    FunctionName: fn.FunctionName,
    FunctionArn: functionArn(fn.Region, fn.Account, fn.FunctionName, c.Version === '$LATEST' ? undefined : c.Version),
    Runtime: c.Runtime,
    Role: c.Role,
    Handler: c.Handler,
    CodeSize: c.CodeSize,
    Description: c.Description,
    Timeout: c.Timeout,
    MemorySize: c.MemorySize,
    LastModified: c.LastModified,
    CodeSha256: c.CodeSha256,
    Version: c.Version,
    Environment: c.Environment ? { Variables: c.Environment } : undefined,
    TracingConfig: c.TracingConfig,
    RevisionId: c.RevisionId,
    Layers: c.Layers.length ? c.Layers.map((arn) => ({ Arn: arn, CodeSize: layerCodeSize(arn, fn) })) : undefined,
    State: c.State,
    StateReason: c.StateReason,
    StateReasonCode: c.StateReasonCode,
    LastUpdateStatus: c.LastUpdateStatus,
    LastUpdateStatusReason: c.LastUpdateStatusReason,
    LastUpdateStatusReasonCode: c.LastUpdateStatusReasonCode,
    PackageType: c.PackageType,
    Architectures: c.Architectures,
    EphemeralStorage: c.EphemeralStorage,
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: c.LoggingConfig,
    DeadLetterConfig: c.DeadLetterConfig,
    KMSKeyArn: c.KMSKeyArn,
  };
}

/** Layer sizes are recorded on the function when the layers are resolved (see layers.ts). */
function layerCodeSize(arn: string, fn: FunctionDoc): number {
  return fn.layerCode?.[arn]?.size ?? 0;
}

export { functionArn, layerArn };
