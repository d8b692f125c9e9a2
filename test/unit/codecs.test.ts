import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorOf } from '../helpers/assert.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../../src/server/context.js';
import type { Runtime } from '../../src/server/runtime.js';
import { parseQuery } from '../../src/protocol/sigv4/canonical.js';
import { loadModel, type ServiceModel } from '../../src/protocol/model.js';
import { RestRouter } from '../../src/protocol/rest.js';
import { fromXml, parseXmlDocument, toXml, XmlSyntaxError } from '../../src/protocol/xml-shapes.js';
import { QueryCodec } from '../../src/protocol/query.js';
import { JsonCodec } from '../../src/protocol/json.js';
import { RestJsonCodec } from '../../src/protocol/rest-json.js';
import { RestXmlCodec } from '../../src/protocol/rest-xml.js';
import { CommonErrors, ServiceError } from '../../src/protocol/errors.js';
import { escapeXml } from '../../src/util/xml.js';
import { buildRegistry } from '../../src/services/registry.js';
import type { ServiceDef } from '../../src/services/types.js';

/**
 * The protocol codecs driven by the real vendored botocore models: REST routing (S3,
 * Lambda), model-driven XML, the query protocol (IAM, STS), awsJson (SQS, Logs) and
 * rest-json (Lambda), including each protocol's error rendering.
 */

const s3 = loadModel('s3');
const sts = loadModel('sts');
const iam = loadModel('iam');
const sqs = loadModel('sqs');
const lambda = loadModel('lambda');
const logs = loadModel('logs');
const S3NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

const registry = new Map<string, ServiceDef>(buildRegistry().map((s) => [s.name, s]));
const service = (name: string) => registry.get(name)!;

/** A RequestContext over minimal fakes of node's request, response and the runtime. */
function makeCtx(method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer): RequestContext {
  const req = { method, url, headers } as unknown as IncomingMessage;
  const resHeaders = new Map<string, string>();
  const res = {
    getHeader: (n: string) => resHeaders.get(n.toLowerCase()),
    setHeader: (n: string, v: string) => resHeaders.set(n.toLowerCase(), v),
  } as unknown as ServerResponse;
  const runtime = { config: { region: 'us-east-1' } } as unknown as Runtime;
  const ctx = new RequestContext(req, res, runtime);
  ctx.query = parseQuery(ctx.rawQuery);
  if (body !== undefined) ctx.body = Buffer.from(body);
  return ctx;
}


// ---------------------------------------------------------------------------------------
// REST routing
// ---------------------------------------------------------------------------------------

