import type { MetadataStore, Transaction } from '../../storage/metadata.js';
import type { NamedPolicy, PolicyDocument } from '../../iam/engine/types.js';
import type { Credential, CredentialProvider, Principal, PrincipalSession } from '../principal.js';
import { AWS_MANAGED_POLICIES } from '../../iam/data/aws-managed-policies.js';
import { now } from '../../util/clock.js';

/**
 * IAM as data: documents per entity kind, kept in memory (IAM is small and every request
 * needs it) and written through to the metadata store in serialised transactions.
 */
export interface Tag {
  Key: string;
  Value: string;
}

interface Attachable {
  AttachedPolicies: string[];
  /** Inline policy name → policy JSON text. */
  InlinePolicies: Record<string, string>;
  PermissionsBoundary?: string;
}

export interface UserDoc extends Attachable {
  UserName: string;
  UserId: string;
  Arn: string;
  Path: string;
  CreateDate: string;
  Tags: Tag[];
  Groups: string[];
}

export interface GroupDoc extends Attachable {
  GroupName: string;
  GroupId: string;
  Arn: string;
  Path: string;
  CreateDate: string;
}

export interface RoleDoc extends Attachable {
  RoleName: string;
  RoleId: string;
  Arn: string;
  Path: string;
  CreateDate: string;
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  Tags: Tag[];
  /** Service-linked roles only: the service principal that owns the role (e.g. elasticbeanstalk.amazonaws.com). */
  AwsServiceName?: string;
}

export interface PolicyVersionDoc {
  VersionId: string;
  Document: string;
  CreateDate: string;
}

export interface ManagedPolicyDoc {
  PolicyName: string;
  PolicyId: string;
  Arn: string;
  Path: string;
  Description?: string;
  CreateDate: string;
  UpdateDate: string;
  DefaultVersionId: string;
  Versions: PolicyVersionDoc[];
  NextVersion: number;
  Tags: Tag[];
}

export interface AccessKeyDoc {
  AccessKeyId: string;
  SecretAccessKey: string;
  UserName: string;
  Status: 'Active' | 'Inactive';
  CreateDate: string;
  LastUsed?: { LastUsedDate: string; ServiceName: string; Region: string };
}

/** Temporary credentials: a role session (AssumeRole) or a user's/root's session token (GetSessionToken). */
export interface SessionDoc {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
  /** 'token' for GetSessionToken; absent (or 'role') for AssumeRole. */
  Kind?: 'role' | 'token';
  /** For 'token' sessions: the user they act as (absent for the root). */
  UserName?: string;
  IssuedAt?: string;
  /** When MFA was presented (AssumeRole/GetSessionToken with SerialNumber and TokenCode). */
  MfaAuthTime?: string;
  /** Session tags (role tags merged under them) and the transitive keys. */
  Tags?: Tag[];
  TransitiveTagKeys?: string[];
  RoleArn: string;
  RoleName: string;
  SessionName: string;
  AssumedRoleId: string;
  Arn: string;
  /** Inline session policy JSON, and managed session policy ARNs. */
  SessionPolicy?: string;
  PolicyArns?: string[];
  SourceIdentity?: string;
  /** Assumed with credentials that were themselves a role session (role chaining). */
  Chained: boolean;
}

/** A user's console password (CreateLoginProfile), id = user name. */
export interface LoginProfileDoc {
  UserName: string;
  CreateDate: string;
  /** scrypt hash "salt:hash" (hex); the password itself is never stored. */
  PasswordHash: string;
  PasswordResetRequired: boolean;
  PasswordLastChanged: string;
  /** Hashes of earlier passwords, newest first, for PasswordReusePrevention. */
  PreviousPasswordHashes: string[];
  PasswordLastUsed?: string;
}

