import type { RequestContext } from '../../server/context.js';
import type { ContextValue, NamedPolicy, Statement } from '../../iam/engine/types.js';
import type { BucketRecord, ObjectAttrs, StoredGrant } from '../../storage/metadata.js';
import type { ResourceInfo } from '../types.js';
import { accountPublicAccessBlock } from '../s3control/index.js';
import { S3Errors } from './errors.js';
import { accountOfCanonicalId, canonicalUserId, callerAccount, ownerOf, requireBucket, validateKey } from './common.js';
import { checkVersionId } from './versions.js';
import { findObject } from './objects.js';
import { bucketConfig, peekBucketConfig, storeBucketConfig } from './bucket-configs.js';
import { publicAccessBlockFor, type PublicAccessBlock } from './bucket-policy.js';
import { bucketHasObjectAttrs, loadObjectAttrs, markObjectAttrs, peekHasObjectAttrs, updateObjectAttrs } from './object-attrs.js';
import { existingTagKeys, type Tag } from './tagging.js';

/**
 * Access control lists and Object Ownership.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
 *
 * A bucket's Object Ownership (the `ownershipControls` configuration) decides whether ACLs
 * exist at all. BucketOwnerEnforced, the default for new buckets, disables them: writes may
 * name only ACLs equal to the bucket owner's full control, reads of ACLs answer exactly that,
 * and the bucket owner owns every object. BucketOwnerPreferred and ObjectWriter enable them
 * (no configuration at all means ObjectWriter, as for buckets from before the setting).
 *
 * ACLs are enforced by turning them into resource-policy statements that authorize.ts
 * evaluates with the bucket policy: a grant to a canonical user is a grant to that
 * account's root (its IAM principals then need their own identity policies, exactly as for
 * a bucket policy naming the account), AllUsers is Principal "*", AuthenticatedUsers "*"
 * for signed requests only. Explicit denies in any policy still win; Block Public Access's
 * IgnorePublicAcls drops public grants, BlockPublicAcls refuses writing them. For objects
 * another account owns (ObjectWriter), the object context is that account's: only the
 * object's ACL grants, and the bucket policy can only deny
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html).
 */
export type Ownership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
type Permission = StoredGrant['permission'];
type Input = Record<string, any>;

const OWNERSHIPS = new Set<string>(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);
export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);
/** The canonical user aws-exec-read grants READ to (Amazon EC2, shown as "za-team"). */
const EC2_ID = '6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c';
const PERMISSIONS = new Set<string>(['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP']);
const BUCKET_CANNED = new Set(['private', 'public-read', 'public-read-write', 'authenticated-read', 'log-delivery-write']);
const OBJECT_CANNED = new Set(['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control']);
const OWNERSHIP = 'ownershipControls';
const BUCKET_ACL = 'acl';

const GRANT_HEADERS: Array<[member: string, permission: Permission, header: string]> = [
  ['GrantFullControl', 'FULL_CONTROL', 'x-amz-grant-full-control'],
  ['GrantRead', 'READ', 'x-amz-grant-read'],
  ['GrantReadACP', 'READ_ACP', 'x-amz-grant-read-acp'],
  ['GrantWrite', 'WRITE', 'x-amz-grant-write'],
  ['GrantWriteACP', 'WRITE_ACP', 'x-amz-grant-write-acp'],
];

// ——— Object Ownership ———

export async function ownershipOf(ctx: RequestContext, bucket: string): Promise<Ownership> {
  return (await bucketConfig<{ ObjectOwnership: Ownership }>(ctx, bucket, OWNERSHIP))?.config?.ObjectOwnership ?? 'ObjectWriter';
}

async function storedBucketAcl(ctx: RequestContext, bucket: string): Promise<StoredGrant[] | undefined> {
  return (await bucketConfig<{ grants: StoredGrant[] }>(ctx, bucket, BUCKET_ACL))?.config?.grants;
}

