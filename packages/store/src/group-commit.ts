// Group commit: writes are queued and applied together in one IMMEDIATE transaction, committed when
// the batch holds `maxRows` writes or `maxDelayMs` after its first write. One commit (one WAL append,
// one lock round trip) then serves hundreds of writes. A write's promise settles only after the
// transaction holding it committed (or failed), so an acknowledged write is in the WAL.
import type Database from 'better-sqlite3';
import { classifySqliteError, StoreError } from './errors.js';

/** One queued write: `apply` runs inside the batch transaction and returns the write's result. */
interface PendingWrite {
  readonly apply: () => unknown;
  readonly resolve: (value: never) => void;
  readonly reject: (err: StoreError) => void;
}

export class GroupCommitter {
  readonly #file: string;
  readonly #maxRows: number;
  readonly #maxDelayMs: number;
  /** Writes not yet inside a transaction, in call order. Invariant: length < maxRows between calls. */
  #pending: PendingWrite[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #runBatch: Database.Transaction<(batch: PendingWrite[]) => unknown[]>;
  readonly #runBatchWith: Database.Transaction<(batch: PendingWrite[], extra: () => unknown) => { results: unknown[]; value: unknown }>;
  /** Set inside `#runBatchWith` once the batch ran: tells a failure of the batch from one of `extra`. */
  #batchDone = false;

  constructor(db: Database.Database, file: string, maxRows: number, maxDelayMs: number) {
    this.#file = file;
    this.#maxRows = maxRows;
    this.#maxDelayMs = maxDelayMs;
    this.#runBatch = db.transaction((batch: PendingWrite[]) => this.#apply(batch));
    this.#runBatchWith = db.transaction((batch: PendingWrite[], extra: () => unknown) => {
      const results = this.#apply(batch);
      // Past this point the batch's statements all ran: a throw from `extra` is `extra`'s failure.
      this.#batchDone = true;
      return { results, value: extra() };
    });
  }

  /** Runs each queued write inside the open transaction; a statement's own failure is kept as its result. */
  #apply(batch: PendingWrite[]): unknown[] {
    const results: unknown[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      try {
        results[i] = { ok: true, value: batch[i]!.apply() };
      } catch (err) {
        const coded = classifySqliteError(err, this.#file);
        // A failed statement is rolled back alone (constraint, bad argument): keep the others. Anything
        // that may have damaged the transaction (busy, full, I/O, corrupt) aborts the whole batch.
        if (coded.code !== 'ERR_STORE_CONSTRAINT' && coded.code !== 'ERR_STORE_INVALID_ARGUMENT') throw coded;
        results[i] = { ok: false, error: coded };
      }
    }
    return results;
  }

  /** Number of writes queued and not yet committed. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Queues `apply`; the promise resolves with its return value once its batch committed. */
  enqueue<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ apply, resolve: resolve as (value: never) => void, reject });
      if (this.#pending.length >= this.#maxRows) this.flush();
      else if (this.#timer === undefined) this.#timer = setTimeout(() => this.flush(), this.#maxDelayMs);
    });
  }

  /** Commits everything queued now, synchronously; the promises settle as microtasks. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#pending.length > 0) {
      const batch = this.#pending.length <= this.#maxRows ? this.#pending : this.#pending.slice(0, this.#maxRows);
      this.#pending = batch === this.#pending ? [] : this.#pending.slice(this.#maxRows);
      let results: unknown[];
      try {
        results = this.#runBatch.immediate(batch);
      } catch (err) {
        const coded = classifySqliteError(err, this.#file);
        for (const w of batch) w.reject(coded);
        continue;
      }
      settle(batch, results);
    }
  }

  /**
   * Runs `extra` (a synchronous write, e.g. a lock statement) in ONE IMMEDIATE transaction after the
   * queued writes, committing both together: one commit instead of two when a write is queued. With
   * nothing queued, `extra` runs alone in autocommit. The queued writes settle as a flush settles them;
   * when the batch fails they are rejected and the coded error is thrown. When only `extra` fails, the
   * transaction rolls back, the queued writes are committed on their own (a normal flush) and `extra`'s
   * coded error is thrown.
   */
  commitWith<T>(extra: () => T): T {
    // The invariant (pending < maxRows between calls) keeps the whole queue inside one batch.
    if (this.#pending.length === 0 || this.#pending.length > this.#maxRows) {
      this.flush();
      return extra();
    }
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#batchDone = false;
    let out: { results: unknown[]; value: unknown };
    try {
      out = this.#runBatchWith.immediate(batch, extra);
    } catch (err) {
      const coded = classifySqliteError(err, this.#file);
      if (!this.#batchDone) {
        for (const w of batch) w.reject(coded);
        throw coded;
      }
      // `extra` failed: the batch is not to blame. Put it back in front and commit it alone.
      this.#pending = this.#pending.length === 0 ? batch : batch.concat(this.#pending);
      this.flush();
      throw coded;
    }
    settle(batch, out.results);
    return out.value as T;
  }

  /** Rejects every queued write (used when closing a store whose database failed). */
  failAll(err: StoreError): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    for (const w of batch) w.reject(err);
  }
}

function settle(batch: readonly PendingWrite[], results: readonly unknown[]): void {
  for (let i = 0; i < batch.length; i++) {
    const r = results[i] as { ok: true; value: never } | { ok: false; error: StoreError };
    if (r.ok) batch[i]!.resolve(r.value);
    else batch[i]!.reject(r.error);
  }
}
