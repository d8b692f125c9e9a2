import type { RequestContext } from '../../server/context.js';
import type { MetadataStore } from '../../storage/metadata.js';
import { LambdaErrors } from './errors.js';

/**
 * Lambda's data: one document per function (its $LATEST configuration, published versions,
 * aliases, resource policy, concurrency, invoke configs, URL configs and tags), one per
 * layer, in the metadata store's document repository, keyed by account and
 * "<region>:<name>". A function's document is small and changes as a whole, in one
 * transaction, so versions and aliases never disagree.
 */
export const FUNCTION = 'lambda.function';
export const LAYER = 'lambda.layer';
/** url-id → the function URL it names, in the function's account (see LambdaStore.findUrl). */
export const URL_INDEX = 'lambda.url';

export interface VersionConfig {
  Version: string;
  Runtime?: string;
  Role: string;
  Handler?: string;
  Description: string;
  Timeout: number;
  MemorySize: number;
  EphemeralStorage: { Size: number };
  Environment?: Record<string, string>;
  /** Layer version ARNs, in order. */
  Layers: string[];
  Architectures: string[];
  PackageType: 'Zip';
  CodeSha256: string;
  CodeSize: number;
  /** Hex sha256 of the zip: the name of its file and extracted directory. */
  CodeKey: string;
  LastModified: string;
  RevisionId: string;
  State: 'Pending' | 'Active' | 'Inactive' | 'Failed';
  StateReason?: string;
  StateReasonCode?: string;
  LastUpdateStatus: 'Successful' | 'Failed' | 'InProgress';
  LastUpdateStatusReason?: string;
  LastUpdateStatusReasonCode?: string;
  TracingConfig: { Mode: 'Active' | 'PassThrough' };
  LoggingConfig: { LogFormat: 'Text' | 'JSON'; LogGroup: string; ApplicationLogLevel?: string; SystemLogLevel?: string };
  DeadLetterConfig?: { TargetArn?: string };
  KMSKeyArn?: string;
  /** A published version: the hash of the $LATEST it was published from (configHash). */
  SourceHash?: string;
}

export interface AliasDoc {
  Name: string;
  FunctionVersion: string;
  Description: string;
  /** Weighted routing: another version and the share of invokes it gets (0 < w < 1). */
  RoutingConfig?: { AdditionalVersionWeights: Record<string, number> };
  RevisionId: string;
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: '*' | Record<string, string>;
  Action: string;
  Resource: string;
  Condition?: Record<string, Record<string, string>>;
}

export interface EventInvokeConfig {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
  LastModified: string;
}

