// File locks with leases (SPEC §6). Each lock call is its own transaction (one autocommit statement,
// or IMMEDIATE when it needs two), committed before the call returns — never group-committed, because:
// - the caller must know *now* whether it owns the scan or must join one in flight, and a lock that
//   waits up to batchMaxDelayMs for a batch would put that delay on every scanned access;
// - a lock must be decided atomically across processes: the conditional upsert runs under SQLite's
//   write lock, so two connections can never both see "free" and both take it (no read-then-write race);
// - locks are taken only for files that need a scan (rare next to attribute lookups), so a commit per
//   lock costs little.
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

const kAcquired: AcquireResult = Object.freeze({ acquired: true });

export class LockTable {
  readonly #node: string;
  readonly #acquire: Database.Transaction<(key: FileKey, owner: string, scanId: string, leaseMs: number, now: number) => AcquireResult>;
  readonly #renew: Database.Statement;
  readonly #release: Database.Statement;
  readonly #releaseNode: Database.Statement;
  readonly #get: Database.Statement;
  readonly #take: Database.Statement;

  constructor(db: Database.Database, node: string) {
    this.#node = node;
    // Takes the lock if free, expired, or already ours (same node and owner: re-entrant, lease renewed).
    const take = db.prepare(`
      INSERT INTO locks (volume, file_id, node, owner, scan_id, acquired_at, expires_at)
      VALUES (@volume, @fileId, @node, @owner, @scanId, @now, @expires)
      ON CONFLICT (volume, file_id) DO UPDATE SET
        node = excluded.node, owner = excluded.owner, scan_id = excluded.scan_id,
        acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
      WHERE locks.expires_at <= @now OR (locks.node = @node AND locks.owner = @owner)`);
    this.#take = take;
    this.#get = db.prepare('SELECT node, owner, scan_id, acquired_at, expires_at FROM locks WHERE volume = ? AND file_id = ?');
    this.#acquire = db.transaction((key: FileKey, owner: string, scanId: string, leaseMs: number, now: number) => {
      const params = { volume: key.volume, fileId: key.fileId, node, owner, scanId, now, expires: now + leaseMs };
      if (take.run(params).changes > 0) return kAcquired;
      const row = this.#get.get(key.volume, key.fileId) as LockRow;
      return { acquired: false, holder: toHolder(row) };
    });
    this.#renew = db.prepare(`UPDATE locks SET expires_at = @expires
      WHERE volume = @volume AND file_id = @fileId AND node = @node AND owner = @owner AND scan_id = @scanId AND expires_at > @now`);
    this.#release = db.prepare(`DELETE FROM locks
      WHERE volume = @volume AND file_id = @fileId AND node = @node AND owner = @owner AND scan_id = @scanId`);
    this.#releaseNode = db.prepare('DELETE FROM locks WHERE node = ?');
  }

  acquire(key: FileKey, owner: string, scanId: string, leaseMs: number, now: number): AcquireResult {
    // The conditional upsert alone, in autocommit mode, is atomic (SQLite runs it under its write
    // lock) and is one commit instead of BEGIN IMMEDIATE + statement + COMMIT: the common case (the
    // lock was free) costs one statement. Only a refusal reads the holder, and if the holder let go
    // between the two statements, the decision is taken again inside one transaction.
    const params = { volume: key.volume, fileId: key.fileId, node: this.#node, owner, scanId, now, expires: now + leaseMs };
    if (this.#take.run(params).changes > 0) return kAcquired;
    const row = this.#get.get(key.volume, key.fileId) as LockRow | undefined;
    if (row !== undefined) return { acquired: false, holder: toHolder(row) };
    return this.#acquire.immediate(key, owner, scanId, leaseMs, now);
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
