// Restart safety for real: a child process running a job is SIGKILLed mid-job; a new runtime on the
// same state folder resumes the job from its checkpoint and every file is counted exactly once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it, vi } from 'vitest';
import { createJobManager } from '../../src/index.js';
import { kEicar, makeRig } from './helpers.js';

const child = new URL('../fixtures/job-child.mjs', import.meta.url).pathname;
const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-job-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a job killed with SIGKILL resumes from its checkpoint on restart: every file counted once, every infection listed once', async () => {
  // Lay the tree out with a runtime of this process, then let the child run the job on it.
  const setup = await makeRig({ dir, nodeId: 'node1' });
  const n = 1200;
  for (let i = 0; i < n; i++) setup.put('vol1', `d${String(i % 7)}/f${String(i).padStart(5, '0')}.txt`, `file ${String(i)}`);
  const evil = ['d0/a-evil.com', 'd3/m-evil.com', 'd6/z-evil.com'];
  for (const e of evil) setup.put('vol1', e, kEicar);
  await setup.close();

  const proc = spawn(process.execPath, [child, dir, path.join(dir, 'slow.sock')], { cwd: path.dirname(child), stdio: ['ignore', 'pipe', 'inherit'] });
  const id = await new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      const m = /STARTED (\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
  });
  const peek = new Database(path.join(dir, 'isi_avscan.db'), { readonly: true });
  const checked = (): number => JSON.parse((peek.prepare('SELECT counters FROM od_jobs WHERE id = ?').get(id) as { counters: string }).counters).checked as number;
  await vi.waitFor(() => expect(checked()).toBeGreaterThan(150), { timeout: 30_000, interval: 10 });
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  const atKill = checked();
  peek.close();
  expect(atKill).toBeLessThan(n + evil.length);

  const rig = await makeRig({ dir, nodeId: 'node1' });
  try {
    const jobs = createJobManager(rig.rt, { concurrency: 2 });
    expect(jobs.get(id)).toMatchObject({ state: 'running', checked: atKill });
    expect(jobs.recover()).toEqual([id]);
    await vi.waitFor(() => expect(jobs.get(id)!.state).toBe('completed'), { timeout: 30_000, interval: 20 });
    const end = jobs.get(id)!;
    expect(end.checked).toBe(n + evil.length);
    expect(end.scanned + end.current + end.skipped).toBe(n + evil.length);
    expect(end.infected).toBe(evil.length);
    expect(jobs.infections(id).map((i) => i.filePath).sort()).toEqual(evil.map((e) => `\\vol1\\${e.replace('/', '\\')}`).sort());
    expect(rig.rt.store.getReport(id)).toMatchObject({ state: 'completed', infectedCount: evil.length, filesScanned: end.scanned + end.current });
    await jobs.close();
  } finally {
    await rig.close();
  }
});
