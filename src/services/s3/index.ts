import { loadModel } from '../../protocol/model.js';
import { RestXmlCodec } from '../../protocol/rest-xml.js';
import type { OperationImpl, ServiceDef } from '../types.js';
import { S3Errors } from './errors.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './buckets.js';
import { copyObject, deleteObject, deleteObjects, getObject, getObjectAttributes, headObject, putObject } from './objects.js';
import { listObjects, listObjectsV2 } from './list.js';
import { getBucketVersioning, listObjectVersions, putBucketVersioning } from './versions.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';
import {
  bucketResourceInfo,
  deleteBucketPolicy,
  deletePublicAccessBlock,
  getBucketPolicy,
  getBucketPolicyStatus,
  getPublicAccessBlock,
  putBucketPolicy,
  putPublicAccessBlock,
} from './bucket-policy.js';
import { applyCors, corsPreflight, deleteBucketCors, getBucketCors, putBucketCors } from './cors.js';
import { isPostObject, postObject } from './post-object.js';
import { pseudoOperation } from '../../server/context.js';
import { deleteBucketWebsite, getBucketWebsite, putBucketWebsite } from './website.js';
import {
  deleteBucketTagging,
  deleteObjectTagging,
  getBucketTagging,
  getObjectTagging,
  parseTaggingHeader,
  putBucketTagging,
  putObjectTagging,
  requestTagKeys,
  type Tag,
} from './tagging.js';
import {
  aclConditionKeys,
  deleteBucketOwnershipControls,
  getBucketAcl,
  getBucketOwnershipControls,
  getObjectAcl,
  putBucketAcl,
  putBucketOwnershipControls,
  putObjectAcl,
} from './acl.js';
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './encryption.js';
import { restoreObject } from './storage-class.js';
import { deleteBucketLifecycle, getBucketLifecycleConfiguration, putBucketLifecycleConfiguration } from './lifecycle.js';
import { getBucketLogging, putBucketLogging, recordAccess } from './access-log.js';

/**
 * S3: operation name → handler, the IAM action it needs and the resource it acts on.
 * Operations of the model that are not listed answer 501 NotImplemented.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 */
type Input = Record<string, any>;
const bucketArn = (i: Input) => `arn:aws:s3:::${i.Bucket}`;
const objectArn = (i: Input) => `arn:aws:s3:::${i.Bucket}/${i.Key}`;
const listKeys = (i: Input) => ({ 's3:prefix': i.Prefix, 's3:delimiter': i.Delimiter, 's3:max-keys': i.MaxKeys === undefined ? undefined : String(i.MaxKeys) });
const onBucket = (handler: OperationImpl['handler'], action: string, conditions?: OperationImpl['conditions']): OperationImpl => ({ handler, action, resource: bucketArn, conditions });
const onObject = (handler: OperationImpl['handler'], action: OperationImpl['action'], conditions?: OperationImpl['conditions']): OperationImpl => ({ handler, action, resource: objectArn, conditions });
/** Naming a version takes the version action (s3:GetObjectVersion, …), with s3:versionid. */
const byVersion = (plain: string, versioned: string) => (i: Input) => (i.VersionId !== undefined ? versioned : plain);
const versionKeys = (i: Input) => (i.VersionId === undefined ? undefined : { 's3:versionid': i.VersionId });
/**
 * Writes that may set tags and ACLs: s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys,
 * s3:x-amz-acl and s3:x-amz-grant-*. A malformed x-amz-tagging is the handler's to refuse.
 */
