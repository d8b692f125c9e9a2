import type { Runtime } from '../../server/runtime.js';
import type { BucketRecord, KeyVersion, ObjectRecord } from '../../storage/metadata.js';
import { now as clockNow } from '../../util/clock.js';
import { log } from '../../util/log.js';
import {
  LIFECYCLE,
  dayStart,
  dueAt,
  inScope,
  lifecycleEvents,
  rulesNeedTags,
  scopeOf,
  transitionSizeAllowed,
  waterfallRank,
  type LifecycleConfig,
  type LifecycleRule,
  type Scope,
} from './lifecycle.js';
import type { Tag } from './tagging.js';

/**
 * The lifecycle worker: carries out the buckets' lifecycle rules in the background.
 *
 * S3 evaluates lifecycle once a day; so does this worker, at the first tick after each
 * (lifecycle) midnight, and also soon after a bucket's rules change. A run visits only the
 * buckets that have rules (an index on the configuration's name), and in each of them only
 * the rows that became due since the previous run: every action has a cutoff (objects last
 * modified before `midnight - Days` are due, `dueAt` in lifecycle.ts), the worker remembers
 * the cutoff it reached per action, and the next run reads the range between the two from an
 * index by age (objects by last_modified, other versions by noncurrent_since). So a run costs
 * the rows that became due, plus one pass from the beginning after start-up or a change of
 * rules (state is in memory: after a restart that pass finds whatever came due meanwhile,
 * and every action re-checks the version it acts on, so nothing is done twice).
 *
 * Actions, as in https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html:
 * Expiration (unversioned: the object goes; versioned: a delete marker; suspended: a null
 * delete marker, the null version going), transitions (the version's storage class changes,
 * only down the waterfall, and by default not for objects under 128 KB), NoncurrentVersion-
 * Expiration and -Transition by the time a version stopped being current (keeping the
 * NewerNoncurrentVersions newest), ExpiredObjectDeleteMarker (a delete marker with no other
 * version), and AbortIncompleteMultipartUpload. Permanent deletion wins over transition;
 * in a versioned bucket a due transition happens before the delete marker is added.
 */
