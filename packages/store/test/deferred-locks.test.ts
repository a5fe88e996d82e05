// Deferred lock acquires (`acquireLockDeferred`): the lock write rides in the group-commit batch, and
// a release (the record's, or a plain one) that arrives while the write is still queued elides both.
// Every test uses real SQLite files; a second connection on the same file is the "other process".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore, type ScanRecord } from '../src/index.js';
import { freshStore, kDist, manualClock, tempDbFile } from './helpers.js';

const key = { volume: 'vol1', fileId: '42' };
const record: ScanRecord = { volume: 'vol1', fileId: '42', path: '/a/b.docx', scanResult: 'clean', changeStamp: '1:2:3:42', sigTimestamp: 1000 };
const mine = { owner: 'engine', scanId: 'scan-1' };

/** Counts every row ever inserted into or deleted from `locks`, from any connection (SQLite triggers). */
function auditLocks(file: string): { inserts: () => number; deletes: () => number; close: () => void } {
  const db = new Database(file);
  db.exec(`CREATE TABLE IF NOT EXISTS lock_audit (op TEXT NOT NULL);
    CREATE TRIGGER IF NOT EXISTS lock_audit_ins AFTER INSERT ON locks BEGIN INSERT INTO lock_audit VALUES ('insert'); END;
    CREATE TRIGGER IF NOT EXISTS lock_audit_upd AFTER UPDATE ON locks BEGIN INSERT INTO lock_audit VALUES ('update'); END;
    CREATE TRIGGER IF NOT EXISTS lock_audit_del AFTER DELETE ON locks BEGIN INSERT INTO lock_audit VALUES ('delete'); END;`);
  const count = db.prepare('SELECT count(*) FROM lock_audit WHERE op = ?').pluck();
  return {
    inserts: () => (count.get('insert') as number) + (count.get('update') as number),
    deletes: () => count.get('delete') as number,
    close: () => db.close(),
  };
}

