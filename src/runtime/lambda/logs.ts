import { randomBytes } from 'node:crypto';
import type { LogEvent } from './types.js';

/**
 * The platform's log lines, as Lambda writes them to CloudWatch Logs. Every message
 * ends with "\n", as Lambda's own events do.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
 */

/** YYYY/MM/DD/[$LATEST]<32 hex>: one stream per execution environment. */
export function logStreamName(version: string, at: Date): string {
  const d = at.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${d}/[${version}]${randomBytes(16).toString('hex')}`;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}\n`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}\n`;
}

export interface ReportFields {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memoryMB: number;
  maxMemoryUsedMB: number;
  initDurationMs?: number;
  status?: 'timeout' | 'error';
  errorType?: string;
}

export function reportLine(r: ReportFields): string {
  let s = `REPORT RequestId: ${r.requestId}\tDuration: ${r.durationMs.toFixed(2)} ms\tBilled Duration: ${r.billedDurationMs} ms\tMemory Size: ${r.memoryMB} MB\tMax Memory Used: ${r.maxMemoryUsedMB} MB\t`;
  if (r.initDurationMs !== undefined) s += `Init Duration: ${r.initDurationMs.toFixed(2)} ms\t`;
  if (r.status) s += `Status: ${r.status}\t`;
  if (r.errorType) s += `Error Type: ${r.errorType}\t`;
  return s + '\n';
}

export function initReportLine(initDurationMs: number, status: 'error' | 'timeout', errorType?: string): string {
  let s = `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: ${status}\t`;
  if (errorType) s += `Error Type: ${errorType}\t`;
  return s + '\n';
}

/** The last `max` bytes of the invocation's log (Invoke's LogType=Tail), cut on a character boundary. */
export function logTail(events: LogEvent[], max = 4096): string {
  const parts: Buffer[] = [];
  let n = 0;
  for (let i = events.length - 1; i >= 0 && n < max; i--) {
    const b = Buffer.from(events[i]!.message, 'utf8');
    parts.unshift(b);
    n += b.length;
  }
  let buf = Buffer.concat(parts);
  if (buf.length > max) {
    buf = buf.subarray(buf.length - max);
    let i = 0;
    while (i < buf.length && (buf[i]! & 0xc0) === 0x80) i++; // skip a split UTF-8 sequence
    buf = buf.subarray(i);
  }
  return buf.toString('utf8');
}

/** CloudWatch's limit for one event is 256 KB; longer lines are split, as Lambda does. */
const MAX_EVENT_BYTES = 256 * 1024 - 26;

/**
 * Turns a process's output into log events: one per line. "\r" inside a line (how the
 * bootstraps keep a multi-line message in one line) becomes "\n" again.
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly emit: (message: string) => void) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
    if (this.partial.length > MAX_EVENT_BYTES) {
      this.line(this.partial);
      this.partial = '';
    }
  }

  flush(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(s: string): void {
    const msg = s.replace(/\r(?!$)/g, '\n').replace(/\r$/, '');
    for (let i = 0; i < msg.length; i += MAX_EVENT_BYTES) this.emit(msg.slice(i, i + MAX_EVENT_BYTES) + '\n');
  }
}
