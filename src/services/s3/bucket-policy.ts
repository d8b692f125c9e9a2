import type { RequestContext } from '../../server/context.js';
import type { ResourceInfo } from '../types.js';
import { accountPublicAccessBlock } from '../s3control/index.js';
import type { ContextValue, NamedPolicy, PolicyDocument, Statement } from '../../iam/engine/types.js';
import { validatePolicyDocument, PolicyValidationError } from '../../iam/engine/validate.js';
import { S3Errors } from './errors.js';
import { requireBucket } from './common.js';
import { forgetBucketConfigs } from './bucket-configs.js';
import { aclResourceInfo } from './acl.js';

/**
 * Bucket policies and Block Public Access. A bucket policy is the resource policy of S3
 * requests; public grants are refused or ignored as the bucket's Block Public Access
 * settings say. New buckets block public access, as on AWS since April 2023.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
 */
export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export const BLOCK_ALL: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const POLICY = 'policy';
const PAB = 'publicAccessBlock';

interface Cached {
  owner: string;
  policy?: { text: string; named: NamedPolicy; isPublic: boolean };
  pab?: PublicAccessBlock;
}

/** Per-bucket cache: every request by a non-root principal consults it. */
const cache = new Map<string, Cached>();

export function forgetBucket(name: string): void {
  cache.delete(name);
  forgetBucketConfigs(name);
}

async function load(ctx: RequestContext, bucket: string): Promise<Cached | undefined> {
  const hit = cache.get(bucket);
  if (hit) return hit;
  const b = await ctx.runtime.store.s3.getBucket(bucket);
  if (!b) return undefined;
  const text = await ctx.runtime.store.s3.getBucketConfig(b.id, POLICY);
  const pab = await ctx.runtime.store.s3.getBucketConfig(b.id, PAB);
  const entry: Cached = { owner: b.ownerId, pab: pab ? (JSON.parse(pab) as PublicAccessBlock) : undefined };
  if (text) {
    const doc = JSON.parse(text) as PolicyDocument;
    entry.policy = { text, named: { id: `arn:aws:s3:::${bucket}/policy`, document: doc }, isPublic: isPublicPolicy(doc) };
  }
  cache.set(bucket, entry);
  return entry;
}

/**
 * The settings in force for a bucket: a setting is on if the bucket or its owner's
 * account (S3 Control) turns it on.
 */
function effectivePab(ctx: RequestContext, entry: Cached): PublicAccessBlock | undefined {
  const acct = accountPublicAccessBlock(ctx, entry.owner);
  if (!acct) return entry.pab;
  const b = entry.pab;
  return {
    BlockPublicAcls: acct.BlockPublicAcls || !!b?.BlockPublicAcls,
    IgnorePublicAcls: acct.IgnorePublicAcls || !!b?.IgnorePublicAcls,
    BlockPublicPolicy: acct.BlockPublicPolicy || !!b?.BlockPublicPolicy,
    RestrictPublicBuckets: acct.RestrictPublicBuckets || !!b?.RestrictPublicBuckets,
  };
}

