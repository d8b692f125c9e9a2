import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from '@node-rs/crc32';
import { startServer, type TestServer } from '../../helpers/server.js';
import { requireBoto3, runPython } from '../../helpers/python.js';

/**
 * boto3 with default client settings (only endpoint_url set), driven by small Python
 * scripts that print one JSON line which the test parses and checks.
 */
let server: TestServer;
let work: string;
let scriptNo = 0;

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

/** The base64 of the big-endian CRC32, as S3 reports ChecksumCRC32. */
function crc32b64(b: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
}

/** S3 lists keys in UTF-8 byte order. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function dedent(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

const PRELUDE = dedent(`
  import os, sys, json, base64, hashlib, io
  import boto3
  from botocore.config import Config
  from botocore.exceptions import ClientError
  ENDPOINT = os.environ['NIMBUS_URL']
  s3 = boto3.client('s3', endpoint_url=ENDPOINT)
  def emit(x):
      print(json.dumps(x, default=str))
  def b64(b):
      return base64.b64encode(b).decode()
  def unb64(s):
      return base64.b64decode(s)
  def client_error(e):
      return {'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'code': e.response['Error'].get('Code'), 'message': e.response['Error'].get('Message')}
`);

/**
 * Runs PRELUDE + script with ARGS = input (passed through a JSON file, so large inputs do
 * not hit the argv limit) and returns the JSON of the script's last line of output.
 */
function py<T = Record<string, any>>(script: string, input: unknown = null): T {
  const argsPath = join(work, `args-${++scriptNo}.json`);
  writeFileSync(argsPath, JSON.stringify(input));
  const full = `${PRELUDE}\nARGS = json.load(open(${JSON.stringify(argsPath)}, encoding='utf-8'))\n${dedent(script)}`;
  let out: string;
  try {
    out = runPython(server.url, full);
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`python failed:\n${err.stderr || err.message}\nstdout:\n${err.stdout ?? ''}`);
  }
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

before(async () => {
  requireBoto3();
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'nimbus-boto3-'));
});

