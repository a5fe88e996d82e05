// Reports and threats as plain functions the REST layer and the CLI call: filters and paging over the
// store's reports, and the OneFS PAPI shapes (`/platform/11/antivirus/reports/scans`,
// `/platform/3/antivirus/reports/threats`). Times in the OneFS shapes are epoch seconds, as PAPI's.
import type { InfectionQuery, InfectionRecord, Page, Report, ReportQuery } from '@avscan/store';
import type { FilerStore } from '../model.js';

export type { InfectionQuery, ReportQuery };

export async function listReports(store: FilerStore, query: ReportQuery = {}): Promise<Page<Report>> {
  return await store.listReports(query);
}

export async function getReport(store: FilerStore, id: string): Promise<Report | undefined> {
  return await store.getReport(id);
}

export async function listThreats(store: FilerStore, query: InfectionQuery = {}): Promise<Page<InfectionRecord>> {
  return await store.listInfections(query);
}

/** Store report state → OneFS scan report `status` (inferred names: OneFS does not publish the enum). */
const kOnefsStatus: Readonly<Record<Report['state'], string>> = { running: 'Running', completed: 'Finished', cancelled: 'Cancelled', failed: 'Failed' };

const secs = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));

/** A report in the shape of OneFS `reports/scans` records. */
export function toOnefsScanReport(r: Report): Record<string, unknown> {
  return {
    id: r.id,
    policy_id: r.policy ?? (r.kind === 'on-access-daily' ? 'ON_ACCESS' : 'MANUAL'),
    job_id: r.kind === 'on-demand' ? r.id : null,
    av_service: 'cava',
    status: kOnefsStatus[r.state],
    start: secs(r.startTime),
    end: secs(r.endTime),
    duration: Math.round(r.durationMs / 1000),
    files: r.filesScanned,
    num_files_rev: r.filesScanned,
    num_cloud_files: 0,
    num_cloud_files_rev: 0,
    size: r.totalBytes,
    bytes_sent: r.totalBytes,
    infections: r.infectedCount,
    scan_fails: r.scanFails,
  };
}

/** One infected file in the shape of OneFS `reports/threats` records (one record per threat). */
export function toOnefsThreats(i: InfectionRecord): Array<Record<string, unknown>> {
  const threats = i.threats.length > 0 ? i.threats : ['unknown'];
  return threats.map((threat, k) => ({
    id: `${i.reportId}:${String(i.seq)}${threats.length > 1 ? `:${String(k + 1)}` : ''}`,
    scan_id: i.reportId,
    policy_id: i.policy,
    file: i.filePath,
    threat,
    remediation: i.response,
    time: secs(i.time),
  }));
}
