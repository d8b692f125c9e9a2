import type { RequestContext } from '../../server/context.js';
import { LambdaErrors } from './errors.js';
import { codeLocation, storeZip, storeZipFromS3, type StoredCode } from './code.js';
import { checkLimits, checkRole, checkRuntime, configHash, configurationOut, lambdaTime, revisionId } from './config.js';
import { functionArn, parseFunctionName, type FunctionDoc, type FunctionRef, type VersionConfig } from './store.js';
import { lambda } from './runtime.js';
import { resolveLayers } from './layers.js';

/**
 * Functions: create, read, list, update code and configuration, publish versions, delete.
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
 */
type Input = Record<string, any>;

/** The Runtime enum of the service model. */
function runtimeEnum(ctx: RequestContext): string[] {
  return (ctx.service?.model().shapes.Runtime as { enum?: string[] } | undefined)?.enum ?? [];
}

export function notFound(ref: FunctionRef, qualifier?: string) {
  return LambdaErrors.ResourceNotFoundException({ message: `Function not found: ${functionArn(ref.region, ref.account, ref.name, qualifier)}` });
}

export async function requireFunction(ctx: RequestContext, ref: FunctionRef): Promise<FunctionDoc> {
  const fn = await lambda(ctx).store.getFunction(ref);
  if (!fn) throw notFound(ref, ref.qualifier);
  return fn;
}

/**
 * The configuration a qualifier names: $LATEST (or none), a published version, or an
 * alias (its primary version; routing is the invoke path's business).
 */
export function configFor(fn: FunctionDoc, ref: FunctionRef): VersionConfig {
  const q = ref.qualifier;
  if (q === undefined || q === '$LATEST') return fn.latest;
  if (/^\d+$/.test(q)) {
    const v = fn.versions[q];
    if (!v) throw notFound(ref, q);
    return v;
  }
  const alias = fn.aliases[q];
  if (!alias) throw notFound(ref, q);
  return alias.FunctionVersion === '$LATEST' ? fn.latest : fn.versions[alias.FunctionVersion]!;
}

async function codeOf(ctx: RequestContext, input: Input): Promise<StoredCode> {
  const zip = input.ZipFile as Buffer | undefined;
  if (zip && zip.length) return storeZip(ctx.runtime, zip);
  if (input.S3Bucket && input.S3Key) return storeZipFromS3(ctx, input.S3Bucket, input.S3Key, input.S3ObjectVersion);
  if (input.ImageUri) throw LambdaErrors.InvalidParameterValueException({ message: 'Container images are not supported by Nimbus: use a .zip deployment package.' });
  throw LambdaErrors.InvalidParameterValueException({ message: 'Please provide a source for function code.' });
}

function publishFrom(fn: FunctionDoc, at: string): { doc: FunctionDoc; version: VersionConfig } {
  const last = Object.values(fn.versions).sort((a, b) => Number(b.Version) - Number(a.Version))[0];
  // Publishing an unchanged $LATEST returns the last version instead of a new one. A
  // version's own description (PublishVersion's Description) is no change of $LATEST.
  const current = configHash(fn.latest);
  if (last && (last.SourceHash ?? configHash(last)) === current) return { doc: fn, version: last };
  const version: VersionConfig = { ...fn.latest, Version: String(fn.nextVersion), LastModified: at, RevisionId: revisionId(), SourceHash: current };
  return { doc: { ...fn, versions: { ...fn.versions, [version.Version]: version }, nextVersion: fn.nextVersion + 1 }, version };
}

