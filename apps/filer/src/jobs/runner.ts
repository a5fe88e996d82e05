// On-demand scan jobs: start, cancel, progress, and restart safety.
//
// A job walks its roots lazily (walk.ts), judges each file with its own compiled scope, and hands the
// files in scope to the SVM's engine (`scanOnDemand`: background priority, skips scan-current files
// unless forced). Concurrency is bounded by a p-queue (`concurrency` scans in flight), and before each
// file is queued the job waits for the dispatcher's queue to be short (`onQueueBelow`): background
// work never piles up in front of the scanners, so interactive opens, which the dispatcher serves
// first, find a free slot quickly.
//
// Restart safety. Files finish out of order; the job folds a result into its counters only once
// every file before it (walk order) is done, and persists counters, infections and the position of
// that last folded file (the checkpoint) in one transaction, every `checkpointEvery` files or
// `checkpointMs`. After a crash, a job still `running` in the database is resumed from its
// checkpoint when the manager is created again (`onRestart: 'resume'`, the default) or marked
// `interrupted` (`onRestart: 'interrupt'`). Every file behind the checkpoint is counted exactly once;
// files scanned after it but before the crash are visited again and, being scan current now, counted
// as current (their scan was not lost: the engine recorded it).
import { setImmediate as nextTurn } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import path from 'node:path';
import type Database from 'better-sqlite3';
import PQueue from 'p-queue';
import type { Dispatcher } from '@avscan/dispatch';
import type { Engine, FileAccess, FileLookup, OnDemandOutcome } from '@avscan/engine';
import { Store } from '@avscan/store';
import { compilePolicy, type CompiledPolicy } from '@avscan/policy';
import { openNodeAppDb } from '../db/app-db.js';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime } from '../model.js';
import { accessOf, type ResolvedPath } from '../paths.js';
import type { JobSpec } from './spec.js';
import { countFiles, walkBatches, type Position, type WalkRoot } from './walk.js';

export type JobState = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export interface JobCounters {
  /** Files the walk visited. */
  checked: number;
  /** Files sent to a scanner (infected and failed included). */
  scanned: number;
  /** Files out of the job's scope (path, extension, size), vanished, or quarantined before. */
  skipped: number;
  /** Files not rescanned because their verdict was current (clean, or infected and quarantined). */
  current: number;
  infected: number;
  failed: number;
  /** Bytes of the files sent to a scanner. */
  bytes: number;
}

export interface JobInfection {
  readonly filePath: string;
  readonly threats: readonly string[];
  /** What was done, as the engine says it: `quarantined` (marked, denied), `moved`, `deleted`, `deny-only` (WORM). */
  readonly response: string;
  readonly time: number;
}

export interface JobStatus extends Readonly<JobCounters> {
  readonly id: string;
  readonly svm: string;
  readonly name: string;
  readonly kind: JobSpec['kind'];
  readonly state: JobState;
  readonly startTime: number;
  readonly endTime: number | null;
  readonly elapsedMs: number;
  /** Files the walk will visit in all, once the counting walk finished; `null` before. */
  readonly total: number | null;
  /** Files visited per second. */
  readonly filesPerSec: number;
  /** Bytes scanned per second. */
  readonly bytesPerSec: number;
  /** Time left at the current rate, once `total` is known. */
  readonly etaMs: number | null;
  /** Id of the job's report (the job id). */
  readonly reportId: string;
  readonly error: string | null;
}

