import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import {
  StoreError,
  prefixSuccessor,
  type GroupEventsQuery,
  type LogEventRecord,
  type LogGroupRecord,
  type LogStreamQuery,
  type LogStreamRecord,
  type LogsRepository,
  type StreamEventsQuery,
} from './metadata.js';

/**
 * CloudWatch Logs on SQLite (its tables are migration 5 in sqlite.ts). Events live in one
 * table keyed by a global `seq` (the rowid, so it grows with ingestion) with two indexes,
 * (stream_id, timestamp, seq) for GetLogEvents and (group_id, timestamp, seq) for
 * FilterLogEvents and the retention sweep: a page is one range scan of an index.
 * A stream's last_event is -1 while it has no events, so (last_event, name) can be a
 * plain index and keyset-paged without NULL rules.
 */
interface GroupRow {
  id: number;
  account: string;
  region: string;
  name: string;
  created_at: number;
  retention_days: number | null;
  kms_key_id: string | null;
  log_group_class: string;
  deletion_protection: number;
  tags: string;
  stored_bytes: number;
}

interface StreamRow {
  id: number;
  group_id: number;
  name: string;
  created_at: number;
  first_event: number | null;
  last_event: number;
  last_ingestion: number | null;
}

interface EventRow {
  seq: number;
  stream_id: number;
  timestamp: number;
  ingestion_time: number;
  message: string;
  stream_name?: string;
}

function toGroup(r: GroupRow): LogGroupRecord {
  return {
    id: r.id,
    account: r.account,
    region: r.region,
    name: r.name,
    createdAt: r.created_at,
    retentionInDays: r.retention_days ?? undefined,
    kmsKeyId: r.kms_key_id ?? undefined,
    logGroupClass: r.log_group_class,
    deletionProtection: r.deletion_protection === 1,
    tags: JSON.parse(r.tags),
    storedBytes: r.stored_bytes,
  };
}

function toStream(r: StreamRow): LogStreamRecord {
  return {
    id: r.id,
    groupId: r.group_id,
    name: r.name,
    createdAt: r.created_at,
    firstEventTimestamp: r.first_event ?? undefined,
    lastEventTimestamp: r.last_event >= 0 ? r.last_event : undefined,
    lastIngestionTime: r.last_ingestion ?? undefined,
  };
}

function toEvent(r: EventRow): LogEventRecord {
  const e: LogEventRecord = { seq: r.seq, streamId: r.stream_id, timestamp: r.timestamp, ingestionTime: r.ingestion_time, message: r.message };
  if (r.stream_name !== undefined) e.streamName = r.stream_name;
  return e;
}

const MAX_TS = Number.MAX_SAFE_INTEGER;