/** A virtual MFA device, id = its serial number (arn:aws:iam::<acct>:mfa/<name>). */
export interface MfaDeviceDoc {
  SerialNumber: string;
  /** The TOTP secret, Base32 (RFC 4648) as CreateVirtualMFADevice returns it. */
  Base32StringSeed: string;
  Path: string;
  CreateDate: string;
  Tags: Tag[];
  /** Set once EnableMFADevice has bound it to a user. */
  UserName?: string;
  EnableDate?: string;
  /** The last TOTP time step accepted, so a code is never accepted twice. */
  LastStep?: number;
  /**
   * How many time steps the device's clock runs ahead of ours (negative: behind), learnt
   * from the codes EnableMFADevice and ResyncMFADevice accepted; codes are checked around it.
   */
  DriftSteps?: number;
}

/** An instance profile, id = its name. */
export interface InstanceProfileDoc {
  InstanceProfileName: string;
  InstanceProfileId: string;
  Arn: string;
  Path: string;
  CreateDate: string;
  Roles: string[];
  Tags: Tag[];
}

export interface PasswordPolicy {
  MinimumPasswordLength: number;
  RequireSymbols: boolean;
  RequireNumbers: boolean;
  RequireUppercaseCharacters: boolean;
  RequireLowercaseCharacters: boolean;
  AllowUsersToChangePassword: boolean;
  /** Days; absent = passwords do not expire. */
  MaxPasswordAge?: number;
  PasswordReusePrevention?: number;
  HardExpiry?: boolean;
}

/** Account-wide settings, one document per account (id "settings"). */
export interface AccountDoc {
  Aliases: string[];
  /** When the account was first seen (the root's user_creation_time in the credential report). */
  CreateDate?: string;
  PasswordPolicy?: PasswordPolicy;
  CredentialReport?: { GeneratedTime: string; Content: string };
  /** Account-level S3 Block Public Access (s3control PutPublicAccessBlock). */
  S3PublicAccessBlock?: { BlockPublicAcls: boolean; IgnorePublicAcls: boolean; BlockPublicPolicy: boolean; RestrictPublicBuckets: boolean };
  /** DeleteServiceLinkedRole tasks, by DeletionTaskId (kept for GetServiceLinkedRoleDeletionStatus). */
  DeletionTasks?: Record<string, { RoleName: string; Status: 'SUCCEEDED'; CreateDate: string }>;
}

type Kind = 'user' | 'group' | 'role' | 'policy' | 'accesskey' | 'session' | 'loginprofile' | 'mfa' | 'instanceprofile' | 'account';
interface DocByKind {
  user: UserDoc;
  group: GroupDoc;
  role: RoleDoc;
  policy: ManagedPolicyDoc;
  accesskey: AccessKeyDoc;
  session: SessionDoc;
  loginprofile: LoginProfileDoc;
  mfa: MfaDeviceDoc;
  instanceprofile: InstanceProfileDoc;
  account: AccountDoc;
}
type DocOf<K extends Kind> = DocByKind[K];

const KINDS: Kind[] = ['user', 'group', 'role', 'policy', 'accesskey', 'session', 'loginprofile', 'mfa', 'instanceprofile', 'account'];

/** A transaction over IAM documents; what it writes reaches the in-memory view after commit. */
export class IamTx {
  private readonly writes = new Map<string, { kind: Kind; id: string; doc?: unknown }>();

  constructor(
    private readonly tx: Transaction,
    private readonly state: IamState,
  ) {}

  async get<K extends Kind>(kind: K, id: string): Promise<DocOf<K> | undefined> {
    const pending = this.writes.get(`${kind}\0${id}`);
    if (pending) return pending.doc as DocOf<K> | undefined;
    return this.tx.docs.get<DocOf<K>>(this.state.accountId, kind, id);
  }

  async put<K extends Kind>(kind: K, id: string, doc: DocOf<K>): Promise<void> {
    await this.tx.docs.put(this.state.accountId, kind, id, doc);
    this.writes.set(`${kind}\0${id}`, { kind, id, doc });
  }

  async delete(kind: Kind, id: string): Promise<void> {
    await this.tx.docs.delete(this.state.accountId, kind, id);
    this.writes.set(`${kind}\0${id}`, { kind, id });
  }

  /** Called after commit. */
  apply(): void {
    for (const w of this.writes.values()) this.state.setCached(w.kind, w.id, w.doc);
  }
}

