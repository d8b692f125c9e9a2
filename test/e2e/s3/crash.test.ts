import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  NoSuchKey,
} from '@aws-sdk/client-s3';
import { startServer, freePort, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';

/**
 * kill -9 at arbitrary moments during a burst of concurrent PUTs and DELETEs; after a
 * restart every acknowledged write is there byte for byte, and no object is torn.
 *
 * Each worker owns its keys, so operations on a key are sequential: after the crash a key
 * must hold either the last acknowledged state or the state of the one operation that was
 * in flight (it may or may not have committed), never anything else.
 *
 * A quarter of the workers write to a versioning-enabled bucket instead: there every
 * acknowledged version (and delete marker) must survive with its id and bytes, in order,
 * plus at most the one in flight.
 */
const WORKERS = 16;
/**
 * A small body log, reclaimed every 50 ms: with keys overwritten and deleted all the time,
 * segments die during the burst, so kills also land while live bodies are being moved out
 * of them (storage/body-log.ts).
 */
const BODY_LOG_ENV = { NIMBUS_BODY_LOG_SEGMENT_BYTES: String(256 * 1024), NIMBUS_BODY_LOG_COMPACT_MS: '50', NIMBUS_BODY_LOG_RETIRE_MS: '2000' };
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
  // Versioned bucket: each key's acknowledged versions, oldest first, and the one in flight.
  type Version = { marker: true; id: string } | { marker: false; id: string; md5: string };
  const ackedVersions = new Map<string, Version[]>();
  const inflightVersion = new Map<string, { marker: boolean; md5?: string }>();
  let version = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: a restart shows every acknowledged write and no torn object`, async (t) => {
      let server: TestServer = await startServer({ dataDir, port, env: BODY_LOG_ENV });
      const s3 = client();
      if (round === 1) {
        await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
        await s3.send(new CreateBucketCommand({ Bucket: 'crash-versions' }));
        await s3.send(new PutBucketVersioningCommand({ Bucket: 'crash-versions', VersioningConfiguration: { Status: 'Enabled' } }));
      }
      let stop = false;
      let completed = 0;
      const workers = Array.from({ length: WORKERS }, async (_, w) => {
        while (!stop && w % 4 === 3) {
          const key = `w${w}/k${Math.floor(Math.random() * KEYS_PER_WORKER)}`;
          const del = Math.random() < 0.25;
          const body = del ? undefined : content(key, ++version);
          inflightVersion.set(key, { marker: del, md5: body && md5(body) });
          try {
            const id = del
              ? (await s3.send(new DeleteObjectCommand({ Bucket: 'crash-versions', Key: key }))).VersionId!
              : (await s3.send(new PutObjectCommand({ Bucket: 'crash-versions', Key: key, Body: body }))).VersionId!;
            const v: Version = del ? { marker: true, id } : { marker: false, id, md5: md5(body!) };
            ackedVersions.set(key, [...(ackedVersions.get(key) ?? []), v]);
            inflightVersion.delete(key);
            completed++;
          } catch {
            return;
          }
        }
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

      server = await startServer({ dataDir, port, env: BODY_LOG_ENV });
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

        // Versioned bucket: every acknowledged version, newest first, then at most the one in flight on top.
        const listedVersions = new Map<string, Array<{ id: string; marker: boolean; latest: boolean }>>();
        let keyMarker: string | undefined;
        let idMarker: string | undefined;
        for (;;) {
          const page = await check.send(new ListObjectVersionsCommand({ Bucket: 'crash-versions', KeyMarker: keyMarker, VersionIdMarker: idMarker, MaxKeys: 100 }));
          const entries = [
            ...(page.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, marker: false, latest: v.IsLatest! })),
            ...(page.DeleteMarkers ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, marker: true, latest: v.IsLatest! })),
          ];
          // Version ids sort newest first within a key.
          entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1));
          for (const e of entries) listedVersions.set(e.key, [...(listedVersions.get(e.key) ?? []), e]);
          if (!page.IsTruncated) break;
          keyMarker = page.NextKeyMarker;
          idMarker = page.NextVersionIdMarker;
        }
        for (const key of new Set([...ackedVersions.keys(), ...inflightVersion.keys(), ...listedVersions.keys()])) {
          const want = [...(ackedVersions.get(key) ?? [])].reverse();
          const got = listedVersions.get(key) ?? [];
          const extra = got.length - want.length;
          assert.ok(extra === 0 || (extra === 1 && inflightVersion.has(key)), `${key}: ${got.length} versions listed, ${want.length} acknowledged`);
          if (extra === 1) {
            const top = got[0]!;
            assert.equal(top.marker, inflightVersion.get(key)!.marker, `${key}: the extra version is the one in flight`);
            if (!top.marker) {
              const r = await check.send(new GetObjectCommand({ Bucket: 'crash-versions', Key: key, VersionId: top.id }));
              assert.equal(md5(Buffer.from(await r.Body!.transformToByteArray())), inflightVersion.get(key)!.md5, `${key}: the in-flight version is whole`);
            }
            ackedVersions.set(key, [...(ackedVersions.get(key) ?? []), top.marker ? { marker: true, id: top.id } : { marker: false, id: top.id, md5: inflightVersion.get(key)!.md5! }]);
          }
          assert.deepEqual(got.slice(extra).map((g) => [g.id, g.marker]), want.map((v) => [v.id, v.marker]), `${key}: every acknowledged version survives, in order`);
          assert.ok(got.every((g, i) => g.latest === (i === 0)), `${key}: only the newest is latest`);
          for (const v of want) {
            if (v.marker) continue;
            const r = await check.send(new GetObjectCommand({ Bucket: 'crash-versions', Key: key, VersionId: v.id }));
            assert.equal(md5(Buffer.from(await r.Body!.transformToByteArray())), v.md5, `${key}@${v.id}: bytes intact`);
          }
        }
        inflightVersion.clear();
        const versionsKept = [...ackedVersions.values()].reduce((n, vs) => n + vs.length, 0);
        assert.ok(versionsKept > 10 * round, `the versioned bucket holds a meaningful history (${versionsKept} versions)`);
        if (round === ROUNDS) {
          // Segments were reclaimed along the way (deleted files leave gaps in the numbering).
          const segments = readdirSync(join(dataDir, 'bodies')).map((f) => Number(f.slice(0, 8)));
          const last = Math.max(...segments);
          t.diagnostic(`body log: ${segments.length} segment files, numbered up to ${last}`);
          assert.ok(segments.length < last, `the body log reclaimed segments (${segments.length} files, numbered up to ${last})`);
        }
      } finally {
        check.destroy();
        await server.stop();
      }
    });
  }
});
