// File locks with leases (SPEC §6). Each lock call is its own transaction, committed before the call
// returns — never group-committed, because:
// - the caller must know *now* whether it owns the scan or must join one in flight, and a lock that
//   waits up to batchMaxDelayMs for a batch would put that delay on every scanned access;
// - a lock must be decided atomically across processes: the conditional upsert runs under SQLite's
//   write lock, so two connections can never both see "free" and both take it (no read-then-write race);
// - locks are taken only for files that need a scan (rare next to attribute lookups), so a commit per
//   lock costs little — but it is on the path of every first access to a new or changed file, so
//   acquire is ONE statement in autocommit (one implicit transaction, no BEGIN/COMMIT round trips).
// The exception is `acquireInBatch`, the deferred acquire (queued-locks.ts): the same statement run
// inside a group-commit batch, for a caller that starts its scan without waiting for the answer.
import type Database from 'better-sqlite3';
import type { FileKey } from './current.js';

export interface LockHolder {
  readonly node: string;
  readonly owner: string;
  readonly scanId: string;
  readonly acquiredAt: number;
  readonly expiresAt: number;
}

export type AcquireResult = { readonly acquired: true } | { readonly acquired: false; readonly holder: LockHolder };

interface LockRow {
  node: string;
  owner: string;
  scan_id: string;
  acquired_at: number;
  expires_at: number;
}

export const kAcquired: AcquireResult = Object.freeze({ acquired: true });

interface TakeParams {
  readonly volume: string;
  readonly fileId: string;
  readonly node: string;
  readonly owner: string;
  readonly scanId: string;
  readonly now: number;
  readonly expires: number;
}

export class LockTable {
  readonly #node: string;
  readonly #acquire: Database.Transaction<(params: TakeParams) => AcquireResult>;
  readonly #renew: Database.Statement;
  readonly #release: Database.Statement;
  readonly #releaseNode: Database.Statement;
  readonly #get: Database.Statement;
  readonly #take: Database.Statement;

  constructor(db: Database.Database, node: string) {
    this.#node = node;
    // Takes the lock if free, expired, or already ours (same node and owner: re-entrant, lease renewed,
    // the scan id handed to the new scan). RETURNING yields a row exactly when the lock was taken —
    // inserted, or updated because the WHERE allowed it — and nothing when the holder keeps it.
    // `pluck` + `raw`: the answer is one integer, no row object to build.
    this.#take = db.prepare(`
      INSERT INTO locks (volume, file_id, node, owner, scan_id, acquired_at, expires_at)
      VALUES (@volume, @fileId, @node, @owner, @scanId, @now, @expires)
      ON CONFLICT (volume, file_id) DO UPDATE SET
        node = excluded.node, owner = excluded.owner, scan_id = excluded.scan_id,
        acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
      WHERE locks.expires_at <= @now OR (locks.node = @node AND locks.owner = @owner)
      RETURNING 1`).pluck();
    this.#get = db.prepare('SELECT node, owner, scan_id, acquired_at, expires_at FROM locks WHERE volume = ? AND file_id = ?');
    this.#acquire = db.transaction((params: TakeParams) => {
      if (this.#take.get(params) !== undefined) return kAcquired;
      return { acquired: false, holder: toHolder(this.#get.get(params.volume, params.fileId) as LockRow) };
    });
    this.#renew = db.prepare(`UPDATE locks SET expires_at = @expires
      WHERE volume = @volume AND file_id = @fileId AND node = @node AND owner = @owner AND scan_id = @scanId AND expires_at > @now`);
    this.#release = db.prepare(`DELETE FROM locks
      WHERE volume = @volume AND file_id = @fileId AND node = @node AND owner = @owner AND scan_id = @scanId`);
    this.#releaseNode = db.prepare('DELETE FROM locks WHERE node = ?');
  }

  acquire(key: FileKey, owner: string, scanId: string, leaseMs: number, now: number): AcquireResult {
    // The common case (the lock was free, or expired, or ours) is the one statement. Only a refusal
    // reads the holder; if the holder let go between the two statements (the row is gone), the
    // decision is taken again with both statements inside one IMMEDIATE transaction.
    const params: TakeParams = { volume: key.volume, fileId: key.fileId, node: this.#node, owner, scanId, now, expires: now + leaseMs };
    if (this.#take.get(params) !== undefined) return kAcquired;
    const row = this.#get.get(key.volume, key.fileId) as LockRow | undefined;
    if (row !== undefined) return { acquired: false, holder: toHolder(row) };
    return this.#acquire.immediate(params);
  }

  /**
   * The same decision inside a transaction that already holds the write lock (a group-commit batch):
   * nobody can release the holder between the two statements, so no retry is needed.
   */
  acquireInBatch(key: FileKey, owner: string, scanId: string, leaseMs: number, now: number): AcquireResult {
    const params: TakeParams = { volume: key.volume, fileId: key.fileId, node: this.#node, owner, scanId, now, expires: now + leaseMs };
    if (this.#take.get(params) !== undefined) return kAcquired;
    return { acquired: false, holder: toHolder(this.#get.get(key.volume, key.fileId) as LockRow) };
  }

  /** Extends our own unexpired lease; false when the lock is no longer ours (expired and maybe taken over). */
  renew(key: FileKey, owner: string, scanId: string, leaseMs: number, now: number): boolean {
    const params = { volume: key.volume, fileId: key.fileId, node: this.#node, owner, scanId, now, expires: now + leaseMs };
    return this.#renew.run(params).changes > 0;
  }

  /** Releases our own lock; false when it was not ours (any more). */
  release(key: FileKey, owner: string, scanId: string): boolean {
    return this.#release.run({ volume: key.volume, fileId: key.fileId, node: this.#node, owner, scanId }).changes > 0;
  }

  /** On open: every lock of our node belongs to a previous life of this process. */
  releaseOwnStale(): number {
    return this.#releaseNode.run(this.#node).changes;
  }

  holder(key: FileKey): LockHolder | undefined {
    const row = this.#get.get(key.volume, key.fileId) as LockRow | undefined;
    return row === undefined ? undefined : toHolder(row);
  }
}

function toHolder(row: LockRow): LockHolder {
  return { node: row.node, owner: row.owner, scanId: row.scan_id, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
}