export interface LifecycleWorker {
  /** Stops the worker and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/** A lifecycle action done, for server access logs (S3.EXPIRE.OBJECT, …). */
export type LifecycleAction = (bucket: BucketRecord, operation: string, key: string, versionId: string | undefined, size: number | undefined) => void;

/** Rows read per page of an index range. */
const PAGE = 500;
/**
 * A run remembers a cutoff at most this far behind its start, so a write whose time was
 * taken just before the run but committed after it is still seen by the next run.
 */
const GRACE_MS = 5000;

/** The log operation of a lifecycle transition to each class (lifecycle-and-other-bucket-config.html). */
const TRANSITION_OPERATION: Record<string, string> = {
  STANDARD_IA: 'S3.TRANSITION_SIA.OBJECT',
  ONEZONE_IA: 'S3.TRANSITION_ZIA.OBJECT',
  INTELLIGENT_TIERING: 'S3.TRANSITION_INT.OBJECT',
  GLACIER_IR: 'S3.TRANSITION_GIR.OBJECT',
  GLACIER: 'S3.TRANSITION.OBJECT',
  DEEP_ARCHIVE: 'S3.TRANSITION_GDA.OBJECT',
};

interface BucketState {
  /** The configuration text the cutoffs belong to; other rules start over. */
  text: string;
  /** Per action: the time up to which objects (last modified) or versions (noncurrent since) were visited. */
  reached: Map<string, number>;
  /** Whether an enabled rule filters by tags (then a change of tags starts the bucket over). */
  tags: boolean;
}

interface ActiveRule {
  rule: LifecycleRule;
  index: number;
  scope: Scope;
}

/** A half-open range [from, to) of times and the action that owns it. */
interface Range {
  id: string;
  from: number;
  to: number;
}

function mergeRanges(ranges: Range[]): Array<{ from: number; to: number }> {
  const sorted = ranges.filter((r) => r.to > r.from).sort((a, b) => a.from - b.from);
  const out: Array<{ from: number; to: number }> = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

export function startLifecycleWorker(runtime: Runtime, onAction?: LifecycleAction): LifecycleWorker {
  const { store, blobs } = runtime;
  const day = runtime.config.s3LifecycleDayMs;
  const states = new Map<number, BucketState>();
  let lastDay = -1;
  let dirty = true;
  let stopped = false;
  let running: Promise<void> | undefined;

  lifecycleEvents.changed = (bucketId) => {
    states.delete(bucketId);
    dirty = true;
  };
  // Tags can bring an old object into a rule's scope: start that bucket over.
  lifecycleEvents.tagsChanged = (bucketId) => {
    if (!states.get(bucketId)?.tags) return;
    states.delete(bucketId);
    dirty = true;
  };

  const tagsOf = async (b: BucketRecord, key: string, versionId: string, needed: boolean): Promise<Tag[] | undefined> =>
    needed ? ((await store.s3.getObjectAttrs(b.id, key, versionId))?.tags ?? []) : undefined;

  /** Removes the current version (or adds the delete marker) if it is still `rec`. */
  async function expireCurrent(b: BucketRecord, rec: ObjectRecord, at: number): Promise<void> {
    const r = await store.transaction(async (tx) => {
      const cur = await tx.s3.getObject(b.id, rec.key);
      if (!cur || cur.versionId !== rec.versionId || cur.lastModified !== rec.lastModified) return undefined;
      // "S3 Lifecycle sets the delete marker's creation time to 00:00 UTC (midnight) of the current day."
      const result = await tx.s3.deleteObject(b.id, rec.key, Math.max(at, rec.lastModified));
      const removed = result.removed;
      if (removed?.body.kind === 'file') tx.afterCommit(() => blobs.remove(removed.body.id));
      return result;
    });
    if (!r) return;
    onAction?.(b, r.deleteMarker ? 'S3.CREATE.DELETEMARKER' : 'S3.EXPIRE.OBJECT', rec.key, r.deleteMarker ? undefined : rec.versionId, rec.size);
  }

  /** Changes the storage class of a version that is still as it was read. */
  async function transition(b: BucketRecord, key: string, versionId: string, storageClass: string, size: number, check: (cur: ObjectRecord | undefined) => boolean): Promise<boolean> {
    const ok = await store.transaction(async (tx) => {
      if (!check(await tx.s3.getObject(b.id, key))) return false;
      return tx.s3.setStorageClass(b.id, key, versionId, storageClass);
    });
    if (ok) onAction?.(b, TRANSITION_OPERATION[storageClass] ?? 'S3.TRANSITION.OBJECT', key, versionId, size);
    return ok;
  }

  /** What is due for one current version, done. */
  async function applyCurrent(b: BucketRecord, cfg: LifecycleConfig, rules: ActiveRule[], needTags: boolean, rec: ObjectRecord, now: number): Promise<void> {
    const tags = await tagsOf(b, rec.key, rec.versionId, needTags);
    let expire = false;
    let target: string | undefined;
    for (const { rule, scope } of rules) {
      if (!inScope(scope, rec.key, rec.size, tags)) continue;
      const e = rule.Expiration;
      if (e?.Days !== undefined && dueAt(rec.lastModified, e.Days, day) <= now) expire = true;
      if (e?.Date !== undefined && Date.parse(e.Date) <= now) expire = true;
      for (const t of rule.Transitions ?? []) {
        const due = t.Days !== undefined ? dueAt(rec.lastModified, t.Days, day) : Date.parse(t.Date!);
        if (due > now || waterfallRank(t.StorageClass) <= waterfallRank(target ?? rec.storageClass)) continue;
        if (transitionSizeAllowed(cfg, scope, t.StorageClass, rec.size)) target = t.StorageClass;
      }
    }
    const at = dayStart(now, day);
    // Permanent deletion takes precedence over transition; transition over a delete marker.
    if (expire && !b.versioning) return expireCurrent(b, rec, at);
    if (target) {
      const same = (cur: ObjectRecord | undefined) => !!cur && cur.versionId === rec.versionId && cur.lastModified === rec.lastModified;
      if (await transition(b, rec.key, rec.versionId, target, rec.size, same)) rec = { ...rec, storageClass: target };
    }
    if (expire) await expireCurrent(b, rec, at);
  }

  /** Removes one version for good if it is still there and not the current one. */
  async function removeVersion(b: BucketRecord, key: string, versionId: string): Promise<KeyVersion | undefined> {
    const removed = await store.transaction(async (tx) => {
      const cur = await tx.s3.getCurrentVersion(b.id, key);
      if (!cur || cur.versionId === versionId) return undefined;
      const r = await tx.s3.deleteVersion(b.id, key, versionId);
      if (r && !r.deleteMarker && r.body.kind === 'file') {
        const id = r.body.id;
        tx.afterCommit(() => blobs.remove(id));
      }
      return r;
    });
    if (removed) onAction?.(b, 'S3.EXPIRE.OBJECT', key, versionId, removed.deleteMarker ? undefined : removed.size);
    return removed && { ...removed, isLatest: false };
  }

  /** Noncurrent expirations and transitions of one key, then its delete marker if it is left alone. */
  async function applyKey(b: BucketRecord, cfg: LifecycleConfig, rules: ActiveRule[], needTags: boolean, key: string, now: number): Promise<void> {
    const versions = await store.s3.keyVersions(b.id, key);
    const gone = new Set<string>();
    const moves = new Map<string, { storageClass: string; size: number }>();
    const tagCache = new Map<string, Tag[] | undefined>();
    for (const { rule, scope } of rules) {
      const nve = rule.NoncurrentVersionExpiration;
      const nvts = rule.NoncurrentVersionTransitions ?? [];
      if (!nve && !nvts.length) continue;
      // NewerNoncurrentVersions counts the newer noncurrent versions in the rule's scope.
      let newer = 0;
      for (const v of versions) {
        if (v.isLatest) continue;
        const size = v.deleteMarker ? 0 : v.size;
        let tags: Tag[] | undefined = [];
        if (!v.deleteMarker && needTags) {
          if (!tagCache.has(v.versionId)) tagCache.set(v.versionId, await tagsOf(b, key, v.versionId, true));
          tags = tagCache.get(v.versionId);
        }
        if (!inScope(scope, key, size, tags)) continue;
        const rank = newer++;
        const since = v.noncurrentSince ?? now;
        if (nve && (nve.NewerNoncurrentVersions === undefined || rank >= nve.NewerNoncurrentVersions) && dueAt(since, nve.NoncurrentDays, day) <= now) gone.add(v.versionId);
        if (v.deleteMarker) continue;
        for (const t of nvts) {
          if (t.NewerNoncurrentVersions !== undefined && rank < t.NewerNoncurrentVersions) continue;
          if (dueAt(since, t.NoncurrentDays, day) > now) continue;
          const current = moves.get(v.versionId)?.storageClass ?? v.storageClass;
          if (waterfallRank(t.StorageClass) > waterfallRank(current) && transitionSizeAllowed(cfg, scope, t.StorageClass, v.size)) moves.set(v.versionId, { storageClass: t.StorageClass, size: v.size });
        }
      }
    }
    const left: KeyVersion[] = [];
    for (const v of versions) {
      if (gone.has(v.versionId) && (await removeVersion(b, key, v.versionId))) continue;
      left.push(v);
    }
    for (const [versionId, m] of moves) {
      if (gone.has(versionId)) continue;
      await transition(b, key, versionId, m.storageClass, m.size, (cur) => cur?.versionId !== versionId);
    }
    // An expired object delete marker: the current version is a marker and nothing else is left.
    const marker = left.length === 1 && left[0]!.deleteMarker && left[0]!.isLatest ? left[0]! : undefined;
    if (marker && rules.some(({ rule, scope }) => rule.Expiration?.ExpiredObjectDeleteMarker === true && key.startsWith(scope.prefix))) {
      const removed = await store.transaction(async (tx) => {
        const vs = await tx.s3.keyVersions(b.id, key);
        if (vs.length !== 1 || vs[0]!.versionId !== marker.versionId) return undefined;
        return tx.s3.deleteVersion(b.id, key, marker.versionId);
      });
      if (removed) onAction?.(b, 'S3.EXPIRE.OBJECT', key, marker.versionId, undefined);
    }
  }

  async function abortUploads(b: BucketRecord, rules: ActiveRule[], now: number): Promise<void> {
    const aborts = rules.filter((r) => r.rule.AbortIncompleteMultipartUpload);
    if (!aborts.length) return;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await store.s3.listUploads(b.id, { prefix: '', keyMarker, uploadIdMarker, limit: PAGE });
      for (const u of page) {
        const due = aborts.some(({ rule, scope }) => u.key.startsWith(scope.prefix) && dueAt(u.initiated, rule.AbortIncompleteMultipartUpload!.DaysAfterInitiation, day) <= now);
        if (!due) continue;
        const parts = await store.transaction(async (tx) => {
          if (!(await tx.s3.getUpload(u.uploadId))) return undefined;
          const removed = await tx.s3.deleteUpload(u.uploadId);
          for (const p of removed) if (p.body.kind === 'file') tx.afterCommit(() => blobs.remove(p.body.id));
          return removed;
        });
        if (parts) onAction?.(b, 'S3.DELETE.UPLOAD', u.key, undefined, parts.reduce((n, p) => n + p.size, 0));
      }
      if (page.length < PAGE) return;
      keyMarker = page.at(-1)!.key;
      uploadIdMarker = page.at(-1)!.uploadId;
    }
  }

  async function runBucket(b: BucketRecord, cfg: LifecycleConfig, st: BucketState, now: number): Promise<void> {
    const today = dayStart(now, day);
    const rules: ActiveRule[] = cfg.rules.map((rule, index) => ({ rule, index, scope: scopeOf(rule) })).filter((r) => r.rule.Status === 'Enabled');
    if (!rules.length) return;
    const needTags = rulesNeedTags(cfg);
    const floor = Number.MIN_SAFE_INTEGER;
    const reach = (id: string, to: number): Range => ({ id, from: st.reached.get(id) ?? floor, to });
    // Objects last modified before this are due for an action of `days` days; for a Date
    // that has passed, everything last modified before today's midnight (or the date).
    const byDays = (days: number) => today - days * day;
    const byDate = (date: string) => {
      const t = Date.parse(date);
      return t <= now ? Math.min(now, Math.max(t, today)) : floor;
    };

    const current: Range[] = [];
    const noncurrent: Range[] = [];
    let keepNewer = false;
    for (const { rule, index } of rules) {
      const e = rule.Expiration;
      if (e?.Days !== undefined) current.push(reach(`${index}:expiration`, byDays(e.Days)));
      if (e?.Date !== undefined) current.push(reach(`${index}:expiration`, byDate(e.Date)));
      (rule.Transitions ?? []).forEach((t, i) => current.push(reach(`${index}:transition${i}`, t.Days !== undefined ? byDays(t.Days) : byDate(t.Date!))));
      const nve = rule.NoncurrentVersionExpiration;
      if (nve) noncurrent.push(reach(`${index}:noncurrent-expiration`, byDays(nve.NoncurrentDays)));
      (rule.NoncurrentVersionTransitions ?? []).forEach((t, i) => noncurrent.push(reach(`${index}:noncurrent-transition${i}`, byDays(t.NoncurrentDays))));
      if (nve?.NewerNoncurrentVersions !== undefined || rule.NoncurrentVersionTransitions?.some((t) => t.NewerNoncurrentVersions !== undefined)) keepNewer = true;
    }
    // With NewerNoncurrentVersions, a new noncurrent version can push an older, already due
    // one out of the versions kept: look at the keys that got one since the last run.
    if (keepNewer) noncurrent.push(reach('newly-noncurrent', now));

    for (const r of mergeRanges(current)) {
      let after: { lastModified: number; key: string } | undefined;
      for (;;) {
        if (stopped) return;
        const page = await store.s3.objectsByAge(b.id, { from: r.from, to: r.to, after, limit: PAGE });
        for (const rec of page) await applyCurrent(b, cfg, rules, needTags, rec, now);
        if (page.length < PAGE) break;
        after = { lastModified: page.at(-1)!.lastModified, key: page.at(-1)!.key };
      }
    }
    const visited = new Set<string>();
    for (const r of mergeRanges(noncurrent)) {
      let after: { at: number; key: string } | undefined;
      for (;;) {
        if (stopped) return;
        const page = await store.s3.keysByNoncurrentSince(b.id, { from: r.from, to: r.to, after, limit: PAGE });
        for (const { key } of page) {
          if (visited.has(key)) continue;
          visited.add(key);
          await applyKey(b, cfg, rules, needTags, key, now);
        }
        if (page.length < PAGE) break;
        after = page.at(-1)!;
      }
    }
    // Delete markers left alone (their last version removed, by a rule or a client): S3
    // looks for them every day; so does this, in the index's range of current markers.
    if (rules.some((r) => r.rule.Expiration?.ExpiredObjectDeleteMarker === true)) {
      let afterKey: string | undefined;
      for (;;) {
        if (stopped) return;
        const page = await store.s3.currentDeleteMarkers(b.id, { afterKey, limit: PAGE });
        for (const key of page) {
          if (!visited.has(key)) await applyKey(b, cfg, rules, needTags, key, now);
        }
        if (page.length < PAGE) break;
        afterKey = page.at(-1);
      }
    }
    await abortUploads(b, rules, now);
    for (const r of [...current, ...noncurrent]) st.reached.set(r.id, Math.max(r.from, Math.min(r.to, now - GRACE_MS)));
  }

  async function runAll(now: number): Promise<void> {
    const seen = new Set<number>();
    for (const { bucket, value } of await store.s3.bucketsWithConfig(LIFECYCLE)) {
      if (stopped) return;
      seen.add(bucket.id);
      const cfg = JSON.parse(value) as LifecycleConfig;
      let st = states.get(bucket.id);
      if (!st || st.text !== value) {
        st = { text: value, reached: new Map(), tags: rulesNeedTags(cfg) };
        states.set(bucket.id, st);
      }
      try {
        await runBucket(bucket, cfg, st, now);
      } catch (e) {
        // The next run starts this bucket over.
        states.delete(bucket.id);
        log.warn(`lifecycle of bucket ${bucket.name} failed: ${(e as Error).message}`);
      }
    }
    for (const id of states.keys()) if (!seen.has(id)) states.delete(id);
  }

  const tick = () => {
    if (running || stopped) return;
    const now = clockNow();
    const today = Math.floor(now / day);
    if (today === lastDay && !dirty) return;
    lastDay = today;
    dirty = false;
    running = runAll(now)
      .catch((e) => log.warn(`lifecycle run failed: ${(e as Error).message}`))
      .finally(() => (running = undefined));
  };
  // Ticks only compare the day; a run happens once per lifecycle day or after a change.
  const timer = setInterval(tick, Math.min(1000, Math.max(20, Math.floor(day / 20))));
  timer.unref();
  setImmediate(tick);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      lifecycleEvents.changed = undefined;
      lifecycleEvents.tagsChanged = undefined;
      await running;
    },
  };
}
