import type { RequestContext } from '../../server/context.js';
import { StoreError } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { S3Errors } from './errors.js';
import { callerAccount, decodeToken, encodeToken, isValidBucketName, owner, requireBucket } from './common.js';
import { BLOCK_ALL, forgetBucket } from './bucket-policy.js';
import { createBucketAcl } from './acl.js';
import { forgetAccessLogging } from './access-log.js';

/** Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation. */

export async function createBucket(input: { Bucket: string; CreateBucketConfiguration?: { LocationConstraint?: string } } & Record<string, any>, ctx: RequestContext) {
  const name = input.Bucket;
  if (!isValidBucketName(name)) throw S3Errors.InvalidBucketName({ BucketName: name });
  const constraint = input.CreateBucketConfiguration?.LocationConstraint;
  const endpointRegion = ctx.region;
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html: us-east-1 is
  // the default and may not be named; other regional endpoints need a matching constraint.
  if (constraint === 'us-east-1') throw S3Errors.InvalidLocationConstraint({ LocationConstraint: constraint });
  if (endpointRegion !== 'us-east-1') {
    if (!constraint) throw S3Errors.IllegalLocationConstraintException();
    if (constraint !== endpointRegion) {
      throw S3Errors.IllegalLocationConstraintException({
        message: `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      });
    }
  }
  const region = constraint === 'EU' ? 'eu-west-1' : (constraint ?? 'us-east-1');
  // Object Ownership (x-amz-object-ownership, BucketOwnerEnforced by default) and a bucket ACL.
  const { ownership, acl } = await createBucketAcl(ctx, input);
  try {
    await ctx.runtime.store.transaction(async (tx) => {
      const b = await tx.s3.createBucket({ name, region, createdAt: now(), ownerId: callerAccount(ctx) });
      // Block Public Access is on for new buckets, as on AWS since April 2023.
      await tx.s3.putBucketConfig(b.id, 'publicAccessBlock', JSON.stringify(BLOCK_ALL));
      await tx.s3.putBucketConfig(b.id, 'ownershipControls', JSON.stringify({ ObjectOwnership: ownership }));
      if (acl) await tx.s3.putBucketConfig(b.id, 'acl', JSON.stringify({ grants: acl }));
    });
    forgetBucket(name);
  } catch (e) {
    if (!(e instanceof StoreError) || e.kind !== 'Conflict') throw e;
    const existing = await ctx.runtime.store.s3.getBucket(name);
    // Bucket names are global: another account's bucket is BucketAlreadyExists.
    if (existing && existing.ownerId !== callerAccount(ctx)) throw S3Errors.BucketAlreadyExists({ BucketName: name });
    // For legacy reasons us-east-1 answers 200 when you already own the bucket.
    if (existing && existing.region === 'us-east-1' && region === 'us-east-1') return { Location: `/${name}` };
    throw S3Errors.BucketAlreadyOwnedByYou({ BucketName: name });
  }
  return { Location: `/${name}` };
}

export async function headBucket(input: { Bucket: string }, ctx: RequestContext) {
  const b = await requireBucket(ctx, input.Bucket);
  return { BucketRegion: b.region, AccessPointAlias: false };
}

export async function deleteBucket(input: { Bucket: string }, ctx: RequestContext) {
  const b = await requireBucket(ctx, input.Bucket);
  try {
    await ctx.runtime.store.transaction((tx) => tx.s3.deleteBucket(b.id));
    forgetBucket(b.name);
    forgetAccessLogging(b.name);
  } catch (e) {
    if (e instanceof StoreError && e.kind === 'Conflict') throw S3Errors.BucketNotEmpty({ BucketName: b.name });
    throw e;
  }
  return {};
}

export async function listBuckets(input: { MaxBuckets?: number; ContinuationToken?: string; Prefix?: string; BucketRegion?: string }, ctx: RequestContext) {
  const max = input.MaxBuckets ?? 10000;
  if (max < 1 || max > 10000) throw S3Errors.InvalidArgument({ message: 'Argument max-buckets must be an integer between 1 and 10000.', ArgumentName: 'max-buckets' });
  const after = input.ContinuationToken ? decodeToken(input.ContinuationToken, 'continuation-token') : undefined;
  const paged = input.MaxBuckets !== undefined || input.ContinuationToken !== undefined;
  // An account lists only its own buckets.
  let rows = await ctx.runtime.store.s3.listBuckets({ prefix: input.Prefix, after, limit: max + 1, ownerId: callerAccount(ctx) });
  if (input.BucketRegion) rows = rows.filter((b) => b.region === input.BucketRegion);
  const truncated = rows.length > max;
  const page = rows.slice(0, max);
  return {
    Buckets: page.map((b) => ({ Name: b.name, CreationDate: new Date(b.createdAt), BucketRegion: b.region })),
    Owner: owner(ctx),
    ContinuationToken: paged && truncated ? encodeToken(page[page.length - 1]!.name) : undefined,
    Prefix: input.Prefix,
  };
}

export async function getBucketLocation(input: { Bucket: string }, ctx: RequestContext) {
  const b = await requireBucket(ctx, input.Bucket);
  // Buckets in us-east-1 report an empty LocationConstraint.
  return { LocationConstraint: b.region === 'us-east-1' ? '' : b.region };
}
