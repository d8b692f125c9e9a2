import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, writevSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../util/log.js';

/**
 * Small object bodies (the inline ones, up to `inlineMaxBytes`), appended to segment files
 * instead of written as SQLite rows. A SQLite row of a 4 KiB body is a page of its own in
 * every COMMIT's WAL frames (checksummed, written with two `pwrite`s) and again in the
 * database file when it is checkpointed; here the bodies a write batch appends are written
 * with one `writev` before that batch's COMMIT, and the row only names them. A row
 * committed therefore never names bytes that were not written first; bytes written for a
 * batch that did not commit are dead space, like the bytes of bodies deleted since.
 *
 * Not with `--fsync`: there the log would need an `fdatasync` of its own before each
 * COMMIT's WAL sync (PUT −16% measured), while a body in a SQLite row rides in the WAL's
 * one sync. So that mode writes small bodies as rows (the store's `inline_bodies`), and
 * only reads and reclaims segments written without it.
 *
 * A body's id says where it is: `L<segment, 8 digits>.<offset, 11 digits>.<length>`. The
 * digits are fixed-width so that ids sort by position: the ids of one segment are a range
 * (`segmentRange`), which the store's partial indexes on `body_id` answer, so it can find
 * the bodies still alive in a segment without reading the rest. Each process appends to a
 * segment of its own, started at its first write (a segment is never appended to after the
 * process that wrote it has stopped, so a torn tail never needs repair), and moves on to a
 * new one past `segmentBytes`.
 *
 * Space comes back by segment: once at most half of a segment's bytes are alive, the store
 * copies the live bodies to the current segment (re-pointing their rows in the same
 * transaction) and deletes the segment `retireDelayMs` later, long enough for any request
 * that read an id before it moved to have read its bytes; a segment in which nothing had
 * to move goes at once.
 */
export const SEGMENT_BYTES = 64 * 1024 * 1024;
/** By default, a segment no row names any more is deleted this long after (requests in flight may hold an id into it). */
export const RETIRE_DELAY_MS = 30_000;

const NAME = /^(\d{8})\.log$/;
/** Buffers per `writev` at most (Linux's IOV_MAX is 1024). */
const MAX_IOV = 512;
/** Readable segments kept open at most (the current one is always open). */
const MAX_OPEN = 64;

export interface LogPosition {
  segment: number;
  offset: number;
  length: number;
}

export function isLogId(id: string): boolean {
  return id.charCodeAt(0) === 76; // 'L'
}

export function logId(p: LogPosition): string {
  return `L${String(p.segment).padStart(8, '0')}.${String(p.offset).padStart(11, '0')}.${p.length}`;
}

export function parseLogId(id: string): LogPosition | undefined {
  if (!isLogId(id) || id.length < 23 || id[9] !== '.' || id[21] !== '.') return undefined;
  const segment = Number(id.slice(1, 9));
  const offset = Number(id.slice(10, 21));
  const length = Number(id.slice(22));
  return Number.isSafeInteger(segment) && Number.isSafeInteger(offset) && Number.isSafeInteger(length) ? { segment, offset, length } : undefined;
}

/** The ids of one segment: `lo <= id < hi`. */
export function segmentRange(segment: number): [string, string] {
  const s = String(segment).padStart(8, '0');
  return [`L${s}.`, `L${s}/`];
}

interface Segment {
  size: number;
  /** Bytes known dead (an estimate until `setLive`: rolled-back writes and crashes are not counted). */
  dead: number;
  /** Not yet measured since start-up. */
  unmeasured: boolean;
  /** Being reclaimed: deleted at this time (`sweep`). */
  retireAt?: number;
}

interface PendingWrite {
  segment: number;
  offset: number;
  data: Buffer;
}