const headerTags = (i: Input): Tag[] | undefined => {
  try {
    return parseTaggingHeader(i.Tagging);
  } catch {
    return undefined;
  }
};
const writeKeys = (i: Input) => ({ ...requestTagKeys(headerTags(i)), ...aclConditionKeys(i) });
const taggingKeys = (i: Input) => ({ ...versionKeys(i), ...requestTagKeys(Array.isArray(i.Tagging?.TagSet) ? i.Tagging.TagSet : undefined) });
/** The encryption a write names, for bucket policies that require one (absent headers are absent keys). */
export const sseKeys = (i: Input) => ({
  's3:x-amz-server-side-encryption': i.ServerSideEncryption,
  's3:x-amz-server-side-encryption-aws-kms-key-id': i.SSEKMSKeyId,
  's3:x-amz-server-side-encryption-customer-algorithm': i.SSECustomerAlgorithm,
});
export const s3Service: ServiceDef = {
  name: 's3',
  signingNames: ['s3'],
  model: () => loadModel('s3'),
  codec: new RestXmlCodec({
    xmlNamespace: 'http://s3.amazonaws.com/doc/2006-03-01/',
    // The model leaves out the root element of outputs without a payload member.
    rootNames: {
      ListBuckets: 'ListAllMyBucketsResult',
      ListObjects: 'ListBucketResult',
      ListObjectsV2: 'ListBucketResult',
      ListObjectVersions: 'ListVersionsResult',
      ListMultipartUploads: 'ListMultipartUploadsResult',
      ListParts: 'ListPartsResult',
      DeleteObjects: 'DeleteResult',
      GetObjectAttributes: 'GetObjectAttributesResponse',
      CreateMultipartUpload: 'InitiateMultipartUploadResult',
      CompleteMultipartUpload: 'CompleteMultipartUploadResult',
      GetBucketVersioning: 'VersioningConfiguration',
      GetBucketTagging: 'Tagging',
      GetObjectTagging: 'Tagging',
      GetBucketCors: 'CORSConfiguration',
      GetBucketAcl: 'AccessControlPolicy',
      GetObjectAcl: 'AccessControlPolicy',
      GetBucketWebsite: 'WebsiteConfiguration',
      GetBucketLifecycleConfiguration: 'LifecycleConfiguration',
      GetBucketLogging: 'BucketLoggingStatus',
    },
    // GetBucketLocation's answer is the text of its root element.
    textRoot: { GetBucketLocation: 'LocationConstraint' },
    // A bucket that was never versioned answers <VersioningConfiguration/>; one not logged <BucketLoggingStatus/>.
    emptyRoot: ['GetBucketVersioning', 'GetBucketLogging'],
    malformedXml: () => S3Errors.MalformedXML(),
  }),
  authErrors: { unknownKey: 'InvalidAccessKeyId', badSignature: 'SignatureDoesNotMatch' },
  requestIdStyle: 's3',
  resourceInfo: bucketResourceInfo,
  // Browsers' CORS preflights are unsigned and answered from the bucket's CORS rules alone;
  // actual requests with an Origin get the matching rule's headers, on errors too (cors.ts).
  beforeAuth: async (ctx) => {
    if (ctx.method === 'OPTIONS') {
      ctx.operation = pseudoOperation(ctx, 'PreflightRequest');
      return corsPreflight(ctx);
    }
    if (ctx.header('origin') !== undefined) await applyCors(ctx);
    return undefined;
  },
  // A browser's form upload to the bucket URL (POST Object) is not an operation of the model.
  beforeDispatch: async (ctx) => {
    if (!isPostObject(ctx)) return undefined;
    ctx.operation = pseudoOperation(ctx, 'PostObject');
    return postObject(ctx);
  },
  // Server access logs: a record for every request to a logged bucket, once answered.
  afterResponse: recordAccess,
  // Bodies that are documents (DeleteObjects of 1000 keys, configurations), not objects.
  maxBodyBytes: 4 << 20,
  operations: {
    CreateBucket: onBucket(createBucket, 's3:CreateBucket'),
    HeadBucket: onBucket(headBucket, 's3:ListBucket'),
    DeleteBucket: onBucket(deleteBucket, 's3:DeleteBucket'),
    ListBuckets: { handler: listBuckets, action: 's3:ListAllMyBuckets', resource: () => 'arn:aws:s3:::*' },
    GetBucketLocation: onBucket(getBucketLocation, 's3:GetBucketLocation'),
    PutObject: onObject(putObject, 's3:PutObject', (i) => ({ ...writeKeys(i), ...sseKeys(i) })),
    GetObject: onObject(getObject, byVersion('s3:GetObject', 's3:GetObjectVersion'), versionKeys),
    HeadObject: onObject(headObject, byVersion('s3:GetObject', 's3:GetObjectVersion'), versionKeys),
    DeleteObject: onObject(deleteObject, byVersion('s3:DeleteObject', 's3:DeleteObjectVersion'), versionKeys),
    // Checked per key by the handler: each denied key is an AccessDenied entry in the result.
    DeleteObjects: { handler: deleteObjects, action: 's3:DeleteObject', selfAuthorized: true },
    // s3:GetObject (s3:GetObjectVersion) on the source and s3:PutObject on the destination, by the handler.
    CopyObject: { handler: copyObject, action: 's3:PutObject', selfAuthorized: true },
    GetObjectAttributes: onObject(getObjectAttributes, byVersion('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'), versionKeys),
    ListObjects: onBucket(listObjects, 's3:ListBucket', listKeys),
    ListObjectsV2: onBucket(listObjectsV2, 's3:ListBucket', listKeys),
    ListObjectVersions: onBucket(listObjectVersions, 's3:ListBucketVersions', listKeys),
    PutBucketVersioning: onBucket(putBucketVersioning, 's3:PutBucketVersioning'),
    GetBucketVersioning: onBucket(getBucketVersioning, 's3:GetBucketVersioning'),
    CreateMultipartUpload: onObject(createMultipartUpload, 's3:PutObject', (i) => ({ ...writeKeys(i), ...sseKeys(i) })),
    UploadPart: onObject(uploadPart, 's3:PutObject'),
    UploadPartCopy: { handler: uploadPartCopy, action: 's3:PutObject', selfAuthorized: true },
    CompleteMultipartUpload: onObject(completeMultipartUpload, 's3:PutObject'),
    AbortMultipartUpload: onObject(abortMultipartUpload, 's3:AbortMultipartUpload'),
    ListParts: onObject(listParts, 's3:ListMultipartUploadParts'),
    ListMultipartUploads: onBucket(listMultipartUploads, 's3:ListBucketMultipartUploads'),
    PutBucketPolicy: onBucket(putBucketPolicy, 's3:PutBucketPolicy'),
    GetBucketPolicy: onBucket(getBucketPolicy, 's3:GetBucketPolicy'),
    DeleteBucketPolicy: onBucket(deleteBucketPolicy, 's3:DeleteBucketPolicy'),
    GetBucketPolicyStatus: onBucket(getBucketPolicyStatus, 's3:GetBucketPolicyStatus'),
    PutPublicAccessBlock: onBucket(putPublicAccessBlock, 's3:PutBucketPublicAccessBlock'),
    GetPublicAccessBlock: onBucket(getPublicAccessBlock, 's3:GetBucketPublicAccessBlock'),
    DeletePublicAccessBlock: onBucket(deletePublicAccessBlock, 's3:PutBucketPublicAccessBlock'),
    // Browser-facing configuration; DeleteBucketCors is authorised as s3:PutBucketCORS.
    PutBucketCors: onBucket(putBucketCors, 's3:PutBucketCORS'),
    GetBucketCors: onBucket(getBucketCors, 's3:GetBucketCORS'),
    DeleteBucketCors: onBucket(deleteBucketCors, 's3:PutBucketCORS'),
    PutBucketWebsite: onBucket(putBucketWebsite, 's3:PutBucketWebsite'),
    GetBucketWebsite: onBucket(getBucketWebsite, 's3:GetBucketWebsite'),
    DeleteBucketWebsite: onBucket(deleteBucketWebsite, 's3:DeleteBucketWebsite'),
    // Tagging; deleting a bucket's tags is authorised as s3:PutBucketTagging.
    PutObjectTagging: onObject(putObjectTagging, byVersion('s3:PutObjectTagging', 's3:PutObjectVersionTagging'), taggingKeys),
    GetObjectTagging: onObject(getObjectTagging, byVersion('s3:GetObjectTagging', 's3:GetObjectVersionTagging'), versionKeys),
    DeleteObjectTagging: onObject(deleteObjectTagging, byVersion('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'), versionKeys),
    PutBucketTagging: onBucket(putBucketTagging, 's3:PutBucketTagging'),
    GetBucketTagging: onBucket(getBucketTagging, 's3:GetBucketTagging'),
    DeleteBucketTagging: onBucket(deleteBucketTagging, 's3:PutBucketTagging'),
    // ACLs and Object Ownership; deleting ownership controls is s3:PutBucketOwnershipControls.
    PutBucketAcl: onBucket(putBucketAcl, 's3:PutBucketAcl', aclConditionKeys),
    GetBucketAcl: onBucket(getBucketAcl, 's3:GetBucketAcl'),
    PutObjectAcl: onObject(putObjectAcl, byVersion('s3:PutObjectAcl', 's3:PutObjectVersionAcl'), (i) => ({ ...versionKeys(i), ...aclConditionKeys(i) })),
    GetObjectAcl: onObject(getObjectAcl, byVersion('s3:GetObjectAcl', 's3:GetObjectVersionAcl'), versionKeys),
    PutBucketOwnershipControls: onBucket(putBucketOwnershipControls, 's3:PutBucketOwnershipControls'),
    GetBucketOwnershipControls: onBucket(getBucketOwnershipControls, 's3:GetBucketOwnershipControls'),
    DeleteBucketOwnershipControls: onBucket(deleteBucketOwnershipControls, 's3:PutBucketOwnershipControls'),
    // Default encryption; DeleteBucketEncryption is authorised as s3:PutEncryptionConfiguration.
    PutBucketEncryption: onBucket(putBucketEncryption, 's3:PutEncryptionConfiguration'),
    GetBucketEncryption: onBucket(getBucketEncryption, 's3:GetEncryptionConfiguration'),
    DeleteBucketEncryption: onBucket(deleteBucketEncryption, 's3:PutEncryptionConfiguration'),
    // s3:RestoreObject whether or not a version is named (with s3:versionid when one is).
    RestoreObject: onObject(restoreObject, 's3:RestoreObject', versionKeys),
    // Lifecycle; deleting the configuration is authorised as s3:PutLifecycleConfiguration.
    PutBucketLifecycleConfiguration: onBucket(putBucketLifecycleConfiguration, 's3:PutLifecycleConfiguration'),
    GetBucketLifecycleConfiguration: onBucket(getBucketLifecycleConfiguration, 's3:GetLifecycleConfiguration'),
    DeleteBucketLifecycle: onBucket(deleteBucketLifecycle, 's3:PutLifecycleConfiguration'),
    PutBucketLogging: onBucket(putBucketLogging, 's3:PutBucketLogging'),
    GetBucketLogging: onBucket(getBucketLogging, 's3:GetBucketLogging'),
  },
};