export async function createFunction(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  if (ref.qualifier !== undefined) throw LambdaErrors.InvalidParameterValueException({ message: 'Function name cannot be qualified when creating a function.' });
  if ((input.PackageType ?? 'Zip') !== 'Zip') throw LambdaErrors.InvalidParameterValueException({ message: 'Container images are not supported by Nimbus: use a .zip deployment package.' });
  checkRuntime(input.Runtime, runtimeEnum(ctx));
  if (!input.Handler && !String(input.Runtime).startsWith('provided')) {
    throw LambdaErrors.InvalidParameterValueException({ message: 'Runtime and Handler are mandatory parameters for functions created with deployment packages.' });
  }
  checkLimits(input);
  const role = checkRole(ctx, input.Role);
  // Giving a function a role is passing the role: the caller needs iam:PassRole on it.
  await ctx.authorize('iam:PassRole', role, { 'iam:PassedToService': 'lambda.amazonaws.com' });
  const layers = await resolveLayers(ctx, ref, input.Layers ?? []);
  if (await lambda(ctx).store.getFunction(ref)) throw LambdaErrors.ResourceConflictException({ message: `Function already exist: ${ref.name}` });
  const code = await codeOf(ctx, input.Code ?? {});
  const at = lambdaTime();
  const latest: VersionConfig = {
    Version: '$LATEST',
    Runtime: input.Runtime,
    Role: role,
    Handler: input.Handler,
    Description: input.Description ?? '',
    Timeout: input.Timeout ?? 3,
    MemorySize: input.MemorySize ?? 128,
    EphemeralStorage: { Size: input.EphemeralStorage?.Size ?? 512 },
    Environment: input.Environment?.Variables,
    Layers: layers.arns,
    Architectures: input.Architectures ?? ['x86_64'],
    PackageType: 'Zip',
    CodeSha256: code.sha256,
    CodeSize: code.size,
    CodeKey: code.key,
    LastModified: at,
    RevisionId: revisionId(),
    // As on AWS, a new function is Pending until its environment can be created.
    State: 'Pending',
    StateReason: 'The function is being created.',
    StateReasonCode: 'Creating',
    LastUpdateStatus: 'Successful',
    TracingConfig: { Mode: input.TracingConfig?.Mode ?? 'PassThrough' },
    LoggingConfig: { LogFormat: input.LoggingConfig?.LogFormat ?? 'Text', LogGroup: input.LoggingConfig?.LogGroup ?? `/aws/lambda/${ref.name}`, ApplicationLogLevel: input.LoggingConfig?.ApplicationLogLevel, SystemLogLevel: input.LoggingConfig?.SystemLogLevel },
    DeadLetterConfig: input.DeadLetterConfig?.TargetArn ? input.DeadLetterConfig : undefined,
    KMSKeyArn: input.KMSKeyArn,
  };
  let doc: FunctionDoc = {
    FunctionName: ref.name,
    Region: ref.region,
    Account: ref.account,
    latest,
    versions: {},
    nextVersion: 1,
    aliases: {},
    policy: {},
    policyRevision: {},
    eventInvokeConfigs: {},
    urlConfigs: {},
    tags: input.Tags ?? {},
    layerCode: layers.code,
  };
  let out = latest;
  if (input.Publish) ({ doc, version: out } = publishFrom(doc, at));
  const created = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (cur) throw LambdaErrors.ResourceConflictException({ message: `Function already exist: ${ref.name}` });
    return { doc, result: doc };
  });
  activateSoon(ctx, ref);
  return configurationOut(created, out);
}

/**
 * The Pending → Active transition, once the code is in place (it already is: the zip was
 * extracted before the metadata was committed), a moment after the response.
 */
function activateSoon(ctx: RequestContext, ref: FunctionRef): void {
  const store = lambda(ctx).store;
  setImmediate(() => {
    store
      .updateFunction(ref, (cur) => {
        if (!cur) return { doc: undefined, result: undefined };
        const active = (c: VersionConfig): VersionConfig =>
          c.State === 'Pending' || c.LastUpdateStatus === 'InProgress'
            ? { ...c, State: 'Active', StateReason: undefined, StateReasonCode: undefined, LastUpdateStatus: 'Successful', LastUpdateStatusReason: undefined, LastUpdateStatusReasonCode: undefined }
            : c;
        const versions = Object.fromEntries(Object.entries(cur.versions).map(([k, v]) => [k, active(v)]));
        return { doc: { ...cur, latest: active(cur.latest), versions }, result: undefined };
      })
      .catch(() => undefined);
  });
}

export async function getFunction(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  const fn = await requireFunction(ctx, ref);
  const c = configFor(fn, ref);
  return {
    Configuration: configurationOut(fn, c),
    Code: { RepositoryType: 'S3', Location: codeLocation(ctx, c.CodeKey) },
    Tags: Object.keys(fn.tags).length ? fn.tags : undefined,
    Concurrency: fn.reservedConcurrency !== undefined ? { ReservedConcurrentExecutions: fn.reservedConcurrency } : undefined,
  };
}

export async function getFunctionConfiguration(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  const fn = await requireFunction(ctx, ref);
  return configurationOut(fn, configFor(fn, ref));
}

