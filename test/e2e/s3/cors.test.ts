import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  GetBucketCorsCommand,
  DeleteBucketCorsCommand,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { hostRequest } from '../../helpers/http.js';

/**
 * CORS: the configuration API with the SDK, and what browsers see with plain fetch — the
 * OPTIONS preflight (Origin, Access-Control-Request-Method/-Headers) and the
 * Access-Control-* headers of actual requests, down to a cross-origin presigned PUT.
 */
let server: TestServer;
let s3: S3Client;
const APP = 'http://app.example.com';
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
const code = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const message = (body: string) => /<Message>([^<]*)<\/Message>/.exec(body)?.[1];

async function putCors(bucket: string, rules: CORSRule[]) {
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
}

function preflight(path: string, origin: string | undefined, method: string | undefined, headers?: string) {
  const h: Record<string, string> = {};
  if (origin !== undefined) h.origin = origin;
  if (method !== undefined) h['access-control-request-method'] = method;
  if (headers !== undefined) h['access-control-request-headers'] = headers;
  return fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: h });
}

before(async () => {
  server = await startServer();
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  for (const b of ['cors-api', 'cors-site', 'cors-none', 'cors-upload']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(new PutObjectCommand({ Bucket: 'cors-site', Key: 'data.json', Body: '{"ok":true}', ContentType: 'application/json' }));
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('PutBucketCors / GetBucketCors / DeleteBucketCors', () => {
  it('a bucket without rules answers NoSuchCORSConfiguration (404)', async () => {
    const e = await errorOf(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-api' })));
    assert.equal(e?.name, 'NoSuchCORSConfiguration');
    assert.equal(e?.message, 'The CORS configuration does not exist');
    assert.equal(e?.$metadata?.httpStatusCode, 404);
  });

  it('stores the rules and returns them as put; DeleteBucketCors removes them (204)', async () => {
    const rules: CORSRule[] = [
      { ID: 'uploads', AllowedOrigins: [APP], AllowedMethods: ['PUT', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'x-amz-request-id'], MaxAgeSeconds: 3000 },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
    ];
    await putCors('cors-api', rules);
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-api' }));
    assert.deepEqual(got.CORSRules, rules);
    const del = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-api' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-api' }))))?.name, 'NoSuchCORSConfiguration');
    // Deleting what is not there is fine too.
    assert.equal((await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-api' }))).$metadata.httpStatusCode, 204);
  });

  it("refuses what S3 refuses, in S3's words", async () => {
    const cases: Array<[CORSRule[], string, string | RegExp]> = [
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }], 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH'],
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'OPTIONS'] }], 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS'],
      [[{ AllowedOrigins: ['http://*.*.example.com'], AllowedMethods: ['GET'] }], 'InvalidRequest', 'AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.'],
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] }], 'InvalidRequest', 'AllowedHeader "x-*-*" can not have more than one wildcard.'],
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['x-amz-*'] }], 'InvalidRequest', 'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.'],
      [[{ AllowedOrigins: ['*'], AllowedMethods: [] }], 'MalformedXML', /not well-formed/],
      [[{ AllowedOrigins: [], AllowedMethods: ['GET'] }], 'MalformedXML', /not well-formed/],
      [[], 'MalformedXML', /not well-formed/],
      [Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] })), 'MalformedXML', /not well-formed/],
    ];
    for (const [rules, name, msg] of cases) {
      const e = await errorOf(putCors('cors-api', rules));
      assert.equal(e?.name, name, JSON.stringify(rules).slice(0, 120));
      assert.equal(e?.$metadata?.httpStatusCode, 400);
      if (typeof msg === 'string') assert.equal(e?.message, msg);
      else assert.match(e!.message, msg);
    }
    // 100 rules are allowed.
    await putCors('cors-api', Array.from({ length: 100 }, (_, i) => ({ AllowedOrigins: [`http://o${i}.example`], AllowedMethods: ['GET'] })));
    assert.equal((await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-api' }))).CORSRules?.length, 100);
  });

  it('answers NoSuchBucket for a bucket that does not exist', async () => {
    assert.equal((await errorOf(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-missing' }))))?.name, 'NoSuchBucket');
  });
});

describe('OPTIONS preflight', () => {
  before(async () => {
    await putCors('cors-site', [
      { AllowedOrigins: [APP], AllowedMethods: ['PUT', 'DELETE'], AllowedHeaders: ['Content-Type', 'x-amz-*'], ExposeHeaders: ['ETag', 'x-amz-version-id'], MaxAgeSeconds: 600 },
      { AllowedOrigins: ['https://*.example.org'], AllowedMethods: ['GET'], AllowedHeaders: ['*'] },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
    ]);
  });

  it('a matching rule answers 200 with the origin, its methods, the requested headers, Max-Age and Vary', async () => {
    const r = await preflight('/cors-site/uploads/a.png', APP, 'PUT', 'Content-Type, X-Amz-Date');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '');
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(r.headers.get('access-control-allow-methods'), 'PUT, DELETE');
    assert.equal(r.headers.get('access-control-allow-headers'), 'content-type, x-amz-date');
    assert.equal(r.headers.get('access-control-expose-headers'), 'ETag, x-amz-version-id');
    assert.equal(r.headers.get('access-control-max-age'), '600');
    assert.equal(r.headers.get('vary'), 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    assert.ok(r.headers.get('x-amz-request-id'));
  });

  it('a wildcard origin matches one run of characters; the wildcard header rule allows any header', async () => {
    const r = await preflight('/cors-site/data.json', 'https://cdn.eu.example.org', 'GET', 'authorization, x-custom');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://cdn.eu.example.org');
    assert.equal(r.headers.get('access-control-allow-headers'), 'authorization, x-custom');
    assert.equal(r.headers.get('access-control-max-age'), null);
    // Not https, and not under example.org: the rule does not apply (the "*" rule allows no headers).
    const other = await preflight('/cors-site/data.json', 'http://cdn.example.org', 'GET', 'x-custom');
    assert.equal(other.status, 403);
  });

  it('an AllowedOrigin of * answers Access-Control-Allow-Origin: * and no Allow-Credentials', async () => {
    const r = await preflight('/cors-site/data.json', 'http://anyone.test', 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, HEAD');
    assert.equal(r.headers.get('access-control-allow-headers'), null);
  });

  it('no matching rule (method, header or origin) is 403 AccessForbidden in S3 words', async () => {
    const expected =
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
    for (const [origin, method, headers] of [
      [APP, 'POST', undefined],
      [APP, 'PUT', 'content-type, cache-control'],
      ['http://evil.test', 'PUT', undefined],
    ] as const) {
      const r = await preflight('/cors-site/uploads/a.png', origin, method, headers);
      const body = await r.text();
      assert.equal(r.status, 403, `${origin} ${method} ${headers}`);
      assert.equal(code(body), 'AccessForbidden');
      assert.equal(message(body)?.replace(/&apos;/g, "'"), expected);
      assert.match(body, new RegExp(`<Method>${method}</Method><ResourceType>OBJECT</ResourceType>`));
      assert.equal(r.headers.get('access-control-allow-origin'), null);
    }
  });

  it('a bucket without a CORS configuration is 403 "CORS is not enabled for this bucket."', async () => {
    const r = await preflight('/cors-none', APP, 'GET');
    const body = await r.text();
    assert.equal(r.status, 403);
    assert.equal(code(body), 'AccessForbidden');
    assert.equal(message(body), 'CORSResponse: CORS is not enabled for this bucket.');
    assert.match(body, /<Method>GET<\/Method><ResourceType>BUCKET<\/ResourceType>/);
    const missing = await preflight('/no-such-bucket-here/k', APP, 'GET');
    assert.equal(missing.status, 403);
    assert.equal(message(await missing.text()), 'CORSResponse: Bucket not found');
  });

  it('a preflight without Origin or a valid Access-Control-Request-Method is 400 BadRequest', async () => {
    const noOrigin = await preflight('/cors-site/data.json', undefined, 'GET');
    const b1 = await noOrigin.text();
    assert.equal(noOrigin.status, 400);
    assert.equal(code(b1), 'BadRequest');
    assert.equal(message(b1), 'Insufficient information. Origin request header needed.');
    const noMethod = await preflight('/cors-site/data.json', APP, undefined);
    assert.equal(noMethod.status, 400);
    assert.equal(message(await noMethod.text()), 'Invalid Access-Control-Request-Method: null');
    const badMethod = await preflight('/cors-site/data.json', APP, 'PATCH');
    assert.equal(message(await badMethod.text()), 'Invalid Access-Control-Request-Method: PATCH');
  });

  it('answers virtual-hosted-style URLs the same way', async () => {
    const url = new URL(server.url);
    const r = await hostRequest(server.url, `cors-site.s3.localhost:${url.port}`, '/uploads/a.png', {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'DELETE' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], APP);
    assert.equal(r.headers['access-control-allow-methods'], 'PUT, DELETE');
  });
});

describe('actual requests with an Origin', () => {
  it('get the first matching rule’s headers, on success and on errors; a foreign origin gets none', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'cors-site', Key: 'data.json' }), { expiresIn: 60 });
    const ok = await fetch(url, { headers: { origin: 'http://page.test' } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '{"ok":true}');
    assert.equal(ok.headers.get('access-control-allow-origin'), '*');
    assert.equal(ok.headers.get('access-control-allow-methods'), 'GET, HEAD');
    assert.equal(ok.headers.get('vary'), 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    // An unsigned GET of a private object: 403, still with the headers, so the page can read the error.
    const denied = await fetch(`${server.url}/cors-site/data.json`, { headers: { origin: APP } });
    assert.equal(denied.status, 403);
    assert.equal(code(await denied.text()), 'AccessDenied');
    assert.equal(denied.headers.get('access-control-allow-origin'), '*');
    // DELETE from APP matches the first rule (its headers, not the "*" rule's).
    const del = await fetch(`${server.url}/cors-site/nothing`, { method: 'DELETE', headers: { origin: APP } });
    assert.equal(del.status, 403);
    assert.equal(del.headers.get('access-control-allow-origin'), APP);
    assert.equal(del.headers.get('access-control-expose-headers'), 'ETag, x-amz-version-id');
    // A foreign origin matches no rule: the request proceeds without CORS headers.
    const none = await fetch(`${server.url}/cors-site/nothing`, { method: 'DELETE', headers: { origin: 'http://evil.test' } });
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    // Without an Origin nothing is added.
    const plain = await fetch(url);
    assert.equal(plain.headers.get('access-control-allow-origin'), null);
    assert.equal(plain.headers.get('vary'), null);
  });

  it('a page on another origin can PUT with a presigned URL: preflight, PUT, ETag exposed; an expired URL is refused', async () => {
    await putCors('cors-upload', [{ AllowedOrigins: [APP], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }]);
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'cors-upload', Key: 'photos/cat.txt', ContentType: 'text/plain' }), { expiresIn: 60 });
    const path = new URL(putUrl).pathname;
    // 1. The browser's preflight, for the PUT with its Content-Type.
    const pre = await preflight(path, APP, 'PUT', 'content-type');
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), APP);
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
    // 2. The PUT itself.
    const put = await fetch(putUrl, { method: 'PUT', body: 'meow', headers: { origin: APP, 'content-type': 'text/plain' } });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get('access-control-allow-origin'), APP);
    assert.equal(put.headers.get('access-control-expose-headers'), 'ETag');
    assert.match(put.headers.get('etag')!, /^"[0-9a-f]{32}"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'cors-upload', Key: 'photos/cat.txt' }));
    assert.equal(await got.Body!.transformToString(), 'meow');
    assert.equal(got.ContentType, 'text/plain');
    // 3. An expired presigned PUT: 403 "Request has expired", which the page can read.
    const expired = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'cors-upload', Key: 'photos/late.txt' }), { expiresIn: 1, signingDate: new Date(Date.now() - 5000) });
    const late = await fetch(expired, { method: 'PUT', body: 'late', headers: { origin: APP } });
    const body = await late.text();
    assert.equal(late.status, 403);
    assert.equal(code(body), 'AccessDenied');
    assert.equal(message(body), 'Request has expired');
    assert.equal(late.headers.get('access-control-allow-origin'), APP);
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'cors-upload', Key: 'photos/late.txt' }))))?.name, 'NoSuchKey');
  });
});
