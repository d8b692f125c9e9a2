import type { RequestContext } from '../../server/context.js';
import { StoreError, type LogGroupRecord } from '../../storage/metadata.js';
import { now } from '../../util/clock.js';
import { LogsErrors, groupNotFound } from './errors.js';
import { requestTagKeys } from '../../server/authorize.js';
import { RETENTION_DAYS, account, decodeToken, encodeToken, groupArn, groupAuthArn, parseGroupArn, requireGroup, type GroupRef } from './common.js';

/**
 * Log groups: create, delete, describe, retention, deletion protection and tags.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_Operations.html
 */
type Tags = Record<string, string>;

function refOf(ctx: RequestContext, name: string): GroupRef {
  return { account: account(ctx), region: ctx.region, name };
}

export async function createLogGroup(
  i: { logGroupName: string; kmsKeyId?: string; tags?: Tags; logGroupClass?: string; deletionProtectionEnabled?: boolean },
  ctx: RequestContext,
): Promise<void> {
  // "Log group names can't start with the string aws/" (the /aws/… names are AWS's own).
  if (i.logGroupName.startsWith('aws/')) {
    throw LogsErrors.InvalidParameterException({ message: "Log group names can't start with the string aws/" });
  }
  // "To assign tags when you create a log group, you must have either the logs:TagResource
  // or logs:TagLogGroup permission."
  if (i.tags && Object.keys(i.tags).length) {
    const ref = refOf(ctx, i.logGroupName);
    const conditions = requestTagKeys(Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })));
    if (!(await ctx.isAllowed('logs:TagResource', groupArn(ref), conditions)) && !(await ctx.isAllowed('logs:TagLogGroup', groupAuthArn(ref), conditions))) {
      throw LogsErrors.AccessDeniedException({ message: `User with accountId: ${ref.account} is not authorized to perform CreateLogGroup with Tags` });
    }
  }
  try {
    await ctx.runtime.store.transaction((tx) =>
      tx.logs.createGroup({
        account: account(ctx),
        region: ctx.region,
        name: i.logGroupName,
        createdAt: now(),
        kmsKeyId: i.kmsKeyId,
        logGroupClass: i.logGroupClass ?? 'STANDARD',
        deletionProtection: i.deletionProtectionEnabled ?? false,
        tags: i.tags ?? {},
      }),
    );
  } catch (e) {
    if (e instanceof StoreError && e.kind === 'Conflict') throw LogsErrors.ResourceAlreadyExistsException({ message: 'The specified log group already exists' });
    throw e;
  }
}

export async function deleteLogGroup(i: { logGroupName: string }, ctx: RequestContext): Promise<void> {
  await ctx.runtime.store.transaction(async (tx) => {
    const g = await tx.logs.getGroup(account(ctx), ctx.region, i.logGroupName);
    if (!g) throw groupNotFound();
    if (g.deletionProtection) throw protectedGroup(g);
    await tx.logs.deleteGroup(g.id);
  });
}

export function protectedGroup(g: LogGroupRecord) {
  return LogsErrors.ValidationException({ message: `Log group ${g.name} has deletion protection enabled; disable it with PutLogGroupDeletionProtection first.` });
}

export async function putLogGroupDeletionProtection(i: { logGroupIdentifier: string; deletionProtectionEnabled: boolean }, ctx: RequestContext): Promise<void> {
  const ref = i.logGroupIdentifier.startsWith('arn:') ? parseGroupArn(i.logGroupIdentifier) : refOf(ctx, i.logGroupIdentifier);
  if (!ref) throw LogsErrors.InvalidParameterException({ message: `Invalid log group identifier: ${i.logGroupIdentifier}` });
  await ctx.runtime.store.transaction(async (tx) => {
    const g = await tx.logs.getGroup(ref.account, ref.region, ref.name);
    if (!g) throw groupNotFound();
    await tx.logs.updateGroup(g.id, { deletionProtection: i.deletionProtectionEnabled });
  });
}

/** DescribeLogGroups' entry for a group; with logGroupNamePattern AWS leaves out storedBytes and the rest. */
function describe(g: LogGroupRecord, brief: boolean): Record<string, unknown> {
  const arn = groupArn(g);
  const out: Record<string, unknown> = {
    logGroupName: g.name,
    creationTime: g.createdAt,
    metricFilterCount: 0,
    arn: `${arn}:*`,
    logGroupClass: g.logGroupClass,
    logGroupArn: arn,
  };
  if (brief) return out;
  if (g.retentionInDays !== undefined) out.retentionInDays = g.retentionInDays;
  out.storedBytes = g.storedBytes;
  if (g.kmsKeyId !== undefined) out.kmsKeyId = g.kmsKeyId;
  out.deletionProtectionEnabled = g.deletionProtection;
  return out;
}