export async function putBucketOwnershipControls(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const rules = input.OwnershipControls?.Rules;
  if (!Array.isArray(rules) || rules.length !== 1 || !OWNERSHIPS.has(rules[0]?.ObjectOwnership)) throw S3Errors.MalformedXML();
  const ownership = rules[0].ObjectOwnership as Ownership;
  // ACLs can be disabled only while the bucket ACL gives nobody but the owner anything.
  const acl = await storedBucketAcl(ctx, bucket.name);
  if (ownership === 'BucketOwnerEnforced' && acl && !ownerOnly(acl, bucket.ownerId)) throw S3Errors.InvalidBucketAclWithObjectOwnership();
  await storeBucketConfig(ctx, bucket, OWNERSHIP, { ObjectOwnership: ownership });
  return {};
}

export async function getBucketOwnershipControls(input: Input, ctx: RequestContext) {
  await requireBucket(ctx, input.Bucket);
  const c = (await bucketConfig<{ ObjectOwnership: Ownership }>(ctx, input.Bucket, OWNERSHIP))?.config;
  if (!c) throw S3Errors.OwnershipControlsNotFoundError({ BucketName: input.Bucket });
  return { OwnershipControls: { Rules: [{ ObjectOwnership: c.ObjectOwnership }] } };
}

export async function deleteBucketOwnershipControls(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await storeBucketConfig(ctx, bucket, OWNERSHIP, undefined);
  return {};
}

// ——— Reading ACLs from requests ———

/** An ACL as a request states it: a canned ACL, explicit grants (headers or an AccessControlPolicy), or none. */
export type AclRequest = { canned: string } | { grants: StoredGrant[] } | undefined;

function grantee(kind: string, value: string, argument: string): Omit<StoredGrant, 'permission'> {
  switch (kind.toLowerCase()) {
    case 'id':
      if (value !== EC2_ID && !accountOfCanonicalId(value)) throw S3Errors.InvalidArgument({ message: 'Invalid id', ArgumentName: 'CanonicalUser/ID', ArgumentValue: value });
      return { id: value };
    case 'uri':
      if (!GROUPS.has(value)) throw S3Errors.InvalidArgument({ message: 'Invalid group uri', ArgumentName: 'Group/URI', ArgumentValue: value });
      return { uri: value };
    case 'emailaddress':
      // Nimbus accounts have no e-mail addresses, so none resolves (as in the Regions without them).
      throw S3Errors.UnresolvableGrantByEmailAddress({ EmailAddress: value });
    default:
      throw S3Errors.InvalidArgument({ message: 'Argument format not recognized', ArgumentName: argument, ArgumentValue: value });
  }
}

/** x-amz-grant-*: a comma-separated list of id="…", uri="…" or emailAddress="…". */
function headerGrants(value: string, permission: Permission, header: string): StoredGrant[] {
  const out: StoredGrant[] = [];
  for (const part of value.split(',')) {
    if (part.trim() === '') continue;
    const m = /^\s*([A-Za-z]+)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
    if (!m) throw S3Errors.InvalidArgument({ message: 'Argument format not recognized', ArgumentName: header, ArgumentValue: value });
    out.push({ ...grantee(m[1]!, m[2]!.trim(), header), permission });
  }
  return out;
}

function policyGrants(policy: Record<string, any>): StoredGrant[] {
  if (!policy.Owner?.ID) throw S3Errors.MalformedACLError();
  const out: StoredGrant[] = [];
  for (const g of (policy.Grants ?? []) as Array<Record<string, any>>) {
    const permission = g?.Permission;
    const who = g?.Grantee as Record<string, string> | undefined;
    if (!PERMISSIONS.has(permission) || !who) throw S3Errors.MalformedACLError();
    let kind: string;
    let value: string | undefined;
    switch (who.Type) {
      case 'CanonicalUser':
        [kind, value] = ['id', who.ID];
        break;
      case 'Group':
        [kind, value] = ['uri', who.URI];
        break;
      case 'AmazonCustomerByEmail':
        [kind, value] = ['emailAddress', who.EmailAddress];
        break;
      default:
        throw S3Errors.MalformedACLError();
    }
    if (!value) throw S3Errors.MalformedACLError();
    out.push({ ...grantee(kind, value, 'AccessControlList'), permission });
  }
  return out;
}

