// The CLI's on-demand commands against a real filer over HTTPS: `run` follows the job with a
// cli-progress bar (stderr) and prints the job and its report (stdout); `jobs`, `reports`,
// `report <id>` tables; `job <id> --cancel` on an ended job is refused.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminExtension, dataPathExtension, runCli } from '../../src/index.js';
import { kEicar, kPassword, kUser, startTestFiler, type TestFiler } from '../helpers/filer.js';

let t: TestFiler;
beforeAll(async () => {
  t = await startTestFiler({ extensions: [dataPathExtension(), adminExtension()] });
  const svm = t.filer.runtime.svms()[0]!.name;
  const v = t.filer.runtime.volumes(svm).find((x) => !x.readonly)!;
  mkdirSync(path.join(v.root, 'share-docs'), { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(path.join(v.root, 'share-docs', `doc${i}.txt`), `document ${i}\n`.repeat(100));
  writeFileSync(path.join(v.root, 'share-docs', 'invoice.com'), kEicar);
  const r = await t.api.post(`/api/protocols/vscan/${t.uuid}/on-demand-policies`, { name: 'docs', scan_paths: [`/${v.name}/share-docs/`], log_path: `/${v.name}/` });
  expect(r.status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--url', t.filer.url, '--user', kUser, '--password', kPassword, '-k', ...args], {
    stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, env: {},
  });
  return { code, stdout, stderr };
}

describe('on-demand commands', () => {
  let jobId: string;
  it('run <policy>: a progress bar while it runs, then the job and its report; exit 3 when it found infected files', async () => {
    const r = await cli('run', 'docs');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/100% \| 51\/51 files \| 1 infected/);
    const m = /^job (\S+) completed: 51 files checked, 51 scanned, 0 current, 1 infected/m.exec(r.stdout);
    expect(m).not.toBeNull();
    jobId = m![1]!;
    expect(r.stdout).toMatch(/│ Files scanned +│ 51 +│/);
    expect(r.stdout).toMatch(/│ \S*invoice\.com +│ Eicar\S* +│ quarantined/i);
  });

  it('--json run: the job record once it ended; the second run finds the files current', async () => {
    const r = await cli('--json', 'run', 'docs');
    const job = JSON.parse(r.stdout);
    expect(job.state).toBe('completed');
    expect(job.files.current).toBeGreaterThanOrEqual(50);
  });

  it('jobs, reports and report <id> tables', async () => {
    const jobs = await cli('jobs');
    expect(jobs.code).toBe(0);
    expect(jobs.stdout).toContain(jobId);
    expect(jobs.stdout).toMatch(/│ docs +│ ontap +│ completed/);
    const reports = await cli('reports', '--kind', 'on-demand');
    expect(reports.code).toBe(0);
    expect(reports.stdout).toMatch(new RegExp(`│ ${jobId} +│ on-demand +│ docs +│ completed`));
    const one = await cli('report', jobId);
    expect(one.stdout).toMatch(/│ Infected +│ 1 +│/);
  });

  it('job <id> --cancel on an ended job: the API refuses (409), exit 1', async () => {
    const r = await cli('job', jobId, '--cancel');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already|not running|ended/i);
  });
});
