import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import type { NamedPolicy, PolicyDocument } from '../../iam/engine/types.js';
import type { ResourceInfo } from '../types.js';
import { LambdaErrors } from './errors.js';
import { codeDir, codeLocation, storeZip, storeZipFromS3 } from './code.js';
import { lambdaTime, revisionId } from './config.js';
import { accountOf, layerArn, type FunctionDoc, type FunctionRef, type LayerDoc, type LayerVersionDoc, type PolicyStatement } from './store.js';
import { lambda } from './runtime.js';

/**
 * Layers: versioned zips merged, in the function's order, into its /opt. Other accounts
 * may use a version its owner shares with AddLayerVersionPermission.
 * https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html
 */
type Input = Record<string, any>;

const ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):(\d+)$/;

function checkLayerName(name: string): void {
  if (!/^[a-zA-Z0-9-_]{1,140}$/.test(name)) {
    throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${name}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+` });
  }
}

/** LayerName as the API takes it: a name or a layer ARN (without version). */
function layerRef(ctx: RequestContext, raw: string): { account: string; region: string; name: string } {
  const v = decodeURIComponent(String(raw ?? ''));
  const m = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$/.exec(v);
  if (m) return { region: m[1]!, account: m[2]!, name: m[3]! };
  checkLayerName(v);
  return { region: ctx.region, account: accountOf(ctx), name: v };
}

function versionOut(l: LayerDoc, v: LayerVersionDoc, ctx?: RequestContext) {
  return {
    LayerArn: layerArn(l.Region, l.Account, l.LayerName),
    LayerVersionArn: layerArn(l.Region, l.Account, l.LayerName, v.Version),
    Description: v.Description,
    CreatedDate: v.CreatedDate,
    Version: v.Version,
    CompatibleRuntimes: v.CompatibleRuntimes,
    CompatibleArchitectures: v.CompatibleArchitectures,
    LicenseInfo: v.LicenseInfo,
    Content: ctx ? { Location: codeLocation(ctx, v.CodeKey), CodeSha256: v.CodeSha256, CodeSize: v.CodeSize } : undefined,
  };
}

function listItem(l: LayerDoc, v: LayerVersionDoc) {
  const { Content: _c, LayerArn: _a, ...item } = versionOut(l, v);
  return item;
}

/** May the caller use (read) this layer version? Its own account, or a version permission. */
function mayUse(ctx: RequestContext, v: LayerVersionDoc, owner: string): boolean {
  const caller = accountOf(ctx);
  if (caller === owner) return true;
  return v.policy.some((s) => {
    const p = s.Principal === '*' ? '*' : s.Principal.AWS;
    return s.Action === 'lambda:GetLayerVersion' && (p === '*' || p === caller || p === `arn:aws:iam::${caller}:root`);
  });
}

async function requireVersion(ctx: RequestContext, ref: { account: string; region: string; name: string }, version: number | string): Promise<{ l: LayerDoc; v: LayerVersionDoc }> {
  const l = await lambda(ctx).store.getLayer(ref.account, ref.region, ref.name);
  const v = l?.versions[String(version)];
  if (!l || !v || !mayUse(ctx, v, l.Account)) throw LambdaErrors.ResourceNotFoundException({ message: 'The resource you requested does not exist.' });
  return { l, v };
}

/**
 * The layer version ARNs of a function configuration: the caller needs
 * lambda:GetLayerVersion on each (another account's layer: a version permission, else
 * AccessDeniedException as on AWS), and each must exist.
 */
export async function resolveLayers(ctx: RequestContext, _fn: FunctionRef, arns: string[]): Promise<{ arns: string[]; code: Record<string, { size: number; key: string }> }> {
  if (arns.length > 5) throw LambdaErrors.InvalidParameterValueException({ message: 'Cannot reference more than 5 layers.' });
  const code: Record<string, { size: number; key: string }> = {};
  for (const arn of arns) {
    const m = ARN.exec(arn);
    if (!m) throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '[${arns.join(', ')}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+]` });
    await ctx.authorize('lambda:GetLayerVersion', arn);
    const l = await lambda(ctx).store.getLayer(m[2]!, m[1]!, m[3]!);
    const v = l?.versions[m[4]!];
    if (!l || !v) throw LambdaErrors.InvalidParameterValueException({ message: `Layer version ${arn} does not exist.` });
    code[arn] = { size: v.CodeSize, key: v.CodeKey };
  }
  return { arns, code };
}

/** For IAM: a layer version ARN's owner and its version policy (AddLayerVersionPermission). */
export async function layerResourceInfo(ctx: RequestContext, arn: string): Promise<ResourceInfo | undefined> {
  const m = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)(?::(\d+))?$/.exec(arn);
  if (!m) return undefined;
  const l = await lambda(ctx).store.getLayer(m[2]!, m[1]!, m[3]!);
  const v = m[4] !== undefined ? l?.versions[m[4]] : undefined;
  const policy: NamedPolicy | undefined = v?.policy.length ? { id: `${arn}/policy`, document: JSON.parse(layerPolicy(v)) as PolicyDocument } : undefined;
  return { account: m[2], policy };
}