/**
 * The ACL a request states. A canned ACL and grant headers together are InvalidRequest; an
 * ACL in headers and in the body together, UnexpectedContent (PutBucketAcl, PutObjectAcl).
 */
export function requestedAcl(input: Input, kind: 'bucket' | 'object'): AclRequest {
  const headers = GRANT_HEADERS.filter(([m]) => input[m] !== undefined);
  if (input.ACL !== undefined && headers.length) throw S3Errors.InvalidRequest({ message: 'Specifying both Canned ACLs and Header Grants is not allowed' });
  if ((input.ACL !== undefined || headers.length) && input.AccessControlPolicy !== undefined) throw S3Errors.UnexpectedContent();
  if (input.ACL !== undefined) {
    if (!(kind === 'bucket' ? BUCKET_CANNED : OBJECT_CANNED).has(input.ACL)) throw S3Errors.InvalidArgument({ message: 'Invalid canned ACL', ArgumentName: 'x-amz-acl', ArgumentValue: input.ACL });
    return { canned: input.ACL };
  }
  if (headers.length) return { grants: headers.flatMap(([m, p, h]) => headerGrants(String(input[m]), p, h)) };
  if (input.AccessControlPolicy !== undefined) return { grants: policyGrants(input.AccessControlPolicy) };
  return undefined;
}

/** The grants an ACL request means for a resource owned by `owner` in a bucket owned by `bucketOwner`. */
export function expandAcl(req: NonNullable<AclRequest>, owner: string, bucketOwner: string): StoredGrant[] {
  if ('grants' in req) return req.grants;
  const grants: StoredGrant[] = [{ id: canonicalUserId(owner), permission: 'FULL_CONTROL' }];
  const other = owner !== bucketOwner;
  switch (req.canned) {
    case 'public-read':
      grants.push({ uri: ALL_USERS, permission: 'READ' });
      break;
    case 'public-read-write':
      grants.push({ uri: ALL_USERS, permission: 'READ' }, { uri: ALL_USERS, permission: 'WRITE' });
      break;
    case 'authenticated-read':
      grants.push({ uri: AUTHENTICATED_USERS, permission: 'READ' });
      break;
    case 'aws-exec-read':
      grants.push({ id: EC2_ID, permission: 'READ' });
      break;
    case 'bucket-owner-read':
      if (other) grants.push({ id: canonicalUserId(bucketOwner), permission: 'READ' });
      break;
    case 'bucket-owner-full-control':
      if (other) grants.push({ id: canonicalUserId(bucketOwner), permission: 'FULL_CONTROL' });
      break;
    case 'log-delivery-write':
      grants.push({ uri: LOG_DELIVERY, permission: 'WRITE' }, { uri: LOG_DELIVERY, permission: 'READ_ACP' });
      break;
  }
  return grants;
}

/** Whether the grants give the owner full control and nobody anything else (the default, "private"). */
export function ownerOnly(grants: StoredGrant[], owner: string): boolean {
  const id = canonicalUserId(owner);
  return grants.every((g) => g.id === id && g.permission === 'FULL_CONTROL');
}

/** "Amazon S3 considers an ACL public if it grants any permissions to AllUsers or AuthenticatedUsers." */
export function isPublicAcl(grants: StoredGrant[]): boolean {
  return grants.some((g) => g.uri === ALL_USERS || g.uri === AUTHENTICATED_USERS);
}

/** s3:x-amz-acl and s3:x-amz-grant-* of requests that may carry an ACL. */
export function aclConditionKeys(input: Input): Record<string, ContextValue | undefined> {
  const out: Record<string, ContextValue | undefined> = {};
  if (input.ACL !== undefined) out['s3:x-amz-acl'] = input.ACL;
  for (const [m, , h] of GRANT_HEADERS) if (input[m] !== undefined) out[`s3:${h}`] = String(input[m]);
  return out;
}

function blockedPublicAcl(): Error {
  return S3Errors.AccessDenied({ message: 'Access Denied' });
}

