// OneFS CAVA jobs over HTTP (`/platform/11/avscan/jobs[/{name}]`): a OneFS job is checked by the
// same `onefsJob` that turns it into a job spec (paths under /ifs/<zone>/, extensions, action) and
// its schedule by `cronOfOnefs`; it is kept by onefs-jobs-store. A zone's ONTAP on-demand policies
// are listed beside them (onefsJobView, onefs-config-routes); those are changed through the ONTAP API, and deleted by
// either.
import type Database from 'better-sqlite3';
import { onefsJob } from '../jobs/spec.js';
import { pathComponents } from '../paths.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { cronOfOnefs } from '../schedule/parse.js';
import { OntapCodes, OntapError, badField } from '../server/ontap-error.js';
import { boolOf, listOf, objectOf, oneOf, strOf, type Body } from './onefs-body.js';
import { getOnefsJob, saveOnefsJob, type OnefsJobDoc, type StoredOnefsJob } from './onefs-jobs-store.js';

const kJobFields = ['job_name', 'description', 'enabled', 'paths_to_include', 'paths_to_exclude', 'file_extensions', 'file_extension_action',
  'scan_if_no_extension', 'scan_cloudpool_files', 'ignore_previous_scan_status', 'impact', 'schedule'];

export function onefsJobRecord(j: StoredOnefsJob): Record<string, unknown> {
  const d = j.doc;
  return {
    id: j.name, job_name: j.name, description: d.description ?? '', enabled: d.enabled ?? true,
    paths_to_include: [...d.paths_to_include], paths_to_exclude: [...(d.paths_to_exclude ?? [])],
    file_extensions: [...(d.file_extensions ?? [])], file_extension_action: d.file_extension_action ?? 'include',
    scan_if_no_extension: d.scan_if_no_extension ?? true, scan_cloudpool_files: d.scan_cloudpool_files ?? false,
    ignore_previous_scan_status: d.ignore_previous_scan_status ?? false, impact: d.impact ?? null, schedule: d.schedule ?? null,
    last_scheduled_run: j.lastRun === null ? null : Math.floor(j.lastRun / 1000), zone: j.zone,
  };
}

/** The fields of a body, typed; absent ones stay absent (a PUT keeps the job's). */
function fieldsOf(b: Body): Partial<OnefsJobDoc> {
  const out: Record<string, unknown> = {};
  const set = (k: string, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  set('description', strOf(b, 'description', 0, 255));
  set('enabled', boolOf(b, 'enabled'));
  set('paths_to_include', listOf(b, 'paths_to_include', 100, 4096));
  set('paths_to_exclude', listOf(b, 'paths_to_exclude', 100, 4096));
  set('file_extensions', listOf(b, 'file_extensions', 100));
  set('file_extension_action', oneOf(b, 'file_extension_action', ['include', 'exclude'] as const));
  set('scan_if_no_extension', boolOf(b, 'scan_if_no_extension'));
  set('scan_cloudpool_files', boolOf(b, 'scan_cloudpool_files'));
  set('ignore_previous_scan_status', boolOf(b, 'ignore_previous_scan_status'));
  set('impact', strOf(b, 'impact', 1, 255));
  // An empty schedule (or null) means none.
  if (b['schedule'] !== undefined && b['schedule'] !== null && b['schedule'] !== '') set('schedule', strOf(b, 'schedule', 1, 255));
  if (b['schedule'] === null || b['schedule'] === '') out['schedule'] = null;
  return out as Partial<OnefsJobDoc>;
}

/** Checks a whole job (its spec and schedule) and finds its zone. */
function checked(rt: ManagedRuntime, doc: OnefsJobDoc): { zone: string; doc: OnefsJobDoc } {
  const first = doc.paths_to_include?.[0];
  const parts = first === undefined ? [] : pathComponents(first);
  if (parts[0] !== 'ifs' || parts[1] === undefined || rt.svm(parts[1]) === undefined) {
    throw badField('`paths_to_include` must name paths under /ifs/<zone>/ of one known access zone', 'paths_to_include');
  }
  const zone = parts[1];
  onefsJob(rt, zone, doc);
  if (doc.schedule !== undefined && doc.schedule !== null) cronOfOnefs(doc.schedule);
  const clean = Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null)) as unknown as OnefsJobDoc;
  return { zone, doc: clean };
}

function taken(rt: ManagedRuntime, db: Database.Database, name: string): boolean {
  return getOnefsJob(db, name) !== undefined || rt.svms().some((s) => rt.vscan(s.name).on_demand_policies.some((p) => p.name === name));
}

export function createOnefsJob(rt: ManagedRuntime, db: Database.Database, body: unknown): string {
  const b = objectOf(body, kJobFields);
  const name = strOf(b, 'job_name', 1, 255);
  if (name === undefined) throw badField('`job_name` is required', 'job_name');
  if (b['paths_to_include'] === undefined) throw badField('`paths_to_include` is required', 'paths_to_include');
  const { zone, doc } = checked(rt, { ...fieldsOf(b), job_name: name } as OnefsJobDoc);
  if (taken(rt, db, name)) throw new OntapError(409, OntapCodes.DUPLICATE, `a job \`${name.slice(0, 80)}\` already exists`, 'job_name');
  saveOnefsJob(db, { name, zone, doc, lastRun: null });
  return name;
}

/** PUT: the given fields replace the job's; `new_name` renames it. */
export function modifyOnefsJob(rt: ManagedRuntime, db: Database.Database, cur: StoredOnefsJob, body: unknown): void {
  const b = objectOf(body, [...kJobFields.filter((k) => k !== 'job_name'), 'new_name']);
  const newName = strOf(b, 'new_name', 1, 255);
  const name = newName ?? cur.name;
  const { zone, doc } = checked(rt, { ...cur.doc, ...fieldsOf(b), job_name: name } as OnefsJobDoc);
  if (name !== cur.name && taken(rt, db, name)) throw new OntapError(409, OntapCodes.DUPLICATE, `a job \`${name.slice(0, 80)}\` already exists`, 'new_name');
  saveOnefsJob(db, { name, zone, doc, lastRun: cur.lastRun }, cur.name);
}
