import type { RequestContext } from '../../server/context.js';
import type { ObjectRecord, RestoreRecord } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { S3Errors } from './errors.js';
import { requireBucket, validateKey } from './common.js';
import { checkVersionId } from './versions.js';
import { findObject } from './objects.js';

/**
 * Archived storage classes and RestoreObject.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/archived-objects.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html
 *
 * GLACIER (Flexible Retrieval) and DEEP_ARCHIVE versions cannot be read (GET, or used as a
 * copy source) until a restore has made a temporary copy; HEAD shows the restore's progress
 * in x-amz-restore. A restore's state is a function of the clock (util/clock.ts): it is in
 * progress until `readyAt` (now + the tier's delay, config.s3RestoreDelaysMs), restored
 * until `expiresAt`, then gone, so nothing has to run when it completes or expires, it
 * survives restarts, and a test can move the clock past a restore's Days.
 * GLACIER_IR and the other classes are readable at once; INTELLIGENT_TIERING objects stay in
 * its frequent access tier (Nimbus has no archive access tiers).
 */
type Input = Record<string, any>;

const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const DAY = 86_400_000;
/** Fastest first: a restore in progress may be upgraded to a faster tier only. */
const TIERS = ['Expedited', 'Standard', 'Bulk'] as const;
type Tier = (typeof TIERS)[number];

export function isArchived(storageClass: string): boolean {
  return ARCHIVED.has(storageClass);
}

type RestoreState = { state: 'ongoing' } | { state: 'restored'; expiresAt: number } | undefined;

function restoreState(restore: RestoreRecord | undefined, t: number): RestoreState {
  if (!restore) return undefined;
  if (t < restore.readyAt) return { state: 'ongoing' };
  if (t < restore.expiresAt) return { state: 'restored', expiresAt: restore.expiresAt };
  // The temporary copy has expired: as if it had never been restored.
  return undefined;
}

/**
 * "Amazon S3 calculates the expiry date by adding the number of days specified in the
 * restoration request to the current time and then rounding the resulting time to the next
 * day midnight UTC." Here the days count from when the copy is ready.
 */
function expiryOf(from: number, days: number): number {
  return (Math.floor((from + days * DAY) / DAY) + 1) * DAY;
}

/** Refuses reading an archived version that has no restored copy (GET, and copy sources). */
export function checkReadable(rec: ObjectRecord): void {
  if (!ARCHIVED.has(rec.storageClass)) return;
  if (restoreState(rec.restore, now())?.state === 'restored') return;
  throw S3Errors.InvalidObjectState({ StorageClass: rec.storageClass });
}

/** x-amz-restore of GET/HEAD: `ongoing-request="true"`, or `ongoing-request="false", expiry-date="…"` while restored. */
export function restoreOutput(rec: ObjectRecord): { Restore?: string } {
  const s = restoreState(rec.restore, now());
  if (!s) return {};
  if (s.state === 'ongoing') return { Restore: 'ongoing-request="true"' };
  return { Restore: `ongoing-request="false", expiry-date="${new Date(s.expiresAt).toUTCString()}"` };
}

/** RestoreStatus of a listing entry (x-amz-optional-object-attributes: RestoreStatus). */
export function restoreStatus(rec: Pick<ObjectRecord, 'restore'>, optional: unknown): { IsRestoreInProgress: boolean; RestoreExpiryDate?: Date } | undefined {
  if (!rec.restore || !Array.isArray(optional) || !optional.includes('RestoreStatus')) return undefined;
  const s = restoreState(rec.restore, now());
  if (!s) return undefined;
  return s.state === 'ongoing' ? { IsRestoreInProgress: true } : { IsRestoreInProgress: false, RestoreExpiryDate: new Date(s.expiresAt) };
}

/**
 * RestoreObject: 202 for a new restore, 409 RestoreAlreadyInProgress while one runs (unless
 * the request upgrades it to a faster tier), 200 when a restored copy exists (its expiry is
 * then recomputed from now with the new Days).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html
 */
export async function restoreObject(input: Input, ctx: RequestContext) {
  validateKey(input.Key);
  const versionId = checkVersionId(input.VersionId);
  const bucket = await requireBucket(ctx, input.Bucket);
  const req = (input.RestoreRequest ?? {}) as Record<string, any>;
  if (req.Type !== undefined || req.SelectParameters !== undefined || req.OutputLocation !== undefined) {
    throw S3Errors.NotImplemented({ message: 'Nimbus does not implement SELECT restore requests (RestoreRequest Type, SelectParameters, OutputLocation).', Header: 'Type' });
  }
  const tier = (req.GlacierJobParameters?.Tier ?? 'Standard') as Tier;
  if (!TIERS.includes(tier)) throw S3Errors.MalformedXML();
  const rec = await findObject(ctx, bucket, input.Key, versionId);
  if (!ARCHIVED.has(rec.storageClass)) throw S3Errors.InvalidObjectState({ message: "Restore is not allowed for the object's current storage class" });
  const days = req.Days;
  if (days === undefined) throw S3Errors.MalformedXML();
  if (!Number.isInteger(days) || days < 1) throw S3Errors.InvalidArgument({ message: 'restoration days should be at least 1', ArgumentName: 'Days', ArgumentValue: String(days) });
  // "Expedited retrievals … are not available for objects stored in the S3 Glacier Deep Archive storage class."
  if (rec.storageClass === 'DEEP_ARCHIVE' && tier === 'Expedited') {
    throw S3Errors.InvalidArgument({ message: 'Retrieval option is not supported by this storage class', ArgumentName: 'Tier', ArgumentValue: tier });
  }
  const delay = ctx.runtime.config.s3RestoreDelaysMs[tier];
  const status = await ctx.runtime.store.transaction(async (tx) => {
    // Decided in the write transaction, so two concurrent requests cannot both start a restore.
    const cur = await tx.s3.getVersion(bucket.id, rec.key, rec.versionId);
    if (!cur || cur.deleteMarker) throw S3Errors.NoSuchKey({ Key: rec.key });
    const t = now();
    const prev = cur.restore;
    const state = restoreState(prev, t);
    let next: RestoreRecord;
    let code: number;
    if (state?.state === 'ongoing') {
      if (TIERS.indexOf(tier) >= TIERS.indexOf(prev!.tier)) throw S3Errors.RestoreAlreadyInProgress();
      const readyAt = Math.min(prev!.readyAt, t + delay);
      next = { tier, days, readyAt, expiresAt: expiryOf(readyAt, days) };
      code = 202;
    } else if (state?.state === 'restored') {
      next = { ...prev!, days, expiresAt: expiryOf(t, days) };
      code = 200;
    } else {
      const readyAt = t + delay;
      next = { tier, days, readyAt, expiresAt: expiryOf(readyAt, days) };
      code = 202;
    }
    if (!(await tx.s3.setRestore(bucket.id, rec.key, rec.versionId, next))) throw S3Errors.NoSuchKey({ Key: rec.key });
    return code;
  });
  ctx.statusOverride = status;
  return {};
}
