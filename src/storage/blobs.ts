import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, unlink, readdir, stat, type FileHandle } from 'node:fs/promises';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { blobId } from '../util/ids.js';
import { log } from '../util/log.js';

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
    const sub = id.slice(0, 2);
    if (!this.madeDirs.has(sub)) {
      mkdirSync(join(this.blobDir, sub), { recursive: true });
      this.madeDirs.add(sub);
    }
    await rename(tempPath, this.path(id));
    if (this.fsync) {
      const dir = await open(join(this.blobDir, sub), 'r');
      await dir.sync();
      await dir.close();
    }
    return id;
  }

  async discard(temp: TempBlob): Promise<void> {
    await temp.handle.close().catch(() => undefined);
    await unlink(temp.path).catch(() => undefined);
  }

  async openRead(id: string): Promise<FileHandle> {
    // Counted from the call: a file whose open is under way is not recycled under it.
    this.readers.set(id, (this.readers.get(id) ?? 0) + 1);
    const done = () => {
      const n = this.readers.get(id)! - 1;
      if (n) this.readers.set(id, n);
      else this.readers.delete(id);
    };
    try {
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
    const path = this.path(id);
    if (!this.readers.has(id) && this.spares.length < SPARE_MAX_FILES) {
      const size = await stat(path).then((st) => st.size, () => 0);
      if (size >= SPARE_MIN_BYTES && this.spareBytes() + size <= SPARE_MAX_BYTES && !this.readers.has(id)) {
        const spare = join(this.tmpDir, `spare-${blobId()}`);
        if (await rename(path, spare).then(() => true, () => false)) {
          // A read that began while it moved holds the file: not reused then. (Nor past the
          // limits, which other removals may have reached meanwhile.)
          const full = this.spares.length >= SPARE_MAX_FILES || this.spareBytes() + size > SPARE_MAX_BYTES;
          if (this.readers.has(id) || full) await unlink(spare).catch(() => undefined);
          else this.keepSpare({ path: spare, size, until: Date.now() + this.spareKeepMs });
          return;
        }
      }
    }
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  private spareBytes(): number {
    return this.spares.reduce((n, s) => n + s.size, 0);
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
