import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { log } from '../util/log.js';

/**
 * WAL checkpoints off the request thread. SQLite's automatic checkpoint runs inside the
 * COMMIT that crosses 1000 WAL pages, on the thread that commits: it copies those pages
 * into the database file and, with synchronous=NORMAL or FULL, fsyncs it. Measured on PUT
 * of 4 KiB objects that is ~30–40 µs of every write, and a multi-millisecond stall of the
 * event loop every ~250 writes (the p99). Here a worker thread with its own connection runs
 * PASSIVE checkpoints (they never block the writer or readers) shortly after commits, with
 * the same synchronous setting, so the database file is as durable as before; the writer's
 * own automatic checkpoint stays as a backstop at a larger size, should the worker fall
 * behind or die.
 *
 * A checkpoint alone does not keep the WAL small: SQLite starts writing the WAL from its
 * beginning again only when a write transaction begins with every frame already copied,
 * and under steady writes the writer has always added frames while the worker copied the
 * earlier ones. The WAL then grew to the backstop's size, where the writer's own checkpoint
 * ran inside a COMMIT: 13–26 ms stalls of the event loop every ~0.4 s of PUTs, measured.
 * So once a checkpoint reports a WAL of `restartFrames` or more, the writer holds new write
 * batches back (requests are still read and answered meanwhile; only writes wait), the
 * worker copies the few frames written since (~1–2 ms) and says so, and the next write
 * transaction, finding the WAL fully copied, restarts it. See `needRestart` and `restart`.
 *
 * The worker is started on the first commit, so an idle server does not pay for it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
let pending = false;
let timer;
let dbFd;
const checkpoint = (restart) => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    // Every frame copied but the WAL large: flush the database file's pages now, while
    // writes go on, and copy what was written meanwhile (a few rounds, each shorter), so
    // the checkpoint that completes the restart, which syncs the WAL and the file, has
    // little left to copy and flush while the writer waits.
    let ready = false;
    if (!restart && r.log >= workerData.restartFrames && r.checkpointed === r.log) {
      dbFd ??= fs.openSync(workerData.path, 'r');
      for (let round = 0; round < 3; round++) {
        const t = performance.now();
        fs.fdatasyncSync(dbFd);
        const c = db.pragma('wal_checkpoint(PASSIVE)')[0];
        if (c.checkpointed !== c.log || performance.now() - t < 1) break;
      }
      ready = true;
    }
    parentPort.postMessage({ done: true, restart, ready });
  } catch (e) {
    parentPort.postMessage({ done: true, restart, error: String(e && e.message || e) });
  }
};
const run = () => {
  timer = undefined;
  pending = false;
  checkpoint(false);
};
parentPort.on('message', (m) => {
  if (m === 'close') { if (timer) clearTimeout(timer); try { db.close(); if (dbFd !== undefined) fs.closeSync(dbFd); } catch {} parentPort.close(); return; }
  if (m === 'restart') { checkpoint(true); return; }
  if (!pending) { pending = true; timer = setTimeout(run, workerData.delayMs); }
});
`;

/** WAL frames (pages) from which the writer holds writes back for a restart: 32 MiB of 4 KiB pages. */
export const RESTART_FRAMES = 8192;
/** A restart the worker has not answered in this long is given up (writes resume). */
const RESTART_TIMEOUT_MS = 1000;

type WorkerReply = { done?: boolean; restart?: boolean; ready?: boolean; error?: string };

export class Checkpointer {
  private worker?: Worker;
  private failed = false;
  private requested = false;
  /** The last checkpoint found the WAL large: the writer should hold writes and call `restart`. */
  needRestart = false;
  private restarting?: { done: () => void; timer: NodeJS.Timeout };

  constructor(
    private readonly path: string,
    private readonly synchronous: 'NORMAL' | 'FULL',
    private readonly onFail: () => void,
    private readonly delayMs = 20,
    private readonly restartFrames = RESTART_FRAMES,
  ) {}

  /**
   * Called by the writer with no write transaction open and none to start until `done`
   * runs: the worker copies what is left of the WAL, so the next write transaction
   * restarts it. `done` runs once, whatever happens (also when the worker has failed).
   */
  restart(done: () => void): void {
    this.needRestart = false;
    if (!this.worker || this.restarting) {
      done();
      return;
    }
    const timer = setTimeout(() => this.finishRestart(), RESTART_TIMEOUT_MS);
    timer.unref();
    this.restarting = { done, timer };
    this.worker.postMessage('restart');
  }

  private finishRestart(): void {
    const r = this.restarting;
    if (!r) return;
    this.restarting = undefined;
    clearTimeout(r.timer);
    r.done();
  }

  /** After a commit: a checkpoint runs within `delayMs` (one per burst of commits). */
  committed(): void {
    if (this.failed) return;
    if (!this.worker) this.start();
    // One request per checkpoint: commits made before the worker answers are covered by
    // the next one (a message per commit was ~3 µs of every PUT in the profile).
    if (this.requested) return;
    this.requested = true;
    this.worker?.postMessage('ckpt');
  }

  private start(): void {
    try {
      const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, synchronous: this.synchronous, delayMs: this.delayMs, restartFrames: this.restartFrames, sqlite } });
      w.unref();
      w.on('message', (m: WorkerReply) => {
        if (m?.error) log.warn(`WAL checkpoint failed: ${m.error}`);
        if (m?.restart) {
          this.finishRestart();
          return;
        }
        if (m?.done) this.requested = false;
        // Every frame copied but the WAL still large (a reader in the way leaves frames
        // uncopied; the next checkpoint tries again), and the database file flushed.
        if (m?.ready) this.needRestart = true;
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (this.worker === w && code !== 0) this.fail(new Error(`checkpoint worker exited with code ${code}`));
      });
      this.worker = w;
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = undefined;
    this.needRestart = false;
    this.finishRestart();
    log.warn(`WAL checkpoints go back to the writer's thread: ${e.message}`);
    this.onFail();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.finishRestart();
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('close');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    await w.terminate().catch(() => undefined);
  }
}
