// A OneFS CAVA job with a schedule fires at its time on a fake clock, like the ONTAP schedule tests:
// the admin services (scheduler, job manager, reports) on a managed runtime with the built-in scanner,
// the job created as the PAPI route creates it, then the clock moved to Thursday 01:00 UTC.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { createManagedRuntime, startAdminServices, type AdminServices, type ManagedRuntime } from '../src/index.js';
import { createOnefsJob } from '../src/admin/onefs-jobs.js';
import { getOnefsJob } from '../src/admin/onefs-jobs-store.js';
import { kEicar } from './helpers/filer.js';

/** The real setTimeout, taken before any test fakes it: real time for the parts that pace by it. */
const kRealSetTimeout = globalThis.setTimeout;
const realSleep = (ms: number): Promise<void> => new Promise((r) => kRealSetTimeout(r, ms));
let rt: ManagedRuntime | undefined;
let services: AdminServices | undefined;
let dir: string | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await services?.close();
  await rt?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  rt = services = dir = undefined;
});

it('fires `every Thursday at 01:00` at its time: the job runs, reports, and its last_scheduled_run is set', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-onefs-sched-'));
  rt = await createManagedRuntime({
    stateDir: dir, labMode: true,
    svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }], vscan: { scanner_pools: [{ name: 'p1', servers: ['builtin:'], privileged_users: ['LAB\\av'] }] } }],
  });
  const root = rt.volume('vs1', 'vol1')!.root;
  mkdirSync(path.join(root, 'in'), { recursive: true });
  writeFileSync(path.join(root, 'in', 'a.txt'), 'a');
  writeFileSync(path.join(root, 'in', 'evil.com'), kEicar);
  services = startAdminServices(rt, { timezone: 'UTC' });
  expect(createOnefsJob(rt, services.db, { job_name: 'thu', paths_to_include: ['/ifs/vs1/vol1/in/'], schedule: 'every Thursday at 01:00' })).toBe('thu');

  // 2026-01-01 is a Thursday; the clock stands at 00:30 UTC when the schedule is read.
  vi.useFakeTimers({ now: new Date('2026-01-01T00:30:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  services.syncSchedules();
  expect(services.scheduler.get('onefs/thu')!.next).toEqual(new Date('2026-01-01T01:00:00Z'));
  await vi.advanceTimersByTimeAsync(29 * 60 * 1000);
  expect(services.jobs.list({ svm: 'vs1' }).filter((j) => j.name === 'thu')).toHaveLength(0);
  await vi.advanceTimersByTimeAsync(60 * 1000);
  const started = services.jobs.list({ svm: 'vs1' }).filter((j) => j.name === 'thu');
  expect(started).toHaveLength(1);
  expect(started[0]).toMatchObject({ kind: 'onefs' });
  expect(getOnefsJob(services.db, 'thu')!.lastRun).toBe(Date.parse('2026-01-01T01:00:00Z'));
  // Let the job finish: the fake clock drives the store's and dispatcher's timers; real time passes
  // too, for what paces itself by performance.now().
  for (let i = 0; i < 1000 && services.jobs.get(started[0]!.id)!.state === 'running'; i++) {
    await vi.advanceTimersByTimeAsync(5);
    await realSleep(2);
  }
  expect(services.jobs.get(started[0]!.id)).toMatchObject({ state: 'completed', checked: 2, scanned: 2, infected: 1 });
  expect(rt.store.getReport(started[0]!.reportId)).toMatchObject({ policy: 'thu', filesScanned: 2, infectedCount: 1 });
  expect(services.scheduler.get('onefs/thu')!.next).toEqual(new Date('2026-01-08T01:00:00Z'));
});

it('the admin services (jobs, audit, reports) share one app connection that leaves WAL checkpoints to the SQLite store', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-onefs-sched-'));
  rt = await createManagedRuntime({ stateDir: dir, labMode: true, svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }] }] });
  services = startAdminServices(rt, { timezone: 'UTC' });
  // SQLite's default (1000 pages) would run a checkpoint on the event loop inside an app commit.
  expect(services.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
});
