import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/storage/sqlite.js';
import { Checkpointer } from '../../src/storage/checkpointer.js';
import type { ObjectRecord } from '../../src/storage/metadata.js';

/**
 * The checkpoint worker alone never lets the WAL restart under steady writes (the writer
 * always adds frames while it copies), so the WAL used to grow to the writer's backstop
 * checkpoint (64 MiB), which then ran inside a COMMIT on the request thread. The store now
 * holds writes back for a moment once the WAL is past `restartFrames`, and the next write
 * transaction starts the WAL over (storage/checkpointer.ts).
 */
describe('WAL restarts under steady writes', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const MiB = 1024 * 1024;
  const PUTS = 6000;

  /** PUTs of 4 KiB inline bodies, 16 at a time, paced so checkpoints run between rounds; the largest WAL seen. */
  async function writeSteadily(restartFrames: number): Promise<{ dir: string; maxWal: number; keys: Map<string, string> }> {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-wal-'));
    dirs.push(dir);
    const store = new SqliteMetadataStore(dir, { restartFrames });
    const wal = join(dir, 'metadata.sqlite-wal');
    const keys = new Map<string, string>();
    let maxWal = 0;
    try {
      const bucket = await store.transaction((tx) => tx.s3.createBucket({ name: 'wal', region: 'us-east-1', createdAt: Date.now(), ownerId: 'o' }));
      for (let i = 0; i < PUTS; i += 16) {
        await Promise.all(
          Array.from({ length: 16 }, async (_, j) => {
            const key = `k/${i + j}/${randomBytes(6).toString('hex')}`;
            const body = randomBytes(4096);
            const rec: ObjectRecord = {
              bucketId: bucket.id,
              key,
              size: body.length,
              etag: `"${createHash('md5').update(body).digest('hex')}"`,
              lastModified: Date.now(),
              body: { kind: 'inline', id: '' },
              storageClass: 'STANDARD',
              headers: {},
              versionId: 'null',
            };
            await store.transaction((tx) => tx.s3.putObject(rec, body));
            keys.set(key, createHash('sha256').update(body).digest('hex'));
          }),
        );
        if (existsSync(wal)) maxWal = Math.max(maxWal, statSync(wal).size);
        if (i % 160 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      await store.close();
    }
    return { dir, maxWal, keys };
  }

  it('keeps the WAL near its restart size, where without restarts it grows with every write', async (t) => {
    const restarting = await writeSteadily(256);
    const growing = await writeSteadily(1e9);
    t.diagnostic(`largest WAL: ${(restarting.maxWal / MiB).toFixed(1)} MiB with restarts, ${(growing.maxWal / MiB).toFixed(1)} MiB without`);
    // The bodies are in the body log, so the WAL has ~1 page a PUT (the key's leaf): ~17 MiB
    // written in all. The bound is 8× the restart size, half of that, and far below the
    // 64 MiB where the writer's own checkpoint would run. Without restarts the WAL grows to
    // 8.5–16.7 MiB here (now and then the worker's checkpoint completes in a pause between
    // rounds and SQLite starts the WAL over by itself): at least twice the restarting WAL.
    assert.ok(growing.maxWal > 2 * restarting.maxWal, `without restarts the WAL reached ${(growing.maxWal / MiB).toFixed(1)} MiB, with them ${(restarting.maxWal / MiB).toFixed(1)}`);
    assert.ok(restarting.maxWal < 8 * MiB, `with restarts the WAL reached ${(restarting.maxWal / MiB).toFixed(1)} MiB`);
  });

  it('loses no write across the restarts: every body reads back after reopening', async () => {
    const { dir, keys } = await writeSteadily(256);
    const store = new SqliteMetadataStore(dir);
    try {
      const bucket = await store.s3.getBucket('wal');
      assert.ok(bucket);
      assert.equal(keys.size, PUTS);
      for (const [key, sha] of keys) {
        const o = await store.s3.getObject(bucket.id, key, { withInline: true });
        assert.ok(o?.inlineData, `${key} is missing`);
        assert.equal(createHash('sha256').update(o.inlineData).digest('hex'), sha, `${key} has other bytes`);
      }
    } finally {
      await store.close();
    }
  });

  it('kill -9 in the middle of steady writes and restarts: every acknowledged body is there after reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-wal-kill-'));
    dirs.push(dir);
    // A child process writes like writeSteadily and prints each key once its write is
    // acknowledged (after the group's COMMIT); it is killed with SIGKILL mid-stream.
    const storeUrl = new URL('../../src/storage/sqlite.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        import { SqliteMetadataStore } from ${JSON.stringify(storeUrl)};
        import { createHash, randomBytes } from 'node:crypto';
        const store = new SqliteMetadataStore(${JSON.stringify(dir)}, { restartFrames: 256 });
        const bucket = await store.transaction((tx) => tx.s3.createBucket({ name: 'wal', region: 'us-east-1', createdAt: Date.now(), ownerId: 'o' }));
        for (let i = 0; ; i += 16) {
          await Promise.all(Array.from({ length: 16 }, async (_, j) => {
            const key = 'k/' + (i + j);
            const body = randomBytes(4096);
            await store.transaction((tx) => tx.s3.putObject({ bucketId: bucket.id, key, size: 4096, etag: '"x"', lastModified: Date.now(), body: { kind: 'inline', id: '' }, storageClass: 'STANDARD', headers: {}, versionId: 'null' }, body));
            process.stdout.write(key + ' ' + createHash('sha256').update(body).digest('hex') + '\\n');
          }));
          if (i % 160 === 0) await new Promise((r) => setTimeout(r, 2));
        }
        `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const acked = new Map<string, string>();
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout!.on('data', (c: Buffer) => {
        buffered += c.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) {
          const [k, sha] = l.split(' ');
          acked.set(k!, sha!);
        }
        // ~3 pages of WAL a write: 8000 writes cross the 256-page restart size many times.
        if (acked.size >= 8000 && child.exitCode === null) child.kill('SIGKILL');
      });
    });
    assert.equal(child.signalCode, 'SIGKILL', 'the writer was killed, not finished');
    assert.ok(acked.size >= 8000, `${acked.size} writes acknowledged`);
    // Restarts did happen in the killed writer: without them its WAL would be ~50 MiB.
    const wal = statSync(join(dir, 'metadata.sqlite-wal')).size;
    assert.ok(wal < 24 * MiB, `the killed writer's WAL is ${(wal / MiB).toFixed(1)} MiB`);
    const store = new SqliteMetadataStore(dir);
    try {
      const bucket = (await store.s3.getBucket('wal'))!;
      for (const [key, sha] of acked) {
        const o = await store.s3.getObject(bucket.id, key, { withInline: true });
        assert.ok(o?.inlineData, `acknowledged ${key} is missing`);
        assert.equal(createHash('sha256').update(o.inlineData).digest('hex'), sha, `${key} has other bytes`);
      }
    } finally {
      await store.close();
    }
  });

  it('a restart asked for before the worker runs (or after it failed) lets writes go on at once', () => {
    const c = new Checkpointer(join(tmpdir(), 'nimbus-no-such.sqlite'), 'NORMAL', () => undefined);
    let resumed = false;
    c.restart(() => {
      resumed = true;
    });
    assert.equal(resumed, true);
    assert.equal(c.needRestart, false);
  });
});
