import { Worker } from 'node:worker_threads';
import { log } from './log.js';

/**
 * MD5 off the main thread, for large bodies. An object's ETag is the MD5 of its bytes, and
 * MD5 runs at ~850 MiB/s on one core here: hashed on the event loop, a 256 MiB PUT spent
 * half its time hashing and every other request waited behind it. Here one worker thread
 * hashes batches that live in SharedArrayBuffers (no copy to send them), while the main
 * thread goes on reading the socket and the thread pool writes the same batches to disk.
 * Batches arrive in order, so each job's digest is that of its bytes in order.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = jobs.get(m.id);
    if (!h) jobs.set(m.id, (h = createHash('md5')));
    h.update(new Uint8Array(m.sab, 0, m.len));
    parentPort.postMessage({ id: m.id, seq: m.seq });
  } else if (m.op === 'digest') {
    const h = jobs.get(m.id) ?? createHash('md5');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: h.digest() });
  } else if (m.op === 'drop') jobs.delete(m.id);
});
`;

type Waiter = { resolve: (v: Buffer | undefined) => void; reject: (e: Error) => void };

let worker: Worker | undefined;
let broken: Error | undefined;
let nextId = 1;
const waiting = new Map<string, Waiter>();

/** Sends a message whose answer `key` will resolve. */
function ask(key: string, waiter: Waiter, message: unknown): void {
  const w = theWorker();
  if (!waiting.size) w.ref();
  waiting.set(key, waiter);
  w.postMessage(message);
}

function failAll(e: Error): void {
  broken = e;
  worker = undefined;
  log.warn(`MD5 worker stopped: ${e.message}`);
  for (const w of waiting.values()) w.reject(e);
  waiting.clear();
}

function theWorker(): Worker {
  if (broken) throw broken;
  if (!worker) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (m: { id: number; seq?: number; digest?: Uint8Array }) => {
      const k = m.digest ? `${m.id}:d` : `${m.id}:${m.seq}`;
      const waiter = waiting.get(k);
      waiting.delete(k);
      if (!waiting.size) w.unref();
      waiter?.resolve(m.digest ? Buffer.from(m.digest) : undefined);
    });
    w.on('error', (e) => failAll(e));
    w.on('exit', (code) => {
      if (worker === w) failAll(new Error(`exited with code ${code}`));
    });
    // Referenced only while an answer is awaited: an idle worker must not keep the process
    // alive, a busy one must (unref() goes after the listeners: adding one refs it again).
    w.unref();
    worker = w;
  }
  return worker;
}

/** Whether off-thread hashing is available (false after the worker failed: hash inline). */
export function md5WorkerUsable(): boolean {
  return !broken;
}

/** One MD5 computation fed with SharedArrayBuffer batches. */
export class OffThreadMd5 {
  private readonly id = nextId++;
  private seq = 0;

  /** Hashes the first `len` bytes of `sab`; resolves when the worker is done with it (it may then be reused). */
  update(sab: SharedArrayBuffer, len: number): Promise<void> {
    const seq = this.seq++;
    return new Promise<void>((resolve, reject) => ask(`${this.id}:${seq}`, { resolve: () => resolve(), reject }, { op: 'update', id: this.id, seq, sab, len }));
  }

  digest(): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => ask(`${this.id}:d`, { resolve: (d) => resolve(d!), reject }, { op: 'digest', id: this.id }));
  }

  /** Forgets the job (a failed upload). */
  drop(): void {
    if (worker) worker.postMessage({ op: 'drop', id: this.id });
  }
}
