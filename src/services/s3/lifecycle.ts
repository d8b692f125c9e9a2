import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import type { BucketRecord, ObjectRecord } from '../../storage/metadata.js';
import { S3Errors } from './errors.js';
import { requireBucket } from './common.js';
import { bucketConfig, peekBucketConfig, storeBucketConfig } from './bucket-configs.js';
import { loadObjectAttrs } from './object-attrs.js';
import type { Tag } from './tagging.js';

/**
 * S3 Lifecycle configuration: PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration,
 * DeleteBucketLifecycle, the rules' filters and due times, and the x-amz-expiration header.
 * The rules are carried out by the background worker (lifecycle-worker.ts).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 */
export const LIFECYCLE = 'lifecycle';

export interface LifecycleFilter {
  Prefix?: string;
  Tag?: Tag;
  ObjectSizeGreaterThan?: number;
  ObjectSizeLessThan?: number;
  And?: { Prefix?: string; Tags?: Tag[]; ObjectSizeGreaterThan?: number; ObjectSizeLessThan?: number };
}

export interface LifecycleRule {
  ID: string;
  Status: 'Enabled' | 'Disabled';
  /** Lifecycle V1: the rule's scope is a bare prefix. */
  Prefix?: string;
  Filter?: LifecycleFilter;
  /** Dates are kept as ISO 8601 text (always midnight UTC). */
  Expiration?: { Date?: string; Days?: number; ExpiredObjectDeleteMarker?: boolean };
  Transitions?: Array<{ Date?: string; Days?: number; StorageClass: string }>;
  NoncurrentVersionTransitions?: Array<{ NoncurrentDays: number; StorageClass: string; NewerNoncurrentVersions?: number }>;
  NoncurrentVersionExpiration?: { NoncurrentDays: number; NewerNoncurrentVersions?: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

export type MinimumObjectSize = 'all_storage_classes_128K' | 'varies_by_storage_class';

/** A bucket's lifecycle configuration as stored (bucket configuration `lifecycle`, JSON). */
export interface LifecycleConfig {
  rules: LifecycleRule[];
  minimumObjectSize: MinimumObjectSize;
}

const MAX_RULES = 1000;
const MAX_ID = 255;
const MAX_SIZE = 1099511627776000;
/** Below this size nothing transitions unless a rule names a size ("all_storage_classes_128K"). */
export const TRANSITION_MIN_SIZE = 128 * 1024;
const TRANSITION_CLASSES = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'ONEZONE_IA', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];
/** Classes that need 30 days in S3 Standard first. */
const INFREQUENT_ACCESS = new Set(['STANDARD_IA', 'ONEZONE_IA']);

/**
 * The transition waterfall: objects move only to a class further down
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html).
 */
const WATERFALL: Record<string, number> = {
  STANDARD: 0,
  REDUCED_REDUNDANCY: 0,
  STANDARD_IA: 1,
  INTELLIGENT_TIERING: 2,
  ONEZONE_IA: 3,
  GLACIER_IR: 4,
  GLACIER: 5,
  DEEP_ARCHIVE: 6,
};

export function waterfallRank(storageClass: string): number {
  return WATERFALL[storageClass] ?? 0;
}

type Input = Record<string, any>;

// ---------------------------------------------------------------------------------------
// Time: days and "midnight UTC", in units of the configured lifecycle day.

/** The start of the (lifecycle) day holding `t`: its midnight UTC. */
export function dayStart(t: number, day: number): number {
  return Math.floor(t / day) * day;
}

/**
 * When an action `days` days after `t` is due: S3 adds the days to the time and rounds the
 * result to the next day at midnight UTC ("an object created on 1/1/2020 10:30 UTC with a
 * rule to transition it after 3 days transitions on 1/5/2020 00:00 UTC").
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html#intro-lifecycle-rules-number-of-days
 */
export function dueAt(t: number, days: number, day: number): number {
  return dayStart(t + days * day, day) + day;
}

// ---------------------------------------------------------------------------------------
// Filters.

/** A rule's scope, flattened: a prefix, tags all of which must be present, and size bounds. */
export interface Scope {
  prefix: string;
  tags: Tag[];
  greaterThan?: number;
  lessThan?: number;
}

export function scopeOf(rule: LifecycleRule): Scope {
  if (rule.Filter === undefined) return { prefix: rule.Prefix ?? '', tags: [] };
  const f = rule.Filter;
  if (f.And) return { prefix: f.And.Prefix ?? '', tags: f.And.Tags ?? [], greaterThan: f.And.ObjectSizeGreaterThan, lessThan: f.And.ObjectSizeLessThan };
  return { prefix: f.Prefix ?? '', tags: f.Tag ? [f.Tag] : [], greaterThan: f.ObjectSizeGreaterThan, lessThan: f.ObjectSizeLessThan };
}

/** Whether a version with this key and size (and tags, when the scope names some) is in scope. */
export function inScope(s: Scope, key: string, size: number, tags: Tag[] | undefined): boolean {
  if (!key.startsWith(s.prefix)) return false;
  if (s.greaterThan !== undefined && !(size > s.greaterThan)) return false;
  if (s.lessThan !== undefined && !(size < s.lessThan)) return false;
  for (const t of s.tags) if (!tags?.some((o) => o.Key === t.Key && o.Value === t.Value)) return false;
  return true;
}

/**
 * Whether a transition may move an object of this size: by default nothing under 128 KB
 * moves (all_storage_classes_128K), or nothing but to GLACIER / DEEP_ARCHIVE
 * (varies_by_storage_class); a rule naming a size decides for itself.
 */
export function transitionSizeAllowed(cfg: LifecycleConfig, scope: Scope, storageClass: string, size: number): boolean {
  if (scope.greaterThan !== undefined || scope.lessThan !== undefined) return true;
  if (size >= TRANSITION_MIN_SIZE) return true;
  return cfg.minimumObjectSize === 'varies_by_storage_class' && (storageClass === 'GLACIER' || storageClass === 'DEEP_ARCHIVE');
}

// ---------------------------------------------------------------------------------------
// Validation, in S3's words and codes.

const filterText = (s: Scope) => `(prefix=${s.prefix})`;
const badRequest = (message: string) => S3Errors.InvalidRequest({ message });
const badArgument = (message: string, name?: string, value?: unknown) =>
  S3Errors.InvalidArgument({ message, ArgumentName: name, ArgumentValue: value === undefined ? undefined : String(value) });

function isInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n);
}

