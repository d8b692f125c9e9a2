import { createHash, randomBytes } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { BucketRecord, EncryptionRecord, ObjectRecord } from '../../storage/metadata.js';
import { S3Errors } from './errors.js';
import { requireBucket } from './common.js';
import { bucketConfig, storeBucketConfig } from './bucket-configs.js';
import { keyFingerprint, keyMatches } from './sse-c.js';
import type { ReceivedBody } from './body-writer.js';

/**
 * Server-side encryption: the bucket's default (PutBucketEncryption, GetBucketEncryption,
 * DeleteBucketEncryption), the SSE headers of writes, the SSE-C key checks of reads, and
 * what responses echo.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html
 *
 * SSE-S3 (AES256) is every version's encryption unless recorded otherwise (AWS's default
 * for all new objects since January 2023); Nimbus does not encrypt those bodies. SSE-KMS and
 * DSSE-KMS are recorded and echoed, key ids included, but Nimbus has no KMS: keys are not
 * checked and nothing is encrypted with them. SSE-C bodies are encrypted with the
 * customer's key (sse-c.ts).
 */
type Input = Record<string, any>;

const ENCRYPTION = 'encryption';
const SSE_VALUES = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const ARG = 'x-amz-server-side-encryption';

/** A bucket's default encryption rule, as stored (bucket config "encryption"). */
interface EncryptionRule {
  SSEAlgorithm?: string;
  KMSMasterKeyID?: string;
  BucketKeyEnabled?: boolean;
  BlockedEncryptionTypes?: string[];
}

/** The customer-provided key of a request, validated: the raw key and its MD5 (base64). */
export interface CustomerKey {
  key: Buffer;
  md5: string;
}

/** What a write asks for: the record to store and, for SSE-C, the key to encrypt with. */
export interface WriteEncryption {
  record?: EncryptionRecord;
  customer?: CustomerKey;
}

const isKms = (v: unknown): v is 'aws:kms' | 'aws:kms:dsse' => v === 'aws:kms' || v === 'aws:kms:dsse';

/**
 * The x-amz-server-side-encryption-customer-* trio (or, with `copySource`, the
 * x-amz-copy-source-… one), in S3's order: an algorithm must come with the rest, be AES256,
 * have a key whose MD5 matches; writes also need 256 bits (a read with a key of another
 * length simply does not match: 403).
 */