async function refusePublic(ctx: RequestContext, bucket: string, grants: StoredGrant[]): Promise<void> {
  if (isPublicAcl(grants) && (await publicAccessBlockFor(ctx, bucket))?.BlockPublicAcls) throw blockedPublicAcl();
}

/**
 * The ACL and owner of an object a request writes (PutObject, CopyObject, CreateMultipartUpload,
 * POST Object), checked against Object Ownership and Block Public Access. With
 * BucketOwnerEnforced the bucket owner owns it and only owner-full-control ACLs are
 * accepted; BucketOwnerPreferred makes the bucket owner the owner of uploads that say
 * bucket-owner-full-control; otherwise the writer's account owns what it writes.
 */
export async function newObjectAcl(ctx: RequestContext, bucket: BucketRecord, input: Input): Promise<Pick<ObjectAttrs, 'acl' | 'owner'>> {
  const req = requestedAcl(input, 'object');
  const ownership = await ownershipOf(ctx, bucket.name);
  const writer = !ctx.principal || ctx.principal.type === 'anonymous' ? bucket.ownerId : ctx.principal.accountId;
  if (ownership === 'BucketOwnerEnforced') {
    if (req && !ownerOnly(expandAcl(req, bucket.ownerId, bucket.ownerId), bucket.ownerId)) throw S3Errors.AccessControlListNotSupported();
    return {};
  }
  const toBucketOwner = ownership === 'BucketOwnerPreferred' && req !== undefined && 'canned' in req && req.canned === 'bucket-owner-full-control';
  const owner = toBucketOwner ? bucket.ownerId : writer;
  const grants = req ? expandAcl(req, owner, bucket.ownerId) : undefined;
  if (grants) await refusePublic(ctx, bucket.name, grants);
  const attrs: Pick<ObjectAttrs, 'acl' | 'owner'> = {};
  if (grants && !ownerOnly(grants, owner)) attrs.acl = grants;
  if (owner !== bucket.ownerId) attrs.owner = owner;
  return attrs;
}

/**
 * Everything a write stores beside the new object's data: its tags (already validated)
 * and what newObjectAcl decides; undefined when there is nothing to store.
 */
export async function newObjectAttrs(ctx: RequestContext, bucket: BucketRecord, input: Input, tags: Tag[] | undefined): Promise<ObjectAttrs | undefined> {
  const attrs: ObjectAttrs = await newObjectAcl(ctx, bucket, input);
  if (tags?.length) attrs.tags = tags;
  if (!attrs.tags && !attrs.acl && !attrs.owner) return undefined;
  await markObjectAttrs(ctx, bucket);
  return attrs;
}

/**
 * CreateBucket's x-amz-object-ownership and ACL headers: the configurations the new bucket
 * starts with. A bucket ACL beyond the owner's full control with BucketOwnerEnforced is
 * InvalidBucketAclWithObjectOwnership. Without x-amz-object-ownership the default is
 * BucketOwnerEnforced, except that a `private` canned ACL makes it BucketOwnerPreferred, as
 * S3 does (versity/versitygw#1869, observed against S3; rclone sends x-amz-acl: private).
 */
export async function createBucketAcl(ctx: RequestContext, input: Input): Promise<{ ownership: Ownership; acl?: StoredGrant[] }> {
  const owner = callerAccount(ctx);
  if (input.ObjectOwnership !== undefined && !OWNERSHIPS.has(input.ObjectOwnership)) {
    throw S3Errors.InvalidArgument({ message: 'Invalid x-amz-object-ownership header', ArgumentName: 'x-amz-object-ownership', ArgumentValue: input.ObjectOwnership });
  }
  const req = requestedAcl(input, 'bucket');
  const grants = req && expandAcl(req, owner, owner);
  let ownership: Ownership = input.ObjectOwnership ?? 'BucketOwnerEnforced';
  if (input.ObjectOwnership === undefined && req && 'canned' in req && req.canned === 'private') ownership = 'BucketOwnerPreferred';
  if (grants && ownership === 'BucketOwnerEnforced' && !ownerOnly(grants, owner)) throw S3Errors.InvalidBucketAclWithObjectOwnership();
  // Before the bucket exists only the account's own Block Public Access can refuse it.
  if (grants && isPublicAcl(grants) && accountPublicAccessBlock(ctx, owner)?.BlockPublicAcls) throw blockedPublicAcl();
  const arn = `arn:aws:s3:::${input.Bucket}`;
  if (input.ObjectOwnership !== undefined) await ctx.authorize('s3:PutBucketOwnershipControls', arn);
  if (req) await ctx.authorize('s3:PutBucketAcl', arn, aclConditionKeys(input));
  return { ownership, acl: grants && !ownerOnly(grants, owner) ? grants : undefined };
}

