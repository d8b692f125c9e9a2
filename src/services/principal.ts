/** Who made a request, as established by authentication. */
export interface Principal {
  accountId: string;
  arn: string;
  /** The unique id AWS reports as UserId (account id for root). */
  userId: string;
  accessKeyId: string;
  type: 'root' | 'user' | 'assumed-role' | 'anonymous';
  /** The user name, or the role session name. */
  name?: string;
  /** For role sessions: the role's ARN. */
  roleArn?: string;
}

export interface Credential {
  secretAccessKey: string;
  principal: Principal;
  /** Temporary credentials must come with this x-amz-security-token. */
  sessionToken?: string;
  /** Epoch ms after which temporary credentials are refused with ExpiredToken. */
  expiration?: number;
}

/** Looks up access keys. IAM replaces the root-only implementation when it lands. */
export interface CredentialProvider {
  lookup(accessKeyId: string): Credential | undefined;
}

/** The caller of an unsigned request (S3 only): allowed only what bucket policies grant to everyone. */
export const ANONYMOUS: Principal = { accountId: '', arn: '*', userId: 'anonymous', accessKeyId: '', type: 'anonymous' };
