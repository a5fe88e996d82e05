// Events (scanner connected/disconnected, scan timeouts, infected files, policy changes) and the
// server-status table, shaped for ONTAP's `events` and `/protocols/vscan/server-status` collections:
// equality filters, a time window, `order_by` time asc|desc, `max_records`, and paging by an opaque
// keyset cursor (stable while new events arrive) or a plain offset.
import type Database from 'better-sqlite3';
import { StoreError, StoreErrorCodes } from './errors.js';
import { badArgument, checkCount, checkNumber, checkOptionalString, checkString } from './validate.js';

export interface EventInput {
  /** e.g. `scanner.connected`, `scanner.disconnected`, `scan.timeout`, `file.infected`, `policy.changed`. */
  readonly type: string;
  readonly server?: string;
  readonly svm?: string;
  readonly node?: string;
  readonly filePath?: string;
  /** e.g. an ONTAP `disconnected_reason` (`remote_closed`, `inactive_connection`, …). */
  readonly reason?: string;
  /** Any JSON-serialisable object. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Epoch ms. @default the store clock */
  readonly time?: number;
}

export interface EventRecord {
  readonly id: number;
  readonly time: number;
  readonly type: string;
  readonly server: string | null;
  readonly svm: string | null;
  readonly node: string | null;
  readonly filePath: string | null;
  readonly reason: string | null;
  readonly details: Readonly<Record<string, unknown>> | null;
}

export interface EventQuery {
  readonly type?: string;
  readonly server?: string;
  readonly svm?: string;
  readonly node?: string;
  readonly filePath?: string;
  readonly reason?: string;
  /** Inclusive lower bound on `time`, epoch ms. */
  readonly since?: number;
  /** Inclusive upper bound on `time`, epoch ms. */
  readonly until?: number;
  /** @default 'time asc' */
  readonly orderBy?: 'time asc' | 'time desc';
  /** Page size; without it every matching record is returned. */
  readonly maxRecords?: number;
  /** Rows to skip (ignored when `cursor` is given). @default 0 */
  readonly offset?: number;
  /** The `next` of the previous page. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly records: readonly T[];
  readonly numRecords: number;
  /** Cursor of the next page; absent on the last page. */
  readonly next?: string;
}

export interface EventRow {
  id: number;
  time: number;
  type: string;
  server: string | null;
  svm: string | null;
  node: string | null;
  file_path: string | null;
  reason: string | null;
  details: string | null;
}

export function normalizeEvent(e: EventInput, now: number): unknown[] {
  if (e === null || typeof e !== 'object') throw badArgument('event', e, 'an event object');
  const details = e.details === undefined || e.details === null ? null : JSON.stringify(e.details);
  if (details !== null && !details.startsWith('{')) throw badArgument('details', e.details, 'a JSON object');
  return [
    e.time === undefined ? now : checkNumber('time', e.time),
    checkString('type', e.type, 128),
    checkOptionalString('server', e.server, 1024),
    checkOptionalString('svm', e.svm, 256),
    checkOptionalString('node', e.node, 256),
    checkOptionalString('filePath', e.filePath),
    checkOptionalString('reason', e.reason, 256),
    details,
  ];
}

export function encodeCursor(row: { readonly time: number; readonly id: number }): string {
  return Buffer.from(`${row.time}:${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): [number, number] {
  const m = /^(-?\d+(?:\.\d+)?):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (m === null) throw new StoreError(StoreErrorCodes.NOT_FOUND, `unknown event cursor \`${cursor.slice(0, 80)}\``, { target: 'cursor' });
  return [Number(m[1]), Number(m[2])];
}

export function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    time: row.time,
    type: row.type,
    server: row.server,
    svm: row.svm,
    node: row.node,
    filePath: row.file_path,
    reason: row.reason,
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
  };
}