/** Condition keys that pin a grant to known callers, so that it is not "public". */
const FIXING_KEYS = new Set(['aws:sourceip', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceaccount', 'aws:sourcearn', 'aws:sourceowner', 'aws:principalaccount', 'aws:principalorgid', 'aws:principalarn', 'aws:userid', 's3:dataaccesspointaccount', 's3:dataaccesspointarn']);

export function isPublicPolicy(doc: PolicyDocument): boolean {
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Statement[];
  return statements.some((st) => {
    if (st.Effect !== 'Allow') return false;
    const p = st.Principal;
    const everyone = p === '*' || (p !== undefined && typeof p === 'object' && [p.AWS].flat().includes('*'));
    if (!everyone) return false;
    const keys = Object.values(st.Condition ?? {}).flatMap((block) => Object.keys(block as object).map((k) => k.toLowerCase()));
    return !keys.some((k) => FIXING_KEYS.has(k));
  });
}

/**
 * The owner and the resource policy that applies to a request on `resourceArn`
 * (arn:aws:s3:::bucket[/key]): the bucket policy, joined by the ACLs' grants (acl.ts).
 */
export async function bucketResourceInfo(ctx: RequestContext, resourceArn: string, action: string, conditions?: Record<string, ContextValue | undefined>): Promise<ResourceInfo | undefined> {
  if (!resourceArn.startsWith('arn:aws:s3:::') || resourceArn === 'arn:aws:s3:::*') return undefined;
  // Creating a bucket is the caller's own business: a taken name is BucketAlreadyExists,
  // never another account's policy decision.
  if (action === 's3:CreateBucket') return undefined;
  const bucket = resourceArn.slice(13).split('/')[0]!;
  const entry = await load(ctx, bucket);
  if (!entry) return undefined;
  const pab = effectivePab(ctx, entry);
  // RestrictPublicBuckets: a public policy grants nothing to anonymous callers (nor, on
  // AWS, to principals of other accounts; only the owner's own principals and services).
  const restricted = entry.policy && pab?.RestrictPublicBuckets && entry.policy.isPublic && (ctx.principal?.type === 'anonymous' || ctx.principal?.accountId !== entry.owner);
  return aclResourceInfo(ctx, bucket, resourceArn, action, conditions, { account: entry.owner, policy: restricted ? undefined : entry.policy?.named }, pab);
}

/** The Block Public Access settings in force for a bucket (its own and its owner account's). */
export async function publicAccessBlockFor(ctx: RequestContext, bucket: string): Promise<PublicAccessBlock | undefined> {
  const entry = await load(ctx, bucket);
  return entry && effectivePab(ctx, entry);
}

type Input = Record<string, any>;

export async function putBucketPolicy(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const text = String(input.Policy ?? '').trim();
  if (!text.startsWith('{')) throw S3Errors.MalformedPolicy({ message: "Policies must be valid JSON and the first byte must be '{'" });
  let doc: PolicyDocument;
  try {
    doc = validatePolicyDocument(text, 'resource');
  } catch (e) {
    if (e instanceof PolicyValidationError) throw S3Errors.MalformedPolicy({ message: (e as Error).message });
    throw e;
  }
  const entry = await load(ctx, bucket.name);
  if (entry && effectivePab(ctx, entry)?.BlockPublicPolicy && isPublicPolicy(doc)) {
    throw S3Errors.AccessDenied({
      message: `User: ${ctx.principal!.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket.name}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
    });
  }
  await ctx.runtime.store.transaction((tx) => tx.s3.putBucketConfig(bucket.id, POLICY, text));
  forgetBucket(bucket.name);
  ctx.statusOverride = 204;
  return {};
}

export async function getBucketPolicy(input: Input, ctx: RequestContext) {
  await requireBucket(ctx, input.Bucket);
  const entry = await load(ctx, input.Bucket);
  if (!entry?.policy) throw S3Errors.NoSuchBucketPolicy({ BucketName: input.Bucket });
  return { Policy: entry.policy.text };
}

export async function deleteBucketPolicy(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await ctx.runtime.store.transaction((tx) => tx.s3.putBucketConfig(bucket.id, POLICY, undefined));
  forgetBucket(bucket.name);
  return {};
}

export async function getBucketPolicyStatus(input: Input, ctx: RequestContext) {
  await requireBucket(ctx, input.Bucket);
  const entry = await load(ctx, input.Bucket);
  if (!entry?.policy) throw S3Errors.NoSuchBucketPolicy({ BucketName: input.Bucket });
  return { PolicyStatus: { IsPublic: entry.policy.isPublic && !effectivePab(ctx, entry)?.RestrictPublicBuckets } };
}

/** A PublicAccessBlockConfiguration as given: settings left out are off. */
export function publicAccessBlockOf(c: Partial<PublicAccessBlock> = {}): PublicAccessBlock {
  return {
    BlockPublicAcls: c.BlockPublicAcls === true,
    IgnorePublicAcls: c.IgnorePublicAcls === true,
    BlockPublicPolicy: c.BlockPublicPolicy === true,
    RestrictPublicBuckets: c.RestrictPublicBuckets === true,
  };
}

export async function putPublicAccessBlock(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const pab = publicAccessBlockOf(input.PublicAccessBlockConfiguration);
  await ctx.runtime.store.transaction((tx) => tx.s3.putBucketConfig(bucket.id, PAB, JSON.stringify(pab)));
  forgetBucket(bucket.name);
  return {};
}

export async function getPublicAccessBlock(input: Input, ctx: RequestContext) {
  await requireBucket(ctx, input.Bucket);
  const entry = await load(ctx, input.Bucket);
  if (!entry?.pab) throw S3Errors.NoSuchPublicAccessBlockConfiguration({ BucketName: input.Bucket });
  return { PublicAccessBlockConfiguration: entry.pab };
}

export async function deletePublicAccessBlock(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await ctx.runtime.store.transaction((tx) => tx.s3.putBucketConfig(bucket.id, PAB, undefined));
  forgetBucket(bucket.name);
  return {};
}
