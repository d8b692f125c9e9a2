import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { extractZip } from '../../src/runtime/lambda/zip.js';
import type { FunctionSpec, LogEvent } from '../../src/runtime/lambda/types.js';

/** Files for a zip: content, or content plus a Unix mode (0o755 for a bootstrap). */
export type ZipFiles = Record<string, string | Buffer | { content: string | Buffer; mode: number }>;

export function buildZip(files: ZipFiles): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, f] of Object.entries(files)) {
    const { content, mode } = typeof f === 'string' || Buffer.isBuffer(f) ? { content: f, mode: 0o644 } : f;
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, { mode: 0o100000 | mode });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const scratch: string[] = [];

export function tempDir(prefix = 'nimbus-lambda-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Zips files (as a user would upload them) and extracts them, as the API layer will. */
export async function codeDir(files: ZipFiles): Promise<string> {
  const dir = tempDir('nimbus-code-');
  await extractZip(await buildZip(files), dir);
  return dir;
}

let n = 0;

export function spec(partial: Partial<FunctionSpec> & Pick<FunctionSpec, 'runtime' | 'handler' | 'codeDir'>): FunctionSpec {
  const name = partial.functionName ?? `fn-${process.pid}-${++n}`;
  return {
    functionName: name,
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    version: '$LATEST',
    layerDirs: [],
    memoryMB: 128,
    timeoutSec: 3,
    ephemeralStorageMB: 512,
    environment: {},
    region: 'us-east-1',
    logGroupName: `/aws/lambda/${name}`,
    credentials: async () => ({ accessKeyId: 'ASIATESTKEY', secretAccessKey: 'secret', sessionToken: 'token' }),
    endpointUrl: 'http://127.0.0.1:4566',
    configKey: 'v1',
    ...partial,
  };
}

/** Collects onLog deliveries by stream. */
export class LogCollector {
  readonly byStream = new Map<string, LogEvent[]>();
  readonly groups = new Set<string>();

  readonly sink = (group: string, stream: string, events: LogEvent[]): void => {
    this.groups.add(group);
    const list = this.byStream.get(stream) ?? [];
    list.push(...events);
    this.byStream.set(stream, list);
  };

  messages(stream: string): string[] {
    return (this.byStream.get(stream) ?? []).map((e) => e.message);
  }
}

export function json(buf: Buffer): any {
  return JSON.parse(buf.toString('utf8'));
}
