// The report file of an ONTAP on-demand policy run, written under the policy's `log_path` (a folder
// of the SVM's namespace). ONTAP's own file format is not public: this one is plain text, one
// `key: value` line per report field and one line per infected file, named
// `<policy>-<UTC start, compact ISO>-<job id prefix>.log` so runs sort by time and never collide.
// Written to a temporary name and renamed, so a reader never sees half a report.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Report } from '@avscan/store';
import type { JobStatus } from '../jobs/runner.js';
import type { JobSpec } from '../jobs/spec.js';
import type { FilerRuntime } from '../model.js';

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

/** The text of a report file. */
export function formatReport(report: Report, status?: JobStatus): string {
  const lines = [
    `Vscan on-demand scan report`,
    `policy: ${report.policy ?? '-'}`,
    `report id: ${report.id}`,
    `state: ${report.state}`,
    `start time: ${iso(report.startTime)}`,
    `end time: ${iso(report.endTime)}`,
    `duration (s): ${(report.durationMs / 1000).toFixed(3)}`,
    `files scanned: ${report.filesScanned}`,
    ...(status ? [`files checked: ${status.checked}`, `files skipped (scope): ${status.skipped}`, `files skipped (scan current): ${status.current}`] : []),
    `total size (bytes): ${report.totalBytes}`,
    `bandwidth (bytes/s): ${report.bandwidthBytesPerSec.toFixed(1)}`,
    `throughput (files/s): ${report.throughputFilesPerSec.toFixed(1)}`,
    `scan failures: ${report.scanFails}`,
    `infected files: ${report.infectedCount}`,
    `configured response: ${report.response ?? '-'}`,
    ...report.infections.map((i) => `infected: ${i.filePath}\tthreats: ${i.threats.join(', ')}\tresponse: ${i.response}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes the report file of a finished ONTAP job whose policy has a `log_path`; returns its path. */
export async function writeReportFile(runtime: FilerRuntime, spec: JobSpec, status: JobStatus): Promise<string | undefined> {
  if (spec.kind !== 'ontap' || spec.logPath === undefined) return undefined;
  const volume = runtime.volume(spec.svm, spec.logPath.volume);
  const report = await runtime.store.getReport(status.reportId);
  if (volume === undefined || report === undefined) return undefined;
  const dir = path.join(volume.root, ...spec.logPath.components);
  mkdirSync(dir, { recursive: true });
  const stamp = new Date(report.startTime).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `${spec.name}-${stamp}-${report.id.slice(0, 8)}.log`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, formatReport(report, status));
  renameSync(tmp, file);
  return file;
}