/** AWS managed policies, the same in every account. */
const AWS_MANAGED = new Map<string, ManagedPolicyDoc>();
function awsManaged(): Map<string, ManagedPolicyDoc> {
  if (AWS_MANAGED.size === 0) {
    for (const p of AWS_MANAGED_POLICIES) {
      AWS_MANAGED.set(p.arn, {
        PolicyName: p.name,
        PolicyId: p.policyId,
        Arn: p.arn,
        Path: p.path,
        Description: p.description,
        CreateDate: p.createDate,
        UpdateDate: p.updateDate,
        DefaultVersionId: p.defaultVersionId,
        Versions: [{ VersionId: p.defaultVersionId, Document: JSON.stringify(p.document), CreateDate: p.updateDate }],
        NextVersion: 0,
        Tags: [],
      });
    }
  }
  return AWS_MANAGED;
}

/** Parsed policy documents by text, shared by every account (documents are immutable). */
const PARSED = new Map<string, PolicyDocument>();

/** One account's IAM: its entities in memory, written through to the metadata store. */
export class IamState {
  private readonly maps = new Map<Kind, Map<string, unknown>>(KINDS.map((k) => [k, new Map()]));

  constructor(
    private readonly store: MetadataStore,
    readonly accountId: string,
  ) {}

  async load(): Promise<void> {
    for (const kind of KINDS) {
      for (const doc of await this.store.docs.list<Record<string, string>>(this.accountId, kind)) this.setCached(kind, idOf(kind, doc), doc);
    }
    await this.dropExpiredSessions();
  }

  /**
   * Temporary credentials a week past their expiration are forgotten. Until then a request
   * with them gets ExpiredToken, as on AWS (whose tokens describe themselves), rather than
   * an unknown-key error.
   */
  async dropExpiredSessions(): Promise<number> {
    const t = now() - 7 * 24 * 3600_000;
    const expired = this.list('session').filter((s) => Date.parse(s.Expiration) < t);
    if (expired.length) await this.write(async (tx) => Promise.all(expired.map((s) => tx.delete('session', s.AccessKeyId))));
    return expired.length;
  }

  setCached(kind: Kind, id: string, doc: unknown): void {
    if (doc === undefined) this.maps.get(kind)!.delete(id);
    else this.maps.get(kind)!.set(id, doc);
  }

  get<K extends Kind>(kind: K, id: string): DocOf<K> | undefined {
    return this.maps.get(kind)!.get(id) as DocOf<K> | undefined;
  }

  list<K extends Kind>(kind: K): DocOf<K>[] {
    return [...this.maps.get(kind)!.values()] as DocOf<K>[];
  }

  /** Runs fn in one store transaction; the in-memory view changes only once it commits. */
  async write<T>(fn: (tx: IamTx) => Promise<T>): Promise<T> {
    let iamTx: IamTx | undefined;
    const result = await this.store.transaction(async (tx) => {
      iamTx = new IamTx(tx, this);
      return fn(iamTx);
    });
    iamTx!.apply();
    return result;
  }

  /** A managed policy: AWS's (arn:aws:iam::aws:policy/…) or the account's own. */
  managedPolicy(arn: string): ManagedPolicyDoc | undefined {
    return awsManaged().get(arn) ?? this.get('policy', arn);
  }

  awsManagedPolicies(): ManagedPolicyDoc[] {
    return [...awsManaged().values()];
  }

  /** Parses (once) a policy JSON text. */
  document(text: string): PolicyDocument {
    let doc = PARSED.get(text);
    if (!doc) {
      doc = JSON.parse(text) as PolicyDocument;
      if (PARSED.size > 10_000) PARSED.clear();
      PARSED.set(text, doc);
    }
    return doc;
  }

  private managedNamed(arn: string): NamedPolicy | undefined {
    const p = this.managedPolicy(arn);
    const v = p?.Versions.find((x) => x.VersionId === p.DefaultVersionId);
    return v ? { id: arn, document: this.document(v.Document) } : undefined;
  }

  private attachedPolicies(owner: Attachable, label: string): NamedPolicy[] {
    const out: NamedPolicy[] = [];
    for (const arn of owner.AttachedPolicies) {
      const p = this.managedNamed(arn);
      if (p) out.push(p);
    }
    for (const [name, text] of Object.entries(owner.InlinePolicies)) out.push({ id: `${label}/${name}`, document: this.document(text) });
    return out;
  }

