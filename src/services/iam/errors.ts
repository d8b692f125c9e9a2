import { CommonErrors, defineErrors } from '../../protocol/errors.js';

/** IAM's error catalogue. https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html */
export const IamErrors = {
  ...CommonErrors,
  ...defineErrors({
    NoSuchEntity: { status: 404, message: 'The request was rejected because it referenced a resource entity that does not exist.' },
    EntityAlreadyExists: { status: 409, message: 'The request was rejected because it attempted to create a resource that already exists.' },
    DeleteConflict: { status: 409, message: 'The request was rejected because it attempted to delete a resource that has attached subordinate entities.' },
    LimitExceeded: { status: 409, message: 'The request was rejected because it attempted to create resources beyond the current AWS account limits.' },
    MalformedPolicyDocument: { status: 400, message: 'The request was rejected because the policy document was malformed.' },
    InvalidInput: { status: 400, message: 'The request was rejected because an invalid or out-of-range value was supplied for an input parameter.' },
    InvalidAuthenticationCode: { status: 403, message: 'Authentication code for device is not valid.' },
    UnmodifiableEntity: { status: 400, message: 'The request was rejected because service-linked roles are protected AWS resources.' },
    ValidationError: { status: 400, message: 'The input fails to satisfy the constraints specified by an AWS service.' },
    PasswordPolicyViolation: { status: 400, message: 'The request was rejected because the provided password did not meet the requirements imposed by the account password policy.' },
    InvalidUserType: { status: 400, message: 'The request was rejected because the type of user for the transaction was incorrect.' },
    ReportNotPresent: { status: 410, message: 'The request was rejected because the credential report does not exist. To generate a credential report, use GenerateCredentialReport.' },
  }),
};
