/** Who made a request, as established by authentication. */
export interface Principal {
  accountId: string;
  arn: string;
  /** The unique id AWS reports as UserId (account id for root). */
  userId: string;
  accessKeyId: string;
  type: 'root' | 'user' | 'assumed-role';
}

export interface Credential {
  secretAccessKey: string;
  principal: Principal;
}

/** Looks up access keys. IAM replaces the root-only implementation when it lands. */
export interface CredentialProvider {
  lookup(accessKeyId: string): Credential | undefined;
}

export function rootCredentials(accountId: string, accessKeyId: string, secretAccessKey: string): CredentialProvider {
  const principal: Principal = { accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId, accessKeyId, type: 'root' };
  return {
    lookup: (id) => (id === accessKeyId ? { secretAccessKey, principal } : undefined),
  };
}
