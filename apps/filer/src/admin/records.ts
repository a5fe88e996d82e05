// REST shapes of on-demand jobs and reports (ONTAP has no public Vscan job or report API: these
// follow ONTAP's conventions — snake_case, `svm {name, uuid}`, ISO-8601 times, `_links.self`).
import type { Report } from '@avscan/store';
import type { JobStatus } from '../jobs/runner.js';
import type { SvmModel } from '../model.js';
import { fieldsOf, type FieldSet } from '../api/query.js';
import { kApi } from '../api/records.js';

type Rec = Record<string, unknown>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const enc = encodeURIComponent;

export const jobHref = (svm: SvmModel, id: string): string => `${kApi}/${svm.uuid}/jobs/${enc(id)}`;
export const reportHref = (id: string): string => `${kApi}/reports/${enc(id)}`;

export function jobRecord(svm: SvmModel, s: JobStatus): Rec {
  return {
    uuid: s.id,
    svm: { name: svm.name, uuid: svm.uuid },
    name: s.name,
    kind: s.kind,
    state: s.state,
    start_time: iso(s.startTime),
    end_time: iso(s.endTime),
    elapsed: round(s.elapsedMs / 1000),
    files: { total: s.total, checked: s.checked, scanned: s.scanned, skipped: s.skipped, current: s.current, infected: s.infected, failed: s.failed },
    bytes: s.bytes,
    rate: { files_per_sec: round(s.filesPerSec), bytes_per_sec: Math.round(s.bytesPerSec) },
    eta: s.etaMs === null ? null : round(s.etaMs / 1000),
    percent: s.total === null ? null : s.total === 0 ? 100 : Math.min(100, round((s.checked / s.total) * 100)),
    error: s.error,
    report: { id: s.reportId, _links: { self: { href: reportHref(s.reportId) } } },
    _links: { self: { href: jobHref(svm, s.id) } },
  };
}

export function reportRecord(r: Report, svm?: SvmModel): Rec {
  return {
    id: r.id,
    kind: r.kind,
    policy: r.policy,
    ...(svm === undefined ? {} : { svm: { name: svm.name, uuid: svm.uuid } }),
    state: r.state,
    start_time: iso(r.startTime),
    end_time: iso(r.endTime),
    duration: round(r.durationMs / 1000),
    files_scanned: r.filesScanned,
    total_bytes: r.totalBytes,
    scan_fails: r.scanFails,
    infected_count: r.infectedCount,
    bandwidth: Math.round(r.bandwidthBytesPerSec),
    throughput: round(r.throughputFilesPerSec),
    response: r.response,
    infected_files: r.infections.map((i) => ({ path: i.filePath, threats: [...i.threats], response: i.response, time: iso(i.time) })),
    _links: { self: { href: reportHref(r.id) } },
  };
}

const sampleSvm: SvmModel = { name: 's', uuid: 'u', cifsServer: true };
const sampleStatus: JobStatus = {
  id: 'j', svm: 's', name: 'n', kind: 'ontap', state: 'running', startTime: 0, endTime: 0, elapsedMs: 0, total: 0, filesPerSec: 0, bytesPerSec: 0,
  etaMs: 0, reportId: 'j', error: null, checked: 0, scanned: 0, skipped: 0, current: 0, infected: 0, failed: 0, bytes: 0,
};
const sampleReport: Report = {
  id: 'r', kind: 'on-demand', policy: 'p', startTime: 0, endTime: 0, durationMs: 0, filesScanned: 0, totalBytes: 0, scanFails: 0, infectedCount: 0,
  bandwidthBytesPerSec: 0, throughputFilesPerSec: 0, state: 'completed', response: null, infections: [],
};

export const kJobFields: FieldSet = { all: fieldsOf(jobRecord(sampleSvm, sampleStatus)), keys: ['uuid', 'svm.name', 'svm.uuid', 'name', 'state'] };
export const kReportFields: FieldSet = { all: fieldsOf(reportRecord(sampleReport, sampleSvm)), keys: ['id', 'kind', 'policy', 'state'] };
