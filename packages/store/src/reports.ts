// Scan reports (SPEC §9, OneFS report fields): on-demand scan jobs and the daily on-access report.
// Report writes are synchronous (each its own small transaction): they are rare — one create, progress
// that callers aggregate (e.g. every few hundred files), one row per infection, one finish — and the
// caller needs the report id at once. Bandwidth and throughput are derived on read from bytes, files
// and duration, so they can never disagree with the counters.
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { StoreError, StoreErrorCodes } from './errors.js';
import type { Page } from './events.js';
import { badArgument, checkCount, checkNumber, checkOptionalString, checkString, checkStringArray } from './validate.js';

export type ReportKind = 'on-demand' | 'on-access-daily';
export type ReportState = 'running' | 'completed' | 'failed' | 'cancelled';
const kKinds: ReadonlySet<string> = new Set(['on-demand', 'on-access-daily']);
const kFinalStates: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

export interface ReportInput {
  readonly kind: ReportKind;
  /** @default a random UUID */
  readonly id?: string;
  /** On-demand policy / job name. */
  readonly policy?: string;
  /** Epoch ms. @default the store clock */
  readonly startTime?: number;
  /** Configured response to infections (`none`, `quarantine`, `quarantine-move`, `delete`, `deny-only`). */
  readonly response?: string;
}

export interface ReportProgress {
  readonly files?: number;
  readonly bytes?: number;
  readonly fails?: number;
}

export interface InfectionInput {
  readonly filePath: string;
  readonly threats: readonly string[];
  /** Response taken for this file. */
  readonly response: string;
  /** Epoch ms. @default the store clock */
  readonly time?: number;
}

export interface Infection {
  readonly filePath: string;
  readonly threats: readonly string[];
  readonly response: string;
  readonly time: number;
}

export interface Report {
  readonly id: string;
  readonly kind: ReportKind;
  readonly policy: string | null;
  readonly startTime: number;
  readonly endTime: number | null;
  /** End (or now, while running) minus start. */
  readonly durationMs: number;
  readonly filesScanned: number;
  readonly totalBytes: number;
  readonly scanFails: number;
  readonly infectedCount: number;
  /** Bytes scanned per second over the duration. */
  readonly bandwidthBytesPerSec: number;
  /** Files scanned per second over the duration. */
  readonly throughputFilesPerSec: number;
  readonly state: ReportState;
  readonly response: string | null;
  /** Infected files with their threats and the response taken (only from `getReport`). */
  readonly infections: readonly Infection[];
}

/** An infected file of a report, with the report it belongs to (OneFS `reports/threats`). */
export interface InfectionRecord extends Infection {
  readonly reportId: string;
  /** 1-based position in its report. */
  readonly seq: number;
  readonly policy: string | null;
}

export interface InfectionQuery {
  readonly reportId?: string;
  readonly filePath?: string;
  /** Response taken. */
  readonly response?: string;
  readonly since?: number;
  readonly until?: number;
  readonly maxRecords?: number;
  /** @default 0 */
  readonly offset?: number;
}

export interface ReportQuery {
  readonly kind?: ReportKind;
  readonly state?: ReportState;
  /** On-demand policy / job name. */
  readonly policy?: string;
  /** Inclusive lower bound on start time. */
  readonly since?: number;
  /** Inclusive upper bound on start time. */
  readonly until?: number;
  readonly maxRecords?: number;
  /** @default 0 */
  readonly offset?: number;
}

export interface ReportRow {
  id: string;
  kind: ReportKind;
  policy: string | null;
  start_time: number;
  end_time: number | null;
  files_scanned: number;
  total_bytes: number;
  scan_fails: number;
  infected_count: number;
  state: ReportState;
  response: string | null;
}

export interface InfectionRow {
  file_path: string;
  threats: string;
  response: string;
  time: number;
}

export function reportNotFound(id: string): StoreError {
  return new StoreError(StoreErrorCodes.NOT_FOUND, `report \`${id}\` does not exist`, { target: 'id' });
}

export class ReportTable {
  readonly #clock: () => number;
  readonly #insert: Database.Statement;
  readonly #progress: Database.Statement;
  readonly #addInfection: Database.Transaction<(id: string, inf: InfectionInput, time: number) => void>;
  readonly #finish: Database.Statement;
  readonly #get: Database.Statement;
  readonly #infections: Database.Statement;
  readonly #list: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #listInfections: Database.Statement;

