/**
 * Minimal leveled logger writing one line per event to stdout. Request lines are the
 * hot path, so formatting is plain string concatenation, not JSON.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

let threshold = order.info;

export function setLogLevel(level: LogLevel): void {
  threshold = order[level];
}

export function isLogLevel(s: string): s is LogLevel {
  return s in order;
}

export function enabled(level: LogLevel): boolean {
  return order[level] >= threshold;
}

function write(level: LogLevel, msg: string): void {
  if (order[level] < threshold) return;
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}\n`;
  if (level === 'error' || level === 'warn') process.stderr.write(line);
  else process.stdout.write(line);
}

export const log = {
  debug: (msg: string) => write('debug', msg),
  info: (msg: string) => write('info', msg),
  warn: (msg: string) => write('warn', msg),
  error: (msg: string) => write('error', msg),
};
