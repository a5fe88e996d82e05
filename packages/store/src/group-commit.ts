// Group commit: writes are queued and applied together in one IMMEDIATE transaction, committed when
// the batch holds `maxRows` writes or when the most impatient write's delay ran out (`maxDelayMs`
// after it, unless it asked for another delay). One commit (one WAL append, one lock round trip) then
// serves hundreds of writes. A write's promise settles only after the transaction holding it committed
// (or failed), so an acknowledged write is in the WAL.
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
  /** performance.now() at which #timer fires. */
  #due = 0;
  readonly #runBatch: Database.Transaction<(batch: PendingWrite[]) => unknown[]>;

  constructor(db: Database.Database, file: string, maxRows: number, maxDelayMs: number) {
    this.#file = file;
    this.#maxRows = maxRows;
    this.#maxDelayMs = maxDelayMs;
    this.#runBatch = db.transaction((batch: PendingWrite[]) => {
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
    });
  }

  /** Number of writes queued and not yet committed. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Queues `apply`; the promise resolves with its return value once its batch committed. `delayMs`:
   * the longest this write may wait for its commit (default `maxDelayMs`); the batch commits at the
   * earliest such deadline of its writes, so a patient write never holds back an impatient one.
   */
  enqueue<T>(apply: () => T, delayMs: number = this.#maxDelayMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ apply, resolve: resolve as (value: never) => void, reject });
      if (this.#pending.length >= this.#maxRows) {
        this.flush();
        return;
      }
      const due = performance.now() + delayMs;
      if (this.#timer !== undefined) {
        if (due >= this.#due) return;
        clearTimeout(this.#timer);
      }
      this.#due = due;
      this.#timer = setTimeout(this.#onTimer, delayMs);
    });
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.flush();
  };

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
      for (let i = 0; i < batch.length; i++) {
        const r = results[i] as { ok: true; value: never } | { ok: false; error: StoreError };
        if (r.ok) batch[i]!.resolve(r.value);
        else batch[i]!.reject(r.error);
      }
    }
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