/**
 * The extracted directories of a configuration's layers, in order. A deleted layer
 * version stays usable by the functions that reference it, as on AWS: its code is kept
 * (content-addressed) and the function remembers its key.
 */
export async function layerDirs(runtime: Runtime, fn: FunctionDoc, arns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arn of arns) out.push(await codeDir(runtime, fn.layerCode![arn]!.key));
  return out;
}

export async function publishLayerVersion(input: Input, ctx: RequestContext) {
  const ref = layerRef(ctx, input.LayerName);
  if (ref.account !== accountOf(ctx)) throw LambdaErrors.AccessDenied({ message: 'You can only publish versions of your own layers.' });
  const content = input.Content ?? {};
  const code = content.ZipFile?.length ? await storeZip(ctx.runtime, content.ZipFile) : content.S3Bucket && content.S3Key ? await storeZipFromS3(ctx, content.S3Bucket, content.S3Key, content.S3ObjectVersion) : undefined;
  if (!code) throw LambdaErrors.InvalidParameterValueException({ message: 'Please provide a source for layer content.' });
  if ((input.CompatibleRuntimes ?? []).length > 15) throw LambdaErrors.InvalidParameterValueException({ message: 'A layer can have at most 15 compatible runtimes.' });
  const { l, v } = await lambda(ctx).store.updateLayer(ref.account, ref.region, ref.name, (cur) => {
    const doc: LayerDoc = cur ?? { LayerName: ref.name, Region: ref.region, Account: ref.account, versions: {}, nextVersion: 1 };
    const v: LayerVersionDoc = {
      Version: doc.nextVersion,
      Description: input.Description ?? '',
      CreatedDate: lambdaTime(),
      CompatibleRuntimes: input.CompatibleRuntimes,
      CompatibleArchitectures: input.CompatibleArchitectures,
      LicenseInfo: input.LicenseInfo,
      CodeSha256: code.sha256,
      CodeSize: code.size,
      CodeKey: code.key,
      policy: [],
      policyRevision: revisionId(),
    };
    const next = { ...doc, versions: { ...doc.versions, [String(v.Version)]: v }, nextVersion: doc.nextVersion + 1 };
    return { doc: next, result: { l: next, v } };
  });
  ctx.statusOverride = 201;
  return versionOut(l, v, ctx);
}

export async function getLayerVersion(input: Input, ctx: RequestContext) {
  const { l, v } = await requireVersion(ctx, layerRef(ctx, input.LayerName), input.VersionNumber);
  return versionOut(l, v, ctx);
}

