import { describe, expect, it } from 'vitest';
import { openStore, type ScanRecord } from '../src/index.js';
import { freshStore, manualClock, tempDbFile } from './helpers.js';

function rec(fileId: string, path: string, over: Partial<ScanRecord> = {}): ScanRecord {
  return { volume: 'vol1', fileId, path, scanResult: 'clean', changeStamp: `stamp-${fileId}`, sigTimestamp: 10, ...over };
}

describe('recordScan / getAttributes', () => {
  it('stores every field and reads it back by identity and by path', async () => {
    const clock = manualClock();
    const s = freshStore({ clock: clock.now });
    await s.recordScan(rec('1', '/d/a.exe', { scanResult: 'infected', threats: ['Eicar-Test', 'X'], sigTimestamp: 7 }));
    const a = s.getAttributes({ volume: 'vol1', fileId: '1' });
    expect(a).toEqual({
      volume: 'vol1',
      fileId: '1',
      path: '/d/a.exe',
      scanTime: clock.now(),
      scanResult: 'infected',
      threats: ['Eicar-Test', 'X'],
      sigTimestamp: 7,
      sigStamp: null,
      changeStamp: 'stamp-1',
      quarantined: true, // infected defaults to quarantined
      cacheValid: true,
    });
    expect(s.getAttributesByPath('vol1', '/d/a.exe')).toEqual(a);
    expect(s.getAttributes({ volume: 'vol2', fileId: '1' })).toBeUndefined();
    expect(s.getAttributesByPath('vol1', '/d/none')).toBeUndefined();
  });

  it('keeps the signature stamp (ICAP ISTag) a file was scanned with, and replaces it on the next record', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/i', { sigTimestamp: 0, sigStamp: 'CI0001-abc' }));
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })).toMatchObject({ sigTimestamp: 0, sigStamp: 'CI0001-abc' });
    await s.recordScan(rec('1', '/i', { sigTimestamp: 0, sigStamp: 'CI0001-def' }));
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })?.sigStamp).toBe('CI0001-def');
    await s.recordScan(rec('1', '/i'));
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })?.sigStamp).toBeNull();
    await expect(s.recordScan(rec('1', '/i', { sigStamp: 5 as unknown as string }))).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT', target: 'sigStamp' });
  });

  it('upserts: a later scan replaces the earlier one, including a moved path', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/a', { scanResult: 'infected' }));
    await s.recordScan(rec('1', '/b', { scanResult: 'clean', scanTime: 5, quarantined: false }));
    expect(s.countAttributes()).toBe(1);
    const a = s.getAttributes({ volume: 'vol1', fileId: '1' })!;
    expect([a.path, a.scanResult, a.quarantined, a.scanTime, a.threats]).toEqual(['/b', 'clean', false, 5, []]);
  });

  it('rejects bad records with a coded error and writes nothing', async () => {
    const s = freshStore();
    await expect(s.recordScan(rec('1', 'relative'))).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT', target: 'path' });
    await expect(s.recordScan(rec('1', '/a', { scanResult: 'bogus' as never }))).rejects.toMatchObject({ target: 'scanResult' });
    await expect(s.recordScan(rec('', '/a'))).rejects.toMatchObject({ target: 'fileId' });
    await expect(s.recordScan(rec('1', '/a', { sigTimestamp: Number.NaN }))).rejects.toMatchObject({ target: 'sigTimestamp' });
    await expect(s.recordScan(rec('1', '/a', { threats: [1] as never }))).rejects.toMatchObject({ target: 'threats' });
    expect(s.countAttributes()).toBe(0);
  });

  it('setQuarantined clears and sets the flag', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/a', { scanResult: 'infected' }));
    expect(await s.setQuarantined({ volume: 'vol1', fileId: '1' }, false)).toBe(true);
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })!.quarantined).toBe(false);
    expect(await s.setQuarantined({ volume: 'vol1', fileId: 'nope' }, true)).toBe(false);
  });
});

