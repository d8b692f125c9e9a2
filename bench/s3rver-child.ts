/**
 * Starts s3rver (from node_modules) in its own process for the benchmark.
 *
 * The s3rver CLI only knows the access key "S3RVER"; the benchmark signs with
 * access key "test", so this launcher uses s3rver's programmatic API and
 * registers "test"/"test" on its built-in account before listening. s3rver does
 * not check SigV4 signatures (only that the access key exists), so
 * allowMismatchedSignatures is not needed.
 *
 * Usage: node --openssl-legacy-provider dist/bench/s3rver-child.js <port> <directory>
 * (s3rver's ListObjectsV2 continuation tokens use DES, a legacy cipher in OpenSSL 3.)
 */
import { createRequire } from 'node:module';

interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
}
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverCtor;
const account = require('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: S3rverAccount };
account.DUMMY_ACCOUNT.createKeyPair('test', 'test');

const port = Number(process.argv[2]);
const directory = process.argv[3];
if (!port || !directory) {
  console.error('usage: s3rver-child.js <port> <directory>');
  process.exit(2);
}

new S3rver({ port, address: '127.0.0.1', directory, silent: true })
  .run()
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
process.on('SIGTERM', () => process.exit(0));
