import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kEicar, makeRig, until, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('locks and coalescing (SPEC §6)', () => {
  it('100 concurrent opens of one unscanned file make exactly one scanner request, all with the same verdict', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 150 } } });
    const a = await rig.file('shared.docx', 'the same bytes for everyone');
    const answers = await Promise.all(Array.from({ length: 100 }, () => rig!.engine.open(a)));
    expect(rig.server.stats().scans).toBe(1);
    expect(new Set(answers.map((x) => x.reason))).toEqual(new Set(['clean']));
    expect(answers.filter((x) => x.joined)).toHaveLength(99);
    expect(rig.engine.metrics()).toMatchObject({ scansStarted: 1, joined: 99, inFlight: 0 });
  });

  it('joined accesses of an infected file are all denied', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 100 } } });
    const a = await rig.file('bad.com', kEicar);
    const answers = await Promise.all(Array.from({ length: 20 }, () => rig!.engine.open(a)));
    expect(rig.server.stats().scans).toBe(1);
    expect(answers.every((x) => !x.allow && x.reason === 'infected')).toBe(true);
  });

  it('a write during the scan waits for the verdict, and the file is not current afterwards', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 200 } } });
    const a = await rig.file('edit.docx', 'draft 1');
    const order: string[] = [];
    const opening = rig.engine.open(a).then((x) => {
      order.push('verdict');
      return x;
    });
    await until(() => rig!.dispatcher.metrics().inFlight === 1);
    expect(rig.engine.metrics().inFlight).toBe(1);
    const writing = rig.engine.write(a).then(async () => {
      order.push('write');
      await writeFile(a.file!, 'draft 2, longer');
    });
    await Promise.all([opening, writing]);
    expect(order).toEqual(['verdict', 'write']);
    const after = await rig.describe('edit.docx');
    expect(after.changeStamp).not.toBe(a.changeStamp);
    // The stored stamp is the one read at scan start, so the modified file is scanned again.
    expect((await rig.engine.open(after)).reason).toBe('clean');
    expect(rig.server.stats().scans).toBe(2);
  });

  // Waiting for another owner's lock is the immediate mode's behaviour; deferred-locks.test.ts covers the default.
  it('a scan lock held by another node is waited for; the file is not scanned twice', async () => {
    rig = await makeRig({ engine: { waitTimeoutMs: 2000, lockWrites: 'immediate' } });
    const a = await rig.file('locked.docx', 'x');
    const key = { volume: 'vol1', fileId: a.fileId };
    expect(rig.store.acquireLock(key, 'node2', 'foreign-scan', 60_000).acquired).toBe(true);
    const pending = rig.engine.open(a);
    // The scan started and is waiting for the lock: it has not reached the scanner.
    await until(() => rig!.engine.metrics().scansStarted === 1);
    expect(rig.server.stats().scans).toBe(0);
    expect(rig.dispatcher.metrics().inFlight).toBe(0);
    rig.store.releaseLock(key, 'node2', 'foreign-scan');
    expect((await pending).reason).toBe('clean');
    expect(rig.server.stats().scans).toBe(1);
    await rig.engine.drain(); // the lock is released once the record is committed
    expect(rig.store.lockHolder(key)).toBeUndefined();
  });

  it('a scan longer than its lease keeps renewing it: another node cannot take the lock until the record releases it', async () => {
    rig = await makeRig({ engine: { leaseMs: 150 }, faults: { commandLatencyMs: { INSTREAM: 700 } } });
    const a = await rig.file('long.docx', 'slow to scan');
    const key = { volume: 'vol1', fileId: a.fileId };
    const opening = rig.engine.open(a);
    await until(() => rig!.store.lockHolder(key) !== undefined);
    const first = rig.store.lockHolder(key)!;
    // Past the first lease's expiry, the lock is still ours, with a later expiry.
    await until(() => Date.now() > first.acquiredAt + 200 && rig!.store.lockHolder(key)!.expiresAt > first.expiresAt);
    expect(rig.store.acquireLock(key, 'node2', 'foreign-scan', 60_000).acquired).toBe(false);
    expect((await opening).reason).toBe('clean');
    await rig.engine.drain();
    expect(rig.store.lockHolder(key)).toBeUndefined();
  });

  it('a lock of another node that is never released ends in the failure policy after the wait bound', async () => {
    rig = await makeRig({ engine: { waitTimeoutMs: 200, lockWrites: 'immediate' } });
    const a = await rig.file('stuck.docx', 'x');
    rig.store.acquireLock({ volume: 'vol1', fileId: a.fileId }, 'node2', 'foreign', 60_000);
    const answer = await rig.engine.open(a);
    expect(answer).toMatchObject({ allow: false, reason: 'failure-deny', verdict: { result: 'failure', kind: 'timeout' } });
    expect(rig.server.stats().scans).toBe(0);
  });

  it('quarantine-move moves the infected file under the quarantine folder, never outside it', async () => {
    rig = await makeRig();
    const q = path.join(rig.dir, 'quarantine');
    await rig.engine.shutdown();
    const { createEngine } = await import('../src/index.js');
    const engine = createEngine({ store: rig.store, dispatcher: rig.dispatcher, policy: rig.engine.policy, infectedAction: 'quarantine-move', quarantineDir: q });
    const a = await rig.file('sub/evil.exe', kEicar);
    expect((await engine.open(a)).reason).toBe('infected');
    await engine.drain();
    expect(await readFile(path.join(q, 'vol1', 'vol1', 'sub', 'evil.exe'))).toEqual(kEicar);
    const events = rig.store.queryEvents({ type: 'file.infected' });
    expect(events.records[0]!.details).toMatchObject({ response: 'moved' });
    // WORM volumes: deny only.
    const w = await rig.file('worm/evil.exe', kEicar, { worm: true });
    expect((await engine.open(w)).reason).toBe('infected');
    await engine.drain();
    expect(await readFile(w.file!)).toEqual(kEicar);
    await engine.shutdown();
  });
});

