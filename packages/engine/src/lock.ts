// Stage 3, lock: one scan per file at a time. In this process, accesses to a file being scanned join
// the in-flight scan (flight.ts: coalescing, one scanner request, never two). Across processes and
// nodes, the store's leased lock says who scans; a lock of another node is waited for, bounded.
import type { FileKey, Store } from '@avscan/store';

/** A held store lock, renewed until released. */
export class LeaseHolder {
  readonly #store: Store;
  readonly #key: FileKey;
  readonly #owner: string;
  readonly #scanId: string;
  readonly #timer: NodeJS.Timeout;
  /** The lock was held by another owner when first asked for: that owner may have scanned the file meanwhile. */
  readonly waited: boolean;

  private constructor(store: Store, key: FileKey, owner: string, scanId: string, leaseMs: number, waited: boolean) {
    this.waited = waited;
    this.#store = store;
    this.#key = key;
    this.#owner = owner;
    this.#scanId = scanId;
    // Renew at a third of the lease, so one missed tick does not lose the lock.
    this.#timer = setInterval(() => {
      try {
        this.#store.renewLock(key, owner, scanId, leaseMs);
      } catch {
        // A busy database delays the renewal to the next tick; the lease still has two thirds left.
      }
    }, Math.max(1, Math.floor(leaseMs / 3)));
    this.#timer.unref();
  }

  /**
   * Takes the file's lock, waiting (polling) while another owner holds an unexpired lease, at most
   * `waitMs`. Resolves `null` when the wait ran out; `stop()` ends the wait early (resolves `null`).
   */
  static async acquire(
    store: Store, key: FileKey, owner: string, scanId: string, leaseMs: number, waitMs: number, stop?: () => boolean,
  ): Promise<LeaseHolder | null> {
    const deadline = Date.now() + waitMs;
    let pause = 2;
    let waited = false;
    for (;;) {
      const got = store.acquireLock(key, owner, scanId, leaseMs);
      if (got.acquired) return new LeaseHolder(store, key, owner, scanId, leaseMs, waited);
      waited = true;
      if (Date.now() >= deadline || stop?.() === true) return null;
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - Date.now()))));
      pause = Math.min(pause * 2, 50);
    }
  }

  /** The lock's owner and scan id, for a store write that releases it in its own transaction. */
  get ownership(): { readonly owner: string; readonly scanId: string } {
    return { owner: this.#owner, scanId: this.#scanId };
  }

  /** Stops renewing: the lease was released by a store write (`recordScan(…, { releaseLock })`). */
  released(): void {
    clearInterval(this.#timer);
  }

  release(): void {
    clearInterval(this.#timer);
    try {
      this.#store.releaseLock(this.#key, this.#owner, this.#scanId);
    } catch {
      // The lease expires on its own; a stale lock of this node is also released when the store reopens.
    }
  }
}

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
