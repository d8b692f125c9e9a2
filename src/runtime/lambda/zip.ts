import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, realpath, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/**
 * Unzipping a function's (or a layer's) deployment package into a directory.
 *
 * Streams every entry (nothing is held in memory), refuses entries that would land
 * outside the destination (zip-slip: `../x`, absolute names, or a path through a
 * symlink the archive itself planted), keeps the executable bit (a custom runtime's
 * `bootstrap` must stay executable), and counts the bytes actually written against
 * AWS's 250 MB unzipped limit rather than trusting the sizes the archive declares.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */

/** AWS's limit for a function's unzipped code and layers: 250 MB. */
export const MAX_UNZIPPED_BYTES = 262_144_000;

export type ExtractZipFailure = 'invalid-zip' | 'unsafe-path' | 'too-large';

export class ExtractZipError extends Error {
  constructor(
    readonly reason: ExtractZipFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ExtractZipError';
  }
}

export interface ExtractZipOptions {
  /** Bytes the extracted files may add up to (default 250 MB, AWS's limit). */
  maxBytes?: number;
}

export interface ExtractZipResult {
  files: number;
  bytes: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

export async function extractZip(source: string | Buffer, destDir: string, opts: ExtractZipOptions = {}): Promise<ExtractZipResult> {
  const maxBytes = opts.maxBytes ?? MAX_UNZIPPED_BYTES;
  await mkdir(destDir, { recursive: true });
  const root = await realpath(destDir);
  let zip: yauzl.ZipFile;
  try {
    const o = { lazyEntries: true, validateEntrySizes: true, strictFileNames: false };
    zip = typeof source === 'string' ? await yauzl.openPromise(source, o) : await yauzl.fromBufferPromise(source, o);
  } catch (e) {
    throw new ExtractZipError('invalid-zip', `Could not unzip uploaded file. Please check your file, then try to upload again. (${(e as Error).message})`);
  }
  let total = 0;
  let files = 0;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const name = entry.fileName;
      const target = path.resolve(root, name);
      if (path.isAbsolute(name) || name.split(/[\\/]/).includes('..') || !inside(root, target)) {
        throw new ExtractZipError('unsafe-path', `Refusing zip entry "${name}": it would be written outside the target directory`);
      }
      const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
      const isDir = name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR;
      if (isDir) {
        await mkdirInside(root, target);
        continue;
      }
      await mkdirInside(root, path.dirname(target));
      if ((unixMode & S_IFMT) === S_IFLNK) {
        // A symlink's target is its content. Only links that stay inside the tree are
        // kept; one pointing out would let a later entry write through it.
        const linkTarget = (await readAll(await zip.openReadStreamPromise(entry), 4096)).toString('utf8');
        if (path.isAbsolute(linkTarget) || !inside(root, path.resolve(path.dirname(target), linkTarget))) {
          throw new ExtractZipError('unsafe-path', `Refusing zip entry "${name}": a symlink to "${linkTarget}" points outside the target directory`);
        }
        await symlink(linkTarget, target);
        files++;
        continue;
      }
      const stream = await zip.openReadStreamPromise(entry);
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb: TransformCallback) {
          total += chunk.length;
          if (total > maxBytes) cb(new ExtractZipError('too-large', `Unzipped size must be smaller than ${maxBytes} bytes`));
          else cb(null, chunk);
        },
      });
      // 'wx' never follows or overwrites an existing path: a duplicate name fails
      // instead of writing through whatever was planted there.
      const executable = (unixMode & 0o111) !== 0;
      await pipeline(stream, counter, createWriteStream(target, { flags: 'wx', mode: executable ? 0o755 : 0o644 }));
      if (executable) await chmod(target, 0o755); // the umask may have cut bits off
      files++;
    }
  } catch (e) {
    if (e instanceof ExtractZipError) throw e;
    const msg = (e as Error).message ?? String(e);
    if (/invalid relative path|absolute path/.test(msg)) throw new ExtractZipError('unsafe-path', `Refusing zip entry: ${msg}`);
    throw new ExtractZipError('invalid-zip', `Could not unzip uploaded file. Please check your file, then try to upload again. (${msg})`);
  } finally {
    zip.close();
  }
  return { files, bytes: total };
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/** mkdir -p, then checks that no component on the way was a symlink leading out. */
async function mkdirInside(root: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const real = await realpath(dir);
  if (!inside(root, real)) throw new ExtractZipError('unsafe-path', `Refusing zip entry under "${path.relative(root, dir)}": it resolves outside the target directory`);
  const st = await lstat(dir);
  if (!st.isDirectory() && !st.isSymbolicLink()) throw new ExtractZipError('invalid-zip', `"${path.relative(root, dir)}" is both a file and a directory in the zip`);
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry) => (cleanup(), resolve(e));
    const onEnd = () => (cleanup(), resolve(null));
    const onError = (err: Error) => (cleanup(), reject(err));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

async function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new ExtractZipError('invalid-zip', 'symlink target too long');
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
