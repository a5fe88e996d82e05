// The per-node attribute cache: a bounded LRU of attributes read from or written to PostgreSQL, so the
// engine's hot path (a scan-current access) needs no round trip. Entries are not trusted blindly:
// - a changed file never matches, because the caller compares its live change stamp (isScanCurrent);
// - what a stamp cannot show (quarantine set or released, a non-clean result, cache clear, a delete)
//   is invalidated on every node by a NOTIFY sent in the same transaction as the change;
// - while the LISTEN connection is down the cache is off (every lookup misses) and it is flushed when
//   LISTEN is re-established, because notifications sent meanwhile are lost.
// A read that started before an invalidation must not refill the entry with what it read: every
// invalidation bumps `epoch`, and a fill carries the epoch its read started at.
import type { Attributes } from '@avscan/store';

export function cacheKey(volume: string, fileId: string): string {
  return `${volume}\u0000${fileId}`;
}

export class AttributeCache {
  readonly #max: number;
  readonly #map = new Map<string, Attributes>();
  #epoch = 0;
  #live = false;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get size(): number {
    return this.#map.size;
  }

  get live(): boolean {
    return this.#live;
  }

  /** On: notifications are flowing. Any change of state flushes (what we hold may be stale). */
  setLive(live: boolean): void {
    this.invalidateAll();
    this.#live = live;
  }

  get(key: string): Attributes | undefined {
    const hit = this.#live ? this.#map.get(key) : undefined;
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Most recently used moves to the end; eviction takes from the front.
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit;
  }

  /** Stores what a read or a commit that began at `epoch` saw, unless an invalidation came since. */
  fill(key: string, attrs: Attributes | undefined, epoch: number): void {
    if (!this.#live || epoch !== this.#epoch || this.#max === 0) return;
    this.#map.delete(key);
    if (attrs === undefined) return;
    this.#map.set(key, attrs);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }

  invalidateKey(key: string): void {
    this.#epoch++;
    this.#map.delete(key);
  }

  invalidateVolume(volume: string): void {
    this.#epoch++;
    const prefix = `${volume}\u0000`;
    for (const key of this.#map.keys()) if (key.startsWith(prefix)) this.#map.delete(key);
  }

  invalidateAll(): void {
    this.#epoch++;
    this.#map.clear();
  }
}