export interface UrlCors {
  AllowCredentials?: boolean;
  AllowHeaders?: string[];
  AllowMethods?: string[];
  AllowOrigins?: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

/** A function URL, kept in FunctionDoc.urlConfigs under '$LATEST' or its alias's name. */
export interface UrlConfig {
  /** 32 lowercase alphanumerics: the host's first label, fixed for the config's life. */
  UrlId: string;
  AuthType: 'NONE' | 'AWS_IAM';
  Cors?: UrlCors;
  InvokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  CreationTime: string;
  LastModifiedTime: string;
  /** The Qualifier the config was created with ('$LATEST' or an alias), for its FunctionArn. */
  Qualifier?: string;
}

/** An entry of the url-id index: which function (of the entry's account) and which URL. */
export interface UrlIndexEntry {
  region: string;
  name: string;
  /** The key in FunctionDoc.urlConfigs. */
  key: string;
}

/** Index changes written in the same transaction as a function's document. */
export interface UrlIndexChange {
  put?: { urlId: string; entry: UrlIndexEntry };
  remove?: string;
}

export interface FunctionDoc {
  FunctionName: string;
  Region: string;
  Account: string;
  latest: VersionConfig;
  versions: Record<string, VersionConfig>;
  nextVersion: number;
  aliases: Record<string, AliasDoc>;
  /** The resource-based policy's statements (AddPermission), keyed by qualifier ('' unqualified). */
  policy: Record<string, PolicyStatement[]>;
  policyRevision: Record<string, string>;
  reservedConcurrency?: number;
  /** Keyed by qualifier ('$LATEST', a version or an alias). */
  eventInvokeConfigs: Record<string, EventInvokeConfig>;
  urlConfigs: Record<string, UrlConfig>;
  tags: Record<string, string>;
  /**
   * Size and code of each layer version the function's configurations reference, kept
   * here so a function still runs after the layer version is deleted, as on AWS.
   */
  layerCode?: Record<string, { size: number; key: string }>;
}

export interface LayerVersionDoc {
  Version: number;
  Description: string;
  CreatedDate: string;
  CompatibleRuntimes?: string[];
  CompatibleArchitectures?: string[];
  LicenseInfo?: string;
  CodeSha256: string;
  CodeSize: number;
  CodeKey: string;
  policy: PolicyStatement[];
  policyRevision: string;
}

export interface LayerDoc {
  LayerName: string;
  Region: string;
  Account: string;
  versions: Record<string, LayerVersionDoc>;
  nextVersion: number;
}

export function accountOf(ctx: RequestContext): string {
  return ctx.principal?.accountId || ctx.runtime.config.accountId;
}

export function functionArn(region: string, account: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${account}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

export function layerArn(region: string, account: string, name: string, version?: number | string): string {
  return `arn:aws:lambda:${region}:${account}:layer:${name}${version !== undefined ? `:${version}` : ''}`;
}

export interface FunctionRef {
  account: string;
  region: string;
  name: string;
  qualifier?: string;
}

/**
 * A FunctionName as the API takes it: a name, `name:qualifier`, a full ARN or a partial
 * ARN (`123456789012:function:name`), each optionally qualified; plus a Qualifier member
 * that must agree with one in the name.
 */
export function parseFunctionName(ctx: RequestContext, raw: string | undefined, qualifier?: string): FunctionRef {
  const value = decodeURIComponent(String(raw ?? ''));
  const m =
    /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(value) ??
    /^()(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(value) ??
    /^()()([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(value);
  if (!m || m[3]!.length > 64) {
    throw LambdaErrors.ValidationException({
      message: `1 validation error detected: Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    });
  }
  const region = m[1] || ctx.region;
  const account = m[2] || accountOf(ctx);
  if (qualifier !== undefined && m[4] !== undefined && qualifier !== m[4]) {
    throw LambdaErrors.InvalidParameterValueException({ message: 'The derived qualifier from the function name does not match the specified qualifier.' });
  }
  return { account, region, name: m[3]!, qualifier: qualifier ?? m[4] };
}

/** Reads and writes Lambda's documents. */
export class LambdaStore {
  constructor(private readonly store: MetadataStore) {}

  getFunction(ref: { account: string; region: string; name: string }): Promise<FunctionDoc | undefined> {
    return this.store.docs.get<FunctionDoc>(ref.account, FUNCTION, `${ref.region}:${ref.name}`);
  }

  async listFunctions(account: string, region: string): Promise<FunctionDoc[]> {
    return (await this.store.docs.list<FunctionDoc>(account, FUNCTION)).filter((f) => f.Region === region);
  }

  getLayer(account: string, region: string, name: string): Promise<LayerDoc | undefined> {
    return this.store.docs.get<LayerDoc>(account, LAYER, `${region}:${name}`);
  }

  async listLayers(account: string, region: string): Promise<LayerDoc[]> {
    return (await this.store.docs.list<LayerDoc>(account, LAYER)).filter((l) => l.Region === region);
  }

  /**
   * Changes a function's document in one transaction: `fn` gets the current document
   * (read inside the transaction) and returns the new one, or null to delete it.
   */
  async updateFunction<T>(
    ref: { account: string; region: string; name: string },
    fn: (doc: FunctionDoc | undefined) => { doc: FunctionDoc | null | undefined; result: T; urlIndex?: UrlIndexChange },
  ): Promise<T> {
    const id = `${ref.region}:${ref.name}`;
    return this.store.transaction(async (tx) => {
      const cur = await tx.docs.get<FunctionDoc>(ref.account, FUNCTION, id);
      const { doc, result, urlIndex } = fn(cur);
      if (doc === null) await tx.docs.delete(ref.account, FUNCTION, id);
      else if (doc !== undefined) await tx.docs.put(ref.account, FUNCTION, id, doc);
      if (urlIndex?.put) await tx.docs.put(ref.account, URL_INDEX, urlIndex.put.urlId, urlIndex.put.entry);
      if (urlIndex?.remove) await tx.docs.delete(ref.account, URL_INDEX, urlIndex.remove);
      return result;
    });
  }

  /**
   * The function and URL config a url-id names. The index is only a pointer: the function's
   * document decides, so an entry left behind by DeleteFunction or DeleteAlias (which do
   * not touch the index) finds nothing, and is dropped.
   */
  async findUrl(urlId: string): Promise<{ fn: FunctionDoc; key: string; config: UrlConfig } | undefined> {
    for (const account of await this.store.docs.accounts()) {
      const entry = await this.store.docs.get<UrlIndexEntry>(account, URL_INDEX, urlId);
      if (!entry) continue;
      const fn = await this.getFunction({ account, region: entry.region, name: entry.name });
      const config = fn?.urlConfigs[entry.key];
      if (fn && config?.UrlId === urlId) return { fn, key: entry.key, config };
      await this.store.transaction(async (tx) => {
        const again = await tx.docs.get<FunctionDoc>(account, FUNCTION, `${entry.region}:${entry.name}`);
        if (again?.urlConfigs[entry.key]?.UrlId !== urlId) await tx.docs.delete(account, URL_INDEX, urlId);
      });
      return undefined;
    }
    return undefined;
  }

  async updateLayer<T>(account: string, region: string, name: string, fn: (doc: LayerDoc | undefined) => { doc: LayerDoc | null | undefined; result: T }): Promise<T> {
    const id = `${region}:${name}`;
    return this.store.transaction(async (tx) => {
      const cur = await tx.docs.get<LayerDoc>(account, LAYER, id);
      const { doc, result } = fn(cur);
      if (doc === null) await tx.docs.delete(account, LAYER, id);
      else if (doc !== undefined) await tx.docs.put(account, LAYER, id, doc);
      return result;
    });
  }
}
