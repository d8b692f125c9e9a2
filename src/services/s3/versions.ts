import type { RequestContext } from '../../server/context.js';
import type { BucketRecord, VersioningStatus } from '../../storage/metadata.js';
import { XML_ORDER } from '../../protocol/xml-shapes.js';
import { isVersionId } from '../../util/ids.js';
import { S3Errors } from './errors.js';
import { ownerOf, requireBucket } from './common.js';
import { objectOwners } from './acl.js';
import { encoder, maxKeys } from './list.js';
import { restoreStatus } from './storage-class.js';

/**
 * Versioning: PutBucketVersioning, GetBucketVersioning, ListObjectVersions, and the version
 * id rules the object operations share.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 *
 * Storage keeps every version (storage/sqlite.ts): the current object of each key in one
 * table, all other versions and every delete marker in another, so what unversioned
 * buckets do (GET, PUT, DELETE, LIST) reads and writes the same single rows as before.
 */
type Input = Record<string, any>;

/**
 * A versionId from a request: "null", or an id of the shape Nimbus issues. S3 answers a
 * malformed id with 400 InvalidArgument and a well-formed unknown one with 404 NoSuchVersion.
 */
export function checkVersionId(v: string | undefined, argumentName = 'versionId'): string | undefined {
  if (v === undefined) return undefined;
  if (v === '') throw S3Errors.InvalidArgument({ message: 'Version id cannot be the empty string', ArgumentName: argumentName, ArgumentValue: '' });
  if (v !== 'null' && !isVersionId(v)) throw S3Errors.InvalidArgument({ message: 'Invalid version id specified', ArgumentName: argumentName, ArgumentValue: v });
  return v;
}

/**
 * x-amz-version-id on reads: sent once the bucket has a versioning configuration ("null"
 * for the null version), or when the request named a version; never-versioned buckets'
 * responses carry none.
 */
export function versionIdHeader(bucket: BucketRecord, versionId: string, requested?: string): string | undefined {
  return bucket.versioning !== undefined || requested !== undefined ? versionId : undefined;
}

export async function putBucketVersioning(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const conf = (input.VersioningConfiguration ?? {}) as { Status?: string; MFADelete?: string };
  const status = conf.Status;
  if (status === undefined && conf.MFADelete === undefined) throw S3Errors.MalformedXML();
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw S3Errors.MalformedXML();
  if (conf.MFADelete !== undefined && conf.MFADelete !== 'Enabled' && conf.MFADelete !== 'Disabled') throw S3Errors.MalformedXML();
  // MFA delete needs the root's MFA device on every versioned delete; Nimbus accepts only
  // "Disabled" (the default) and says so rather than pretending to enforce it.
  if (conf.MFADelete === 'Enabled') {
    throw S3Errors.NotImplemented({ message: 'Nimbus does not support MFA delete; MFADelete may only be Disabled.', Header: 'x-amz-mfa' });
  }
  if (status !== undefined) await ctx.runtime.store.transaction((tx) => tx.s3.setBucketVersioning(bucket.id, status as VersioningStatus));
  return {};
}

export async function getBucketVersioning(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  // A bucket that was never versioned answers an empty <VersioningConfiguration/>.
  return { Status: bucket.versioning };
}

export async function listObjectVersions(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const enc = encoder(input.EncodingType);
  const limit = maxKeys(input.MaxKeys);
  const prefix: string = input.Prefix ?? '';
  const delimiter: string | undefined = input.Delimiter || undefined;
  const keyMarker: string | undefined = input.KeyMarker || undefined;
  const versionIdMarker: string | undefined = input.VersionIdMarker || undefined;
  if (versionIdMarker !== undefined && keyMarker === undefined) {
    throw S3Errors.InvalidArgument({ message: 'A version-id marker cannot be specified without a key marker.', ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  checkVersionId(versionIdMarker, 'version-id-marker');
  const page =
    limit === 0
      ? { versions: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: undefined, nextVersionIdMarker: undefined }
      : await ctx.runtime.store.s3.listVersions(bucket.id, { prefix, delimiter, keyMarker, versionIdMarker, limit });
  // The bucket owner (always with BucketOwnerEnforced, the default), or each version's owner.
  const owner = ownerOf(bucket.ownerId);
  const ownerOfVersion = await objectOwners(ctx, bucket);
  const Versions: unknown[] = [];
  const DeleteMarkers: unknown[] = [];
  // S3 writes <Version> and <DeleteMarker> elements interleaved, in listing order.
  const order: string[] = [];
  for (const v of page.versions) {
    if (v.deleteMarker) {
      DeleteMarkers.push({ Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: new Date(v.lastModified), Owner: owner });
      order.push('DeleteMarkers');
    } else {
      Versions.push({
        Key: enc(v.key),
        VersionId: v.versionId,
        IsLatest: v.isLatest,
        LastModified: new Date(v.lastModified),
        ETag: v.etag,
        ChecksumAlgorithm: v.checksum ? [v.checksum.algorithm] : undefined,
        ChecksumType: v.checksum?.type,
        Size: v.size,
        StorageClass: v.storageClass,
        Owner: await ownerOfVersion(v.key, v.versionId),
        RestoreStatus: v.restore && restoreStatus(v, input.OptionalObjectAttributes),
      });
      order.push('Versions');
    }
  }
  return {
    Name: bucket.name,
    Prefix: enc(prefix),
    KeyMarker: enc(input.KeyMarker ?? ''),
    VersionIdMarker: input.VersionIdMarker ?? '',
    Delimiter: enc(delimiter),
    MaxKeys: limit,
    EncodingType: input.EncodingType,
    IsTruncated: page.isTruncated,
    NextKeyMarker: page.isTruncated ? enc(page.nextKeyMarker) : undefined,
    NextVersionIdMarker: page.isTruncated ? page.nextVersionIdMarker : undefined,
    Versions: Versions.length ? Versions : undefined,
    DeleteMarkers: DeleteMarkers.length ? DeleteMarkers : undefined,
    CommonPrefixes: page.commonPrefixes.length ? page.commonPrefixes.map((c) => ({ Prefix: enc(c) })) : undefined,
    [XML_ORDER]: order,
  };
}