export interface JobManagerOptions {
  /**
   * Scans in flight per job. More than a scanner's threads on purpose: the requests queued at the
   * scanner keep its threads busy while node's one thread is held up (a group commit, a checkpoint
   * save, a GC pause), where with one request per thread they finished and idled the CPU (measured:
   * bench/RESULTS.md, "job concurrency"). 32 rather than 16 since the dispatcher holds background
   * verdicts for a batch (its `background_settle_delay`): the files whose verdicts wait there must not
   * leave clamd's threads without work. While clients are served the job drops to `busyConcurrency`.
   * @default 32
   */
  readonly concurrency?: number;
  /** Queue a file only while fewer than this many requests wait in the dispatcher. @default concurrency */
  readonly dispatcherQueueBelow?: number;
  /**
   * Scans in flight per job while the SVM serves interactive scans (one dispatched within
   * `interactiveWindowMs`): the scanners' CPU goes to the clients first. @default 1
   */
  readonly busyConcurrency?: number;
  /** @default 1000 */
  readonly interactiveWindowMs?: number;
  /**
   * Largest file, bytes, a job sends to the scanners while the SVM serves clients; a larger one is
   * held back until the clients are quiet (no client scan within `interactiveWindowMs`), and sent
   * anyway when `kMaxHeld` files are held, when the files behind it fill `kMaxWindow` slots, or when
   * the walk ends. A client's scan beside a 1 MiB background scan at the same clamd took 4–7 ms
   * where alone it took 0.7 (bench/RESULTS.md, "the busy tail"). `Infinity` holds nothing back.
   * @default 262144
   */
  readonly busyMaxFileSize?: number;
  /** Persist the checkpoint after this many files. @default 500 */
  readonly checkpointEvery?: number;
  /** …or after this long, ms. @default 1000 */
  readonly checkpointMs?: number;
  /** What a job found `running` at start-up becomes. @default 'resume' */
  readonly onRestart?: 'resume' | 'interrupt';
  /** Called when a job ends (reports module hooks the report file here). */
  readonly onFinished?: (status: JobStatus, spec: JobSpec) => void | Promise<void>;
  /** @default Date.now */
  readonly clock?: () => number;
}

interface JobRow {
  id: string;
  svm: string;
  name: string;
  kind: JobSpec['kind'];
  spec: string;
  state: JobState;
  node: string;
  created: number;
  ended: number | null;
  counters: string;
  checkpoint: string | null;
  error: string | null;
  report_done: number;
}

type Result =
  | { readonly type: 'skipped' }
  | { readonly type: 'current' }
  | { readonly type: 'scanned'; readonly bytes: number; readonly verdict: OnDemandOutcome['verdict']; readonly path: string; readonly worm: boolean }
  | { readonly type: 'quarantined'; readonly path: string; readonly threats: readonly string[] };

interface Slot {
  readonly pos: Position;
  result: Result | undefined;
}

/** A file in scope, not current, on its way to the engine. */
interface Pending {
  readonly slot: Slot;
  readonly resolved: ResolvedPath;
  readonly access: FileAccess;
  readonly lookup: FileLookup;
}

/**
 * Longest stretch, ms, the job's feeding loop runs without giving the event loop a turn. Files settled
 * without a scan (out of scope, scan current) never wait on I/O: without this a whole folder of them
 * — and a whole second pass — ran as one macrotask, and an interactive open's reply waited behind it.
 * One `setImmediate` per slice costs microseconds; 1 ms keeps the job's share of a stall below an
 * idle open's p99 (~1.7 ms).
 */
const kSliceMs = 1;

/** Files held back while clients are served (busyMaxFileSize), at most; one more sends the oldest. */
const kMaxHeld = 64;
/**
 * Slots behind the oldest held file, at most: the window keeps every slot after the oldest unfinished
 * one, so a file held through an hour of client load would otherwise keep the whole walk in memory.
 */
const kMaxWindow = 8192;

const kZero: JobCounters = Object.freeze({ checked: 0, scanned: 0, skipped: 0, current: 0, infected: 0, failed: 0, bytes: 0 });

/**
 * The response an infected file got from an engine with this `infectedAction`, in the words of the
 * engine's `file.infected` events: `quarantined` (marked, denied), `moved`, `deleted`, or
 * `deny-only` on a WORM volume.
 */
