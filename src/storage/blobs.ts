import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { link, mkdir, open, rename, rm, unlink, readdir, stat, type FileHandle } from 'node:fs/promises';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { blobId } from '../util/ids.js';
import { log } from '../util/log.js';

/** What a body is read through: a file, or the files of a compound blob in turn. */
export interface BlobReader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number; buffer: Buffer }>;
  close(): Promise<void>;
}

/**
 * Compound blobs: a multipart object's parts, hard-linked into one directory
 * (`blobs/<xx>/<id>.p/<index>.<bytes>`) by `compose` instead of copied into one file, so
 * CompleteMultipartUpload writes no object data (copying 1 GiB took 2.9 s here). Read as the
 * concatenation of its files; ids end in `.p`.
 */
const COMPOUND = '.p';
export const isCompound = (id: string): boolean => id.endsWith(COMPOUND);
const partName = (i: number, bytes: number) => `${String(i).padStart(5, '0')}.${bytes}`;

/** A compound blob's files read as one: opened one at a time, as reads reach them. */
class CompoundReader implements BlobReader {
  private current: { index: number; handle: FileHandle } | undefined;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly parts: ReadonlyArray<{ name: string; start: number; size: number }>,
    private readonly onClose: () => void,
  ) {}

  static async open(dir: string, onClose: () => void): Promise<CompoundReader> {
    let start = 0;
    const parts = (await readdir(dir)).sort().map((name) => {
      const size = Number(name.slice(name.indexOf('.') + 1));
      const part = { name, start, size };
      start += size;
      return part;
    });
    return new CompoundReader(dir, parts, onClose);
  }

  /** Reads within one file: a read across a boundary returns fewer bytes (callers go on from there). */
  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number; buffer: Buffer }> {
    if (this.closed) throw new Error('read after close');
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.parts[mid]!.start <= position) lo = mid;
      else hi = mid - 1;
    }
    // Empty parts share their start with the next: the last one holding `position` wins.
    const part = this.parts[lo];
    if (!part || position < part.start || position >= part.start + part.size || length === 0) return { bytesRead: 0, buffer };
    if (this.current?.index !== lo) {
      const previous = this.current;
      this.current = undefined;
      await previous?.handle.close();
      this.current = { index: lo, handle: await open(join(this.dir, part.name), 'r') };
    }
    const n = Math.min(length, part.start + part.size - position);
    const { bytesRead } = await this.current.handle.read(buffer, offset, n, position - part.start);
    return { bytesRead, buffer };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.current;
    this.current = undefined;
    try {
      await c?.handle.close();
    } finally {
      this.onClose();
    }
  }
}

/** A body being written: `commit` makes it a blob, `discard` drops it. */
export interface TempBlob {
  readonly path: string;
  readonly handle: FileHandle;
  /** A recycled file (see below): it may be longer than what is written, so `size` must be set before `commit`. */
  readonly reused: boolean;
  /** The bytes written into it, set by the writer when done. */
  size?: number;
}

/**
 * Large files that were freed (an overwrite, a DELETE) are kept a few seconds for the next
 * large upload to write into, instead of being unlinked. Writing over pages the kernel already
 * caches costs a copy; a new file needs new pages, and unlinking the old one frees its pages
 * in the thread pool meanwhile. Measured here, 256 MiB PUTs of one key over and over, taking
 * turns with the other bench targets: medians 316 and 366 MiB/s → 606 and 585 (the slow ones
 * were the thread pool's writes waiting for pages: a file write by itself swung between 5.5
 * GiB/s and 0.4). Only files no reader has open are kept: a GET holding the old file reads it
 * to the end, as with unlink.
 */
const SPARE_MIN_BYTES = 1024 * 1024;
const SPARE_MAX_FILES = 2;
const SPARE_MAX_BYTES = 1024 ** 3;
/** How long a freed file's disk space stays taken waiting to be reused. */
const SPARE_KEEP_MS = 10_000;

/**
 * Object bodies as files. Names are random ids, never keys, so no key can reach the
 * file-system namespace. A body is written to tmp/, checked, then renamed into blobs/:
 * a crash leaves at most a temp file or a kept spare (both removed at start-up) or an
 * unreferenced blob (removed by the orphan sweep), never a torn object.
 */
export class FileBlobStore {
  private readonly blobDir: string;
  private readonly tmpDir: string;
  private readonly madeDirs = new Set<string>();
  /** Open (or opening) read handles per blob id. */
  private readonly readers = new Map<string, number>();
  /** Freed large files kept for reuse, newest last. */
  private readonly spares: Array<{ path: string; size: number; until: number }> = [];
  private spareTimer: NodeJS.Timeout | undefined;
  /** Compound blobs removed while being read: deleted when the last reader closes. */
  private readonly doomed = new Set<string>();
  /** Compound blobs being deleted: a reader that listed one meanwhile gives up (ENOENT). */
  private readonly removing = new Set<string>();

