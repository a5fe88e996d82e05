// Scan locks whose write is still queued (`Store.acquireLockDeferred`). The engine on a local store
// asks for its lock and sends the scan without waiting for the commit; the write first waits
// `lockWriteDelayMs` in a FIFO (LockWriteDelay), then joins the group-commit batch. When the scan's
// record (which releases the lock) or a plain release arrives while the lock write is still queued,
// neither is applied: the database ends as if both ran in one transaction, and a scan shorter than
// the delay costs no lock write at all. Lookups are by key string in a Map, so each check is O(1).
import type { FileKey } from './current.js';

/** One queued lock write. `cancelled`: its release came first; the batch skips the write. */
export interface QueuedLock {
  readonly k: string;
  readonly owner: string;
  readonly scanId: string;
  cancelled: boolean;
}

function keyString(key: FileKey): string {
  return `${key.volume}\0${key.fileId}`;
}

export class QueuedLocks {
  /** Invariant: holds exactly the lock writes queued and not yet applied, the latest per file. */
  readonly #byKey = new Map<string, QueuedLock>();
  /** Deferred acquires queued, and those cancelled while queued (never written), since open. */
  requested = 0;
  elided = 0;

  add(key: FileKey, owner: string, scanId: string): QueuedLock {
    const entry: QueuedLock = { k: keyString(key), owner, scanId, cancelled: false };
    this.requested++;
    // An older queued write of the same file stays queued and is applied in order; only the newest
    // can be elided (a release names one scan id, and the newest write decides the row's scan id).
    this.#byKey.set(entry.k, entry);
    return entry;
  }

  /** The write leaves the queue: its batch is applying it, or its batch failed. */
  settle(entry: QueuedLock): void {
    if (this.#byKey.get(entry.k) === entry) this.#byKey.delete(entry.k);
  }

  /** Cancels the queued write of this lock; false when none is queued (then the release must run). */
  cancel(key: FileKey, owner: string, scanId: string): boolean {
    if (this.#byKey.size === 0) return false; // no deferred locks in use: no key string to build
    const k = keyString(key);
    const entry = this.#byKey.get(k);
    if (entry === undefined || entry.owner !== owner || entry.scanId !== scanId) return false;
    entry.cancelled = true;
    this.#byKey.delete(k);
    this.elided++;
    return true;
  }

  /** Whether this lock's write is queued (a renewal of it has nothing to extend yet). */
  has(key: FileKey, owner: string, scanId: string): boolean {
    if (this.#byKey.size === 0) return false;
    const entry = this.#byKey.get(keyString(key));
    return entry !== undefined && entry.owner === owner && entry.scanId === scanId;
  }

  get size(): number {
    return this.#byKey.size;
  }
}

/**
 * Lock writes held back `delayMs` before they join the group-commit batch. A background scan waits
 * behind others at the scanner (4 ms at eight in flight for a 1 KiB file, measured): with only the
 * batch's 1 ms, nearly every such lock was written and then deleted, two row writes and a page of the
 * commit per file for a lock no other process ever looked at. All entries share one delay, so the FIFO
 * is in due order and one timer, armed for the head, serves them all.
 */
export class LockWriteDelay {
  readonly #delayMs: number;
  #fifo: Array<{ readonly due: number; readonly start: () => void }> = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }

  /** Runs `start` once `delayMs` passed, or at the next `releaseAll()`. */
  hold(start: () => void): void {
    this.#fifo.push({ due: performance.now() + this.#delayMs, start });
    this.#timer ??= setTimeout(this.#tick, this.#delayMs);
  }

  /** Starts every held write now (flush, close). */
  releaseAll(): void {
    this.#release(Infinity);
  }


  readonly #tick = (): void => {
    this.#timer = undefined;
    this.#release(performance.now());
  };

  #release(now: number): void {
    while (this.#head < this.#fifo.length && this.#fifo[this.#head]!.due <= now) this.#fifo[this.#head++]!.start();
    // Compact once the consumed head dominates, so the array stays as long as what is held.
    if (this.#head > 1024 && this.#head * 2 > this.#fifo.length) {
      this.#fifo = this.#fifo.slice(this.#head);
      this.#head = 0;
    }
    if (this.#head === this.#fifo.length) {
      this.#fifo = [];
      this.#head = 0;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#tick, Math.max(1, this.#fifo[this.#head]!.due - performance.now()));
    }
  }
}