function paginate<T>(items: T[], input: Input, key: (t: T) => string): { page: T[]; NextMarker?: string } {
  const max = input.MaxItems ?? 50;
  if (max < 1 || max > 10000) throw LambdaErrors.InvalidParameterValueException({ message: 'MaxItems must be between 1 and 10000.' });
  let start = 0;
  if (input.Marker) {
    const after = Buffer.from(String(input.Marker), 'base64url').toString('utf8');
    start = items.findIndex((t) => key(t) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + max);
  const more = start + max < items.length;
  return { page, NextMarker: more ? Buffer.from(key(page[page.length - 1]!), 'utf8').toString('base64url') : undefined };
}

export async function listFunctions(input: Input, ctx: RequestContext) {
  const fns = (await lambda(ctx).store.listFunctions(ctx.principal?.accountId || ctx.runtime.config.accountId, ctx.region)).sort((a, b) => (a.FunctionName < b.FunctionName ? -1 : 1));
  const all = input.FunctionVersion === 'ALL';
  const entries = fns.flatMap((fn) => {
    const list = [{ key: `${fn.FunctionName}\u0000`, fn, c: fn.latest }];
    if (all) for (const v of Object.values(fn.versions).sort((a, b) => Number(a.Version) - Number(b.Version))) list.push({ key: `${fn.FunctionName}\u0000${v.Version.padStart(10, '0')}`, fn, c: v });
    return list;
  });
  const { page, NextMarker } = paginate(entries, input, (e) => e.key);
  return { Functions: page.map((e) => configurationOut(e.fn, e.c)), NextMarker };
}

export async function listVersionsByFunction(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  const fn = await requireFunction(ctx, ref);
  const list = [fn.latest, ...Object.values(fn.versions).sort((a, b) => Number(a.Version) - Number(b.Version))];
  const { page, NextMarker } = paginate(list, input, (c) => (c.Version === '$LATEST' ? '' : c.Version.padStart(10, '0')));
  return { Versions: page.map((c) => configurationOut(fn, c)), NextMarker };
}

function checkRevision(input: Input, current: string): void {
  if (input.RevisionId !== undefined && input.RevisionId !== current) throw LambdaErrors.PreconditionFailedException();
}

/** A change to $LATEST: LastUpdateStatus InProgress until the next moment, as on AWS. */
function changed(c: VersionConfig, patch: Partial<VersionConfig>): VersionConfig {
  return { ...c, ...patch, LastModified: lambdaTime(), RevisionId: revisionId(), LastUpdateStatus: 'InProgress', LastUpdateStatusReason: 'The function is being created.', LastUpdateStatusReasonCode: 'Creating' };
}

function checkUpdatable(fn: FunctionDoc): void {
  const c = fn.latest;
  if (c.LastUpdateStatus === 'InProgress' || c.State === 'Pending') {
    throw LambdaErrors.ResourceConflictException({ message: `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(fn.Region, fn.Account, fn.FunctionName)}` });
  }
}

export async function updateFunctionCode(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  await requireFunction(ctx, ref);
  const code = await codeOf(ctx, input);
  if (input.DryRun) {
    const fn = await requireFunction(ctx, ref);
    return configurationOut(fn, { ...fn.latest, CodeSha256: code.sha256, CodeSize: code.size });
  }
  const { fn, out } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw notFound(ref);
    checkRevision(input, cur.latest.RevisionId);
    checkUpdatable(cur);
    let doc: FunctionDoc = { ...cur, latest: changed(cur.latest, { CodeSha256: code.sha256, CodeSize: code.size, CodeKey: code.key, Architectures: input.Architectures ?? cur.latest.Architectures }) };
    let out = doc.latest;
    if (input.Publish) ({ doc, version: out } = publishFrom(doc, doc.latest.LastModified));
    return { doc, result: { fn: doc, out } };
  });
  lambda(ctx).engine.retire(functionArn(ref.region, ref.account, ref.name), '$LATEST');
  activateSoon(ctx, ref);
  return configurationOut(fn, out);
}