export class SqliteLogsRepository implements LogsRepository {
  private readonly st: Record<string, Statement>;
  private readonly stmtCache = new Map<string, Statement>();

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      insertGroup: p(
        `INSERT INTO log_groups (account, region, name, created_at, retention_days, kms_key_id, log_group_class, deletion_protection, tags, stored_bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      ),
      getGroup: p('SELECT * FROM log_groups WHERE account = ? AND region = ? AND name = ?'),
      getGroupById: p('SELECT * FROM log_groups WHERE id = ?'),
      setRetention: p('UPDATE log_groups SET retention_days = ? WHERE id = ?'),
      setTags: p('UPDATE log_groups SET tags = ? WHERE id = ?'),
      setProtection: p('UPDATE log_groups SET deletion_protection = ? WHERE id = ?'),
      deleteGroupEvents: p('DELETE FROM log_events WHERE group_id = ?'),
      deleteGroupStreams: p('DELETE FROM log_streams WHERE group_id = ?'),
      deleteGroup: p('DELETE FROM log_groups WHERE id = ?'),
      withRetention: p('SELECT * FROM log_groups WHERE retention_days IS NOT NULL ORDER BY id'),
      insertStream: p('INSERT INTO log_streams (group_id, name, created_at, first_event, last_event, last_ingestion) VALUES (?, ?, ?, ?, ?, ?)'),
      getStream: p('SELECT * FROM log_streams WHERE group_id = ? AND name = ?'),
      streamBytes: p('SELECT coalesce(sum(length(CAST(message AS BLOB))), 0) AS n FROM log_events WHERE stream_id = ?'),
      streamGroup: p('SELECT group_id FROM log_streams WHERE id = ?'),
      deleteStreamEvents: p('DELETE FROM log_events WHERE stream_id = ?'),
      deleteStream: p('DELETE FROM log_streams WHERE id = ?'),
      addBytes: p('UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?'),
      insertEvent: p('INSERT INTO log_events (group_id, stream_id, timestamp, ingestion_time, message) VALUES (?, ?, ?, ?, ?)'),
      streamStats: p(
        `UPDATE log_streams SET
           first_event = CASE WHEN first_event IS NULL OR first_event > ? THEN ? ELSE first_event END,
           last_event = max(last_event, ?),
           last_ingestion = ?
         WHERE id = ?`,
      ),
      expired: p(
        `SELECT seq, length(CAST(message AS BLOB)) AS bytes FROM log_events
         WHERE group_id = ? AND timestamp < ? ORDER BY timestamp, seq LIMIT ?`,
      ),
      deleteEvent: p('DELETE FROM log_events WHERE seq = ?'),
    };
  }

  /** Statements whose WHERE clause depends on which filters a query has, prepared once each. */
  private stmt(sql: string): Statement {
    let s = this.stmtCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s;
  }

  async createGroup(g: Omit<LogGroupRecord, 'id' | 'storedBytes'>): Promise<LogGroupRecord> {
    try {
      const info = this.st.insertGroup!.run(
        g.account,
        g.region,
        g.name,
        g.createdAt,
        g.retentionInDays ?? null,
        g.kmsKeyId ?? null,
        g.logGroupClass,
        g.deletionProtection ? 1 : 0,
        JSON.stringify(g.tags),
      );
      return { ...g, id: Number(info.lastInsertRowid), storedBytes: 0 };
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreError('Conflict', `log group ${g.name} exists`);
      throw e;
    }
  }

  async getGroup(account: string, region: string, name: string): Promise<LogGroupRecord | undefined> {
    const r = this.st.getGroup!.get(account, region, name) as GroupRow | undefined;
    return r && toGroup(r);
  }

  async listGroups(account: string, region: string, q: { prefix?: string; contains?: string; logGroupClass?: string; after?: string; limit: number }): Promise<LogGroupRecord[]> {
    const where = ['account = ?', 'region = ?'];
    const args: unknown[] = [account, region];
    if (q.after !== undefined) {
      where.push('name > ?');
      args.push(q.after);
    }
    if (q.prefix) {
      where.push('name >= ?');
      args.push(q.prefix);
      const end = prefixSuccessor(q.prefix);
      if (end !== undefined) {
        where.push('name < ?');
        args.push(end);
      }
    }
    if (q.contains) {
      // instr is case-sensitive, as logGroupNamePattern is.
      where.push('instr(name, ?) > 0');
      args.push(q.contains);
    }
    if (q.logGroupClass) {
      where.push('log_group_class = ?');
      args.push(q.logGroupClass);
    }
    args.push(q.limit);
    const rows = this.stmt(`SELECT * FROM log_groups WHERE ${where.join(' AND ')} ORDER BY name LIMIT ?`).all(...args) as GroupRow[];
    return rows.map(toGroup);
  }

  async updateGroup(id: number, patch: { retentionInDays?: number | null; tags?: Record<string, string>; deletionProtection?: boolean }): Promise<void> {
    if (patch.retentionInDays !== undefined) this.st.setRetention!.run(patch.retentionInDays, id);
    if (patch.tags !== undefined) this.st.setTags!.run(JSON.stringify(patch.tags), id);
    if (patch.deletionProtection !== undefined) this.st.setProtection!.run(patch.deletionProtection ? 1 : 0, id);
  }

  async deleteGroup(id: number): Promise<void> {
    this.st.deleteGroupEvents!.run(id);
    this.st.deleteGroupStreams!.run(id);
    this.st.deleteGroup!.run(id);
  }

  async groupsWithRetention(): Promise<LogGroupRecord[]> {
    return (this.st.withRetention!.all() as GroupRow[]).map(toGroup);
  }

  async createStream(s: Omit<LogStreamRecord, 'id'>): Promise<LogStreamRecord> {
    try {
      const info = this.st.insertStream!.run(s.groupId, s.name, s.createdAt, s.firstEventTimestamp ?? null, s.lastEventTimestamp ?? -1, s.lastIngestionTime ?? null);
      return { ...s, id: Number(info.lastInsertRowid) };
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreError('Conflict', `log stream ${s.name} exists`);
      throw e;
    }
  }

  async getStream(groupId: number, name: string): Promise<LogStreamRecord | undefined> {
    const r = this.st.getStream!.get(groupId, name) as StreamRow | undefined;
    return r && toStream(r);
  }

  async listStreams(groupId: number, q: LogStreamQuery): Promise<LogStreamRecord[]> {
    const where = ['group_id = ?'];
    const args: unknown[] = [groupId];
    const cmp = q.descending ? '<' : '>';
    const dir = q.descending ? 'DESC' : 'ASC';
    if (q.prefix) {
      where.push('name >= ?');
      args.push(q.prefix);
      const end = prefixSuccessor(q.prefix);
      if (end !== undefined) {
        where.push('name < ?');
        args.push(end);
      }
    }
    let order: string;
    if (q.orderBy === 'LastEventTime') {
      if (q.after) {
        where.push(`(last_event, name) ${cmp} (?, ?)`);
        args.push(q.after.lastEventTimestamp ?? -1, q.after.name);
      }
      order = `last_event ${dir}, name ${dir}`;
    } else {
      if (q.after) {
        where.push(`name ${cmp} ?`);
        args.push(q.after.name);
      }
      order = `name ${dir}`;
    }
    args.push(q.limit);
    const rows = this.stmt(`SELECT * FROM log_streams WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`).all(...args) as StreamRow[];
    return rows.map(toStream);
  }

  async deleteStream(id: number): Promise<void> {
    const g = this.st.streamGroup!.get(id) as { group_id: number } | undefined;
    if (!g) return;
    const bytes = (this.st.streamBytes!.get(id) as { n: number }).n;
    this.st.deleteStreamEvents!.run(id);
    this.st.deleteStream!.run(id);
    this.st.addBytes!.run(-bytes, g.group_id);
  }

  async putEvents(groupId: number, streamId: number, events: Array<{ timestamp: number; message: string }>, ingestionTime: number): Promise<LogEventRecord[]> {
    if (events.length === 0) return [];
    const out: LogEventRecord[] = [];
    let bytes = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const e of events) {
      const info = this.st.insertEvent!.run(groupId, streamId, e.timestamp, ingestionTime, e.message);
      out.push({ seq: Number(info.lastInsertRowid), streamId, timestamp: e.timestamp, ingestionTime, message: e.message });
      bytes += Buffer.byteLength(e.message, 'utf8');
      if (e.timestamp < min) min = e.timestamp;
      if (e.timestamp > max) max = e.timestamp;
    }
    this.st.streamStats!.run(min, min, max, ingestionTime, streamId);
    this.st.addBytes!.run(bytes, groupId);
    return out;
  }

  async streamEvents(streamId: number, q: StreamEventsQuery): Promise<LogEventRecord[]> {
    const where = ['stream_id = ?', 'timestamp >= ?', 'timestamp < ?'];
    const args: unknown[] = [streamId, q.from ?? 0, q.to ?? MAX_TS];
    const forward = q.direction === 'forward';
    if (q.cursor) {
      where.push(`(timestamp, seq) ${forward ? '>' : '<'} (?, ?)`);
      args.push(q.cursor.timestamp, q.cursor.seq);
    }
    const dir = forward ? 'ASC' : 'DESC';
    args.push(q.limit);
    const rows = this.stmt(`SELECT seq, stream_id, timestamp, ingestion_time, message FROM log_events WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, seq ${dir} LIMIT ?`).all(...args) as EventRow[];
    return rows.map(toEvent);
  }

  async groupEvents(groupId: number, q: GroupEventsQuery): Promise<LogEventRecord[]> {
    const bounds = ['e.timestamp >= ?', 'e.timestamp < ?'];
    const bargs: unknown[] = [q.from ?? 0, q.to ?? MAX_TS];
    if (q.after) {
      bounds.push('(e.timestamp, e.seq) > (?, ?)');
      bargs.push(q.after.timestamp, q.after.seq);
    }
    const cols = 'e.seq, e.stream_id, e.timestamp, e.ingestion_time, e.message, s.name AS stream_name';
    if (q.streamIds) {
      // A few named streams: one bounded scan of each stream's index, merged, so a page
      // costs O(streams × limit) however large the rest of the group is.
      const st = this.stmt(
        `SELECT ${cols} FROM log_events e INDEXED BY log_events_by_stream JOIN log_streams s ON s.id = e.stream_id
         WHERE e.stream_id = ? AND e.group_id = ? AND ${bounds.join(' AND ')}
         ORDER BY e.timestamp, e.seq LIMIT ?`,
      );
      const all: EventRow[] = [];
      for (const id of new Set(q.streamIds)) all.push(...(st.all(id, groupId, ...bargs, q.limit) as EventRow[]));
      all.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
      return all.slice(0, q.limit).map(toEvent);
    }
    const rows = this.stmt(
      `SELECT ${cols} FROM log_events e INDEXED BY log_events_by_group JOIN log_streams s ON s.id = e.stream_id
       WHERE e.group_id = ? AND ${bounds.join(' AND ')}
       ORDER BY e.timestamp, e.seq LIMIT ?`,
    ).all(groupId, ...bargs, q.limit) as EventRow[];
    return rows.map(toEvent);
  }

  async deleteEventsBefore(groupId: number, timestamp: number, limit: number): Promise<number> {
    const rows = this.st.expired!.all(groupId, timestamp, limit) as Array<{ seq: number; bytes: number }>;
    let bytes = 0;
    for (const r of rows) {
      this.st.deleteEvent!.run(r.seq);
      bytes += r.bytes;
    }
    if (rows.length) this.st.addBytes!.run(-bytes, groupId);
    return rows.length;
  }
}