after(async () => {
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('boto3 S3 (default client settings)', () => {
  const bucket = 'boto-main';
  const small = randomBytes(1000);

  it('create_bucket', () => {
    const r = py(`
      r = s3.create_bucket(Bucket=ARGS['bucket'])
      names = [b['Name'] for b in s3.list_buckets()['Buckets']]
      emit({'status': r['ResponseMetadata']['HTTPStatusCode'], 'location': r.get('Location'), 'names': names})
    `, { bucket });
    assert.equal(r.status, 200);
    assert.equal(r.location, `/${bucket}`);
    assert.ok(r.names.includes(bucket), `list_buckets includes ${bucket}: ${r.names}`);
  });

  it('put_object of bytes returns the md5 ETag and the CRC32 boto3 sent', () => {
    const r = py(`
      r = s3.put_object(Bucket=ARGS['bucket'], Key='bytes.bin', Body=unb64(ARGS['body']))
      emit({'etag': r['ETag'], 'crc32': r.get('ChecksumCRC32')})
    `, { bucket, body: small.toString('base64') });
    assert.equal(r.etag, `"${md5(small)}"`);
    assert.equal(r.crc32, crc32b64(small));
  });

  it('get_object returns the bytes; with ChecksumMode=ENABLED the ChecksumCRC32 too', () => {
    const r = py(`
      plain = s3.get_object(Bucket=ARGS['bucket'], Key='bytes.bin')
      body = plain['Body'].read()
      checked = s3.get_object(Bucket=ARGS['bucket'], Key='bytes.bin', ChecksumMode='ENABLED')
      body2 = checked['Body'].read()
      emit({'body': b64(body), 'body2': b64(body2), 'etag': plain['ETag'], 'length': plain['ContentLength'], 'crc32': checked.get('ChecksumCRC32')})
    `, { bucket });
    assert.ok(Buffer.from(r.body, 'base64').equals(small));
    assert.ok(Buffer.from(r.body2, 'base64').equals(small));
    assert.equal(r.length, small.length);
    assert.equal(r.etag, `"${md5(small)}"`);
    assert.equal(r.crc32, crc32b64(small));
  });

  it('upload_fileobj / download_fileobj of a 3 MB object', () => {
    const big = randomBytes(3 * 1024 * 1024);
    const src = join(work, 'three-mb.bin');
    const dst = join(work, 'three-mb.back.bin');
    writeFileSync(src, big);
    const r = py(`
      with open(ARGS['src'], 'rb') as f:
          s3.upload_fileobj(f, ARGS['bucket'], 'big/three-mb.bin')
      with open(ARGS['dst'], 'wb') as f:
          s3.download_fileobj(ARGS['bucket'], 'big/three-mb.bin', f)
      h = s3.head_object(Bucket=ARGS['bucket'], Key='big/three-mb.bin')
      emit({'length': h['ContentLength'], 'etag': h['ETag']})
    `, { bucket, src, dst });
    assert.equal(r.length, big.length);
    assert.equal(r.etag, `"${md5(big)}"`, 'below the 8 MB multipart threshold: a single PUT, so the ETag is the md5');
    assert.ok(readFileSync(dst).equals(big), 'downloaded bytes equal the uploaded ones');
  });

  describe('conditional requests', () => {
    it('head_object with IfNoneMatch=<etag> is a 304', () => {
      const r = py(`
        etag = s3.head_object(Bucket=ARGS['bucket'], Key='bytes.bin')['ETag']
        try:
            s3.head_object(Bucket=ARGS['bucket'], Key='bytes.bin', IfNoneMatch=etag)
            emit({'etag': etag, 'error': None})
        except ClientError as e:
            emit({'etag': etag, 'error': client_error(e)})
      `, { bucket });
      assert.equal(r.etag, `"${md5(small)}"`);
      assert.ok(r.error, 'expected a ClientError');
      assert.equal(r.error.status, 304);
    });

    it("get_object with IfMatch='\"wrong\"' is a 412 PreconditionFailed", () => {
      const r = py(`
        try:
            s3.get_object(Bucket=ARGS['bucket'], Key='bytes.bin', IfMatch='"wrong"')
            emit({'error': None})
        except ClientError as e:
            emit({'error': client_error(e)})
      `, { bucket });
      assert.ok(r.error, 'expected a ClientError');
      assert.equal(r.error.status, 412);
      assert.equal(r.error.code, 'PreconditionFailed');
    });

    it("put_object with IfNoneMatch='*' on an existing key is a 412 and leaves the object alone", () => {
      const r = py(`
        try:
            s3.put_object(Bucket=ARGS['bucket'], Key='bytes.bin', Body=b'overwrite attempt', IfNoneMatch='*')
            err = None
        except ClientError as e:
            err = client_error(e)
        body = s3.get_object(Bucket=ARGS['bucket'], Key='bytes.bin')['Body'].read()
        fresh = s3.put_object(Bucket=ARGS['bucket'], Key='if-none-match-new', Body=b'first', IfNoneMatch='*')
        emit({'error': err, 'body': b64(body), 'fresh': fresh['ResponseMetadata']['HTTPStatusCode']})
      `, { bucket });
      assert.ok(r.error, 'expected a ClientError');
      assert.equal(r.error.status, 412);
      assert.equal(r.error.code, 'PreconditionFailed');
      assert.ok(Buffer.from(r.body, 'base64').equals(small), 'the object was not overwritten');
      assert.equal(r.fresh, 200, "IfNoneMatch='*' on a new key succeeds");
    });
  });

  it('list_objects_v2 with a delimiter returns CommonPrefixes', () => {
    const keys = ['tree/a/1.txt', 'tree/a/b/3.txt', 'tree/b/4.txt', 'tree/c.txt', 'treeX/5.txt'];
    const r = py(`
      for k in ARGS['keys']:
          s3.put_object(Bucket=ARGS['bucket'], Key=k, Body=k.encode())
      top = s3.list_objects_v2(Bucket=ARGS['bucket'], Prefix='tree/', Delimiter='/')
      sub = s3.list_objects_v2(Bucket=ARGS['bucket'], Prefix='tree/a/', Delimiter='/')
      def shape(r):
          return {'contents': [[c['Key'], c['Size']] for c in r.get('Contents', [])], 'prefixes': [p['Prefix'] for p in r.get('CommonPrefixes', [])], 'keyCount': r['KeyCount'], 'delimiter': r.get('Delimiter')}
      emit({'top': shape(top), 'sub': shape(sub)})
    `, { bucket, keys });
    assert.deepEqual(r.top.prefixes, ['tree/a/', 'tree/b/']);
    assert.deepEqual(r.top.contents, [['tree/c.txt', 'tree/c.txt'.length]]);
    assert.equal(r.top.keyCount, 3, 'KeyCount counts keys and common prefixes');
    assert.equal(r.top.delimiter, '/');
    assert.deepEqual(r.sub.prefixes, ['tree/a/b/']);
    assert.deepEqual(r.sub.contents, [['tree/a/1.txt', 'tree/a/1.txt'.length]]);
  });

  it('copy_object with MetadataDirective=REPLACE replaces metadata and content type', () => {
    const body = Buffer.from('copy me, please');
    const r = py(`
      s3.put_object(Bucket=ARGS['bucket'], Key='copy/src', Body=unb64(ARGS['body']), Metadata={'colour': 'blue', 'size': 'small'}, ContentType='text/plain')
      c = s3.copy_object(Bucket=ARGS['bucket'], Key='copy/dst', CopySource={'Bucket': ARGS['bucket'], 'Key': 'copy/src'},
                         MetadataDirective='REPLACE', Metadata={'shape': 'round'}, ContentType='application/json')
      src = s3.head_object(Bucket=ARGS['bucket'], Key='copy/src')
      dst = s3.head_object(Bucket=ARGS['bucket'], Key='copy/dst')
      body = s3.get_object(Bucket=ARGS['bucket'], Key='copy/dst')['Body'].read()
      emit({'copyEtag': c['CopyObjectResult']['ETag'], 'src': {'meta': src['Metadata'], 'type': src['ContentType']},
            'dst': {'meta': dst['Metadata'], 'type': dst['ContentType'], 'etag': dst['ETag'], 'length': dst['ContentLength']}, 'body': b64(body)})
    `, { bucket, body: body.toString('base64') });
    assert.equal(r.copyEtag, `"${md5(body)}"`);
    assert.deepEqual(r.dst.meta, { shape: 'round' });
    assert.equal(r.dst.type, 'application/json');
    assert.equal(r.dst.etag, `"${md5(body)}"`);
    assert.equal(r.dst.length, body.length);
    assert.ok(Buffer.from(r.body, 'base64').equals(body));
    assert.deepEqual(r.src.meta, { colour: 'blue', size: 'small' }, 'the source keeps its metadata');
    assert.equal(r.src.type, 'text/plain');
  });

  it('delete_objects with Quiet=True reports nothing and deletes the keys', () => {
    const doomed = ['del/1', 'del/2', 'del/3', 'del/never-existed'];
    const r = py(`
      for k in ['del/1', 'del/2', 'del/3', 'del/keep']:
          s3.put_object(Bucket=ARGS['bucket'], Key=k, Body=k.encode())
      d = s3.delete_objects(Bucket=ARGS['bucket'], Delete={'Objects': [{'Key': k} for k in ARGS['doomed']], 'Quiet': True})
      left = [c['Key'] for c in s3.list_objects_v2(Bucket=ARGS['bucket'], Prefix='del/').get('Contents', [])]
      emit({'status': d['ResponseMetadata']['HTTPStatusCode'], 'deleted': d.get('Deleted'), 'errors': d.get('Errors'), 'left': left})
    `, { bucket, doomed });
    assert.equal(r.status, 200);
    assert.equal(r.deleted, null, 'Quiet mode lists no Deleted entries');
    assert.equal(r.errors, null);
    assert.deepEqual(r.left, ['del/keep']);
  });

  it('generate_presigned_url for put_object and get_object, used with urllib', () => {
    const body = randomBytes(2048);
    const r = py(`
      import urllib.request, urllib.error
      put_url = s3.generate_presigned_url('put_object', Params={'Bucket': ARGS['bucket'], 'Key': 'presigned/obj.bin', 'ContentType': 'application/octet-stream'}, ExpiresIn=300)
      get_url = s3.generate_presigned_url('get_object', Params={'Bucket': ARGS['bucket'], 'Key': 'presigned/obj.bin'}, ExpiresIn=300)
      def call(req):
          try:
              with urllib.request.urlopen(req) as res:
                  return {'status': res.status, 'body': b64(res.read()), 'type': res.headers.get('Content-Type'), 'etag': res.headers.get('ETag')}
          except urllib.error.HTTPError as e:
              return {'status': e.code, 'body': b64(e.read()), 'type': None, 'etag': None}
      put = call(urllib.request.Request(put_url, data=unb64(ARGS['body']), method='PUT', headers={'Content-Type': 'application/octet-stream'}))
      get = call(urllib.request.Request(get_url))
      emit({'putUrl': put_url, 'getUrl': get_url, 'put': put, 'get': get})
    `, { bucket, body: body.toString('base64') });
    assert.ok(r.putUrl.startsWith(`${server.url}/${bucket}/presigned/obj.bin?`), r.putUrl);
    assert.equal(r.put.status, 200, `PUT ${r.putUrl} -> ${Buffer.from(r.put.body, 'base64').toString()}`);
    assert.equal(r.put.etag, `"${md5(body)}"`);
    assert.equal(r.get.status, 200, `GET ${r.getUrl} -> ${Buffer.from(r.get.body, 'base64').toString()}`);
    assert.ok(Buffer.from(r.get.body, 'base64').equals(body));
    assert.equal(r.get.type, 'application/octet-stream');
  });

  it("generate_presigned_url with Config(signature_version='s3v4'), used with urllib", () => {
    const body = randomBytes(512);
    const r = py(`
      import urllib.request, urllib.error
      v4 = boto3.client('s3', endpoint_url=ENDPOINT, config=Config(signature_version='s3v4'))
      put_url = v4.generate_presigned_url('put_object', Params={'Bucket': ARGS['bucket'], 'Key': 'presigned/v4.bin'}, ExpiresIn=300)
      get_url = v4.generate_presigned_url('get_object', Params={'Bucket': ARGS['bucket'], 'Key': 'presigned/v4.bin'}, ExpiresIn=300)
      def call(req):
          try:
              with urllib.request.urlopen(req) as res:
                  return {'status': res.status, 'body': b64(res.read())}
          except urllib.error.HTTPError as e:
              return {'status': e.code, 'body': b64(e.read())}
      put = call(urllib.request.Request(put_url, data=unb64(ARGS['body']), method='PUT'))
      get = call(urllib.request.Request(get_url))
      emit({'putUrl': put_url, 'put': put, 'get': get})
    `, { bucket, body: body.toString('base64') });
    assert.match(r.putUrl, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    assert.equal(r.put.status, 200, Buffer.from(r.put.body, 'base64').toString());
    assert.equal(r.get.status, 200, Buffer.from(r.get.body, 'base64').toString());
    assert.ok(Buffer.from(r.get.body, 'base64').equals(body));
  });

  it("Config(s3={'addressing_style': 'path'}) sends path-style requests that work", () => {
    const body = Buffer.from('path style body');
    const r = py(`
      urls = []
      p = boto3.client('s3', endpoint_url=ENDPOINT, config=Config(s3={'addressing_style': 'path'}))
      p.meta.events.register('before-send.s3', lambda request, **kw: urls.append(request.url))
      p.put_object(Bucket=ARGS['bucket'], Key='path/style.txt', Body=unb64(ARGS['body']))
      got = p.get_object(Bucket=ARGS['bucket'], Key='path/style.txt')['Body'].read()
      keys = [c['Key'] for c in p.list_objects_v2(Bucket=ARGS['bucket'], Prefix='path/')['Contents']]
      emit({'urls': urls, 'body': b64(got), 'keys': keys})
    `, { bucket, body: body.toString('base64') });
    assert.equal(r.urls.length, 3);
    for (const u of r.urls as string[]) assert.ok(u.startsWith(`${server.url}/${bucket}`), `path-style URL: ${u}`);
    assert.ok(Buffer.from(r.body, 'base64').equals(body));
    assert.deepEqual(r.keys, ['path/style.txt']);
  });
});

describe('boto3 list_objects_v2 paginator over 2500 keys', () => {
  const bucket = 'boto-pages';
  // Unordered, varied names so the listing order is Nimbus's doing, not the upload order.
  const keys = Array.from({ length: 2500 }, (_, i) => `g${i % 3}/${randomBytes(3).toString('hex')}-${i}`);

  it('returns 3 pages of at most 1000 keys and exactly the keys, sorted', () => {
    const r = py(`
      from concurrent.futures import ThreadPoolExecutor
      s3.create_bucket(Bucket=ARGS['bucket'])
      def put(k):
          s3.put_object(Bucket=ARGS['bucket'], Key=k, Body=k.encode())
      with ThreadPoolExecutor(max_workers=16) as ex:
          list(ex.map(put, ARGS['keys']))
      pages = []
      listed = []
      for page in s3.get_paginator('list_objects_v2').paginate(Bucket=ARGS['bucket'], MaxKeys=1000, PaginationConfig={'PageSize': 1000}):
          ks = [c['Key'] for c in page.get('Contents', [])]
          pages.append({'count': len(ks), 'keyCount': page['KeyCount'], 'truncated': page['IsTruncated'], 'maxKeys': page['MaxKeys']})
          listed.extend(ks)
      prefixes = []
      for page in s3.get_paginator('list_objects_v2').paginate(Bucket=ARGS['bucket'], Delimiter='/'):
          prefixes.extend(p['Prefix'] for p in page.get('CommonPrefixes', []))
      emit({'pages': pages, 'listed': listed, 'prefixes': prefixes})
    `, { bucket, keys });
    assert.deepEqual(r.pages, [
      { count: 1000, keyCount: 1000, truncated: true, maxKeys: 1000 },
      { count: 1000, keyCount: 1000, truncated: true, maxKeys: 1000 },
      { count: 500, keyCount: 500, truncated: false, maxKeys: 1000 },
    ]);
    assert.deepEqual(r.listed, [...keys].sort(byteOrder));
    assert.deepEqual(r.prefixes, ['g0/', 'g1/', 'g2/']);
  });
});

describe('boto3 awkward keys', () => {
  const bucket = 'boto-keys';
  const marker = `nimbus-marker-${randomBytes(8).toString('hex')}`;
  // Bigger than the inline limit, so every body is written as a file.
  const pad = 100 * 1024;
  const bodyOf = (k: string): Buffer => Buffer.concat([Buffer.from(`${marker}:${k}:`), Buffer.alloc(pad, 'x')]);
  const keys = [
    'unicode/ünïcödé/文件 🚀.txt',
    'with space/a b.txt',
    'plus+sign+',
    'percent%25%2F%zz%',
    'question?mark=1&x=2',
    'hash#tag',
    '../../etc/passwd',
    'dot/./segment/../x',
    'a//double-slash',
    ' leading and trailing ',
    'tilde~star*(parens)!\'quote\'',
  ];

  it('round-trip through put / get / head / list', () => {
    const r = py(`
      s3.create_bucket(Bucket=ARGS['bucket'])
      out = {}
      for k in ARGS['keys']:
          body = (ARGS['marker'] + ':' + k + ':').encode() + b'x' * ARGS['pad']
          put = s3.put_object(Bucket=ARGS['bucket'], Key=k, Body=body)
          got = s3.get_object(Bucket=ARGS['bucket'], Key=k)['Body'].read()
          head = s3.head_object(Bucket=ARGS['bucket'], Key=k)
          out[k] = {'put': put['ETag'], 'md5': hashlib.md5(got).hexdigest(), 'start': got[:200].decode(), 'length': head['ContentLength']}
      listed = [c['Key'] for c in s3.list_objects_v2(Bucket=ARGS['bucket'])['Contents']]
      v1 = [c['Key'] for c in s3.list_objects(Bucket=ARGS['bucket'])['Contents']]
      emit({'objects': out, 'listed': listed, 'v1': v1})
    `, { bucket, keys, marker, pad });
    for (const k of keys) {
      const body = bodyOf(k);
      const o = r.objects[k];
      assert.ok(o, `no result for ${JSON.stringify(k)}`);
      assert.ok(o.start.startsWith(`${marker}:${k}:`), `body of ${JSON.stringify(k)}`);
      assert.equal(o.md5, md5(body), `body of ${JSON.stringify(k)}`);
      assert.equal(o.put, `"${md5(body)}"`, `ETag of ${JSON.stringify(k)}`);
      assert.equal(o.length, body.length, `length of ${JSON.stringify(k)}`);
    }
    const sorted = [...keys].sort(byteOrder);
    assert.deepEqual(r.listed, sorted);
    assert.deepEqual(r.v1, sorted);
  });

  it('no key escaped into the file system: blobs/ holds only hex-named files, no passwd anywhere', () => {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        found.push(p);
        if (statSync(p).isDirectory()) walk(p);
      }
    };
    walk(server.dataDir);
    assert.ok(!found.some((p) => /(^|\/)(passwd|etc)$/.test(p)), `unexpected entries: ${found.filter((p) => /passwd|etc/.test(p))}`);

    const blobs = join(server.dataDir, 'blobs');
    let files = 0;
    const walkBlobs = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        assert.match(name, /^[0-9a-f]+$/, `non-hex name in blobs/: ${p}`);
        if (statSync(p).isDirectory()) walkBlobs(p);
        else files++;
      }
    };
    walkBlobs(blobs);
    assert.ok(files >= keys.length, `blobs/ holds the ${keys.length} bodies (found ${files} files)`);

    // The places '../../etc/passwd' would land relative to the data dir or its folders.
    for (const base of [server.dataDir, blobs, join(server.dataDir, 'tmp')]) {
      const escaped = join(base, '..', '..', 'etc', 'passwd');
      if (escaped === '/etc/passwd') continue;
      assert.ok(!existsSync(escaped), `${escaped} must not exist`);
    }
    assert.ok(!existsSync(join(dirname(server.dataDir), 'etc')), 'no etc/ next to the data dir');
    if (existsSync('/etc/passwd')) assert.ok(!readFileSync('/etc/passwd', 'utf8').includes(marker), '/etc/passwd untouched');
  });
});

describe('boto3 STS', () => {
  it('get_caller_identity', () => {
    const r = py(`
      sts = boto3.client('sts', endpoint_url=ENDPOINT)
      r = sts.get_caller_identity()
      emit({'account': r['Account'], 'arn': r['Arn'], 'userId': r['UserId']})
    `);
    assert.equal(r.account, '000000000000');
    assert.equal(r.arn, 'arn:aws:iam::000000000000:root');
    assert.equal(typeof r.userId, 'string');
    assert.ok(r.userId.length > 0);
  });
});
