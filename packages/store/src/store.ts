// The isi_avscan.db store: one SQLite connection per Store, opened in WAL mode.
//
// Durability. WAL with `synchronous=NORMAL` (the default) appends each commit to the WAL file without
// an fsync: a committed transaction survives a process kill (SIGKILL, crash) because its pages are in
// the OS page cache, but the last commits may be lost on an OS crash or power loss (the database is
// never corrupted either way). `synchronous: 'full'` fsyncs the WAL on every commit and survives power
// loss too, at the price of one fsync per batch. Writes are acknowledged (their promise resolves) only
// after the transaction holding them committed.
//
// Concurrency contract.
// - One Store (one writer connection) per process and database file; it is not shareable with worker
//   threads (open one read-only Store per thread instead). Readers may be many.
// - Other processes may open the same file: SQLite's locks are atomic across processes, WAL lets
//   readers run while one writer commits, and every write transaction is `BEGIN IMMEDIATE`, so a
//   writer never upgrades a read lock (no deadlock) and waits up to `busyTimeoutMs` for another.
// - `nodeId` names the lock owner: two live processes must not use the same nodeId, because on open a
//   store releases every lock of its nodeId (they belong to a previous, dead incarnation).
//
// Reads vs queued writes. Reads are synchronous and see what is committed; they do not flush the
// queue. So a read after an *acknowledged* write (its promise resolved) sees it; a read issued while
// the write is still queued may not. Call `flush()` first to read your own unacknowledged writes.
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AttributeTable, checkDeletePath, checkFileKey, checkRename, normalizeScanRecord, type ScanRecord } from './attributes.js';
import type { Attributes, FileKey } from './current.js';
import { classifySqliteError, StoreError, StoreErrorCodes } from './errors.js';
import {
  EventTable,
  normalizeEvent,
  normalizeServerStatus,
  ServerStatusTable,
  type EventInput,
  type EventQuery,
  type EventRecord,
  type Page,
  type ServerStatusInput,
  type ServerStatusQuery,
  type ServerStatusRecord,
} from './events.js';
import { GroupCommitter } from './group-commit.js';
import { kAcquired, LockTable, type AcquireResult, type LockHolder } from './locks.js';
import { LockWriteDelay, QueuedLocks, type QueuedLock } from './queued-locks.js';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from './options.js';
import {
  ReportTable,
  type InfectionInput,
  type InfectionQuery,
  type InfectionRecord,
  type Report,
  type ReportInput,
  type ReportProgress,
  type ReportQuery,
  type ReportState,
} from './reports.js';
import { checkVersionReadonly, migrate } from './schema.js';
import { badArgument, checkCount, checkPath, checkString } from './validate.js';

// Worker entries must be JavaScript: under the test runner this module runs from src/, so point at the
// built file (the test command builds first).
const kCheckpointerUrl = new URL(import.meta.url.endsWith('.ts') ? '../dist/checkpointer.js' : './checkpointer.js', import.meta.url);

/** Opens (or creates and migrates) the database at `file`. Throws a coded {@link StoreError}. */
export function openStore(file: string, options?: StoreOptions): Store {
  return new Store(file, options);
}

/** Options of one `recordScan`. */
export interface RecordOptions {
  /** Release this scan lock in the record's transaction. */
  readonly releaseLock?: { readonly owner: string; readonly scanId: string };
  /** Longest wait for the record's batch, ms, in [0, 60000]. @default batchMaxDelayMs */
  readonly commitWithinMs?: number;
}

export class Store {
  readonly file: string;
  readonly options: ResolvedStoreOptions;
  readonly #db: Database.Database;
  readonly #attributes: AttributeTable;
  readonly #locks: LockTable;
  readonly #queuedLocks = new QueuedLocks();
  readonly #lockDelay: LockWriteDelay;
  readonly #events: EventTable;
  readonly #servers: ServerStatusTable;
  readonly #reports: ReportTable;
  readonly #committer: GroupCommitter;
  readonly #integrity: Database.Statement;
  #checkpointer: Worker | undefined;
  #closed = false;

