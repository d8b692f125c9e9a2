import type { TimestampFormat } from './model.js';

/** Timestamp wire formats: rest-xml/query bodies iso8601, headers rfc822, JSON epoch seconds. */
export function formatTimestamp(d: Date, format: TimestampFormat): string {
  switch (format) {
    case 'rfc822':
      return d.toUTCString();
    case 'unixTimestamp':
      return String(d.getTime() / 1000);
    case 'iso8601':
      return d.toISOString();
  }
}

export function parseTimestamp(text: string | number): Date | undefined {
  if (typeof text === 'number') return new Date(text * 1000);
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}
