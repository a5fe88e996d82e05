// The two store backends behind one async adapter, so one behaviour suite runs against both. The SQLite
// Store answers reads, locks and reports synchronously: the adapter wraps each method in an async
// function (a synchronous throw becomes a rejection), which is exactly how an engine written against
// PgStore sees it. Locations are fresh: a temp database file, or a fresh PostgreSQL database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  openStore,
  type AcquireResult,
  type Attributes,
  type EventInput,
  type EventQuery,
  type EventRecord,
  type FileKey,
  type InfectionInput,
  type InfectionQuery,
  type InfectionRecord,
  type LockHolder,
  type Page,
  type Report,
  type ReportInput,
  type ReportProgress,
  type ReportQuery,
  type ReportState,
  type ScanRecord,
  type ServerStatusInput,
  type ServerStatusQuery,
  type ServerStatusRecord,
} from '@avscan/store';
import { openPgStore } from '../../src/index.js';
import { requirePostgres, startPostgres, type PostgresHandle } from './postgres.js';

/** The operations both backends offer, all asynchronous. */
export interface AsyncStore {
  readonly nodeId: string;
  readonly pendingWrites: number;
  recordScan(record: ScanRecord, options?: { readonly releaseLock?: { readonly owner: string; readonly scanId: string } }): Promise<void>;
  getAttributes(key: FileKey): Promise<Attributes | undefined>;
  getAttributesByPath(volume: string, path: string): Promise<Attributes | undefined>;
  listAttributes(volume?: string): Promise<Attributes[]>;
  countAttributes(): Promise<number>;
  rename(volume: string, from: string, to: string): Promise<number>;
  deleteFile(key: FileKey): Promise<boolean>;
  deletePath(volume: string, path: string): Promise<number>;
  setQuarantined(key: FileKey, quarantined: boolean): Promise<boolean>;
  clearCache(volume?: string): Promise<void>;
  acquireLock(key: FileKey, owner: string, scanId: string, leaseMs: number): Promise<AcquireResult>;
  renewLock(key: FileKey, owner: string, scanId: string, leaseMs: number): Promise<boolean>;
  releaseLock(key: FileKey, owner: string, scanId: string): Promise<boolean>;
  lockHolder(key: FileKey): Promise<LockHolder | undefined>;
  appendEvent(event: EventInput): Promise<number>;
  queryEvents(query?: EventQuery): Promise<Page<EventRecord>>;
  upsertServerStatus(status: ServerStatusInput): Promise<void>;
  queryServerStatus(query?: ServerStatusQuery): Promise<Page<ServerStatusRecord>>;
  createReport(input: ReportInput): Promise<Report>;
  addReportProgress(id: string, progress: ReportProgress): Promise<void>;
  addReportInfection(id: string, infection: InfectionInput): Promise<void>;
  finishReport(id: string, state: Exclude<ReportState, 'running'>, endTime?: number): Promise<Report>;
  getReport(id: string): Promise<Report | undefined>;
  listReports(query?: ReportQuery): Promise<Page<Report>>;
  listInfections(query?: InfectionQuery): Promise<Page<InfectionRecord>>;
  deleteReport(id: string): Promise<boolean>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface CommonOptions {
  readonly nodeId?: string;
  readonly clock?: () => number;
  readonly batchMaxRows?: number;
  readonly batchMaxDelayMs?: number;
}

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** Whether the backend can run here (PostgreSQL installed). */
  readonly available: boolean;
  /** The backend's code for a shared concept: `code('CLOSED')` → `ERR_STORE_CLOSED` / `ERR_STOREPG_CLOSED`. */
  code(suffix: string): string;
  /** Call in the suite: starts what the backend needs (a PostgreSQL server) and stops it afterwards. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A fresh, empty location (database file or database). */
  location(): Promise<string>;
  open(location: string, options?: CommonOptions): Promise<AsyncStore>;
}

function asyncSqlite(store: object): AsyncStore {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  }) as AsyncStore;
}

export function sqliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: 'sqlite',
    available: true,
    code: (suffix) => `ERR_STORE_${suffix}`,
    async setup() {},
    async teardown() {
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    },
    async location() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-store-both-'));
      dirs.push(dir);
      return path.join(dir, 'isi_avscan.db');
    },
    async open(location, options) {
      return asyncSqlite(openStore(location, options));
    },
  };
}

export function postgresBackend(): Backend {
  const available = requirePostgres();
  let server: PostgresHandle | undefined;
  return {
    name: 'postgres',
    available,
    code: (suffix) => `ERR_STOREPG_${suffix}`,
    async setup() {
      server = await startPostgres();
    },
    async teardown() {
      await server?.stop();
    },
    async location() {
      return server!.createDatabase('behaviour');
    },
    async open(location, options) {
      return openPgStore(server!.config(location), { ...options, poolMax: 4 });
    },
  };
}