export class BodyLog {
  private readonly segments = new Map<number, Segment>();
  private readonly fds = new Map<number, number>();
  private current = -1;
  /** The number the next segment gets. */
  private next: number;
  /** Where the next body of the current segment goes. */
  private end = 0;
  private pending: PendingWrite[] = [];
  /** Segment files being deleted (`drop`). */
  private readonly unlinking = new Set<Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly opts: { segmentBytes?: number; retireDelayMs?: number } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    let last = 0;
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      if (!m) continue;
      const n = Number(m[1]);
      this.segments.set(n, { size: statSync(join(dir, name)).size, dead: 0, unmeasured: true });
      last = Math.max(last, n);
    }
    this.next = last + 1;
  }

  private path(segment: number): string {
    return join(this.dir, `${String(segment).padStart(8, '0')}.log`);
  }

  /** Reserves the body's place and queues its bytes for `flush`; returns its id. */
  append(data: Buffer): string {
    const limit = this.opts.segmentBytes ?? SEGMENT_BYTES;
    if (this.current < 0 || (this.end > 0 && this.end + data.length > limit)) this.startSegment();
    const offset = this.end;
    this.end += data.length;
    this.segments.get(this.current)!.size = this.end;
    this.pending.push({ segment: this.current, offset, data });
    return logId({ segment: this.current, offset, length: data.length });
  }

  private startSegment(): void {
    const n = this.next++;
    const fd = openSync(this.path(n), 'wx+');
    this.current = n;
    this.fds.set(n, fd);
    this.end = 0;
    this.segments.set(n, { size: 0, dead: 0, unmeasured: false });
  }

  /**
   * Writes the queued bodies: one `writev` per segment they are in. Called before the
   * COMMIT whose rows name them; if it throws, that COMMIT must not happen. Their places
   * stay taken either way (a failed write leaves dead space).
   */
  flush(): void {
    const queued = this.pending;
    if (!queued.length) return;
    this.pending = [];
    let i = 0;
    while (i < queued.length) {
      const segment = queued[i]!.segment;
      const start = queued[i]!.offset;
      const buffers: Buffer[] = [];
      let bytes = 0;
      for (; i < queued.length && queued[i]!.segment === segment && buffers.length < MAX_IOV; i++) {
        buffers.push(queued[i]!.data);
        bytes += queued[i]!.data.length;
      }
      const fd = this.fd(segment);
      let done = 0;
      while (done < bytes) {
        const n = writevSync(fd, done ? remaining(buffers, done) : buffers, start + done);
        if (n <= 0) throw new Error(`body log: short write to segment ${segment}`);
        done += n;
      }
    }
  }

  /** A body's bytes: still queued, or read from its segment. Undefined if its segment is gone. */
  read(id: string): Buffer | undefined {
    const p = parseLogId(id);
    if (!p) return undefined;
    if (this.pending.length) {
      for (const w of this.pending) if (w.segment === p.segment && w.offset === p.offset) return w.data;
    }
    if (!this.segments.has(p.segment)) return undefined;
    const out = Buffer.allocUnsafe(p.length);
    const fd = this.fd(p.segment);
    let got = 0;
    while (got < p.length) {
      const n = readSync(fd, out, got, p.length - got, p.offset + got);
      if (n === 0) throw new Error(`body log: ${id} is past the end of its segment`);
      got += n;
    }
    return out;
  }

  private fd(segment: number): number {
    const open = this.fds.get(segment);
    if (open !== undefined) return open;
    if (this.fds.size >= MAX_OPEN) {
      for (const [n, fd] of this.fds) {
        if (n === this.current) continue;
        closeSync(fd);
        this.fds.delete(n);
        break;
      }
    }
    const fd = openSync(this.path(segment), 'r');
    this.fds.set(segment, fd);
    return fd;
  }

  /** A body no row names any more (deleted, replaced, or moved). */
  freed(id: string): void {
    const p = parseLogId(id);
    const s = p && this.segments.get(p.segment);
    if (s) s.dead += p.length;
  }

  /**
   * Segments to look at: closed ones not measured since start-up, or with at least half of
   * their bytes freed (as far as this process has seen).
   */
  candidates(): number[] {
    const out: number[] = [];
    for (const [n, s] of this.segments) {
      if (n === this.current || s.retireAt !== undefined) continue;
      if (s.unmeasured || s.dead * 2 >= s.size) out.push(n);
    }
    return out.sort((a, b) => a - b);
  }

  /** The measured live bytes of a closed segment: whether it is worth copying out. */
  setLive(segment: number, live: number): 'keep' | 'compact' | 'retire' {
    const s = this.segments.get(segment);
    if (!s) return 'keep';
    s.unmeasured = false;
    s.dead = s.size - live;
    if (live === 0) return 'retire';
    return live * 2 <= s.size ? 'compact' : 'keep';
  }

  /**
   * The segment is being reclaimed: `sweep` deletes it `delayMs` (by default `retireDelayMs`)
   * after the last call.
   */
  retire(segment: number, delayMs = this.opts.retireDelayMs ?? RETIRE_DELAY_MS, now = Date.now()): void {
    const s = this.segments.get(segment);
    if (s) s.retireAt = now + delayMs;
  }

  /** Reclaiming the segment stopped (it failed, or the store is closing): it stays. */
  unretire(segment: number): void {
    const s = this.segments.get(segment);
    if (s) {
      s.retireAt = undefined;
      s.unmeasured = true;
    }
  }

  /** Whether the segment is being reclaimed (ids into it read without a row naming them). */
  retiring(segment: number): boolean {
    return this.segments.get(segment)?.retireAt !== undefined;
  }

  /** Deletes the retired segments whose delay has passed; returns how many. */
  sweep(now = Date.now()): number {
    let n = 0;
    for (const [segment, s] of this.segments) {
      if (s.retireAt === undefined || s.retireAt > now) continue;
      this.drop(segment);
      n++;
    }
    return n;
  }

  /**
   * Forgets the segment at once and deletes its file in the thread pool: unlinking a 64 MiB
   * file frees its cached pages, ~16–20 ms measured, which on the event loop stalled the
   * requests of the moment (a 256 MiB GET then: −20–50%).
   */
  private drop(segment: number): void {
    const fd = this.fds.get(segment);
    if (fd !== undefined) closeSync(fd);
    this.fds.delete(segment);
    this.segments.delete(segment);
    const done: Promise<void> = unlink(this.path(segment))
      .catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') log.warn(`body log: deleting segment ${segment}: ${e.message}`);
      })
      .finally(() => this.unlinking.delete(done));
    this.unlinking.add(done);
  }

  /** Resolves once the segment files `sweep` is deleting are gone. */
  async deleted(): Promise<void> {
    await Promise.all(this.unlinking);
  }

  /** Segment sizes and dead bytes, for tests and diagnostics. */
  stats(): Array<{ segment: number; size: number; dead: number; current: boolean; retiring: boolean }> {
    return [...this.segments].map(([segment, s]) => ({ segment, size: s.size, dead: s.dead, current: segment === this.current, retiring: s.retireAt !== undefined }));
  }

  close(): void {
    this.pending = [];
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.current = -1;
  }
}

/** The part of `buffers` after its first `skip` bytes. */
function remaining(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