export async function updateFunctionConfiguration(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  await requireFunction(ctx, ref);
  if (input.Runtime !== undefined) checkRuntime(input.Runtime, runtimeEnum(ctx));
  checkLimits(input);
  const role = input.Role !== undefined ? checkRole(ctx, input.Role) : undefined;
  if (role) await ctx.authorize('iam:PassRole', role, { 'iam:PassedToService': 'lambda.amazonaws.com' });
  const layers = input.Layers !== undefined ? await resolveLayers(ctx, ref, input.Layers) : undefined;
  const fn = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw notFound(ref);
    checkRevision(input, cur.latest.RevisionId);
    checkUpdatable(cur);
    const c = cur.latest;
    const patch: Partial<VersionConfig> = {
      Role: role ?? c.Role,
      Handler: input.Handler ?? c.Handler,
      Description: input.Description ?? c.Description,
      Timeout: input.Timeout ?? c.Timeout,
      MemorySize: input.MemorySize ?? c.MemorySize,
      Runtime: input.Runtime ?? c.Runtime,
      EphemeralStorage: input.EphemeralStorage ? { Size: input.EphemeralStorage.Size } : c.EphemeralStorage,
      Environment: input.Environment !== undefined ? (input.Environment.Variables ?? {}) : c.Environment,
      Layers: layers ? layers.arns : c.Layers,
      TracingConfig: input.TracingConfig?.Mode ? { Mode: input.TracingConfig.Mode } : c.TracingConfig,
      LoggingConfig: input.LoggingConfig ? { ...c.LoggingConfig, ...input.LoggingConfig } : c.LoggingConfig,
      DeadLetterConfig: input.DeadLetterConfig !== undefined ? (input.DeadLetterConfig.TargetArn ? input.DeadLetterConfig : undefined) : c.DeadLetterConfig,
      KMSKeyArn: input.KMSKeyArn ?? c.KMSKeyArn,
    };
    const doc: FunctionDoc = { ...cur, latest: changed(c, patch), layerCode: { ...cur.layerCode, ...layers?.code } };
    return { doc, result: doc };
  });
  lambda(ctx).engine.retire(functionArn(ref.region, ref.account, ref.name), '$LATEST');
  activateSoon(ctx, ref);
  return configurationOut(fn, fn.latest);
}

export async function publishVersion(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName);
  await requireFunction(ctx, ref);
  const { fn, version } = await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw notFound(ref);
    checkRevision(input, cur.latest.RevisionId);
    if (input.CodeSha256 !== undefined && input.CodeSha256 !== cur.latest.CodeSha256) {
      throw LambdaErrors.InvalidParameterValueException({ message: `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${cur.latest.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.` });
    }
    checkUpdatable(cur);
    const { doc, version } = publishFrom(cur, lambdaTime());
    const v = input.Description !== undefined && doc.versions[version.Version] === version && !cur.versions[version.Version] ? { ...version, Description: input.Description } : version;
    const out = v === version ? doc : { ...doc, versions: { ...doc.versions, [v.Version]: v } };
    return { doc: out === cur ? undefined : out, result: { fn: out, version: v } };
  });
  return configurationOut(fn, version);
}

export async function deleteFunction(input: Input, ctx: RequestContext) {
  const ref = parseFunctionName(ctx, input.FunctionName, input.Qualifier);
  await requireFunction(ctx, ref);
  if (ref.qualifier === '$LATEST') throw LambdaErrors.InvalidParameterValueException({ message: '$LATEST version cannot be deleted without deleting the function.' });
  await lambda(ctx).store.updateFunction(ref, (cur) => {
    if (!cur) throw notFound(ref);
    if (ref.qualifier === undefined) return { doc: null, result: undefined };
    if (!/^\d+$/.test(ref.qualifier) || !cur.versions[ref.qualifier]) throw notFound(ref, ref.qualifier);
    const users = Object.values(cur.aliases).filter((a) => a.FunctionVersion === ref.qualifier || a.RoutingConfig?.AdditionalVersionWeights?.[ref.qualifier!] !== undefined);
    if (users.length) {
      throw LambdaErrors.ResourceConflictException({ message: `Unable to delete version because the following aliases reference it: [${users.map((a) => a.Name).join(', ')}]` });
    }
    const { [ref.qualifier]: _gone, ...versions } = cur.versions;
    return { doc: { ...cur, versions }, result: undefined };
  });
  lambda(ctx).engine.retire(functionArn(ref.region, ref.account, ref.name), ref.qualifier);
  ctx.statusOverride = 204;
  return {};
}