// ——— PutBucketAcl, GetBucketAcl, PutObjectAcl, GetObjectAcl ———

function missingAcl(): Error {
  return S3Errors.MissingSecurityHeader({ MissingHeaderName: 'x-amz-acl' });
}

function grantOutput(g: StoredGrant) {
  if (g.uri !== undefined) return { Grantee: { Type: 'Group', URI: g.uri }, Permission: g.permission };
  const account = accountOfCanonicalId(g.id!);
  const DisplayName = g.id === EC2_ID ? 'za-team' : account ? ownerOf(account).DisplayName : undefined;
  return { Grantee: { Type: 'CanonicalUser', ID: g.id, DisplayName }, Permission: g.permission };
}

function aclOutput(owner: string, grants: StoredGrant[] | undefined) {
  return { Owner: ownerOf(owner), Grants: (grants ?? [{ id: canonicalUserId(owner), permission: 'FULL_CONTROL' as const }]).map(grantOutput) };
}

export async function putBucketAcl(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const req = requestedAcl(input, 'bucket');
  if (!req) throw missingAcl();
  const grants = expandAcl(req, bucket.ownerId, bucket.ownerId);
  const enforced = (await ownershipOf(ctx, bucket.name)) === 'BucketOwnerEnforced';
  if (enforced && !ownerOnly(grants, bucket.ownerId)) throw S3Errors.AccessControlListNotSupported();
  await refusePublic(ctx, bucket.name, grants);
  await storeBucketConfig(ctx, bucket, BUCKET_ACL, ownerOnly(grants, bucket.ownerId) ? undefined : { grants });
  return {};
}

export async function getBucketAcl(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  // With ACLs disabled, reading them answers the owner's full control.
  if ((await ownershipOf(ctx, bucket.name)) === 'BucketOwnerEnforced') return aclOutput(bucket.ownerId, undefined);
  return aclOutput(bucket.ownerId, await storedBucketAcl(ctx, bucket.name));
}

async function aclObject(input: Input, ctx: RequestContext) {
  validateKey(input.Key);
  const versionId = checkVersionId(input.VersionId);
  const bucket = await requireBucket(ctx, input.Bucket);
  const rec = await findObject(ctx, bucket, input.Key, versionId);
  return { bucket, rec, versionId };
}

export async function putObjectAcl(input: Input, ctx: RequestContext) {
  const req = requestedAcl(input, 'object');
  if (!req) throw missingAcl();
  const { bucket, rec, versionId } = await aclObject(input, ctx);
  const enforced = (await ownershipOf(ctx, bucket.name)) === 'BucketOwnerEnforced';
  const attrs = enforced ? undefined : await loadObjectAttrs(ctx, bucket, rec.key, rec.versionId);
  const owner = attrs?.owner ?? bucket.ownerId;
  const grants = expandAcl(req, owner, bucket.ownerId);
  if (enforced) {
    if (!ownerOnly(grants, bucket.ownerId)) throw S3Errors.AccessControlListNotSupported();
    return {};
  }
  await refusePublic(ctx, bucket.name, grants);
  const acl = ownerOnly(grants, owner) ? undefined : grants;
  if (acl) await markObjectAttrs(ctx, bucket);
  await updateObjectAttrs(ctx, bucket, rec, (a) => ({ ...a, acl }), versionId);
  return {};
}