describe('RestRouter: S3 operations from the real model', () => {
  const router = new RestRouter(s3);
  const route = (method: string, url: string, headers: Record<string, string> = {}) => {
    const ctx = makeCtx(method, url, headers);
    const m = router.match(method, ctx.rawPath, ctx);
    return m && { op: m.op.name, labels: m.labels };
  };
  const copy = { 'x-amz-copy-source': '/src/key' };

  const cases: Array<[string, string, Record<string, string>, string, Record<string, string>]> = [
    ['PUT', '/b/k', {}, 'PutObject', { Bucket: 'b', Key: 'k' }],
    ['PUT', '/b/k', copy, 'CopyObject', { Bucket: 'b', Key: 'k' }],
    ['PUT', '/b/k?partNumber=1&uploadId=x', {}, 'UploadPart', { Bucket: 'b', Key: 'k' }],
    ['PUT', '/b/k?partNumber=1&uploadId=x', copy, 'UploadPartCopy', { Bucket: 'b', Key: 'k' }],
    ['GET', '/b?list-type=2', {}, 'ListObjectsV2', { Bucket: 'b' }],
    ['GET', '/b', {}, 'ListObjects', { Bucket: 'b' }],
    ['GET', '/b/', {}, 'ListObjects', { Bucket: 'b' }],
    ['GET', '/b?location', {}, 'GetBucketLocation', { Bucket: 'b' }],
    ['GET', '/', {}, 'ListBuckets', {}],
    ['POST', '/b?delete', {}, 'DeleteObjects', { Bucket: 'b' }],
    ['HEAD', '/b', {}, 'HeadBucket', { Bucket: 'b' }],
    ['HEAD', '/b/k', {}, 'HeadObject', { Bucket: 'b', Key: 'k' }],
    ['DELETE', '/b/k', {}, 'DeleteObject', { Bucket: 'b', Key: 'k' }],
    ['DELETE', '/b', {}, 'DeleteBucket', { Bucket: 'b' }],
    ['PUT', '/b', {}, 'CreateBucket', { Bucket: 'b' }],
    ['GET', '/b/a/b/c.txt', {}, 'GetObject', { Bucket: 'b', Key: 'a/b/c.txt' }],
    ['GET', '/b/a//b/../c', {}, 'GetObject', { Bucket: 'b', Key: 'a//b/../c' }],
    ['GET', '/b/caf%C3%A9%20%2B%2F%3F%25', {}, 'GetObject', { Bucket: 'b', Key: 'café +/?%' }],
    ['GET', '/b/k?partNumber=2', {}, 'GetObject', { Bucket: 'b', Key: 'k' }],
    ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload', { Bucket: 'b', Key: 'k' }],
    ['POST', '/b/k?uploadId=x', {}, 'CompleteMultipartUpload', { Bucket: 'b', Key: 'k' }],
    ['DELETE', '/b/k?uploadId=x', {}, 'AbortMultipartUpload', { Bucket: 'b', Key: 'k' }],
    ['GET', '/b/k?uploadId=x', {}, 'ListParts', { Bucket: 'b', Key: 'k' }],
    ['GET', '/b?uploads', {}, 'ListMultipartUploads', { Bucket: 'b' }],
    ['GET', '/b?versioning', {}, 'GetBucketVersioning', { Bucket: 'b' }],
    ['GET', '/b/k?tagging', {}, 'GetObjectTagging', { Bucket: 'b', Key: 'k' }],
    ['GET', '/b/k?attributes', { 'x-amz-object-attributes': 'ETag' }, 'GetObjectAttributes', { Bucket: 'b', Key: 'k' }],
  ];
  for (const [method, url, headers, op, labels] of cases) {
    it(`${method} ${url}${Object.keys(headers).length ? ' + ' + Object.keys(headers).join(',') : ''} → ${op}`, () => {
      assert.deepEqual(route(method, url, headers), { op, labels });
    });
  }

  it('a method no route has → undefined', () => {
    assert.equal(route('PATCH', '/b/k'), undefined);
  });

  it('broken percent-encoding in a key → InvalidURI', () => {
    assert.equal(errorOf(() => route('GET', '/b/%E0%A4%A')).code, 'InvalidURI');
  });

  it('virtual-hosted style: the codec prefixes the Host bucket', () => {
    const ctx = makeCtx('PUT', '/dir/k.txt');
    ctx.hostBucket = 'vb';
    const m = service('s3').codec.resolve(ctx, s3)!;
    assert.equal(m.op.name, 'PutObject');
    assert.deepEqual(m.labels, { Bucket: 'vb', Key: 'dir/k.txt' });
    const root = makeCtx('GET', '/?list-type=2');
    root.hostBucket = 'vb';
    assert.equal(service('s3').codec.resolve(root, s3)!.op.name, 'ListObjectsV2');
  });
});

describe('RestRouter: Lambda operations from the real model', () => {
  const router = new RestRouter(lambda);
  const route = (method: string, url: string) => {
    const ctx = makeCtx(method, url);
    const m = router.match(method, ctx.rawPath, ctx);
    return m && { op: m.op.name, labels: m.labels };
  };

  it('GET /2015-03-31/functions/myfn → GetFunction', () => {
    assert.deepEqual(route('GET', '/2015-03-31/functions/myfn'), { op: 'GetFunction', labels: { FunctionName: 'myfn' } });
  });
  it('POST /2015-03-31/functions/myfn/invocations → Invoke', () => {
    assert.deepEqual(route('POST', '/2015-03-31/functions/myfn/invocations'), { op: 'Invoke', labels: { FunctionName: 'myfn' } });
  });
  it('GET /2015-03-31/functions → ListFunctions', () => {
    assert.deepEqual(route('GET', '/2015-03-31/functions'), { op: 'ListFunctions', labels: {} });
  });
  it('a function ARN in the path is decoded', () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:myfn';
    assert.deepEqual(route('GET', `/2015-03-31/functions/${encodeURIComponent(arn)}`), { op: 'GetFunction', labels: { FunctionName: arn } });
  });
  it('an unknown path → undefined', () => {
    assert.equal(route('GET', '/2015-03-31/nothing/here'), undefined);
  });

  it('RestJsonCodec.parse of Invoke: URI label, headers, query and the blob payload', () => {
    const ctx = makeCtx('POST', '/2015-03-31/functions/myfn/invocations?Qualifier=7', { 'x-amz-invocation-type': 'Event', 'x-amz-log-type': 'Tail' }, '{"a":1}');
    const codec = new RestJsonCodec();
    const match = codec.resolve(ctx, lambda)!;
    const input = codec.parse(ctx, lambda, match) as Record<string, unknown>;
    assert.equal(input.FunctionName, 'myfn');
    assert.equal(input.InvocationType, 'Event');
    assert.equal(input.LogType, 'Tail');
    assert.equal(input.Qualifier, '7');
    assert.ok(Buffer.isBuffer(input.Payload));
    assert.equal((input.Payload as Buffer).toString(), '{"a":1}');
  });
});

