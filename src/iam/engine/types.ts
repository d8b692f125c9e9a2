/**
 * The contract of the IAM policy evaluation engine: a pure module, no I/O. The pipeline
 * builds an AuthzRequest and the PolicySet that applies, and asks for a decision.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
export type StringOrList = string | string[];

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: StringOrList;
  NotAction?: StringOrList;
  Resource?: StringOrList;
  NotResource?: StringOrList;
  Principal?: '*' | Record<string, StringOrList>;
  NotPrincipal?: '*' | Record<string, StringOrList>;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement | Statement[];
}

/** A policy with an identifier used in results (e.g. the policy ARN or "user/yash/inline-name"). */
export interface NamedPolicy {
  id: string;
  document: PolicyDocument;
}

export type ContextValue = string | string[] | number | boolean;

export interface AuthzRequest {
  principal: {
    /** arn:aws:iam::123456789012:user/yash, …:role/r, arn:aws:sts::…:assumed-role/r/session, …:root, or '*' for anonymous */
    arn: string;
    accountId: string;
    type: 'root' | 'user' | 'assumed-role' | 'anonymous' | 'service';
    /** For assumed-role sessions: the role's ARN (resource policies may name either). */
    roleArn?: string;
    /** For service principals: e.g. lambda.amazonaws.com */
    service?: string;
  };
  /** "service:Action", e.g. s3:GetObject (case-insensitive matching). */
  action: string;
  /** The resource ARN, or '*' for actions without a resource. */
  resource: string;
  /** The account that owns the resource (for cross-account rules); defaults to the principal's. */
  resourceAccount?: string;
  /** Condition keys: aws:* globals and service keys, lower or mixed case names (case-insensitive). */
  context: Record<string, ContextValue | undefined>;
}

export interface PolicySet {
  /** Identity-based policies: the user's and its groups' (attached + inline), or the role's. */
  identity: NamedPolicy[];
  /** The resource's policy (bucket policy, role trust policy, function policy), if any. */
  resource?: NamedPolicy;
  /** Permissions boundary of the user or role, if set. */
  permissionsBoundary?: NamedPolicy;
  /** Session policies of an assumed-role session (inline and managed), if any. */
  session?: NamedPolicy[];
}

export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface MatchedStatement {
  policyId: string;
  /** Which kind of policy it came from. */
  source: 'identity' | 'resource' | 'permissionsBoundary' | 'session';
  sid?: string;
  effect: 'Allow' | 'Deny';
  index: number;
}

export interface EvaluationResult {
  decision: Decision;
  matchedStatements: MatchedStatement[];
  /** Condition keys a statement needed that the context did not have. */
  missingContextValues: string[];
  /**
   * Why, in the words of AWS's AccessDenied messages: "no identity-based policy allows",
   * "an explicit deny in an identity-based policy", "no permissions boundary allows",
   * "an explicit deny in a resource-based policy", "no session policy allows", …
   */
  reason?: string;
}
