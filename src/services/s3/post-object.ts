import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { ResponseSpec } from '../../protocol/codec.js';
import { CommonErrors, ServiceError } from '../../protocol/errors.js';
import { hmac, signingKey, uriDecode, uriEncode } from '../../protocol/sigv4/canonical.js';
import { parseTimestamp } from '../../protocol/timestamps.js';
import { CHECKSUM_ALGORITHMS } from '../../util/checksums.js';
import { now } from '../../util/clock.js';
import type { Credential, Principal } from '../principal.js';
import { S3Errors } from './errors.js';
import { requireBucket } from './common.js';
import { emptyBody, putObject } from './objects.js';
import { FormDataReader, formBoundary } from './form-data.js';
import { requestTagKeys, taggingHeaderOf, validateTagSet, type Tag } from './tagging.js';
import { aclConditionKeys } from './acl.js';
import { loadModel } from '../../protocol/model.js';
import { fromXml, parseXmlDocument, XmlSyntaxError } from '../../protocol/xml-shapes.js';

/**
 * POST Object: a browser uploads a file to the bucket URL with an HTML form
 * (multipart/form-data). The form's fields carry what PutObject's headers would, plus a
 * POST policy (base64 JSON: an expiration and conditions on the fields) signed with
 * SigV4 (x-amz-credential, x-amz-date, x-amz-algorithm, x-amz-signature) or SigV2
 * (AWSAccessKeyId, signature); the signer is then authorised for s3:PutObject as for PUT.
 * The file, which must be the last field, streams into the same object writer as PutObject.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
 */

/** "The fields preceding the upload file" may not exceed 20 KB (MaxPostPreDataLengthExceededError). */
const MAX_PRE_DATA = 20 * 1024;
/** Fields every policy need not name (the signature's own, the file, and x-ignore-*). */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file']);
const V4_FIELDS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'];
const V2_FIELDS = ['awsaccesskeyid', 'signature'];
const DISPLAY: Record<string, string> = {
  'x-amz-algorithm': 'X-Amz-Algorithm',
  'x-amz-credential': 'X-Amz-Credential',
  'x-amz-date': 'X-Amz-Date',
  'x-amz-signature': 'X-Amz-Signature',
  awsaccesskeyid: 'AWSAccessKeyId',
  signature: 'Signature',
  policy: 'Policy',
  key: 'key',
};

type Fields = Map<string, { name: string; value: string }>;
type Input = Record<string, any>;

/** A POST to a bucket's own URL with no sub-resource is a POST Object upload. */
export function isPostObject(ctx: RequestContext): boolean {
  if (ctx.method !== 'POST' || ctx.rawQuery !== '') return false;
  if (ctx.hostBucket !== undefined) return ctx.rawPath === '/' || ctx.rawPath === '';
  return /^\/[^/]+\/?$/.test(ctx.rawPath);
}

const missingField = (lower: string) =>
  S3Errors.InvalidArgument({
    message: `Bucket POST must contain a field named '${DISPLAY[lower] ?? lower}'.  If it is specified, please check the order of the fields.`,
    ArgumentName: DISPLAY[lower] ?? lower,
    ArgumentValue: '',
  });
const invalidPolicy = (message: string) => S3Errors.InvalidPolicyDocument({ message: `Invalid Policy: ${message}` });
const denied = (message: string) => S3Errors.AccessDenied({ message: `Invalid according to Policy: ${message}` });

/**
 * A refused form is read to its end (up to a limit) before the error is sent: browsers and
 * fetch() send the whole form before they read a response, and a connection closed under
 * them shows the page a network error instead of S3's answer.
 */
const DRAIN_ON_ERROR = 64 * 1024 * 1024;

export async function postObject(ctx: RequestContext): Promise<ResponseSpec> {
  let reader: FormDataReader | undefined;
  try {
    return await receiveForm(ctx, (r) => (reader = r));
  } catch (e) {
    try {
      await reader?.drain(DRAIN_ON_ERROR);
    } catch {
      // The body itself is broken: the error at hand is the answer.
    }
    throw e;
  }
}