// ---------------------------------------------------------------------------------------
// Model-driven XML
// ---------------------------------------------------------------------------------------

describe('xml-shapes: toXml / fromXml with the S3 model', () => {
  const listing = {
    IsTruncated: true,
    Contents: [
      { Key: 'a.txt', LastModified: new Date('2024-01-02T03:04:05.000Z'), ETag: '"etag-a"', Size: 3, StorageClass: 'STANDARD' },
      { Key: 'b&<c>.txt', LastModified: new Date('2024-02-03T04:05:06.000Z'), ETag: '"etag-b"', Size: 0, StorageClass: 'STANDARD' },
    ],
    Name: 'bucket',
    Prefix: '',
    Delimiter: '/',
    MaxKeys: 2,
    CommonPrefixes: [{ Prefix: 'dir/' }, { Prefix: 'é/' }],
    KeyCount: 4,
    NextContinuationToken: 'tok',
  };

  it('ListObjectsV2Output: flattened Contents and CommonPrefixes, no wrappers', () => {
    const xml = toXml(s3, { shape: 'ListObjectsV2Output' }, listing, 'ListBucketResult', S3NS);
    assert.equal(
      xml,
      `<ListBucketResult xmlns="${S3NS}"><IsTruncated>true</IsTruncated>` +
        '<Contents><Key>a.txt</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;etag-a&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>' +
        '<Contents><Key>b&amp;&lt;c&gt;.txt</Key><LastModified>2024-02-03T04:05:06.000Z</LastModified><ETag>&quot;etag-b&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>' +
        '<Name>bucket</Name><Prefix></Prefix><Delimiter>/</Delimiter><MaxKeys>2</MaxKeys>' +
        '<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>é/</Prefix></CommonPrefixes>' +
        '<KeyCount>4</KeyCount><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>',
    );
  });

  it('ListObjectsV2Output round-trips', () => {
    const doc = parseXmlDocument(toXml(s3, { shape: 'ListObjectsV2Output' }, listing, 'ListBucketResult', S3NS));
    assert.equal(doc.name, 'ListBucketResult');
    assert.deepEqual(fromXml(s3, { shape: 'ListObjectsV2Output' }, doc.node), listing);
  });

  it('a flattened list of one item still parses to an array', () => {
    const one = { IsTruncated: false, Contents: [{ Key: 'only', Size: 1 }], CommonPrefixes: [{ Prefix: 'p/' }] };
    const doc = parseXmlDocument(toXml(s3, { shape: 'ListObjectsV2Output' }, one, 'ListBucketResult', S3NS));
    assert.deepEqual(fromXml(s3, { shape: 'ListObjectsV2Output' }, doc.node), one);
  });

  it('Delete: flattened <Object> list parsed from what an SDK sends, and round-tripped', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="${S3NS}"><Object><Key>a</Key></Object><Object><Key> spaced key </Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>`;
    const doc = parseXmlDocument(body);
    assert.equal(doc.name, 'Delete');
    const expected = { Objects: [{ Key: 'a' }, { Key: ' spaced key ', VersionId: 'v1' }], Quiet: true };
    assert.deepEqual(fromXml(s3, { shape: 'Delete' }, doc.node), expected);
    const xml = toXml(s3, { shape: 'Delete' }, expected, 'Delete');
    assert.equal(xml, '<Delete><Object><Key>a</Key></Object><Object><Key> spaced key </Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>');
    assert.deepEqual(fromXml(s3, { shape: 'Delete' }, parseXmlDocument(xml).node), expected);
  });

  it('Grantee: xsi:type attribute with its namespace declaration, both ways', () => {
    const acl = {
      Grants: [
        { Grantee: { DisplayName: 'd', ID: 'id1', Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
      ],
      Owner: { ID: 'owner' },
    };
    const xml = toXml(s3, { shape: 'AccessControlPolicy' }, acl, 'AccessControlPolicy', S3NS);
    const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
    assert.equal(
      xml,
      `<AccessControlPolicy xmlns="${S3NS}"><AccessControlList>` +
        `<Grant><Grantee ${XSI} xsi:type="CanonicalUser"><DisplayName>d</DisplayName><ID>id1</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
        `<Grant><Grantee ${XSI} xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
        '</AccessControlList><Owner><ID>owner</ID></Owner></AccessControlPolicy>',
    );
    assert.deepEqual(fromXml(s3, { shape: 'AccessControlPolicy' }, parseXmlDocument(xml).node), acl);
  });

  it('keys with CR, LF, tab and markup characters survive toXml → fromXml', () => {
    const keys = ['line\r\nbreak', 'cr\ronly', 'tab\there', 'lf\n', 'a&b', '<tag>', `q"'`, ' lead and trail '];
    const value = { Objects: keys.map((Key) => ({ Key })) };
    const doc = parseXmlDocument(toXml(s3, { shape: 'Delete' }, value, 'Delete', S3NS));
    assert.deepEqual(fromXml(s3, { shape: 'Delete' }, doc.node), value);
  });

  it('numeric character references (as the JS SDK writes CR, LF, NEL, LS) are decoded', () => {
    // @aws-sdk/xml-builder escapes "\r" "\n" "\u0085" "\u2028" in element text as
    // &#x0D; &#x0A; &#x85; &#x2028;; other clients write decimal references.
    const refs: Array<[string, string]> = [
      ['&#13;', '\r'],
      ['&#xD;', '\r'],
      ['&#x0D;', '\r'],
      ['&#x0A;', '\n'],
      ['&#10;', '\n'],
      ['&#x85;', '\u0085'],
      ['&#x2028;', '\u2028'],
      ['&#233;', 'é'],
    ];
    for (const [ref, ch] of refs) {
      const doc = parseXmlDocument(`<Delete><Object><Key>a${ref}b</Key></Object></Delete>`);
      assert.deepEqual(fromXml(s3, { shape: 'Delete' }, doc.node), { Objects: [{ Key: `a${ch}b` }] }, ref);
    }
  });

  it('malformed documents and DOCTYPEs → XmlSyntaxError', () => {
    for (const bad of ['<Delete><Object></Delete>', 'not xml', '<a/><b/>', '<!DOCTYPE x [<!ENTITY e "x">]><Delete/>']) {
      assert.throws(() => parseXmlDocument(bad), XmlSyntaxError, bad);
    }
  });
});

