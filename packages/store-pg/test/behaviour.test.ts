// The SQLite store's behaviour tests that make sense for any backend, run against both: the SQLite
// Store (through an async adapter) and PgStore on a private PostgreSQL 15. Same inputs, same results;
// only the error-code prefix differs (each package has its own catalog).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScanRecord } from '@avscan/store';
import { kServerHookMs } from './support/postgres.js';
import { postgresBackend, sqliteBackend, type AsyncStore, type Backend, type CommonOptions } from './support/backends.js';

function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function rec(fileId: string, path: string, over: Partial<ScanRecord> = {}): ScanRecord {
  return { volume: 'vol1', fileId, path, scanResult: 'clean', changeStamp: `stamp-${fileId}`, sigTimestamp: 10, ...over };
}

const key = { volume: 'vol1', fileId: '99' };

describe.each([sqliteBackend(), postgresBackend()])('$name store', (backend: Backend) => {
  const opened: AsyncStore[] = [];
  const code = (suffix: string) => backend.code(suffix);

  beforeAll(async () => {
    if (backend.available) await backend.setup();
  }, kServerHookMs);
  afterAll(async () => {
    await backend.teardown();
  }, kServerHookMs);
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  async function fresh(options?: CommonOptions, location?: string): Promise<AsyncStore> {
    const s = await backend.open(location ?? (await backend.location()), options);
    opened.push(s);
    return s;
  }

  describe.skipIf(!backend.available)('attributes', () => {
    it('stores every field and reads it back by identity and by path', async () => {
      const clock = manualClock();
      const s = await fresh({ clock: clock.now });
      await s.recordScan(rec('1', '/d/a.exe', { scanResult: 'infected', threats: ['Eicar-Test', 'X'], sigTimestamp: 7 }));
      const a = await s.getAttributes({ volume: 'vol1', fileId: '1' });
      expect(a).toEqual({
        volume: 'vol1', fileId: '1', path: '/d/a.exe', scanTime: clock.now(), scanResult: 'infected', threats: ['Eicar-Test', 'X'],
        sigTimestamp: 7, changeStamp: 'stamp-1', quarantined: true, sigStamp: null, cacheValid: true,
      });
      expect(await s.getAttributesByPath('vol1', '/d/a.exe')).toEqual(a);
      expect(await s.getAttributes({ volume: 'vol2', fileId: '1' })).toBeUndefined();
      expect(await s.getAttributesByPath('vol1', '/d/none')).toBeUndefined();
    });

    it('keeps the signature stamp a file was scanned with (ICAP ISTag); a later scan replaces it', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/a', { sigTimestamp: 0, sigStamp: 'istag-1' }));
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.sigStamp).toBe('istag-1');
      await s.recordScan(rec('1', '/a', { sigTimestamp: 0, sigStamp: 'istag-2' }));
      expect((await s.getAttributesByPath('vol1', '/a'))!.sigStamp).toBe('istag-2');
      await s.recordScan(rec('1', '/a'));
      expect((await s.listAttributes('vol1'))[0]!.sigStamp).toBeNull();
      await expect(s.recordScan(rec('2', '/b', { sigStamp: 7 as never }))).rejects.toMatchObject({ code: code('INVALID_ARGUMENT'), target: 'sigStamp' });
    });

    it('upserts: a later scan replaces the earlier one, including a moved path', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/a', { scanResult: 'infected' }));
      await s.recordScan(rec('1', '/b', { scanResult: 'clean', scanTime: 5, quarantined: false }));
      expect(await s.countAttributes()).toBe(1);
      const a = (await s.getAttributes({ volume: 'vol1', fileId: '1' }))!;
      expect([a.path, a.scanResult, a.quarantined, a.scanTime, a.threats]).toEqual(['/b', 'clean', false, 5, []]);
    });

    it('writes to one file in one batch apply in call order (the last wins)', async () => {
      const s = await fresh({ batchMaxRows: 100, batchMaxDelayMs: 20 });
      await Promise.all([s.recordScan(rec('1', '/a', { scanTime: 1 })), s.recordScan(rec('1', '/b', { scanTime: 2 })), s.recordScan(rec('1', '/c', { scanTime: 3 }))]);
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.path).toBe('/c');
    });

    it('rejects bad records with a coded error and writes nothing', async () => {
      const s = await fresh();
      await expect(s.recordScan(rec('1', 'relative'))).rejects.toMatchObject({ code: code('INVALID_ARGUMENT'), target: 'path' });
      await expect(s.recordScan(rec('1', '/a', { scanResult: 'bogus' as never }))).rejects.toMatchObject({ target: 'scanResult' });
      await expect(s.recordScan(rec('', '/a'))).rejects.toMatchObject({ target: 'fileId' });
      await expect(s.recordScan(rec('1', '/a', { sigTimestamp: Number.NaN }))).rejects.toMatchObject({ target: 'sigTimestamp' });
      await expect(s.recordScan(rec('1', '/a', { threats: [1] as never }))).rejects.toMatchObject({ target: 'threats' });
      expect(await s.countAttributes()).toBe(0);
    });

    it('setQuarantined clears and sets the flag', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/a', { scanResult: 'infected' }));
      expect(await s.setQuarantined({ volume: 'vol1', fileId: '1' }, false)).toBe(true);
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.quarantined).toBe(false);
      expect(await s.setQuarantined({ volume: 'vol1', fileId: 'nope' }, true)).toBe(false);
    });

    it('renames a single file', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/d/a'));
      await s.recordScan(rec('2', '/d/ab'));
      expect(await s.rename('vol1', '/d/a', '/e/x')).toBe(1);
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.path).toBe('/e/x');
      expect((await s.getAttributes({ volume: 'vol1', fileId: '2' }))!.path).toBe('/d/ab');
    });

    it('renames a folder prefix without touching siblings sharing the name prefix', async () => {
      const s = await fresh();
      await Promise.all([
        s.recordScan(rec('1', '/d/x')),
        s.recordScan(rec('2', '/d/sub/y')),
        s.recordScan(rec('3', '/d2/z')),
        s.recordScan(rec('4', '/d-x')),
        s.recordScan(rec('5', '/d/x', { volume: 'vol2' })),
      ]);
      expect(await s.rename('vol1', '/d', '/n/e/w')).toBe(2);
      expect((await s.listAttributes('vol1')).map((a) => [a.fileId, a.path])).toEqual([
        ['4', '/d-x'],
        ['3', '/d2/z'],
        ['2', '/n/e/w/sub/y'],
        ['1', '/n/e/w/x'],
      ]);
      expect((await s.getAttributes({ volume: 'vol2', fileId: '5' }))!.path).toBe('/d/x');
    });

    it('a rename replaces what was at the target', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/a'));
      await s.recordScan(rec('2', '/b'));
      await s.rename('vol1', '/a', '/b');
      expect((await s.listAttributes()).map((a) => [a.fileId, a.path])).toEqual([['1', '/b']]);
    });

    it('rejects renames into itself or of the root', async () => {
      const s = await fresh();
      await expect(s.rename('vol1', '/a', '/a/b')).rejects.toMatchObject({ code: code('INVALID_ARGUMENT') });
      await expect(s.rename('vol1', '/a/b', '/a')).rejects.toMatchObject({ code: code('INVALID_ARGUMENT') });
      await expect(s.rename('vol1', '/', '/x')).rejects.toMatchObject({ code: code('INVALID_ARGUMENT') });
      expect(await s.rename('vol1', '/same', '/same')).toBe(0);
    });

    it('deleteFile removes the row; deletePath removes a file or a whole folder', async () => {
      const s = await fresh();
      await Promise.all([s.recordScan(rec('1', '/a')), s.recordScan(rec('2', '/d/b')), s.recordScan(rec('3', '/d/e/c')), s.recordScan(rec('4', '/dd'))]);
      expect(await s.deleteFile({ volume: 'vol1', fileId: '1' })).toBe(true);
      expect(await s.deleteFile({ volume: 'vol1', fileId: '1' })).toBe(false);
      expect(await s.deletePath('vol1', '/d')).toBe(2);
      expect((await s.listAttributes()).map((a) => a.fileId)).toEqual(['4']);
    });
  });

  describe.skipIf(!backend.available)('clearCache', () => {
    it('makes every file non-current but keeps its history; a new clean scan is current again', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/a'));
      await s.recordScan(rec('2', '/b', { volume: 'vol2' }));
      await s.clearCache();
      const a = (await s.getAttributes({ volume: 'vol1', fileId: '1' }))!;
      expect(a.cacheValid).toBe(false);
      expect([a.scanResult, a.changeStamp, a.sigTimestamp]).toEqual(['clean', 'stamp-1', 10]);
      expect((await s.getAttributes({ volume: 'vol2', fileId: '2' }))!.cacheValid).toBe(false);
      await s.recordScan(rec('1', '/a'));
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.cacheValid).toBe(true);
    });

    it('clears one volume only when given', async () => {
      const s = await fresh();
      await s.recordScan(rec('1', '/a'));
      await s.recordScan(rec('2', '/b', { volume: 'vol2' }));
      await s.clearCache('vol1');
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.cacheValid).toBe(false);
      expect((await s.getAttributes({ volume: 'vol2', fileId: '2' }))!.cacheValid).toBe(true);
    });

    it('is seen by another store on the same database', async () => {
      const where = await backend.location();
      const a = await fresh({ nodeId: 'a' }, where);
      const b = await fresh({ nodeId: 'b' }, where);
      await a.recordScan(rec('1', '/a'));
      expect((await b.getAttributes({ volume: 'vol1', fileId: '1' }))!.cacheValid).toBe(true);
      await b.clearCache();
      expect((await a.getAttributes({ volume: 'vol1', fileId: '1' }))!.cacheValid).toBe(false);
    });
  });

  describe.skipIf(!backend.available)('group commit', () => {
    it('commits a batch when it reaches batchMaxRows, before the delay', async () => {
      const s = await fresh({ batchMaxRows: 4, batchMaxDelayMs: 60_000 });
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
      const s = await fresh({ batchMaxRows: 1000, batchMaxDelayMs: 5 });
      await s.recordScan(rec('1', '/a'));
      expect(s.pendingWrites).toBe(0);
    });

    it('an acknowledged write is visible to another store (it is committed); a queued one is not', async () => {
      const where = await backend.location();
      const w = await fresh({ nodeId: 'w', batchMaxDelayMs: 200 }, where);
      const r = await fresh({ nodeId: 'r' }, where);
      const p = w.recordScan(rec('1', '/a'));
      expect(await r.getAttributes({ volume: 'vol1', fileId: '1' })).toBeUndefined();
      await p;
      expect((await r.getAttributes({ volume: 'vol1', fileId: '1' }))!.path).toBe('/a');
    });

    it('flush() and close() drain queued writes', async () => {
      const where = await backend.location();
      const s = await backend.open(where, { batchMaxDelayMs: 60_000 });
      const p1 = s.recordScan(rec('1', '/a'));
      await s.flush();
      await p1;
      const p2 = s.recordScan(rec('2', '/b'));
      await s.close();
      await p2;
      const again = await fresh({}, where);
      expect(await again.countAttributes()).toBe(2);
    });

    it('a bad write in a batch fails alone; writes keep their call order', async () => {
      const s = await fresh({ batchMaxRows: 100, batchMaxDelayMs: 5 });
      const results = await Promise.allSettled([
        s.recordScan(rec('1', '/a', { scanTime: 1 })),
        s.recordScan(rec('1', '/b', { scanTime: 2 })),
        s.recordScan(rec('2', 'bad')),
        s.rename('vol1', '/b', '/c'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((await s.getAttributes({ volume: 'vol1', fileId: '1' }))!.path).toBe('/c');
    });

    it('operations after close reject with the CLOSED code', async () => {
      const s = await backend.open(await backend.location());
      await s.close();
      await s.close(); // idempotent
      await expect(s.recordScan(rec('1', '/a'))).rejects.toMatchObject({ code: code('CLOSED') });
      await expect(s.getAttributes({ volume: 'v', fileId: '1' })).rejects.toMatchObject({ code: code('CLOSED') });
      await expect(s.acquireLock(key, 'w', 's', 1)).rejects.toMatchObject({ code: code('CLOSED') });
    });

    it('recordScan with releaseLock commits the result and releases the lock together', async () => {
      const s = await fresh();
      const k = { volume: 'vol1', fileId: '42' };
      const r = { volume: 'vol1', fileId: '42', path: '/a.docx', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 } as const;
      expect((await s.acquireLock(k, 'node1', 'scan-1', 60_000)).acquired).toBe(true);
      await s.recordScan(r, { releaseLock: { owner: 'node1', scanId: 'scan-1' } });
      expect(await s.lockHolder(k)).toBeUndefined();
      expect((await s.getAttributes(k))?.scanResult).toBe('clean');
      // Another scan's lock is not released by a stale scan id.
      expect((await s.acquireLock(k, 'node1', 'scan-2', 60_000)).acquired).toBe(true);
      await s.recordScan(r, { releaseLock: { owner: 'node1', scanId: 'scan-1' } });
      expect(await s.lockHolder(k)).toMatchObject({ scanId: 'scan-2' });
      await expect(s.recordScan(r, { releaseLock: { owner: '', scanId: 'x' } })).rejects.toMatchObject({ code: code('INVALID_ARGUMENT') });
    });
  });

  describe.skipIf(!backend.available)('locks with leases', () => {
    it('first acquirer wins; a second owner sees the holder', async () => {
      const clock = manualClock();
      const s = await fresh({ clock: clock.now });
      expect(await s.acquireLock(key, 'w1', 'scan-1', 1000)).toEqual({ acquired: true });
      expect(await s.acquireLock(key, 'w2', 'scan-2', 1000)).toEqual({
        acquired: false,
        holder: { node: 'node1', owner: 'w1', scanId: 'scan-1', acquiredAt: clock.now(), expiresAt: clock.now() + 1000 },
      });
      expect((await s.lockHolder(key))!.owner).toBe('w1');
    });

    it('is re-entrant for the same owner on the same node', async () => {
      const s = await fresh();
      expect((await s.acquireLock(key, 'w1', 'scan-1', 1000)).acquired).toBe(true);
      expect((await s.acquireLock(key, 'w1', 'scan-1', 1000)).acquired).toBe(true);
    });

    it('another node takes over an expired lease, not a live one', async () => {
      const clock = manualClock();
      const where = await backend.location();
      const a = await fresh({ nodeId: 'a', clock: clock.now }, where);
      const b = await fresh({ nodeId: 'b', clock: clock.now }, where);
      expect((await a.acquireLock(key, 'w', 's1', 1000)).acquired).toBe(true);
      clock.advance(999);
      expect((await b.acquireLock(key, 'w', 's2', 1000)).acquired).toBe(false);
      clock.advance(1);
      expect((await b.acquireLock(key, 'w', 's2', 1000)).acquired).toBe(true);
      expect(await b.lockHolder(key)).toMatchObject({ node: 'b', scanId: 's2' });
      expect(await a.renewLock(key, 'w', 's1', 1000)).toBe(false);
      expect(await a.releaseLock(key, 'w', 's1')).toBe(false);
      expect((await b.lockHolder(key))!.node).toBe('b');
    });

    it('renew extends our lease; release frees the lock for others', async () => {
      const clock = manualClock();
      const s = await fresh({ clock: clock.now });
      await s.acquireLock(key, 'w1', 's1', 1000);
      clock.advance(900);
      expect(await s.renewLock(key, 'w1', 's1', 1000)).toBe(true);
      expect((await s.lockHolder(key))!.expiresAt).toBe(clock.now() + 1000);
      clock.advance(900);
      expect((await s.acquireLock(key, 'w2', 's2', 1000)).acquired).toBe(false);
      expect(await s.renewLock(key, 'w2', 's2', 1000)).toBe(false);
      expect(await s.releaseLock(key, 'w1', 's1')).toBe(true);
      expect(await s.lockHolder(key)).toBeUndefined();
      expect((await s.acquireLock(key, 'w2', 's2', 1000)).acquired).toBe(true);
    });

    it('an expired lease cannot be renewed', async () => {
      const clock = manualClock();
      const s = await fresh({ clock: clock.now });
      await s.acquireLock(key, 'w1', 's1', 10);
      clock.advance(10);
      expect(await s.renewLock(key, 'w1', 's1', 10)).toBe(false);
    });

    it('on open a store releases the stale locks of its own nodeId only', async () => {
      const where = await backend.location();
      const a = await backend.open(where, { nodeId: 'a' });
      const b = await fresh({ nodeId: 'b' }, where);
      await a.acquireLock(key, 'w', 's', 60_000);
      await b.acquireLock({ volume: 'vol1', fileId: 'other' }, 'w', 's', 60_000);
      await a.close();
      const a2 = await fresh({ nodeId: 'a' }, where);
      expect(await a2.lockHolder(key)).toBeUndefined();
      expect((await a2.lockHolder({ volume: 'vol1', fileId: 'other' }))!.node).toBe('b');
    });

    it('validates arguments', async () => {
      const s = await fresh();
      await expect(s.acquireLock({ volume: '', fileId: '1' }, 'w', 's', 1)).rejects.toMatchObject({ code: code('INVALID_ARGUMENT') });
      await expect(s.acquireLock(key, 'w', 's', -1)).rejects.toMatchObject({ target: 'leaseMs' });
      await expect(s.acquireLock(key, '', 's', 1)).rejects.toMatchObject({ target: 'owner' });
    });
  });

  describe.skipIf(!backend.available)('events', () => {
    it('appends with defaults and returns ids', async () => {
      const clock = manualClock();
      const s = await fresh({ clock: clock.now });
      const id = await s.appendEvent({ type: 'scanner.disconnected', server: '10.0.0.1', svm: 'vs1', node: 'n1', reason: 'remote_closed', details: { pool: 'p1' } });
      expect((await s.queryEvents()).records).toEqual([
        { id, time: clock.now(), type: 'scanner.disconnected', server: '10.0.0.1', svm: 'vs1', node: 'n1', filePath: null, reason: 'remote_closed', details: { pool: 'p1' } },
      ]);
    });

    async function seeded(): Promise<AsyncStore> {
      const s = await fresh();
      for (let i = 0; i < 10; i++) {
        void s.appendEvent({ type: i % 2 ? 'file.infected' : 'scan.timeout', svm: i < 5 ? 'vs1' : 'vs2', filePath: `/f${i}`, time: 1000 + Math.floor(i / 2) });
      }
      await s.flush();
      return s;
    }

    it('filters by fields and time window', async () => {
      const s = await seeded();
      expect((await s.queryEvents({ type: 'file.infected' })).numRecords).toBe(5);
      expect((await s.queryEvents({ type: 'file.infected', svm: 'vs1' })).records.map((r) => r.filePath)).toEqual(['/f1', '/f3']);
      expect((await s.queryEvents({ since: 1001, until: 1002 })).records.map((r) => r.filePath)).toEqual(['/f2', '/f3', '/f4', '/f5']);
      expect((await s.queryEvents({ filePath: '/f7' })).records[0]!.type).toBe('file.infected');
    });

    it('orders by time both ways (ties by id)', async () => {
      const s = await seeded();
      expect((await s.queryEvents({ orderBy: 'time desc', maxRecords: 3 })).records.map((r) => r.filePath)).toEqual(['/f9', '/f8', '/f7']);
      expect((await s.queryEvents({ orderBy: 'time asc', maxRecords: 3 })).records.map((r) => r.filePath)).toEqual(['/f0', '/f1', '/f2']);
    });

    it('pages with a cursor, both directions, and with an offset', async () => {
      const s = await seeded();
      for (const orderBy of ['time asc', 'time desc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await s.queryEvents({ orderBy, maxRecords: 3, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.records.map((r) => r.filePath!));
          expect(page.numRecords).toBe(page.records.length);
          cursor = page.next;
          pages++;
        } while (cursor !== undefined);
        expect(seen).toEqual((await s.queryEvents({ orderBy })).records.map((r) => r.filePath!));
        expect(pages).toBe(4);
      }
      expect((await s.queryEvents({ maxRecords: 2, offset: 4 })).records.map((r) => r.filePath)).toEqual(['/f4', '/f5']);
      expect((await s.queryEvents({ maxRecords: 10 })).next).toBeUndefined();
    });

    it('rejects bad input with coded errors', async () => {
      const s = await fresh();
      await expect(s.appendEvent({ type: '' })).rejects.toMatchObject({ code: code('INVALID_ARGUMENT'), target: 'type' });
      await expect(s.queryEvents({ orderBy: 'name' as never })).rejects.toMatchObject({ target: 'orderBy' });
      await expect(s.queryEvents({ cursor: 'garbage!' })).rejects.toMatchObject({ code: code('NOT_FOUND') });
      await expect(s.queryEvents({ maxRecords: -1 })).rejects.toMatchObject({ target: 'maxRecords' });
    });
  });

  describe.skipIf(!backend.available)('server status', () => {
    it('upserts per (svm, node, ip) and queries with filters, newest first', async () => {
      const s = await fresh();
      await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'connected', type: 'primary', vendor: 'clamav', version: '1.4', updateTime: 10 });
      await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.2', state: 'connected', type: 'backup', updateTime: 20 });
      await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'disconnected', type: 'primary', disconnectedReason: 'remote_closed', updateTime: 30 });
      const all = await s.queryServerStatus();
      expect(all.numRecords).toBe(2);
      expect(all.records[0]).toEqual({
        svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'disconnected', type: 'primary', updateTime: 30,
        vendor: 'clamav', version: '1.4', disconnectedReason: 'remote_closed', message: null, signature: null,
      });
      expect((await s.queryServerStatus({ state: 'connected' })).records.map((r) => r.ip)).toEqual(['10.0.0.2']);
      expect((await s.queryServerStatus({ orderBy: 'ip asc', maxRecords: 1 })).records.map((r) => r.ip)).toEqual(['10.0.0.1']);
      expect((await s.queryServerStatus({ disconnectedReason: 'remote_closed' })).numRecords).toBe(1);
      await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'connected', type: 'primary', updateTime: 40 });
      expect((await s.queryServerStatus({ ip: '10.0.0.1' })).records[0]!.disconnectedReason).toBeNull();
    });

    it('keeps why a server is disconnected while it is, and its signatures until replaced', async () => {
      const s = await fresh();
      const at = { svm: 'vs1', node: 'n1', ip: '10.0.0.1', type: 'primary' } as const;
      await s.upsertServerStatus({ ...at, state: 'connected', signature: 'daily-27000', updateTime: 1 });
      await s.upsertServerStatus({ ...at, state: 'disconnected', disconnectedReason: 'remote_closed', message: 'ECONNRESET', updateTime: 2 });
      expect((await s.queryServerStatus()).records[0]).toMatchObject({ message: 'ECONNRESET', signature: 'daily-27000' });
      await s.upsertServerStatus({ ...at, state: 'connected', message: 'ignored when connected', signature: 'daily-27001', updateTime: 3 });
      expect((await s.queryServerStatus()).records[0]).toMatchObject({ message: null, signature: 'daily-27001' });
    });

    it('rejects bad states and orders', async () => {
      const s = await fresh();
      await expect(s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: 'x', state: 'up' as never, type: 'primary' })).rejects.toMatchObject({ target: 'state' });
      await expect(s.queryServerStatus({ orderBy: 'constructor' as never })).rejects.toMatchObject({ code: code('INVALID_ARGUMENT'), target: 'orderBy' });
    });
  });

  describe.skipIf(!backend.available)('reports', () => {
    it('create → progress → infections → finish → get, with derived bandwidth and throughput', async () => {
      const clock = manualClock(1_000_000);
      const s = await fresh({ clock: clock.now });
      const r = await s.createReport({ kind: 'on-demand', id: 'job-1', policy: 'weekly', response: 'quarantine-move' });
      expect(r).toMatchObject({ id: 'job-1', state: 'running', filesScanned: 0, infectedCount: 0, endTime: null, infections: [] });
      await s.addReportProgress('job-1', { files: 100, bytes: 4_000_000 });
      await s.addReportProgress('job-1', { files: 100, bytes: 4_000_000, fails: 2 });
      await s.addReportInfection('job-1', { filePath: '/d/eicar.com', threats: ['Eicar-Test-Signature'], response: 'quarantine-move' });
      await s.addReportInfection('job-1', { filePath: '/d/x.exe', threats: ['A', 'B'], response: 'deny-only' });
      clock.advance(2000);
      expect(await s.finishReport('job-1', 'completed')).toMatchObject({
        state: 'completed', startTime: 1_000_000, endTime: 1_002_000, durationMs: 2000, filesScanned: 200, totalBytes: 8_000_000,
        scanFails: 2, infectedCount: 2, bandwidthBytesPerSec: 4_000_000, throughputFilesPerSec: 100, response: 'quarantine-move',
      });
      expect((await s.getReport('job-1'))!.infections).toEqual([
        { filePath: '/d/eicar.com', threats: ['Eicar-Test-Signature'], response: 'quarantine-move', time: 1_000_000 },
        { filePath: '/d/x.exe', threats: ['A', 'B'], response: 'deny-only', time: 1_000_000 },
      ]);
    });

    it('lists by kind and state, newest first, with paging; deletes', async () => {
      const s = await fresh();
      await s.createReport({ kind: 'on-access-daily', id: 'd1', startTime: 1 });
      await s.createReport({ kind: 'on-access-daily', id: 'd2', startTime: 2 });
      await s.createReport({ kind: 'on-demand', id: 'j1', startTime: 3 });
      await s.finishReport('d1', 'completed', 5);
      expect((await s.listReports({ kind: 'on-access-daily' })).records.map((r) => r.id)).toEqual(['d2', 'd1']);
      expect((await s.listReports({ state: 'running' })).records.map((r) => r.id)).toEqual(['j1', 'd2']);
      expect((await s.listReports({ maxRecords: 1, offset: 1 })).records.map((r) => r.id)).toEqual(['d2']);
      expect((await s.listReports({ since: 2, until: 2 })).numRecords).toBe(1);
      await s.createReport({ kind: 'on-demand', id: 'j2', policy: 'weekly', startTime: 4 });
      expect((await s.listReports({ policy: 'weekly' })).records.map((r) => r.id)).toEqual(['j2']);
      expect(await s.deleteReport('d1')).toBe(true);
      expect(await s.getReport('d1')).toBeUndefined();
    });

    it('lists infected files across reports, newest first, with their report and filters', async () => {
      const s = await fresh();
      await s.createReport({ kind: 'on-demand', id: 'j1', policy: 'weekly', startTime: 1 });
      await s.createReport({ kind: 'on-access-daily', id: 'd1', startTime: 1 });
      await s.addReportInfection('j1', { filePath: '/a', threats: ['T1'], response: 'quarantine-move', time: 10 });
      await s.addReportInfection('j1', { filePath: '/b', threats: ['T2', 'T3'], response: 'deny-only', time: 30 });
      await s.addReportInfection('d1', { filePath: '/a', threats: ['T1'], response: 'deny-only', time: 20 });
      const all = await s.listInfections();
      expect(all.records.map((r) => [r.reportId, r.seq, r.filePath])).toEqual([['j1', 2, '/b'], ['d1', 1, '/a'], ['j1', 1, '/a']]);
      expect(all.records[0]).toEqual({ reportId: 'j1', seq: 2, policy: 'weekly', filePath: '/b', threats: ['T2', 'T3'], response: 'deny-only', time: 30 });
      expect((await s.listInfections({ filePath: '/a' })).records.map((r) => r.reportId)).toEqual(['d1', 'j1']);
      expect((await s.listInfections({ reportId: 'j1', response: 'quarantine-move' })).numRecords).toBe(1);
      expect((await s.listInfections({ since: 15, until: 25 })).records.map((r) => r.reportId)).toEqual(['d1']);
      expect((await s.listInfections({ maxRecords: 1, offset: 1 })).records.map((r) => r.time)).toEqual([20]);
      await expect(s.listInfections({ maxRecords: -1 })).rejects.toMatchObject({ code: code('INVALID_ARGUMENT'), target: 'maxRecords' });
    });

    it('generates ids and refuses unknown reports and bad input', async () => {
      const s = await fresh();
      expect((await s.createReport({ kind: 'on-demand' })).id).toMatch(/^[0-9a-f-]{36}$/);
      await expect(s.addReportProgress('nope', { files: 1 })).rejects.toMatchObject({ code: code('NOT_FOUND') });
      await expect(s.addReportInfection('nope', { filePath: '/x', threats: [], response: 'none' })).rejects.toMatchObject({ code: code('NOT_FOUND') });
      await expect(s.finishReport('nope', 'failed')).rejects.toMatchObject({ code: code('NOT_FOUND') });
      await expect(s.createReport({ kind: 'weekly' as never })).rejects.toMatchObject({ target: 'kind' });
      await s.createReport({ kind: 'on-demand', id: 'dup' });
      await expect(s.createReport({ kind: 'on-demand', id: 'dup' })).rejects.toMatchObject({ code: code('CONSTRAINT') });
      await expect(s.finishReport('dup', 'running' as never)).rejects.toMatchObject({ target: 'state' });
      await expect(s.addReportProgress('dup', { files: -1 })).rejects.toMatchObject({ target: 'files' });
    });
  });
});