/** A Date element: an ISO 8601 time at midnight UTC. */
function midnightDate(d: unknown): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw S3Errors.MalformedXML();
  if (d.getTime() % 86_400_000 !== 0) throw badArgument("'Date' must be at midnight GMT", 'Date', d.toISOString());
  return d.toISOString();
}

function checkTags(tags: Tag[]): Tag[] {
  const seen = new Set<string>();
  for (const t of tags) {
    if (typeof t?.Key !== 'string' || t.Key === '' || typeof t.Value !== 'string') throw S3Errors.MalformedXML();
    if (seen.has(t.Key)) throw badRequest('Duplicate Tag Keys are not allowed.');
    seen.add(t.Key);
  }
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

function checkSizes(gt: unknown, lt: unknown): void {
  if (gt !== undefined && (!isInt(gt) || gt < 0 || gt > MAX_SIZE)) throw badRequest(`'ObjectSizeGreaterThan' should be between 0 and ${MAX_SIZE}.`);
  if (lt !== undefined && (!isInt(lt) || lt < 1 || lt > MAX_SIZE)) throw badRequest(`'ObjectSizeLessThan' should be between 1 and ${MAX_SIZE}.`);
  if (isInt(gt) && isInt(lt) && lt <= gt) throw badRequest("'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.");
}

function checkFilter(f: Input): LifecycleFilter {
  const given = ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'].filter((k) => f[k] !== undefined);
  // The schema's Filter is a choice: one predicate, or several inside And.
  if (given.length > 1) throw S3Errors.MalformedXML();
  if (f.And !== undefined) {
    const a = f.And as Input;
    checkSizes(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan);
    const and: NonNullable<LifecycleFilter['And']> = {};
    if (a.Prefix !== undefined) and.Prefix = String(a.Prefix);
    if (a.Tags !== undefined) and.Tags = checkTags(a.Tags);
    if (a.ObjectSizeGreaterThan !== undefined) and.ObjectSizeGreaterThan = a.ObjectSizeGreaterThan;
    if (a.ObjectSizeLessThan !== undefined) and.ObjectSizeLessThan = a.ObjectSizeLessThan;
    return { And: and };
  }
  if (f.Tag !== undefined) return { Tag: checkTags([f.Tag])[0] };
  checkSizes(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan);
  const out: LifecycleFilter = {};
  if (f.Prefix !== undefined) out.Prefix = String(f.Prefix);
  if (f.ObjectSizeGreaterThan !== undefined) out.ObjectSizeGreaterThan = f.ObjectSizeGreaterThan;
  if (f.ObjectSizeLessThan !== undefined) out.ObjectSizeLessThan = f.ObjectSizeLessThan;
  return out;
}

function storageClassOf(sc: unknown): string {
  if (typeof sc !== 'string' || !TRANSITION_CLASSES.includes(sc)) throw S3Errors.MalformedXML();
  return sc;
}

function newerVersions(n: unknown, v2: boolean): number | undefined {
  if (n === undefined) return undefined;
  if (!v2) throw badRequest('NewerNoncurrentVersions element can only be used in Lifecycle V2.');
  if (!isInt(n) || n <= 0) throw badArgument("'NewerNoncurrentVersions' must be a positive integer", 'NewerNoncurrentVersions', n);
  return n;
}

function checkRule(r: Input, v2: boolean): LifecycleRule {
  if (r.Status !== 'Enabled' && r.Status !== 'Disabled') throw S3Errors.MalformedXML();
  const rule: LifecycleRule = { ID: r.ID, Status: r.Status };
  if (v2 && r.Prefix !== undefined) throw badRequest('Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter.');
  if (!v2 && r.Filter !== undefined) throw badRequest('Filter element can only be used in Lifecycle V2.');
  if (r.Filter === undefined && r.Prefix === undefined) throw S3Errors.MalformedXML();
  if (r.Filter !== undefined) rule.Filter = checkFilter(r.Filter);
  else rule.Prefix = String(r.Prefix);
  const scope = scopeOf(rule);
  const tags = scope.tags.length > 0;
  const sizes = scope.greaterThan !== undefined || scope.lessThan !== undefined;

  const transitions = (r.Transitions ?? []) as Input[];
  const ncTransitions = (r.NoncurrentVersionTransitions ?? []) as Input[];
  if (!r.Expiration && !transitions.length && !ncTransitions.length && !r.NoncurrentVersionExpiration && !r.AbortIncompleteMultipartUpload) {
    throw badRequest('At least one action needs to be specified in a rule');
  }

  if (r.Expiration !== undefined) {
    const e = r.Expiration as Input;
    const given = ['Date', 'Days', 'ExpiredObjectDeleteMarker'].filter((k) => e[k] !== undefined);
    if (given.length !== 1) throw S3Errors.MalformedXML();
    if (e.Days !== undefined) {
      if (!isInt(e.Days) || e.Days <= 0) throw badArgument("'Days' for Expiration action must be a positive integer", 'Days', e.Days);
      rule.Expiration = { Days: e.Days };
    } else if (e.Date !== undefined) {
      rule.Expiration = { Date: midnightDate(e.Date) };
    } else {
      if (tags) throw badRequest('ExpiredObjectDeleteMarker cannot be specified with Tags.');
      if (sizes) throw badRequest('ExpiredObjectDeleteMarker cannot be specified with Object Size.');
      rule.Expiration = { ExpiredObjectDeleteMarker: e.ExpiredObjectDeleteMarker === true };
    }
  }

  if (r.NoncurrentVersionExpiration !== undefined) {
    const n = r.NoncurrentVersionExpiration as Input;
    if (n.NoncurrentDays === undefined) throw S3Errors.MalformedXML();
    if (!isInt(n.NoncurrentDays) || n.NoncurrentDays <= 0) {
      throw badArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer", 'NoncurrentDays', n.NoncurrentDays);
    }
    rule.NoncurrentVersionExpiration = { NoncurrentDays: n.NoncurrentDays };
    const newer = newerVersions(n.NewerNoncurrentVersions, v2);
    if (newer !== undefined) rule.NoncurrentVersionExpiration.NewerNoncurrentVersions = newer;
  }

  if (r.AbortIncompleteMultipartUpload !== undefined) {
    const a = r.AbortIncompleteMultipartUpload as Input;
    if (a.DaysAfterInitiation === undefined) throw S3Errors.MalformedXML();
    if (!isInt(a.DaysAfterInitiation) || a.DaysAfterInitiation <= 0) {
      throw badArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer", 'DaysAfterInitiation', a.DaysAfterInitiation);
    }
    if (tags) throw badRequest('AbortIncompleteMultipartUpload cannot be specified with Tags.');
    if (sizes) throw badRequest('AbortIncompleteMultipartUpload cannot be specified with Object Size.');
    rule.AbortIncompleteMultipartUpload = { DaysAfterInitiation: a.DaysAfterInitiation };
  }

  if (transitions.length) {
    const seen = new Set<string>();
    rule.Transitions = transitions.map((t) => {
      const sc = storageClassOf(t.StorageClass);
      if ((t.Days === undefined) === (t.Date === undefined)) throw S3Errors.MalformedXML();
      let out: { Date?: string; Days?: number; StorageClass: string };
      if (t.Days !== undefined) {
        if (!isInt(t.Days) || t.Days < 0) throw badArgument("'Days' in Transition action must be nonnegative", 'Days', t.Days);
        if (INFREQUENT_ACCESS.has(sc) && t.Days < 30) throw badArgument(`'Days' in Transition action must be greater than or equal to 30 for storageClass '${sc}'`, 'Days', t.Days);
        out = { Days: t.Days, StorageClass: sc };
      } else {
        out = { Date: midnightDate(t.Date), StorageClass: sc };
      }
      if (seen.has(sc)) throw badRequest(`'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '${filterText(scope)}'`);
      seen.add(sc);
      return out;
    });
    const byDays = rule.Transitions.some((t) => t.Days !== undefined);
    const byDate = rule.Transitions.some((t) => t.Date !== undefined);
    const e = rule.Expiration;
    if ((byDays && byDate) || (e?.Days !== undefined && byDate) || (e?.Date !== undefined && byDays)) {
      throw badRequest(`Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for filter '${filterText(scope)}'`);
    }
    const when = (t: { Date?: string; Days?: number }) => (t.Days !== undefined ? t.Days : Date.parse(t.Date!));
    const field = byDays ? 'Days' : 'Date';
    // Down the waterfall, each class comes later than the one above it.
    const ordered = [...rule.Transitions].sort((a, b) => waterfallRank(a.StorageClass) - waterfallRank(b.StorageClass));
    for (let i = 1; i < ordered.length; i++) {
      const prev = ordered[i - 1]!;
      const cur = ordered[i]!;
      if (when(cur) <= when(prev)) {
        throw badArgument(
          `'${field}' in the Transition action for StorageClass '${cur.StorageClass}' for filter '${filterText(scope)}' must be greater than '${field}' in the Transition action for StorageClass '${prev.StorageClass}' for filter '${filterText(scope)}'`,
        );
      }
    }
    const expiresAt = e?.Days ?? (e?.Date !== undefined ? Date.parse(e.Date) : undefined);
    if (expiresAt !== undefined && rule.Transitions.some((t) => when(t) >= expiresAt)) {
      throw badArgument(`'${field}' in the Expiration action for filter '${filterText(scope)}' must be greater than '${field}' in the Transition action`);
    }
  }

  if (ncTransitions.length) {
    const seen = new Set<string>();
    rule.NoncurrentVersionTransitions = ncTransitions.map((t) => {
      const sc = storageClassOf(t.StorageClass);
      if (t.NoncurrentDays === undefined) throw S3Errors.MalformedXML();
      if (!isInt(t.NoncurrentDays) || t.NoncurrentDays < 0) {
        throw badArgument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative", 'NoncurrentDays', t.NoncurrentDays);
      }
      if (INFREQUENT_ACCESS.has(sc) && t.NoncurrentDays < 30) {
        throw badArgument(`'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '${sc}'`, 'NoncurrentDays', t.NoncurrentDays);
      }
      if (seen.has(sc)) throw badRequest(`'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule' with filter '${filterText(scope)}'`);
      seen.add(sc);
      const out: { NoncurrentDays: number; StorageClass: string; NewerNoncurrentVersions?: number } = { NoncurrentDays: t.NoncurrentDays, StorageClass: sc };
      const newer = newerVersions(t.NewerNoncurrentVersions, v2);
      if (newer !== undefined) out.NewerNoncurrentVersions = newer;
      return out;
    });
    const ordered = [...rule.NoncurrentVersionTransitions].sort((a, b) => waterfallRank(a.StorageClass) - waterfallRank(b.StorageClass));
    for (let i = 1; i < ordered.length; i++) {
      const prev = ordered[i - 1]!;
      const cur = ordered[i]!;
      if (cur.NoncurrentDays <= prev.NoncurrentDays) {
        throw badArgument(
          `'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass '${cur.StorageClass}' for filter '${filterText(scope)}' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass '${prev.StorageClass}' for filter '${filterText(scope)}'`,
        );
      }
    }
    const nve = rule.NoncurrentVersionExpiration;
    if (nve && rule.NoncurrentVersionTransitions.some((t) => t.NoncurrentDays >= nve.NoncurrentDays)) {
      throw badArgument(
        `'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '${filterText(scope)}' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action`,
      );
    }
  }
  return rule;
}

/** In Lifecycle V1 (bare prefixes), no two rules whose prefixes overlap may take the same kind of action. */
function checkOverlaps(rules: LifecycleRule[]): void {
  const kinds: Array<[string, (r: LifecycleRule) => boolean]> = [
    ['Expiration', (r) => r.Expiration !== undefined],
    ['Transition', (r) => !!r.Transitions?.length],
    ['NoncurrentVersionTransition', (r) => !!r.NoncurrentVersionTransitions?.length],
    ['NoncurrentVersionExpiration', (r) => r.NoncurrentVersionExpiration !== undefined],
    ['AbortIncompleteMultipartUpload', (r) => r.AbortIncompleteMultipartUpload !== undefined],
  ];
  for (const [kind, takes] of kinds) {
    const prefixes = rules.filter(takes).map((r) => r.Prefix ?? '').sort();
    for (let i = 1; i < prefixes.length; i++) {
      if (prefixes[i]!.startsWith(prefixes[i - 1]!)) throw badRequest(`Found overlapping prefixes '${prefixes[i - 1]}' and '${prefixes[i]}' for same action type '${kind}'`);
    }
  }
}

/** A configuration as PutBucketLifecycleConfiguration receives it, checked; rules without an ID get one, as in S3. */
export function validateLifecycle(conf: Input | undefined, minimumObjectSize: string | undefined): LifecycleConfig {
  if (minimumObjectSize !== undefined && minimumObjectSize !== 'all_storage_classes_128K' && minimumObjectSize !== 'varies_by_storage_class') {
    throw badRequest('Invalid TransitionDefaultMinimumObjectSize found');
  }
  if (conf === undefined) throw S3Errors.MalformedXML();
  const given = (conf.Rules ?? []) as Input[];
  if (given.length === 0) throw badRequest('At least one lifecycle rule must be specified.');
  if (given.length > MAX_RULES) throw badRequest(`The number of lifecycle rules must not exceed the allowed limit of ${MAX_RULES} rules.`);
  const ids = new Set<string>();
  for (const r of given) {
    if (r.ID === undefined || r.ID === '') continue;
    if (String(r.ID).length > MAX_ID) throw badArgument(`ID length should not exceed allowed limit of ${MAX_ID}`, 'ID', r.ID);
    if (ids.has(r.ID)) throw badArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', r.ID);
    ids.add(r.ID);
  }
  // The first rule decides the version: a Filter is Lifecycle V2, a bare Prefix V1.
  const v2 = given[0]!.Filter !== undefined;
  const rules = given.map((r) => checkRule(r, v2));
  if (!v2) checkOverlaps(rules);
  for (const r of rules) if (r.ID === undefined || r.ID === '') r.ID = Buffer.from(randomUUID()).toString('base64').replace(/=+$/, '');
  return { rules, minimumObjectSize: (minimumObjectSize ?? 'all_storage_classes_128K') as MinimumObjectSize };
}

/** Called when a bucket's rules change, so the worker starts over with them. */
export const lifecycleEvents: { changed?: (bucketId: number) => void; tagsChanged?: (bucketId: number) => void } = {};

export async function putBucketLifecycleConfiguration(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  const cfg = validateLifecycle(input.LifecycleConfiguration, input.TransitionDefaultMinimumObjectSize);
  await storeBucketConfig(ctx, bucket, LIFECYCLE, cfg);
  lifecycleEvents.changed?.(bucket.id);
  return { TransitionDefaultMinimumObjectSize: cfg.minimumObjectSize };
}

/** The stored rules in the shape of the model (dates as Date values). */
function ruleOutput(r: LifecycleRule): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r };
  if (r.Expiration?.Date !== undefined) out.Expiration = { Date: new Date(r.Expiration.Date) };
  if (r.Transitions) out.Transitions = r.Transitions.map((t) => (t.Date !== undefined ? { Date: new Date(t.Date), StorageClass: t.StorageClass } : t));
  return out;
}

