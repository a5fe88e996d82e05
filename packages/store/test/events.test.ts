import { describe, expect, it } from 'vitest';
import { freshStore, manualClock } from './helpers.js';

describe('events', () => {
  it('appends with defaults and returns ids', async () => {
    const clock = manualClock();
    const s = freshStore({ clock: clock.now });
    const id = await s.appendEvent({ type: 'scanner.disconnected', server: '10.0.0.1', svm: 'vs1', node: 'n1', reason: 'remote_closed', details: { pool: 'p1' } });
    expect(s.queryEvents().records).toEqual([
      { id, time: clock.now(), type: 'scanner.disconnected', server: '10.0.0.1', svm: 'vs1', node: 'n1', filePath: null, reason: 'remote_closed', details: { pool: 'p1' } },
    ]);
  });

  async function seeded() {
    const s = freshStore();
    for (let i = 0; i < 10; i++) {
      void s.appendEvent({ type: i % 2 ? 'file.infected' : 'scan.timeout', svm: i < 5 ? 'vs1' : 'vs2', filePath: `/f${i}`, time: 1000 + Math.floor(i / 2) });
    }
    await s.flush();
    return s;
  }

  it('filters by fields and time window', async () => {
    const s = await seeded();
    expect(s.queryEvents({ type: 'file.infected' }).numRecords).toBe(5);
    expect(s.queryEvents({ type: 'file.infected', svm: 'vs1' }).records.map((r) => r.filePath)).toEqual(['/f1', '/f3']);
    expect(s.queryEvents({ since: 1001, until: 1002 }).records.map((r) => r.filePath)).toEqual(['/f2', '/f3', '/f4', '/f5']);
    expect(s.queryEvents({ filePath: '/f7' }).records[0]!.type).toBe('file.infected');
  });

  it('orders by time both ways (ties by id)', async () => {
    const s = await seeded();
    expect(s.queryEvents({ orderBy: 'time desc', maxRecords: 3 }).records.map((r) => r.filePath)).toEqual(['/f9', '/f8', '/f7']);
    expect(s.queryEvents({ orderBy: 'time asc', maxRecords: 3 }).records.map((r) => r.filePath)).toEqual(['/f0', '/f1', '/f2']);
  });

  it('pages with a cursor, both directions, and with an offset', async () => {
    const s = await seeded();
    for (const orderBy of ['time asc', 'time desc'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = s.queryEvents({ orderBy, maxRecords: 3, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.records.map((r) => r.filePath!));
        expect(page.numRecords).toBe(page.records.length);
        cursor = page.next;
        pages++;
      } while (cursor !== undefined);
      const all = s.queryEvents({ orderBy }).records.map((r) => r.filePath!);
      expect(seen).toEqual(all);
      expect(pages).toBe(4);
    }
    expect(s.queryEvents({ maxRecords: 2, offset: 4 }).records.map((r) => r.filePath)).toEqual(['/f4', '/f5']);
    expect(s.queryEvents({ maxRecords: 10 }).next).toBeUndefined();
  });

  it('rejects bad input with coded errors', async () => {
    const s = freshStore();
    await expect(s.appendEvent({ type: '' })).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT', target: 'type' });
    expect(() => s.queryEvents({ orderBy: 'name' as never })).toThrow(expect.objectContaining({ target: 'orderBy' }));
    expect(() => s.queryEvents({ cursor: 'garbage!' })).toThrow(expect.objectContaining({ code: 'ERR_STORE_NOT_FOUND' }));
    expect(() => s.queryEvents({ maxRecords: -1 })).toThrow(expect.objectContaining({ target: 'maxRecords' }));
  });
});

describe('server status', () => {
  it('upserts per (svm, node, ip) and queries with filters, newest first', async () => {
    const s = freshStore();
    await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'connected', type: 'primary', vendor: 'clamav', version: '1.4', updateTime: 10 });
    await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.2', state: 'connected', type: 'backup', updateTime: 20 });
    await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'disconnected', type: 'primary', disconnectedReason: 'remote_closed', updateTime: 30 });
    const all = s.queryServerStatus();
    expect(all.numRecords).toBe(2);
    expect(all.records[0]).toEqual({
      svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'disconnected', type: 'primary', updateTime: 30,
      vendor: 'clamav', version: '1.4', disconnectedReason: 'remote_closed', message: null, signature: null,
    });
    expect(s.queryServerStatus({ state: 'connected' }).records.map((r) => r.ip)).toEqual(['10.0.0.2']);
    expect(s.queryServerStatus({ orderBy: 'ip asc', maxRecords: 1 }).records.map((r) => r.ip)).toEqual(['10.0.0.1']);
    expect(s.queryServerStatus({ disconnectedReason: 'remote_closed' }).numRecords).toBe(1);
    await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'connected', type: 'primary', updateTime: 40 });
    expect(s.queryServerStatus({ ip: '10.0.0.1' }).records[0]!.disconnectedReason).toBeNull();
  });

  it('rejects bad states', async () => {
    const s = freshStore();
    await expect(s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: 'x', state: 'up' as never, type: 'primary' })).rejects.toMatchObject({ target: 'state' });
  });
});
