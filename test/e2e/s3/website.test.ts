import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  PutBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  PutBucketWebsiteCommand,
  GetBucketWebsiteCommand,
  DeleteBucketWebsiteCommand,
  PutBucketCorsCommand,
  type WebsiteConfiguration,
} from '@aws-sdk/client-s3';
import { startServer, CREDENTIALS, REGION, type TestServer } from '../../helpers/server.js';
import { hostRequest, type PlainResponse } from '../../helpers/http.js';

/**
 * Static website hosting: the configuration API with the SDK, and the website endpoint
 * (`http://<bucket>.s3-website.localhost:<port>/`) as a browser uses it — unsigned GET and
 * HEAD, index and error documents, redirects, and access decided by the bucket policy.
 */
let server: TestServer;
let s3: S3Client;
let port: string;
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
const policy = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const publicRead = (bucket: string) => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });
const publicList = (bucket: string) => ({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` });

/** A browser's request to the bucket's website endpoint. */
function web(bucket: string, path: string, opts: { method?: string; headers?: Record<string, string>; host?: string } = {}): Promise<PlainResponse> {
  return hostRequest(server.url, opts.host ?? `${bucket}.s3-website.localhost:${port}`, path, opts);
}

async function put(bucket: string, key: string, body: string, extra: Record<string, string> = {}) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/html', ...extra }));
}

/** Makes a bucket public the way AWS requires: Block Public Access off, then a public policy. */
async function makePublic(bucket: string, statements: unknown[]) {
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy(statements) }));
}

function li(body: string, name: string): string | undefined {
  return new RegExp(`<li>${name}: ([^<]*)</li>`).exec(body)?.[1];
}

const SITE: WebsiteConfiguration = {
  IndexDocument: { Suffix: 'index.html' },
  ErrorDocument: { Key: 'errors/404.html' },
  RoutingRules: [
    { Condition: { KeyPrefixEquals: 'docs-old/' }, Redirect: { ReplaceKeyPrefixWith: 'docs/' } },
    { Condition: { KeyPrefixEquals: 'moved.html' }, Redirect: { ReplaceKeyWith: 'about.html', HttpRedirectCode: '302', Protocol: 'https', HostName: 'www.example.com' } },
    { Condition: { KeyPrefixEquals: 'reports/', HttpErrorCodeReturnedEquals: '404' }, Redirect: { HostName: 'archive.example.com', ReplaceKeyPrefixWith: 'old-reports/' } },
  ],
};

before(async () => {
  server = await startServer();
  port = new URL(server.url).port;
  s3 = new S3Client({ endpoint: server.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  for (const b of ['www', 'plain-site', 'private-site', 'redirector', 'no-website']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await put('www', 'index.html', '<h1>home</h1>');
  await put('www', 'about.html', '<h1>about</h1>');
  await put('www', 'docs/index.html', '<h1>docs</h1>');
  await put('www', 'docs/guide.html', '<h1>guide</h1>');
  await put('www', 'errors/404.html', '<h1>custom error</h1>');
  await put('www', 'old-page.html', 'gone', { WebsiteRedirectLocation: '/about.html' });
  await put('www', 'elsewhere', 'gone', { WebsiteRedirectLocation: 'https://example.com/new' });
  await put('plain-site', 'index.html', '<h1>plain</h1>');
  await put('private-site', 'index.html', '<h1>private</h1>');
  await put('no-website', 'index.html', '<h1>no website</h1>');
});

after(async () => {
  s3?.destroy();
  await server?.dispose();
});

describe('PutBucketWebsite / GetBucketWebsite / DeleteBucketWebsite', () => {
  it('a bucket without a configuration answers NoSuchWebsiteConfiguration (404)', async () => {
    const e = await errorOf(s3.send(new GetBucketWebsiteCommand({ Bucket: 'www' })));
    assert.equal(e?.name, 'NoSuchWebsiteConfiguration');
    assert.equal(e?.message, 'The specified bucket does not have a website configuration');
    assert.equal(e?.$metadata?.httpStatusCode, 404);
  });

  it('stores the configuration and returns it as put; DeleteBucketWebsite removes it (204)', async () => {
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'www', WebsiteConfiguration: SITE }));
    const got = await s3.send(new GetBucketWebsiteCommand({ Bucket: 'www' }));
    assert.deepEqual({ IndexDocument: got.IndexDocument, ErrorDocument: got.ErrorDocument, RoutingRules: got.RoutingRules }, SITE);
    assert.equal((await s3.send(new DeleteBucketWebsiteCommand({ Bucket: 'www' }))).$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(s3.send(new GetBucketWebsiteCommand({ Bucket: 'www' }))))?.name, 'NoSuchWebsiteConfiguration');
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'www', WebsiteConfiguration: SITE }));
    const redirect = { RedirectAllRequestsTo: { HostName: 'www.example.com', Protocol: 'https' as const } };
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'redirector', WebsiteConfiguration: redirect }));
    assert.deepEqual((await s3.send(new GetBucketWebsiteCommand({ Bucket: 'redirector' }))).RedirectAllRequestsTo, redirect.RedirectAllRequestsTo);
  });

  it("refuses what S3 refuses, in S3's words", async () => {
    const cases: Array<[WebsiteConfiguration, string, string | RegExp]> = [
      [{ ErrorDocument: { Key: 'e.html' } }, 'InvalidArgument', 'A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty'],
      [{ IndexDocument: { Suffix: 'a/index.html' } }, 'InvalidArgument', 'The IndexDocument Suffix is not well formed'],
      [{ IndexDocument: { Suffix: '' } }, 'InvalidArgument', 'The IndexDocument Suffix is not well formed'],
      [
        { RedirectAllRequestsTo: { HostName: 'example.com' }, IndexDocument: { Suffix: 'index.html' } },
        'InvalidArgument',
        'RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.',
      ],
      [
        { RedirectAllRequestsTo: { HostName: 'example.com', Protocol: 'ftp' as 'http' } },
        'InvalidRequest',
        'Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.',
      ],
      [
        { IndexDocument: { Suffix: 'index.html' }, RoutingRules: [{ Redirect: { ReplaceKeyWith: 'a', ReplaceKeyPrefixWith: 'b' } }] },
        'InvalidRequest',
        'You can only define ReplaceKeyPrefix or ReplaceKey but not both.',
      ],
      [
        { IndexDocument: { Suffix: 'index.html' }, RoutingRules: [{ Condition: {}, Redirect: { ReplaceKeyWith: 'a' } }] },
        'InvalidRequest',
        "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.",
      ],
      [
        { IndexDocument: { Suffix: 'index.html' }, RoutingRules: [{ Redirect: { HttpRedirectCode: '200' } }] },
        'InvalidRequest',
        'The provided HTTP redirect code (200) is not valid. Valid codes are 3XX except 300.',
      ],
    ];
    for (const [cfg, name, msg] of cases) {
      const e = await errorOf(s3.send(new PutBucketWebsiteCommand({ Bucket: 'plain-site', WebsiteConfiguration: cfg })));
      assert.equal(e?.name, name, JSON.stringify(cfg));
      assert.equal(e?.$metadata?.httpStatusCode, 400);
      if (typeof msg === 'string') assert.equal(e?.message, msg);
      else assert.match(e!.message, msg);
    }
    assert.equal((await errorOf(s3.send(new GetBucketWebsiteCommand({ Bucket: 'plain-site' }))))?.name, 'NoSuchWebsiteConfiguration');
  });
});

describe('the website endpoint', () => {
  before(async () => {
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'plain-site', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'private-site', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  });

  it('without a public bucket policy every request is 403 Forbidden (Block Public Access is on for new buckets)', async () => {
    const r = await web('private-site', '/');
    assert.equal(r.status, 403);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(r.body, /<title>403 Forbidden<\/title>/);
    assert.match(r.body, /<h1>403 Forbidden<\/h1>/);
    assert.equal(li(r.body, 'Code'), 'AccessDenied');
    assert.equal(li(r.body, 'Message'), 'Access Denied');
    assert.equal(li(r.body, 'RequestId'), r.headers['x-amz-request-id']);
    // The public policy that would open it is itself refused while Block Public Access is on.
    const e = await errorOf(s3.send(new PutBucketPolicyCommand({ Bucket: 'private-site', Policy: policy([publicRead('private-site')]) })));
    assert.equal(e?.name, 'AccessDenied');
    assert.equal((await web('private-site', '/index.html')).status, 403);
  });

  it('with Block Public Access off and a public-read policy it serves the index document for / (GET and HEAD)', async () => {
    await makePublic('www', [publicRead('www')]);
    const r = await web('www', '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, '<h1>home</h1>');
    assert.equal(r.headers['content-type'], 'text/html');
    assert.match(String(r.headers.etag), /^"[0-9a-f]{32}"$/);
    const head = await web('www', '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String('<h1>home</h1>'.length));
    // Both regional host forms name the same website endpoint.
    for (const host of [`www.s3-website-us-east-1.localhost:${port}`, `www.s3-website.us-east-1.localhost:${port}`]) {
      const regional = await web('www', '/about.html', { host });
      assert.equal(regional.status, 200, host);
      assert.equal(regional.body, '<h1>about</h1>');
    }
  });

  it('serves folders from their index document and redirects a folder without its slash (302)', async () => {
    const folder = await web('www', '/docs/');
    assert.equal(folder.status, 200);
    assert.equal(folder.body, '<h1>docs</h1>');
    const bare = await web('www', '/docs');
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.location, '/docs/');
    assert.equal((await web('www', '/docs/guide.html')).body, '<h1>guide</h1>');
    // Conditional requests work as on GetObject.
    const etag = String(folder.headers.etag);
    assert.equal((await web('www', '/docs/', { headers: { 'if-none-match': etag } })).status, 304);
  });

  it('a missing key gets the error document with the status of the error: 403 without s3:ListBucket, 404 with it', async () => {
    const denied = await web('www', '/missing.html');
    assert.equal(denied.status, 403);
    assert.equal(denied.body, '<h1>custom error</h1>');
    assert.equal(denied.headers['content-type'], 'text/html');
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'www', Policy: policy([publicRead('www'), publicList('www')]) }));
    const missing = await web('www', '/missing.html');
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '<h1>custom error</h1>');
    const head = await web('www', '/missing.html', { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body, '');
  });

  it('without an error document, errors are S3 HTML pages (404 Not Found, NoSuchKey and the key)', async () => {
    await makePublic('plain-site', [publicRead('plain-site'), publicList('plain-site')]);
    const r = await web('plain-site', '/nope/page.html');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(r.body, /^<html>\n<head><title>404 Not Found<\/title><\/head>\n<body>\n<h1>404 Not Found<\/h1>\n<ul>\n/);
    assert.equal(li(r.body, 'Code'), 'NoSuchKey');
    assert.equal(li(r.body, 'Message'), 'The specified key does not exist.');
    assert.equal(li(r.body, 'Key'), 'nope/page.html');
    assert.equal(li(r.body, 'HostId'), r.headers['x-amz-id-2']);
    assert.equal(r.headers['x-amz-error-code'], 'NoSuchKey');
    // An error document that is itself missing is reported under the original error.
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'plain-site', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'oops.html' } } }));
    const nested = await web('plain-site', '/nope/page.html');
    assert.equal(nested.status, 404);
    assert.match(nested.body, /<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document<\/h3>\n<ul>\n<li>Code: NoSuchKey<\/li>\n<li>Message: The specified key does not exist.<\/li>\n<li>Key: oops.html<\/li>\n<\/ul>/);
  });

  it('a bucket without a website configuration, or no bucket at all, is 404 with BucketName', async () => {
    const r = await web('no-website', '/');
    assert.equal(r.status, 404);
    assert.equal(li(r.body, 'Code'), 'NoSuchWebsiteConfiguration');
    assert.equal(li(r.body, 'Message'), 'The specified bucket does not have a website configuration');
    assert.equal(li(r.body, 'BucketName'), 'no-website');
    const none = await web('no-such-site', '/');
    assert.equal(none.status, 404);
    assert.equal(li(none.body, 'Code'), 'NoSuchBucket');
    assert.equal(li(none.body, 'BucketName'), 'no-such-site');
  });

  it('objects with x-amz-website-redirect-location answer 301 to it', async () => {
    const local = await web('www', '/old-page.html');
    assert.equal(local.status, 301);
    assert.equal(local.headers.location, '/about.html');
    const external = await web('www', '/elsewhere');
    assert.equal(external.status, 301);
    assert.equal(external.headers.location, 'https://example.com/new');
  });

  it('routing rules: a key-prefix replacement, a key replacement to another host, and an error-code condition', async () => {
    const prefix = await web('www', '/docs-old/guide.html');
    assert.equal(prefix.status, 301);
    assert.equal(prefix.headers.location, `http://www.s3-website.localhost:${port}/docs/guide.html`);
    const key = await web('www', '/moved.html');
    assert.equal(key.status, 302);
    assert.equal(key.headers.location, 'https://www.example.com/about.html');
    // reports/2019.pdf does not exist: the 404 triggers the rule instead of the error document.
    const onError = await web('www', '/reports/2019.pdf');
    assert.equal(onError.status, 301);
    assert.equal(onError.headers.location, 'http://archive.example.com/old-reports/2019.pdf');
    // A report that exists is served: the rule applies only on that error.
    await put('www', 'reports/2024.html', '<h1>2024</h1>');
    assert.equal((await web('www', '/reports/2024.html')).body, '<h1>2024</h1>');
  });

  it('RedirectAllRequestsTo sends every request to the other host (301), keeping the path', async () => {
    const r = await web('redirector', '/some/page.html?x=1');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://www.example.com/some/page.html?x=1');
  });

  it('only GET and HEAD: other methods are 405 Method Not Allowed pages', async () => {
    const r = await web('www', '/index.html', { method: 'PUT' });
    assert.equal(r.status, 405);
    assert.match(r.body, /<title>405 Method Not Allowed<\/title>/);
    assert.equal(li(r.body, 'Code'), 'MethodNotAllowed');
    assert.equal(li(r.body, 'Method'), 'PUT');
    assert.equal(li(r.body, 'ResourceType'), 'OBJECT');
  });

  it("answers with the bucket's CORS headers for a page on another origin", async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: 'www', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }));
    const r = await web('www', '/about.html', { headers: { origin: 'http://fonts.test' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], '*');
  });

  it('the S3 API of the same bucket is unaffected', async () => {
    const api = await fetch(`${server.url}/www/docs/`);
    // An unsigned S3 GET of "docs/" is GetObject of that key (which does not exist), not the index.
    assert.equal(api.status, 404);
    assert.match(await api.text(), /<Code>NoSuchKey<\/Code>/);
  });
});
