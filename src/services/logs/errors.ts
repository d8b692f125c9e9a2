import { CommonErrors, defineErrors } from '../../protocol/errors.js';

/**
 * CloudWatch Logs' error catalogue. Every client error of the service is HTTP 400 (the
 * model gives none a status of its own); the messages are AWS's, as its responses word them.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html
 */
export const LogsErrors = {
  ...CommonErrors,
  ...defineErrors({
    AccessDeniedException: { status: 400, message: 'Access Denied' },
    InvalidParameterException: { status: 400, message: 'A parameter is specified incorrectly.' },
    ResourceNotFoundException: { status: 400, message: 'The specified resource does not exist.' },
    ResourceAlreadyExistsException: { status: 400, message: 'The specified resource already exists.' },
    ValidationException: { status: 400, message: 'One of the parameters for the request is not valid.' },
    LimitExceededException: { status: 400, message: 'You have reached the maximum number of resources that can be created.' },
    TooManyTagsException: { status: 400, message: 'A resource can have no more than 50 tags.' },
    OperationAbortedException: { status: 400, message: 'Multiple concurrent requests to update the same resource were in conflict.' },
    SerializationException: { status: 400, message: '' },
    ServiceUnavailableException: { status: 500, message: 'The service cannot complete the request.' },
  }),
};

export const groupNotFound = () => LogsErrors.ResourceNotFoundException({ message: 'The specified log group does not exist.' });
export const streamNotFound = () => LogsErrors.ResourceNotFoundException({ message: 'The specified log stream does not exist.' });
export const invalidToken = () => LogsErrors.InvalidParameterException({ message: 'The specified nextToken is invalid.' });
