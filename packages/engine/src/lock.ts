// Stage 3, lock: one scan per file at a time. In this process, accesses to a file being scanned join
// the in-flight scan (flight.ts: coalescing, one scanner request, never two). Across processes and
// nodes, the store's leased lock says who scans; a lock of another node is waited for, bounded:
// by polling on a local store (SQLite: the holder is another process on this machine), by the store's
// notification on a shared one (`waitForUnlock`: PostgreSQL NOTIFY at the holder's record or release).
//
// Deferred lock writes (local store, `lockWrites: 'deferred'`): the lock is queued into the store's
// group-commit batch and the lease handed back at once, so the scan is sent without waiting for a
// commit; the record's transaction (or the release) cancels a lock write still queued, so a scan
// shorter than the store's lockWriteDelayMs (25 ms) writes no lock at all. The one thing given up:
// another PROCESS on the same database file holding the lock is found out only after the scan was sent. Then the scan is not
// aborted: it is counted (`onConflict`) and goes on to its record, because the other process's
// verdict is for the same file content (both carry the change stamp, so recording both is harmless),
// aborting would waste a scan already at the scanner, and such conflicts are rare (in-process
// accesses to one file are coalesced by flight.ts, never locked against each other).
import type { AcquireResult, FileKey } from '@avscan/store';
import { isPromise, isSharedStore, type EngineStore } from './store-port.js';

/** A wait on a shared store is cut into slices so an abandoned flight stops waiting within one slice. */
const kWaitSliceMs = 1000;

/** Why `acquire` returned without a lease. */
export type NoLease = 'timeout' | 'settled';

/**
 * The engine's scan leases: takes store locks and renews every held one from ONE timer, at a third
 * of the lease (so one missed tick does not lose a lock). A timer per scan cost a timer allocation
 * and two timer-list operations on every scanned file; the shared one ticks every `leaseMs / 3`
 * whether or not a lease is held (unref'd, so it never keeps the process alive).
 */
export class Leases {
  readonly #store: EngineStore;
  readonly #shared: boolean;
  readonly #leaseMs: number;
  /** Deferred lock writes are in use (local store with `acquireLockDeferred`, `lockWrites: 'deferred'`). */
  readonly deferred: boolean;
  readonly #onConflict: () => void;
  readonly #onError: () => void;
  readonly #held = new Set<LeaseHolder>();
  #timer: NodeJS.Timeout | null = null;

  /**
   * `onConflict`: a deferred lock was found held by another owner after its scan started; `onError`:
   * a deferred lock's write failed (the scan goes on; its record meets the same store).
   */
  constructor(store: EngineStore, leaseMs: number, lockWrites: 'deferred' | 'immediate' = 'immediate', onConflict: () => void = () => {}, onError: () => void = () => {}) {
    this.#store = store;
    this.#shared = isSharedStore(store);
    this.#leaseMs = leaseMs;
    this.deferred = lockWrites === 'deferred' && !this.#shared && typeof store.acquireLockDeferred === 'function';
    this.#onConflict = onConflict;
    this.#onError = onError;
  }

  /**
   * Takes the file's lock, waiting while another owner holds an unexpired lease, at most `waitMs`.
   * Resolves `'timeout'` when the wait ran out or `stop()` ended it early. On a shared store, after
   * each wake-up `settled()` is asked first: when it says the holder's verdict makes a scan needless,
   * resolves `'settled'` without taking the lock. Rejects with the store's error when the store fails.
   */
  async acquire(
    key: FileKey, owner: string, scanId: string, waitMs: number, stop?: () => boolean, settled?: () => Promise<boolean>,
  ): Promise<LeaseHolder | NoLease> {
    if (this.deferred) return this.#acquireDeferred(key, owner, scanId);
    const deadline = Date.now() + waitMs;
    let pause = 2;
    let waited = false;
    for (;;) {
      const r = this.#store.acquireLock(key, owner, scanId, this.#leaseMs);
      const got = isPromise(r) ? await r : r;
      if (got.acquired) return this.#hold(new LeaseHolder(this, this.#store, key, owner, scanId, waited));
      waited = true;
      const left = deadline - Date.now();
      if (left <= 0 || stop?.() === true) return 'timeout';
      if (this.#shared) {
        const unlocked = await this.#store.waitForUnlock!(key, Math.min(left, kWaitSliceMs));
        if (unlocked && settled !== undefined && (await settled())) return 'settled';
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, left))));
        pause = Math.min(pause * 2, 50);
      }
    }
  }

  /** The lease is ours as far as this process knows; the store's answer is checked when it comes. */
  #acquireDeferred(key: FileKey, owner: string, scanId: string): LeaseHolder {
    const written: Promise<AcquireResult> = this.#store.acquireLockDeferred!(key, owner, scanId, this.#leaseMs);
    const h = this.#hold(new LeaseHolder(this, this.#store, key, owner, scanId, false));
    written.then((got) => {
      if (got.acquired) return;
      // Not ours: nothing to renew. The record's release names our scan id, so it leaves the holder's row alone.
      this.forget(h);
      this.#onConflict();
    }, () => {
      this.forget(h);
      this.#onError();
    });
    return h;
  }

  #hold(h: LeaseHolder): LeaseHolder {
    this.#held.add(h);
    this.#timer ??= setInterval(() => this.#renewAll(), Math.max(1, Math.floor(this.#leaseMs / 3))).unref();
    return h;
  }

  /** Called by a holder whose lock was released: no more renewals. */
  forget(h: LeaseHolder): void {
    this.#held.delete(h);
  }

  /** How many leases are held (and renewed) now. */
  get size(): number {
    return this.#held.size;
  }

  /** Stops the renewals (engine shutdown, after its scans ended). */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #renewAll(): void {
    for (const h of this.#held) {
      // A busy or unreachable database delays the renewal to the next tick; the lease still has two thirds left.
      try {
        const r = this.#store.renewLock(h.key, h.owner, h.scanId, this.#leaseMs);
        if (isPromise(r)) r.catch(() => {});
      } catch {
        // (synchronous store)
      }
    }
  }
}

/** A held store lock, renewed by its `Leases` until released. */
export class LeaseHolder {
  readonly #leases: Leases;
  readonly #store: EngineStore;
  readonly key: FileKey;
  readonly owner: string;
  readonly scanId: string;
  /** The lock was held by another owner when first asked for: that owner may have scanned the file meanwhile. */
  readonly waited: boolean;

  constructor(leases: Leases, store: EngineStore, key: FileKey, owner: string, scanId: string, waited: boolean) {
    this.#leases = leases;
    this.#store = store;
    this.key = key;
    this.owner = owner;
    this.scanId = scanId;
    this.waited = waited;
  }

  /** The lock's owner and scan id, for a store write that releases it in its own transaction. */
  get ownership(): { readonly owner: string; readonly scanId: string } {
    return this;
  }

  /** Stops renewing: the lease was released by a store write (`recordScan(…, { releaseLock })`). */
  released(): void {
    this.#leases.forget(this);
  }

  /** Releases the lock; never rejects. Resolves at once on a synchronous store. */
  release(): Promise<void> {
    this.#leases.forget(this);
    // On failure the lease expires on its own; a stale lock of this node is also released when the store reopens.
    try {
      const r = this.#store.releaseLock(this.key, this.owner, this.scanId);
      if (isPromise(r)) return r.then(() => {}, () => {});
    } catch {
      // (synchronous store)
    }
    return kDone;
  }
}

const kDone: Promise<void> = Promise.resolve();

/** Waits for a promise at most `ms`; resolves `false` on time-out instead of rejecting. */
export async function waitBounded(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