  /** A group's or role's own policies (attached and inline). */
  policiesOfEntity(kind: 'group' | 'role', name: string): NamedPolicy[] {
    const e = this.get(kind, name);
    return e ? this.attachedPolicies(e, `${kind}/${name}`) : [];
  }

  /**
   * aws:PrincipalTag values: a user's tags; for a role session, the role's tags with the
   * session tags over them.
   */
  principalTags(principal: Principal): Record<string, string> {
    const out: Record<string, string> = {};
    if (principal.type === 'user') {
      for (const t of this.get('user', principal.name!)?.Tags ?? []) out[t.Key] = t.Value;
    } else if (principal.type === 'assumed-role') {
      const roleName = principal.roleArn?.slice(principal.roleArn.lastIndexOf('/') + 1);
      for (const t of (roleName && this.get('role', roleName)?.Tags) || []) out[t.Key] = t.Value;
    }
    for (const [k, v] of Object.entries(principal.session?.tags ?? {})) {
      for (const existing of Object.keys(out)) if (existing.toLowerCase() === k.toLowerCase()) delete out[existing];
      out[k] = v;
    }
    return out;
  }

  /** The policies that apply to a principal's requests. */
  policiesFor(principal: Principal): { identity: NamedPolicy[]; permissionsBoundary?: NamedPolicy; session?: NamedPolicy[] } {
    if (principal.type === 'user') {
      const user = this.get('user', principal.name!);
      if (!user) return { identity: [] };
      const identity = this.attachedPolicies(user, `user/${user.UserName}`);
      for (const g of user.Groups) {
        const group = this.get('group', g);
        if (group) identity.push(...this.attachedPolicies(group, `group/${group.GroupName}`));
      }
      return { identity, permissionsBoundary: user.PermissionsBoundary ? this.managedNamed(user.PermissionsBoundary) : undefined };
    }
    if (principal.type === 'assumed-role') {
      const session = this.get('session', principal.accessKeyId);
      const role = session && this.get('role', session.RoleName);
      if (!session || !role) return { identity: [] };
      let sessionPolicies: NamedPolicy[] | undefined;
      if (session.SessionPolicy || session.PolicyArns?.length) {
        sessionPolicies = [];
        if (session.SessionPolicy) sessionPolicies.push({ id: 'session-policy', document: this.document(session.SessionPolicy) });
        for (const arn of session.PolicyArns ?? []) {
          const p = this.managedNamed(arn);
          if (p) sessionPolicies.push(p);
        }
      }
      return {
        identity: this.attachedPolicies(role, `role/${role.RoleName}`),
        permissionsBoundary: role.PermissionsBoundary ? this.managedNamed(role.PermissionsBoundary) : undefined,
        session: sessionPolicies,
      };
    }
    return { identity: [] };
  }

  /** This account's credential for an access key: an IAM user's active key or an unexpired role session. */
  lookupKey(accessKeyId: string): Credential | undefined {
    const key = this.get('accesskey', accessKeyId);
    if (key) {
      const user = this.get('user', key.UserName);
      if (!user || key.Status !== 'Active') return undefined;
      return {
        secretAccessKey: key.SecretAccessKey,
        principal: { accountId: this.accountId, arn: user.Arn, userId: user.UserId, accessKeyId, type: 'user', name: user.UserName },
      };
    }
    const session = this.get('session', accessKeyId);
    if (session) {
      const info: PrincipalSession = {
        kind: session.Kind ?? 'role',
        issuedAt: Date.parse(session.IssuedAt ?? session.Expiration),
        mfaAt: session.MfaAuthTime ? Date.parse(session.MfaAuthTime) : undefined,
        tags: session.Tags?.length ? Object.fromEntries(session.Tags.map((t) => [t.Key, t.Value])) : undefined,
        transitiveTagKeys: session.TransitiveTagKeys,
      };
      const cred = { secretAccessKey: session.SecretAccessKey, sessionToken: session.SessionToken, expiration: Date.parse(session.Expiration) };
      if (session.Kind === 'token') {
        // GetSessionToken: the same user (or root), with the session's MFA state.
        const user = session.UserName !== undefined ? this.get('user', session.UserName) : undefined;
        if (session.UserName !== undefined && !user) return undefined;
        const principal: Principal = user
          ? { accountId: this.accountId, arn: user.Arn, userId: user.UserId, accessKeyId, type: 'user', name: user.UserName, session: info }
          : { accountId: this.accountId, arn: `arn:aws:iam::${this.accountId}:root`, userId: this.accountId, accessKeyId, type: 'root', session: info };
        return { ...cred, principal };
      }
      return {
        ...cred,
        principal: {
          accountId: this.accountId,
          arn: session.Arn,
          userId: session.AssumedRoleId,
          accessKeyId,
          type: 'assumed-role',
          name: session.SessionName,
          roleArn: session.RoleArn,
          session: info,
        },
      };
    }
    return undefined;
  }

