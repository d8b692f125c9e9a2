import type { RequestContext } from '../../server/context.js';
import type { ListedObject } from '../../storage/metadata.js';
import { S3Errors } from './errors.js';
import { decodeToken, encodeToken, requireBucket } from './common.js';
import { objectOwners } from './acl.js';
import { restoreStatus } from './storage-class.js';

/** ListObjects (v1, marker) and ListObjectsV2 (continuation token). */

type Input = Record<string, any>;

/** encoding-type=url: S3 percent-encodes keys and prefixes, with '+' for space. */
export function encoder(encodingType: string | undefined): (s: string | undefined) => string | undefined {
  if (encodingType === undefined) return (s) => s;
  if (encodingType !== 'url') throw S3Errors.InvalidArgument({ message: 'Invalid Encoding Method specified in Request', ArgumentName: 'encoding-type', ArgumentValue: encodingType });
  return (s) => (s === undefined ? undefined : encodeURIComponent(s).replace(/%20/g, '+').replace(/%2F/g, '/'));
}

export function maxKeys(v: number | undefined): number {
  if (v === undefined) return 1000;
  if (v < 0) throw S3Errors.InvalidArgument({ message: 'Argument maxKeys must be an integer between 0 and 2147483647', ArgumentName: 'maxKeys' });
  return Math.min(v, 1000);
}

/** `optional`: x-amz-optional-object-attributes (RestoreStatus, for archived objects with a restore). */
function entry(rec: ListedObject, enc: (s: string) => string | undefined, owner: { ID: string; DisplayName: string } | undefined, optional?: unknown) {
  return {
    Key: enc(rec.key),
    LastModified: new Date(rec.lastModified),
    ETag: rec.etag,
    ChecksumAlgorithm: rec.checksum ? [rec.checksum.algorithm] : undefined,
    ChecksumType: rec.checksum?.type,
    Size: rec.size,
    StorageClass: rec.storageClass,
    Owner: owner,
    RestoreStatus: rec.restore && restoreStatus(rec, optional),
  };
}

async function page(ctx: RequestContext, input: Input, after: string | undefined, limit: number, withOwner: boolean) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const prefix = input.Prefix ?? '';
  const delimiter = input.Delimiter || undefined;
  // The bucket owner (always with BucketOwnerEnforced, the default), or each object's owner.
  const objectOwner = await objectOwners(ctx, bucket);
  if (limit === 0) return { objects: [], commonPrefixes: [], isTruncated: false, last: undefined, objectOwner };
  // Per-object owners are looked up by version: only then does the listing read version ids.
  const versionIds = withOwner && !objectOwner.constant;
  return { ...(await ctx.runtime.store.s3.listObjects(bucket.id, { prefix, delimiter, after, limit, versionIds })), objectOwner };
}

async function entries(p: Awaited<ReturnType<typeof page>>, enc: (s: string) => string | undefined, withOwner: boolean, optional?: unknown) {
  if (!p.objects.length) return undefined;
  const out = [];
  // One owner for the whole bucket (BucketOwnerEnforced, the default): no await per entry.
  const owner = withOwner ? p.objectOwner.constant : undefined;
  for (const o of p.objects) out.push(entry(o, enc, withOwner ? (owner ?? (await p.objectOwner(o.key, o.versionId!))) : undefined, optional));
  return out;
}

export async function listObjectsV2(input: Input, ctx: RequestContext) {
  const enc = encoder(input.EncodingType);
  const limit = maxKeys(input.MaxKeys);
  let after: string | undefined = input.StartAfter;
  if (input.ContinuationToken !== undefined) after = decodeToken(input.ContinuationToken, 'continuation token');
  const p = await page(ctx, input, after, limit, input.FetchOwner === true);
  return {
    Name: input.Bucket,
    Prefix: enc(input.Prefix ?? ''),
    Delimiter: enc(input.Delimiter),
    MaxKeys: limit,
    EncodingType: input.EncodingType,
    KeyCount: p.objects.length + p.commonPrefixes.length,
    IsTruncated: p.isTruncated,
    ContinuationToken: input.ContinuationToken,
    NextContinuationToken: p.isTruncated && p.last !== undefined ? encodeToken(p.last) : undefined,
    StartAfter: enc(input.StartAfter),
    Contents: await entries(p, enc as (s: string) => string, input.FetchOwner === true, input.OptionalObjectAttributes),
    CommonPrefixes: p.commonPrefixes.length ? p.commonPrefixes.map((c) => ({ Prefix: enc(c) })) : undefined,
  };
}

export async function listObjects(input: Input, ctx: RequestContext) {
  const enc = encoder(input.EncodingType);
  const limit = maxKeys(input.MaxKeys);
  const p = await page(ctx, input, input.Marker || undefined, limit, true);
  return {
    Name: input.Bucket,
    Prefix: enc(input.Prefix ?? ''),
    Marker: enc(input.Marker ?? ''),
    Delimiter: enc(input.Delimiter),
    MaxKeys: limit,
    EncodingType: input.EncodingType,
    IsTruncated: p.isTruncated,
    // S3 returns NextMarker only when a delimiter was given; clients otherwise use the last key.
    NextMarker: p.isTruncated && input.Delimiter ? enc(p.last) : undefined,
    Contents: await entries(p, enc as (s: string) => string, true, input.OptionalObjectAttributes),
    CommonPrefixes: p.commonPrefixes.length ? p.commonPrefixes.map((c) => ({ Prefix: enc(c) })) : undefined,
  };
}
