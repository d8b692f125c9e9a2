import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startServer, type TestServer } from '../../helpers/server.js';
import { aws, awsEnv, requireAwsCli } from '../../helpers/python.js';

/**
 * The AWS CLI (v1, botocore 1.43, CRC32 checksums on by default) against a real Nimbus
 * process, with no configuration beyond the endpoint and the test credentials.
 */
let server: TestServer;
let work: string;

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

/** `aws ...args` whose stdout is JSON. */
function awsJson<T = Record<string, unknown>>(args: string[]): T {
  const out = aws(server.url, [...args, '--output', 'json']);
  return JSON.parse(out) as T;
}

/** `aws ...args` with extra environment, never throwing. */
function awsRaw(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('aws', args, { env: awsEnv(server.url, env), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `aws ...args` without blocking, so independent calls can run side by side. */
async function awsAsync(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)('aws', args, { env: awsEnv(server.url, env), encoding: 'utf8' });
  return stdout;
}

/** `aws ...args` without blocking and without throwing: exit status, stdout and stderr. */
function awsTry(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('aws', args, { env: awsEnv(server.url, env), encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ status: err ? (typeof code === 'number' ? code : null) : 0, stdout, stderr });
    });
  });
}

/** Parses `aws s3 ls --recursive` lines: "2025-01-02 03:04:05      12 some key". */
function parseLs(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const match = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\d+) (.*)$/.exec(line);
    assert.ok(match, `unexpected aws s3 ls line: ${JSON.stringify(line)}`);
    m.set(match[2]!, Number(match[1]));
  }
  return m;
}

function tmpFile(name: string, data: Buffer | string): string {
  const p = join(work, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  return p;
}

before(async () => {
  requireAwsCli();
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'nimbus-cli-'));
});