export async function getBucketLifecycleConfiguration(input: Input, ctx: RequestContext) {
  const found = await bucketConfig<LifecycleConfig>(ctx, input.Bucket, LIFECYCLE);
  if (!found) throw S3Errors.NoSuchBucket({ BucketName: input.Bucket });
  if (!found.config) throw S3Errors.NoSuchLifecycleConfiguration({ BucketName: input.Bucket });
  return { Rules: found.config.rules.map(ruleOutput), TransitionDefaultMinimumObjectSize: found.config.minimumObjectSize };
}

export async function deleteBucketLifecycle(input: Input, ctx: RequestContext) {
  const bucket = await requireBucket(ctx, input.Bucket);
  await storeBucketConfig(ctx, bucket, LIFECYCLE, undefined);
  lifecycleEvents.changed?.(bucket.id);
  return {};
}

// ---------------------------------------------------------------------------------------
// x-amz-expiration.

/** When the current version `rec` expires under an enabled rule's Expiration (Days or Date), and by which rule. */
export function expiryOf(cfg: LifecycleConfig, rec: Pick<ObjectRecord, 'key' | 'size' | 'lastModified'>, tags: Tag[] | undefined, day: number): { at: number; ruleId: string } | undefined {
  let best: { at: number; ruleId: string } | undefined;
  for (const r of cfg.rules) {
    if (r.Status !== 'Enabled' || !r.Expiration || (r.Expiration.Days === undefined && r.Expiration.Date === undefined)) continue;
    if (!inScope(scopeOf(r), rec.key, rec.size, tags)) continue;
    const at = r.Expiration.Days !== undefined ? dueAt(rec.lastModified, r.Expiration.Days, day) : Date.parse(r.Expiration.Date!);
    if (!best || at < best.at) best = { at, ruleId: r.ID };
  }
  return best;
}