export function customerKey(input: Input, use: 'write' | 'read', copySource = false): CustomerKey | undefined {
  const p = copySource ? 'CopySourceSSECustomer' : 'SSECustomer';
  const algorithm: string | undefined = input[`${p}Algorithm`];
  const keyText: string | undefined = input[`${p}Key`];
  const md5Text: string | undefined = input[`${p}KeyMD5`];
  if (algorithm === undefined) {
    if (keyText === undefined && md5Text === undefined) return undefined;
    throw S3Errors.InvalidArgument({
      message: 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
      ArgumentName: ARG,
      ArgumentValue: 'null',
    });
  }
  if (algorithm !== 'AES256') throw S3Errors.InvalidEncryptionAlgorithmError({ ArgumentName: ARG, ArgumentValue: algorithm });
  if (!keyText) {
    throw S3Errors.InvalidArgument({ message: 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', ArgumentName: ARG, ArgumentValue: 'null' });
  }
  const key = Buffer.from(keyText, 'base64');
  const md5 = createHash('md5').update(key).digest('base64');
  // The MD5 is checked before the length (a 24-byte key with a wrong MD5 gets the MD5 error).
  if (md5Text !== undefined && md5Text !== md5) {
    throw S3Errors.InvalidArgument({ message: 'The calculated MD5 hash of the key did not match the hash that was provided.', ArgumentName: ARG, ArgumentValue: 'null' });
  }
  if (use === 'write' && key.length !== 32) {
    throw S3Errors.InvalidArgument({ message: 'The secret key was invalid for the specified algorithm.', ArgumentName: ARG, ArgumentValue: 'null' });
  }
  return { key, md5 };
}

/** Whether a request names any encryption (an in-place copy that does may leave all else unchanged). */
export function namesEncryption(input: Input): boolean {
  return input.ServerSideEncryption !== undefined || input.SSECustomerAlgorithm !== undefined || input.SSEKMSKeyId !== undefined || input.BucketKeyEnabled !== undefined;
}

async function bucketRule(ctx: RequestContext, bucket: BucketRecord): Promise<EncryptionRule | undefined> {
  return (await bucketConfig<EncryptionRule>(ctx, bucket.name, ENCRYPTION))?.config;
}

/** Whether the bucket has a default encryption configured (not just the implicit SSE-S3). */
export async function hasBucketEncryption(ctx: RequestContext, bucket: BucketRecord): Promise<boolean> {
  return (await bucketRule(ctx, bucket)) !== undefined;
}

/**
 * The AWS managed key `aws/s3` of an account and region, as an ARN. Nimbus has no KMS, so
 * its key id is made up, but stable: derived from the account and region.
 */
export function awsManagedKeyArn(region: string, account: string): string {
  const h = createHash('sha256').update(`nimbus aws/s3 ${account} ${region}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 3) | 8).toString(16);
  return `arn:aws:kms:${region}:${account}:key/${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A key id as objects report it: S3 expands a bare key id (or alias) to an ARN in the bucket's region and account. */
function kmsKeyArn(id: string | undefined, bucket: BucketRecord): string {
  if (!id) return awsManagedKeyArn(bucket.region, bucket.ownerId);
  if (id.startsWith('arn:')) return id;
  return `arn:aws:kms:${bucket.region}:${bucket.ownerId}:${id.startsWith('alias/') ? id : `key/${id}`}`;
}

function checkContext(context: string): void {
  let ok = false;
  try {
    const v = JSON.parse(Buffer.from(context, 'base64').toString('utf8')) as unknown;
    ok = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  } catch {
    ok = false;
  }
  if (!ok) {
    throw S3Errors.InvalidArgument({
      message: "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
      ArgumentName: 'x-amz-server-side-encryption-context',
    });
  }
}

/**
 * The encryption of a new version (PutObject, CopyObject's destination, CreateMultipartUpload,
 * POST Object): what the request names, else the bucket's default. `action` and `resource`
 * name the write in the AccessDenied of a bucket that blocks SSE-C.
 */
export async function writeEncryption(ctx: RequestContext, input: Input, bucket: BucketRecord, action: string, resource: string): Promise<WriteEncryption> {
  const sse: string | undefined = input.ServerSideEncryption;
  const anyCustomer = input.SSECustomerAlgorithm !== undefined || input.SSECustomerKey !== undefined || input.SSECustomerKeyMD5 !== undefined;
  if (anyCustomer && sse !== undefined) {
    throw S3Errors.InvalidArgument({ message: 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', ArgumentName: ARG, ArgumentValue: sse });
  }
  if (sse !== undefined && !SSE_VALUES.has(sse)) throw S3Errors.InvalidArgument({ message: 'The encryption method specified is not supported', ArgumentName: ARG, ArgumentValue: sse });
  if ((input.SSEKMSKeyId !== undefined || input.SSEKMSEncryptionContext !== undefined) && !isKms(sse)) {
    throw S3Errors.InvalidArgument({
      message: 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      ArgumentName: ARG,
      ArgumentValue: sse ?? 'null',
    });
  }
  const customer = customerKey(input, 'write');
  // The common case: nothing named and the implicit SSE-S3 default, without a config read once cached.
  const rule = await bucketRule(ctx, bucket);
  if (customer) {
    if (rule?.BlockedEncryptionTypes?.includes('SSE-C')) {
      throw S3Errors.AccessDenied({
        message: `User: ${ctx.principal?.arn ?? 'anonymous'} is not authorized to perform: ${action} on resource: "${resource}" because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C). Please specify a different server-side encryption type`,
      });
    }
    return { record: { type: 'SSE-C', ...keyFingerprint(customer.key) }, customer };
  }
  if (input.SSEKMSEncryptionContext !== undefined) checkContext(input.SSEKMSEncryptionContext);
  const type = sse ?? (isKms(rule?.SSEAlgorithm) ? rule!.SSEAlgorithm : 'AES256');
  if (!isKms(type)) return {};
  const keyId = sse !== undefined ? input.SSEKMSKeyId : rule!.KMSMasterKeyID;
  // Bucket Keys are for SSE-KMS only; the request's header overrides the bucket's setting.
  const bucketKey = type === 'aws:kms' && (input.BucketKeyEnabled ?? rule?.BucketKeyEnabled) === true;
  const record: EncryptionRecord = { type, kmsKeyId: kmsKeyArn(keyId, bucket) };
  if (input.SSEKMSEncryptionContext !== undefined) record.context = input.SSEKMSEncryptionContext;
  if (bucketKey) record.bucketKeyEnabled = true;
  return { record };
}

/**
 * The SSE-C key a read of `rec` needs (GetObject, HeadObject, GetObjectAttributes, or a copy
 * source with `copySource`): required and matching for an SSE-C version, refused for others.
 * Reads take no SSE or KMS headers, as S3 says: "the encryption method can't be changed when
 * you retrieve the object".
 */
export function readEncryption(ctx: RequestContext, input: Input, rec: ObjectRecord, copySource = false): CustomerKey | undefined {
  if (!copySource) {
    const sse = ctx.header('x-amz-server-side-encryption');
    if (sse !== undefined) throw S3Errors.InvalidArgument({ message: 'x-amz-server-side-encryption header is not supported for this operation.', ArgumentName: ARG, ArgumentValue: sse });
    if (ctx.header('x-amz-server-side-encryption-aws-kms-key-id') !== undefined) {
      throw S3Errors.InvalidArgument({ message: 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', ArgumentName: ARG });
    }
  }
  const c = customerKey(input, 'read', copySource);
  if (rec.sse?.type === 'SSE-C') {
    if (!c) throw S3Errors.InvalidRequest({ message: 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.' });
    if (!keyMatches(rec.sse, c.key)) throw S3Errors.AccessDenied({ message: 'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.' });
    return c;
  }
  if (c) throw S3Errors.InvalidRequest({ message: 'The encryption parameters are not applicable to this object.' });
  return undefined;
}

/**
 * The SSE-C key of an UploadPart (or UploadPartCopy's destination): every part of an SSE-C
 * upload brings the key it was created with, and no other upload takes one.
 */
export function partEncryption(input: Input, sse: EncryptionRecord | undefined): CustomerKey | undefined {
  const c = customerKey(input, 'write');
  const initiated = 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.';
  if (sse?.type !== 'SSE-C') {
    if (c) throw S3Errors.InvalidRequest({ message: initiated });
    return undefined;
  }
  if (!c) throw S3Errors.InvalidRequest({ message: initiated });
  if (!keyMatches(sse, c.key)) throw S3Errors.InvalidRequest({ message: 'The provided encryption parameters did not match the ones used originally.' });
  return c;
}

/**
 * The encryption headers of a response: SSE-S3 and SSE-KMS name the algorithm (and key,
 * Bucket Key when on, and on writes the context); SSE-C names its algorithm and the key's
 * MD5 and no x-amz-server-side-encryption.
 */
export function encryptionOutput(sse: EncryptionRecord | undefined, customerMd5?: string, withContext = false): Record<string, unknown> {
  if (!sse) return { ServerSideEncryption: 'AES256' };
  if (sse.type === 'SSE-C') return { ServerSideEncryption: undefined, SSECustomerAlgorithm: 'AES256', SSECustomerKeyMD5: customerMd5 };
  return {
    ServerSideEncryption: sse.type,
    SSEKMSKeyId: sse.kmsKeyId,
    BucketKeyEnabled: sse.bucketKeyEnabled ? true : undefined,
    SSEKMSEncryptionContext: withContext ? sse.context : undefined,
  };
}

/**
 * The ETag of a single-part write: the MD5 of the plaintext for SSE-S3; for SSE-C and
 * SSE-KMS "not an MD5 digest of their object data" — here the MD5 of the stored ciphertext
 * (SSE-C, a fresh IV each time) or of the MD5 and random bytes (SSE-KMS), so it also differs
 * between two uploads of the same bytes, as on AWS.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html
 */
export function etagFor(received: ReceivedBody, sse: EncryptionRecord | undefined): string {
  if (!sse) return `"${received.md5Hex}"`;
  if (sse.type === 'SSE-C') return `"${received.storedMd5Hex}"`;
  return `"${createHash('md5').update(received.md5Hex).update(randomBytes(16)).digest('hex')}"`;
}

// --- The bucket's default encryption -------------------------------------------------

/** Since January 2023 every bucket without a configuration encrypts with SSE-S3, and says so. */
const DEFAULT_RULE = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false };

export async function putBucketEncryption(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const rules = (input.ServerSideEncryptionConfiguration?.Rules ?? []) as Array<Record<string, any>>;
  // Exactly one rule: none, or two, is MalformedXML.
  if (rules.length !== 1) throw S3Errors.MalformedXML();
  const r = rules[0]!;
  const rule: EncryptionRule = {};
  const d = r.ApplyServerSideEncryptionByDefault as { SSEAlgorithm?: string; KMSMasterKeyID?: string } | undefined;
  if (d) {
    if (d.SSEAlgorithm === undefined || !SSE_VALUES.has(d.SSEAlgorithm)) throw S3Errors.MalformedXML();
    if (d.KMSMasterKeyID !== undefined && !isKms(d.SSEAlgorithm)) {
      throw S3Errors.InvalidArgument({ message: 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', ArgumentName: 'ApplyServerSideEncryptionByDefault' });
    }
    rule.SSEAlgorithm = d.SSEAlgorithm;
    // Not validated, as S3 does not: "Amazon S3 doesn't validate the KMS key ID provided in PutBucketEncryption requests."
    if (d.KMSMasterKeyID !== undefined) rule.KMSMasterKeyID = d.KMSMasterKeyID;
  }
  if (typeof r.BucketKeyEnabled === 'boolean') rule.BucketKeyEnabled = r.BucketKeyEnabled;
  const blocked = r.BlockedEncryptionTypes?.EncryptionType as string[] | undefined;
  if (blocked !== undefined) {
    if (blocked.some((t) => t !== 'NONE' && t !== 'SSE-C')) throw S3Errors.MalformedXML();
    rule.BlockedEncryptionTypes = blocked;
  }
  await storeBucketConfig(ctx, bucket, ENCRYPTION, rule);
  return {};
}

export async function getBucketEncryption(input: Input, ctx: RequestContext) {
  const found = await bucketConfig<EncryptionRule>(ctx, input.Bucket, ENCRYPTION);
  if (!found) throw S3Errors.NoSuchBucket({ BucketName: input.Bucket });
  const rule = found.config;
  if (!rule) return { ServerSideEncryptionConfiguration: { Rules: [DEFAULT_RULE] } };
  return {
    ServerSideEncryptionConfiguration: {
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: rule.SSEAlgorithm ? { SSEAlgorithm: rule.SSEAlgorithm, KMSMasterKeyID: rule.KMSMasterKeyID } : DEFAULT_RULE.ApplyServerSideEncryptionByDefault,
          BucketKeyEnabled: rule.BucketKeyEnabled ?? false,
          BlockedEncryptionTypes: rule.BlockedEncryptionTypes ? { EncryptionType: rule.BlockedEncryptionTypes } : undefined,
        },
      ],
    },
  };
}

/** "Resets the default encryption for the bucket as server-side encryption with Amazon S3 managed keys (SSE-S3)." */
export async function deleteBucketEncryption(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await storeBucketConfig(ctx, bucket, ENCRYPTION, undefined);
  return {};
}
