// The administrator's back end, running inside the filer: one application database beside the
// store, the job manager (jobs a previous life left running are resumed from their checkpoint), the
// scheduler (ONTAP on-demand policies with a `schedule`, the daily on-access report at 00:05 UTC),
// the on-access counter the daily report reads, and the audit log service. The scheduled policies
// follow the configuration: every successful change through the REST API (the server's management
// channel) re-reads the SVMs' on-demand policies, and is recorded as an audit management event.
import diagnostics_channel from 'node:diagnostics_channel';
import type Database from 'better-sqlite3';
import { openNodeAppDb } from '../db/app-db.js';
import { createAuditService, type AuditService } from '../audit/service.js';
import { createJobManager, type JobManager, type JobManagerOptions } from '../jobs/runner.js';
import { ontapJob, onefsJob, type JobSpec } from '../jobs/spec.js';
import { startOnAccessCounter, type OnAccessCounter } from '../reports/counter.js';
import { scheduleDailyReport } from '../reports/daily.js';
import { sweepExpiredReports } from '../reports/expiry.js';
import { writeReportFile } from '../reports/file.js';
import { cronOfOnefs, cronOfOntap } from '../schedule/parse.js';
import { createScheduler, scheduleJob, type JobScheduler } from '../schedule/scheduler.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { kManagementChannel, type ManagementMessage } from '../server/server.js';
import type { OdPolicyDoc } from '../vscan/model.js';
import { getOnefsJob, kOnefsJobKey, listOnefsJobs, markOnefsJobRun } from './onefs-jobs-store.js';
import { readSettings } from './onefs-settings.js';

export interface AdminOptions {
  readonly jobs?: Omit<JobManagerOptions, 'onFinished'>;
  /** Audit log poll period, ms. @default 1000 */
  readonly auditPollMs?: number;
  /** IANA zone schedules are read in. @default the process's zone */
  readonly timezone?: string;
}

export interface AdminServices {
  readonly db: Database.Database;
  readonly jobs: JobManager;
  readonly audit: AuditService;
  readonly scheduler: JobScheduler;
  readonly counter: OnAccessCounter;
  /** Ids of the jobs picked up from a previous life at start. */
  readonly recovered: readonly string[];
  /** Re-reads every SVM's on-demand policies and (re)schedules the ones with a schedule. */
  syncSchedules(): void;
  close(): Promise<void>;
}

/** The on-demand job an ONTAP on-demand policy describes. */
export function policyJob(rt: ManagedRuntime, svm: string, p: OdPolicyDoc): JobSpec {
  return ontapJob(rt, svm, { name: p.name, scan_paths: p.scan_paths, log_path: p.log_path, ...(p.scope ? { scope: p.scope } : {}) });
}

const kPolicyKey = 'ontap/';

export function startAdminServices(rt: ManagedRuntime, options: AdminOptions = {}): AdminServices {
  const db = openNodeAppDb(rt);
  const jobs = createJobManager(rt, {
    ...options.jobs, db,
    // ONTAP on-demand policies also leave their report as a file under `log_path`.
    onFinished: async (status, spec) => {
      if (spec.kind === 'ontap') await writeReportFile(rt, spec, status);
    },
  });
  const audit = createAuditService(rt, { db, ...(options.auditPollMs === undefined ? {} : { pollMs: options.auditPollMs }) }).start();
  const counter = startOnAccessCounter(rt, db);
  const scheduler = createScheduler({
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
  });
  scheduleDailyReport(scheduler, rt, db);
  // OneFS report_expiry: hourly, besides at once when the setting changes.
  scheduler.set('reports/expiry', '23 * * * *', () => sweepExpiredReports(rt.store, readSettings(db).report_expiry));
  const recovered = jobs.recover();

  const syncSchedules = (): void => {
    const wanted = new Map<string, { svm: string; policy: OdPolicyDoc; pattern: string }>();
    for (const s of rt.svms()) {
      for (const p of rt.vscan(s.name).on_demand_policies) {
        if (p.schedule === undefined) continue;
        wanted.set(`${kPolicyKey}${s.name}/${p.name}`, { svm: s.name, policy: p, pattern: cronOfOntap(p.schedule) });
      }
    }
    // OneFS jobs: enabled ones with a schedule, on the same scheduler and job manager.
    const onefs = new Map<string, string>();
    for (const j of listOnefsJobs(db)) {
      if (j.doc.enabled === false || j.doc.schedule === undefined) continue;
      onefs.set(`${kOnefsJobKey}${j.name}`, cronOfOnefs(j.doc.schedule));
    }
    for (const e of scheduler.list()) {
      if (e.key.startsWith(kPolicyKey) && (!wanted.has(e.key) || wanted.get(e.key)!.pattern !== e.pattern)) scheduler.remove(e.key);
      if (e.key.startsWith(kOnefsJobKey) && onefs.get(e.key) !== e.pattern) scheduler.remove(e.key);
    }
    for (const [key, pattern] of onefs) {
      if (scheduler.get(key) !== undefined) continue;
      const name = key.slice(kOnefsJobKey.length);
      // Read again at each run: the job may have been changed (a rename reschedules under the new key).
      scheduleJob(scheduler, jobs, key, pattern, () => {
        const j = getOnefsJob(db, name);
        if (j === undefined) throw new Error(`OneFS job ${name} is gone`);
        return onefsJob(rt, j.zone, j.doc);
      }, () => markOnefsJobRun(db, name, Date.now()));
    }
    for (const [key, w] of wanted) {
      if (scheduler.get(key) !== undefined) continue;
      // The spec is read again at each run: the policy's paths or scope may have changed since.
      scheduleJob(scheduler, jobs, key, w.pattern, () => {
        const now = rt.vscan(w.svm).on_demand_policies.find((p) => p.name === w.policy.name) ?? w.policy;
        return policyJob(rt, w.svm, now);
      });
    }
  };
  syncSchedules();

  const onChange = (m: unknown): void => {
    const change = m as ManagementMessage;
    syncSchedules();
    // A change names its SVM by uuid (ONTAP), or as a zone (OneFS: `?zone=`, a path under
    // `/ifs/<zone>/`, or the zone's filter); one that names none is cluster-wide.
    const named = rt.svms().filter((s) => change.path.includes(s.uuid) || change.path.includes(`/ifs/${s.name}/`) || change.query['zone'] === s.name
      || change.path === `/platform/11/avscan/filters/${encodeURIComponent(s.name)}`);
    const api = change.path.startsWith('/platform/') ? 'onefs' : 'ontap';
    const body = redact(change.body);
    for (const s of named.length > 0 ? named : rt.svms()) {
      void audit.recordManagement(s.name, {
        api, method: change.method, path: change.path, result: change.status,
        ...(change.user === undefined ? {} : { user: change.user }), ...(body === undefined ? {} : { body }),
      });
    }
  };
  diagnostics_channel.subscribe(kManagementChannel, onChange);

  let closing: Promise<void> | undefined;
  return {
    db, jobs, audit, scheduler, counter, recovered, syncSchedules,
    close() {
      closing ??= (async () => {
        diagnostics_channel.unsubscribe(kManagementChannel, onChange);
        scheduler.stop();
        await jobs.close();
        await audit.close();
        counter.close();
        db.close();
      })();
      return closing;
    },
  };
}

const kSecret = /pass|secret|token|key/i;

/** The request body without secrets (a management event is readable by whoever reads the log). */
function redact(body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body;
  if (Array.isArray(body)) return body.map(redact);
  return Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, kSecret.test(k) ? '***' : redact(v)]));
}
