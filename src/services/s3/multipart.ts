import { createHash } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { PartRecord, UploadRecord, BucketRecord } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { uploadId as newUploadId } from '../../util/ids.js';
import { createChecksum, isChecksumAlgorithm, type ChecksumAlgorithm } from '../../util/checksums.js';
import { S3Errors } from './errors.js';
import { owner, requireBucket, validateKey } from './common.js';
import { declaredSize, receiveBody, type ReceivedBody } from './body-writer.js';
import { versionIdHeader } from './versions.js';
import { authorizeWriteTags, parseTaggingHeader } from './tagging.js';
import { newObjectAttrs } from './acl.js';
import { UPLOAD_ATTRS } from './object-attrs.js';
import { customerKey, encryptionOutput, etagFor, partEncryption, readEncryption, writeEncryption, type CustomerKey } from './encryption.js';
import { keyMatches, segmentCipher, teePlaintext } from './sse-c.js';
import { checkReadable } from './storage-class.js';
import { expirationHeader } from './lifecycle.js';
import {
  bufferChunks,
  checkCopySourceConditions,
  checksumMember,
  commitObject,
  emptyBody,
  encryptedBody,
  fileChunks,
  loadCopySource,
  openBody,
  openCurrentBody,
  parseCopySource,
  putVersionId,
  requestedChecksum,
  storedHeaders,
  validateStorageClass,
  writeConditions,
} from './objects.js';

/**
 * Multipart upload: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
 * ListMultipartUploads. Parts are stored like objects (inline or as files); Complete
 * streams them into one body in constant memory.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
type Input = Record<string, any>;

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

async function requireUpload(ctx: RequestContext, bucket: BucketRecord, key: string, id: string): Promise<UploadRecord> {
  const u = await ctx.runtime.store.s3.getUpload(id);
  if (!u || u.bucketId !== bucket.id || u.key !== key) throw S3Errors.NoSuchUpload({ UploadId: id });
  return u;
}

function checkPartNumber(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS) {
    throw S3Errors.InvalidArgument({ message: 'Part number must be an integer between 1 and 10000, inclusive', ArgumentName: 'partNumber', ArgumentValue: String(n) });
  }
}

export async function createMultipartUpload(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  validateKey(input.Key);
  let algorithm: string | undefined;
  if (input.ChecksumAlgorithm !== undefined) {
    algorithm = String(input.ChecksumAlgorithm).toUpperCase();
    if (!isChecksumAlgorithm(algorithm)) throw S3Errors.InvalidRequest({ message: 'Checksum algorithm provided is unsupported.' });
  }
  // CRC64NVME supports only full-object checksums; the others default to composite.
  const type: UploadRecord['checksumType'] = algorithm ? (input.ChecksumType ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) : undefined;
  if (type === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) {
    throw S3Errors.InvalidRequest({ message: `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.` });
  }
  const storageClass = validateStorageClass(input.StorageClass);
  const headers = storedHeaders(input);
  const enc = await writeEncryption(ctx, input, bucket, 's3:PutObject', `arn:aws:s3:::${bucket.name}/${input.Key}`);
  // Tags and ACL are checked now and applied by Complete.
  const tags = parseTaggingHeader(input.Tagging);
  await authorizeWriteTags(ctx, bucket.name, input.Key, tags);
  const attrs = await newObjectAttrs(ctx, bucket, input, tags);
  if (attrs) headers[UPLOAD_ATTRS] = JSON.stringify(attrs);
  const upload: UploadRecord = {
    uploadId: newUploadId(),
    bucketId: bucket.id,
    key: input.Key,
    initiated: now(),
    storageClass,
    headers,
    checksumAlgorithm: algorithm,
    checksumType: type,
    sse: enc.record,
  };
  await ctx.runtime.store.transaction((tx) => tx.s3.createUpload(upload));
  return { Bucket: bucket.name, Key: input.Key, UploadId: upload.uploadId, ...encryptionOutput(upload.sse, enc.customer?.md5, true), ChecksumAlgorithm: algorithm, ChecksumType: type };
}

/** Parts are stored as they arrive: an SSE-C upload's encrypted with the key each part brings (sse-c.ts). */
async function storePart(ctx: RequestContext, upload: UploadRecord, partNumber: number, body: Awaited<ReturnType<typeof receiveBody>>): Promise<PartRecord> {
  const { blobs, store } = ctx.runtime;
  const ref: PartRecord['body'] = body.temp ? { kind: 'file', id: await blobs.commit(body.temp) } : { kind: 'inline', id: '' }; // the store gives it its id
  const part: PartRecord = {
    uploadId: upload.uploadId,
    partNumber,
    size: body.size,
    etag: etagFor(body, upload.sse),
    lastModified: now(),
    checksum: body.checksum?.value,
    body: ref,
  };
  try {
    await store.transaction(async (tx) => {
      // The upload may have been completed or aborted while the part streamed in.
      if (!(await tx.s3.getUpload(upload.uploadId))) throw S3Errors.NoSuchUpload({ UploadId: upload.uploadId });
      const prev = await tx.s3.putPart(part, body.inline);
      if (prev?.body.kind === 'file') tx.afterCommit(() => blobs.remove(prev.body.id));
    });
  } catch (e) {
    if (ref.kind === 'file') await blobs.remove(ref.id);
    throw e;
  }
  return part;
}

