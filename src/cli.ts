#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startNimbus } from './main.js';
import { defaultConfig, type Config } from './server/config.js';
import { isLogLevel, log } from './util/log.js';
import { setClockOffset } from './util/clock.js';

/**
 * `nimbus start [--host] [--port] [--data-dir] [--ephemeral] [--log-level] [--fsync]`.
 * Flags win over NIMBUS_* environment variables, which win over the defaults.
 */
const usage = `Usage: nimbus start [options]

Options:
  --host <addr>        address to listen on (NIMBUS_HOST, default 127.0.0.1)
  --port <n>           port (NIMBUS_PORT, default 4566)
  --data-dir <path>    where data is kept (NIMBUS_DATA_DIR, default ./.nimbus)
  --ephemeral          keep everything in a temp dir removed at exit (NIMBUS_EPHEMERAL=1)
  --log-level <level>  debug | info | warn | error | silent (NIMBUS_LOG_LEVEL, default info)
  --fsync              fsync every acknowledged write (NIMBUS_FSYNC=1)
  --access-key <id>    root access key id (NIMBUS_ACCESS_KEY_ID, default test)
  --secret-key <key>   root secret access key (NIMBUS_SECRET_ACCESS_KEY, default test)

Environment only:
  NIMBUS_LAMBDA_IDLE_TIMEOUT_MS=<ms>  how long an idle Lambda environment stays warm (600000)
  NIMBUS_LAMBDA_RETRY_DELAYS_MS=<a,b>  delays before an async invoke's 2 retries (60000,120000)
  NIMBUS_IAM=enforce|log|off   IAM policy enforcement (default enforce); log allows
                               everything but logs what would be denied
  NIMBUS_CLOCK_OFFSET_MS=<ms>  shift Nimbus's clock by this many milliseconds (tests:
                               password expiry, report age, an S3 restore's expiry);
                               clients must sign with the same skew (SDK v3:
                               systemClockOffset)
  NIMBUS_LOGS_RETENTION_SWEEP_MS=<ms>
                               how often CloudWatch Logs events past their group's
                               retention are deleted (default 60000)
  NIMBUS_S3_RESTORE_DELAY_MS=<ms> | Expedited=<ms>,Standard=<ms>,Bulk=<ms>
                               how long an S3 RestoreObject of a GLACIER or DEEP_ARCHIVE
                               object takes, per tier (default Expedited=1000,
                               Standard=3000,Bulk=5000; measured on Nimbus's clock)
  NIMBUS_S3_LIFECYCLE_DAY_MS=<ms>
                               the length of an S3 lifecycle day (default 86400000):
                               rules' Days count in these, rounded up to the next
                               multiple of it since the epoch ("midnight UTC"); 1000
                               runs a rule's days in seconds (tests)
  NIMBUS_S3_ACCESS_LOG_FLUSH_MS=<ms>
                               how often S3 server access log records are written to
                               their target buckets (default 60000; also on shutdown)
  NIMBUS_BODY_LOG_SEGMENT_BYTES=<n>, NIMBUS_BODY_LOG_COMPACT_MS=<ms>,
  NIMBUS_BODY_LOG_RETIRE_MS=<ms>
                               the body log of small objects: segment size (67108864),
                               how often freed space is reclaimed (5000), how long a
                               reclaimed segment stays before it is deleted (30000)
`;

function fail(msg: string): never {
  process.stderr.write(`nimbus: ${msg}\n\n${usage}`);
  process.exit(2);
}

function iamMode(v: string | undefined): Config['iamMode'] {
  if (v === undefined || v === '') return defaultConfig.iamMode;
  if (v === 'enforce' || v === 'log' || v === 'off') return v;
  fail(`invalid NIMBUS_IAM ${v} (enforce, log or off)`);
}

/** NIMBUS_S3_RESTORE_DELAY_MS: one delay for every tier, or Tier=ms pairs (unnamed tiers keep their default). */
function restoreDelays(v: string | undefined): Config['s3RestoreDelaysMs'] {
  const out = { ...defaultConfig.s3RestoreDelaysMs };
  if (v === undefined || v.trim() === '') return out;
  const bad = () => fail(`invalid NIMBUS_S3_RESTORE_DELAY_MS ${v} (milliseconds, or Expedited=<ms>,Standard=<ms>,Bulk=<ms>)`);
  const ms = (t: string) => {
    const n = Number(t);
    if (t.trim() === '' || !Number.isInteger(n) || n < 0) bad();
    return n;
  };
  if (!v.includes('=')) {
    const n = ms(v);
    return { Expedited: n, Standard: n, Bulk: n };
  }
  for (const pair of v.split(',')) {
    const [tier, value] = pair.split('=').map((s) => s.trim());
    if (tier !== 'Expedited' && tier !== 'Standard' && tier !== 'Bulk') bad();
    out[tier as keyof typeof out] = ms(value ?? '');
  }
  return out;
}

