import type { RequestContext } from '../../server/context.js';
import type { BucketRecord } from '../../storage/metadata.js';

/**
 * Bucket configuration documents that requests consult without asking for them: the
 * CORS rules (every request with an Origin header) and the website configuration (every
 * website request). They are stored like the bucket policy (`putBucketConfig`, JSON) and
 * held here, parsed, per bucket name; a put or delete of the configuration, and the
 * creation or deletion of the bucket (`forgetBucket`), drop the entry.
 */
interface Entry {
  bucket: BucketRecord;
  configs: Map<string, unknown>;
}

const cache = new Map<string, Entry>();
/** Bound the cache so a client probing random bucket names cannot grow it. */
const MAX_ENTRIES = 10_000;

export function forgetBucketConfigs(bucket: string): void {
  cache.delete(bucket);
}

async function entry(ctx: RequestContext, bucket: string): Promise<Entry | undefined> {
  const hit = cache.get(bucket);
  if (hit) return hit;
  const b = await ctx.runtime.store.s3.getBucket(bucket);
  if (!b) return undefined;
  if (cache.size >= MAX_ENTRIES) cache.clear();
  const e: Entry = { bucket: b, configs: new Map() };
  cache.set(bucket, e);
  return e;
}

/** The bucket and its parsed `kind` configuration (undefined when not set); undefined when there is no such bucket. */
export async function bucketConfig<T>(ctx: RequestContext, bucket: string, kind: string): Promise<{ bucket: BucketRecord; config?: T } | undefined> {
  const e = await entry(ctx, bucket);
  if (!e) return undefined;
  if (!e.configs.has(kind)) {
    const text = await ctx.runtime.store.s3.getBucketConfig(e.bucket.id, kind);
    e.configs.set(kind, text === undefined ? undefined : JSON.parse(text));
  }
  return { bucket: e.bucket, config: e.configs.get(kind) as T | undefined };
}

/**
 * The configuration if it is already in memory (`{ config: undefined }` when known to be
 * unset), without I/O or awaiting: for checks every request makes. Undefined on a miss.
 */
export function peekBucketConfig<T>(bucket: string, kind: string): { config?: T } | undefined {
  const e = cache.get(bucket);
  if (!e || !e.configs.has(kind)) return undefined;
  return { config: e.configs.get(kind) as T | undefined };
}

/** Stores (or, with undefined, removes) a configuration document and drops the cached one. */
export async function storeBucketConfig(ctx: RequestContext, bucket: BucketRecord, kind: string, value: unknown): Promise<void> {
  await ctx.runtime.store.transaction((tx) => tx.s3.putBucketConfig(bucket.id, kind, value === undefined ? undefined : JSON.stringify(value)));
  forgetBucketConfigs(bucket.name);
}