describe('deferred lock acquire', () => {
  // Held back (the default delay: only the record is queued when it arrives) or queued in the batch at
  // once (delay 0: lock and record queued together): either way the record cancels the lock write.
  it.each([
    { lockWriteDelayMs: 25, queuedWithRecord: 1 },
    { lockWriteDelayMs: 0, queuedWithRecord: 2 },
  ])('is elided when the record comes before its write (lockWriteDelayMs $lockWriteDelayMs): no lock row is ever written; the record is', async ({ lockWriteDelayMs, queuedWithRecord }) => {
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', batchMaxDelayMs: 50, lockWriteDelayMs }, file);
    const other = freshStore({ nodeId: 'other' }, file);
    const audit = auditLocks(file);
    try {
      const locked = s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000);
      expect(s.pendingWrites).toBe(queuedWithRecord - 1);
      expect(other.lockHolder(key)).toBeUndefined();
      expect(s.renewLock(key, mine.owner, mine.scanId, 30_000)).toBe(true); // harmless while queued
      const recorded = s.recordScan(record, { releaseLock: mine });
      expect(s.pendingWrites).toBe(queuedWithRecord);
      expect(await locked).toEqual({ acquired: true });
      await recorded;
      expect(other.lockHolder(key)).toBeUndefined();
      expect(other.getAttributes(key)).toMatchObject({ scanResult: 'clean', changeStamp: '1:2:3:42' });
      expect(audit.inserts()).toBe(0);
      expect(audit.deletes()).toBe(0);
      expect(s.deferredLockStats).toEqual({ requested: 1, elided: 1 });
    } finally {
      audit.close();
    }
  });

  it('a plain release of a queued lock cancels it without a write of its own', async () => {
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', batchMaxDelayMs: 50 }, file);
    const audit = auditLocks(file);
    try {
      const locked = s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000);
      expect(s.releaseLock(key, mine.owner, mine.scanId)).toBe(true);
      expect(await locked).toEqual({ acquired: true });
      expect(s.lockHolder(key)).toBeUndefined();
      expect(audit.inserts() + audit.deletes()).toBe(0);
      // Only the matching lock is cancelled: another scan id's release is an ordinary one.
      const again = s.acquireLockDeferred(key, mine.owner, 'scan-2', 30_000);
      expect(s.releaseLock(key, mine.owner, 'scan-1')).toBe(false);
      expect(await again).toEqual({ acquired: true });
      expect(s.lockHolder(key)?.scanId).toBe('scan-2');
    } finally {
      audit.close();
    }
  });

  it('is written when the scan outlasts a batch: another connection sees the lease, then sees it gone after the record', async () => {
    const clock = manualClock();
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', clock: clock.now }, file);
    const other = freshStore({ nodeId: 'other', clock: clock.now }, file);
    expect(await s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000)).toEqual({ acquired: true });
    expect(other.lockHolder(key)).toEqual({ node: 'node1', owner: 'engine', scanId: 'scan-1', acquiredAt: clock.now(), expiresAt: clock.now() + 30_000 });
    expect(other.acquireLock(key, 'w2', 'x', 1000).acquired).toBe(false);
    clock.advance(10_000);
    expect(s.renewLock(key, mine.owner, mine.scanId, 30_000)).toBe(true);
    expect(other.lockHolder(key)?.expiresAt).toBe(clock.now() + 30_000);
    await s.recordScan(record, { releaseLock: mine });
    expect(other.lockHolder(key)).toBeUndefined();
    expect(other.getAttributes(key)?.scanResult).toBe('clean');
    expect(s.deferredLockStats).toEqual({ requested: 1, elided: 0 });
  });

  it('is held back lockWriteDelayMs before its batch: unseen by other connections until then, written by flush()', async () => {
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', lockWriteDelayMs: 200 }, file);
    const other = freshStore({ nodeId: 'other' }, file);
    const t0 = performance.now();
    const locked = s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.pendingWrites).toBe(0);
    expect(other.lockHolder(key)).toBeUndefined();
    expect(await locked).toEqual({ acquired: true });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(other.lockHolder(key)?.scanId).toBe('scan-1');
    // flush() writes a held lock at once (a caller that flushes reads what it asked for).
    const second = { volume: 'vol1', fileId: '77' };
    const t1 = performance.now();
    const held = s.acquireLockDeferred(second, mine.owner, 'scan-2', 30_000);
    await s.flush();
    expect(other.lockHolder(second)?.scanId).toBe('scan-2');
    expect(await held).toEqual({ acquired: true });
    expect(performance.now() - t1).toBeLessThan(150);
  });

  it('a full batch commits at once (batchMaxRows 1): the lock is written, and the record releases it', async () => {
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', batchMaxRows: 1, lockWriteDelayMs: 0 }, file);
    const other = freshStore({ nodeId: 'other' }, file);
    const locked = s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000);
    expect(other.lockHolder(key)?.scanId).toBe('scan-1');
    expect(await locked).toEqual({ acquired: true });
    await s.recordScan(record, { releaseLock: mine });
    expect(other.lockHolder(key)).toBeUndefined();
    expect(s.deferredLockStats).toEqual({ requested: 1, elided: 0 });
  });

  it('is refused when another store on the file holds an unexpired lease; our later release leaves that row alone', async () => {
    const clock = manualClock();
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', clock: clock.now }, file);
    const other = freshStore({ nodeId: 'node2', clock: clock.now }, file);
    expect(other.acquireLock(key, 'engine', 'theirs', 60_000).acquired).toBe(true);
    const got = await s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000);
    expect(got).toEqual({ acquired: false, holder: { node: 'node2', owner: 'engine', scanId: 'theirs', acquiredAt: clock.now(), expiresAt: clock.now() + 60_000 } });
    expect(s.renewLock(key, mine.owner, mine.scanId, 30_000)).toBe(false);
    await s.recordScan(record, { releaseLock: mine });
    expect(s.releaseLock(key, mine.owner, mine.scanId)).toBe(false);
    expect(other.lockHolder(key)).toMatchObject({ node: 'node2', scanId: 'theirs' });
    expect(s.getAttributes(key)?.scanResult).toBe('clean');
  });

  it('takes over an expired lease of another store, as the immediate acquire does', async () => {
    const clock = manualClock();
    const file = tempDbFile();
    const s = freshStore({ nodeId: 'node1', clock: clock.now }, file);
    const other = freshStore({ nodeId: 'node2', clock: clock.now }, file);
    other.acquireLock(key, 'engine', 'theirs', 1000);
    clock.advance(1000);
    expect(await s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000)).toEqual({ acquired: true });
    expect(other.lockHolder(key)).toMatchObject({ node: 'node1', scanId: 'scan-1' });
  });

  it('refuses bad arguments and a closed store with coded errors, queueing nothing', async () => {
    const s = freshStore();
    await expect(s.acquireLockDeferred({ volume: '', fileId: '1' }, 'o', 's', 1000)).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
    await expect(s.acquireLockDeferred(key, '', 's', 1000)).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
    await expect(s.acquireLockDeferred(key, 'o', 's', -1)).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
    expect(s.pendingWrites).toBe(0);
    const r = freshStore({ readonly: true }, s.file);
    await expect(r.acquireLockDeferred(key, 'o', 's', 1000)).rejects.toMatchObject({ code: 'ERR_STORE_UNWRITABLE' });
    await s.close();
    await expect(s.acquireLockDeferred(key, 'o', 's', 1000)).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' });
  });

  it('a batch that cannot commit (database busy) rejects the acquire; the lock is then no longer cancellable', async () => {
    const file = tempDbFile();
    const s = freshStore({ busyTimeoutMs: 0, batchMaxDelayMs: 1000 }, file);
    const blocker = new Database(file);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      const locked = s.acquireLockDeferred(key, mine.owner, mine.scanId, 30_000);
      await s.flush();
      await expect(locked).rejects.toMatchObject({ code: 'ERR_STORE_BUSY' });
      blocker.exec('ROLLBACK');
      expect(s.releaseLock(key, mine.owner, mine.scanId)).toBe(false);
      expect(s.lockHolder(key)).toBeUndefined();
    } finally {
      blocker.close();
    }
  });

  it('crash: a written deferred lock of a killed process is released when its nodeId reopens the store', async () => {
    expect(fs.existsSync(kDist), 'build the package first (npm test does: tsc -b)').toBe(true);
    const file = tempDbFile();
    openStore(file).close();
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fixtures', 'deferred-lock-child.mjs'), file, 'crash-node', '7'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error('child never took its lock')), 10_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          if (d.includes('LOCK 7')) {
            clearTimeout(guard);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('close', r));
    const observer = openStore(file, { nodeId: 'observer' });
    expect(observer.lockHolder({ volume: 'vol1', fileId: '7' })?.node).toBe('crash-node');
    await observer.close();
    const reopened = openStore(file, { nodeId: 'crash-node' });
    expect(reopened.lockHolder({ volume: 'vol1', fileId: '7' })).toBeUndefined();
    await reopened.close();
  });
});
