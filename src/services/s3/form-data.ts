import { S3Errors } from './errors.js';

/**
 * A streaming multipart/form-data reader (RFC 7578) for POST Object. Fields are read into
 * memory with a limit; the file part is streamed, holding back only enough bytes to find
 * the boundary that ends it, so an upload of any size never sits in memory.
 *
 * (busboy is in node_modules only as 0.3.1, a dependency of a benchmark peer, on dicer
 * 0.3.0 whose malformed-header crash is CVE-2022-24434; a reader this small is easier to
 * trust than a pin to either.)
 */
export interface FormPart {
  /** The field name as sent. */
  name: string;
  filename?: string;
  contentType?: string;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 8 * 1024;
const malformed = () => S3Errors.MalformedPOSTRequest();

/** The boundary parameter of a multipart/form-data Content-Type, or undefined for any other type. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const [type, ...params] = contentType.split(';');
  if (type!.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  for (const p of params) {
    const m = /^\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))\s*$/i.exec(p);
    if (m) return m[1] ?? m[2];
  }
  return '';
}

function parseHeaders(block: string): FormPart {
  const part: FormPart = { name: '' };
  let disposition: string | undefined;
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed();
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') part.contentType = value;
  }
  if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) throw malformed();
  const params = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  let name: string | undefined;
  for (let m = params.exec(disposition); m; m = params.exec(disposition)) {
    const raw = m[2]!.trim();
    const v = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    const k = m[1]!.toLowerCase();
    if (k === 'name') name = v;
    else if (k === 'filename') part.filename = v;
  }
  if (name === undefined) throw malformed();
  part.name = name;
  return part;
}

export class FormDataReader {
  private readonly it: AsyncIterator<Buffer>;
  /** CRLF "--" boundary: what ends every part. */
  private readonly delimiter: Buffer;
  /** A virtual CRLF in front, so a body that opens with the boundary needs no special case. */
  private buf: Buffer = CRLF;
  private ended = false;
  private started = false;
  private closed = false;
  /** Bytes of the body consumed so far (fields and headers), for the pre-file limit. */
  consumed = 0;

  constructor(source: AsyncIterable<Buffer>, boundary: string) {
    this.it = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.consumed += n;
    return out;
  }

  /** Everything up to `marker` (which is consumed too); at most `limit` bytes. */
  private async readUntil(marker: Buffer, limit: number, tooLarge: () => Error): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(marker);
      if (i >= 0) {
        if (i > limit) throw tooLarge();
        const out = this.take(i);
        this.take(marker.length);
        return out;
      }
      if (this.buf.length > limit + marker.length) throw tooLarge();
      if (!(await this.more())) throw malformed();
    }
  }

  /** The next part's headers, or undefined after the closing boundary. */
  async nextPart(): Promise<FormPart | undefined> {
    if (this.closed) return undefined;
    if (!this.started) {
      // Skip any preamble up to the first boundary.
      this.started = true;
      for (;;) {
        const i = this.buf.indexOf(this.delimiter);
        if (i >= 0) {
          this.take(i + this.delimiter.length);
          break;
        }
        this.take(Math.max(0, this.buf.length - this.delimiter.length));
        if (this.consumed > MAX_HEADER_BYTES || !(await this.more())) throw malformed();
      }
    }
    // After a boundary: "--" closes the body; otherwise optional padding, then CRLF and headers.
    while (this.buf.length < 2) if (!(await this.more())) throw malformed();
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
      this.closed = true;
      return undefined;
    }
    for (;;) {
      let pad = 0;
      while (pad < this.buf.length && (this.buf[pad] === 0x20 || this.buf[pad] === 0x09)) pad++;
      if (pad < this.buf.length) {
        this.take(pad);
        break;
      }
      this.take(pad);
      if (!(await this.more())) throw malformed();
    }
    while (this.buf.length < 2) if (!(await this.more())) throw malformed();
    if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) throw malformed();
    // The header block runs from this CRLF to the blank line (an empty block is CRLF CRLF).
    const block = await this.readUntil(HEADER_END, MAX_HEADER_BYTES, malformed);
    return parseHeaders(block.toString('utf8'));
  }

  /** The current part's value, refusing more than `limit` bytes. */
  readValue(limit: number, tooLarge: () => Error): Promise<Buffer> {
    return this.readUntil(this.delimiter, limit, tooLarge);
  }

  private async nextChunk(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    return r.value;
  }

  /**
   * The current part's value as a stream; fails (MalformedPOSTRequest) if the body ends
   * before its boundary. Chunks pass through as they arrive (no copies): only a boundary
   * that straddles two chunks is looked for in a small joined window.
   */
  async *streamValue(): AsyncGenerator<Buffer> {
    const d = this.delimiter;
    const keep = d.length - 1;
    for (;;) {
      const i = this.buf.indexOf(d);
      if (i >= 0) {
        if (i > 0) yield this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + d.length);
        return;
      }
      // No boundary here: all but the last bytes (which may start one) are the value.
      if (this.buf.length > keep) {
        yield this.buf.subarray(0, this.buf.length - keep);
        this.buf = this.buf.subarray(this.buf.length - keep);
      }
      const next = await this.nextChunk();
      if (!next) throw malformed();
      if (next.length < keep) {
        // Too short to settle whether a boundary starts in the tail: join (a few bytes).
        this.buf = Buffer.concat([this.buf, next]);
        continue;
      }
      const seam = Buffer.concat([this.buf, next.subarray(0, keep)]);
      const j = seam.indexOf(d);
      if (j >= 0 && j < this.buf.length) {
        // The boundary starts in the held-back tail.
        if (j > 0) yield this.buf.subarray(0, j);
        this.buf = next.subarray(j + d.length - this.buf.length);
        return;
      }
      if (this.buf.length) yield this.buf;
      this.buf = next;
    }
  }

  /**
   * Reads the rest of the body and throws it away (S3 ignores the fields after the file);
   * with a limit, gives up after that many bytes. Returns whether the body ended.
   */
  async drain(limit = Infinity): Promise<boolean> {
    let n = 0;
    this.buf = Buffer.alloc(0);
    while (await this.more()) {
      n += this.buf.length;
      this.buf = Buffer.alloc(0);
      if (n > limit) return false;
    }
    return true;
  }
}
