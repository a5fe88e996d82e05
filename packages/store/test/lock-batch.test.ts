// acquireLock while group-committed writes are queued: the queued batch and the lock statement commit
// in one transaction (locks.ts). Real SQLite; a second raw connection makes the failures.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore, StoreError, type Store } from '../src/index.js';
import { freshStore, manualClock, tempDbFile } from './helpers.js';

const key = { volume: 'vol1', fileId: '7' };

function record(store: Store, fileId: string, release?: { owner: string; scanId: string }): Promise<void> {
  const rec = { volume: 'vol1', fileId, path: `/f${fileId}.docx`, scanResult: 'clean' as const, changeStamp: `s${fileId}`, sigTimestamp: 1 };
  return store.recordScan(rec, release === undefined ? undefined : { releaseLock: release });
}

describe('acquireLock with queued writes', () => {
  it('commits the queued writes with the lock: their promises resolve, another connection sees both', async () => {
    const file = tempDbFile();
    // A long delay: without the lock call, nothing would commit during the test.
    const s = freshStore({ batchMaxDelayMs: 60_000 }, file);
    const recorded = record(s, '1');
    const event = s.appendEvent({ type: 'file.scanned', filePath: '/f1.docx' });
    expect(s.pendingWrites).toBe(2);
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000)).toEqual({ acquired: true });
    expect(s.pendingWrites).toBe(0);
    await expect(recorded).resolves.toBeUndefined();
    expect(await event).toBeGreaterThan(0);
    const reader = openStore(file, { readonly: true });
    try {
      expect(reader.getAttributes({ volume: 'vol1', fileId: '1' })?.scanResult).toBe('clean');
      expect(reader.lockHolder(key)?.owner).toBe('w1');
    } finally {
      await reader.close();
    }
  });

  it('a refused acquire still commits the queued writes and reports the holder', async () => {
    const clock = manualClock();
    const s = freshStore({ batchMaxDelayMs: 60_000, clock: clock.now });
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000).acquired).toBe(true);
    const recorded = record(s, '2');
    expect(s.acquireLock(key, 'w2', 'scan-2', 1000)).toEqual({
      acquired: false,
      holder: { node: 'node1', owner: 'w1', scanId: 'scan-1', acquiredAt: clock.now(), expiresAt: clock.now() + 1000 },
    });
    expect(s.pendingWrites).toBe(0);
    await expect(recorded).resolves.toBeUndefined();
    expect(s.getAttributes({ volume: 'vol1', fileId: '2' })?.changeStamp).toBe('s2');
  });

  it('applies the queued writes before the lock statement, in call order', async () => {
    const s = freshStore({ batchMaxDelayMs: 60_000 });
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000).acquired).toBe(true);
    // w1's record releases its lock; queued, so the lock is still w1's in the database.
    const released = record(s, key.fileId, { owner: 'w1', scanId: 'scan-1' });
    const first = s.appendEvent({ type: 'file.scanned', filePath: '/a' });
    // The release runs first in the shared transaction, so w2 takes the lock.
    expect(s.acquireLock(key, 'w2', 'scan-2', 1000)).toEqual({ acquired: true });
    const second = s.appendEvent({ type: 'file.scanned', filePath: '/b' });
    await s.flush();
    await released;
    expect(await second).toBeGreaterThan(await first);
    expect(s.lockHolder(key)?.owner).toBe('w2');
    expect(s.getAttributes(key)?.changeStamp).toBe(`s${key.fileId}`);
  });

  it('a failed batch rejects the queued writes and acquire throws the coded error', async () => {
    const file = tempDbFile();
    const s = freshStore({ batchMaxDelayMs: 60_000, busyTimeoutMs: 50 }, file);
    const recorded = record(s, '3');
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      let thrown: unknown;
      try {
        s.acquireLock(key, 'w1', 'scan-1', 1000);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(StoreError);
      expect((thrown as StoreError).code).toBe('ERR_STORE_BUSY');
      await expect(recorded).rejects.toMatchObject({ code: 'ERR_STORE_BUSY' });
      expect(s.pendingWrites).toBe(0);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    // The store goes on: the next acquire and write work.
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000).acquired).toBe(true);
    const next = record(s, '4');
    await s.flush();
    await next;
    expect(s.getAttributes({ volume: 'vol1', fileId: '3' })).toBeUndefined();
  });

  it('when only the lock statement fails, the queued writes still commit and acquire throws', async () => {
    const file = tempDbFile();
    const s = freshStore({ batchMaxDelayMs: 60_000 }, file);
    const other = new Database(file);
    try {
      other.exec(`CREATE TRIGGER no_locks BEFORE INSERT ON locks BEGIN SELECT RAISE(ABORT, 'locks refused'); END`);
      const recorded = record(s, '5');
      expect(() => s.acquireLock(key, 'w1', 'scan-1', 1000)).toThrow(expect.objectContaining({ code: 'ERR_STORE_CONSTRAINT' }));
      await expect(recorded).resolves.toBeUndefined();
      expect(s.getAttributes({ volume: 'vol1', fileId: '5' })?.scanResult).toBe('clean');
      expect(s.lockHolder(key)).toBeUndefined();
    } finally {
      other.close();
    }
  });
});
