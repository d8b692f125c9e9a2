import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey } from '@aws-sdk/client-s3';
import { startServer, freePort, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';

/**
 * kill -9 at arbitrary moments during a burst of concurrent PUTs and DELETEs; after a
 * restart every acknowledged write is there byte for byte, and no object is torn.
 *
 * Each worker owns its keys, so operations on a key are sequential: after the crash a key
 * must hold either the last acknowledged state or the state of the one operation that was
 * in flight (it may or may not have committed), never anything else.
 */
const WORKERS = 16;
const KEYS_PER_WORKER = 12;
const ROUNDS = 4;

type State = { exists: false } | { exists: true; md5: string; size: number };

function content(key: string, version: number): Buffer {
  // Sizes straddle the inline threshold (64 KiB): both storage paths are exercised.
  const sizes = [0, 1, 1000, 40_000, 65_536, 65_537, 150_000, 400_000];
  const size = sizes[(version * 7 + key.length) % sizes.length]!;
  const seed = createHash('sha256').update(`${key}#${version}`).digest();
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) seed.copy(buf, i, 0, Math.min(32, size - i));
  return buf;
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

let dataDir: string;
let port: number;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'nimbus-crash-'));
  port = await freePort();
});

after(() => rmSync(dataDir, { recursive: true, force: true }));

function client(): S3Client {
  // No retries: an operation is acknowledged exactly when its one attempt succeeded.
  return new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
}

describe('durability under kill -9', () => {
  // Acknowledged state per key, carried across rounds; plus the op in flight at the kill.
  const acked = new Map<string, State>();
  const inflight = new Map<string, State>();
  let version = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: a restart shows every acknowledged write and no torn object`, async () => {
      let server: TestServer = await startServer({ dataDir, port });
      const s3 = client();
      if (round === 1) await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
      let stop = false;
      let completed = 0;
      const workers = Array.from({ length: WORKERS }, async (_, w) => {
        while (!stop) {
          const key = `w${w}/k${Math.floor(Math.random() * KEYS_PER_WORKER)}`;
          const del = Math.random() < 0.25;
          const v = ++version;
          const body = del ? undefined : content(key, v);
          const next: State = del ? { exists: false } : { exists: true, md5: md5(body!), size: body!.length };
          inflight.set(key, next);
          try {
            if (del) await s3.send(new DeleteObjectCommand({ Bucket: 'crash', Key: key }));
            else await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body }));
            acked.set(key, next);
            inflight.delete(key);
            completed++;
          } catch {
            // The server died mid-request: the outcome of this op is unknown; the worker stops.
            return;
          }
        }
      });
      // Kill at a different moment each round, while requests are in flight.
      await new Promise((r) => setTimeout(r, 150 + round * 170));
      await server.kill();
      stop = true;
      await Promise.all(workers);
      s3.destroy();
      assert.ok(completed > 20, `the burst made progress before the kill (${completed} ops)`);

      server = await startServer({ dataDir, port });
      const check = client();
      try {
        assert.deepEqual(readdirSync(join(dataDir, 'tmp')), [], 'temp files from the crash are removed at start-up');
        const listed = new Set<string>();
        let token: string | undefined;
        do {
          const page = await check.send(new ListObjectsV2Command({ Bucket: 'crash', ContinuationToken: token }));
          for (const c of page.Contents ?? []) listed.add(c.Key!);
          token = page.NextContinuationToken;
        } while (token);
        const keys = new Set([...acked.keys(), ...inflight.keys()]);
        for (const key of keys) {
          const allowed = [acked.get(key) ?? { exists: false as const }];
          if (inflight.has(key)) allowed.push(inflight.get(key)!);
          let actual: State;
          try {
            const r = await check.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
            const bytes = Buffer.from(await r.Body!.transformToByteArray());
            actual = { exists: true, md5: md5(bytes), size: bytes.length };
            assert.equal(r.ETag, `"${actual.md5}"`, `${key}: the stored ETag matches the bytes`);
          } catch (e) {
            if (!(e instanceof NoSuchKey)) throw e;
            actual = { exists: false };
          }
          assert.ok(
            allowed.some((a) => JSON.stringify(a) === JSON.stringify(actual)),
            `${key}: after the crash found ${JSON.stringify(actual)}, allowed ${JSON.stringify(allowed)}`,
          );
          assert.equal(listed.has(key), actual.exists, `${key}: listing agrees with GET`);
          // From now on the observed state is the acknowledged one.
          acked.set(key, actual);
        }
        inflight.clear();
      } finally {
        check.destroy();
        await server.stop();
      }
    });
  }
});
