import { createHash } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { BucketRecord } from '../../storage/metadata.js';
import { S3Errors } from './errors.js';

/** Shared helpers of the S3 handlers. */

/**
 * The account's canonical user id, as S3 shows it in Owner elements and ACL grants: 64 hex
 * characters like AWS's, ending in the account id (12 digits are hex digits too), so a
 * grant to an id names an account even if that account never signed a request.
 */
export function canonicalUserId(accountId: string): string {
  const hash = createHash('sha256').update(`nimbus-canonical-user:${accountId}`).digest('hex');
  return /^\d{12}$/.test(accountId) ? hash.slice(0, 52) + accountId : hash;
}

/** The account a canonical user id belongs to (undefined for an id Nimbus did not make). */
export function accountOfCanonicalId(id: string): string | undefined {
  const account = id.slice(-12);
  return /^[0-9a-f]{64}$/.test(id) && /^\d{12}$/.test(account) && canonicalUserId(account) === id ? account : undefined;
}

/** The caller's account as an S3 Owner element (the default account for anonymous callers). */
export function owner(ctx: RequestContext): { ID: string; DisplayName: string } {
  return ownerOf(callerAccount(ctx));
}

export function ownerOf(accountId: string): { ID: string; DisplayName: string } {
  return { ID: canonicalUserId(accountId), DisplayName: 'nimbus' };
}

export function callerAccount(ctx: RequestContext): string {
  return ctx.principal?.accountId || ctx.runtime.config.accountId;
}

export async function requireBucket(ctx: RequestContext, name: string): Promise<BucketRecord> {
  const b = await ctx.runtime.store.s3.getBucket(name);
  if (!b) throw S3Errors.NoSuchBucket({ BucketName: name });
  return b;
}

/** Keys are data: any UTF-8 string of 1 to 1024 bytes. */
export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > 1024) throw S3Errors.KeyTooLongError({ Size: String(Buffer.byteLength(key)), MaxSizeAllowed: '1024' });
  if (key.length === 0) throw S3Errors.InvalidArgument({ message: 'The key must not be empty.' });
}

/**
 * Bucket naming rules for general purpose buckets.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) return false;
  return true;
}

/**
 * The storage classes of a general purpose bucket. EXPRESS_ONEZONE (directory buckets),
 * OUTPOSTS, SNOW and the FSx classes are the model's too but not a general purpose
 * bucket's: InvalidStorageClass. https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html
 */
export const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
]);

/** Opaque continuation tokens: the resume point, base64url-encoded. */
export function encodeToken(last: string): string {
  return Buffer.from(`1:${last}`, 'utf8').toString('base64url');
}

export function decodeToken(token: string, what: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('1:')) throw S3Errors.InvalidArgument({ message: `The ${what} provided is incorrect`, ArgumentName: what });
  return text.slice(2);
}