describe('rename and delete', () => {
  it('renames a single file', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/d/a'));
    await s.recordScan(rec('2', '/d/ab'));
    expect(await s.rename('vol1', '/d/a', '/e/x')).toBe(1);
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })!.path).toBe('/e/x');
    expect(s.getAttributes({ volume: 'vol1', fileId: '2' })!.path).toBe('/d/ab');
  });

  it('renames a folder prefix without touching siblings sharing the name prefix', async () => {
    const s = freshStore();
    await Promise.all([
      s.recordScan(rec('1', '/d/x')),
      s.recordScan(rec('2', '/d/sub/y')),
      s.recordScan(rec('3', '/d2/z')),
      s.recordScan(rec('4', '/d-x')),
      s.recordScan(rec('5', '/d/x', { volume: 'vol2' })),
    ]);
    expect(await s.rename('vol1', '/d', '/n/e/w')).toBe(2);
    expect(s.listAttributes('vol1').map((a) => [a.fileId, a.path])).toEqual([
      ['4', '/d-x'],
      ['3', '/d2/z'],
      ['2', '/n/e/w/sub/y'],
      ['1', '/n/e/w/x'],
    ]);
    expect(s.getAttributes({ volume: 'vol2', fileId: '5' })!.path).toBe('/d/x');
  });

  it('a rename replaces what was at the target', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/a'));
    await s.recordScan(rec('2', '/b'));
    await s.rename('vol1', '/a', '/b');
    expect(s.listAttributes().map((a) => [a.fileId, a.path])).toEqual([['1', '/b']]);
  });

  it('rejects renames into itself or of the root', async () => {
    const s = freshStore();
    await expect(s.rename('vol1', '/a', '/a/b')).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
    await expect(s.rename('vol1', '/a/b', '/a')).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
    await expect(s.rename('vol1', '/', '/x')).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
    expect(await s.rename('vol1', '/same', '/same')).toBe(0);
  });

  it('deleteFile removes the row; deletePath removes a file or a whole folder', async () => {
    const s = freshStore();
    await Promise.all([s.recordScan(rec('1', '/a')), s.recordScan(rec('2', '/d/b')), s.recordScan(rec('3', '/d/e/c')), s.recordScan(rec('4', '/dd'))]);
    expect(await s.deleteFile({ volume: 'vol1', fileId: '1' })).toBe(true);
    expect(await s.deleteFile({ volume: 'vol1', fileId: '1' })).toBe(false);
    expect(await s.deletePath('vol1', '/d')).toBe(2);
    expect(s.listAttributes().map((a) => a.fileId)).toEqual(['4']);
  });
});

describe('clearCache', () => {
  it('makes every file non-current but keeps its history; a new clean scan is current again', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/a'));
    await s.recordScan(rec('2', '/b', { volume: 'vol2' }));
    await s.clearCache();
    const a = s.getAttributes({ volume: 'vol1', fileId: '1' })!;
    expect(a.cacheValid).toBe(false);
    expect([a.scanResult, a.changeStamp, a.sigTimestamp]).toEqual(['clean', 'stamp-1', 10]);
    expect(s.getAttributes({ volume: 'vol2', fileId: '2' })!.cacheValid).toBe(false);
    await s.recordScan(rec('1', '/a'));
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })!.cacheValid).toBe(true);
  });

  it('clears one volume only when given', async () => {
    const s = freshStore();
    await s.recordScan(rec('1', '/a'));
    await s.recordScan(rec('2', '/b', { volume: 'vol2' }));
    await s.clearCache('vol1');
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })!.cacheValid).toBe(false);
    expect(s.getAttributes({ volume: 'vol2', fileId: '2' })!.cacheValid).toBe(true);
  });

  it('is seen by another connection on the same file', async () => {
    const file = tempDbFile();
    const a = freshStore({ nodeId: 'a' }, file);
    const b = freshStore({ nodeId: 'b' }, file);
    await a.recordScan(rec('1', '/a'));
    expect(b.getAttributes({ volume: 'vol1', fileId: '1' })!.cacheValid).toBe(true);
    await b.clearCache();
    expect(a.getAttributes({ volume: 'vol1', fileId: '1' })!.cacheValid).toBe(false);
  });
});

