// Where the lookup stage gets a file's attributes, one adapter per kind of store:
// - local (SQLite, one engine per database file): the engine's own AttributeCache in front of the
//   store's synchronous point read. `peek` is authoritative; nothing else needs to be read.
// - shared (PgStore, several nodes on one database): the store's cluster-coherent cache
//   (`peekAttributes`) answers the scan-current hit; anything else is confirmed by reading the database
//   (`read`), because another node may have scanned, quarantined or released the file. The engine
//   keeps no cache of its own here (it would hide other nodes' changes), only its own verdicts between
//   the answer and their record's commit, so a second access on this node meanwhile does not rescan.
import type { Attributes, FileKey } from '@avscan/store';
import { AttributeCache } from './lookup.js';
import type { EngineStore, MaybePromise, SharedEngineStore } from './store-port.js';

export interface AttributeSource {
  /** The store is shared by several engine processes: a non-current `peek` must be confirmed with `read`. */
  readonly shared: boolean;
  /** Synchronous, no I/O on the hot path. `k` is `fileKeyString(volume, fileId)`. */
  peek(volume: string, fileId: string, k: string): Attributes | undefined;
  /**
   * What this process holds in memory for the file, never a store read: local, the cache entry (as
   * new as anything this engine wrote or read for it); shared, this engine's own unrecorded verdict.
   */
  cached(k: string): Attributes | undefined;
  /** What the store holds now (local: the same as `peek`). Rejects/throws with the store's error. */
  read(key: FileKey, k: string): MaybePromise<Attributes | undefined>;
  /** This engine's verdict for the file, known before its record commits. */
  set(k: string, attrs: Attributes): void;
  /** The record of `attrs` committed (or failed): the store's own cache now speaks for it. */
  settled(k: string, attrs: Attributes): void;
  drop(k: string): void;
  clear(): void;
}

export class LocalAttributes implements AttributeSource {
  readonly shared = false;
  readonly #cache: AttributeCache;

  constructor(store: EngineStore, max: number) {
    this.#cache = new AttributeCache(store, max);
  }

  peek(volume: string, fileId: string, k: string): Attributes | undefined {
    return this.#cache.get(volume, fileId, k);
  }

  cached(k: string): Attributes | undefined {
    return this.#cache.cached(k);
  }

  read(key: FileKey, k: string): Attributes | undefined {
    return this.#cache.get(key.volume, key.fileId, k);
  }

  set(k: string, attrs: Attributes): void {
    this.#cache.set(k, attrs);
  }

  settled(): void {
    // The write-through cache already holds the record.
  }

  drop(k: string): void {
    this.#cache.drop(k);
  }

  clear(): void {
    this.#cache.clear();
  }
}

export class SharedAttributes implements AttributeSource {
  readonly shared = true;
  readonly #store: SharedEngineStore;
  /** Verdicts of this engine whose record has not committed yet (bounded by the group-commit delay). */
  readonly #unrecorded = new Map<string, Attributes>();

  constructor(store: SharedEngineStore) {
    this.#store = store;
  }

  peek(volume: string, fileId: string, k: string): Attributes | undefined {
    if (this.#unrecorded.size > 0) {
      const own = this.#unrecorded.get(k);
      if (own !== undefined) return own;
    }
    return this.#store.peekAttributes({ volume, fileId });
  }

  cached(k: string): Attributes | undefined {
    return this.#unrecorded.size > 0 ? this.#unrecorded.get(k) : undefined;
  }

  async read(key: FileKey, k: string): Promise<Attributes | undefined> {
    const own = this.#unrecorded.get(k);
    if (own !== undefined) return own;
    return await this.#store.getAttributes(key);
  }

  set(k: string, attrs: Attributes): void {
    this.#unrecorded.set(k, attrs);
  }

  settled(k: string, attrs: Attributes): void {
    if (this.#unrecorded.get(k) === attrs) this.#unrecorded.delete(k);
  }

  drop(k: string): void {
    this.#unrecorded.delete(k);
  }

  clear(): void {
    this.#unrecorded.clear();
  }
}
