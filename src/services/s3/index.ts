import { loadModel } from '../../protocol/model.js';
import { RestXmlCodec } from '../../protocol/rest-xml.js';
import type { ServiceDef } from '../types.js';
import { S3Errors } from './errors.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './buckets.js';
import { copyObject, deleteObject, deleteObjects, getObject, getObjectAttributes, headObject, putObject } from './objects.js';
import { listObjects, listObjectsV2 } from './list.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';

/**
 * S3: operation name → handler and the IAM action it needs. Operations of the model that
 * are not listed answer 501 NotImplemented.
 */
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
    },
    // GetBucketLocation's answer is the text of its root element.
    textRoot: { GetBucketLocation: 'LocationConstraint' },
    malformedXml: () => S3Errors.MalformedXML(),
  }),
  authErrors: { unknownKey: 'InvalidAccessKeyId', badSignature: 'SignatureDoesNotMatch' },
  requestIdStyle: 's3',
  // Bodies that are documents (DeleteObjects of 1000 keys, configurations), not objects.
  maxBodyBytes: 4 << 20,
  operations: {
    CreateBucket: { handler: createBucket, action: 's3:CreateBucket' },
    HeadBucket: { handler: headBucket, action: 's3:ListBucket' },
    DeleteBucket: { handler: deleteBucket, action: 's3:DeleteBucket' },
    ListBuckets: { handler: listBuckets, action: 's3:ListAllMyBuckets' },
    GetBucketLocation: { handler: getBucketLocation, action: 's3:GetBucketLocation' },
    PutObject: { handler: putObject, action: 's3:PutObject' },
    GetObject: { handler: getObject, action: 's3:GetObject' },
    HeadObject: { handler: headObject, action: 's3:GetObject' },
    DeleteObject: { handler: deleteObject, action: 's3:DeleteObject' },
    DeleteObjects: { handler: deleteObjects, action: 's3:DeleteObject' },
    CopyObject: { handler: copyObject, action: 's3:PutObject' },
    GetObjectAttributes: { handler: getObjectAttributes, action: 's3:GetObjectAttributes' },
    ListObjects: { handler: listObjects, action: 's3:ListBucket' },
    ListObjectsV2: { handler: listObjectsV2, action: 's3:ListBucket' },
    CreateMultipartUpload: { handler: createMultipartUpload, action: 's3:PutObject' },
    UploadPart: { handler: uploadPart, action: 's3:PutObject' },
    UploadPartCopy: { handler: uploadPartCopy, action: 's3:PutObject' },
    CompleteMultipartUpload: { handler: completeMultipartUpload, action: 's3:PutObject' },
    AbortMultipartUpload: { handler: abortMultipartUpload, action: 's3:AbortMultipartUpload' },
    ListParts: { handler: listParts, action: 's3:ListMultipartUploadParts' },
    ListMultipartUploads: { handler: listMultipartUploads, action: 's3:ListBucketMultipartUploads' },
  },
};
