// Stage 2, lookup: is the file scan current? Attributes come from an in-memory cache in front of the
// store, so a current file costs a Map lookup, not a SQLite read (the scan-current fast path).
// attributes.ts picks this cache (local store) or the shared store's own cache.
import type { EngineDispatcher } from './options.js';
import { isScanCurrent, type Attributes, type SignatureState } from '@avscan/store';
import { fileKeyString } from './access.js';
import type { EngineStore } from './store-port.js';

/**
 * Write-through cache of attributes by file identity.
 * Invariant: an entry is never older than what this process last wrote or read for that file; every
 * engine write (record, rename, delete, quarantine, cache clear) updates or drops the entry before it
 * is acknowledged. Other processes sharing the database are not seen until the entry is evicted, so
 * one engine (one writer) per database is the supported set-up, as the store's contract says.
 * Eviction is FIFO by insertion (Map order): cheap, and a re-read costs one SQLite point lookup.
 */
export class AttributeCache {
  readonly #store: EngineStore;
  readonly #max: number;
  readonly #map = new Map<string, Attributes>();

  /** `store` must answer `getAttributes` synchronously (a local store: SQLite). */
  constructor(store: EngineStore, max: number) {
    this.#store = store;
    this.#max = max;
  }

  /** `k` is `fileKeyString(volume, fileId)`, computed once by the caller; a hit allocates nothing. */
  get(volume: string, fileId: string, k: string = fileKeyString(volume, fileId)): Attributes | undefined {
    const hit = this.#map.get(k);
    if (hit !== undefined) return hit;
    const row = this.#store.getAttributes({ volume, fileId }) as Attributes | undefined;
    if (row !== undefined) this.set(k, row);
    return row;
  }

  /** The entry in memory, without reading the store on a miss. */
  cached(k: string): Attributes | undefined {
    return this.#map.get(k);
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

const kNoSignatures: SignatureState = Object.freeze({ timestamp: 0, stamps: new Set<string>() });

/**
 * The pools' signature state (watermark time and current stamps), re-read at most every `refreshMs`:
 * the dispatcher computes it by walking its servers, which is too slow for every access. A
 * signature update is therefore seen by the lookup stage within `refreshMs`. While no server is
 * connected the last state is kept (files are not made stale by an outage).
 * With a shared store the time is the later of the dispatcher's and the cluster's
 * (`store.signatureWatermark`, raised by whichever node saw newer signatures); the ISTag stamps stay
 * this node's own (its dispatcher's healthy servers).
 */
export class Watermark {
  readonly #dispatcher: EngineDispatcher;
  readonly #refreshMs: number;
  readonly #cluster: { readonly signatureWatermark?: number } | undefined;
  #value: SignatureState = kNoSignatures;
  #readAt = -Infinity;

  constructor(dispatcher: EngineDispatcher, refreshMs: number, cluster?: { readonly signatureWatermark?: number }) {
    this.#dispatcher = dispatcher;
    this.#refreshMs = refreshMs;
    this.#cluster = cluster;
  }

  get(now: number): SignatureState {
    if (now - this.#readAt >= this.#refreshMs) {
      const w = this.#dispatcher.signatureWatermark();
      const floor = this.#cluster?.signatureWatermark ?? 0;
      if (w !== null) {
        const timestamp = Math.max(w.timestamp, floor);
        if (!sameState(this.#value, timestamp, w.stamps)) this.#value = { timestamp, stamps: new Set(w.stamps) };
      } else if (floor > this.#value.timestamp) {
        this.#value = { timestamp: floor, stamps: this.#value.stamps };
      }
      this.#readAt = now;
    }
    return this.#value;
  }

  /** Forget the cached value (e.g. after a signature update was announced). */
  invalidate(): void {
    this.#readAt = -Infinity;
  }
}

function sameState(s: SignatureState, timestamp: number, stamps: readonly string[]): boolean {
  if (s.timestamp !== timestamp || s.stamps.size !== stamps.length) return false;
  for (const x of stamps) if (!s.stamps.has(x)) return false;
  return true;
}

export type LookupState = 'current' | 'quarantined' | 'stale';

/** A file's lookup as `Engine.lookupFile` answers it: `scanOnDemand(access, { lookup })` starts from it. */
export interface FileLookup {
  readonly state: LookupState;
}

/**
 * What one lookup read, kept so the on-demand scan it leads to does not read the store again: in
 * pass 1 of a job nearly every file is a miss, and a miss is not cached, so a second peek was a
 * second SQLite point read per file. Only the engine that made it can use it (`instanceof`), and only
 * for the same file and content (`k`, `changeStamp`).
 */
export class KeptLookup implements FileLookup {
  constructor(
    readonly state: LookupState,
    readonly k: string,
    readonly changeStamp: string,
    readonly attrs: Attributes | undefined,
    /** Read from a shared store's database, not only this node's cache. */
    readonly confirmed: boolean,
  ) {}
}

/**
 * A quarantined file stays quarantined while its content is the one found infected. Rewritten in
 * place (same file id, new change stamp) it counts as replaced (SPEC §8): it is stale, scanned on
 * its next access, and the quarantine ends only if that scan finds it clean.
 */
export function lookupState(attrs: Attributes | undefined, liveChangeStamp: string, signatures: SignatureState): LookupState {
  if (attrs !== undefined && attrs.quarantined && attrs.changeStamp === liveChangeStamp) return 'quarantined';
  return isScanCurrent(attrs, liveChangeStamp, signatures) ? 'current' : 'stale';
}
