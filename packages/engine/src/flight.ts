// In-flight scans and their waiters (SPEC §6 coalescing, §7 cancellation). Every access that needs a
// file scanned joins the file's flight: one scanner request however many accesses wait. The flight
// runs at the priority of its most urgent waiter (an interactive open that joins a queued
// background revalidation raises it), and it is cancelled when its last waiter has left, so a
// request nobody waits for any more never reaches a scanner.
import type { Priority } from '@avscan/dispatch';
import { EngineError, EngineErrorCodes } from './errors.js';

const kRank: Readonly<Record<Priority, number>> = { interactive: 0, async: 1, background: 2 };

export class Flight<T> {
  // Made on first use: a flight nobody can leave (a job's file, an asynchronous trigger) never needs
  // one, and an AbortController with its listeners was a visible share of a job's CPU per file.
  #controller: AbortController | null = null;
  #abandonedBy: EngineError | null = null;
  #priority: Priority;
  /** Waiters that can leave (they gave a signal) and have not left yet. */
  #leavable = 0;
  /** A waiter without a signal joined (an asynchronous trigger): the scan is never abandoned. */
  #pinned = false;
  #onRaise: ((p: Priority) => void) | null = null;
  #onAbandon: (() => void) | null = null;
  promise!: Promise<T>;

  constructor(priority: Priority) {
    this.#priority = priority;
  }

  /** Aborted once every waiter has left: the scan must stop and record nothing. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abandonedBy !== null) this.#controller.abort(this.#abandonedBy);
    }
    return this.#controller.signal;
  }

  /** Every waiter has left (`signal` has fired, or fires as soon as it is read). */
  get abandoned(): boolean {
    return this.#abandonedBy !== null;
  }

  /** Throws why the flight was abandoned (ERR_ENGINE_ABORTED), if it was. */
  throwIfAbandoned(): void {
    if (this.#abandonedBy !== null) throw this.#abandonedBy;
  }

  /** A waiter that cannot leave has joined: the flight is never abandoned, so its scan needs no signal. */
  get pinned(): boolean {
    return this.#pinned;
  }

  get priority(): Priority {
    return this.#priority;
  }

  /** Called when a waiter raises the priority after the request was submitted. */
  set onRaise(f: ((p: Priority) => void) | null) {
    this.#onRaise = f;
  }

  /** Called once when the flight is abandoned (its last waiter left). */
  set onAbandon(f: () => void) {
    this.#onAbandon = f;
  }

  /**
   * One more access waits for this scan. Resolves with the scan's result, or rejects with
   * ERR_ENGINE_ABORTED as soon as `signal` fires (the scan goes on for the other waiters).
   */
  join(priority: Priority, signal: AbortSignal | undefined): Promise<T> {
    if (kRank[priority] < kRank[this.#priority]) {
      this.#priority = priority;
      this.#onRaise?.(priority);
    }
    if (signal === undefined) {
      this.#pinned = true;
      return this.promise;
    }
    if (signal.aborted) {
      this.#checkAbandoned();
      return Promise.reject(aborted(signal));
    }
    this.#leavable++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.#leavable--;
        reject(aborted(signal));
        this.#checkAbandoned();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (v) => { signal.removeEventListener('abort', onAbort); if (!signal.aborted) { this.#leavable--; resolve(v); } },
        (e: unknown) => { signal.removeEventListener('abort', onAbort); if (!signal.aborted) { this.#leavable--; reject(e); } },
      );
    });
  }

  #checkAbandoned(): void {
    if (this.#pinned || this.#leavable > 0 || this.#abandonedBy !== null) return;
    this.#abandonedBy = new EngineError(EngineErrorCodes.ABORTED, 'every access waiting for this scan went away');
    this.#controller?.abort(this.#abandonedBy);
    this.#onAbandon?.();
  }
}

function aborted(signal: AbortSignal): EngineError {
  return new EngineError(EngineErrorCodes.ABORTED, 'the access was cancelled', 'signal', { cause: signal.reason });
}

/**
 * In-flight scans by file key.
 * Invariant: a key maps to a flight from its start until its promise settles or it is abandoned
 * (then a new access starts a new scan rather than joining a cancelled one).
 */
export class InFlight<T> {
  readonly #map = new Map<string, Flight<T>>();
  /** Abandoned flights still winding down (releasing their lock): `drain()` waits for them too. */
  readonly #abandoned = new Set<Promise<T>>();

  get(k: string): Promise<T> | undefined {
    return this.#map.get(k)?.promise;
  }

  /** The flight of `k`, started with `run` unless one is in flight; `joined` says whether it existed. */
  flight(k: string, priority: Priority, run: (f: Flight<T>) => Promise<T>): { flight: Flight<T>; joined: boolean } {
    const existing = this.#map.get(k);
    if (existing !== undefined) return { flight: existing, joined: true };
    const f = new Flight<T>(priority);
    const forget = (): void => {
      if (this.#map.get(k) === f) this.#map.delete(k);
    };
    f.onAbandon = () => {
      forget();
      this.#abandoned.add(f.promise);
    };
    this.#map.set(k, f);
    // The run starts now; the starter joins right after (a starter whose signal already fired is
    // refused before it starts a flight, so no flight starts abandoned).
    const p = run(f);
    f.promise = p;
    // Registered before any waiter's reaction, so it runs first: a waiter that resumes finds the
    // flight gone and starts a new one. Its rejection handler also means a flight every waiter left
    // rejects with somebody listening (expected, not unhandled). One reaction, where `.finally` plus
    // `.catch` made three promises per scan.
    const ended = (): void => {
      forget();
      this.#abandoned.delete(p);
    };
    p.then(ended, ended);
    return { flight: f, joined: false };
  }

  get size(): number {
    return this.#map.size;
  }

  get idle(): boolean {
    return this.#map.size === 0 && this.#abandoned.size === 0;
  }

  all(): Promise<unknown>[] {
    return [...[...this.#map.values()].map((f) => f.promise), ...this.#abandoned];
  }
}