export class EventTable {
  readonly #insert: Database.Statement;
  readonly #asc: Database.Statement;
  readonly #desc: Database.Statement;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      'INSERT INTO events (time, type, server, svm, node, file_path, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // One statement per direction: NULL parameters switch filters off, so every query shape reuses it.
    const where = `
      (@type IS NULL OR type = @type) AND (@server IS NULL OR server = @server) AND (@svm IS NULL OR svm = @svm)
      AND (@node IS NULL OR node = @node) AND (@filePath IS NULL OR file_path = @filePath)
      AND (@reason IS NULL OR reason = @reason)
      AND (@since IS NULL OR time >= @since) AND (@until IS NULL OR time <= @until)`;
    const cols = 'id, time, type, server, svm, node, file_path, reason, details';
    this.#asc = db.prepare(`SELECT ${cols} FROM events WHERE ${where}
      AND (@cTime IS NULL OR time > @cTime OR (time = @cTime AND id > @cId))
      ORDER BY time ASC, id ASC LIMIT @limit OFFSET @offset`);
    this.#desc = db.prepare(`SELECT ${cols} FROM events WHERE ${where}
      AND (@cTime IS NULL OR time < @cTime OR (time = @cTime AND id < @cId))
      ORDER BY time DESC, id DESC LIMIT @limit OFFSET @offset`);
  }

  insert(params: unknown[]): number {
    return Number(this.#insert.run(params).lastInsertRowid);
  }

  query(q: EventQuery = {}): Page<EventRecord> {
    const { orderBy, max, params } = eventQueryParams(q);
    const rows = (orderBy === 'time asc' ? this.#asc : this.#desc).all(params) as EventRow[];
    return eventPage(rows, max);
  }
}

/** Validates an event query; `params.limit` is -1 (no limit) or one more than the page size. */
export function eventQueryParams(q: EventQuery = {}): {
  orderBy: 'time asc' | 'time desc';
  max: number | undefined;
  params: Record<string, string | number | null>;
} {
  if (q === null || typeof q !== 'object') throw badArgument('query', q, 'an object');
  const orderBy = q.orderBy ?? 'time asc';
  if (orderBy !== 'time asc' && orderBy !== 'time desc') throw badArgument('orderBy', orderBy, "'time asc' or 'time desc'");
  const max = q.maxRecords === undefined ? undefined : checkCount('maxRecords', q.maxRecords, 1_000_000);
  const [cTime, cId] = q.cursor === undefined ? [null, null] : decodeCursor(checkString('cursor', q.cursor, 256));
  const params = {
    type: checkOptionalString('type', q.type),
    server: checkOptionalString('server', q.server),
    svm: checkOptionalString('svm', q.svm),
    node: checkOptionalString('node', q.node),
    filePath: checkOptionalString('filePath', q.filePath),
    reason: checkOptionalString('reason', q.reason),
    since: q.since === undefined ? null : checkNumber('since', q.since),
    until: q.until === undefined ? null : checkNumber('until', q.until),
    cTime,
    cId,
    // One extra row tells whether a next page exists.
    limit: max === undefined ? -1 : max + 1,
    offset: q.cursor !== undefined || q.offset === undefined ? 0 : checkCount('offset', q.offset),
  };
  return { orderBy, max, params };
}

/** The page of `rows` (fetched with `limit` max + 1): trims the extra row into a `next` cursor. */
export function eventPage(rows: EventRow[], max: number | undefined): Page<EventRecord> {
  if (max !== undefined && rows.length > max) {
    rows.length = max;
    return { records: rows.map(toEvent), numRecords: max, next: encodeCursor(rows[max - 1]!) };
  }
  return { records: rows.map(toEvent), numRecords: rows.length };
}

// --- server status -------------------------------------------------------------------------------

export interface ServerStatusInput {
  readonly svm: string;
  readonly node: string;
  readonly ip: string;
  readonly state: 'connected' | 'disconnected';
  /** ONTAP `type`: `primary` | `backup`. */
  readonly type: 'primary' | 'backup';
  /** Epoch ms. @default the store clock */
  readonly updateTime?: number;
  readonly vendor?: string;
  readonly version?: string;
  /** ONTAP `disconnected_reason`, only meaningful when disconnected. */
  readonly disconnectedReason?: string;
  /** Why the server is disconnected, in words (the error behind the reason). */
  readonly message?: string;
  /** The server's signature stamp. Kept when omitted. */
  readonly signature?: string;
}

export interface ServerStatusRecord {
  readonly svm: string;
  readonly node: string;
  readonly ip: string;
  readonly state: 'connected' | 'disconnected';
  readonly type: 'primary' | 'backup';
  readonly updateTime: number;
  readonly vendor: string | null;
  readonly version: string | null;
  readonly disconnectedReason: string | null;
  readonly message: string | null;
  readonly signature: string | null;
}

export interface ServerStatusQuery {
  readonly svm?: string;
  readonly node?: string;
  readonly ip?: string;
  readonly state?: string;
  readonly type?: string;
  readonly disconnectedReason?: string;
  /** @default 'update_time desc' */
  readonly orderBy?: 'update_time asc' | 'update_time desc' | 'ip asc';
  readonly maxRecords?: number;
}

export interface ServerStatusRow {
  svm: string;
  node: string;
  ip: string;
  state: 'connected' | 'disconnected';
  type: 'primary' | 'backup';
  update_time: number;
  vendor: string | null;
  version: string | null;
  disconnected_reason: string | null;
  message: string | null;
  signature: string | null;
}

export function normalizeServerStatus(s: ServerStatusInput, now: number): Record<string, unknown> {
  if (s === null || typeof s !== 'object') throw badArgument('status', s, 'a server status object');
  if (s.state !== 'connected' && s.state !== 'disconnected') throw badArgument('state', s.state, "'connected' or 'disconnected'");
  if (s.type !== 'primary' && s.type !== 'backup') throw badArgument('type', s.type, "'primary' or 'backup'");
  return {
    svm: checkString('svm', s.svm, 256),
    node: checkString('node', s.node, 256),
    ip: checkString('ip', s.ip, 256),
    state: s.state,
    type: s.type,
    updateTime: s.updateTime === undefined ? now : checkNumber('updateTime', s.updateTime),
    vendor: checkOptionalString('vendor', s.vendor, 256),
    version: checkOptionalString('version', s.version, 256),
    disconnectedReason: s.state === 'connected' ? null : checkOptionalString('disconnectedReason', s.disconnectedReason, 64),
    message: s.state === 'connected' ? null : checkOptionalString('message', s.message, 4096),
    signature: checkOptionalString('signature', s.signature, 1024),
  };
}

export class ServerStatusTable {
  readonly #upsert: Database.Statement;
  readonly #queries: Readonly<Record<NonNullable<ServerStatusQuery['orderBy']>, Database.Statement>>;

  constructor(db: Database.Database) {
    this.#upsert = db.prepare(`
      INSERT INTO server_status (svm, node, ip, state, type, update_time, vendor, version, disconnected_reason, message, signature)
      VALUES (@svm, @node, @ip, @state, @type, @updateTime, @vendor, @version, @disconnectedReason, @message, @signature)
      ON CONFLICT (svm, node, ip) DO UPDATE SET state = excluded.state, type = excluded.type,
        update_time = excluded.update_time, vendor = coalesce(excluded.vendor, vendor),
        version = coalesce(excluded.version, version), disconnected_reason = excluded.disconnected_reason,
        message = excluded.message, signature = coalesce(excluded.signature, signature)`);
    const base = `SELECT svm, node, ip, state, type, update_time, vendor, version, disconnected_reason, message, signature FROM server_status
      WHERE (@svm IS NULL OR svm = @svm) AND (@node IS NULL OR node = @node) AND (@ip IS NULL OR ip = @ip)
      AND (@state IS NULL OR state = @state) AND (@type IS NULL OR type = @type)
      AND (@reason IS NULL OR disconnected_reason = @reason)`;
    this.#queries = Object.freeze({
      'update_time asc': db.prepare(`${base} ORDER BY update_time ASC, svm, node, ip LIMIT @limit`),
      'update_time desc': db.prepare(`${base} ORDER BY update_time DESC, svm, node, ip LIMIT @limit`),
      'ip asc': db.prepare(`${base} ORDER BY ip ASC, svm, node LIMIT @limit`),
    });
  }

  upsert(params: Record<string, unknown>): void {
    this.#upsert.run(params);
  }

  query(q: ServerStatusQuery = {}): Page<ServerStatusRecord> {
    const { orderBy, params } = serverStatusQueryParams(q);
    const stmt = this.#queries[orderBy];
    const records = (stmt.all(params) as ServerStatusRow[]).map(toServerStatus);
    return { records, numRecords: records.length };
  }
}

const kServerOrders: ReadonlySet<string> = new Set(['update_time asc', 'update_time desc', 'ip asc']);

/** Validates a server-status query; `params.limit` is -1 without `maxRecords`. */
export function serverStatusQueryParams(q: ServerStatusQuery = {}): {
  orderBy: NonNullable<ServerStatusQuery['orderBy']>;
  params: Record<string, string | number | null>;
} {
  if (q === null || typeof q !== 'object') throw badArgument('query', q, 'an object');
  const orderBy = q.orderBy ?? 'update_time desc';
  if (!kServerOrders.has(orderBy)) throw badArgument('orderBy', orderBy, "'update_time asc', 'update_time desc' or 'ip asc'");
  const params = {
    svm: checkOptionalString('svm', q.svm),
    node: checkOptionalString('node', q.node),
    ip: checkOptionalString('ip', q.ip),
    state: checkOptionalString('state', q.state),
    type: checkOptionalString('type', q.type),
    reason: checkOptionalString('disconnectedReason', q.disconnectedReason),
    limit: q.maxRecords === undefined ? -1 : checkCount('maxRecords', q.maxRecords, 1_000_000),
  };
  return { orderBy, params };
}

export function toServerStatus(r: ServerStatusRow): ServerStatusRecord {
  return {
    svm: r.svm,
    node: r.node,
    ip: r.ip,
    state: r.state,
    type: r.type,
    updateTime: r.update_time,
    vendor: r.vendor,
    version: r.version,
    disconnectedReason: r.disconnected_reason,
    message: r.message,
    signature: r.signature,
  };
}
