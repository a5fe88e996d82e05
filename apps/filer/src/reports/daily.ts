// The daily on-access report (OneFS: "a report every 24 hours that includes all on-access scans that
// occurred during the previous day"): one `on-access-daily` report per UTC day, id
// `on-access-<YYYY-MM-DD>`, rebuilt whole when asked again (so a late run, or one on demand, replaces
// it). Files, bytes and failures come from the on-access counter; infected files, threats and the
// response taken from the store's committed `file.infected` events of that day (on-demand jobs'
// infections are excluded: they are in the jobs' own reports).
import type Database from 'better-sqlite3';
import { Store, type Report } from '@avscan/store';
import type { FilerRuntime } from '../model.js';
import type { JobScheduler } from '../schedule/scheduler.js';
import { utcDay } from './counter.js';

const kDayMs = 24 * 60 * 60 * 1000;

export function dailyReportId(day: string): string {
  return `on-access-${day}`;
}

/**
 * Builds (or rebuilds) the on-access report of `day` (`YYYY-MM-DD`, UTC; @default yesterday by
 * `clock`) and returns it. `file.infected` events carry no scan origin, so an infected file that an
 * on-demand job of that day found (its job infections) is left out: the job's report lists it.
 */
export async function buildDailyReport(
  runtime: FilerRuntime,
  db: Database.Database,
  options: { readonly day?: string; readonly clock?: () => number } = {},
): Promise<Report> {
  const now = (options.clock ?? Date.now)();
  const day = options.day ?? utcDay(now - kDayMs);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new RangeError(`day must be YYYY-MM-DD, got ${day}`);
  const start = Date.parse(`${day}T00:00:00Z`);
  const end = start + kDayMs - 1;
  const store = runtime.store;
  const totals = db.prepare('SELECT coalesce(sum(files), 0) AS files, coalesce(sum(bytes), 0) AS bytes, coalesce(sum(fails), 0) AS fails FROM onaccess_daily WHERE day = ?')
    .get(day) as { files: number; bytes: number; fails: number };
  // Infections found by on-demand jobs that day: the job's report has them.
  const byJobs = new Set(
    (db.prepare('SELECT file_path, time FROM od_job_infections WHERE time BETWEEN ? AND ?').all(start, end + 60_000) as Array<{ file_path: string }>)
      .map((r) => r.file_path),
  );
  const svms = new Set(runtime.svms().map((s) => s.name));
  // On a shared (PostgreSQL) store every node reports its own day: the counters are the node's, so
  // are the infections it found, and the id names the node so two nodes never rewrite one report.
  const shared = !(store instanceof Store);
  const id = shared ? `${dailyReportId(day)}@${store.nodeId}` : dailyReportId(day);
  await store.deleteReport(id);
  await store.createReport({ kind: 'on-access-daily', id, startTime: start });
  await store.addReportProgress(id, { files: totals.files, bytes: totals.bytes, fails: totals.fails });
  let cursor: string | undefined;
  do {
    const page = await store.queryEvents({ type: 'file.infected', since: start, until: end, maxRecords: 1000, ...(shared ? { node: store.nodeId } : {}), ...(cursor ? { cursor } : {}) });
    for (const e of page.records) {
      if (e.svm === null || !svms.has(e.svm) || e.filePath === null || byJobs.has(e.filePath)) continue;
      const d = (e.details ?? {}) as { threats?: string[]; response?: string };
      await store.addReportInfection(id, { filePath: e.filePath, threats: d.threats ?? [], response: d.response ?? 'quarantined', time: e.time });
    }
    cursor = page.next;
  } while (cursor !== undefined);
  return await store.finishReport(id, 'completed', end + 1);
}

/** Builds yesterday's report every day at 00:05 UTC (OneFS: "every 24 hours"). */
export function scheduleDailyReport(scheduler: JobScheduler, runtime: FilerRuntime, db: Database.Database): void {
  scheduler.set('reports/on-access-daily', '5 0 * * *', () => buildDailyReport(runtime, db));
}
