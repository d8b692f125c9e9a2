import type { RequestContext } from '../../server/context.js';
import type { ContextValue } from '../../iam/engine/types.js';
import type { BucketRecord, ObjectRecord } from '../../storage/metadata.js';
import { S3Errors } from './errors.js';
import { requireBucket, validateKey } from './common.js';
import { checkVersionId, versionIdHeader } from './versions.js';
import { findObject } from './objects.js';
import { bucketConfig, storeBucketConfig } from './bucket-configs.js';
import { loadObjectAttrs, markObjectAttrs, peekHasObjectAttrs, updateObjectAttrs } from './object-attrs.js';
import { lifecycleEvents } from './lifecycle.js';

/**
 * Tagging: object tags (PutObjectTagging, GetObjectTagging, DeleteObjectTagging, and the
 * x-amz-tagging header of PutObject, CopyObject and CreateMultipartUpload) and bucket tags
 * (PutBucketTagging, GetBucketTagging, DeleteBucketTagging). Object tags belong to one
 * version and go with it (storage's object_attrs); bucket tags are a bucket configuration.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
 */
export interface Tag {
  Key: string;
  Value: string;
}

type Input = Record<string, any>;

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
/** "Amazon S3 object tags are represented internally in UTF-16": lengths count UTF-16 units. */
const MAX_KEY = 128;
const MAX_VALUE = 256;
/** Letters, numbers, separators (spaces) and + - = . _ : / @ (the tag restrictions of AWS). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const BUCKET_TAGGING = 'tagging';

const HEADER_MESSAGE = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";
const invalidKey = (key: string) => S3Errors.InvalidTag({ message: 'The TagKey you have provided is invalid', TagKey: key });
const invalidValue = (key: string, value: string) => S3Errors.InvalidTag({ message: 'The TagValue you have provided is invalid', TagKey: key, TagValue: value });
const tooMany = (kind: 'object' | 'bucket') =>
  S3Errors.BadRequest({ message: kind === 'object' ? `Object tags cannot be greater than ${MAX_OBJECT_TAGS}` : `Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}` });
const awsPrefix = (kind: 'object' | 'bucket', key: string) =>
  S3Errors.InvalidTag({ message: kind === 'object' ? 'Your TagKey cannot be prefixed with aws:' : 'System tags cannot be added/updated by requester', TagKey: key });

function checkText(key: string, value: string): void {
  if (key.length < 1 || key.length > MAX_KEY || !TAG_TEXT.test(key)) throw invalidKey(key);
  if (value.length > MAX_VALUE || !TAG_TEXT.test(value)) throw invalidValue(key, value);
}

/**
 * The x-amz-tagging header: URL query parameters ("k1=v1&k2=v2"). As S3 reads it, empty
 * pieces are skipped, a key without "=" has the empty value, and bad encoding, an empty
 * key or a repeated key is InvalidArgument; bad characters or lengths are InvalidTag.
 */
export function parseTaggingHeader(header: string | undefined): Tag[] | undefined {
  if (header === undefined) return undefined;
  const badHeader = () => S3Errors.InvalidArgument({ message: HEADER_MESSAGE, ArgumentName: 'x-amz-tagging', ArgumentValue: header });
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw badHeader();
    }
  };
  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const piece of header.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq === 0) throw badHeader();
    const key = decode(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? '' : decode(piece.slice(eq + 1));
    checkText(key, value);
    if (seen.has(key)) throw badHeader();
    seen.add(key);
    tags.push({ Key: key, Value: value });
  }
  if (tags.length > MAX_OBJECT_TAGS) throw tooMany('object');
  for (const t of tags) if (t.Key.startsWith('aws:')) throw awsPrefix('object', t.Key);
  return tags;
}

/** A Tagging document's TagSet (PutObjectTagging, PutBucketTagging, POST Object's `tagging` field). */
export function validateTagSet(tagging: { TagSet?: unknown } | undefined, kind: 'object' | 'bucket'): Tag[] {
  const set = tagging?.TagSet;
  if (!Array.isArray(set)) throw S3Errors.MalformedXML();
  if (set.length > (kind === 'object' ? MAX_OBJECT_TAGS : MAX_BUCKET_TAGS)) throw tooMany(kind);
  const seen = new Set<string>();
  const tags: Tag[] = [];
  for (const t of set as Array<Record<string, unknown>>) {
    if (typeof t?.Key !== 'string' || typeof t?.Value !== 'string') throw S3Errors.MalformedXML();
    const { Key, Value } = t as unknown as Tag;
    if (seen.has(Key)) throw S3Errors.InvalidTag({ message: 'Cannot provide multiple Tags with the same key', TagKey: Key });
    if (Key.startsWith('aws:')) throw awsPrefix(kind, Key);
    checkText(Key, Value);
    seen.add(Key);
    tags.push({ Key, Value });
  }
  return tags;
}

