import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from './util/paths.js';
import type { AddressInfo } from 'node:net';
import { defaultConfig, type Config } from './server/config.js';
import { createHttpServer } from './server/http.js';
import { ServiceResolver } from './server/resolve-service.js';
import type { Runtime } from './server/runtime.js';
import { buildRegistry } from './services/registry.js';
import { IamAccounts } from './services/iam/state.js';
import { SqliteMetadataStore } from './storage/sqlite.js';
import { FileBlobStore } from './storage/blobs.js';
import { log, setLogLevel } from './util/log.js';
import { setLambdaLogWriter, shutdownLambda } from './services/lambda/runtime.js';
import { appendLogEvents } from './services/logs/ingest.js';
import { resumeAsyncInvocations, stopAsyncInvocations } from './services/lambda/async.js';
import { startLogsBackground } from './services/logs/retention.js';
import { startLifecycleWorker } from './services/s3/lifecycle-worker.js';
import { recordServiceAction, startAccessLogs } from './services/s3/access-log.js';

export interface Nimbus {
  url: string;
  port: number;
  runtime: Runtime;
  stop(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = join(packageRoot(), 'package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Opens storage, builds the services and listens. Resolves once requests are served. */
export async function startNimbus(overrides: Partial<Config> = {}): Promise<Nimbus> {
  const startedAt = Date.now();
  const config: Config = { ...defaultConfig, ...overrides };
  setLogLevel(config.logLevel);
  const dataDir = config.ephemeral ? mkdtempSync(join(tmpdir(), 'nimbus-')) : resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const store = new SqliteMetadataStore(dataDir, {
    fsync: config.fsync,
    logSegmentBytes: config.bodyLog.segmentBytes,
    compactEveryMs: config.bodyLog.compactEveryMs,
    logRetireMs: config.bodyLog.retireDelayMs,
  });
  const blobs = new FileBlobStore(dataDir, config.fsync);
  blobs.init();
  const iam = new IamAccounts(store, config.accountId, { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey });
  await iam.load();
  const runtime: Runtime = {
    config: { ...config, dataDir },
    version: packageVersion(),
    services: new ServiceResolver(buildRegistry()),
    credentials: iam,
    iam,
    store,
    blobs,
    url: '',
  };
  // Every Lambda invocation's START/END/REPORT lines and output go to CloudWatch Logs.
  setLambdaLogWriter((rt, t, events) => {
    appendLogEvents(rt, { accountId: t.accountId, region: t.region, group: t.group, stream: t.stream, events }).catch((e) => log.warn(`lambda logs to ${t.group}: ${(e as Error).message}`));
  });
  // Which buckets have server access logging, before the first request.
  const accessLogs = await startAccessLogs(runtime);
  const http = createHttpServer(runtime);
  await new Promise<void>((res, rej) => {
    http.server.once('error', rej);
    http.server.listen(config.port, config.host, () => res());
  });
  const port = (http.server.address() as AddressInfo).port;
  // What functions reach Nimbus at: loopback, whatever interface Nimbus listens on.
  const local = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  runtime.url = `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
  // Sweep blobs orphaned by a crash, after we are already serving. (Service models load on
  // their first request: ~20 ms once, and no memory for services nobody uses.)
  setImmediate(() => {
    blobs.sweepOrphans((id) => store.s3.hasFileBlob(id), startedAt).catch((e) => log.warn(`orphan sweep failed: ${(e as Error).message}`));
    // Asynchronous Lambda invocations acknowledged before a restart still run.
    resumeAsyncInvocations(runtime).catch((e) => log.warn(`resuming async invocations failed: ${(e as Error).message}`));
  });
  const logs = startLogsBackground(store, config.logsRetentionSweepMs);
  // S3 lifecycle rules, carried out once a (lifecycle) day and after a change of rules.
  const lifecycle = startLifecycleWorker(runtime, recordServiceAction);
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    port,
    runtime,
    stop: () =>
      (stopping ??= (async () => {
        await http.close(config.shutdownTimeoutMs);
        stopAsyncInvocations(runtime);
        iam.stop();
        await lifecycle.stop();
        // After the last request and lifecycle action: their records are delivered too.
        await accessLogs.stop();
        await shutdownLambda(runtime);
        await logs.stop();
        await store.close();
        await blobs.close();
        if (config.ephemeral) rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}