function positive(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) fail(`invalid ${name} ${v} (a positive integer)`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        ephemeral: { type: 'boolean' },
        'log-level': { type: 'string' },
        fsync: { type: 'boolean' },
        'access-key': { type: 'string' },
        'secret-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  if (positionals[0] !== 'start') fail(positionals.length ? `unknown command ${positionals[0]}` : 'missing command');
  const env = process.env;
  const portText = values.port ?? env.NIMBUS_PORT;
  const port = portText !== undefined ? Number(portText) : defaultConfig.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port ${portText}`);
  const logLevel = values['log-level'] ?? env.NIMBUS_LOG_LEVEL ?? defaultConfig.logLevel;
  if (!isLogLevel(logLevel)) fail(`invalid log level ${logLevel}`);
  const truthy = (v: string | undefined) => v === '1' || v === 'true';
  const config: Partial<Config> = {
    host: values.host ?? env.NIMBUS_HOST ?? defaultConfig.host,
    port,
    dataDir: values['data-dir'] ?? env.NIMBUS_DATA_DIR ?? defaultConfig.dataDir,
    ephemeral: values.ephemeral ?? truthy(env.NIMBUS_EPHEMERAL),
    fsync: values.fsync ?? truthy(env.NIMBUS_FSYNC),
    logLevel,
    accessKeyId: values['access-key'] ?? env.NIMBUS_ACCESS_KEY_ID ?? defaultConfig.accessKeyId,
    secretAccessKey: values['secret-key'] ?? env.NIMBUS_SECRET_ACCESS_KEY ?? defaultConfig.secretAccessKey,
    // Tuning knob, not a flag: bodies up to this many bytes live inline in SQLite.
    iamMode: iamMode(env.NIMBUS_IAM),
    inlineMaxBytes: env.NIMBUS_INLINE_MAX_BYTES !== undefined ? Number(env.NIMBUS_INLINE_MAX_BYTES) : defaultConfig.inlineMaxBytes,
    lambdaIdleTimeoutMs: env.NIMBUS_LAMBDA_IDLE_TIMEOUT_MS ? Number(env.NIMBUS_LAMBDA_IDLE_TIMEOUT_MS) : defaultConfig.lambdaIdleTimeoutMs,
    lambdaRetryDelaysMs: env.NIMBUS_LAMBDA_RETRY_DELAYS_MS ? env.NIMBUS_LAMBDA_RETRY_DELAYS_MS.split(',').map(Number) : defaultConfig.lambdaRetryDelaysMs,
    logsRetentionSweepMs: positive(env.NIMBUS_LOGS_RETENTION_SWEEP_MS, 'NIMBUS_LOGS_RETENTION_SWEEP_MS') ?? defaultConfig.logsRetentionSweepMs,
    s3RestoreDelaysMs: restoreDelays(env.NIMBUS_S3_RESTORE_DELAY_MS),
    s3LifecycleDayMs: positive(env.NIMBUS_S3_LIFECYCLE_DAY_MS, 'NIMBUS_S3_LIFECYCLE_DAY_MS') ?? defaultConfig.s3LifecycleDayMs,
    s3AccessLogFlushMs: positive(env.NIMBUS_S3_ACCESS_LOG_FLUSH_MS, 'NIMBUS_S3_ACCESS_LOG_FLUSH_MS') ?? defaultConfig.s3AccessLogFlushMs,
    bodyLog: {
      segmentBytes: positive(env.NIMBUS_BODY_LOG_SEGMENT_BYTES, 'NIMBUS_BODY_LOG_SEGMENT_BYTES') ?? defaultConfig.bodyLog.segmentBytes,
      compactEveryMs: positive(env.NIMBUS_BODY_LOG_COMPACT_MS, 'NIMBUS_BODY_LOG_COMPACT_MS') ?? defaultConfig.bodyLog.compactEveryMs,
      retireDelayMs: positive(env.NIMBUS_BODY_LOG_RETIRE_MS, 'NIMBUS_BODY_LOG_RETIRE_MS') ?? defaultConfig.bodyLog.retireDelayMs,
    },
  };
  if (!Number.isFinite(config.lambdaIdleTimeoutMs!) || config.lambdaIdleTimeoutMs! < 0) fail(`invalid NIMBUS_LAMBDA_IDLE_TIMEOUT_MS ${env.NIMBUS_LAMBDA_IDLE_TIMEOUT_MS}`);
  if (config.lambdaRetryDelaysMs!.length !== 2 || config.lambdaRetryDelaysMs!.some((n) => !Number.isFinite(n) || n < 0)) fail(`invalid NIMBUS_LAMBDA_RETRY_DELAYS_MS ${env.NIMBUS_LAMBDA_RETRY_DELAYS_MS} (two delays in ms, e.g. 1000,2000)`);
  const clockOffset = env.NIMBUS_CLOCK_OFFSET_MS;
  if (clockOffset !== undefined && clockOffset !== '') {
    if (!Number.isFinite(Number(clockOffset))) fail(`invalid NIMBUS_CLOCK_OFFSET_MS ${clockOffset}`);
    setClockOffset(Number(clockOffset));
  }
  const nimbus = await startNimbus(config);
  const ms = (performance.now()).toFixed(0);
  log.info(`Nimbus ${nimbus.runtime.version} listening on ${nimbus.url} (data: ${config.ephemeral ? 'ephemeral ' : ''}${nimbus.runtime.config.dataDir}, ready in ${ms} ms)`);
  // LocalStack-aware tooling (Testcontainers) waits for this exact line.
  process.stdout.write('Ready.\n');
  let signalled = false;
  const shutdown = (sig: string) => {
    if (signalled) {
      log.warn(`${sig} again: exiting now`);
      process.exit(1);
    }
    signalled = true;
    log.info(`${sig}: finishing in-flight requests and closing storage`);
    nimbus.stop().then(
      () => process.exit(0),
      (e) => {
        log.error(`shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e) => {
  log.error(`failed to start: ${(e as Error).message}`);
  process.exit(1);
});
