// Stage 2, lookup: is the file scan current? Attributes come from an in-memory cache in front of the
// store, so a current file costs a Map lookup, not a SQLite read (the scan-current fast path).
import { isScanCurrent, type Attributes, type Store } from '@avscan/store';
import type { Dispatcher } from '@avscan/dispatch';
import { fileKeyString } from './access.js';

/**
 * Write-through cache of attributes by file identity.
 * Invariant: an entry is never older than what this process last wrote or read for that file; every
 * engine write (record, rename, delete, quarantine, cache clear) updates or drops the entry before it
 * is acknowledged. Other processes sharing the database are not seen until the entry is evicted, so
 * one engine (one writer) per database is the supported set-up, as the store's contract says.
 * Eviction is FIFO by insertion (Map order): cheap, and a re-read costs one SQLite point lookup.
 */
export class AttributeCache {
  readonly #store: Store;
  readonly #max: number;
  readonly #map = new Map<string, Attributes>();

  constructor(store: Store, max: number) {
    this.#store = store;
    this.#max = max;
  }

  /** `k` is `fileKeyString(volume, fileId)`, computed once by the caller; a hit allocates nothing. */
  get(volume: string, fileId: string, k: string = fileKeyString(volume, fileId)): Attributes | undefined {
    const hit = this.#map.get(k);
    if (hit !== undefined) return hit;
    const row = this.#store.getAttributes({ volume, fileId });
    if (row !== undefined) this.set(k, row);
    return row;
  }

  set(k: string, attrs: Attributes): void {
    if (this.#map.size >= this.#max && !this.#map.has(k)) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
    this.#map.set(k, attrs);
  }

  drop(k: string): void {
    this.#map.delete(k);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}

/**
 * The pools' signature watermark, re-read at most every `refreshMs`: the dispatcher computes it by
 * walking its servers, which is too slow for every access. A signature update is therefore seen by
 * the lookup stage within `refreshMs`.
 */
export class Watermark {
  readonly #dispatcher: Dispatcher;
  readonly #refreshMs: number;
  #value = 0;
  #readAt = -Infinity;

  constructor(dispatcher: Dispatcher, refreshMs: number) {
    this.#dispatcher = dispatcher;
    this.#refreshMs = refreshMs;
  }

  get(now: number): number {
    if (now - this.#readAt >= this.#refreshMs) {
      this.#value = this.#dispatcher.signatureWatermark()?.timestamp ?? this.#value;
      this.#readAt = now;
    }
    return this.#value;
  }

  /** Forget the cached value (e.g. after a signature update was announced). */
  invalidate(): void {
    this.#readAt = -Infinity;
  }
}

export type LookupState = 'current' | 'quarantined' | 'stale';

export function lookupState(attrs: Attributes | undefined, liveChangeStamp: string, watermark: number): LookupState {
  if (attrs !== undefined && attrs.quarantined) return 'quarantined';
  return isScanCurrent(attrs, liveChangeStamp, watermark) ? 'current' : 'stale';
}