after(async () => {
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('aws sts', () => {
  it('get-caller-identity returns the root identity of account 000000000000', () => {
    const id = awsJson<{ Account: string; Arn: string; UserId: string }>(['sts', 'get-caller-identity']);
    assert.equal(id.Account, '000000000000');
    assert.equal(id.Arn, 'arn:aws:iam::000000000000:root');
    assert.equal(typeof id.UserId, 'string');
    assert.ok(id.UserId.length > 0);
  });
});

describe('aws s3 (high-level commands)', () => {
  const bucket = 'cli-flow';
  const small = randomBytes(1234);
  // Nested folders and awkward names: spaces, '+', unicode, '%'.
  const tree: Record<string, Buffer> = {
    'top.txt': Buffer.from('top level\n'),
    'dir one/file with spaces.txt': Buffer.from('spaces\n'),
    'dir one/a+b=c.txt': Buffer.from('plus sign and equals\n'),
    'nested/deep/er/ünïcödé-文件-🚀.bin': randomBytes(777),
    'nested/deep/100% sure.txt': Buffer.from('percent\n'),
    'nested/deep/literal%20not-a-space.txt': Buffer.from('percent-encoded-looking\n'),
    'nested/empty.txt': Buffer.alloc(0),
  };

  it('mb creates the bucket', () => {
    const out = aws(server.url, ['s3', 'mb', `s3://${bucket}`]);
    assert.match(out, new RegExp(`make_bucket: ${bucket}`));
    const buckets = awsJson<{ Buckets: { Name: string }[] }>(['s3api', 'list-buckets']);
    assert.ok(buckets.Buckets.some((b) => b.Name === bucket), `${bucket} listed by list-buckets`);
  });

  it('cp uploads a small file and ls --recursive shows its key and size', () => {
    const src = tmpFile('small.bin', small);
    const out = aws(server.url, ['s3', 'cp', src, `s3://${bucket}/single/small.bin`]);
    assert.match(out, /upload: /);
    const listed = parseLs(aws(server.url, ['s3', 'ls', `s3://${bucket}`, '--recursive']));
    assert.deepEqual([...listed.entries()], [['single/small.bin', small.length]]);
  });

  it('cp downloads the file back byte for byte', () => {
    const dst = join(work, 'small.back.bin');
    aws(server.url, ['s3', 'cp', `s3://${bucket}/single/small.bin`, dst]);
    assert.ok(readFileSync(dst).equals(small), 'downloaded bytes equal the uploaded ones');
  });

  it('sync uploads a tree with nested folders and awkward names; ls --recursive lists exactly those keys', () => {
    const root = join(work, 'tree');
    // Files last changed an hour ago, as a user's files usually are: sync compares the local
    // mtime with LastModified (whole seconds), so a file written in the same second as its
    // upload could legitimately look newer on the re-sync.
    const anHourAgo = new Date(Date.now() - 3600_000);
    for (const [name, data] of Object.entries(tree)) utimesSync(tmpFile(join('tree', name), data), anHourAgo, anHourAgo);
    const out = aws(server.url, ['s3', 'sync', root, `s3://${bucket}/tree/`]);
    const uploads = out.split(/\r?\n/).filter((l) => l.includes('upload:'));
    assert.equal(uploads.length, Object.keys(tree).length, `one upload line per file:\n${out}`);

    const listed = parseLs(aws(server.url, ['s3', 'ls', `s3://${bucket}/tree/`, '--recursive']));
    const expected = new Map(Object.entries(tree).map(([k, v]) => [`tree/${k}`, v.length]));
    assert.deepEqual(new Map([...listed.entries()].sort()), new Map([...expected.entries()].sort()));
  });

  it('sync downloads the same bytes for an awkward key', () => {
    const key = 'nested/deep/er/ünïcödé-文件-🚀.bin';
    const dst = join(work, 'awkward.back.bin');
    aws(server.url, ['s3', 'cp', `s3://${bucket}/tree/${key}`, dst]);
    assert.ok(readFileSync(dst).equals(tree[key]!));
  });

  it('re-sync of the unchanged tree uploads nothing', () => {
    const out = aws(server.url, ['s3', 'sync', join(work, 'tree'), `s3://${bucket}/tree/`]);
    assert.equal(out.trim(), '', `expected no transfers, got:\n${out}`);
  });

  it('rm --recursive leaves the bucket empty', async () => {
    const out = aws(server.url, ['s3', 'rm', `s3://${bucket}`, '--recursive']);
    const deletes = out.split(/\r?\n/).filter((l) => l.includes('delete:'));
    assert.equal(deletes.length, Object.keys(tree).length + 1, `one delete line per object:\n${out}`);
    const [listOut, ls] = await Promise.all([
      awsAsync(['s3api', 'list-objects-v2', '--bucket', bucket, '--no-paginate']),
      awsTry(['s3', 'ls', `s3://${bucket}`, '--recursive']),
    ]);
    const list = JSON.parse(listOut) as { KeyCount: number; Contents?: unknown[] };
    assert.equal(list.KeyCount, 0);
    assert.equal(list.Contents, undefined);
    assert.equal(ls.stdout.trim(), '');
  });

  it('rb removes the bucket', async () => {
    const out = aws(server.url, ['s3', 'rb', `s3://${bucket}`]);
    assert.match(out, new RegExp(`remove_bucket: ${bucket}`));
    const [bucketsOut, head] = await Promise.all([awsAsync(['s3api', 'list-buckets']), awsTry(['s3api', 'head-bucket', '--bucket', bucket])]);
    const buckets = JSON.parse(bucketsOut) as { Buckets: { Name: string }[] };
    assert.ok(!buckets.Buckets.some((b) => b.Name === bucket), `${bucket} no longer listed`);
    assert.equal(head.status, 255);
    assert.match(head.stderr, /404|Not Found/);
  });
});

describe('aws s3api', () => {
  const bucket = 'cli-api';
  const body = Buffer.from('Hello, Nimbus! This is the s3api body.\n');
  let bodyPath: string;

  before(() => {
    aws(server.url, ['s3api', 'create-bucket', '--bucket', bucket]);
    bodyPath = tmpFile('api-body.txt', body);
  });

  it('put-object with --metadata and --content-type returns the md5 ETag', () => {
    const put = awsJson<{ ETag: string }>([
      's3api', 'put-object', '--bucket', bucket, '--key', 'docs/hello.txt', '--body', bodyPath,
      '--metadata', 'owner=alice,project=nimbus', '--content-type', 'text/plain; charset=utf-8',
    ]);
    assert.equal(put.ETag, `"${md5(body)}"`);
  });

  it('head-object returns ContentLength, ETag, Metadata and ContentType', () => {
    const head = awsJson<{ ContentLength: number; ETag: string; Metadata: Record<string, string>; ContentType: string }>([
      's3api', 'head-object', '--bucket', bucket, '--key', 'docs/hello.txt',
    ]);
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, `"${md5(body)}"`);
    assert.deepEqual(head.Metadata, { owner: 'alice', project: 'nimbus' });
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
  });

  it('get-object --range bytes=0-4 returns ContentRange and the first 5 bytes', () => {
    const dst = join(work, 'range.out');
    const get = awsJson<{ ContentRange: string; ContentLength: number }>([
      's3api', 'get-object', '--bucket', bucket, '--key', 'docs/hello.txt', '--range', 'bytes=0-4', dst,
    ]);
    assert.equal(get.ContentRange, `bytes 0-4/${body.length}`);
    assert.equal(get.ContentLength, 5);
    assert.ok(readFileSync(dst).equals(body.subarray(0, 5)));
  });

  it('list-objects-v2 with --prefix and --delimiter returns CommonPrefixes', async () => {
    const keys = ['photos/2024/a.jpg', 'photos/2024/b.jpg', 'photos/2025/c.jpg', 'photos/top.jpg', 'photosX/other.jpg'];
    await Promise.all(keys.map((k) => awsAsync(['s3api', 'put-object', '--bucket', bucket, '--key', k, '--body', bodyPath])));
    const list = awsJson<{ Contents?: { Key: string; Size: number }[]; CommonPrefixes?: { Prefix: string }[]; Prefix: string; Delimiter: string }>([
      's3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'photos/', '--delimiter', '/', '--no-paginate',
    ]);
    assert.deepEqual(list.CommonPrefixes?.map((p) => p.Prefix), ['photos/2024/', 'photos/2025/']);
    assert.deepEqual(list.Contents?.map((c) => [c.Key, c.Size]), [['photos/top.jpg', body.length]]);
    assert.equal(list.Prefix, 'photos/');
    assert.equal(list.Delimiter, '/');
  });

  it('list-objects (v1) lists every key in order', async () => {
    const [plainOut, delimOut] = await Promise.all([
      awsAsync(['s3api', 'list-objects', '--bucket', bucket]),
      awsAsync(['s3api', 'list-objects', '--bucket', bucket, '--delimiter', '/']),
    ]);
    const list = JSON.parse(plainOut) as { Contents: { Key: string; Size: number; ETag: string }[] };
    const expected = ['docs/hello.txt', 'photos/2024/a.jpg', 'photos/2024/b.jpg', 'photos/2025/c.jpg', 'photos/top.jpg', 'photosX/other.jpg'];
    assert.deepEqual(list.Contents.map((c) => c.Key), expected);
    for (const c of list.Contents) {
      assert.equal(c.Size, body.length);
      assert.equal(c.ETag, `"${md5(body)}"`);
    }
    const withDelim = JSON.parse(delimOut) as { CommonPrefixes: { Prefix: string }[]; Contents?: unknown[] };
    assert.deepEqual(withDelim.CommonPrefixes.map((p) => p.Prefix), ['docs/', 'photos/', 'photosX/']);
    assert.equal(withDelim.Contents, undefined);
  });

  it('copy-object copies body and metadata; head-object of the copy matches', () => {
    const copy = awsJson<{ CopyObjectResult: { ETag: string; LastModified: string } }>([
      's3api', 'copy-object', '--bucket', bucket, '--key', 'docs/copy.txt', '--copy-source', `${bucket}/docs/hello.txt`,
    ]);
    assert.equal(copy.CopyObjectResult.ETag, `"${md5(body)}"`);
    const head = awsJson<{ ContentLength: number; ETag: string; Metadata: Record<string, string>; ContentType: string }>([
      's3api', 'head-object', '--bucket', bucket, '--key', 'docs/copy.txt',
    ]);
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, `"${md5(body)}"`);
    assert.deepEqual(head.Metadata, { owner: 'alice', project: 'nimbus' });
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
  });

  it('delete-objects with a JSON --delete removes several keys', () => {
    const gone = ['photos/2024/a.jpg', 'photos/2024/b.jpg', 'photos/2025/c.jpg'];
    const del = awsJson<{ Deleted: { Key: string }[]; Errors?: unknown[] }>([
      's3api', 'delete-objects', '--bucket', bucket, '--delete', JSON.stringify({ Objects: gone.map((Key) => ({ Key })), Quiet: false }),
    ]);
    assert.deepEqual(del.Deleted.map((d) => d.Key).sort(), gone);
    assert.equal(del.Errors, undefined);
    const list = awsJson<{ Contents: { Key: string }[] }>(['s3api', 'list-objects-v2', '--bucket', bucket]);
    assert.deepEqual(list.Contents.map((c) => c.Key), ['docs/copy.txt', 'docs/hello.txt', 'photos/top.jpg', 'photosX/other.jpg']);
  });

  it('get-object-attributes returns ETag and ObjectSize', () => {
    const attrs = awsJson<{ ETag: string; ObjectSize: number; LastModified: string }>([
      's3api', 'get-object-attributes', '--bucket', bucket, '--key', 'docs/hello.txt', '--object-attributes', 'ETag', 'ObjectSize',
    ]);
    // GetObjectAttributes returns the ETag without quotes.
    assert.equal(attrs.ETag, md5(body));
    assert.equal(attrs.ObjectSize, body.length);
    assert.ok(attrs.LastModified, 'LastModified header is returned');
  });

  it('get-bucket-location is null (us-east-1)', () => {
    const loc = awsJson<{ LocationConstraint: string | null }>(['s3api', 'get-bucket-location', '--bucket', bucket]);
    assert.ok('LocationConstraint' in loc);
    assert.equal(loc.LocationConstraint, null);
  });

  it('head-bucket succeeds and reports the region', () => {
    const r = awsRaw(['s3api', 'head-bucket', '--bucket', bucket, '--output', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const head = JSON.parse(r.stdout) as { BucketRegion?: string };
    assert.equal(head.BucketRegion, 'us-east-1');
  });

  // Independent of each other: run side by side.
  describe('errors', { concurrency: true }, () => {
    it('get-object of a missing key exits 255 with NoSuchKey', async () => {
      const r = await awsTry(['s3api', 'get-object', '--bucket', bucket, '--key', 'no/such/key', join(work, 'missing.out')]);
      assert.equal(r.status, 255);
      assert.match(r.stderr, /NoSuchKey/);
    });

    it('mb of a bucket you already own in us-east-1 succeeds (legacy 200)', async () => {
      const r = await awsTry(['s3', 'mb', `s3://${bucket}`]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`make_bucket: ${bucket}`));
      // The existing objects are untouched.
      const head = JSON.parse(await awsAsync(['s3api', 'head-object', '--bucket', bucket, '--key', 'docs/hello.txt'])) as { ContentLength: number };
      assert.equal(head.ContentLength, body.length);
    });

    it('rb of a non-empty bucket fails with BucketNotEmpty', async () => {
      const r = await awsTry(['s3', 'rb', `s3://${bucket}`]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /BucketNotEmpty/);
      const loc = JSON.parse(await awsAsync(['s3api', 'get-bucket-location', '--bucket', bucket])) as { LocationConstraint: string | null };
      assert.equal(loc.LocationConstraint, null, 'bucket still exists');
    });

    it('mb with an invalid name fails with InvalidBucketName', async () => {
      const r = await awsTry(['s3', 'mb', 's3://Bad_Name']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /InvalidBucketName/);
      const buckets = JSON.parse(await awsAsync(['s3api', 'list-buckets'])) as { Buckets: { Name: string }[] };
      assert.ok(!buckets.Buckets.some((b) => b.Name === 'Bad_Name'));
    });

    it('a wrong secret key fails with SignatureDoesNotMatch', async () => {
      const r = await awsTry(['s3api', 'list-objects-v2', '--bucket', bucket], { AWS_SECRET_ACCESS_KEY: 'wrong' });
      assert.equal(r.status, 255);
      assert.match(r.stderr, /SignatureDoesNotMatch/);
    });

    it('an unknown access key id fails with InvalidAccessKeyId', async () => {
      const r = await awsTry(['s3api', 'list-objects-v2', '--bucket', bucket], { AWS_ACCESS_KEY_ID: 'AKIDNOTKNOWN0000' });
      assert.equal(r.status, 255);
      assert.match(r.stderr, /InvalidAccessKeyId/);
    });
  });

  // Independent of each other (two wait for an expiry): run side by side.
  describe('presign', { concurrency: true }, () => {
    // In us-east-1 the CLI v1 (like boto3) presigns with query-string SigV2 by default
    // (AWSAccessKeyId / Signature / Expires), which S3 accepts there.
    it('aws s3 presign gives a URL that fetch() can GET', async () => {
      const url = (await awsAsync(['s3', 'presign', `s3://${bucket}/docs/hello.txt`])).trim();
      assert.ok(url.startsWith(`${server.url}/${bucket}/docs/hello.txt?`), url);
      assert.match(url, /[?&](X-Amz-)?Signature=/);
      const res = await fetch(url);
      assert.equal(res.status, 200, res.status === 200 ? '' : await res.text());
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(body));
    });

    it('a presigned URL with --expires-in 1 is refused with 403 AccessDenied after it expires', async () => {
      const url = (await awsAsync(['s3', 'presign', `s3://${bucket}/docs/hello.txt`, '--expires-in', '1'])).trim();
      const q = new URL(url).searchParams;
      const expires = q.get('X-Amz-Expires') ?? String(Number(q.get('Expires')) - Math.floor(Date.now() / 1000));
      assert.ok(Number(expires) <= 1, `URL expires within 1 s: ${url}`);
      await new Promise((r) => setTimeout(r, 2500));
      const res = await fetch(url);
      const text = await res.text();
      assert.equal(res.status, 403, text);
      assert.match(text, /<Code>AccessDenied<\/Code>/);
      assert.match(text, /<Message>Request has expired<\/Message>/);
    });

    it('with signature_version = s3v4 configured, presign gives a SigV4 URL that works and then expires', async () => {
      const config = tmpFile('s3v4.config', '[default]\ns3 =\n  signature_version = s3v4\n');
      const env = { AWS_CONFIG_FILE: config };
      const [url, shortUrl] = await Promise.all([
        awsAsync(['s3', 'presign', `s3://${bucket}/docs/hello.txt`], env),
        awsAsync(['s3', 'presign', `s3://${bucket}/docs/hello.txt`, '--expires-in', '1'], env),
      ]);
      assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
      assert.match(shortUrl, /X-Amz-Expires=1(&|$)/m);
      const ok = await fetch(url.trim());
      assert.equal(ok.status, 200);
      assert.ok(Buffer.from(await ok.arrayBuffer()).equals(body));
      await new Promise((r) => setTimeout(r, 2500));
      const res = await fetch(shortUrl.trim());
      const text = await res.text();
      assert.equal(res.status, 403, text);
      assert.match(text, /<Code>AccessDenied<\/Code>/);
      assert.match(text, /<Message>Request has expired<\/Message>/);
    });
  });
});