  constructor(db: Database.Database, clock: () => number) {
    this.#clock = clock;
    this.#insert = db.prepare(`INSERT INTO reports (id, kind, policy, start_time, state, response)
      VALUES (?, ?, ?, ?, 'running', ?)`);
    this.#progress = db.prepare(`UPDATE reports SET files_scanned = files_scanned + ?, total_bytes = total_bytes + ?,
      scan_fails = scan_fails + ? WHERE id = ?`);
    const bump = db.prepare('UPDATE reports SET infected_count = infected_count + 1 WHERE id = ? RETURNING infected_count');
    const insertInfection = db.prepare(
      'INSERT INTO report_infections (report_id, seq, file_path, threats, response, time) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#addInfection = db.transaction((id: string, inf: InfectionInput, time: number) => {
      const row = bump.get(id) as { infected_count: number } | undefined;
      if (row === undefined) throw reportNotFound(id);
      insertInfection.run(id, row.infected_count, inf.filePath, JSON.stringify(inf.threats), inf.response, time);
    });
    this.#finish = db.prepare('UPDATE reports SET state = ?, end_time = ? WHERE id = ?');
    const cols = 'id, kind, policy, start_time, end_time, files_scanned, total_bytes, scan_fails, infected_count, state, response';
    this.#get = db.prepare(`SELECT ${cols} FROM reports WHERE id = ?`);
    this.#infections = db.prepare('SELECT file_path, threats, response, time FROM report_infections WHERE report_id = ? ORDER BY seq');
    this.#list = db.prepare(`SELECT ${cols} FROM reports
      WHERE (@kind IS NULL OR kind = @kind) AND (@state IS NULL OR state = @state) AND (@policy IS NULL OR policy = @policy)
      AND (@since IS NULL OR start_time >= @since) AND (@until IS NULL OR start_time <= @until)
      ORDER BY start_time DESC, id LIMIT @limit OFFSET @offset`);
    this.#delete = db.prepare('DELETE FROM reports WHERE id = ?');
    this.#listInfections = db.prepare(`SELECT i.report_id, i.seq, i.file_path, i.threats, i.response, i.time, r.policy
      FROM report_infections i JOIN reports r ON r.id = i.report_id
      WHERE (@reportId IS NULL OR i.report_id = @reportId) AND (@filePath IS NULL OR i.file_path = @filePath)
      AND (@response IS NULL OR i.response = @response) AND (@since IS NULL OR i.time >= @since) AND (@until IS NULL OR i.time <= @until)
      ORDER BY i.time DESC, i.report_id, i.seq LIMIT @limit OFFSET @offset`);
  }

  listInfections(q: InfectionQuery = {}): Page<InfectionRecord> {
    const rows = this.#listInfections.all(infectionQueryParams(q)) as InfectionRecordRow[];
    const records = rows.map(toInfectionRecord);
    return { records, numRecords: records.length };
  }

  create(input: ReportInput): Report {
    const [id, kind, policy, start, response] = normalizeReportInput(input, this.#clock());
    this.#insert.run(id, kind, policy, start, response);
    return this.get(id)!;
  }

  addProgress(id: string, p: ReportProgress): void {
    const [files, bytes, fails] = normalizeReportProgress(p);
    if (this.#progress.run(files, bytes, fails, checkString('id', id, 256)).changes === 0) throw reportNotFound(id);
  }

  addInfection(id: string, inf: InfectionInput): void {
    const time = normalizeInfection(inf, this.#clock());
    this.#addInfection.immediate(checkString('id', id, 256), inf, time);
  }

  finish(id: string, state: Exclude<ReportState, 'running'>, endTime?: number): Report {
    const end = normalizeReportFinish(state, endTime, this.#clock());
    if (this.#finish.run(state, end, checkString('id', id, 256)).changes === 0) throw reportNotFound(id);
    return this.get(id)!;
  }

  get(id: string): Report | undefined {
    const row = this.#get.get(checkString('id', id, 256)) as ReportRow | undefined;
    if (row === undefined) return undefined;
    const infections = (this.#infections.all(id) as InfectionRow[]).map(toInfection);
    return toReport(row, infections, this.#clock());
  }

  list(q: ReportQuery = {}): Page<Report> {
    const rows = this.#list.all(reportQueryParams(q)) as ReportRow[];
    const now = this.#clock();
    const records = rows.map((r) => toReport(r, [], now));
    return { records, numRecords: records.length };
  }

  delete(id: string): boolean {
    return this.#delete.run(checkString('id', id, 256)).changes > 0;
  }
}

// --- pure helpers, shared with other store backends ----------------------------------------------

/** `[id, kind, policy, startTime, response]` of a new report; throws before anything is written. */
export function normalizeReportInput(input: ReportInput, now: number): [string, ReportKind, string | null, number, string | null] {
  if (input === null || typeof input !== 'object') throw badArgument('report', input, 'a report object');
  if (!kKinds.has(input.kind)) throw badArgument('kind', input.kind, "'on-demand' or 'on-access-daily'");
  const id = input.id === undefined ? randomUUID() : checkString('id', input.id, 256);
  const start = input.startTime === undefined ? now : checkNumber('startTime', input.startTime);
  return [id, input.kind, checkOptionalString('policy', input.policy, 256), start, checkOptionalString('response', input.response, 64)];
}

/** `[files, bytes, fails]` to add. */
export function normalizeReportProgress(p: ReportProgress): [number, number, number] {
  if (p === null || typeof p !== 'object') throw badArgument('progress', p, 'an object');
  return [checkCount('files', p.files ?? 0), checkCount('bytes', p.bytes ?? 0), checkCount('fails', p.fails ?? 0)];
}

/** Validates an infection; returns its time. */
export function normalizeInfection(inf: InfectionInput, now: number): number {
  if (inf === null || typeof inf !== 'object') throw badArgument('infection', inf, 'an object');
  checkString('filePath', inf.filePath);
  checkStringArray('threats', inf.threats);
  checkString('response', inf.response, 64);
  return inf.time === undefined ? now : checkNumber('time', inf.time);
}

/** Validates a final state; returns the end time. */
export function normalizeReportFinish(state: unknown, endTime: number | undefined, now: number): number {
  if (!kFinalStates.has(state as string)) throw badArgument('state', state, "'completed', 'failed' or 'cancelled'");
  return endTime === undefined ? now : checkNumber('endTime', endTime);
}

export function reportQueryParams(q: ReportQuery = {}): Record<string, string | number | null> {
  if (q === null || typeof q !== 'object') throw badArgument('query', q, 'an object');
  if (q.kind !== undefined && !kKinds.has(q.kind)) throw badArgument('kind', q.kind, "'on-demand' or 'on-access-daily'");
  return {
    kind: q.kind ?? null,
    state: checkOptionalString('state', q.state, 32),
    policy: checkOptionalString('policy', q.policy, 256),
    since: q.since === undefined ? null : checkNumber('since', q.since),
    until: q.until === undefined ? null : checkNumber('until', q.until),
    limit: q.maxRecords === undefined ? -1 : checkCount('maxRecords', q.maxRecords, 1_000_000),
    offset: checkCount('offset', q.offset ?? 0),
  };
}

export interface InfectionRecordRow extends InfectionRow {
  report_id: string;
  seq: number;
  policy: string | null;
}

/** Validates an infection query; `limit` is -1 without `maxRecords`. */
export function infectionQueryParams(q: InfectionQuery = {}): Record<string, string | number | null> {
  if (q === null || typeof q !== 'object') throw badArgument('query', q, 'an object');
  return {
    reportId: checkOptionalString('reportId', q.reportId, 256),
    filePath: checkOptionalString('filePath', q.filePath),
    response: checkOptionalString('response', q.response, 64),
    since: q.since === undefined ? null : checkNumber('since', q.since),
    until: q.until === undefined ? null : checkNumber('until', q.until),
    limit: q.maxRecords === undefined ? -1 : checkCount('maxRecords', q.maxRecords, 1_000_000),
    offset: checkCount('offset', q.offset ?? 0),
  };
}

export function toInfectionRecord(r: InfectionRecordRow): InfectionRecord {
  return { reportId: r.report_id, seq: r.seq, policy: r.policy, ...toInfection(r) };
}

export function toInfection(r: InfectionRow): Infection {
  return { filePath: r.file_path, threats: JSON.parse(r.threats) as string[], response: r.response, time: r.time };
}

/** A report row with its derived fields; `now` stands in for the end of a running report. */
export function toReport(row: ReportRow, infections: readonly Infection[], now: number): Report {
  const durationMs = Math.max(0, (row.end_time ?? now) - row.start_time);
  const seconds = durationMs / 1000;
  return {
    id: row.id,
    kind: row.kind,
    policy: row.policy,
    startTime: row.start_time,
    endTime: row.end_time,
    durationMs,
    filesScanned: row.files_scanned,
    totalBytes: row.total_bytes,
    scanFails: row.scan_fails,
    infectedCount: row.infected_count,
    bandwidthBytesPerSec: seconds > 0 ? row.total_bytes / seconds : 0,
    throughputFilesPerSec: seconds > 0 ? row.files_scanned / seconds : 0,
    state: row.state,
    response: row.response,
    infections,
  };
}