async function receiveForm(ctx: RequestContext, opened: (r: FormDataReader) => void): Promise<ResponseSpec> {
  const bucketName = ctx.hostBucket ?? uriDecode(ctx.rawPath.split('/')[1]!);
  const boundary = formBoundary(ctx.header('content-type'));
  if (boundary === undefined) throw S3Errors.PreconditionFailed({ Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
  if (boundary === '') throw S3Errors.MalformedPOSTRequest();
  const bucket = await requireBucket(ctx, bucketName);

  // The fields, in memory (20 KB at most), up to the file.
  const reader = new FormDataReader(ctx.bodyStream ?? emptyBody(), boundary);
  opened(reader);
  const tooLarge = () => S3Errors.MaxPostPreDataLengthExceededError();
  const fields: Fields = new Map();
  let file: { filename?: string } | undefined;
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    if (reader.consumed > MAX_PRE_DATA) throw tooLarge();
    if (part.name.toLowerCase() === 'file') {
      file = part;
      break;
    }
    const value = await reader.readValue(MAX_PRE_DATA - reader.consumed, tooLarge);
    fields.set(part.name.toLowerCase(), { name: part.name, value: value.toString('utf8') });
  }
  if (!file) throw S3Errors.IncorrectNumberOfFilesInPostRequest();
  const field = (n: string) => fields.get(n)?.value;
  const rawKey = field('key');
  if (rawKey === undefined) throw missingField('key');
  // ${filename} is the name of the file the user chose (browsers send the base name).
  const key = rawKey.split('${filename}').join((file.filename ?? '').replace(/^.*[\\/]/, ''));
  fields.set('key', { name: fields.get('key')!.name, value: key });

  const signer = authenticate(ctx, fields);
  const range = signer.policy !== undefined ? checkPolicy(signer.policy, fields, bucket.name) : undefined;
  if (signer.principal) ctx.principal = signer.principal;
  const tags = field('tagging') !== undefined ? formTags(field('tagging')!) : undefined;
  const acl = field('acl');
  await ctx.authorize('s3:PutObject', `arn:aws:s3:::${bucket.name}/${key}`, { ...requestTagKeys(tags), ...aclConditionKeys({ ACL: acl }) });

  const input: Input = {
    Bucket: bucket.name,
    Key: key,
    Body: fileBody(reader, range),
    ContentType: field('content-type'),
    CacheControl: field('cache-control'),
    ContentDisposition: field('content-disposition'),
    ContentEncoding: field('content-encoding'),
    ContentLanguage: field('content-language'),
    Expires: field('expires') !== undefined ? parseTimestamp(field('expires')!) : undefined,
    WebsiteRedirectLocation: field('x-amz-website-redirect-location'),
    StorageClass: field('x-amz-storage-class'),
    ContentMD5: field('content-md5'),
    ChecksumAlgorithm: field('x-amz-checksum-algorithm'),
    // The tag set goes on as PutObject's x-amz-tagging, the canned ACL as its x-amz-acl.
    Tagging: tags && taggingHeaderOf(tags),
    ACL: acl,
    ServerSideEncryption: field('x-amz-server-side-encryption'),
    SSEKMSKeyId: field('x-amz-server-side-encryption-aws-kms-key-id'),
    SSEKMSEncryptionContext: field('x-amz-server-side-encryption-context'),
    BucketKeyEnabled: field('x-amz-server-side-encryption-bucket-key-enabled') === undefined ? undefined : field('x-amz-server-side-encryption-bucket-key-enabled')!.toLowerCase() === 'true',
    SSECustomerAlgorithm: field('x-amz-server-side-encryption-customer-algorithm'),
    SSECustomerKey: field('x-amz-server-side-encryption-customer-key'),
    SSECustomerKeyMD5: field('x-amz-server-side-encryption-customer-key-md5'),
  };
  for (const a of CHECKSUM_ALGORITHMS) {
    const v = field(`x-amz-checksum-${a.toLowerCase()}`);
    if (v !== undefined) input[`Checksum${a}`] = v;
  }
  const metadata: Record<string, string> = {};
  for (const [name, { value }] of fields) if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  if (Object.keys(metadata).length) input.Metadata = metadata;

  const out: Record<string, any> = await putObject(input, ctx);
  const res = successResponse(ctx, bucket.name, key, out.ETag, field('success_action_redirect') ?? field('redirect'), field('success_action_status'));
  // The encryption headers are PutObject's (SSE-C: the algorithm and key MD5 instead of x-amz-server-side-encryption).
  const sseHeaders: Array<[string, unknown]> = [
    ['x-amz-server-side-encryption', out.ServerSideEncryption],
    ['x-amz-server-side-encryption-aws-kms-key-id', out.SSEKMSKeyId],
    ['x-amz-server-side-encryption-bucket-key-enabled', out.BucketKeyEnabled],
    ['x-amz-server-side-encryption-customer-algorithm', out.SSECustomerAlgorithm],
    ['x-amz-server-side-encryption-customer-key-md5', out.SSECustomerKeyMD5],
  ];
  for (const [h, v] of sseHeaders) {
    if (v === undefined) delete res.headers[h];
    else res.headers[h] = String(v);
  }
  // In a versioning-enabled bucket the upload is a new version, named as for PUT.
  if (out.VersionId !== undefined) res.headers['x-amz-version-id'] = out.VersionId;
  return res;
}

/** The `tagging` field: a Tagging document, as in PutObjectTagging. */
function formTags(text: string): Tag[] {
  let node: unknown;
  try {
    const doc = parseXmlDocument(text);
    if (doc.name !== 'Tagging') throw new XmlSyntaxError('not a Tagging document');
    node = doc.node;
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw S3Errors.MalformedXML();
    throw e;
  }
  return validateTagSet(fromXml(loadModel('s3'), { shape: 'Tagging' }, node) as { TagSet?: unknown }, 'object');
}

/**
 * The file's bytes, within the policy's content-length-range; the rest of the body (fields
 * after the file, which S3 ignores) is read before the object is committed, so a truncated
 * body never stores anything.
 */
async function* fileBody(reader: FormDataReader, range: [number, number] | undefined): AsyncGenerator<Buffer> {
  let size = 0;
  let over = false;
  for await (const c of reader.streamValue()) {
    size += c.length;
    // Past the maximum, keep reading (not storing) to report the size and answer cleanly.
    if (range && size > range[1]) over = true;
    if (!over) yield c;
  }
  if (range && over) throw S3Errors.EntityTooLarge({ ProposedSize: String(size), MaxSizeAllowed: String(range[1]) });
  if (range && size < range[0]) throw S3Errors.EntityTooSmall({ ProposedSize: String(size), MinSizeAllowed: String(range[0]) });
  await reader.drain();
}

function successResponse(ctx: RequestContext, bucket: string, key: string, etag: string, redirect: string | undefined, status: string | undefined): ResponseSpec {
  const host = ctx.header('host') ?? 'localhost';
  const location = `http://${host}${ctx.hostBucket !== undefined ? '' : `/${uriEncode(bucket)}`}/${uriEncode(key)}`;
  const headers: Record<string, string> = { etag, location, 'x-amz-server-side-encryption': 'AES256' };
  if (redirect !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(redirect);
    } catch {
      url = undefined;
    }
    // An unusable redirect is ignored, as S3 does, and the status applies.
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
      url.searchParams.append('bucket', bucket);
      url.searchParams.append('key', key);
      url.searchParams.append('etag', etag);
      return { status: 303, headers: { ...headers, location: url.toString() } };
    }
  }
  if (status === '201') {
    // Element text needs only & and < escaped; S3 writes the ETag's quotes as they are.
    const text = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<PostResponse><Location>${text(location)}</Location><Bucket>${text(bucket)}</Bucket><Key>${text(key)}</Key><ETag>${text(etag)}</ETag></PostResponse>`;
    return { status: 201, headers: { ...headers, 'content-type': 'application/xml' }, body };
  }
  // 200 and 204 have no body; any other value is ignored for the default, 204.
  return { status: status === '200' ? 200 : 204, headers };
}

/** Who signed the form's policy (none for an unsigned form), and the decoded policy. */
function authenticate(ctx: RequestContext, fields: Fields): { principal?: Principal; policy?: unknown } {
  const field = (n: string) => fields.get(n)?.value;
  const policy = field('policy');
  const v4 = V4_FIELDS.some((f) => fields.has(f));
  const v2 = V2_FIELDS.some((f) => fields.has(f));
  if (policy === undefined) {
    // An unsigned form is anonymous: only a bucket policy that lets everyone write lets it in.
    if (v4 || v2) throw missingField('policy');
    return {};
  }
  if (!v4 && !v2) throw S3Errors.AccessDenied({ message: 'Access Denied' });
  const required = v4 ? V4_FIELDS : V2_FIELDS;
  for (const f of required) if (!fields.has(f)) throw missingField(f);

  let accessKeyId: string;
  let provided: Buffer;
  let expected: (secret: string) => Buffer;
  let signatureText: string;
  if (v4) {
    const algorithm = field('x-amz-algorithm')!;
    if (algorithm !== 'AWS4-HMAC-SHA256') {
      throw S3Errors.InvalidArgument({ message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', ArgumentName: 'X-Amz-Algorithm', ArgumentValue: algorithm });
    }
    const credential = field('x-amz-credential')!;
    const parts = credential.split('/');
    if (parts.length !== 5 || parts[4] !== 'aws4_request') {
      throw S3Errors.InvalidArgument({
        message: 'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        ArgumentName: 'X-Amz-Credential',
        ArgumentValue: credential,
      });
    }
    const [akid, date, region, service] = parts as [string, string, string, string];
    accessKeyId = akid;
    signatureText = field('x-amz-signature')!;
    provided = /^[0-9a-f]{64}$/i.test(signatureText) ? Buffer.from(signatureText, 'hex') : Buffer.alloc(0);
    expected = (secret) => hmac(signingKey(secret, date, region, service), policy);
  } else {
    accessKeyId = field('awsaccesskeyid')!;
    signatureText = field('signature')!;
    provided = Buffer.from(signatureText, 'base64');
    expected = (secret) => createHmac('sha1', secret).update(policy, 'utf8').digest();
  }
  const cred = ctx.runtime.credentials.lookup(accessKeyId);
  if (!cred) throw S3Errors.InvalidAccessKeyId({ AWSAccessKeyId: accessKeyId });
  checkSessionToken(cred, field('x-amz-security-token'));
  const want = expected(cred.secretAccessKey);
  if (provided.length !== want.length || !timingSafeEqual(provided, want)) {
    // As S3 reports it: the string to sign of a POST is the base64 policy itself.
    throw new ServiceError('SignatureDoesNotMatch', CommonErrors.defs.SignatureDoesNotMatch, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: policy,
      SignatureProvided: signatureText,
      StringToSignBytes: Array.from(Buffer.from(policy, 'utf8'), (b) => b.toString(16).padStart(2, '0')).join(' '),
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  return { principal: cred.principal, policy: doc };
}

/** Temporary credentials sign with their session token in the form, and expire (as for any S3 request). */
function checkSessionToken(cred: Credential, token: string | undefined): void {
  if (cred.sessionToken === undefined) return;
  if (token !== cred.sessionToken) throw S3Errors.InvalidToken();
  if (cred.expiration !== undefined && now() > cred.expiration) throw S3Errors.ExpiredToken();
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const conditionText = (parts: unknown[]) => `[${parts.map((p) => JSON.stringify(p)).join(', ')}]`;
const intOf = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};

/**
 * Checks the policy against the form: not expired, every condition met, and every field
 * named by some condition. Returns the content-length-range, checked while the file streams.
 */
function checkPolicy(doc: unknown, fields: Fields, bucket: string): [number, number] | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  if (typeof expiration !== 'string' || !ISO_8601.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    throw invalidPolicy(`Invalid 'expiration' value: '${typeof expiration === 'string' ? expiration : JSON.stringify(expiration)}'`);
  }
  if (now() > Date.parse(expiration)) throw denied('Policy expired.');
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  // `bucket` is the bucket the form is posted to; the other names are the form's fields.
  const value = (name: string) => (name === 'bucket' ? bucket : (fields.get(name)?.value ?? ''));
  const named = new Set<string>();
  let range: [number, number] | undefined;
  for (const c of conditions) {
    if (Array.isArray(c)) {
      const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
      if (op === 'content-length-range') {
        const min = intOf(c[1]);
        const max = intOf(c[2]);
        if (c.length !== 3 || min === undefined || max === undefined) throw invalidPolicy('Invalid content-length-range.');
        range = [min, max];
        continue;
      }
      if (op !== 'eq' && op !== 'starts-with') throw invalidPolicy(`Invalid Condition: unknown operation '${String(c[0])}'.`);
      if (c.length !== 3 || typeof c[1] !== 'string' || typeof c[2] !== 'string' || !c[1].startsWith('$')) {
        throw invalidPolicy(`Invalid Condition: ${conditionText(c)}.`);
      }
      const name = c[1].slice(1).toLowerCase();
      const want = c[2];
      named.add(name);
      const got = value(name);
      // A starts-with on Content-Type holds for each of a comma-separated list of types.
      const ok = op === 'eq' ? got === want : name === 'content-type' ? got.split(',').every((t) => t.trim().startsWith(want)) : got.startsWith(want);
      if (!ok) throw denied(`Policy Condition failed: ${conditionText(c)}`);
    } else if (c !== null && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1) throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      const [k, want] = entries[0]!;
      if (typeof want !== 'string') throw invalidPolicy('Invalid Simple-Condition: value must be a string.');
      const name = k.toLowerCase();
      named.add(name);
      if (value(name) !== want) throw denied(`Policy Condition failed: ${conditionText(['eq', `$${k}`, want])}`);
    } else {
      throw invalidPolicy(`Invalid Condition: ${JSON.stringify(c)}.`);
    }
  }
  const extra = [...fields.entries()].filter(([n]) => !EXEMPT.has(n) && !n.startsWith('x-ignore-') && !named.has(n)).map(([, f]) => f.name);
  if (extra.length) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return range;
}