describe('RestXmlCodec (S3)', () => {
  const codec = service('s3').codec;

  it('parse DeleteObjects: bucket label and the XML payload', () => {
    const ctx = makeCtx('POST', '/b?delete', {}, `<Delete xmlns="${S3NS}"><Object><Key>x/y</Key></Object><Quiet>false</Quiet></Delete>`);
    const match = codec.resolve(ctx, s3)!;
    assert.deepEqual(codec.parse(ctx, s3, match), { Bucket: 'b', Delete: { Objects: [{ Key: 'x/y' }], Quiet: false } });
  });

  it('parse: malformed XML body → MalformedXML', () => {
    const ctx = makeCtx('POST', '/b?delete', {}, '<Delete><Object>');
    const match = codec.resolve(ctx, s3)!;
    const e = errorOf(() => codec.parse(ctx, s3, match));
    assert.equal(e.code, 'MalformedXML');
    assert.equal(e.status, 400);
  });

  it('parse PutObject headers: metadata map, integers, timestamps', () => {
    const ctx = makeCtx('PUT', '/b/k', {
      'content-type': 'text/plain',
      'content-length': '5',
      'x-amz-meta-color': 'blue',
      'x-amz-meta-size': 'xl',
      expires: 'Wed, 21 Oct 2015 07:28:00 GMT',
      'x-amz-object-lock-retain-until-date': '2030-01-02T03:04:05Z',
    });
    const match = codec.resolve(ctx, s3)!;
    const input = codec.parse(ctx, s3, match) as Record<string, unknown>;
    assert.equal(input.ContentType, 'text/plain');
    assert.equal(input.ContentLength, 5);
    assert.deepEqual(input.Metadata, { color: 'blue', size: 'xl' });
    // Expires is a string in the current model; the lock date is an iso8601 timestamp.
    assert.equal(input.Expires, 'Wed, 21 Oct 2015 07:28:00 GMT');
    assert.deepEqual(input.ObjectLockRetainUntilDate, new Date('2030-01-02T03:04:05Z'));
  });

  it('serialize ListObjectsV2: XML declaration, <ListBucketResult> root in the S3 namespace', () => {
    const ctx = makeCtx('GET', '/b?list-type=2');
    const spec = codec.serialize(ctx, s3, s3.operations.ListObjectsV2!, { Name: 'b', IsTruncated: false, KeyCount: 0, MaxKeys: 1000, Prefix: '' });
    assert.equal(spec.status, 200);
    assert.equal(spec.headers['content-type'], 'application/xml');
    assert.equal(
      spec.body,
      `${XML_DECL}<ListBucketResult xmlns="${S3NS}"><IsTruncated>false</IsTruncated><Name>b</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><KeyCount>0</KeyCount></ListBucketResult>`,
    );
  });

  it('serialize GetBucketLocation: text root', () => {
    const spec = codec.serialize(makeCtx('GET', '/b?location'), s3, s3.operations.GetBucketLocation!, { LocationConstraint: 'eu-west-1' });
    assert.equal(spec.body, `${XML_DECL}<LocationConstraint xmlns="${S3NS}">eu-west-1</LocationConstraint>`);
  });

  it('serialize HeadObject: header bindings only, rfc822 dates, metadata prefix', () => {
    const spec = codec.serialize(makeCtx('HEAD', '/b/k'), s3, s3.operations.HeadObject!, {
      ContentLength: 5,
      ETag: '"e"',
      LastModified: new Date('2024-01-02T03:04:05Z'),
      Metadata: { Color: 'blue' },
    });
    assert.equal(spec.status, 200);
    assert.equal(spec.body, undefined);
    assert.equal(spec.headers['content-length'], '5');
    assert.equal(spec.headers.etag, '"e"');
    assert.equal(spec.headers['last-modified'], 'Tue, 02 Jan 2024 03:04:05 GMT');
    assert.equal(spec.headers['x-amz-meta-color'], 'blue');
  });

  it('serializeError: S3 <Error> document with extra fields, RequestId and HostId', () => {
    const ctx = makeCtx('GET', '/b/k');
    ctx.requestId = 'REQ123';
    ctx.res.setHeader('x-amz-id-2', 'HOST/ID=');
    const err = new ServiceError('NoSuchKey', { status: 404, message: 'The specified key does not exist.' }, { Key: 'a&b' });
    const spec = codec.serializeError(ctx, err);
    assert.equal(spec.status, 404);
    assert.equal(spec.headers['content-type'], 'application/xml');
    assert.equal(
      spec.body,
      `${XML_DECL}<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><RequestId>REQ123</RequestId><HostId>HOST/ID=</HostId></Error>`,
    );
  });

  it('serializeError: HEAD has no body; extra headers are kept', () => {
    const ctx = makeCtx('HEAD', '/b/k');
    const err = new ServiceError('PermanentRedirect', { status: 301, message: 'moved' }, { headers: { 'x-amz-bucket-region': 'eu-west-1' } });
    const spec = codec.serializeError(ctx, err);
    assert.equal(spec.status, 301);
    assert.equal(spec.body, undefined);
    assert.deepEqual(spec.headers, { 'x-amz-bucket-region': 'eu-west-1' });
  });

  it('a RestXmlCodec without S3 options renders an error the same way', () => {
    const codec2 = new RestXmlCodec({ malformedXml: () => CommonErrors.MalformedInput() });
    const ctx = makeCtx('GET', '/x');
    ctx.requestId = 'R';
    const spec = codec2.serializeError(ctx, CommonErrors.AccessDenied());
    assert.equal(spec.status, 403);
    assert.equal(spec.body, `${XML_DECL}<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R</RequestId><HostId></HostId></Error>`);
  });
});