export function responseOf(action: Engine['infectedAction'], worm = false): string {
  if (worm) return 'deny-only';
  return action === 'none' ? 'quarantined' : action === 'delete' ? 'deleted' : 'moved';
}

class RunningJob {
  readonly abort = new AbortController();
  readonly live: JobCounters;
  total: number | null = null;
  done!: Promise<JobStatus>;
  constructor(readonly row: JobRow, readonly spec: JobSpec, folded: JobCounters) {
    this.live = { ...folded };
  }
}

export class JobManager {
  readonly #rt: FilerRuntime;
  readonly #db: Database.Database;
  readonly #ownDb: boolean;
  readonly #o: Required<Omit<JobManagerOptions, 'onFinished' | 'dispatcherQueueBelow'>> & {
    readonly onFinished: JobManagerOptions['onFinished'] | undefined;
    readonly dispatcherQueueBelow: number | undefined;
  };
  readonly #running = new Map<string, RunningJob>();
  /** When each SVM last dispatched an interactive or async (client) scan, performance.now() ms. */
  readonly #lastInteractive = new Map<string, number>();
  readonly #onDispatched = (m: unknown): void => {
    const { access, priority } = m as { access: FileAccess; priority: string };
    if (priority === 'background') return;
    const slash = access.volume.indexOf('/');
    if (slash > 0) this.#lastInteractive.set(access.volume.slice(0, slash), performance.now());
  };
  /** Report creations PgStore has not answered yet, by job id. */
  readonly #creating = new Map<string, Promise<void>>();
  readonly #stmt: {
    insert: Database.Statement; get: Database.Statement; list: Database.Statement; save: Database.Statement;
    finish: Database.Statement; infect: Database.Statement; infections: Database.Statement; reportDone: Database.Statement;
    stale: Database.Statement;
  };
  #closed = false;

  constructor(runtime: FilerRuntime, options: JobManagerOptions & { readonly db?: Database.Database } = {}) {
    // Validated before the database is opened: a refused option leaves no connection behind.
    const concurrency = options.concurrency ?? 32;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `concurrency must be a positive integer, got ${show(concurrency)}`, 'concurrency');
    const busyMaxFileSize = options.busyMaxFileSize ?? 262_144;
    if (!(busyMaxFileSize >= 0) || !(Number.isSafeInteger(busyMaxFileSize) || busyMaxFileSize === Infinity)) {
      throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `busyMaxFileSize must be a byte count or Infinity, got ${show(busyMaxFileSize)}`, 'busyMaxFileSize');
    }
    this.#rt = runtime;
    this.#ownDb = options.db === undefined;
    // Opened as the store's own connection on a SQLite store: checkpoint commits leave WAL checkpoints to the store.
    this.#db = options.db ?? openNodeAppDb(runtime);
    this.#o = {
      concurrency,
      dispatcherQueueBelow: options.dispatcherQueueBelow,
      checkpointEvery: options.checkpointEvery ?? 500,
      checkpointMs: options.checkpointMs ?? 1000,
      onRestart: options.onRestart ?? 'resume',
      busyConcurrency: options.busyConcurrency ?? 1,
      busyMaxFileSize: busyMaxFileSize,
      interactiveWindowMs: options.interactiveWindowMs ?? 1000,
      onFinished: options.onFinished,
      clock: options.clock ?? Date.now,
    };
    diagnostics_channel.subscribe('avscan:engine:dispatched', this.#onDispatched);
    const db = this.#db;
    this.#stmt = {
      insert: db.prepare(`INSERT INTO od_jobs (id, svm, name, kind, spec, state, node, created, counters)
        VALUES (@id, @svm, @name, @kind, @spec, 'running', @node, @created, @counters)`),
      get: db.prepare('SELECT * FROM od_jobs WHERE id = ?'),
      list: db.prepare(`SELECT * FROM od_jobs WHERE (@svm IS NULL OR svm = @svm) AND (@state IS NULL OR state = @state)
        ORDER BY created DESC, id LIMIT @limit OFFSET @offset`),
      save: db.prepare('UPDATE od_jobs SET counters = ?, checkpoint = ? WHERE id = ?'),
      finish: db.prepare('UPDATE od_jobs SET state = ?, ended = ?, counters = ?, checkpoint = ?, error = ? WHERE id = ?'),
      infect: db.prepare('INSERT INTO od_job_infections (job_id, seq, file_path, threats, response, time) VALUES (?, ?, ?, ?, ?, ?)'),
      infections: db.prepare('SELECT file_path, threats, response, time FROM od_job_infections WHERE job_id = ? ORDER BY seq'),
      reportDone: db.prepare('UPDATE od_jobs SET report_done = 1 WHERE id = ?'),
      stale: db.prepare("SELECT * FROM od_jobs WHERE state = 'running' AND node = ? ORDER BY created"),
    };
  }

  /**
   * Picks up the jobs a previous life of this node left `running`: resumes them from their checkpoint
   * or marks them interrupted (option `onRestart`). Returns their ids.
   */
  recover(): string[] {
    const rows = this.#stmt.stale.all(this.#rt.store.nodeId) as JobRow[];
    for (const row of rows) {
      if (this.#running.has(row.id)) continue;
      if (this.#o.onRestart === 'resume') this.#launch(row, JSON.parse(row.spec) as JobSpec);
      else {
        this.#stmt.finish.run('interrupted', this.#o.clock(), row.counters, row.checkpoint, 'the node stopped while the job ran', row.id);
        void this.#finished(row.id, JSON.parse(row.spec) as JobSpec);
      }
    }
    return rows.map((r) => r.id);
  }

  /** Starts a job now; resolves `done` when it ends. */
  start(spec: JobSpec): { readonly id: string; readonly done: Promise<JobStatus> } {
    if (this.#closed) throw new FilerError(FilerErrorCodes.JOB_STATE, 'the job manager is closed', 'jobs');
    this.#rt.engine(spec.svm); // throws NOT_FOUND for an unknown SVM
    compilePolicy(spec.policy);
    const id = randomUUID();
    const row: JobRow = {
      id, svm: spec.svm, name: spec.name, kind: spec.kind, spec: JSON.stringify(spec), state: 'running', node: this.#rt.store.nodeId,
      created: this.#o.clock(), ended: null, counters: JSON.stringify(kZero), checkpoint: null, error: null, report_done: 0,
    };
    this.#stmt.insert.run(row);
    const created = this.#rt.store.createReport({ kind: 'on-demand', id, policy: spec.name, startTime: row.created, response: this.#rt.engine(spec.svm).infectedAction });
    // PgStore answers later: #finished waits for it (it rewrites the report), so a failure here is seen there.
    if (created instanceof Promise) this.#creating.set(id, created.then(() => {}, () => {}));
    const job = this.#launch(row, spec);
    return { id, done: job.done };
  }

  /** Cancels a running job: no new file is started, scans in flight finish; resolves with its final status. */
  async cancel(id: string): Promise<JobStatus> {
    const job = this.#running.get(id);
    if (job === undefined) {
      const status = this.get(id);
      if (status === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no job ${show(id)}`, 'id');
      throw new FilerError(FilerErrorCodes.JOB_STATE, `job ${show(id)} is ${status.state}, not running`, 'id');
    }
    job.abort.abort();
    return job.done;
  }

  get(id: string): JobStatus | undefined {
    const row = this.#stmt.get.get(id) as JobRow | undefined;
    return row === undefined ? undefined : this.#status(row);
  }

  list(q: { svm?: string; state?: JobState; maxRecords?: number; offset?: number } = {}): JobStatus[] {
    const rows = this.#stmt.list.all({ svm: q.svm ?? null, state: q.state ?? null, limit: q.maxRecords ?? -1, offset: q.offset ?? 0 }) as JobRow[];
    return rows.map((r) => this.#status(r));
  }

  infections(id: string): JobInfection[] {
    return (this.#stmt.infections.all(id) as Array<{ file_path: string; threats: string; response: string; time: number }>).map((r) => ({
      filePath: r.file_path, threats: JSON.parse(r.threats) as string[], response: r.response, time: r.time,
    }));
  }

  /** Scans in flight per job (when no client is being served). */
  get concurrency(): number {
    return this.#o.concurrency;
  }

  /** Jobs running in this process. */
  get running(): readonly string[] {
    return [...this.#running.keys()];
  }

  /**
   * Stops the jobs of this process without ending them: each persists its checkpoint and stays
   * `running` in the database, so the next manager on this node resumes it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const jobs = [...this.#running.values()];
    for (const j of jobs) j.abort.abort('close');
    await Promise.allSettled(jobs.map((j) => j.done));
    diagnostics_channel.unsubscribe('avscan:engine:dispatched', this.#onDispatched);
    if (this.#ownDb) this.#db.close();
  }

  #status(row: JobRow): JobStatus {
    const job = this.#running.get(row.id);
    const c: JobCounters = job?.live ?? (JSON.parse(row.counters) as JobCounters);
    const end = row.ended;
    const elapsedMs = Math.max(0, (end ?? this.#o.clock()) - row.created);
    const s = elapsedMs / 1000;
    const filesPerSec = s > 0 ? c.checked / s : 0;
    const total = job?.total ?? (row.state === 'running' ? null : c.checked);
    const etaMs = row.state !== 'running' ? 0 : total === null || filesPerSec === 0 ? null : Math.max(0, ((total - c.checked) / filesPerSec) * 1000);
    return {
      id: row.id, svm: row.svm, name: row.name, kind: row.kind, state: row.state, startTime: row.created, endTime: end, elapsedMs,
      ...c, total, filesPerSec, bytesPerSec: s > 0 ? c.bytes / s : 0, etaMs, reportId: row.id, error: row.error,
    };
  }

  #launch(row: JobRow, spec: JobSpec): RunningJob {
    const job = new RunningJob(row, spec, JSON.parse(row.counters) as JobCounters);
    this.#running.set(row.id, job);
    job.done = this.#run(job)
      .catch((err: unknown) => {
        // The job could not run at all (its volume went away, …): it ends failed, with its report.
        this.#stmt.finish.run('failed', this.#o.clock(), row.counters, row.checkpoint, (err as Error).message, row.id);
        return this.#finished(row.id, spec);
      })
      .finally(() => this.#running.delete(row.id));
    return job;
  }

  async #run(job: RunningJob): Promise<JobStatus> {
    const { row, spec } = job;
    const signal = job.abort.signal;
    const engine = this.#rt.engine(spec.svm);
    const shared = !(this.#rt.store instanceof Store);
    const dispatcher = (this.#rt as { dispatcher?: (svm: string) => Dispatcher }).dispatcher?.(spec.svm);
    const policy: CompiledPolicy = compilePolicy(spec.policy);
    const roots: (WalkRoot & { resolved: (rel: readonly string[], file: string) => ResolvedPath })[] = spec.roots.map((r) => {
      const volume = this.#rt.volume(spec.svm, r.volume);
      if (volume === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no volume ${show(r.volume)}`, 'volume');
      const abs = path.join(volume.root, ...r.components);
      return {
        abs,
        // `file` is the walk's own path of the item (`abs` + `rel`): not joined a second time.
        resolved: (rel, file) => {
          const components = [...r.components, ...rel];
          return { volume, components, file, svmPath: `\\${volume.name}${components.length ? '\\' : ''}${components.join('\\')}` };
        },
      };
    });
    const counting = new AbortController();
    signal.addEventListener('abort', () => counting.abort(), { once: true });
    void countFiles(roots, counting.signal).then((n) => { if (!counting.signal.aborted) job.total = n; }, () => {});

    const folded: JobCounters = JSON.parse(row.counters) as JobCounters;
    let checkpoint: Position | null = row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as Position);
    let infectionSeq = (this.#db.prepare('SELECT count(*) AS n FROM od_job_infections WHERE job_id = ?').get(row.id) as { n: number }).n;
    let unsaved: JobInfection[] = [];
    let sinceSave = 0;
    let savedAt = this.#o.clock();
    const window: Slot[] = [];
    const save = this.#db.transaction(() => {
      for (const inf of unsaved) this.#stmt.infect.run(row.id, ++infectionSeq, inf.filePath, JSON.stringify(inf.threats), inf.response, inf.time);
      this.#stmt.save.run(JSON.stringify(folded), checkpoint === null ? null : JSON.stringify(checkpoint), row.id);
      unsaved = [];
      sinceSave = 0;
      savedAt = this.#o.clock();
    });
    const tally = (c: JobCounters, r: Result, infections: JobInfection[] | null): void => {
      c.checked++;
      if (r.type === 'skipped') c.skipped++;
      else if (r.type === 'current') c.current++;
      else if (r.type === 'quarantined') {
        // Found infected before and quarantined: its verdict is current (not rescanned), and the tree
        // holds it, so the report lists it. Counted as current, not skipped: every infected file is
        // then among the files the report counts.
        c.current++;
        c.infected++;
        infections?.push({ filePath: r.path, threats: r.threats, response: 'quarantined', time: this.#o.clock() });
      } else {
        c.scanned++;
        c.bytes += r.bytes;
        if (r.verdict?.result === 'infected') {
          c.infected++;
          infections?.push({ filePath: r.path, threats: r.verdict.threats, response: responseOf(engine.infectedAction, r.worm), time: this.#o.clock() });
        } else if (r.verdict?.result !== 'clean') c.failed++;
      }
    };
    // Folds every finished slot at the head of the window: the checkpoint never passes an unfinished file.
    const advance = (): void => {
      while (window.length > 0 && window[0]!.result !== undefined) {
        const slot = window.shift()!;
        tally(folded, slot.result!, unsaved);
        checkpoint = slot.pos;
        sinceSave++;
      }
      if (sinceSave >= this.#o.checkpointEvery || (sinceSave > 0 && this.#o.clock() - savedAt >= this.#o.checkpointMs)) save();
    };
    const finish = (slot: Slot, r: Result): void => {
      slot.result = r;
      tally(job.live, r, null);
      advance();
    };

    const queue = new PQueue({ concurrency: this.#o.concurrency });
    const below = this.#o.dispatcherQueueBelow ?? this.#o.concurrency;
    let error: string | null = null;
    let sliceStart = performance.now();
    const busyNow = (): boolean => performance.now() - (this.#lastInteractive.get(spec.svm) ?? -Infinity) < this.#o.interactiveWindowMs;
    /** Big files held back while clients are served, oldest first (their slots stay unfinished in the window). */
    const held: Array<{ readonly slot: Slot; readonly resolved: ResolvedPath }> = [];
    // Settles a walked file that needs no scan (vanished, out of scope, current, quarantined) and returns
    // null, or returns what to send. Also run again for a held file when it is released: it may have
    // changed, gone, or been scanned by a client's open while it waited.
    // Synchronous unless it must wait (a shared store's read, a quarantined file's threats): a second
    // pass settles most files here, and an await per file would cost each of them a microtask.
    const judge = (slot: Slot, resolved: ResolvedPath): Pending | null | Promise<Pending | null> => {
      let access: FileAccess;
      try {
        access = accessOf(resolved);
      } catch {
        finish(slot, { type: 'skipped' }); // vanished since the walk listed it
        return null;
      }
      if (policy.decide(access).action !== 'scan') {
        finish(slot, { type: 'skipped' });
        return null;
      }
      // Most files of a second pass are current: settle them here, without a queue round trip.
      // The lookup is kept and handed to scanOnDemand: one store read per unscanned file, not two.
      const lookup: FileLookup = engine.lookupFile(access);
      // On a shared store the node's cache may not have another node's verdict yet: ask the database here rather than queue a scan.
      if (lookup.state === 'stale' && shared) {
        return engine.lookupFileAsync(access).catch((): FileLookup => lookup).then((l) => settle(slot, resolved, access, l));
      }
      return settle(slot, resolved, access, lookup);
    };
    // The Pending object is built only for a file that goes on: a second pass settles most files here.
    const settle = (slot: Slot, resolved: ResolvedPath, access: FileAccess, lookup: FileLookup): Pending | null | Promise<null> => {
      const state = lookup.state;
      if (state === 'quarantined') {
        return this.#quarantined(access).then((r) => {
          finish(slot, r);
          return null;
        });
      }
      if (state === 'current' && !spec.force) {
        finish(slot, { type: 'current' });
        return null;
      }
      return { slot, resolved, access, lookup };
    };
    // Sends the oldest held file (judged again); false when the job was stopped meanwhile.
    const release = async (): Promise<boolean> => {
      const h = held.shift()!;
      let file = judge(h.slot, h.resolved);
      if (file instanceof Promise) file = await file;
      if (file === null || (await send(file))) return true;
      held.unshift(h); // stopped before it was sent: still held, for the clean-up below the walk
      return false;
    };
    // Queues one file once there is room; false when the job was stopped meanwhile (the file is not sent).
    const send = async (f: Pending): Promise<boolean> => {
      // Fewer scans in flight while clients are being served; never more than one file waiting.
      const busy = busyNow();
      queue.concurrency = busy ? Math.min(this.#o.busyConcurrency, this.#o.concurrency) : this.#o.concurrency;
      // A full queue waits for a scan to end (I/O): the loop gives up the thread there anyway.
      // Each wait is awaited only when it would wait: an await that does not costs a promise and a microtask per file.
      const waits = queue.size >= 1;
      if (waits) await queue.onSizeLessThan(1);
      if (dispatcher !== undefined && dispatcher.queued >= below) await dispatcher.onQueueBelow(below);
      if (waits) sliceStart = performance.now();
      // While clients are served, the next file starts on the next turn of the loop, not inside the
      // callback of the scan that just ended: an interactive reply read in the same poll is answered
      // before this file's stat, lookup, lock and request.
      if (busy) {
        await nextTurn();
        sliceStart = performance.now();
      }
      if (signal.aborted) {
        // Not sent: a file just walked leaves the window (the checkpoint never covers it); a held
        // one stays there, unfinished, and is dealt with when the job stops.
        if (window[window.length - 1] === f.slot) window.pop();
        return false;
      }
      const { slot, access, lookup } = f;
      void queue.add(async () => {
        let r: Result;
        try {
          const out = await engine.scanOnDemand(access, { force: spec.force, lookup });
          if (out.outcome === 'current') r = { type: 'current' };
          else if (out.outcome === 'quarantined') r = await this.#quarantined(access);
          else r = { type: 'scanned', bytes: access.size, verdict: out.verdict, path: access.path, worm: access.worm === true };
        } catch (err) {
          r = { type: 'scanned', bytes: access.size, verdict: { result: 'failure', kind: 'error', message: (err as Error).message }, path: access.path, worm: false };
        }
        finish(slot, r);
      });
      return true;
    };
    try {
      walk: for await (const batch of walkBatches(roots, checkpoint ?? undefined, signal)) {
        for (const item of batch) {
          if (signal.aborted) break walk;
          if (performance.now() - sliceStart >= kSliceMs) {
            await nextTurn();
            sliceStart = performance.now();
          }
          while (held.length > 0 && (window.length >= kMaxWindow || !busyNow())) if (!(await release())) break walk;
          const slot: Slot = { pos: [item.root, ...item.rel], result: undefined };
          window.push(slot);
          let file = judge(slot, roots[item.root]!.resolved(item.rel, item.file));
          if (file instanceof Promise) file = await file;
          if (file === null) continue;
          // A big file waits while clients are served (busyMaxFileSize); the oldest goes when too many wait.
          if (file.access.size > this.#o.busyMaxFileSize && busyNow()) {
            held.push({ slot, resolved: file.resolved });
            if (held.length > kMaxHeld && !(await release())) break walk;
            continue;
          }
          if (!(await send(file))) break walk;
        }
      }
      // The walk ended: the held files go now, whoever is being served.
      while (held.length > 0 && !signal.aborted) if (!(await release())) break;
    } catch (err) {
      error = (err as Error).message;
    }
    await queue.onIdle();
    counting.abort();
    const closing = signal.aborted && signal.reason === 'close';
    // Files still held were never sent. A closing job keeps their slots unfinished, so its checkpoint
    // stays before the first of them and the resumed job walks to them again; a cancelled or failed
    // job ends here, so they leave the window and the files done after them are counted.
    if (!closing && held.length > 0) {
      const unsent = new Set(held.map((h) => h.slot));
      for (let i = window.length - 1; i >= 0; i--) if (unsent.has(window[i]!)) window.splice(i, 1);
      advance();
    }
    save();
    if (closing) {
      // Left `running`: the next manager on this node resumes from the checkpoint just saved.
      return this.#status({ ...row, counters: JSON.stringify(folded), checkpoint: JSON.stringify(checkpoint) });
    }
    // Records of the last scans are group-committed: make them visible before the job reports done.
    await engine.drain();
    const state: JobState = error !== null ? 'failed' : signal.aborted ? 'cancelled' : 'completed';
    this.#stmt.finish.run(state, this.#o.clock(), JSON.stringify(folded), checkpoint === null ? null : JSON.stringify(checkpoint), error, row.id);
    return this.#finished(row.id, spec);
  }

  async #quarantined(access: FileAccess): Promise<Result> {
    const attrs = await this.#rt.store.getAttributes({ volume: access.volume, fileId: access.fileId });
    return { type: 'quarantined', path: access.path, threats: attrs?.threats ?? [] };
  }

  /**
   * Writes the job's store report from its persisted counters (idempotent: rewritten whole),
   * synchronously right after the job's final state, so whoever sees the state final sees the report.
   */
  async #finished(id: string, spec: JobSpec): Promise<JobStatus> {
    const row = this.#stmt.get.get(id) as JobRow;
    const status = this.#status(row);
    if (row.report_done === 0) {
      const store = this.#rt.store;
      await this.#creating.get(id);
      this.#creating.delete(id);
      const prior = await store.getReport(id);
      await store.deleteReport(id);
      await store.createReport({ kind: 'on-demand', id, policy: row.name, startTime: row.created, response: prior?.response ?? this.#rt.engine(row.svm).infectedAction });
      // `files` counts the files the job processed (OneFS: files_processed, not skipped per filter):
      // scanned now or scan current. Counting only fresh scans gave a rerun whose infected file was
      // already quarantined a report of 0 files with 1 infected.
      await store.addReportProgress(id, { files: status.scanned + status.current, bytes: status.bytes, fails: status.failed });
      for (const inf of this.infections(id)) await store.addReportInfection(id, inf);
      await store.finishReport(id, row.state === 'completed' ? 'completed' : row.state === 'cancelled' ? 'cancelled' : 'failed', row.ended ?? this.#o.clock());
      this.#stmt.reportDone.run(id);
    }
    try {
      await this.#o.onFinished?.(status, spec);
    } catch {
      // a report file that cannot be written does not change the job's outcome (the store report stands)
    }
    return status;
  }
}

/** Creates the job manager of a runtime (call `recover()` once to pick up jobs of a previous life). */
export function createJobManager(runtime: FilerRuntime, options?: JobManagerOptions & { readonly db?: Database.Database }): JobManager {
  return new JobManager(runtime, options);
}