describe('infected-file actions', () => {
  it('delete removes the infected file; the answer is still deny', async () => {
    rig = await makeRig();
    await rig.engine.shutdown();
    const { createEngine } = await import('../src/index.js');
    const { existsSync } = await import('node:fs');
    const engine = createEngine({ store: rig.store, dispatcher: rig.dispatcher, policy: rig.engine.policy, infectedAction: 'delete' });
    const a = await rig.file('gone.exe', kEicar);
    expect(await engine.open(a)).toMatchObject({ allow: false, reason: 'infected' });
    await engine.drain();
    expect(existsSync(a.file!)).toBe(false);
    expect(rig.store.queryEvents({ type: 'file.infected' }).records[0]!.details).toMatchObject({ response: 'deleted' });
    await engine.shutdown();
  });

  it('a quarantine destination cannot climb out of the quarantine folder', async () => {
    const { quarantineDestination } = await import('../src/record.js');
    const q = '/tmp/avscan-q-test';
    for (const [volume, svmPath] of [['..', '\\..\\..\\etc\\passwd'], ['vol1', '/../../x'], ['.', '\\.\\..'], ['a/../..', 'b\\..\\..\\c']]) {
      const dest = quarantineDestination(q, volume!, svmPath!);
      expect(dest.startsWith(`${q}/`), `${volume} ${svmPath} → ${dest}`).toBe(true);
    }
  });
});

describe('records committed after the answer', () => {
  it('a delete right after a verdict is not undone by the late record, and a rename lands under the new name', async () => {
    rig = await makeRig();
    const a = await rig.file('late.docx', 'x');
    expect((await rig.engine.open(a)).reason).toBe('clean');
    await rig.engine.delete(a); // issued before the background record necessarily committed
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();

    const b = await rig.file('old.docx', 'y');
    expect((await rig.engine.open(b)).reason).toBe('clean');
    await rig.engine.rename({ ...b, path: '\\vol1\\new.docx' }, { from: b.path });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: b.fileId })?.path).toBe('/vol1/new.docx');
  });
});
