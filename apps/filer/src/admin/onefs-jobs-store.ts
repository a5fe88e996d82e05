// OneFS CAVA jobs (policy-like scans) as the app database keeps them: the job as given, its zone
// (the access zone of its include paths), and when its schedule last started it. They run on the same
// machinery as ONTAP on-demand policies: `onefsJob` makes the spec, the scheduler starts them (key
// `onefs/<name>`), the job manager runs them and writes their reports.
import type Database from 'better-sqlite3';
import type { OnefsJob } from '../jobs/spec.js';

export interface OnefsJobDoc extends OnefsJob {
  readonly description?: string;
  /** @default true */
  readonly enabled?: boolean;
  readonly scan_cloudpool_files?: boolean;
  readonly impact?: string;
}

export interface StoredOnefsJob {
  readonly name: string;
  readonly zone: string;
  readonly doc: OnefsJobDoc;
  readonly lastRun: number | null;
}

export const kOnefsJobKey = 'onefs/';

export function listOnefsJobs(db: Database.Database): StoredOnefsJob[] {
  return (db.prepare('SELECT name, zone, doc, last_run FROM onefs_jobs ORDER BY created, name').all() as Array<{ name: string; zone: string; doc: string; last_run: number | null }>)
    .map((r) => ({ name: r.name, zone: r.zone, doc: JSON.parse(r.doc) as OnefsJobDoc, lastRun: r.last_run }));
}

export function getOnefsJob(db: Database.Database, name: string): StoredOnefsJob | undefined {
  return listOnefsJobs(db).find((j) => j.name === name);
}

/** Saves a job under `name`, replacing the one called `previous` (a rename keeps its creation order). */
export function saveOnefsJob(db: Database.Database, job: StoredOnefsJob, previous?: string): void {
  db.transaction(() => {
    const old = db.prepare('SELECT created, last_run FROM onefs_jobs WHERE name = ?').get(previous ?? job.name) as { created: number; last_run: number | null } | undefined;
    if (previous !== undefined) db.prepare('DELETE FROM onefs_jobs WHERE name = ?').run(previous);
    db.prepare('INSERT INTO onefs_jobs (name, zone, doc, created, last_run) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET zone = excluded.zone, doc = excluded.doc')
      .run(job.name, job.zone, JSON.stringify(job.doc), old?.created ?? Date.now(), old?.last_run ?? null);
  })();
}

export function deleteOnefsJob(db: Database.Database, name?: string): number {
  return (name === undefined ? db.prepare('DELETE FROM onefs_jobs').run() : db.prepare('DELETE FROM onefs_jobs WHERE name = ?').run(name)).changes;
}

export function markOnefsJobRun(db: Database.Database, name: string, at: number): void {
  db.prepare('UPDATE onefs_jobs SET last_run = ? WHERE name = ?').run(at, name);
}
