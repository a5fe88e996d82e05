// On-demand jobs, reports and the audit log with a real clamd behind the filer's engine: the job
// finds what clamd finds, its report and report file carry clamd's threat names, the second pass
// skips every scan-current file, and a client open of an infected file lands in the audit log.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessOf, createAuditService, createJobManager, createStaticRuntime, kActiveLog, ontapJob, resolveInVolume, writeReportFile, type StaticRuntime,
} from '../../src/index.js';
import { kEicar, kMarker, requireBinary, startClamd, type ClamdHandle } from '../../../../test/support/index.js';

const available = requireBinary('clamd');
let dir: string;
let clamd: ClamdHandle;
let rt: StaticRuntime;

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-od-clamd-'));
  clamd = await startClamd();
  rt = await createStaticRuntime({
    stateDir: dir,
    svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }, { name: 'vol2' }], scanner_pools: [{ name: 'clamd', servers: [`clamd+unix://${clamd.socketPath!}`] }] }],
  });
  const root = rt.volume('vs1', 'vol1')!.root;
  for (let i = 0; i < 200; i++) {
    mkdirSync(path.join(root, `d${String(i % 5)}`), { recursive: true });
    writeFileSync(path.join(root, `d${String(i % 5)}`, `f${String(i)}.txt`), `clean file ${String(i)}`);
  }
  writeFileSync(path.join(root, 'd1', 'eicar.com'), kEicar);
  writeFileSync(path.join(root, 'd3', 'marked.doc'), `prefix ${kMarker} suffix`);
  mkdirSync(path.join(rt.volume('vs1', 'vol2')!.root, 'audit'));
});
afterAll(async () => {
  if (!available) return;
  await rt?.close();
  await clamd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)('on-demand job with real clamd', () => {
  it('finds what clamd finds, reports it (store and log_path file), and skips scan-current files the second time', async () => {
    const jobs = createJobManager(rt, { onFinished: async (status, spec) => void (await writeReportFile(rt, spec, status)) });
    try {
      const spec = ontapJob(rt, 'vs1', { name: 'nightly', scan_paths: ['/vol1/'], log_path: '/vol2/' });
      const first = await jobs.start(spec).done;
      expect(first).toMatchObject({ state: 'completed', checked: 202, scanned: 202, infected: 2, failed: 0 });
      const report = (await rt.store.getReport(first.reportId))!;
      expect(report.infections.map((i) => [i.filePath, i.threats])).toEqual([
        ['\\vol1\\d1\\eicar.com', [expect.stringMatching(/^Eicar-Test-Signature/)]],
        ['\\vol1\\d3\\marked.doc', [expect.stringMatching(/^Test\.Seed\.Marker/)]],
      ]);
      const files = readdirSync(rt.volume('vs1', 'vol2')!.root).filter((f) => f.startsWith('nightly-'));
      expect(files).toHaveLength(1);
      expect(readFileSync(path.join(rt.volume('vs1', 'vol2')!.root, files[0]!), 'utf8')).toMatch(/infected: \\vol1\\d1\\eicar\.com\tthreats: Eicar-Test-Signature/);

      const second = await jobs.start(spec).done;
      expect(second).toMatchObject({ state: 'completed', checked: 202, scanned: 0, current: 202, infected: 2 });
    } finally {
      await jobs.close();
    }
  });

  it('a client open of an infected file is an audit data event with clamd\'s threat', async () => {
    const audit = createAuditService(rt, { pollMs: 60_000 }).start();
    try {
      audit.create(rt.svm('vs1')!.uuid, { log_path: '/vol2/audit' });
      writeFileSync(path.join(rt.volume('vs1', 'vol1')!.root, 'fresh.com'), kEicar);
      const answer = await rt.engine('vs1').open(accessOf(resolveInVolume(rt.volume('vs1', 'vol1')!, 'fresh.com')));
      expect(answer).toMatchObject({ allow: false, reason: 'infected' });
      await audit.flush();
      const lines = readFileSync(path.join(rt.volume('vs1', 'vol2')!.root, 'audit', kActiveLog), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([expect.objectContaining({ category: 'data', path: '\\vol1\\fresh.com', decision_id: answer.decisionId, threats: [expect.stringMatching(/^Eicar-Test-Signature/)] })]);
    } finally {
      await audit.close();
    }
  });
});
