// `lockWrites: 'deferred'` (the default on a local store): the scan lock's write rides in the store's
// group-commit batch and the scan is sent without waiting for it. Real engine, real SQLite file, the
// built-in clamd-protocol scanner; a second Store on the same file stands in for another process.
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '@avscan/store';
import { createEngine, EngineErrorCodes } from '../src/index.js';
import { kPolicy, makeRig, until, type Rig } from './harness.js';

let rig: Rig | undefined;
const others: Store[] = [];
afterEach(async () => {
  for (const s of others.splice(0)) await s.close();
  await rig?.close();
  rig = undefined;
});

function otherStore(r: Rig, nodeId: string): Store {
  const s = openStore(path.join(r.dir, 'isi_avscan.db'), { nodeId });
  others.push(s);
  return s;
}

/** Counts rows written to `locks` by any connection (SQLite triggers on the database file). */
function auditLocks(r: Rig): { writes: () => number; close: () => void } {
  const db = new DatabaseSync(path.join(r.dir, 'isi_avscan.db'));
  db.exec(`CREATE TABLE IF NOT EXISTS lock_audit (op TEXT NOT NULL);
    CREATE TRIGGER IF NOT EXISTS lock_audit_ins AFTER INSERT ON locks BEGIN INSERT INTO lock_audit VALUES ('insert'); END;
    CREATE TRIGGER IF NOT EXISTS lock_audit_upd AFTER UPDATE ON locks BEGIN INSERT INTO lock_audit VALUES ('update'); END;`);
  const count = db.prepare('SELECT count(*) AS n FROM lock_audit');
  return { writes: () => (count.get() as { n: number }).n, close: () => db.close() };
}

describe("lockWrites: 'deferred'", () => {
  it('one scanner request per file within a process, however many accesses', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 100 } } });
    const files = await Promise.all(Array.from({ length: 5 }, (_, i) => rig!.file(`f${i}.docx`, `content ${i}`)));
    const answers = await Promise.all(files.flatMap((f) => Array.from({ length: 20 }, () => rig!.engine.open(f))));
    expect(answers.every((a) => a.reason === 'clean')).toBe(true);
    expect(rig.server.stats().scans).toBe(5);
    await rig.engine.drain();
    expect(rig.engine.metrics()).toMatchObject({ scansStarted: 5, joined: 95, lockConflicts: 0, storeErrors: 0 });
    for (const f of files) expect(rig.store.lockHolder({ volume: 'vol1', fileId: f.fileId })).toBeUndefined();
  });

  it('a scan shorter than the batch never writes its lock; the verdict is recorded', async () => {
    rig = await makeRig({ store: { batchMaxDelayMs: 300 } });
    const audit = auditLocks(rig);
    try {
      const a = await rig.file('fast.docx', 'quick');
      expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
      await rig.engine.drain();
      expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.scanResult).toBe('clean');
      expect(audit.writes()).toBe(0);
    } finally {
      audit.close();
    }
  });

  it("the immediate mode writes the lock before the scan (the deferred mode's baseline)", async () => {
    rig = await makeRig({ store: { batchMaxDelayMs: 300 }, engine: { lockWrites: 'immediate' } });
    const audit = auditLocks(rig);
    try {
      const a = await rig.file('fast.docx', 'quick');
      expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
      await rig.engine.drain();
      expect(audit.writes()).toBe(1);
    } finally {
      audit.close();
    }
  });

  it('a scan longer than the batch holds a visible lock, renewed, released by its record', async () => {
    rig = await makeRig({ engine: { leaseMs: 150 }, faults: { commandLatencyMs: { INSTREAM: 600 } } });
    const a = await rig.file('slow.docx', 'slow to scan');
    const key = { volume: 'vol1', fileId: a.fileId };
    const other = otherStore(rig, 'node2');
    const opening = rig.engine.open(a);
    await until(() => other.lockHolder(key) !== undefined);
    const first = other.lockHolder(key)!;
    expect(first).toMatchObject({ node: 'node1', owner: 'node1' });
    await until(() => Date.now() > first.acquiredAt + 200 && other.lockHolder(key)!.expiresAt > first.expiresAt);
    expect(other.acquireLock(key, 'node2', 'theirs', 60_000).acquired).toBe(false);
    expect((await opening).reason).toBe('clean');
    await rig.engine.drain();
    expect(other.lockHolder(key)).toBeUndefined();
    expect(other.getAttributes(key)?.scanResult).toBe('clean');
  });

  it('a lock held by another process on the same file is counted; the scan goes ahead and its verdict is recorded', async () => {
    // The scan outlasts the 1 ms batch, so the lock write is tried (a faster scan would elide it).
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 50 } } });
    const a = await rig.file('contested.docx', 'x');
    const key = { volume: 'vol1', fileId: a.fileId };
    const other = otherStore(rig, 'node2');
    expect(other.acquireLock(key, 'node2', 'theirs', 60_000).acquired).toBe(true);
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
    await rig.engine.drain();
    expect(rig.server.stats().scans).toBe(1);
    expect(rig.engine.metrics().lockConflicts).toBe(1);
    expect(rig.store.getAttributes(key)?.scanResult).toBe('clean');
    // Our record's release named our scan id: the other process's lock is untouched.
    expect(other.lockHolder(key)).toMatchObject({ node: 'node2', scanId: 'theirs' });
  });

  it('an access cancelled before its scan starts leaves no lock behind and writes none', async () => {
    rig = await makeRig({ store: { batchMaxDelayMs: 300 }, faults: { commandLatencyMs: { INSTREAM: 300 } } });
    const audit = auditLocks(rig);
    try {
      const a = await rig.file('cancelled.docx', 'x');
      const ac = new AbortController();
      const cancelled = rig.engine.open({ ...a, signal: ac.signal });
      ac.abort();
      await expect(cancelled).rejects.toMatchObject({ code: EngineErrorCodes.ABORTED });
      await rig.engine.drain();
      await rig.store.flush();
      expect(rig.store.lockHolder({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
      expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
      expect(audit.writes()).toBe(0);
    } finally {
      audit.close();
    }
  });

  it('recordDelayMs: the answer does not wait for the record; the record waits for its batch up to the delay, drain() commits it', async () => {
    rig = await makeRig({ engine: { recordDelayMs: 400 } });
    const a = await rig.file('later.docx', 'recorded later');
    const t0 = performance.now();
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
    await new Promise((r) => setTimeout(r, 50));
    // The store's own 1 ms batch delay would have committed it by now.
    expect(rig.store.pendingWrites).toBe(1);
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'scan-current' }); // from the engine's cache
    await rig.engine.drain();
    expect(performance.now() - t0).toBeLessThan(400);
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.scanResult).toBe('clean');
  });

  it('refuses a recordDelayMs outside [0, 60000] with a coded error', async () => {
    rig = await makeRig();
    for (const bad of [-1, 2.5, 60_001, '5']) {
      expect(() => createEngine({ store: rig!.store, dispatcher: rig!.dispatcher, policy: kPolicy, recordDelayMs: bad as never })).toThrow(
        expect.objectContaining({ code: EngineErrorCodes.INVALID_OPTION, target: 'recordDelayMs' }),
      );
    }
  });

  it('refuses an unknown lockWrites value with a coded error', async () => {
    rig = await makeRig();
    expect(() => createEngine({ store: rig!.store, dispatcher: rig!.dispatcher, policy: kPolicy, lockWrites: 'sometimes' as never })).toThrow(
      expect.objectContaining({ code: EngineErrorCodes.INVALID_OPTION, target: 'lockWrites' }),
    );
  });
});
