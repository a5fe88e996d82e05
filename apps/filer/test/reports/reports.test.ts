// Reports: the per-job report's fields and arithmetic, the ONTAP report file under log_path, the OneFS
// shapes, list/get/threats with filters and paging, and the daily on-access report.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  accessOf, buildDailyReport, createJobManager, dailyReportId, fileJob, getReport, listReports, listThreats, openAppDb, ontapJob, resolveInVolume,
  startOnAccessCounter, toOnefsScanReport, toOnefsThreats, utcDay, writeReportFile,
} from '../../src/index.js';
import { kEicar, makeRig, openedPerTest } from '../jobs/helpers.js';

const t = openedPerTest();

describe('on-demand job report', () => {
  it('carries start/end, files, size, bandwidth and throughput derived from them, state, infections and responses; ONTAP writes it under log_path', async () => {
    t.rig = await makeRig();
    const sizes = [100, 2000, 30_000];
    sizes.forEach((n, i) => t.rig!.put('vol1', `data/f${String(i)}.bin`, Buffer.alloc(n, i + 1)));
    t.rig.put('vol1', 'data/x-evil.com', kEicar);
    t.rig.put('vol1', 'data/y-evil.exe', kEicar);
    const r = t.rig;
    t.jobs = createJobManager(r.rt, { onFinished: async (status, spec) => void (await writeReportFile(r.rt, spec, status)) });
    const spec = ontapJob(r.rt, 'vs1', { name: 'weekly-av', scan_paths: ['/vol1/data/'], log_path: '/vol2/reports' });
    const status = await t.jobs.start(spec).done;
    const report = (await getReport(r.rt.store, status.reportId))!;
    const bytes = sizes.reduce((a, b) => a + b, 0) + 2 * kEicar.length;
    expect(report).toMatchObject({ kind: 'on-demand', policy: 'weekly-av', state: 'completed', filesScanned: 5, totalBytes: bytes, scanFails: 0, infectedCount: 2, response: 'none' });
    expect(report.startTime).toBe(status.startTime);
    expect(report.endTime).toBe(status.endTime);
    expect(report.durationMs).toBe(report.endTime! - report.startTime);
    const secs = report.durationMs / 1000;
    expect(report.bandwidthBytesPerSec).toBeCloseTo(secs > 0 ? bytes / secs : 0, 6);
    expect(report.throughputFilesPerSec).toBeCloseTo(secs > 0 ? 5 / secs : 0, 6);
    expect(report.infections.map((i) => [i.filePath, i.response])).toEqual([['\\vol1\\data\\x-evil.com', 'quarantined'], ['\\vol1\\data\\y-evil.exe', 'quarantined']]);
    expect(report.infections[0]!.threats[0]).toMatch(/eicar/i);

    const dir = path.join(r.rt.volume('vs1', 'vol2')!.root, 'reports');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^weekly-av-\d{8}T\d{6}Z-[0-9a-f]{8}\.log$/);
    const text = readFileSync(path.join(dir, files[0]!), 'utf8');
    expect(text).toContain('files scanned: 5\n');
    expect(text).toContain(`total size (bytes): ${String(bytes)}\n`);
    expect(text).toContain('infected files: 2\n');
    expect(text).toContain('state: completed\n');
    expect(text).toMatch(/infected: \\vol1\\data\\x-evil\.com\tthreats: .*Eicar.*\tresponse: quarantined/i);

    // OneFS shapes: epoch seconds, one threat record per threat.
    const onefs = toOnefsScanReport(report);
    expect(onefs).toMatchObject({ id: report.id, policy_id: 'weekly-av', job_id: report.id, status: 'Finished', files: 5, size: bytes, infections: 2, scan_fails: 0, start: Math.floor(report.startTime / 1000) });
    const threats = (await listThreats(r.rt.store, { reportId: report.id })).records.flatMap(toOnefsThreats);
    expect(threats).toHaveLength(2);
    expect(threats[0]).toMatchObject({ scan_id: report.id, policy_id: 'weekly-av', remediation: 'quarantined', threat: expect.stringMatching(/eicar/i) });
  });

  it('lists with filters and paging; a OneFS or file job writes no report file', async () => {
    t.rig = await makeRig();
    t.rig.put('vol1', 'a.txt', 'a');
    t.jobs = createJobManager(t.rig.rt);
    const ids: string[] = [];
    for (const name of ['p1', 'p2', 'p1']) ids.push((await t.jobs.start(ontapJob(t.rig.rt, 'vs1', { name, scan_paths: ['/vol1/'] })).done).id);
    const one = await t.jobs.start(fileJob(t.rig.rt, 'vs1', { volume: 'vol1', path: 'a.txt' })).done;
    expect(await writeReportFile(t.rig.rt, fileJob(t.rig.rt, 'vs1', { volume: 'vol1', path: 'a.txt' }), one)).toBeUndefined();
    expect((await listReports(t.rig.rt.store, { policy: 'p1' })).numRecords).toBe(2);
    expect((await listReports(t.rig.rt.store, { kind: 'on-demand', maxRecords: 2 })).numRecords).toBe(2);
    expect((await listReports(t.rig.rt.store, { kind: 'on-demand', maxRecords: 2, offset: 3 })).numRecords).toBe(1);
    expect((await listReports(t.rig.rt.store, { state: 'running' })).numRecords).toBe(0);
    expect(t.jobs.list({ svm: 'vs1', maxRecords: 10 }).map((j) => j.id).sort()).toEqual([...ids, one.id].sort());
  });
});