export async function getObjectAcl(input: Input, ctx: RequestContext) {
  const { bucket, rec } = await aclObject(input, ctx);
  if ((await ownershipOf(ctx, bucket.name)) === 'BucketOwnerEnforced') return aclOutput(bucket.ownerId, undefined);
  const attrs = await loadObjectAttrs(ctx, bucket, rec.key, rec.versionId);
  return aclOutput(attrs?.owner ?? bucket.ownerId, attrs?.acl);
}

/**
 * The Owner of listed objects (ListObjects, ListObjectsV2 with fetch-owner, ListObjectVersions):
 * the bucket owner, or with ACLs enabled the account that owns each version.
 */
type Owner = { ID: string; DisplayName: string };

/** Each object's owner; `constant` when every object has the bucket owner's. */
export async function objectOwners(ctx: RequestContext, bucket: BucketRecord): Promise<((key: string, versionId: string) => Promise<Owner>) & { constant?: Owner }> {
  const bucketOwner = ownerOf(bucket.ownerId);
  if ((await ownershipOf(ctx, bucket.name)) === 'BucketOwnerEnforced' || !(await bucketHasObjectAttrs(ctx, bucket.name))) return Object.assign(async () => bucketOwner, { constant: bucketOwner });
  return async (key, versionId) => {
    const owner = (await ctx.runtime.store.s3.getObjectAttrs(bucket.id, key, versionId))?.owner;
    return owner ? ownerOf(owner) : bucketOwner;
  };
}

// ——— ACLs as resource-policy statements ———

/** Object actions evaluated in the object owner's context when another account owns the object. */
const OBJECT_OWNER_ACTIONS = new Set(['s3:getobject', 's3:getobjectversion', 's3:getobjectacl', 's3:getobjectversionacl', 's3:putobjectacl', 's3:putobjectversionacl']);
/**
 * The actions S3 fills s3:ExistingObjectTag/<key> for (Service Authorization Reference);
 * never PutObject or DeleteObject (tagging-and-policies.html).
 */
const EXISTING_TAG_ACTIONS = new Set([
  ...OBJECT_OWNER_ACTIONS,
  's3:getobjecttagging',
  's3:getobjectversiontagging',
  's3:putobjecttagging',
  's3:putobjectversiontagging',
  's3:deleteobjecttagging',
  's3:deleteobjectversiontagging',
]);