  constructor(
    dataDir: string,
    private readonly fsync = false,
    /** How long a freed file is kept for reuse (tests shorten it). */
    private readonly spareKeepMs = SPARE_KEEP_MS,
  ) {
    this.blobDir = join(dataDir, 'blobs');
    this.tmpDir = join(dataDir, 'tmp');
  }

  /** Creates the folders and removes temp files left by a crash. */
  init(): void {
    mkdirSync(this.blobDir, { recursive: true });
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    for (const d of readdirSync(this.blobDir)) this.madeDirs.add(d);
  }

  path(id: string): string {
    return join(this.blobDir, id.slice(0, 2), id);
  }

  /**
   * A file to write a body into. `sizeHint`, the size the request declares: from
   * SPARE_MIN_BYTES up, a kept spare is reused (the smallest that is large enough, else the
   * largest).
   */
  async createTemp(sizeHint = 0): Promise<TempBlob> {
    const path = join(this.tmpDir, blobId());
    if (sizeHint >= SPARE_MIN_BYTES && this.spares.length) {
      const fits = this.spares.filter((s) => s.size >= sizeHint);
      const pick = fits.length ? fits.reduce((a, b) => (b.size < a.size ? b : a)) : this.spares.reduce((a, b) => (b.size > a.size ? b : a));
      this.spares.splice(this.spares.indexOf(pick), 1);
      try {
        await rename(pick.path, path);
        return { path, handle: await open(path, 'r+'), reused: true };
      } catch {
        await unlink(path).catch(() => undefined);
      }
    }
    return { path, handle: await open(path, 'wx'), reused: false };
  }

  /** Moves a finished temp file into place; returns the blob id. */
  async commit(temp: TempBlob): Promise<string> {
    const { path: tempPath, handle } = temp;
    if (temp.reused) {
      if (temp.size === undefined) throw new Error('a reused temp file committed without its size');
      await handle.truncate(temp.size);
    }
    if (this.fsync) await handle.sync();
    await handle.close();
    const id = blobId();
    const sub = this.subdir(id);
    await rename(tempPath, this.path(id));
    if (this.fsync) await this.syncDir(join(this.blobDir, sub));
    return id;
  }

  /** The folder of blobs/ that `id` goes in, made if need be. */
  private subdir(id: string): string {
    const sub = id.slice(0, 2);
    if (!this.madeDirs.has(sub)) {
      mkdirSync(join(this.blobDir, sub), { recursive: true });
      this.madeDirs.add(sub);
    }
    return sub;
  }

