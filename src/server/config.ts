import type { LogLevel } from '../util/log.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  ephemeral: boolean;
  logLevel: LogLevel;
  region: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bodies up to this size are stored inline in the metadata store. */
  inlineMaxBytes: number;
  /**
   * The body log (small bodies, storage/body-log.ts): its segment size, how often its space
   * is reclaimed, and how long a reclaimed segment stays for requests holding an id into it.
   * NIMBUS_BODY_LOG_SEGMENT_BYTES, NIMBUS_BODY_LOG_COMPACT_MS, NIMBUS_BODY_LOG_RETIRE_MS
   * (tests make them small).
   */
  bodyLog: { segmentBytes: number; compactEveryMs: number; retireDelayMs: number };
  /** fsync every acknowledged write (survives power loss, not only kill -9). */
  fsync: boolean;
  /** How long shutdown waits for in-flight requests. */
  shutdownTimeoutMs: number;
  /** enforce (default): IAM decides; log: allow but log denials; off: no evaluation. */
  iamMode: 'enforce' | 'log' | 'off';
  /** How long an unused Lambda execution environment stays warm. */
  lambdaIdleTimeoutMs: number;
  /**
   * Delays before the retries of a failed asynchronous invocation (AWS: about 1 and 2
   * minutes); NIMBUS_LAMBDA_RETRY_DELAYS_MS=1000,2000 shortens them, e.g. for tests.
   */
  lambdaRetryDelaysMs: number[];
  /** How often expired CloudWatch Logs events (past their group's retention) are deleted. */
  logsRetentionSweepMs: number;
  /**
   * How long an S3 RestoreObject takes per retrieval tier, on Nimbus's clock (AWS: minutes
   * to hours). NIMBUS_S3_RESTORE_DELAY_MS=<ms> sets every tier, or
   * NIMBUS_S3_RESTORE_DELAY_MS=Expedited=100,Standard=200,Bulk=300 each one.
   */
  s3RestoreDelaysMs: { Expedited: number; Standard: number; Bulk: number };
  /**
   * The length of S3 lifecycle's day: rules count days of this many milliseconds and round
   * to its "midnights" (multiples of it since the epoch). Tests run a rule's days in
   * seconds with NIMBUS_S3_LIFECYCLE_DAY_MS=1000.
   */
  s3LifecycleDayMs: number;
  /** How long S3 server access log records are gathered before they are written as a log object. */
  s3AccessLogFlushMs: number;
}

export const defaultConfig: Config = {
  host: '127.0.0.1',
  port: 4566,
  dataDir: './.nimbus',
  ephemeral: false,
  logLevel: 'info',
  region: 'us-east-1',
  accountId: '000000000000',
  accessKeyId: 'test',
  secretAccessKey: 'test',
  inlineMaxBytes: 64 * 1024,
  bodyLog: { segmentBytes: 64 * 1024 * 1024, compactEveryMs: 5000, retireDelayMs: 30_000 },
  fsync: false,
  shutdownTimeoutMs: 10_000,
  iamMode: 'enforce',
  lambdaIdleTimeoutMs: 10 * 60_000,
  lambdaRetryDelaysMs: [60_000, 120_000],
  logsRetentionSweepMs: 60_000,
  s3RestoreDelaysMs: { Expedited: 1000, Standard: 3000, Bulk: 5000 },
  s3LifecycleDayMs: 86_400_000,
  s3AccessLogFlushMs: 60_000,
};
