// Leased file locks in PostgreSQL (SQL only; the store validates and times). One row per locked file,
// decided by one conditional upsert: the row is taken if free, if its lease expired, or if it is
// already ours (same node and owner: re-entrant). PostgreSQL's row lock on the conflicting key makes
// two nodes racing for one file see each other: exactly one INSERT/UPDATE wins, the other's WHERE
// fails. `now` is the store's clock when one was injected, else PostgreSQL's (one clock per cluster).
import type { LockHolder } from '@avscan/store';

export const kAcquireSql = `
  INSERT INTO locks (volume, file_id, node, owner, scan_id, acquired_at, expires_at)
  SELECT $1, $2, $3, $4, $5, t.now, t.now + $6 FROM (SELECT coalesce($7::bigint, avscan_now_ms()) AS now) t
  ON CONFLICT (volume, file_id) DO UPDATE SET
    node = excluded.node, owner = excluded.owner, scan_id = excluded.scan_id,
    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
  WHERE locks.expires_at <= excluded.acquired_at OR (locks.node = excluded.node AND locks.owner = excluded.owner)
  RETURNING 1`;

export const kRenewSql = `
  UPDATE locks SET expires_at = t.now + $6 FROM (SELECT coalesce($7::bigint, avscan_now_ms()) AS now) t
  WHERE volume = $1 AND file_id = $2 AND node = $3 AND owner = $4 AND scan_id = $5 AND expires_at > t.now`;

export const kReleaseSql = 'DELETE FROM locks WHERE volume = $1 AND file_id = $2 AND node = $3 AND owner = $4 AND scan_id = $5';

export const kReleaseNodeSql = 'DELETE FROM locks WHERE node = $1';

export const kHolderSql = `SELECT node, owner, scan_id, acquired_at, expires_at, coalesce($3::bigint, avscan_now_ms()) AS now
  FROM locks WHERE volume = $1 AND file_id = $2`;

export interface LockRow {
  node: string;
  owner: string;
  scan_id: string;
  acquired_at: number;
  expires_at: number;
  now: number;
}

export function toHolder(row: LockRow): LockHolder {
  return { node: row.node, owner: row.owner, scanId: row.scan_id, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
}
