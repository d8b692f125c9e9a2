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
  /** For temporary credentials (AssumeRole, GetSessionToken): what the session carries. */
  session?: PrincipalSession;
}

export interface PrincipalSession {
  /** How the credentials were made: AssumeRole, or GetSessionToken by a user or the root. */
  kind: 'role' | 'token';
  /** Epoch ms the credentials were issued (aws:TokenIssueTime). */
  issuedAt: number;
  /** Epoch ms of the MFA authentication, when the session was made with MFA. */
  mfaAt?: number;
  /** Session tags (aws:PrincipalTag/*), already merged over the role's tags. */
  tags?: Record<string, string>;
  /** Tag keys that pass on to sessions this one assumes (role chaining). */
  transitiveTagKeys?: string[];
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