/** Whether some enabled rule looks at tags (then the worker and the header need them). */
export function rulesNeedTags(cfg: LifecycleConfig): boolean {
  return cfg.rules.some((r) => r.Status === 'Enabled' && scopeOf(r).tags.length > 0);
}

/**
 * The x-amz-expiration header of a PUT, GET or HEAD of a current version that a rule will
 * expire: `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`.
 * Buckets without rules pay one cached lookup.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html#AmazonS3-HeadObject-response-header-Expiration
 */
export async function expirationHeader(ctx: RequestContext, bucket: BucketRecord, rec: ObjectRecord): Promise<string | undefined> {
  const cfg = (peekBucketConfig<LifecycleConfig>(bucket.name, LIFECYCLE) ?? (await bucketConfig<LifecycleConfig>(ctx, bucket.name, LIFECYCLE)))?.config;
  if (!cfg) return undefined;
  const tags = rulesNeedTags(cfg) ? (rec.attrs?.tags ?? (await loadObjectAttrs(ctx, bucket, rec.key, rec.versionId))?.tags) : undefined;
  const e = expiryOf(cfg, rec, tags, ctx.runtime.config.s3LifecycleDayMs);
  return e && `expiry-date="${new Date(e.at).toUTCString()}", rule-id="${e.ruleId}"`;
}
