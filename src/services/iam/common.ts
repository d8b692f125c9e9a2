import type { RequestContext } from '../../server/context.js';
import type { IamState, Tag } from './state.js';
import { IamErrors } from './errors.js';
import { now } from '../../util/clock.js';
import { validatePolicyDocument, PolicyValidationError } from '../../iam/engine/validate.js';
import { validateTags, type TaggedResource } from './tags.js';

/** Helpers shared by the IAM handlers. */
/** The caller's account's IAM: IAM requests always act within the caller's own account. */
export function iam(ctx: RequestContext): IamState {
  return ctx.runtime.iam.forAccount(account(ctx));
}

/** The caller's account id (the default account for anonymous requests). */
export function account(ctx: RequestContext): string {
  return ctx.principal?.accountId || ctx.runtime.config.accountId;
}

export function isoNow(): string {
  return new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** IAM paths: "/" or "/…/". */
export function checkPath(path: string | undefined): string {
  const p = path ?? '/';
  if (!/^\/([\x21-\x7e]+\/)?$/.test(p) || p.length > 512) {
    throw IamErrors.ValidationError({ message: `The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.` });
  }
  return p;
}

/** Entity names: letters, digits and +=,.@_- (1–64, 128 for roles' 64 too). */
export function checkName(name: string | undefined, what: string, max = 64): string {
  if (!name || name.length > max || !/^[\w+=,.@-]+$/.test(name)) {
    throw IamErrors.ValidationError({ message: `The specified value for ${what} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-` });
  }
  return name;
}

/** Marker/MaxItems pagination over a sorted list. */
export function paginate<T>(items: T[], input: { Marker?: string; MaxItems?: number }, key: (t: T) => string): { page: T[]; IsTruncated: boolean; Marker?: string } {
  const max = input.MaxItems ?? 100;
  if (max < 1 || max > 1000) throw IamErrors.ValidationError({ message: 'Invalid value for MaxItems: must be between 1 and 1000.' });
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const start = input.Marker ? sorted.findIndex((t) => key(t) > Buffer.from(input.Marker!, 'base64url').toString('utf8')) : 0;
  const from = start < 0 ? sorted.length : start;
  const page = sorted.slice(from, from + max);
  const truncated = from + max < sorted.length;
  return { page, IsTruncated: truncated, Marker: truncated ? Buffer.from(key(page[page.length - 1]!), 'utf8').toString('base64url') : undefined };
}

/** Validates a policy JSON text; MalformedPolicyDocument with AWS's message otherwise. */
export function checkPolicy(text: string | undefined, kind: 'identity' | 'resource' | 'trust'): string {
  if (!text) throw IamErrors.MalformedPolicyDocument({ message: 'Syntax errors in policy.' });
  try {
    validatePolicyDocument(text, kind);
  } catch (e) {
    if (e instanceof PolicyValidationError) throw IamErrors.MalformedPolicyDocument({ message: (e as Error).message });
    throw e;
  }
  return text;
}

/** AWS returns policy documents URL-encoded inside IAM responses. */
export function encodePolicy(text: string): string {
  return encodeURIComponent(text);
}

/** A create request's Tags, checked by AWS's tag rules (see tags.ts). */
export function checkTags(tags: Tag[] | undefined, resource: TaggedResource = 'User'): Tag[] {
  return validateTags(tags, resource);
}