function partChecksumOutput(upload: UploadRecord, part: PartRecord): Record<string, string> {
  return upload.checksumAlgorithm && part.checksum ? { [checksumMember(upload.checksumAlgorithm as ChecksumAlgorithm)]: part.checksum } : {};
}

export async function uploadPart(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  checkPartNumber(input.PartNumber);
  const upload = await requireUpload(ctx, bucket, input.Key, input.UploadId);
  const customer = partEncryption(input, upload.sse);
  // Every part carries the upload's checksum, computed here whether or not the client sent one.
  const algo = (upload.checksumAlgorithm as ChecksumAlgorithm | undefined) ?? requestedChecksum(input, ctx);
  const body = await receiveBody(input.Body ?? emptyBody(), ctx.runtime.blobs, ctx.runtime.config.inlineMaxBytes, {
    contentMd5: input.ContentMD5,
    checksumAlgorithm: algo,
    checksumValue: () => (algo ? (input[checksumMember(algo)] ?? ctx.trailers[`x-amz-checksum-${algo.toLowerCase()}`]) : undefined),
    encrypt: customer && segmentCipher(customer.key),
    sizeHint: declaredSize((n) => ctx.header(n)),
  });
  const part = await storePart(ctx, upload, input.PartNumber, body);
  return { ETag: part.etag, ...encryptionOutput(upload.sse, customer?.md5), ...(algo && part.checksum ? { [checksumMember(algo)]: part.checksum } : {}) };
}

