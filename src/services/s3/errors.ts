import { CommonErrors, defineErrors, type ServiceError } from '../../protocol/errors.js';
import { StoreError } from '../../storage/metadata.js';

/**
 * S3's error catalogue: codes, statuses and messages as S3 returns them.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
 */
export const S3Errors = {
  ...CommonErrors,
  ...defineErrors({
    NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
    NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
    NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
    BucketAlreadyExists: {
      status: 409,
      message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
    },
    BucketAlreadyOwnedByYou: { status: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
    BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
    InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
    InvalidLocationConstraint: { status: 400, message: 'The specified location-constraint is not valid' },
    IllegalLocationConstraintException: {
      status: 400,
      message: 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
    },
    InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
    PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold' },
    NotModified: { status: 304, message: 'Not Modified' },
    KeyTooLongError: { status: 400, message: 'Your key is too long' },
    MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size' },
    MalformedXML: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema' },
    // CORS, static websites and POST Object (browser-facing S3).
    NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
    NoSuchWebsiteConfiguration: { status: 404, message: 'The specified bucket does not have a website configuration' },
    AccessForbidden: { status: 403, message: 'CORSResponse: This CORS request is not allowed.' },
    BadRequest: { status: 400, message: 'Bad Request' },
    InvalidPolicyDocument: { status: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
    MalformedPOSTRequest: { status: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
    MaxPostPreDataLengthExceededError: { status: 400, message: 'Your POST request fields preceding the upload file were too large.' },
    IncorrectNumberOfFilesInPostRequest: { status: 400, message: 'POST requires exactly one file upload per request.' },
    InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
    InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid' },
    ConditionalRequestConflict: { status: 409, message: 'A conflicting conditional operation is currently in progress against this resource. Please try again.' },
    InvalidObjectState: { status: 403, message: 'The operation is not valid for the object\'s storage class' },
    RestoreAlreadyInProgress: { status: 409, message: 'Object restore is already in progress' },
    InvalidEncryptionAlgorithmError: { status: 400, message: 'The Encryption request you specified is not valid. Supported value: AES256.' },
    InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
    InvalidPart: {
      status: 400,
      message: "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    },
    InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order. The parts list must be specified in order by part number.' },
    EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
    NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
    MalformedPolicy: { status: 400, message: 'Policies must be valid JSON and the first byte must be \'{\'' },
    NoSuchPublicAccessBlockConfiguration: { status: 404, message: 'The public access block configuration was not found' },
    // Lifecycle and server access logging.
    NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
    InvalidTargetBucketForLogging: { status: 400, message: 'The target bucket for logging does not exist, is not owned by you, or does not have the appropriate grants for the log-delivery group.' },
    CrossLocationLoggingProhibitted: { status: 403, message: 'Cross S3 location logging not allowed.' },
    // Tagging, ACLs and Object Ownership.
    InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
    NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
    AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
    InvalidBucketAclWithObjectOwnership: { status: 400, message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting" },
    OwnershipControlsNotFoundError: { status: 404, message: 'The bucket ownership controls were not found' },
    MalformedACLError: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema' },
    UnexpectedContent: { status: 400, message: 'This request does not support content' },
    MissingSecurityHeader: { status: 400, message: 'Your request was missing a required header' },
    UnresolvableGrantByEmailAddress: { status: 400, message: 'The e-mail address you provided does not match any account on record.' },
    NoSuchUpload: { status: 404, message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.' },
  }),
};

/** The one place storage-layer errors become S3 errors. */
export function fromStoreError(e: unknown, ctx: { bucket?: string; key?: string; condition?: string }): ServiceError | unknown {
  if (!(e instanceof StoreError)) return e;
  switch (e.kind) {
    case 'NotFound':
      return ctx.key !== undefined ? S3Errors.NoSuchKey({ Key: ctx.key }) : S3Errors.NoSuchBucket({ BucketName: ctx.bucket });
    case 'PreconditionFailed':
      return S3Errors.PreconditionFailed({ Condition: ctx.condition ?? e.message });
    case 'Conflict':
      return S3Errors.BucketNotEmpty({ BucketName: ctx.bucket });
  }
}