export async function describeLogGroups(
  i: { logGroupNamePrefix?: string; logGroupNamePattern?: string; nextToken?: string; limit?: number; logGroupClass?: string; logGroupIdentifiers?: string[] },
  ctx: RequestContext,
): Promise<unknown> {
  if (i.logGroupNamePrefix !== undefined && i.logGroupNamePattern !== undefined) {
    throw LogsErrors.InvalidParameterException({ message: 'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.' });
  }
  const limit = i.limit ?? 50;
  const after = decodeToken('groups', i.nextToken, (v): v is string => typeof v === 'string');
  const store = ctx.runtime.store;
  let groups: LogGroupRecord[];
  if (i.logGroupIdentifiers) {
    // Only the groups named (by name or ARN, of this account), in name order.
    const found: LogGroupRecord[] = [];
    for (const id of new Set(i.logGroupIdentifiers)) {
      const ref = id.startsWith('arn:') ? parseGroupArn(id) : refOf(ctx, id);
      if (!ref || ref.account !== account(ctx)) continue;
      const g = await store.logs.getGroup(ref.account, ref.region, ref.name);
      if (g && (!i.logGroupClass || g.logGroupClass === i.logGroupClass)) found.push(g);
    }
    groups = found.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))).filter((g) => after === undefined || g.name > after).slice(0, limit + 1);
  } else {
    groups = await store.logs.listGroups(account(ctx), ctx.region, {
      prefix: i.logGroupNamePrefix,
      contains: i.logGroupNamePattern || undefined,
      logGroupClass: i.logGroupClass,
      after,
      limit: limit + 1,
    });
  }
  const page = groups.slice(0, limit);
  const out: Record<string, unknown> = { logGroups: page.map((g) => describe(g, i.logGroupNamePattern !== undefined)) };
  if (groups.length > limit) out.nextToken = encodeToken('groups', page[page.length - 1]!.name);
  return out;
}

export async function putRetentionPolicy(i: { logGroupName: string; retentionInDays: number }, ctx: RequestContext): Promise<void> {
  if (!RETENTION_DAYS.includes(i.retentionInDays)) {
    throw LogsErrors.InvalidParameterException({
      message: `1 validation error detected: Value '${i.retentionInDays}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
    });
  }
  await ctx.runtime.store.transaction(async (tx) => {
    const g = await tx.logs.getGroup(account(ctx), ctx.region, i.logGroupName);
    if (!g) throw groupNotFound();
    await tx.logs.updateGroup(g.id, { retentionInDays: i.retentionInDays });
  });
}

export async function deleteRetentionPolicy(i: { logGroupName: string }, ctx: RequestContext): Promise<void> {
  await ctx.runtime.store.transaction(async (tx) => {
    const g = await tx.logs.getGroup(account(ctx), ctx.region, i.logGroupName);
    if (!g) throw groupNotFound();
    await tx.logs.updateGroup(g.id, { retentionInDays: null });
  });
}

// Tags. A log group has at most 50: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html

async function changeTags(ctx: RequestContext, ref: GroupRef, change: (tags: Tags) => Tags, tooMany: () => Error): Promise<void> {
  await ctx.runtime.store.transaction(async (tx) => {
    const g = await tx.logs.getGroup(ref.account, ref.region, ref.name);
    if (!g) throw groupNotFound();
    const tags = change({ ...g.tags });
    if (Object.keys(tags).length > 50) throw tooMany();
    await tx.logs.updateGroup(g.id, { tags });
  });
}

/** The log group a tagging API's resourceArn names (log groups are the taggable resource Nimbus has). */
function taggedGroup(resourceArn: string): GroupRef {
  const ref = parseGroupArn(resourceArn);
  if (ref) return ref;
  if (/^arn:aws[\w-]*:logs:[a-z0-9-]+:\d{12}:/.test(resourceArn)) throw LogsErrors.ResourceNotFoundException({ message: 'The specified resource does not exist.' });
  throw LogsErrors.InvalidParameterException({ message: `Invalid ARN: ${resourceArn}` });
}

export async function tagLogGroup(i: { logGroupName: string; tags: Tags }, ctx: RequestContext): Promise<void> {
  await changeTags(ctx, refOf(ctx, i.logGroupName), (t) => ({ ...t, ...i.tags }), () => LogsErrors.InvalidParameterException({ message: 'A log group can have no more than 50 tags.' }));
}

export async function untagLogGroup(i: { logGroupName: string; tags: string[] }, ctx: RequestContext): Promise<void> {
  await changeTags(ctx, refOf(ctx, i.logGroupName), (t) => withoutKeys(t, i.tags), () => LogsErrors.InvalidParameterException());
}

export async function listTagsLogGroup(i: { logGroupName: string }, ctx: RequestContext): Promise<unknown> {
  const g = await requireGroup(ctx.runtime.store, refOf(ctx, i.logGroupName));
  return { tags: g.tags };
}

export async function tagResource(i: { resourceArn: string; tags: Tags }, ctx: RequestContext): Promise<void> {
  await changeTags(ctx, taggedGroup(i.resourceArn), (t) => ({ ...t, ...i.tags }), () => LogsErrors.TooManyTagsException({ resourceName: i.resourceArn }));
}

export async function untagResource(i: { resourceArn: string; tagKeys: string[] }, ctx: RequestContext): Promise<void> {
  await changeTags(ctx, taggedGroup(i.resourceArn), (t) => withoutKeys(t, i.tagKeys), () => LogsErrors.InvalidParameterException());
}

export async function listTagsForResource(i: { resourceArn: string }, ctx: RequestContext): Promise<unknown> {
  const g = await requireGroup(ctx.runtime.store, taggedGroup(i.resourceArn));
  return { tags: g.tags };
}

function withoutKeys(tags: Tags, keys: string[]): Tags {
  for (const k of keys) delete tags[k];
  return tags;
}