export async function uploadPartCopy(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  checkPartNumber(input.PartNumber);
  await ctx.authorize('s3:PutObject', `arn:aws:s3:::${input.Bucket}/${input.Key}`);
  const upload = await requireUpload(ctx, bucket, input.Key, input.UploadId);
  const src = parseCopySource(input.CopySource);
  const { bucket: srcBucket, source } = await loadCopySource(ctx, src);
  checkCopySourceConditions(input, source);
  const sourceKey = readEncryption(ctx, input, source, true);
  checkReadable(source);
  const customer = partEncryption(input, upload.sse);
  let start = 0;
  let end = source.size - 1;
  if (input.CopySourceRange !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(input.CopySourceRange).trim());
    if (!m) {
      throw S3Errors.InvalidArgument({ message: 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', ArgumentName: 'x-amz-copy-source-range' });
    }
    start = Number(m[1]);
    end = Number(m[2]);
    if (end < start || end >= source.size) {
      throw S3Errors.InvalidRange({ RangeRequested: input.CopySourceRange, ActualObjectSize: String(source.size) });
    }
  }
  const opened = await openCurrentBody(ctx, source, src.bucket, src.versionId);
  // A source overwritten meanwhile is read as it now is, with the key it now needs.
  const key = opened.rec === source ? sourceKey : readEncryption(ctx, input, opened.rec, true);
  const chunks = key
    ? encryptedBody(opened, opened.rec, start, end, key)
    : source.size === 0
      ? emptyBody()
      : opened.inline
        ? bufferChunks(opened.inline.subarray(start, end + 1))
        : fileChunks(opened.handle!, start, end);
  const body = await receiveBody(chunks, ctx.runtime.blobs, ctx.runtime.config.inlineMaxBytes, {
    checksumAlgorithm: upload.checksumAlgorithm as ChecksumAlgorithm | undefined,
    encrypt: customer && segmentCipher(customer.key),
  });
  const part = await storePart(ctx, upload, input.PartNumber, body);
  return {
    CopyPartResult: { ETag: part.etag, LastModified: new Date(part.lastModified), ...partChecksumOutput(upload, part) },
    ...encryptionOutput(upload.sse, customer?.md5),
    CopySourceVersionId: versionIdHeader(srcBucket, source.versionId, src.versionId),
  };
}

async function allParts(ctx: RequestContext, id: string): Promise<PartRecord[]> {
  const out: PartRecord[] = [];
  for (;;) {
    const page = await ctx.runtime.store.s3.listParts(id, { after: out.at(-1)?.partNumber, limit: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** The stored bytes of each part in turn (an SSE-C part's IV included, even for an empty part). */
async function* partBodies(ctx: RequestContext, parts: PartRecord[], encrypted: boolean): AsyncGenerator<AsyncIterable<Buffer>> {
  for (const p of parts) {
    if (p.size === 0 && !encrypted) continue;
    const opened = await openBody(ctx, { body: p.body, key: `part ${p.partNumber}` });
    yield opened.inline ? bufferChunks(opened.inline) : fileChunks(opened.handle!);
  }
}

async function* concatParts(segments: AsyncIterable<AsyncIterable<Buffer>>): AsyncGenerator<Buffer> {
  for await (const s of segments) yield* s;
}

/**
 * The SSE-C key of a CompleteMultipartUpload: needed only when the upload has a checksum
 * algorithm (the full-object checksum is over the plaintext), and then it must be the
 * upload's key.
 */
function completeEncryption(input: Input, upload: UploadRecord): CustomerKey | undefined {
  if (upload.sse?.type !== 'SSE-C') return undefined;
  const c = customerKey(input, 'write');
  if (!c) {
    if (!upload.checksumAlgorithm) return undefined;
    throw S3Errors.InvalidArgument({ message: 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: 'null' });
  }
  if (!keyMatches(upload.sse, c.key)) throw S3Errors.InvalidRequest({ message: 'The provided encryption parameters did not match the ones used originally.' });
  return c;
}

export async function completeMultipartUpload(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const upload = await requireUpload(ctx, bucket, input.Key, input.UploadId);
  const customer = completeEncryption(input, upload);
  const requested = (input.MultipartUpload?.Parts ?? []) as Array<Record<string, any>>;
  if (requested.length === 0) throw S3Errors.MalformedXML({ message: 'The XML you provided was not well-formed or did not validate against our published schema' });
  const stored = new Map((await allParts(ctx, upload.uploadId)).map((p) => [p.partNumber, p]));
  const chosen: PartRecord[] = [];
  let last = 0;
  for (const r of requested) {
    const n = Number(r.PartNumber);
    if (!(n > last)) throw S3Errors.InvalidPartOrder({ UploadId: upload.uploadId });
    last = n;
    const p = stored.get(n);
    const etag = r.ETag === undefined ? undefined : String(r.ETag).startsWith('"') ? String(r.ETag) : `"${r.ETag}"`;
    if (!p || etag !== p.etag) throw S3Errors.InvalidPart({ UploadId: upload.uploadId, PartNumber: String(n), ETag: r.ETag });
    const algo = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
    const given = algo ? r[checksumMember(algo)] : undefined;
    if (given !== undefined && given !== p.checksum) throw S3Errors.InvalidPart({ message: `The ${algo} checksum of part ${n} does not match.`, UploadId: upload.uploadId, PartNumber: String(n) });
    chosen.push(p);
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART_SIZE) {
      throw S3Errors.EntityTooSmall({ ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_SIZE), PartNumber: String(p.partNumber), ETag: p.etag });
    }
  });
  // ETag of a multipart object: MD5 of the concatenated binary part MD5s, then "-<count>".
  const md5s = createHash('md5');
  for (const p of chosen) md5s.update(Buffer.from(p.etag.slice(1, -1), 'hex'));
  const etag = `"${md5s.digest('hex')}-${chosen.length}"`;
  const algo = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
  const fullObject = algo !== undefined && upload.checksumType === 'FULL_OBJECT';
  const encrypted = upload.sse?.type === 'SSE-C';
  const size = chosen.reduce((n, p) => n + p.size, 0);
  const { blobs } = ctx.runtime;
  const received = !fullObject && size > ctx.runtime.config.inlineMaxBytes ? await linkParts(ctx, chosen, encrypted, size) : await concatenate(input, ctx, chosen, size, encrypted, algo, fullObject, customer);
  let checksum: { algorithm: string; value: string; type: 'FULL_OBJECT' | 'COMPOSITE' } | undefined;
  if (received.plainChecksum !== undefined) checksum = { algorithm: algo!, value: received.plainChecksum, type: 'FULL_OBJECT' };
  else if (algo && fullObject) checksum = { algorithm: algo, value: received.checksum!.value, type: 'FULL_OBJECT' };
  else if (algo) {
    // Composite: the checksum of the concatenated part checksums, then "-<count>".
    const sum = createChecksum(algo);
    for (const p of chosen) sum.update(Buffer.from(p.checksum ?? '', 'base64'));
    checksum = { algorithm: algo, value: `${sum.digest()}-${chosen.length}`, type: 'COMPOSITE' };
  }
  const { [UPLOAD_ATTRS]: attrs, ...headers } = upload.headers;
  const rec = await commitObject(ctx, bucket, upload.key, received, { storageClass: upload.storageClass, headers, sse: upload.sse, attrs: attrs ? JSON.parse(attrs) : undefined }, writeConditions(input), {
    etag,
    size,
    checksum,
    parts: chosen.map((p) => p.size),
    partChecksums: algo ? chosen.map((p) => p.checksum ?? '') : undefined,
    partNumbers: algo ? chosen.map((p) => p.partNumber) : undefined,
    inTransaction: async (tx) => {
      const parts = await tx.s3.deleteUpload(upload.uploadId);
      for (const p of parts) if (p.body.kind === 'file') tx.afterCommit(() => blobs.remove(p.body.id));
    },
  });
  return {
    Location: `/${bucket.name}/${encodeURIComponent(upload.key)}`,
    Bucket: bucket.name,
    Key: upload.key,
    ETag: rec.etag,
    ...encryptionOutput(rec.sse),
    VersionId: putVersionId(rec),
    Expiration: await expirationHeader(ctx, bucket, rec),
    ...(checksum ? { [checksumMember(checksum.algorithm as ChecksumAlgorithm)]: checksum.value, ChecksumType: checksum.type } : {}),
  };
}

/**
 * The object's body as the parts' own files, hard-linked into a compound blob
 * (storage/blobs.ts): no object data is copied. The parts' small bodies (a last part of up to
 * 64 KiB lives in the body log) are written out as files of their own.
 */
async function linkParts(ctx: RequestContext, chosen: PartRecord[], encrypted: boolean, size: number): Promise<ReceivedBody & { plainChecksum?: string }> {
  const pieces: Array<{ id: string } | { data: Buffer }> = [];
  for (const p of chosen) {
    if (p.size === 0 && !encrypted) continue;
    if (p.body.kind === 'file') pieces.push({ id: p.body.id });
    else {
      const opened = await openBody(ctx, { body: p.body, key: `part ${p.partNumber}` });
      pieces.push({ data: opened.inline! });
    }
  }
  return { size, md5Hex: '', blob: await ctx.runtime.blobs.compose(pieces) };
}

/**
 * The object's body as one new file, the parts' stored bytes copied in turn: for a
 * full-object checksum, which is over all the bytes (an SSE-C upload's over their plaintext).
 */
async function concatenate(
  input: Input,
  ctx: RequestContext,
  chosen: PartRecord[],
  size: number,
  encrypted: boolean,
  algo: ChecksumAlgorithm | undefined,
  fullObject: boolean,
  customer: CustomerKey | undefined,
): Promise<ReceivedBody & { plainChecksum?: string }> {
  const segments = partBodies(ctx, chosen, encrypted);
  const plainSum = encrypted && fullObject ? createChecksum(algo!) : undefined;
  const received = await receiveBody(
    plainSum ? teePlaintext(segments, customer!.key, (c) => plainSum.update(c)) : concatParts(segments),
    ctx.runtime.blobs,
    ctx.runtime.config.inlineMaxBytes,
    {
      checksumAlgorithm: fullObject && !plainSum ? algo : undefined,
      checksumValue: () => (fullObject ? input[checksumMember(algo!)] : undefined),
      // The ETag is made of the parts' MD5s (completeMultipartUpload): hashing the whole object again on the
      // event loop took ~1.2 s a GiB, every other request waiting.
      md5: false,
      sizeHint: size,
    },
  );
  if (plainSum) {
    const value = plainSum.digest();
    const given = input[checksumMember(algo!)];
    if (given !== undefined && given !== value) {
      if (received.temp) await ctx.runtime.blobs.discard(received.temp);
      throw S3Errors.BadDigest({ message: `The ${algo} you specified did not match the calculated checksum.` });
    }
    return { ...received, plainChecksum: value };
  }
  return received;
}

export async function abortMultipartUpload(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const upload = await requireUpload(ctx, bucket, input.Key, input.UploadId);
  const { blobs } = ctx.runtime;
  await ctx.runtime.store.transaction(async (tx) => {
    const parts = await tx.s3.deleteUpload(upload.uploadId);
    for (const p of parts) if (p.body.kind === 'file') tx.afterCommit(() => blobs.remove(p.body.id));
  });
  return {};
}

export async function listParts(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const upload = await requireUpload(ctx, bucket, input.Key, input.UploadId);
  const max = Math.min(input.MaxParts ?? 1000, 1000);
  const page = await ctx.runtime.store.s3.listParts(upload.uploadId, { after: input.PartNumberMarker ?? 0, limit: max + 1 });
  const truncated = page.length > max;
  const parts = page.slice(0, max);
  return {
    Bucket: bucket.name,
    Key: upload.key,
    UploadId: upload.uploadId,
    PartNumberMarker: input.PartNumberMarker ?? 0,
    NextPartNumberMarker: parts.at(-1)?.partNumber ?? 0,
    MaxParts: max,
    IsTruncated: truncated,
    Parts: parts.length
      ? parts.map((p) => ({ PartNumber: p.partNumber, LastModified: new Date(p.lastModified), ETag: p.etag, Size: p.size, ...partChecksumOutput(upload, p) }))
      : undefined,
    Initiator: owner(ctx),
    Owner: owner(ctx),
    StorageClass: upload.storageClass,
    ChecksumAlgorithm: upload.checksumAlgorithm,
    ChecksumType: upload.checksumType,
  };
}

export async function listMultipartUploads(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const max = Math.min(input.MaxUploads ?? 1000, 1000);
  const prefix = input.Prefix ?? '';
  const delimiter: string | undefined = input.Delimiter || undefined;
  const uploads: UploadRecord[] = [];
  const prefixes: string[] = [];
  let keyMarker: string | undefined = input.KeyMarker || undefined;
  let idMarker: string | undefined = keyMarker ? input.UploadIdMarker || undefined : undefined;
  let truncated = false;
  outer: for (;;) {
    const page = await ctx.runtime.store.s3.listUploads(bucket.id, { prefix, keyMarker, uploadIdMarker: idMarker, limit: 1000 });
    for (const u of page) {
      const i = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
      const cp = i >= 0 ? u.key.slice(0, i + delimiter!.length) : undefined;
      if (cp !== undefined && prefixes.at(-1) === cp) continue;
      if (uploads.length + prefixes.length === max) {
        truncated = true;
        break outer;
      }
      if (cp !== undefined) prefixes.push(cp);
      else uploads.push(u);
    }
    if (page.length < 1000) break;
    keyMarker = page.at(-1)!.key;
    idMarker = page.at(-1)!.uploadId;
  }
  const lastUpload = uploads.at(-1);
  return {
    Bucket: bucket.name,
    KeyMarker: input.KeyMarker ?? '',
    UploadIdMarker: input.UploadIdMarker ?? '',
    NextKeyMarker: truncated ? (lastUpload?.key ?? prefixes.at(-1)) : undefined,
    NextUploadIdMarker: truncated ? lastUpload?.uploadId : undefined,
    Prefix: prefix,
    Delimiter: delimiter,
    MaxUploads: max,
    IsTruncated: truncated,
    Uploads: uploads.length
      ? uploads.map((u) => ({
          UploadId: u.uploadId,
          Key: u.key,
          Initiated: new Date(u.initiated),
          StorageClass: u.storageClass,
          Owner: owner(ctx),
          Initiator: owner(ctx),
          ChecksumAlgorithm: u.checksumAlgorithm,
          ChecksumType: u.checksumType,
        }))
      : undefined,
    CommonPrefixes: prefixes.length ? prefixes.map((p) => ({ Prefix: p })) : undefined,
  };
}
