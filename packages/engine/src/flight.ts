// In-flight scans and their waiters (SPEC §6 coalescing, §7 cancellation). Every access that needs a
// file scanned joins the file's flight: one scanner request however many accesses wait. The flight
// runs at the priority of its most urgent waiter (an interactive open that joins a queued
// background revalidation raises it), and it is cancelled when its last waiter has left, so a
// request nobody waits for any more never reaches a scanner.
import type { Priority } from '@avscan/dispatch';
import { EngineError, EngineErrorCodes } from './errors.js';

const kRank: Readonly<Record<Priority, number>> = { interactive: 0, async: 1, background: 2 };

export class Flight<T> {
  readonly #controller = new AbortController();
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
    return this.#controller.signal;
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
    if (this.#pinned || this.#leavable > 0 || this.#controller.signal.aborted) return;
    this.#controller.abort(new EngineError(EngineErrorCodes.ABORTED, 'every access waiting for this scan went away'));
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
    f.promise = run(f).finally(() => {
      forget();
      this.#abandoned.delete(f.promise);
    });
    // A flight every waiter left rejects with nobody listening: that is expected, not unhandled.
    f.promise.catch(() => undefined);
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
