import type { RequestContext } from '../../server/context.js';
import type { Tag } from './state.js';
import { IamErrors } from './errors.js';
import { iam, paginate } from './common.js';

/**
 * Tags on IAM resources, shared by users, roles, customer managed policies and instance
 * profiles. AWS's rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html):
 * at most 50 tags; keys 1–128 and values 0–256 characters of letters, digits, spaces and
 * `_ . : / = + - @`; keys may not start with `aws:`; tagging an existing key replaces its
 * value. Keys of users and roles are case-insensitive (case preserved: `department=hr`
 * replaces `Department=finance`); keys of every other resource type are case-sensitive.
 */
export type TaggedResource = 'User' | 'Role' | 'Policy' | 'InstanceProfile';

const MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_PATTERN_TEXT = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+';

/** Users' and roles' tag keys are compared without case; the other resources' are not. */
export function caseInsensitiveKeys(resource: TaggedResource): boolean {
  return resource === 'User' || resource === 'Role';
}

function keyOf(resource: TaggedResource, key: string): string {
  return caseInsensitiveKeys(resource) ? key.toLowerCase() : key;
}

function tooMany(resource: TaggedResource): Error {
  return IamErrors.LimitExceeded({ message: `Cannot exceed quota for TagsPer${resource}: ${MAX_TAGS}` });
}

/** The constraint messages AWS's request validation gives, naming the member that failed. */
function constraint(value: string, member: string, rule: string): Error {
  return IamErrors.ValidationError({ message: `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}` });
}

/** Validates the tags of one request (CreateX's Tags or TagX's Tags). */
export function validateTags(tags: Tag[] | undefined, resource: TaggedResource): Tag[] {
  const list = tags ?? [];
  if (list.length > MAX_TAGS) throw tooMany(resource);
  const seen = new Set<string>();
  list.forEach((t, i) => {
    const key = t.Key ?? '';
    const value = t.Value ?? '';
    const at = `tags.${i + 1}.member`;
    if (key.length < 1) throw constraint(key, `${at}.key`, 'Member must have length greater than or equal to 1');
    if (key.length > 128) throw constraint(key, `${at}.key`, 'Member must have length less than or equal to 128');
    if (!TAG_CHARS.test(key)) throw constraint(key, `${at}.key`, `Member must satisfy regular expression pattern: ${TAG_PATTERN_TEXT}`);
    if (value.length > 256) throw constraint(value, `${at}.value`, 'Member must have length less than or equal to 256');
    if (!TAG_CHARS.test(value)) throw constraint(value, `${at}.value`, `Member must satisfy regular expression pattern: ${TAG_PATTERN_TEXT.replace(/\+$/, '*')}`);
    if (key.toLowerCase().startsWith('aws:')) throw IamErrors.InvalidInput({ message: `Tag keys beginning with 'aws:' are reserved for AWS use: ${key}` });
    const k = keyOf(resource, key);
    if (seen.has(k)) {
      throw IamErrors.InvalidInput({
        message: caseInsensitiveKeys(resource) ? 'Duplicate tag keys found. Please note that Tag keys are case insensitive.' : 'Duplicate tag keys found.',
      });
    }
    seen.add(k);
  });
  return list.map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
}

/** Existing tags with the request's added or replacing theirs; the total is capped at 50. */
export function mergeTags(existing: Tag[], incoming: Tag[] | undefined, resource: TaggedResource): Tag[] {
  const add = validateTags(incoming, resource);
  const byKey = new Map(existing.map((t) => [keyOf(resource, t.Key), t]));
  // A replaced key takes the request's spelling, as AWS's "department=hr replaces Department=finance".
  for (const t of add) byKey.set(keyOf(resource, t.Key), t);
  const out = [...byKey.values()];
  if (out.length > MAX_TAGS) throw tooMany(resource);
  return out;
}

/** Existing tags without the named keys (unknown keys are ignored, as AWS ignores them). */
export function removeTags(existing: Tag[], keys: string[] | undefined, resource: TaggedResource): Tag[] {
  if ((keys ?? []).length > MAX_TAGS) throw constraint(String(keys), 'tagKeys', `Member must have length less than or equal to ${MAX_TAGS}`);
  const drop = new Set((keys ?? []).map((k) => keyOf(resource, k)));
  return existing.filter((t) => !drop.has(keyOf(resource, t.Key)));
}

/** ListXTags: sorted by key, with Marker/MaxItems. */
export function tagPage(tags: Tag[], input: { Marker?: string; MaxItems?: number }) {
  const { page, IsTruncated, Marker } = paginate(tags, input, (t) => t.Key);
  return { Tags: page, IsTruncated, Marker };
}

type Kind = 'user' | 'role' | 'policy' | 'instanceprofile';
type Input = Record<string, any>;

/**
 * TagX / UntagX / ListXTags for one resource type: `find` returns the document named by the
 * request (or throws NoSuchEntity) and `id` its key in IAM state.
 */
export function tagHandlers<D extends { Tags: Tag[] }>(spec: {
  resource: TaggedResource;
  kind: Kind;
  find: (ctx: RequestContext, input: Input) => D;
  id: (doc: D) => string;
  /** Refuses a change (e.g. to an AWS managed policy); called with the current document. */
  guard?: (doc: D, ctx: RequestContext) => void;
}) {
  const update = async (ctx: RequestContext, input: Input, change: (tags: Tag[]) => Tag[]) => {
    const found = spec.find(ctx, input);
    spec.guard?.(found, ctx);
    const id = spec.id(found);
    await iam(ctx).write(async (tx) => {
      const cur = ((await tx.get(spec.kind, id)) as D | undefined) ?? found;
      await tx.put(spec.kind, id, { ...cur, Tags: change(cur.Tags ?? []) } as never);
    });
    return {};
  };
  return {
    tag: (input: Input, ctx: RequestContext) => update(ctx, input, (tags) => mergeTags(tags, input.Tags, spec.resource)),
    untag: (input: Input, ctx: RequestContext) => update(ctx, input, (tags) => removeTags(tags, input.TagKeys, spec.resource)),
    list: (input: Input, ctx: RequestContext) => tagPage(spec.find(ctx, input).Tags ?? [], input),
  };
}