describe('daily on-access report', () => {
  it('counts the day\'s on-access scans (not the jobs\') and lists on-access infections from the events', async () => {
    t.rig = await makeRig();
    const db = openAppDb(t.rig.rt.appDbFile);
    const counter = startOnAccessCounter(t.rig.rt, db, { flushMs: 60_000 });
    try {
      const vol = t.rig.rt.volume('vs1', 'vol1')!;
      t.rig.put('vol1', 'open/a.txt', 'aaaa');
      t.rig.put('vol1', 'open/b.txt', 'bbbbbbbb');
      t.rig.put('vol1', 'open/bad.com', kEicar);
      t.rig.put('vol1', 'jobonly/c.txt', 'c');
      t.rig.put('vol1', 'jobonly/bad2.com', kEicar);
      for (const f of ['open/a.txt', 'open/b.txt', 'open/bad.com']) await t.rig.rt.engine('vs1').open(accessOf(resolveInVolume(vol, f)));
      t.jobs = createJobManager(t.rig.rt, { db });
      await t.jobs.start(ontapJob(t.rig.rt, 'vs1', { name: 'j', scan_paths: ['/vol1/jobonly/'] })).done;
      await t.rig.rt.engine('vs1').drain();
      counter.flush();
      const day = utcDay(Date.now());
      const report = await buildDailyReport(t.rig.rt, db, { day });
      expect(report).toMatchObject({ id: dailyReportId(day), kind: 'on-access-daily', state: 'completed', filesScanned: 3, totalBytes: 4 + 8 + kEicar.length, infectedCount: 1 });
      expect(report.startTime).toBe(Date.parse(`${day}T00:00:00Z`));
      expect(report.durationMs).toBe(24 * 60 * 60 * 1000);
      expect(report.bandwidthBytesPerSec).toBeCloseTo((4 + 8 + kEicar.length) / 86_400, 9);
      expect((await getReport(t.rig.rt.store, report.id))!.infections).toEqual([expect.objectContaining({ filePath: '\\vol1\\open\\bad.com', response: 'quarantined' })]);
      // Built again (on demand, or late): replaced, not doubled.
      expect((await buildDailyReport(t.rig.rt, db, { day })).filesScanned).toBe(3);
      expect((await listReports(t.rig.rt.store, { kind: 'on-access-daily' })).numRecords).toBe(1);
      // Yesterday by default: nothing happened then.
      expect(await buildDailyReport(t.rig.rt, db)).toMatchObject({ filesScanned: 0, infectedCount: 0 });
      await expect(buildDailyReport(t.rig!.rt, db, { day: '2026-13-45' })).rejects.toThrow(RangeError);
    } finally {
      counter.close();
      await t.jobs?.close();
      t.jobs = undefined;
      db.close();
    }
  });
});