export async function getLayerVersionByArn(input: Input, ctx: RequestContext) {
  const m = ARN.exec(String(input.Arn ?? ''));
  if (!m) throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${input.Arn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+` });
  const { l, v } = await requireVersion(ctx, { region: m[1]!, account: m[2]!, name: m[3]! }, m[4]!);
  return versionOut(l, v, ctx);
}

function pageOf<T>(items: T[], input: Input, key: (t: T) => string): { page: T[]; NextMarker?: string } {
  const max = input.MaxItems ?? 50;
  if (max < 1 || max > 50) throw LambdaErrors.InvalidParameterValueException({ message: 'MaxItems must be between 1 and 50.' });
  const after = input.Marker ? Buffer.from(String(input.Marker), 'base64url').toString('utf8') : undefined;
  let start = after === undefined ? 0 : items.findIndex((t) => key(t) > after);
  if (start < 0) start = items.length;
  const page = items.slice(start, start + max);
  return { page, NextMarker: start + max < items.length ? Buffer.from(key(page[page.length - 1]!)).toString('base64url') : undefined };
}

const matches = (v: LayerVersionDoc, input: Input) =>
  (!input.CompatibleRuntime || (v.CompatibleRuntimes ?? []).includes(input.CompatibleRuntime)) && (!input.CompatibleArchitecture || (v.CompatibleArchitectures ?? []).includes(input.CompatibleArchitecture));

export async function listLayers(input: Input, ctx: RequestContext) {
  const layers = (await lambda(ctx).store.listLayers(accountOf(ctx), ctx.region)).sort((a, b) => (a.LayerName < b.LayerName ? -1 : 1));
  const items = layers.flatMap((l) => {
    const latest = Object.values(l.versions).filter((v) => matches(v, input)).sort((a, b) => b.Version - a.Version)[0];
    return latest ? [{ l, latest }] : [];
  });
  const { page, NextMarker } = pageOf(items, input, (x) => x.l.LayerName);
  return {
    Layers: page.map(({ l, latest }) => ({ LayerName: l.LayerName, LayerArn: layerArn(l.Region, l.Account, l.LayerName), LatestMatchingVersion: listItem(l, latest) })),
    NextMarker,
  };
}

export async function listLayerVersions(input: Input, ctx: RequestContext) {
  const ref = layerRef(ctx, input.LayerName);
  const l = await lambda(ctx).store.getLayer(ref.account, ref.region, ref.name);
  const versions = l ? Object.values(l.versions).filter((v) => matches(v, input) && mayUse(ctx, v, l.Account)).sort((a, b) => b.Version - a.Version) : [];
  const { page, NextMarker } = pageOf(versions, input, (v) => String(1e12 - v.Version).padStart(13, '0'));
  return { LayerVersions: page.map((v) => listItem(l!, v)), NextMarker };
}

export async function deleteLayerVersion(input: Input, ctx: RequestContext) {
  const ref = layerRef(ctx, input.LayerName);
  await lambda(ctx).store.updateLayer(ref.account, ref.region, ref.name, (cur) => {
    const v = cur?.versions[String(input.VersionNumber)];
    // Deleting a version that does not exist succeeds, as on AWS.
    if (!cur || !v) return { doc: undefined, result: undefined };
    const { [String(input.VersionNumber)]: _gone, ...versions } = cur.versions;
    return { doc: Object.keys(versions).length ? { ...cur, versions } : { ...cur, versions: {} }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

// ---- layer version permissions -------------------------------------------------------

function layerPolicy(v: LayerVersionDoc): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: v.policy });
}

export async function addLayerVersionPermission(input: Input, ctx: RequestContext) {
  const ref = layerRef(ctx, input.LayerName);
  if (input.Action !== 'lambda:GetLayerVersion') throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${input.Action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion` });
  const principal = String(input.Principal ?? '');
  if (!/^\d{12}$|^\*$|^arn:aws:iam::\d{12}:root$/.test(principal)) throw LambdaErrors.ValidationException({ message: `1 validation error detected: Value '${principal}' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root` });
  const result = await lambda(ctx).store.updateLayer(ref.account, ref.region, ref.name, (cur) => {
    const v = cur?.versions[String(input.VersionNumber)];
    if (!cur || !v) throw LambdaErrors.ResourceNotFoundException({ message: 'Layer version does not exist.' });
    if (input.RevisionId !== undefined && input.RevisionId !== v.policyRevision) throw LambdaErrors.PreconditionFailedException();
    if (v.policy.some((s) => s.Sid === input.StatementId)) throw LambdaErrors.ResourceConflictException({ message: `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.` });
    const st: PolicyStatement = {
      Sid: input.StatementId,
      Effect: 'Allow',
      Principal: principal === '*' ? '*' : { AWS: /^\d{12}$/.test(principal) ? `arn:aws:iam::${principal}:root` : principal },
      Action: 'lambda:GetLayerVersion',
      Resource: layerArn(cur.Region, cur.Account, cur.LayerName, v.Version),
      ...(input.OrganizationId ? { Condition: { StringEquals: { 'aws:PrincipalOrgID': input.OrganizationId } } } : {}),
    };
    const nv = { ...v, policy: [...v.policy, st], policyRevision: revisionId() };
    return { doc: { ...cur, versions: { ...cur.versions, [String(v.Version)]: nv } }, result: { Statement: JSON.stringify(st), RevisionId: nv.policyRevision } };
  });
  ctx.statusOverride = 201;
  return result;
}

export async function getLayerVersionPolicy(input: Input, ctx: RequestContext) {
  const ref = layerRef(ctx, input.LayerName);
  const l = await lambda(ctx).store.getLayer(ref.account, ref.region, ref.name);
  const v = l?.versions[String(input.VersionNumber)];
  if (!l || !v || !v.policy.length) throw LambdaErrors.ResourceNotFoundException({ message: 'No policy is associated with the given resource.' });
  return { Policy: layerPolicy(v), RevisionId: v.policyRevision };
}

export async function removeLayerVersionPermission(input: Input, ctx: RequestContext) {
  const ref = layerRef(ctx, input.LayerName);
  await lambda(ctx).store.updateLayer(ref.account, ref.region, ref.name, (cur) => {
    const v = cur?.versions[String(input.VersionNumber)];
    if (!cur || !v) throw LambdaErrors.ResourceNotFoundException({ message: 'Layer version does not exist.' });
    if (input.RevisionId !== undefined && input.RevisionId !== v.policyRevision) throw LambdaErrors.PreconditionFailedException();
    if (!v.policy.some((s) => s.Sid === input.StatementId)) throw LambdaErrors.ResourceNotFoundException({ message: `Statement ${input.StatementId} is not found in resource policy.` });
    const nv = { ...v, policy: v.policy.filter((s) => s.Sid !== input.StatementId), policyRevision: revisionId() };
    return { doc: { ...cur, versions: { ...cur.versions, [String(v.Version)]: nv } }, result: undefined };
  });
  ctx.statusOverride = 204;
  return {};
}

export function layerResourceArn(i: Input, ctx: RequestContext): string {
  const ref = layerRef(ctx, i.LayerName);
  return layerArn(ref.region, ref.account, ref.name, i.VersionNumber);
}