  constructor(file: string, options?: StoreOptions) {
    // Phase 1: validate options and arguments before touching the disk.
    this.options = resolveStoreOptions(options);
    this.file = checkString('file', file);
    const o = this.options;
    this.#lockDelay = new LockWriteDelay(o.lockWriteDelayMs);

    // Phase 2: open and configure the connection.
    let db: Database.Database | undefined;
    try {
      try {
        db = new Database(file, { readonly: o.readonly, fileMustExist: o.readonly, timeout: o.busyTimeoutMs });
      } catch (err) {
        // better-sqlite3 reports a missing directory as a plain TypeError: still "cannot open".
        const coded = classifySqliteError(err, file);
        if (coded.code !== StoreErrorCodes.INVALID_ARGUMENT && coded.code !== StoreErrorCodes.SQLITE) throw coded;
        throw new StoreError(StoreErrorCodes.UNWRITABLE, `database \`${file}\` cannot be opened (${(err as Error).message})`, {
          target: file,
          cause: err,
        });
      }
      // The first statement reads the header: a garbage file fails here with SQLITE_NOTADB.
      if (!o.readonly) db.pragma('journal_mode = WAL');
      else db.pragma('schema_version');
      db.pragma(`synchronous = ${o.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`cache_size = -${o.cacheSizeKiB}`);
      db.pragma('foreign_keys = ON');
      // Checkpoints move to a worker thread (checkpointer.ts) unless the caller asked for SQLite's own.
      if (!o.readonly && o.checkpointIntervalMs > 0) db.pragma('wal_autocheckpoint = 0');

      // Phase 3: schema.
      if (o.readonly) checkVersionReadonly(db, file);
      else migrate(db, file);

      // Phase 4: prepare every statement once.
      this.#attributes = new AttributeTable(db);
      this.#locks = new LockTable(db, o.nodeId);
      this.#events = new EventTable(db);
      this.#servers = new ServerStatusTable(db);
      this.#reports = new ReportTable(db, o.clock);
      this.#integrity = db.prepare('PRAGMA integrity_check');
      this.#committer = new GroupCommitter(db, file, o.batchMaxRows, o.batchMaxDelayMs);

      // Phase 5: recover. Locks of our nodeId were left by a previous life of this process.
      if (!o.readonly) this.#locks.releaseOwnStale();

      // Phase 6: background checkpoints.
      if (!o.readonly && o.checkpointIntervalMs > 0) {
        this.#checkpointer = new Worker(kCheckpointerUrl, { workerData: { file, intervalMs: o.checkpointIntervalMs, busyTimeoutMs: o.busyTimeoutMs } });
        // A checkpointer must never keep the process alive nor crash it: its work is an optimisation.
        this.#checkpointer.unref();
        this.#checkpointer.on('error', () => {});
      }
    } catch (err) {
      try {
        db?.close();
      } catch {
        // already failing: the open error is the one to report
      }
      throw classifySqliteError(err, file);
    }
    this.#db = db;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Writes queued and not yet committed. */
  get pendingWrites(): number {
    return this.#committer.pending;
  }

  // --- attributes ------------------------------------------------------------------------------

  /**
   * Records a scan result; resolves once committed (group commit). With `releaseLock`, the scan lock
   * of the same file is released in the same transaction: the result and the end of the lock become
   * visible together, and the scan costs one write transaction less (the engine's case).
   * `commitWithinMs` lets the write wait longer than `batchMaxDelayMs` for its batch (the engine's
   * records: nothing waits on their commit, and a batch of ten costs about what a batch of two does).
   */
  recordScan(record: ScanRecord, options?: RecordOptions): Promise<void> {
    return this.#write(() => {
      if (options?.commitWithinMs !== undefined) checkCount('commitWithinMs', options.commitWithinMs, 60_000);
      const params = normalizeScanRecord(record, this.options.clock());
      const release = options?.releaseLock;
      if (release === undefined) return () => this.#attributes.upsert(params);
      const owner = checkString('releaseLock.owner', release.owner, 256);
      const scanId = checkString('releaseLock.scanId', release.scanId, 256);
      const key = { volume: record.volume, fileId: record.fileId };
      // A deferred lock still queued is cancelled: neither its write nor the release is applied.
      if (this.#queuedLocks.cancel(key, owner, scanId)) return () => this.#attributes.upsert(params);
      return () => {
        this.#attributes.upsert(params);
        this.#locks.release(key, owner, scanId);
      };
    }, options?.commitWithinMs);
  }

  getAttributes(key: FileKey): Attributes | undefined {
    this.#assertOpen();
    checkFileKey(key);
    return this.#run(() => this.#attributes.get(key.volume, key.fileId));
  }

  getAttributesByPath(volume: string, path: string): Attributes | undefined {
    this.#assertOpen();
    checkString('volume', volume, 1024);
    checkPath('path', path);
    return this.#run(() => this.#attributes.getByPath(volume, path));
  }

  /** Every row of one volume (or all volumes), ordered by volume and path. For reports and tests, not the hot path. */
  listAttributes(volume?: string): Attributes[] {
    this.#assertOpen();
    if (volume !== undefined) checkString('volume', volume, 1024);
    return this.#run(() => this.#attributes.list(volume));
  }

  countAttributes(): number {
    this.#assertOpen();
    return this.#run(() => this.#attributes.count());
  }

  /**
   * A rename on the volume: the file or folder at `from` moves to `to` (everything below a folder
   * moves with it); rows at or below `to` are replaced, as rename(2) replaces its target. Resolves
   * with the number of rows moved.
   */
  rename(volume: string, from: string, to: string): Promise<number> {
    return this.#write(() => {
      checkRename(volume, from, to);
      return () => this.#attributes.rename(volume, from, to);
    });
  }

  /** The file is gone: removes its row. Resolves with whether a row existed. */
  deleteFile(key: FileKey): Promise<boolean> {
    return this.#write(() => {
      checkFileKey(key);
      return () => this.#attributes.delete(key.volume, key.fileId);
    });
  }

  /** The file or folder at `path` is gone: removes its row and every row below it. Resolves with the count. */
  deletePath(volume: string, path: string): Promise<number> {
    return this.#write(() => {
      checkDeletePath(volume, path);
      return () => this.#attributes.deletePath(volume, path);
    });
  }

  /** Sets or clears (administrator release) the quarantine flag. Resolves with whether the row existed. */
  setQuarantined(key: FileKey, quarantined: boolean): Promise<boolean> {
    return this.#write(() => {
      checkFileKey(key);
      if (typeof quarantined !== 'boolean') throw badArgument('quarantined', quarantined, 'a boolean');
      return () => this.#attributes.setQuarantined(key.volume, key.fileId, quarantined);
    });
  }

  /**
   * ONTAP `cache_clear`: every file (of `volume`, or of all volumes) becomes non-current; results,
   * threats and stamps are kept. A file becomes current again when it is next recorded clean.
   */
  clearCache(volume?: string): Promise<void> {
    return this.#write(() => {
      if (volume !== undefined) checkString('volume', volume, 1024);
      return () => this.#attributes.clearCache(volume);
    });
  }

  // --- locks (synchronous: see locks.ts) --------------------------------------------------------

  /** Takes the scan lock of a file for `leaseMs`, or reports who holds it. Takes over an expired lease. */
  acquireLock(key: FileKey, owner: string, scanId: string, leaseMs: number): AcquireResult {
    this.#assertWritable();
    checkFileKey(key);
    checkString('owner', owner, 256);
    checkString('scanId', scanId, 256);
    checkCount('leaseMs', leaseMs, 86_400_000);
    return this.#run(() => this.#locks.acquire(key, owner, scanId, leaseMs, this.options.clock()));
  }

  /**
   * The same decision as `acquireLock`, queued into the group-commit batch instead of its own
   * transaction; resolves once that batch committed. For a caller that starts its scan without
   * waiting (the engine on a local store). While the write is queued, a `recordScan(…, { releaseLock })`
   * or `releaseLock` of the same lock cancels it: the lock row is never written, the release not run,
   * and the promise resolves `{ acquired: true }` — the database ends as after both in one
   * transaction. A renewal of a queued lock answers `true` (the lease starts when the row is written).
   * The write waits `lockWriteDelayMs` before joining a batch (a scan that ends sooner writes no lock
   * row); other connections see the lock once that batch committed (≤ `lockWriteDelayMs` +
   * `batchMaxDelayMs`). `flush()` and `close()` write every lock still held back.
   */
  acquireLockDeferred(key: FileKey, owner: string, scanId: string, leaseMs: number): Promise<AcquireResult> {
    let entry: QueuedLock;
    try {
      this.#assertWritable();
      checkFileKey(key);
      checkString('owner', owner, 256);
      checkString('scanId', scanId, 256);
      checkCount('leaseMs', leaseMs, 86_400_000);
      entry = this.#queuedLocks.add(key, owner, scanId);
    } catch (err) {
      return Promise.reject(classifySqliteError(err, this.file));
    }
    const write = (): Promise<AcquireResult> => {
      // Cancelled while held back: the batch has nothing to do for it.
      if (entry.cancelled) return Promise.resolve(kAcquired);
      const written = this.#committer.enqueue(() => {
        this.#queuedLocks.settle(entry);
        if (entry.cancelled) return kAcquired;
        return this.#locks.acquireInBatch(key, owner, scanId, leaseMs, this.options.clock());
      });
      // A batch that failed before reaching the write (busy, closed) must not leave it cancellable.
      return written.then(undefined, (err: unknown) => {
        this.#queuedLocks.settle(entry);
        throw err;
      });
    };
    if (this.options.lockWriteDelayMs === 0) return write();
    // close() releases held writes before it marks the store closed: a held write always meets an open one.
    return new Promise<AcquireResult>((resolve, reject) => {
      this.#lockDelay.hold(() => void write().then(resolve, reject));
    });
  }

  /** Deferred acquires since open, and how many of them were elided (cancelled by their release while queued: never written). */
  get deferredLockStats(): { readonly requested: number; readonly elided: number } {
    return { requested: this.#queuedLocks.requested, elided: this.#queuedLocks.elided };
  }

  /** Extends our unexpired lease to now + `leaseMs`; false if the lock is no longer ours. */
  renewLock(key: FileKey, owner: string, scanId: string, leaseMs: number): boolean {
    this.#assertWritable();
    checkFileKey(key);
    checkCount('leaseMs', leaseMs, 86_400_000);
    if (this.#queuedLocks.has(key, owner, scanId)) return true;
    return this.#run(() => this.#locks.renew(key, owner, scanId, leaseMs, this.options.clock()));
  }

  /** Releases our lock; false if it was not ours (expired and taken over, or never held). A queued deferred lock is cancelled (no write). */
  releaseLock(key: FileKey, owner: string, scanId: string): boolean {
    this.#assertWritable();
    checkFileKey(key);
    if (this.#queuedLocks.cancel(key, owner, scanId)) return true;
    return this.#run(() => this.#locks.release(key, owner, scanId));
  }

  /** Who holds the lock of a file (even if its lease expired), or undefined. */
  lockHolder(key: FileKey): LockHolder | undefined {
    this.#assertOpen();
    checkFileKey(key);
    return this.#run(() => this.#locks.holder(key));
  }

  // --- events and server status -----------------------------------------------------------------

  /** Appends an event; resolves with its id once committed (group commit). */
  appendEvent(event: EventInput): Promise<number> {
    return this.#write(() => {
      const params = normalizeEvent(event, this.options.clock());
      return () => this.#events.insert(params);
    });
  }

  queryEvents(query?: EventQuery): Page<EventRecord> {
    this.#assertOpen();
    return this.#run(() => this.#events.query(query));
  }

  /** Upserts the status of one scanner server as seen from (svm, node); resolves once committed. */
  upsertServerStatus(status: ServerStatusInput): Promise<void> {
    return this.#write(() => {
      const params = normalizeServerStatus(status, this.options.clock());
      return () => this.#servers.upsert(params);
    });
  }

  queryServerStatus(query?: ServerStatusQuery): Page<ServerStatusRecord> {
    this.#assertOpen();
    return this.#run(() => this.#servers.query(query));
  }

  // --- reports (synchronous: see reports.ts) ----------------------------------------------------

  createReport(input: ReportInput): Report {
    this.#assertWritable();
    return this.#run(() => this.#reports.create(input));
  }

  /** Adds to a report's counters (files scanned, bytes, failures). Aggregate before calling. */
  addReportProgress(id: string, progress: ReportProgress): void {
    this.#assertWritable();
    this.#run(() => this.#reports.addProgress(id, progress));
  }

  /** Adds one infected file (threats, response taken) and bumps the infected count. */
  addReportInfection(id: string, infection: InfectionInput): void {
    this.#assertWritable();
    this.#run(() => this.#reports.addInfection(id, infection));
  }

  finishReport(id: string, state: Exclude<ReportState, 'running'>, endTime?: number): Report {
    this.#assertWritable();
    return this.#run(() => this.#reports.finish(id, state, endTime));
  }

  getReport(id: string): Report | undefined {
    this.#assertOpen();
    return this.#run(() => this.#reports.get(id));
  }

  listReports(query?: ReportQuery): Page<Report> {
    this.#assertOpen();
    return this.#run(() => this.#reports.list(query));
  }

  /** Infected files across reports, newest first (OneFS `reports/threats`). */
  listInfections(query?: InfectionQuery): Page<InfectionRecord> {
    this.#assertOpen();
    return this.#run(() => this.#reports.listInfections(query));
  }

  deleteReport(id: string): boolean {
    this.#assertWritable();
    return this.#run(() => this.#reports.delete(id));
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /** Commits every queued write now; resolves when they are committed. */
  async flush(): Promise<void> {
    if (this.#closed) return;
    this.#lockDelay.releaseAll();
    this.#committer.flush();
  }

  /** `PRAGMA integrity_check`: `'ok'` or SQLite's description of the damage. */
  integrityCheck(): string {
    this.#assertOpen();
    return this.#run(() => (this.#integrity.all() as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '));
  }

  /** Drains queued writes, then closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#lockDelay.releaseAll();
    this.#committer.flush();
    this.#closed = true;
    const worker = this.#checkpointer;
    if (worker !== undefined) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
      // Leave a small database behind: fold the WAL in now that no other connection of ours is open.
      try {
        this.#db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // another process may be reading: its next checkpoint does the work
      }
    }
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError(StoreErrorCodes.CLOSED, `store \`${this.file}\` is closed`);
  }

  #assertWritable(): void {
    this.#assertOpen();
    if (this.options.readonly) {
      throw new StoreError(StoreErrorCodes.UNWRITABLE, `store \`${this.file}\` is open read-only`, { target: this.file });
    }
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw classifySqliteError(err, this.file);
    }
  }

  /**
   * `prepare` validates synchronously (a bad argument rejects, nothing is queued) and returns the
   * write; `delayMs` is how long it may wait for its batch (default `batchMaxDelayMs`).
   */
  #write<T>(prepare: () => () => T, delayMs?: number): Promise<T> {
    let apply: () => T;
    try {
      this.#assertWritable();
      apply = prepare();
    } catch (err) {
      return Promise.reject(classifySqliteError(err, this.file));
    }
    return this.#committer.enqueue(apply, delayMs);
  }
}
