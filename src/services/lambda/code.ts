import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import { extractZip, ExtractZipError, MAX_UNZIPPED_BYTES } from '../../runtime/lambda/index.js';
import { blobId } from '../../util/ids.js';
import { now } from '../../util/clock.js';
import { LambdaErrors } from './errors.js';
import { openBody } from '../s3/objects.js';
import type { ObjectRecord } from '../../storage/metadata.js';

/**
 * Deployment packages, content-addressed: each zip is kept once as
 * `<data>/lambda/zips/<sha256>.zip` and extracted once into `<data>/lambda/code/<sha256>/`,
 * which the execution engine reads (and never writes). The zip reaches its final name
 * only after it is complete and extracted, before the function's metadata is committed,
 * so an acknowledged CreateFunction survives kill -9; an extracted directory that is
 * missing (a crash mid-extraction) is rebuilt from the zip on first use.
 */
export interface StoredCode {
  /** Hex sha256: the key of the zip and its directory. */
  key: string;
  /** Base64 sha256, as Lambda reports CodeSha256. */
  sha256: string;
  size: number;
}

/** Direct uploads are limited to 50 MB zipped (the Lambda quota). */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;

function dirs(runtime: Runtime) {
  const base = join(runtime.config.dataDir, 'lambda');
  return { zips: join(base, 'zips'), code: join(base, 'code'), tmp: join(base, 'tmp') };
}

const extracting = new Map<string, Promise<string>>();