/** What each ACL permission allows ("Mapping of ACL permissions and access policy permissions"). */
const BUCKET_ACTIONS: Record<Exclude<Permission, 'FULL_CONTROL'>, { actions: string[]; objects?: true }> = {
  READ: { actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'] },
  WRITE: { actions: ['s3:PutObject', 's3:DeleteObject'], objects: true },
  READ_ACP: { actions: ['s3:GetBucketAcl'] },
  WRITE_ACP: { actions: ['s3:PutBucketAcl'] },
};
const OBJECT_ACTIONS: Record<Permission, string[]> = {
  READ: ['s3:GetObject', 's3:GetObjectVersion'],
  WRITE: [],
  READ_ACP: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  WRITE_ACP: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
  FULL_CONTROL: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:GetObjectVersionAcl', 's3:PutObjectAcl', 's3:PutObjectVersionAcl'],
};

/** The principal part of a statement for a grantee; undefined for grantees no caller can be. */
function grantPrincipal(g: StoredGrant, owner: string, ignorePublic: boolean): Pick<Statement, 'Principal' | 'Condition'> | undefined {
  if (g.uri === ALL_USERS) return ignorePublic ? undefined : { Principal: '*' };
  if (g.uri === AUTHENTICATED_USERS) return ignorePublic ? undefined : { Principal: { AWS: '*' }, Condition: { StringNotEquals: { 'aws:PrincipalType': 'Anonymous' } } };
  if (g.uri !== undefined) return undefined; // LogDelivery: no Nimbus principal delivers logs.
  const account = accountOfCanonicalId(g.id!);
  // The owner's own full control adds nothing to what its account already may do.
  if (!account || account === owner) return undefined;
  return { Principal: { AWS: `arn:aws:iam::${account}:root` } };
}

function bucketStatements(bucket: string, grants: StoredGrant[], owner: string, ignorePublic: boolean): Statement[] {
  const out: Statement[] = [];
  for (const g of grants) {
    const who = grantPrincipal(g, owner, ignorePublic);
    if (!who) continue;
    const perms = g.permission === 'FULL_CONTROL' ? (['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const) : [g.permission];
    for (const p of perms) {
      const { actions, objects } = BUCKET_ACTIONS[p];
      out.push({ Sid: `BucketAcl${p}`, Effect: 'Allow', ...who, Action: actions, Resource: objects ? `arn:aws:s3:::${bucket}/*` : `arn:aws:s3:::${bucket}` });
    }
  }
  return out;
}

function objectStatements(grants: StoredGrant[], owner: string, ignorePublic: boolean): Statement[] {
  const out: Statement[] = [];
  for (const g of grants) {
    const who = grantPrincipal(g, owner, ignorePublic);
    const actions = OBJECT_ACTIONS[g.permission];
    // Built for one request on one object version: the resource is that object.
    if (who && actions.length) out.push({ Sid: `ObjectAcl${g.permission}`, Effect: 'Allow', ...who, Action: actions, Resource: '*' });
  }
  return out;
}

/** Per bucket ACL (the cached, parsed configuration): its statements, without and with IgnorePublicAcls. */
const bucketStatementCache = new WeakMap<StoredGrant[], [Statement[] | undefined, Statement[] | undefined]>();
/** Bucket policy + bucket ACL documents, built once per pair (the engine caches compiled documents by object). */
const combinedCache = new WeakMap<Statement[], Map<NamedPolicy | undefined, NamedPolicy>>();
const denyCache = new WeakMap<NamedPolicy, Statement[]>();

function policyStatements(p: NamedPolicy | undefined): Statement[] {
  if (!p) return [];
  const s = p.document.Statement;
  return Array.isArray(s) ? s : [s];
}

function denyStatements(p: NamedPolicy | undefined): Statement[] {
  if (!p) return [];
  let denies = denyCache.get(p);
  if (!denies) denyCache.set(p, (denies = policyStatements(p).filter((s) => s.Effect === 'Deny')));
  return denies;
}

function combine(bucket: string, policy: NamedPolicy | undefined, statements: Statement[]): NamedPolicy {
  return { id: policy?.id ?? `arn:aws:s3:::${bucket}/acl`, document: { Version: '2012-10-17', Statement: [...policyStatements(policy), ...statements] } };
}

function cachedBucketStatements(bucket: string, grants: StoredGrant[], owner: string, ignorePublic: boolean): Statement[] {
  let entry = bucketStatementCache.get(grants);
  if (!entry) bucketStatementCache.set(grants, (entry = [undefined, undefined]));
  const i = ignorePublic ? 1 : 0;
  return (entry[i] ??= bucketStatements(bucket, grants, owner, ignorePublic));
}

function withBucketStatements(bucket: string, policy: NamedPolicy | undefined, statements: Statement[]): NamedPolicy {
  let byPolicy = combinedCache.get(statements);
  if (!byPolicy) combinedCache.set(statements, (byPolicy = new Map()));
  let named = byPolicy.get(policy);
  if (!named) byPolicy.set(policy, (named = combine(bucket, policy, statements)));
  return named;
}

/** What authorization needs of a bucket's ACL settings, all cached per bucket. */
interface AclState {
  enabled: boolean;
  grants?: StoredGrant[];
  hasObjectAttrs: boolean;
}

function peekAclState(bucket: string): AclState | undefined {
  const ownership = peekBucketConfig<{ ObjectOwnership: Ownership }>(bucket, OWNERSHIP);
  const acl = peekBucketConfig<{ grants: StoredGrant[] }>(bucket, BUCKET_ACL);
  const hasObjectAttrs = peekHasObjectAttrs(bucket);
  if (!ownership || !acl || hasObjectAttrs === undefined) return undefined;
  return { enabled: (ownership.config?.ObjectOwnership ?? 'ObjectWriter') !== 'BucketOwnerEnforced', grants: acl.config?.grants, hasObjectAttrs };
}

async function loadAclState(ctx: RequestContext, bucket: string): Promise<AclState> {
  return {
    enabled: (await ownershipOf(ctx, bucket)) !== 'BucketOwnerEnforced',
    grants: await storedBucketAcl(ctx, bucket),
    hasObjectAttrs: await bucketHasObjectAttrs(ctx, bucket),
  };
}

type AclRequestInfo = {
  bucket: string;
  arn: string;
  action: string;
  conditions: Record<string, ContextValue | undefined> | undefined;
  base: { account: string; policy?: NamedPolicy };
  pab: PublicAccessBlock | undefined;
};

/**
 * The ACL side of authorization for a request on a bucket or object ARN, joined to what the
 * bucket policy gives (`base`): the bucket ACL's statements when ACLs are enabled, and for
 * the object actions ACLs govern, the object version's ACL (in its owner's context) and its
 * tags as s3:ExistingObjectTag/<key>. It answers from memory (no await) unless an object's
 * attributes must be read, which only happens in buckets that ever had some.
 */
export function aclResourceInfo(
  ctx: RequestContext,
  bucketName: string,
  resourceArn: string,
  action: string,
  conditions: Record<string, ContextValue | undefined> | undefined,
  base: { account: string; policy?: NamedPolicy },
  pab: PublicAccessBlock | undefined,
): ResourceInfo | Promise<ResourceInfo> {
  const r: AclRequestInfo = { bucket: bucketName, arn: resourceArn, action, conditions, base, pab };
  const state = peekAclState(bucketName);
  return state ? resolveAcl(ctx, state, r) : loadAclState(ctx, bucketName).then((s) => resolveAcl(ctx, s, r));
}

function resolveAcl(ctx: RequestContext, state: AclState, r: AclRequestInfo): ResourceInfo | Promise<ResourceInfo> {
  const info: ResourceInfo = { account: r.base.account, policy: r.base.policy };
  const ignorePublic = !!r.pab?.IgnorePublicAcls;
  const statements = state.enabled && state.grants ? cachedBucketStatements(r.bucket, state.grants, r.base.account, ignorePublic) : undefined;
  const slash = r.arn.indexOf('/', 13);
  const lowered = r.action.toLowerCase();
  if (slash >= 0 && state.hasObjectAttrs && EXISTING_TAG_ACTIONS.has(lowered)) return withObjectAcl(ctx, state, r, info, statements, slash, lowered, ignorePublic);
  if (statements?.length) info.policy = withBucketStatements(r.bucket, r.base.policy, statements);
  return info;
}

async function withObjectAcl(
  ctx: RequestContext,
  state: AclState,
  r: AclRequestInfo,
  info: ResourceInfo,
  statements: Statement[] | undefined,
  slash: number,
  lowered: string,
  ignorePublic: boolean,
): Promise<ResourceInfo> {
  const bucket = (await bucketConfig(ctx, r.bucket, BUCKET_ACL))?.bucket;
  const versionId = r.conditions?.['s3:versionid'];
  const attrs = bucket && (await loadObjectAttrs(ctx, bucket, r.arn.slice(slash + 1), typeof versionId === 'string' ? versionId : undefined));
  if (attrs?.tags?.length) info.context = existingTagKeys(attrs.tags);
  if (state.enabled && attrs && OBJECT_OWNER_ACTIONS.has(lowered)) {
    const owner = attrs.owner ?? r.base.account;
    const own = attrs.acl ? objectStatements(attrs.acl, owner, ignorePublic) : [];
    if (owner !== r.base.account) {
      // Another account's object: its ACL grants, the bucket owner's policy may only deny.
      const all = [...denyStatements(r.base.policy), ...own];
      info.account = owner;
      info.policy = all.length ? { id: r.base.policy?.id ?? `arn:aws:s3:::${r.bucket}/acl`, document: { Version: '2012-10-17', Statement: all } } : undefined;
      return info;
    }
    if (own.length) {
      info.policy = combine(r.bucket, r.base.policy, [...(statements ?? []), ...own]);
      return info;
    }
  }
  if (statements?.length) info.policy = withBucketStatements(r.bucket, r.base.policy, statements);
  return info;
}