/** The x-amz-tagging header form of a tag set (what POST Object's XML field becomes). */
export function taggingHeaderOf(tags: Tag[]): string {
  return tags.map((t) => `${encodeURIComponent(t.Key)}=${encodeURIComponent(t.Value)}`).join('&');
}

/**
 * s3:RequestObjectTagKeys and s3:RequestObjectTag/<key>, for requests that set tags
 * (PutObject, CopyObject, CreateMultipartUpload and POST Object through s3:PutObject, and
 * PutObjectTagging). https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html
 */
export function requestTagKeys(tags: Tag[] | undefined): Record<string, ContextValue> {
  if (!tags?.length) return {};
  const out: Record<string, ContextValue> = { 's3:RequestObjectTagKeys': tags.map((t) => t.Key) };
  for (const t of tags) out[`s3:RequestObjectTag/${t.Key}`] = t.Value;
  return out;
}

/** s3:ExistingObjectTag/<key> for the tags an object version has. */
export function existingTagKeys(tags: Tag[] | undefined): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  for (const t of tags ?? []) out[`s3:ExistingObjectTag/${t.Key}`] = t.Value;
  return out;
}

/** x-amz-tagging-count of GET/HEAD: sent only when the version has tags. */
export async function tagCount(ctx: RequestContext, bucket: BucketRecord, rec: ObjectRecord): Promise<number | undefined> {
  if (peekHasObjectAttrs(bucket.name) === false) return undefined;
  const n = (await loadObjectAttrs(ctx, bucket, rec.key, rec.versionId))?.tags?.length;
  return n ? n : undefined;
}

/**
 * Setting tags along with an object (PutObject, CopyObject, CreateMultipartUpload, POST
 * Object) also takes s3:PutObjectTagging, with the same request-tag condition keys
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, Permissions).
 */
export async function authorizeWriteTags(ctx: RequestContext, bucket: string, key: string, tags: Tag[] | undefined): Promise<void> {
  if (tags?.length) await ctx.authorize('s3:PutObjectTagging', `arn:aws:s3:::${bucket}/${key}`, requestTagKeys(tags));
}

async function taggedObject(input: Input, ctx: RequestContext) {
  validateKey(input.Key);
  const versionId = checkVersionId(input.VersionId);
  const bucket = await requireBucket(ctx, input.Bucket);
  const rec = await findObject(ctx, bucket, input.Key, versionId);
  return { bucket, rec, versionId, VersionId: versionIdHeader(bucket, rec.versionId, versionId) };
}

export async function putObjectTagging(input: Input, ctx: RequestContext) {
  const tags = validateTagSet(input.Tagging, 'object');
  const { bucket, rec, versionId, VersionId } = await taggedObject(input, ctx);
  if (tags.length) await markObjectAttrs(ctx, bucket);
  await updateObjectAttrs(ctx, bucket, rec, (a) => ({ ...a, tags }), versionId);
  lifecycleEvents.tagsChanged?.(bucket.id);
  return { VersionId };
}

export async function getObjectTagging(input: Input, ctx: RequestContext) {
  const { bucket, rec, VersionId } = await taggedObject(input, ctx);
  const attrs = await loadObjectAttrs(ctx, bucket, rec.key, rec.versionId);
  return { VersionId, TagSet: attrs?.tags ?? [] };
}

export async function deleteObjectTagging(input: Input, ctx: RequestContext) {
  const { bucket, rec, versionId, VersionId } = await taggedObject(input, ctx);
  await updateObjectAttrs(ctx, bucket, rec, (a) => ({ ...a, tags: undefined }), versionId);
  lifecycleEvents.tagsChanged?.(bucket.id);
  return { VersionId };
}

export async function putBucketTagging(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const tags = validateTagSet(input.Tagging, 'bucket');
  // An empty tag set leaves the bucket without tags (GetBucketTagging: NoSuchTagSet).
  await storeBucketConfig(ctx, bucket, BUCKET_TAGGING, tags.length ? tags : undefined);
  ctx.statusOverride = 204;
  return {};
}

export async function getBucketTagging(input: Input, ctx: RequestContext) {
  await requireBucket(ctx, input.Bucket);
  const tags = (await bucketConfig<Tag[]>(ctx, input.Bucket, BUCKET_TAGGING))?.config;
  if (!tags) throw S3Errors.NoSuchTagSet({ BucketName: input.Bucket });
  return { TagSet: tags };
}

export async function deleteBucketTagging(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await storeBucketConfig(ctx, bucket, BUCKET_TAGGING, undefined);
  return {};
}