// ---------------------------------------------------------------------------------------
// Query protocol
// ---------------------------------------------------------------------------------------

describe('QueryCodec (IAM, STS)', () => {
  const codec = new QueryCodec();
  const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

  it('resolve: Action from the form body, or from the query string', () => {
    const ctx = makeCtx('POST', '/', form, 'Action=CreateUser&Version=2010-05-08&UserName=bob');
    assert.equal(codec.resolve(ctx, iam)!.op.name, 'CreateUser');
    assert.equal(codec.resolve(makeCtx('GET', '/?Action=GetCallerIdentity&Version=2011-06-15'), sts)!.op.name, 'GetCallerIdentity');
    assert.equal(codec.resolve(makeCtx('POST', '/', form, 'Version=2010-05-08'), iam), undefined);
  });

  it('resolve: unknown Action → InvalidAction', () => {
    const e = errorOf(() => codec.resolve(makeCtx('POST', '/', form, 'Action=MakeCoffee&Version=2010-05-08'), iam));
    assert.equal(e.code, 'InvalidAction');
    assert.equal(e.status, 400);
  });

  it('parse CreateUser: scalars and a member list of structures (Tags.member.N.Key/Value)', () => {
    const body =
      'Action=CreateUser&Version=2010-05-08&UserName=bob&Path=%2Fdev%2F' +
      '&Tags.member.1.Key=team&Tags.member.1.Value=a+b%26c' +
      '&Tags.member.2.Key=env&Tags.member.2.Value=prod' +
      '&Tags.member.10.Key=late&Tags.member.10.Value=x';
    const ctx = makeCtx('POST', '/', form, body);
    const input = codec.parse(ctx, iam, codec.resolve(ctx, iam)!);
    // Members are read from 1 up to the first gap, as AWS does.
    assert.deepEqual(input, {
      Path: '/dev/',
      UserName: 'bob',
      Tags: [
        { Key: 'team', Value: 'a b&c' },
        { Key: 'env', Value: 'prod' },
      ],
    });
  });

  it('parse: "Tags=" sends an empty list; absent members stay absent', () => {
    const ctx = makeCtx('POST', '/', form, 'Action=CreateUser&Version=2010-05-08&UserName=bob&Tags=');
    assert.deepEqual(codec.parse(ctx, iam, codec.resolve(ctx, iam)!), { UserName: 'bob', Tags: [] });
  });

  it('parse STS AssumeRole: integers, lists of strings and of structures', () => {
    const body =
      'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s&DurationSeconds=900' +
      '&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FP&TransitiveTagKeys.member.1=k1&TransitiveTagKeys.member.2=k2';
    const ctx = makeCtx('POST', '/', form, body);
    assert.deepEqual(codec.parse(ctx, sts, codec.resolve(ctx, sts)!), {
      RoleArn: 'arn:aws:iam::123456789012:role/r',
      RoleSessionName: 's',
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/P' }],
      DurationSeconds: 900,
      TransitiveTagKeys: ['k1', 'k2'],
    });
  });

  it('parse: a non-numeric integer → InvalidArgument', () => {
    const ctx = makeCtx('POST', '/', form, 'Action=AssumeRole&Version=2011-06-15&RoleArn=a&RoleSessionName=s&DurationSeconds=soon');
    assert.equal(errorOf(() => codec.parse(ctx, sts, codec.resolve(ctx, sts)!)).code, 'InvalidArgument');
  });

  // IAM and STS inputs have no maps; the query map encodings are exercised on a model of
  // the two forms AWS uses: "Name.entry.N.key/value" and flattened "Attribute.N.Name/Value".
  const mapModel = {
    metadata: { apiVersion: '2020-01-01', protocol: 'query', endpointPrefix: 'x', serviceId: 'X' },
    operations: { SetThings: { name: 'SetThings', http: { method: 'POST', requestUri: '/' }, input: { shape: 'SetThingsRequest' } } },
    shapes: {
      SetThingsRequest: {
        type: 'structure',
        members: { Tags: { shape: 'TagMap' }, Attributes: { shape: 'AttrMap', locationName: 'Attribute' } },
      },
      TagMap: { type: 'map', key: { shape: 'S' }, value: { shape: 'S' } },
      AttrMap: { type: 'map', key: { shape: 'S', locationName: 'Name' }, value: { shape: 'S', locationName: 'Value' }, flattened: true },
      S: { type: 'string' },
    },
  } as unknown as ServiceModel;

  it('parse maps: entry.N.key/value and flattened N.Name/Value', () => {
    const body =
      'Action=SetThings&Tags.entry.1.key=a&Tags.entry.1.value=1&Tags.entry.2.key=b&Tags.entry.2.value=2' +
      '&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Attribute.2.Name=Policy&Attribute.2.Value=%7B%7D';
    const ctx = makeCtx('POST', '/', form, body);
    assert.deepEqual(codec.parse(ctx, mapModel, codec.resolve(ctx, mapModel)!), {
      Tags: { a: '1', b: '2' },
      Attributes: { DelaySeconds: '5', Policy: '{}' },
    });
  });

  it('serialize STS GetCallerIdentity: <GetCallerIdentityResponse> in the STS namespace', () => {
    const ctx = makeCtx('POST', '/', form, 'Action=GetCallerIdentity&Version=2011-06-15');
    ctx.requestId = '01234567-89ab-cdef-0123-456789abcdef';
    const spec = codec.serialize(ctx, sts, sts.operations.GetCallerIdentity!, {
      UserId: 'AIDAEXAMPLE',
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:root',
    });
    assert.equal(spec.status, 200);
    assert.equal(spec.headers['content-type'], 'text/xml');
    assert.equal(
      spec.body,
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        '<UserId>AIDAEXAMPLE</UserId><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:root</Arn>' +
        '</GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
    );
  });

  it('serialize IAM CreateUser: nested structure, member list, iso8601 date', () => {
    const ctx = makeCtx('POST', '/');
    ctx.requestId = 'rid';
    const spec = codec.serialize(ctx, iam, iam.operations.CreateUser!, {
      User: {
        Path: '/',
        UserName: 'bob',
        UserId: 'AIDA1',
        Arn: 'arn:aws:iam::000000000000:user/bob',
        CreateDate: new Date('2024-01-02T03:04:05Z'),
        Tags: [{ Key: 'k', Value: 'v&w' }],
      },
    });
    assert.equal(
      spec.body,
      '<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User>' +
        '<Path>/</Path><UserName>bob</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::000000000000:user/bob</Arn>' +
        '<CreateDate>2024-01-02T03:04:05.000Z</CreateDate><Tags><member><Key>k</Key><Value>v&amp;w</Value></member></Tags>' +
        '</User></CreateUserResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></CreateUserResponse>',
    );
  });

  it('serializeError: <ErrorResponse> with Type, Code, Message and RequestId; status and content-type', () => {
    const ctx = makeCtx('POST', '/');
    ctx.service = service('sts');
    ctx.requestId = 'rid-1';
    const spec = codec.serializeError(ctx, new ServiceError('InvalidClientTokenId', { status: 403, message: 'The security token included in the request is invalid.' }));
    assert.equal(spec.status, 403);
    assert.equal(spec.headers['content-type'], 'text/xml');
    assert.equal(
      spec.body,
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>' +
        '<Message>The security token included in the request is invalid.</Message></Error><RequestId>rid-1</RequestId></ErrorResponse>',
    );
    const iamCtx = makeCtx('POST', '/');
    iamCtx.service = service('iam');
    const e500 = codec.serializeError(iamCtx, CommonErrors.InternalError());
    assert.equal(e500.status, 500);
    assert.match(String(e500.body), /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Receiver<\/Type><Code>InternalError<\/Code>/);
  });
});