  private async syncDir(path: string): Promise<void> {
    const dir = await open(path, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async discard(temp: TempBlob): Promise<void> {
    await temp.handle.close().catch(() => undefined);
    await unlink(temp.path).catch(() => undefined);
  }

  async openRead(id: string): Promise<BlobReader> {
    // Counted from the call: a file whose open is under way is not recycled under it, nor a
    // compound blob deleted (its files are opened as the reads reach them).
    this.readers.set(id, (this.readers.get(id) ?? 0) + 1);
    const done = () => {
      const n = this.readers.get(id)! - 1;
      if (n) this.readers.set(id, n);
      else {
        this.readers.delete(id);
        if (this.doomed.delete(id)) void this.removeCompound(id);
      }
    };
    try {
      if (isCompound(id)) {
        // Listing its files opens none: a reader given up here leaves nothing open.
        const reader = await CompoundReader.open(this.path(id), done);
        if (this.removing.has(id)) throw Object.assign(new Error(`compound blob ${id} is being deleted`), { code: 'ENOENT' });
        return reader;
      }
      const handle = await open(this.path(id), 'r');
      // A FileHandle is an EventEmitter (Node >= 15.4), though @types/node does not say so.
      (handle as unknown as EventEmitter).once('close', done);
      return handle;
    } catch (e) {
      done();
      throw e;
    }
  }

  async remove(id: string): Promise<void> {
    if (isCompound(id)) {
      if (this.readers.has(id)) this.doomed.add(id);
      else await this.removeCompound(id);
      return;
    }
    const path = this.path(id);
    if (await this.keepAsSpare(id, path)) return;
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /**
   * Moves a freed file to the spares if it may be written over; false if it stays for
   * `remove` to unlink. A file also linked into a compound blob (a part) never is.
   */
  private async keepAsSpare(id: string, path: string): Promise<boolean> {
    if (this.readers.has(id) || !this.roomFor(0)) return false;
    const st = await stat(path).catch(() => undefined);
    if (!st || st.nlink !== 1 || st.size < SPARE_MIN_BYTES || !this.roomFor(st.size) || this.readers.has(id)) return false;
    const spare = join(this.tmpDir, `spare-${blobId()}`);
    if (!(await rename(path, spare).then(() => true, () => false))) return false;
    // A read that began while it moved holds the file: not reused then. Nor a file linked (by
    // its old name) meanwhile, nor past the limits, which other removals may have reached.
    const linked = (await stat(spare).then((s) => s.nlink, () => 2)) > 1;
    // (No await from here to keepSpare: the limits are checked against what is kept now.)
    if (this.readers.has(id) || linked || !this.roomFor(st.size)) await unlink(spare).catch(() => undefined);
    else this.keepSpare({ path: spare, size: st.size, until: Date.now() + this.spareKeepMs });
    return true;
  }

  /** Whether one more spare of `size` bytes is within the limits. */
  private roomFor(size: number): boolean {
    return this.spares.length < SPARE_MAX_FILES && this.spares.reduce((n, s) => n + s.size, 0) + size <= SPARE_MAX_BYTES;
  }

  private async removeCompound(id: string): Promise<void> {
    this.removing.add(id);
    try {
      await rm(this.path(id), { recursive: true, force: true });
    } finally {
      this.removing.delete(id);
    }
  }

  /**
   * A compound blob of `parts` in order: each file blob hard-linked (it stays a blob of its
   * own until removed), each buffer written as a file. Built in tmp/ and moved into blobs/
   * whole, so a crash leaves nothing half made under blobs/.
   */
  async compose(parts: Array<{ id: string } | { data: Buffer }>): Promise<string> {
    const id = blobId() + COMPOUND;
    const dir = join(this.tmpDir, id);
    await mkdir(dir);
    try {
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if ('data' in p) {
          const fh = await open(join(dir, partName(i, p.data.length)), 'wx');
          try {
            await fh.writeFile(p.data);
            if (this.fsync) await fh.sync();
          } finally {
            await fh.close();
          }
        } else {
          const st = await stat(this.path(p.id));
          await link(this.path(p.id), join(dir, partName(i, st.size)));
        }
      }
      if (this.fsync) await this.syncDir(dir);
      const sub = this.subdir(id);
      await rename(dir, this.path(id));
      if (this.fsync) await this.syncDir(join(this.blobDir, sub));
      return id;
    } catch (e) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
  }

  private keepSpare(spare: { path: string; size: number; until: number }): void {
    this.spares.push(spare);
    if (this.spareTimer) return;
    const expire = (): void => {
      const now = Date.now();
      for (let i = this.spares.length - 1; i >= 0; i--) {
        if (this.spares[i]!.until > now) continue;
        void unlink(this.spares[i]!.path).catch(() => undefined);
        this.spares.splice(i, 1);
      }
      this.spareTimer = this.spares.length ? setTimeout(expire, Math.max(10, this.spares[0]!.until - now)).unref() : undefined;
    };
    this.spareTimer = setTimeout(expire, this.spareKeepMs).unref();
  }

  /** Freed files kept for reuse (for tests). */
  spareCount(): number {
    return this.spares.length;
  }

  /** Deletes the kept spares (at shutdown; start-up also clears tmp/). */
  async close(): Promise<void> {
    clearTimeout(this.spareTimer);
    this.spareTimer = undefined;
    const spares = this.spares.splice(0);
    await Promise.all(spares.map((s) => unlink(s.path).catch(() => undefined)));
  }

  /**
   * Removes blob files no object references (left when the process died between the
   * rename and the metadata commit). Runs in the background after start-up.
   */
  async sweepOrphans(isReferenced: (id: string) => Promise<boolean>, cutoff: number): Promise<number> {
    let removed = 0;
    for (const sub of await readdir(this.blobDir).catch(() => [] as string[])) {
      for (const id of await readdir(join(this.blobDir, sub)).catch(() => [] as string[])) {
        if (await isReferenced(id)) continue;
        // Files newer than the cutoff (process start) may belong to a commit in flight.
        const fh = await open(this.path(id), 'r').catch(() => undefined);
        if (!fh) continue;
        const st = await fh.stat();
        await fh.close();
        if (st.mtimeMs > cutoff) continue;
        await this.remove(id);
        removed++;
      }
    }
    if (removed) log.info(`removed ${removed} orphaned blob file(s)`);
    return removed;
  }
}
