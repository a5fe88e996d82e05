// The store port: exactly what the engine calls on its store, written structurally so the engine
// depends on neither backend's class. `@avscan/store`'s SQLite `Store` and `@avscan/store-pg`'s
// `PgStore` both satisfy it (the compiler checks it in the tests); the engine never imports
// store-pg (dependencies point down the data flow). Where the backends differ, a return is
// `S | Promise<S>`: SQLite answers synchronously, PostgreSQL with a promise.
//
// A store is *shared* (several engine processes on one database) when it offers `peekAttributes` and
// `waitForUnlock`: its own attribute cache, kept coherent across nodes, replaces the engine's, and a
// lock held elsewhere is waited for by notification instead of polling. See docs/store-interface.md.
import type { AcquireResult, Attributes, EventInput, FileKey, LockHolder, ScanRecord, ServerStatusInput } from '@avscan/store';

export type MaybePromise<T> = T | Promise<T>;

export interface EngineStore {
  readonly nodeId: string;
  // Writes: both backends group-commit and resolve after the commit.
  /** Commits every queued write now (drain does not wait out the records' `commitWithinMs`). */
  flush?(): Promise<void>;
  /** `commitWithinMs`: the longest the record may wait for its batch (a backend may batch by its own rule). */
  recordScan(record: ScanRecord, options?: { readonly releaseLock?: { readonly owner: string; readonly scanId: string }; readonly commitWithinMs?: number }): Promise<void>;
  rename(volume: string, from: string, to: string): Promise<number>;
  deleteFile(key: FileKey): Promise<boolean>;
  setQuarantined(key: FileKey, quarantined: boolean): Promise<boolean>;
  clearCache(volume?: string): Promise<void>;
  appendEvent(event: EventInput): Promise<number>;
  upsertServerStatus(status: ServerStatusInput): Promise<void>;
  // Reads and locks: synchronous on SQLite, one round trip on PostgreSQL.
  getAttributes(key: FileKey): MaybePromise<Attributes | undefined>;
  acquireLock(key: FileKey, owner: string, scanId: string, leaseMs: number): MaybePromise<AcquireResult>;
  renewLock(key: FileKey, owner: string, scanId: string, leaseMs: number): MaybePromise<boolean>;
  releaseLock(key: FileKey, owner: string, scanId: string): MaybePromise<boolean>;
  /**
   * Local stores (SQLite `Store`): the lock write queued into the group-commit batch, elided when the
   * release comes while it is queued. Used when `lockWrites` is `'deferred'`; without it, `acquireLock`.
   */
  acquireLockDeferred?(key: FileKey, owner: string, scanId: string, leaseMs: number): Promise<AcquireResult>;
  // Shared stores only (PgStore): see SharedEngineStore.
  peekAttributes?(key: FileKey): Attributes | undefined;
  waitForUnlock?(key: FileKey, timeoutMs: number): Promise<boolean>;
  lockHolder?(key: FileKey): MaybePromise<LockHolder | undefined>;
  readonly signatureWatermark?: number;
  setSignatureWatermark?(timestamp: number): Promise<number>;
}

/** A store several engine processes share: cluster-coherent cache, notified lock waits, cluster watermark. */
export interface SharedEngineStore extends EngineStore {
  /** Synchronous, this node's cache only (coherent across nodes by notification); `undefined` on a miss. */
  peekAttributes(key: FileKey): Attributes | undefined;
  /** Resolves `true` when the file's lock was released or its lease expired, `false` after `timeoutMs`. */
  waitForUnlock(key: FileKey, timeoutMs: number): Promise<boolean>;
  /** Who holds the file's scan lock (any node), or `undefined`. */
  lockHolder(key: FileKey): Promise<LockHolder | undefined>;
  /** The cluster-wide signature watermark (epoch ms) as this node last heard it. */
  readonly signatureWatermark: number;
  /** Raises the cluster-wide watermark (never lowers it); every node hears it. */
  setSignatureWatermark(timestamp: number): Promise<number>;
}

export function isSharedStore(store: EngineStore): store is SharedEngineStore {
  return typeof store.peekAttributes === 'function' && typeof store.waitForUnlock === 'function' && typeof store.setSignatureWatermark === 'function'
    && typeof store.lockHolder === 'function';
}

/** Whether a value is a thenable (a backend answered asynchronously). */
export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