describe('multipart via aws s3 cp', () => {
  const bucket = 'cli-multipart';

  it('a 20 MB file round-trips through aws s3 cp (multipart upload and ranged download)', () => {
    aws(server.url, ['s3', 'mb', `s3://${bucket}`]);
    const big = randomBytes(20 * 1024 * 1024);
    const src = tmpFile('big.bin', big);
    aws(server.url, ['s3', 'cp', src, `s3://${bucket}/big.bin`]);
    const listed = parseLs(aws(server.url, ['s3', 'ls', `s3://${bucket}`, '--recursive']));
    assert.equal(listed.get('big.bin'), big.length);
    // The CLI uploads in 8 MiB parts: 8 + 8 + 4. A multipart ETag is the md5 of the parts' md5s, then "-<parts>".
    const part = 8 * 1024 * 1024;
    const partMd5s = [0, part, 2 * part].map((o) => createHash('md5').update(big.subarray(o, o + part)).digest());
    const head = awsJson<{ ETag: string; ContentLength: number }>(['s3api', 'head-object', '--bucket', bucket, '--key', 'big.bin']);
    assert.equal(head.ContentLength, big.length);
    assert.equal(head.ETag, `"${md5(Buffer.concat(partMd5s))}-3"`);
    const dst = join(work, 'big.back.bin');
    aws(server.url, ['s3', 'cp', `s3://${bucket}/big.bin`, dst]);
    assert.equal(md5(readFileSync(dst)), md5(big));
  });
});