/** Stores a zip (if new) and makes sure it is extracted. */
export async function storeZip(runtime: Runtime, zip: Buffer): Promise<StoredCode> {
  if (zip.length > MAX_ZIP_BYTES) {
    throw LambdaErrors.RequestTooLargeException({ message: `Request must be smaller than ${MAX_ZIP_BYTES} bytes for the CreateFunction operation` });
  }
  const d = dirs(runtime);
  await mkdir(d.tmp, { recursive: true });
  const tmp = join(d.tmp, `${blobId()}.zip`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(zip);
    if (runtime.config.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  return keepZip(runtime, tmp, createHash('sha256').update(zip).digest(), zip.length);
}

/** Moves a complete temp zip to its content address once it has been extracted. */
async function keepZip(runtime: Runtime, tmp: string, hash: Buffer, size: number): Promise<StoredCode> {
  const code: StoredCode = { key: hash.toString('hex'), sha256: hash.toString('base64'), size };
  const zipPath = join(dirs(runtime).zips, `${code.key}.zip`);
  try {
    if (await exists(zipPath)) {
      await codeDir(runtime, code.key);
      return code;
    }
    // Refuse what cannot be unzipped before the zip is kept.
    await extractTo(runtime, tmp, code.key);
    await mkdir(dirs(runtime).zips, { recursive: true });
    await rename(tmp, zipPath);
    return code;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * The code of an S3 object (CreateFunction / UpdateFunctionCode with S3Bucket and S3Key),
 * streamed from the object into a temp zip and hashed on the way.
 */
export async function storeZipFromS3(ctx: RequestContext, bucket: string, key: string, version?: string): Promise<StoredCode> {
  // Lambda reads the object (or the S3ObjectVersion) with the caller's rights.
  await ctx.authorize(version === undefined ? 's3:GetObject' : 's3:GetObjectVersion', `arn:aws:s3:::${bucket}/${key}`, version === undefined ? {} : { 's3:versionid': version });
  const b = await ctx.runtime.store.s3.getBucket(bucket);
  const found = b && (version === undefined ? await ctx.runtime.store.s3.getObject(b.id, key) : await ctx.runtime.store.s3.getVersion(b.id, key, version));
  const rec = found && !('deleteMarker' in found && found.deleteMarker) ? (found as ObjectRecord) : undefined;
  if (!b || !rec) {
    const code = version === undefined ? 'NoSuchKey' : 'NoSuchVersion';
    const msg = version === undefined ? 'The specified key does not exist.' : 'The specified version does not exist.';
    throw LambdaErrors.InvalidParameterValueException({ message: `Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: ${msg}` });
  }
  if (rec.size > MAX_UNZIPPED_BYTES) throw LambdaErrors.InvalidParameterValueException({ message: `Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes` });
  const d = dirs(ctx.runtime);
  await mkdir(d.tmp, { recursive: true });
  const tmp = join(d.tmp, `${blobId()}.zip`);
  const hash = createHash('sha256');
  const opened = await openBody(ctx, rec);
  const out = await open(tmp, 'w');
  try {
    if (opened.inline) {
      hash.update(opened.inline);
      await out.writeFile(opened.inline);
    } else {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; ; ) {
        const { bytesRead } = await opened.handle!.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        await out.write(buf, 0, bytesRead);
        pos += bytesRead;
      }
    }
    if (ctx.runtime.config.fsync) await out.sync();
  } finally {
    await out.close();
    await opened.handle?.close();
  }
  return keepZip(ctx.runtime, tmp, hash.digest(), rec.size);
}

/** The extracted directory of stored code, rebuilt from its zip if it is missing. */
export async function codeDir(runtime: Runtime, key: string): Promise<string> {
  const dir = join(dirs(runtime).code, key);
  if (await exists(dir)) return dir;
  return extractTo(runtime, join(dirs(runtime).zips, `${key}.zip`), key);
}

function extractTo(runtime: Runtime, zipPath: string, key: string): Promise<string> {
  let p = extracting.get(key);
  if (!p) {
    p = (async () => {
      const d = dirs(runtime);
      const dir = join(d.code, key);
      if (await exists(dir)) return dir;
      const tmp = join(d.tmp, `x-${blobId()}`);
      try {
        await extractZip(zipPath, tmp);
        await mkdir(d.code, { recursive: true });
        await rename(tmp, dir);
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        if (e instanceof ExtractZipError) throw LambdaErrors.InvalidParameterValueException({ message: e.message.replace(/ \(.*\)$/, '') });
        if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (e as NodeJS.ErrnoException).code === 'EEXIST') return dir;
        throw e;
      }
      return dir;
    })().finally(() => extracting.delete(key));
    extracting.set(key, p);
  }
  return p;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

// ---- Code.Location: a presigned link that downloads the zip for ten minutes -----------

const LINK_KEY = randomBytes(32);
const LINK_SECONDS = 600;

function linkSignature(key: string, expires: number): Buffer {
  return createHmac('sha256', LINK_KEY).update(`${key}\n${expires}`).digest();
}

/** GetFunction's Code.Location, on the host the caller used. */
export function codeLocation(ctx: RequestContext, key: string): string {
  const expires = Math.floor(now() / 1000) + LINK_SECONDS;
  const host = ctx.header('host') ?? `127.0.0.1:${ctx.runtime.config.port}`;
  return `http://${host}/_nimbus/lambda/code/${key}.zip?expires=${expires}&signature=${linkSignature(key, expires).toString('hex')}`;
}

export const CODE_PATH_PREFIX = '/_nimbus/lambda/code/';

/** Serves a Code.Location link (no AWS signature: the link is the credential). */
export async function serveCode(runtime: Runtime, rawPath: string, query: Array<[string, string]>, res: ServerResponse): Promise<void> {
  const m = /^\/_nimbus\/lambda\/code\/([0-9a-f]{64})\.zip$/.exec(rawPath);
  const q = new Map(query);
  const expires = Number(q.get('expires'));
  const sig = Buffer.from(q.get('signature') ?? '', 'hex');
  const ok = m && Number.isFinite(expires) && expires >= now() / 1000 && sig.length === 32 && timingSafeEqual(sig, linkSignature(m[1]!, expires));
  if (!ok) {
    res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired or the signature is invalid</Message></Error>');
    return;
  }
  const path = join(dirs(runtime).zips, `${m![1]}.zip`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    res.writeHead(404, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/zip', 'content-length': size });
  createReadStream(path).pipe(res);
}