  /** Records the last use of a user's access key (GetAccessKeyLastUsed); in memory, flushed lazily. */
  noteKeyUse(accessKeyId: string, service: string, region: string): void {
    const key = this.get('accesskey', accessKeyId);
    if (key) key.LastUsed = { LastUsedDate: new Date(now()).toISOString(), ServiceName: service, Region: region };
  }
}

function idOf(kind: Kind, doc: Record<string, string>): string {
  switch (kind) {
    case 'user':
      return doc.UserName!;
    case 'group':
      return doc.GroupName!;
    case 'role':
      return doc.RoleName!;
    case 'policy':
      return doc.Arn!;
    case 'accesskey':
    case 'session':
      return doc.AccessKeyId!;
    case 'loginprofile':
      return doc.UserName!;
    case 'mfa':
      return doc.SerialNumber!;
    case 'instanceprofile':
      return doc.InstanceProfileName!;
    case 'account':
      return 'settings';
  }
}

/**
 * Every account's IAM, and the credential provider. The default account's root uses the
 * configured key (test/test); any other account comes to exist on first use of its root
 * credentials, whose access key id is the 12-digit account id itself and whose secret is
 * the configured root secret (so `AWS_ACCESS_KEY_ID=111111111111` is the root of account
 * 111111111111). Users' and sessions' keys are unique across accounts.
 */
export class IamAccounts implements CredentialProvider {
  private readonly byAccount = new Map<string, IamState>();

  constructor(
    private readonly store: MetadataStore,
    readonly defaultAccountId: string,
    private readonly root: { accessKeyId: string; secretAccessKey: string },
  ) {}

  async load(): Promise<void> {
    const ids = new Set([this.defaultAccountId, ...(await this.store.docs.accounts())]);
    for (const id of ids) await this.forAccount(id).load();
    // Sessions expire by the hour; sweep them out now and then.
    this.sweep = setInterval(() => {
      for (const s of this.byAccount.values()) s.dropExpiredSessions().catch(() => undefined);
    }, 15 * 60_000);
    this.sweep.unref();
  }

  private sweep?: NodeJS.Timeout;

  stop(): void {
    if (this.sweep) clearInterval(this.sweep);
  }

  /** An account's IAM state (empty until something is written to it). */
  forAccount(accountId: string): IamState {
    let s = this.byAccount.get(accountId);
    if (!s) {
      s = new IamState(this.store, accountId);
      this.byAccount.set(accountId, s);
    }
    return s;
  }

  accounts(): string[] {
    return [...this.byAccount.keys()];
  }

  lookup(accessKeyId: string): Credential | undefined {
    const rootOf = accessKeyId === this.root.accessKeyId ? this.defaultAccountId : /^\d{12}$/.test(accessKeyId) ? accessKeyId : undefined;
    if (rootOf !== undefined) {
      return {
        secretAccessKey: this.root.secretAccessKey,
        principal: { accountId: rootOf, arn: `arn:aws:iam::${rootOf}:root`, userId: rootOf, accessKeyId, type: 'root' },
      };
    }
    for (const state of this.byAccount.values()) {
      const c = state.lookupKey(accessKeyId);
      if (c) return c;
    }
    return undefined;
  }
}
