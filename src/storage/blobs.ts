import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, unlink, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { blobId } from '../util/ids.js';
import { log } from '../util/log.js';

/**
 * Object bodies as files. Names are random ids, never keys, so no key can reach the
 * file-system namespace. A body is written to tmp/, checked, then renamed into blobs/:
 * a crash leaves at most a temp file (removed at start-up) or an unreferenced blob
 * (removed by the orphan sweep), never a torn object.
 */
export class FileBlobStore {
  private readonly blobDir: string;
  private readonly tmpDir: string;
  private readonly madeDirs = new Set<string>();

  constructor(
    dataDir: string,
    private readonly fsync = false,
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

  async createTemp(): Promise<{ path: string; handle: FileHandle }> {
    const path = join(this.tmpDir, blobId());
    const handle = await open(path, 'wx');
    return { path, handle };
  }

  /** Moves a finished temp file into place; returns the blob id. */
  async commit(tempPath: string, handle: FileHandle): Promise<string> {
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

  async discard(tempPath: string, handle?: FileHandle): Promise<void> {
    await handle?.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
  }

  openRead(id: string): Promise<FileHandle> {
    return open(this.path(id), 'r');
  }

  async remove(id: string): Promise<void> {
    await unlink(this.path(id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
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
