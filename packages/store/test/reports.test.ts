import { describe, expect, it } from 'vitest';
import { freshStore, manualClock } from './helpers.js';

describe('reports', () => {
  it('create → progress → infections → finish → get, with derived bandwidth and throughput', () => {
    const clock = manualClock(1_000_000);
    const s = freshStore({ clock: clock.now });
    const r = s.createReport({ kind: 'on-demand', id: 'job-1', policy: 'weekly', response: 'quarantine-move' });
    expect(r).toMatchObject({ id: 'job-1', state: 'running', filesScanned: 0, infectedCount: 0, endTime: null, infections: [] });
    s.addReportProgress('job-1', { files: 100, bytes: 4_000_000 });
    s.addReportProgress('job-1', { files: 100, bytes: 4_000_000, fails: 2 });
    s.addReportInfection('job-1', { filePath: '/d/eicar.com', threats: ['Eicar-Test-Signature'], response: 'quarantine-move' });
    s.addReportInfection('job-1', { filePath: '/d/x.exe', threats: ['A', 'B'], response: 'deny-only' });
    clock.advance(2000);
    const done = s.finishReport('job-1', 'completed');
    expect(done).toMatchObject({
      state: 'completed',
      startTime: 1_000_000,
      endTime: 1_002_000,
      durationMs: 2000,
      filesScanned: 200,
      totalBytes: 8_000_000,
      scanFails: 2,
      infectedCount: 2,
      bandwidthBytesPerSec: 4_000_000,
      throughputFilesPerSec: 100,
      response: 'quarantine-move',
    });
    expect(s.getReport('job-1')!.infections).toEqual([
      { filePath: '/d/eicar.com', threats: ['Eicar-Test-Signature'], response: 'quarantine-move', time: 1_000_000 },
      { filePath: '/d/x.exe', threats: ['A', 'B'], response: 'deny-only', time: 1_000_000 },
    ]);
  });

  it('lists by kind and state, newest first, with paging; deletes', () => {
    const s = freshStore();
    s.createReport({ kind: 'on-access-daily', id: 'd1', startTime: 1 });
    s.createReport({ kind: 'on-access-daily', id: 'd2', startTime: 2 });
    s.createReport({ kind: 'on-demand', id: 'j1', startTime: 3 });
    s.finishReport('d1', 'completed', 5);
    expect(s.listReports({ kind: 'on-access-daily' }).records.map((r) => r.id)).toEqual(['d2', 'd1']);
    expect(s.listReports({ state: 'running' }).records.map((r) => r.id)).toEqual(['j1', 'd2']);
    expect(s.listReports({ maxRecords: 1, offset: 1 }).records.map((r) => r.id)).toEqual(['d2']);
    expect(s.listReports({ since: 2, until: 2 }).numRecords).toBe(1);
    expect(s.deleteReport('d1')).toBe(true);
    s.createReport({ kind: 'on-demand', id: 'w1', policy: 'weekly', startTime: 4 });
    expect(s.listReports({ policy: 'weekly' }).records.map((r) => r.id)).toEqual(['w1']);
    expect(s.getReport('d1')).toBeUndefined();
  });

  it('lists infections across reports with filters and paging, newest first', () => {
    const s = freshStore();
    s.createReport({ kind: 'on-demand', id: 'a', policy: 'p1' });
    s.createReport({ kind: 'on-access-daily', id: 'b' });
    s.addReportInfection('a', { filePath: '/x', threats: ['T1'], response: 'quarantine', time: 10 });
    s.addReportInfection('a', { filePath: '/y', threats: ['T2', 'T3'], response: 'delete', time: 30 });
    s.addReportInfection('b', { filePath: '/x', threats: ['T1'], response: 'quarantine', time: 20 });
    expect(s.listInfections().records.map((r) => `${r.reportId}:${r.seq}:${r.filePath}`)).toEqual(['a:2:/y', 'b:1:/x', 'a:1:/x']);
    expect(s.listInfections({ filePath: '/x' }).numRecords).toBe(2);
    expect(s.listInfections({ reportId: 'a', response: 'delete' }).records[0]).toEqual({ reportId: 'a', seq: 2, policy: 'p1', filePath: '/y', threats: ['T2', 'T3'], response: 'delete', time: 30 });
    expect(s.listInfections({ maxRecords: 1, offset: 1 }).records.map((r) => r.reportId)).toEqual(['b']);
    expect(s.listInfections({ since: 15, until: 25 }).numRecords).toBe(1);
    expect(() => s.listInfections({ maxRecords: -1 })).toThrow(expect.objectContaining({ target: 'maxRecords' }));
  });

  it('generates ids and refuses unknown reports and bad input', () => {
    const s = freshStore();
    expect(s.createReport({ kind: 'on-demand' }).id).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => s.addReportProgress('nope', { files: 1 })).toThrow(expect.objectContaining({ code: 'ERR_STORE_NOT_FOUND' }));
    expect(() => s.addReportInfection('nope', { filePath: '/x', threats: [], response: 'none' })).toThrow(expect.objectContaining({ code: 'ERR_STORE_NOT_FOUND' }));
    expect(() => s.finishReport('nope', 'failed')).toThrow(expect.objectContaining({ code: 'ERR_STORE_NOT_FOUND' }));
    expect(() => s.createReport({ kind: 'weekly' as never })).toThrow(expect.objectContaining({ target: 'kind' }));
    expect(() => s.createReport({ kind: 'on-demand', id: 'dup' })).not.toThrow();
    expect(() => s.createReport({ kind: 'on-demand', id: 'dup' })).toThrow(expect.objectContaining({ code: 'ERR_STORE_CONSTRAINT' }));
    expect(() => s.finishReport('dup', 'running' as never)).toThrow(expect.objectContaining({ target: 'state' }));
    expect(() => s.addReportProgress('dup', { files: -1 })).toThrow(expect.objectContaining({ target: 'files' }));
  });
});
