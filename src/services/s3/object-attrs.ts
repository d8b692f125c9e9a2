import type { RequestContext } from '../../server/context.js';
import type { BucketRecord, ObjectAttrs, ObjectRecord } from '../../storage/metadata.js';
import { S3Errors } from './errors.js';
import { bucketConfig, peekBucketConfig, storeBucketConfig } from './bucket-configs.js';

/**
 * Per-version object attributes (tags, ACL, owner; storage's object_attrs) as the handlers
 * and authorization read them. A bucket records, once, that some object of it ever had
 * attributes (the `objectAttrs` configuration, cached with the others): until then no
 * request looks for any, so GET, HEAD and authorization in buckets without tags or ACLs
 * cost what they cost before tagging existed.
 */
const FLAG = 'objectAttrs';
/**
 * Where a multipart upload keeps, until Complete, the attributes CreateMultipartUpload
 * asked for (in the upload's stored headers; Complete takes them out again).
 */
export const UPLOAD_ATTRS = 'x-nimbus-object-attrs';

export async function bucketHasObjectAttrs(ctx: RequestContext, bucket: string): Promise<boolean> {
  return (peekBucketConfig<boolean>(bucket, FLAG) ?? (await bucketConfig<boolean>(ctx, bucket, FLAG)))?.config === true;
}

/** bucketHasObjectAttrs from memory alone; undefined when it is not cached yet. */
export function peekHasObjectAttrs(bucket: string): boolean | undefined {
  const hit = peekBucketConfig<boolean>(bucket, FLAG);
  return hit && hit.config === true;
}

/** Called before the first write of attributes in a bucket (a flag set for nothing is harmless). */
export async function markObjectAttrs(ctx: RequestContext, bucket: BucketRecord): Promise<void> {
  if (!(await bucketHasObjectAttrs(ctx, bucket.name))) await storeBucketConfig(ctx, bucket, FLAG, true);
}

/** The attributes of a version (the current one when versionId is undefined), if any. */
export async function loadObjectAttrs(ctx: RequestContext, bucket: BucketRecord, key: string, versionId?: string): Promise<ObjectAttrs | undefined> {
  if (!(await bucketHasObjectAttrs(ctx, bucket.name))) return undefined;
  const { s3 } = ctx.runtime.store;
  let id = versionId;
  if (id === undefined) {
    const cur = await s3.getObject(bucket.id, key);
    if (!cur) return undefined;
    id = cur.versionId;
  }
  return s3.getObjectAttrs(bucket.id, key, id);
}

/** Read-modify-write of one version's attributes in a transaction; a version gone meanwhile is NoSuchKey / NoSuchVersion. */
export async function updateObjectAttrs(ctx: RequestContext, bucket: BucketRecord, rec: ObjectRecord, change: (a: ObjectAttrs) => ObjectAttrs, requestedVersion?: string): Promise<void> {
  const ok = await ctx.runtime.store.transaction(async (tx) => {
    const current = (await tx.s3.getObjectAttrs(bucket.id, rec.key, rec.versionId)) ?? {};
    return tx.s3.setObjectAttrs(bucket.id, rec.key, rec.versionId, change(current));
  });
  if (!ok) throw requestedVersion === undefined ? S3Errors.NoSuchKey({ Key: rec.key }) : S3Errors.NoSuchVersion({ Key: rec.key, VersionId: requestedVersion });
}
