// Scan locks whose write is still queued in the group-commit batch (`Store.acquireLockDeferred`).
// The engine on a local store asks for its lock and sends the scan without waiting for the commit;
// when the scan's record (which releases the lock) or a plain release arrives while the lock write
// is still queued, neither is applied: the database ends as if both ran in one transaction, and a
// fast scan costs no lock write at all. Lookups are by key string in a Map, so each check is O(1).
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