// ---------------------------------------------------------------------------------------
// awsJson
// ---------------------------------------------------------------------------------------

describe('JsonCodec (SQS awsJson1.0, Logs awsJson1.1)', () => {
  const sqsCodec = service('sqs').codec;
  const logsCodec = service('logs').codec;

  it('resolve: X-Amz-Target <targetPrefix>.<Operation>', () => {
    assert.equal(sqsCodec.resolve(makeCtx('POST', '/', { 'x-amz-target': 'AmazonSQS.SendMessage' }), sqs)!.op.name, 'SendMessage');
    assert.equal(logsCodec.resolve(makeCtx('POST', '/', { 'x-amz-target': 'Logs_20140328.PutLogEvents' }), logs)!.op.name, 'PutLogEvents');
    assert.equal(sqsCodec.resolve(makeCtx('POST', '/'), sqs), undefined);
  });

  it('resolve: an unknown operation or the wrong prefix → UnknownOperation', () => {
    for (const target of ['AmazonSQS.MakeCoffee', 'Logs_20140328.SendMessage', 'SendMessage', 'AmazonSQS.']) {
      const e = errorOf(() => sqsCodec.resolve(makeCtx('POST', '/', { 'x-amz-target': target }), sqs));
      assert.equal(e.code, 'UnknownOperation', target);
      assert.equal(e.status, 400);
    }
  });

  it('parse SendMessage: strings, integers and a map of structures', () => {
    const body = JSON.stringify({
      QueueUrl: 'http://localhost/000000000000/q',
      MessageBody: 'hi',
      DelaySeconds: 5,
      MessageAttributes: { color: { DataType: 'String', StringValue: 'blue' }, bin: { DataType: 'Binary', BinaryValue: 'AAEC' } },
    });
    const ctx = makeCtx('POST', '/', { 'x-amz-target': 'AmazonSQS.SendMessage' }, body);
    const input = sqsCodec.parse(ctx, sqs, sqsCodec.resolve(ctx, sqs)!) as Record<string, unknown>;
    assert.equal(input.QueueUrl, 'http://localhost/000000000000/q');
    assert.equal(input.DelaySeconds, 5);
    assert.deepEqual(input.MessageAttributes, {
      color: { DataType: 'String', StringValue: 'blue' },
      bin: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]) },
    });
  });

  it('parse: a body that is not JSON → MalformedInput', () => {
    const ctx = makeCtx('POST', '/', { 'x-amz-target': 'AmazonSQS.SendMessage' }, '{nope');
    assert.equal(errorOf(() => sqsCodec.parse(ctx, sqs, sqsCodec.resolve(ctx, sqs)!)).code, 'MalformedInput');
  });

  it('serialize: content-type per jsonVersion', () => {
    const s = sqsCodec.serialize(makeCtx('POST', '/'), sqs, sqs.operations.SendMessage!, { MessageId: 'm1', MD5OfMessageBody: 'x' });
    assert.equal(s.status, 200);
    assert.equal(s.headers['content-type'], 'application/x-amz-json-1.0');
    assert.deepEqual(JSON.parse(String(s.body)), { MD5OfMessageBody: 'x', MessageId: 'm1' });
    const l = logsCodec.serialize(makeCtx('POST', '/'), logs, logs.operations.PutLogEvents!, { nextSequenceToken: 't' });
    assert.equal(l.headers['content-type'], 'application/x-amz-json-1.1');
    assert.deepEqual(JSON.parse(String(l.body)), { nextSequenceToken: 't' });
  });

  it('serializeError (Logs): __type and message, x-amzn-errortype, no query-error header', () => {
    const ctx = makeCtx('POST', '/');
    ctx.service = service('logs');
    const spec = logsCodec.serializeError(ctx, new ServiceError('ResourceNotFoundException', { status: 400, message: 'The specified log group does not exist.' }));
    assert.equal(spec.status, 400);
    assert.equal(spec.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(spec.headers['x-amzn-errortype'], 'ResourceNotFoundException');
    assert.equal(spec.headers['x-amzn-query-error'], undefined);
    assert.deepEqual(JSON.parse(String(spec.body)), { __type: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
  });

  it('serializeError (SQS): QueueDoesNotExist carries x-amzn-query-error with the legacy code', () => {
    const ctx = makeCtx('POST', '/');
    ctx.service = service('sqs');
    const spec = sqsCodec.serializeError(ctx, new ServiceError('QueueDoesNotExist', { status: 400, message: 'The specified queue does not exist.' }));
    assert.equal(spec.status, 400);
    assert.equal(spec.headers['content-type'], 'application/x-amz-json-1.0');
    assert.equal(spec.headers['x-amzn-query-error'], 'AWS.SimpleQueueService.NonExistentQueue;Sender');
    assert.deepEqual(JSON.parse(String(spec.body)), { __type: 'QueueDoesNotExist', message: 'The specified queue does not exist.' });
    // Codes without a legacy name get no query-error header.
    const other = sqsCodec.serializeError(ctx, CommonErrors.UnknownOperation());
    assert.equal(other.headers['x-amzn-query-error'], undefined);
    assert.equal(other.status, 400);
  });

  it('a JsonCodec built with its own legacy codes uses them; 5xx errors are Receiver faults', () => {
    const codec = new JsonCodec({ Boom: 'Legacy.Boom' });
    const spec = codec.serializeError(makeCtx('POST', '/'), new ServiceError('Boom', { status: 503, message: 'down' }));
    assert.equal(spec.status, 503);
    assert.equal(spec.headers['x-amzn-query-error'], 'Legacy.Boom;Receiver');
    assert.equal(spec.headers['content-type'], 'application/x-amz-json-1.0');
  });
});

// ---------------------------------------------------------------------------------------
// rest-json
// ---------------------------------------------------------------------------------------

describe('RestJsonCodec (Lambda)', () => {
  const codec = service('lambda').codec;

  it('serializeError: x-amzn-errortype header, Type User/Service, status, content-type', () => {
    const ctx = makeCtx('GET', '/2015-03-31/functions/nope');
    const spec = codec.serializeError(ctx, new ServiceError('ResourceNotFoundException', { status: 404, message: 'Function not found: nope' }));
    assert.equal(spec.status, 404);
    assert.equal(spec.headers['content-type'], 'application/json');
    assert.equal(spec.headers['x-amzn-errortype'], 'ResourceNotFoundException');
    assert.deepEqual(JSON.parse(String(spec.body)), { Type: 'User', message: 'Function not found: nope' });
    const e500 = codec.serializeError(ctx, CommonErrors.InternalError());
    assert.equal(e500.status, 500);
    assert.equal(JSON.parse(String(e500.body)).Type, 'Service');
    const e501 = codec.serializeError(ctx, CommonErrors.NotImplemented());
    assert.equal(e501.status, 501);
    assert.equal(e501.headers['x-amzn-errortype'], 'NotImplemented');
  });

  it('serialize GetFunction: JSON body of the output members', () => {
    const spec = codec.serialize(makeCtx('GET', '/2015-03-31/functions/f'), lambda, lambda.operations.GetFunction!, {
      Configuration: { FunctionName: 'f', MemorySize: 128 },
      Tags: { a: 'b' },
    });
    assert.equal(spec.status, 200);
    assert.equal(spec.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(String(spec.body)), { Configuration: { FunctionName: 'f', MemorySize: 128 }, Tags: { a: 'b' } });
  });
});

describe('escapeXml', () => {
  it('escapes markup and quotes, keeps LF and TAB, writes CR as &#13;', () => {
    assert.equal(escapeXml('a&b'), 'a&amp;b');
    assert.equal(escapeXml('<k>'), '&lt;k&gt;');
    assert.equal(escapeXml(`"'`), '&quot;&apos;');
    assert.equal(escapeXml('line\r\nnext\ttab'), 'line&#13;\nnext\ttab');
    assert.equal(escapeXml('\r'), '&#13;');
    assert.equal(escapeXml('plain é 日本 🙂'), 'plain é 日本 🙂');
    assert.equal(escapeXml(''), '');
  });
});
