// On-demand jobs on a static runtime with real files and the built-in scanner: scope, skip current,
// force, cancel, a one-file job, resume after close, reports in the store.
import { rmSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Store } from '@avscan/store';
import { createJobManager, FilerErrorCodes, fileJob, onefsJob, ontapJob, openAppDb } from '../../src/index.js';
import { kEicar, makeRig, openedPerTest, type Rig } from './helpers.js';

const t = openedPerTest();

function populate(r: Rig): void {
  r.put('vol1', 'docs/a.txt', 'a');
  r.put('vol1', 'docs/b.doc', 'bb');
  r.put('vol1', 'docs/evil.com', kEicar);
  r.put('vol1', 'docs/song.mp3', 'la');
  r.put('vol1', 'cold/old.txt', 'old');
  r.put('vol1', 'noext', 'n');
  r.put('vol1', 'big.bin', Buffer.alloc(4096, 1));
  r.put('vol2', 'other.txt', 'not in the job');
}

describe('ONTAP on-demand policy', () => {
  it('scans what its scope covers, reports infected files, and skips scan-current files the next time', async () => {
    t.rig = await makeRig();
    populate(t.rig);
    t.jobs = createJobManager(t.rig.rt);
    const spec = ontapJob(t.rig.rt, 'vs1', {
      name: 'task-1',
      scan_paths: ['/vol1/'],
      log_path: '/vol2/',
      scope: { exclude_extensions: ['mp3'], exclude_paths: ['/vol1/cold/'], max_file_size: 1024 },
    });
    const first = await t.jobs.start(spec).done;
    expect(first).toMatchObject({ state: 'completed', checked: 7, scanned: 4, skipped: 3, current: 0, infected: 1, failed: 0, total: 7, etaMs: 0 });
    expect(first.bytes).toBe(1 + 2 + kEicar.length + 1);
    expect(t.jobs.infections(first.id)).toEqual([expect.objectContaining({ filePath: '\\vol1\\docs\\evil.com', threats: [expect.stringMatching(/eicar/i)], response: 'quarantined' })]);
    const report = (await t.rig.rt.store.getReport(first.reportId))!;
    expect(report).toMatchObject({ kind: 'on-demand', policy: 'task-1', state: 'completed', filesScanned: 4, totalBytes: first.bytes, infectedCount: 1, response: 'none' });
    expect(report.infections.map((i) => i.filePath)).toEqual(['\\vol1\\docs\\evil.com']);

    // Unchanged tree: nothing is sent to a scanner; the infected file is quarantined and still listed.
    const second = await t.jobs.start(spec).done;
    expect(second).toMatchObject({ state: 'completed', checked: 7, scanned: 0, current: 4, skipped: 3, infected: 1 });
    // The report counts what the status shows: every processed file (scanned or current), the infected one among them.
    const rerun = await t.rig.rt.store.getReport(second.reportId);
    expect(rerun).toMatchObject({ filesScanned: second.scanned + second.current, infectedCount: second.infected });
    expect(rerun!.filesScanned).toBe(4);
    expect(t.rig.rt.engine('vs1').metrics().scansStarted).toBe(4);
  });

  it('opened on the SQLite store itself, the app connection leaves WAL checkpoints to the store (not on the event loop)', async () => {
    t.rig = await makeRig();
    const store = t.rig.rt.store;
    expect(store).toBeInstanceOf(Store);
    const own = openAppDb(store as Store);
    const byName = openAppDb(t.rig.rt.appDbFile);
    try {
      expect(own.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      // A file named only by path may be the app's alone (PostgreSQL store: node.db): it checkpoints itself.
      expect(byName.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      own.close();
      byName.close();
    }
  });

  it('validates its fields with coded errors carrying ONTAP codes', () => {
    return makeRig().then((r) => {
      t.rig = r;
      const bad = (p: object, target: string, ontapCode?: number) =>
        expect(() => ontapJob(r.rt, 'vs1', { name: 't', scan_paths: ['/vol1/'], ...p } as never)).toThrow(expect.objectContaining({ code: FilerErrorCodes.JOB_INVALID, target, ...(ontapCode ? { ontapCode } : {}) }));
      bad({ name: 'bad name' }, 'name', 10027178);
      bad({ scan_paths: [] }, 'scan_paths', 10027168);
      bad({ scan_paths: ['vol1'] }, 'scan_paths', 10027168);
      bad({ scan_paths: ['\\vol1\\'] }, 'scan_paths', 10027168);
      bad({ scan_paths: ['/nope/'] }, 'scan_paths', 10027168);
      bad({ log_path: '/nope' }, 'log_path', 10027176);
      bad({ scope: { exclude_paths: ['vol1\\x'] } }, 'scope.exclude_paths', 10027174);
      bad({ scope: { max_file_size: 10 } }, 'scope.max_file_size', 10027107);
      expect(() => ontapJob(r.rt, 'vs9', { name: 't', scan_paths: ['/vol1/'] })).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
    });
  });
});

describe('OneFS CAVA job', () => {
  it('includes extensions, excludes paths relative to the include paths, and forces a rescan when told', async () => {
    t.rig = await makeRig();
    populate(t.rig);
    t.jobs = createJobManager(t.rig.rt);
    const base = { job_name: 'nightly av', paths_to_include: ['/ifs/vs1/vol1/docs', '/ifs/vs1/vol1/cold'], paths_to_exclude: ['sub/'], file_extensions: ['.txt', '*.doc'] };
    t.rig.put('vol1', 'docs/sub/c.txt', 'excluded by paths_to_exclude');
    const first = await t.jobs.start(onefsJob(t.rig.rt, 'vs1', base)).done;
    expect(first).toMatchObject({ state: 'completed', checked: 6, scanned: 3, skipped: 3 });
    const again = await t.jobs.start(onefsJob(t.rig.rt, 'vs1', base)).done;
    expect(again).toMatchObject({ scanned: 0, current: 3 });
    const forced = await t.jobs.start(onefsJob(t.rig.rt, 'vs1', { ...base, ignore_previous_scan_status: true })).done;
    expect(forced).toMatchObject({ scanned: 3, current: 0 });
    const excluding = await t.jobs.start(onefsJob(t.rig.rt, 'vs1', { job_name: 'x', paths_to_include: ['/ifs/vs1/vol1'], file_extensions: ['txt'], file_extension_action: 'exclude', scan_if_no_extension: false })).done;
    // not .txt and with an extension: b.doc (current), evil.com, song.mp3, big.bin (never scanned yet)
    expect(excluding).toMatchObject({ checked: 8, scanned: 3, current: 1, skipped: 4, infected: 1 });
    expect(() => onefsJob(t.rig!.rt, 'vs1', { job_name: 'x', paths_to_include: ['/ifs/vs2/vol1'] })).toThrow(expect.objectContaining({ code: FilerErrorCodes.JOB_INVALID, target: 'paths_to_include' }));
    expect(() => onefsJob(t.rig!.rt, 'vs1', { ...base, file_extension_action: 'maybe' as never })).toThrow(expect.objectContaining({ target: 'file_extension_action' }));
  });
});

describe('individual file', () => {
  it('is a job of one file, forced by default, with its own report', async () => {
    t.rig = await makeRig();
    populate(t.rig);
    t.jobs = createJobManager(t.rig.rt);
    const one = await t.jobs.start(fileJob(t.rig.rt, 'vs1', '/ifs/vs1/vol1/docs/evil.com')).done;
    expect(one).toMatchObject({ kind: 'file', name: 'MANUAL', checked: 1, scanned: 1, infected: 1 });
    expect(t.rig.rt.store.getReport(one.reportId)).toMatchObject({ filesScanned: 1, infectedCount: 1, state: 'completed' });
    const clean = await t.jobs.start(fileJob(t.rig.rt, 'vs1', { volume: 'vol1', path: 'docs/a.txt' })).done;
    expect(clean).toMatchObject({ scanned: 1, infected: 0 });
    const cached = await t.jobs.start(fileJob(t.rig.rt, 'vs1', { volume: 'vol1', path: 'docs/a.txt' }, { force: false })).done;
    expect(cached).toMatchObject({ scanned: 0, current: 1 });
    expect(() => fileJob(t.rig!.rt, 'vs1', '/ifs/vs1/vol1')).toThrow(expect.objectContaining({ code: FilerErrorCodes.JOB_INVALID }));
  });
});

describe('cancel and restart', () => {
  function many(r: Rig, n: number): void {
    for (let i = 0; i < n; i++) r.put('vol1', `d${String(i % 10)}/f${String(i).padStart(5, '0')}.txt`, `file ${String(i)} ${'x'.repeat(i % 97)}`);
  }

  it('cancel stops the walk, lets scans in flight finish and reports cancelled', async () => {
    t.rig = await makeRig();
    many(t.rig, 3000);
    t.jobs = createJobManager(t.rig.rt, { concurrency: 2 });
    const { id, done } = t.jobs.start(ontapJob(t.rig.rt, 'vs1', { name: 'big', scan_paths: ['/vol1/'] }));
    await vi.waitFor(() => expect(t.jobs!.get(id)!.checked).toBeGreaterThan(20), { timeout: 10_000, interval: 5 });
    const status = await t.jobs.cancel(id);
    expect(await done).toEqual(status);
    expect(status.state).toBe('cancelled');
    expect(status.checked).toBeLessThan(3000);
    expect(t.rig.rt.store.getReport(id)).toMatchObject({ state: 'cancelled', filesScanned: status.scanned + status.current });
    await expect(t.jobs.cancel(id)).rejects.toMatchObject({ code: FilerErrorCodes.JOB_STATE });
    await expect(t.jobs.cancel('nope')).rejects.toMatchObject({ code: FilerErrorCodes.NOT_FOUND });
    expect(t.jobs.list({ state: 'cancelled' }).map((j) => j.id)).toEqual([id]);
  });

  it('a job left running by close() resumes from its checkpoint, counting every file exactly once', async () => {
    t.rig = await makeRig();
    many(t.rig, 2000);
    t.rig.put('vol1', 'd5/zz-evil.com', kEicar);
    t.jobs = createJobManager(t.rig.rt, { concurrency: 2, checkpointEvery: 50 });
    const { id } = t.jobs.start(ontapJob(t.rig.rt, 'vs1', { name: 'big', scan_paths: ['/vol1/'] }));
    await vi.waitFor(() => expect(t.jobs!.get(id)!.checked).toBeGreaterThan(300), { timeout: 10_000, interval: 5 });
    await t.jobs.close();
    const paused = createJobManager(t.rig.rt).get(id)!;
    expect(paused.state).toBe('running');
    expect(paused.checked).toBeGreaterThan(0);
    expect(paused.checked).toBeLessThan(2001);

    t.jobs = createJobManager(t.rig.rt, { concurrency: 2 });
    expect(t.jobs.recover()).toEqual([id]);
    await vi.waitFor(() => expect(t.jobs!.get(id)!.state).toBe('completed'), { timeout: 20_000, interval: 20 });
    const end = t.jobs.get(id)!;
    expect(end.checked).toBe(2001);
    expect(end.scanned + end.current).toBe(2001);
    expect(end.infected).toBe(1);
    expect(t.jobs.infections(id)).toHaveLength(1);
    expect(t.rig.rt.store.getReport(id)).toMatchObject({ state: 'completed', infectedCount: 1 });
  });

  it('with onRestart interrupt, a job left running is reported interrupted', async () => {
    t.rig = await makeRig();
    many(t.rig, 1500);
    t.jobs = createJobManager(t.rig.rt, { concurrency: 1, checkpointEvery: 10 });
    const { id } = t.jobs.start(ontapJob(t.rig.rt, 'vs1', { name: 'big', scan_paths: ['/vol1/'] }));
    await vi.waitFor(() => expect(t.jobs!.get(id)!.checked).toBeGreaterThan(20), { timeout: 10_000, interval: 5 });
    await t.jobs.close();
    t.jobs = createJobManager(t.rig.rt, { onRestart: 'interrupt' });
    expect(t.jobs.recover()).toEqual([id]);
    await vi.waitFor(async () => expect((await t.rig!.rt.store.getReport(id))?.state).toBe('failed'));
    expect(t.jobs.get(id)).toMatchObject({ state: 'interrupted', error: expect.stringContaining('stopped') });
  });

  it('a job that cannot run (its volume is gone after a restart) ends failed, with its report', async () => {
    t.rig = await makeRig();
    many(t.rig, 1500);
    t.jobs = createJobManager(t.rig.rt, { concurrency: 1, checkpointEvery: 10 });
    const { id } = t.jobs.start(ontapJob(t.rig.rt, 'vs1', { name: 'v2', scan_paths: ['/vol2/', '/vol1/'] }));
    await vi.waitFor(() => expect(t.jobs!.get(id)!.checked).toBeGreaterThan(5), { timeout: 10_000, interval: 5 });
    await t.jobs.close();
    const dir = t.rig.dir;
    await t.rig.rt.close();
    t.rig = await makeRig({ dir, svm: { volumes: [{ name: 'vol1' }] } });
    t.jobs = createJobManager(t.rig.rt);
    t.jobs.recover();
    await vi.waitFor(() => expect(t.jobs!.get(id)?.state).toBe('failed'));
    expect(t.jobs.get(id)!.error).toMatch(/vol2/);
    expect(t.rig.rt.store.getReport(id)).toMatchObject({ state: 'failed' });
    await t.jobs.close();
    await t.rig.close();
    t.jobs = t.rig = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('options', () => {
  it('runs 32 scans in flight per job unless told otherwise, and refuses a concurrency that is not a positive integer', async () => {
    t.rig = await makeRig();
    const byDefault = createJobManager(t.rig.rt);
    expect(byDefault.concurrency).toBe(32);
    await byDefault.close();
    t.jobs = createJobManager(t.rig.rt, { concurrency: 3 });
    expect(t.jobs.concurrency).toBe(3);
    for (const bad of [0, -1, 2.5, Number.NaN]) {
      expect(() => createJobManager(t.rig!.rt, { concurrency: bad })).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG }));
    }
  });
});

describe('event loop', () => {
  it('files settled without a scan are fed in slices: the event loop gets a turn every few ms, not once per folder', async () => {
    t.rig = await makeRig();
    // One folder of scan-current files (a second pass): none waits on a scanner, none gives up the thread by itself.
    for (let i = 0; i < 4000; i++) t.rig.put('vol1', `flat/f${String(i).padStart(5, '0')}.txt`, String(i));
    t.jobs = createJobManager(t.rig.rt, { concurrency: 8 });
    const spec = ontapJob(t.rig.rt, 'vs1', { name: 'flat', scan_paths: ['/vol1/'] });
    expect(await t.jobs.start(spec).done).toMatchObject({ state: 'completed', scanned: 4000 });
    let last = performance.now();
    let longest = 0;
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns++;
      if (ticking) setImmediate(tick);
    };
    const t0 = performance.now();
    setImmediate(tick);
    const status = await t.jobs.start(spec).done;
    ticking = false;
    longest = Math.max(longest, performance.now() - last);
    const ms = performance.now() - t0;
    expect(status).toMatchObject({ state: 'completed', checked: 4000, current: 4000 });
    // Slices are 1 ms; the bounds leave room for a loaded machine preempting the thread. Before slicing
    // the folder was fed as one macrotask: 2 turns in all, the loop held for nearly the whole job.
    expect(turns).toBeGreaterThan(10);
    expect(longest).toBeLessThan(Math.max(25, ms / 4));
  });
});
