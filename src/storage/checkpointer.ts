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
 * The worker is started on the first commit, so an idle server does not pay for it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
let pending = false;
let timer;
const run = () => {
  timer = undefined;
  pending = false;
  try { db.pragma('wal_checkpoint(PASSIVE)'); parentPort.postMessage({ done: true }); } catch (e) { parentPort.postMessage({ done: true, error: String(e && e.message || e) }); }
};
parentPort.on('message', (m) => {
  if (m === 'close') { if (timer) clearTimeout(timer); try { db.close(); } catch {} parentPort.close(); return; }
  if (!pending) { pending = true; timer = setTimeout(run, workerData.delayMs); }
});
`;

export class Checkpointer {
  private worker?: Worker;
  private failed = false;
  private requested = false;

  constructor(
    private readonly path: string,
    private readonly synchronous: 'NORMAL' | 'FULL',
    private readonly onFail: () => void,
    private readonly delayMs = 20,
  ) {}

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
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, synchronous: this.synchronous, delayMs: this.delayMs, sqlite } });
      w.unref();
      w.on('message', (m: { done?: boolean; error?: string }) => {
        if (m?.done) this.requested = false;
        if (m?.error) log.warn(`WAL checkpoint failed: ${m.error}`);
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
    log.warn(`WAL checkpoints go back to the writer's thread: ${e.message}`);
    this.onFail();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('close');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    await w.terminate().catch(() => undefined);
  }
}