describe('group commit', () => {
  it('commits a batch when it reaches batchMaxRows, before the delay', async () => {
    const s = freshStore({ batchMaxRows: 4, batchMaxDelayMs: 60_000 });
    const done: number[] = [];
    const ps = [0, 1, 2].map((i) => s.recordScan(rec(String(i), `/f${i}`)).then(() => done.push(i)));
    expect(s.pendingWrites).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toEqual([]); // still waiting for the 4th row or the (long) delay
    ps.push(s.recordScan(rec('3', '/f3')).then(() => done.push(3)));
    expect(s.pendingWrites).toBe(0);
    await Promise.all(ps);
    expect(done).toEqual([0, 1, 2, 3]);
  });

  it('commits a partial batch after batchMaxDelayMs', async () => {
    const s = freshStore({ batchMaxRows: 1000, batchMaxDelayMs: 5 });
    await s.recordScan(rec('1', '/a'));
    expect(s.pendingWrites).toBe(0);
  });

  it('commitWithinMs: a patient record waits longer than batchMaxDelayMs, and never holds back an impatient write', async () => {
    const s = freshStore({ batchMaxRows: 1000, batchMaxDelayMs: 1 });
    const t0 = performance.now();
    await s.recordScan(rec('1', '/a'), { commitWithinMs: 80 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    // A patient write queued first, then an impatient one: both commit with the earlier deadline.
    const t1 = performance.now();
    const patient = s.recordScan(rec('2', '/b'), { commitWithinMs: 10_000 });
    await new Promise((r) => setTimeout(r, 5));
    expect(s.pendingWrites).toBe(1);
    await s.recordScan(rec('3', '/c'));
    await patient;
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(s.pendingWrites).toBe(0);
  });

  it('refuses a bad commitWithinMs with a coded error, queueing nothing', async () => {
    const s = freshStore();
    for (const bad of [-1, 1.5, 60_001, Number.NaN, '5' as unknown as number]) {
      await expect(s.recordScan(rec('1', '/a'), { commitWithinMs: bad })).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT', target: 'commitWithinMs' });
    }
    expect(s.pendingWrites).toBe(0);
  });

  it('an acknowledged write is visible to another connection (it is committed)', async () => {
    const file = tempDbFile();
    const w = freshStore({ batchMaxDelayMs: 50 }, file);
    const r = openStore(file, { readonly: true });
    try {
      const p = w.recordScan(rec('1', '/a'));
      expect(r.getAttributes({ volume: 'vol1', fileId: '1' })).toBeUndefined(); // queued, not acknowledged
      await p;
      expect(r.getAttributes({ volume: 'vol1', fileId: '1' })!.path).toBe('/a');
    } finally {
      await r.close();
    }
  });

  it('flush() and close() drain queued writes', async () => {
    const file = tempDbFile();
    const s = openStore(file, { batchMaxDelayMs: 60_000 });
    const p1 = s.recordScan(rec('1', '/a'));
    await s.flush();
    await p1;
    const p2 = s.recordScan(rec('2', '/b'));
    await s.close();
    await p2;
    const again = freshStore({}, file);
    expect(again.countAttributes()).toBe(2);
  });

  it('a bad write in a batch fails alone; writes keep their call order', async () => {
    const s = freshStore({ batchMaxRows: 100, batchMaxDelayMs: 5 });
    const results = await Promise.allSettled([
      s.recordScan(rec('1', '/a', { scanTime: 1 })),
      s.recordScan(rec('1', '/b', { scanTime: 2 })),
      s.recordScan(rec('2', 'bad')),
      s.rename('vol1', '/b', '/c'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })!.path).toBe('/c');
  });

  it('writes after close reject with ERR_STORE_CLOSED; reads throw it', async () => {
    const s = openStore(tempDbFile());
    await s.close();
    await s.close(); // idempotent
    await expect(s.recordScan(rec('1', '/a'))).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' });
    expect(() => s.getAttributes({ volume: 'v', fileId: '1' })).toThrow(expect.objectContaining({ code: 'ERR_STORE_CLOSED' }));
  });
});
