import { CommonErrors, defineErrors } from '../../protocol/errors.js';

/**
 * Lambda's error catalogue (statuses from the service model).
 * https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html
 */
export const LambdaErrors = {
  ...CommonErrors,
  ...defineErrors({
    ValidationException: { status: 400, message: 'The input fails to satisfy the constraints specified by an AWS service.' },
    ResourceNotFoundException: { status: 404, message: 'The resource specified in the request does not exist.' },
    ResourceConflictException: { status: 409, message: 'The resource already exists, or another operation is in progress.' },
    InvalidParameterValueException: { status: 400, message: 'One of the parameters in the request is not valid.' },
    InvalidRequestContentException: { status: 400, message: 'The request body could not be parsed as JSON.' },
    RequestTooLargeException: { status: 413, message: 'The request payload exceeded the Invoke request body JSON input quota.' },
    TooManyRequestsException: { status: 429, message: 'Rate Exceeded.' },
    PreconditionFailedException: { status: 412, message: 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id' },
    PolicyLengthExceededException: { status: 400, message: 'The permissions policy for the resource is too large.' },
    CodeStorageExceededException: { status: 400, message: 'Your Amazon Web Services account has exceeded its maximum total code size.' },
    InvalidZipFileException: { status: 502, message: 'Lambda could not unzip the deployment package.' },
    InvalidRuntimeException: { status: 502, message: 'The runtime or runtime version specified is not supported.' },
    ResourceNotReadyException: { status: 502, message: 'The function is inactive and its VPC connection is no longer available.' },
    ServiceException: { status: 500, message: 'The Lambda service encountered an internal error.' },
    UnsupportedMediaTypeException: { status: 415, message: 'The content type of the Invoke request body is not JSON.' },
  }),
};
