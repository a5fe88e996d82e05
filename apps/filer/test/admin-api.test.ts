// The administrator's REST API over real HTTPS, on a filer whose back end (jobs, scheduler, reports,
// audit log) runs inside it: run a policy now and follow the job, scan one file, cancel, reports
// with ONTAP's collection conventions, the daily on-access report on demand, the audit log
// configuration of seed 001 with its error codes, and management events written to the log.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminExtension, dataPathExtension, kActiveLog, type AdminExtension } from '../src/index.js';
import { expectOntapError, kEicar, startTestFiler, type Client, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
let admin: AdminExtension;

let base: string;
let root: string;
let vol: string;
beforeAll(async () => {
  admin = adminExtension({ auditPollMs: 50 });
  t = await startTestFiler({ extensions: [dataPathExtension(), admin] });
  base = `/api/protocols/vscan/${t.uuid}`;
  const svm = t.filer.runtime.svms()[0]!.name;
  const v = t.filer.runtime.volumes(svm).find((x) => !x.readonly)!;
  vol = v.name;
  root = v.root;
  mkdirSync(path.join(root, 'tree', 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(root, 'tree', i % 2 ? 'sub' : '', `f${i}.txt`), `clean file ${i}\n`);
  writeFileSync(path.join(root, 'tree', 'sub', 'eicar.com'), kEicar);
  mkdirSync(path.join(root, 'reports'), { recursive: true });
  mkdirSync(path.join(root, 'audit'), { recursive: true });
});
afterAll(async () => {
  await t?.close();
  // A restarted filer keeps its folder: remove it here.
  if (t !== undefined) rmSync(t.dir, { recursive: true, force: true });
});

/** Polls a job until it leaves `running` (the condition, not a fixed sleep). */
async function finished(api: Client, href: string): Promise<any> {
  for (;;) {
    const r = await api.get(href);
    expect(r.status).toBe(200);
    if (r.body.state !== 'running') return r.body;
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('on-demand runs and jobs', () => {
  it('POST …/on-demand-policies/{name}/run: 202 with a job link; the job ends with counts, rate, ETA and a report (and its file under log_path)', async () => {
    const created = await t.api.post(`${base}/on-demand-policies`, { name: 'tree_now', scan_paths: [`/${vol}/tree/`], log_path: `/${vol}/reports/` });
    expect(created.status).toBe(201);
    const run = await t.api.post(`${base}/on-demand-policies/tree_now/run`);
    expect(run.status).toBe(202);
    const href = run.body.job._links.self.href as string;
    expect(run.headers['location']).toBe(href);
    expect(href).toBe(`${base}/jobs/${run.body.job.uuid}`);
    const job = await finished(t.api, href);
    expect(job).toMatchObject({
      uuid: run.body.job.uuid, name: 'tree_now', kind: 'ontap', state: 'completed', eta: 0, percent: 100,
      files: { total: 21, checked: 21, scanned: 21, infected: 1, failed: 0 }, svm: { uuid: t.uuid },
    });
    expect(job.bytes).toBeGreaterThan(0);
    expect(typeof job.rate.files_per_sec).toBe('number');
    const report = await t.api.get(job.report._links.self.href);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ id: job.uuid, kind: 'on-demand', policy: 'tree_now', state: 'completed', files_scanned: 21, infected_count: 1, svm: { uuid: t.uuid } });
    expect(report.body.infected_files).toHaveLength(1);
    expect(report.body.infected_files[0].path).toMatch(/eicar\.com$/);
    expect(report.body.infected_files[0].threats[0]).toMatch(/eicar/i);
    expect(readdirSync(path.join(root, 'reports')).length).toBe(1);
  });

  it('a second run skips the scan-current files; its report counts what its status shows', async () => {
    const run = await t.api.post(`${base}/on-demand-policies/tree_now/run`);
    const job = await finished(t.api, run.body.job._links.self.href);
    // The quarantined EICAR's verdict is current too: 21 processed, none rescanned, 1 infected.
    expect(job.files).toMatchObject({ checked: 21, scanned: 0, current: 21, skipped: 0, infected: 1 });
    const report = (await t.api.get(job.report._links.self.href)).body;
    expect(report).toMatchObject({ files_scanned: job.files.scanned + job.files.current, infected_count: job.files.infected });
    const onefs = (await t.api.get(`/platform/11/antivirus/reports/scans/${job.report.id}`)).body.reports[0];
    expect(onefs).toMatchObject({ files: 21, infections: 1 });
  });

  it('POST …/scan: one file as a job of one file, rescanned even when current', async () => {
    const run = await t.api.post(`${base}/scan`, { path: `/${vol}/tree/f0.txt` });
    expect(run.status).toBe(202);
    const job = await finished(t.api, run.body.job._links.self.href);
    expect(job).toMatchObject({ kind: 'file', state: 'completed', files: { scanned: 1, infected: 0 } });
    expectOntapError(await t.api.post(`${base}/scan`, { path: 'relative' }), 400, '2');
    expectOntapError(await t.api.post(`${base}/scan`, { path: `/${vol}/x`, extra: 1 }), 400, '2');
  });

  it('jobs list with ONTAP conventions; cancel a finished job is 409; PATCH only to cancelled; unknown policy or job 404', async () => {
    const list = await t.api.get(`${base}/jobs?name=tree_now&fields=state,files.scanned&max_records=1`);
    expect(list.status).toBe(200);
    expect(list.body.num_records).toBe(1);
    expect(list.body.records[0]).toMatchObject({ state: 'completed' });
    expect(list.body._links.next.href).toContain('start.offset=1');
    const id = list.body.records[0].uuid as string;
    expectOntapError(await t.api.del(`${base}/jobs/${id}`), 409, '2');
    expectOntapError(await t.api.patch(`${base}/jobs/${id}`, { state: 'running' }), 400, '2');
    expectOntapError(await t.api.get(`${base}/jobs/nope`), 404, '4');
    expectOntapError(await t.api.post(`${base}/on-demand-policies/nope/run`), 404, '4');
  });

  it('DELETE cancels a running job', async () => {
    mkdirSync(path.join(root, 'big'), { recursive: true });
    for (let i = 0; i < 3000; i++) writeFileSync(path.join(root, 'big', `b${i}.txt`), `b${i}`);
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'big', scan_paths: [`/${vol}/big/`], log_path: `/${vol}/reports/` })).status).toBe(201);
    const run = await t.api.post(`${base}/on-demand-policies/big/run`);
    const del = await t.api.del(run.body.job._links.self.href);
    expect(del.status).toBe(200);
    expect(del.body.records[0].state).toBe('cancelled');
    expect(del.body.records[0].files.checked).toBeLessThan(3000);
  });
});

describe('restart', () => {
  it('a job running when the filer stops is resumed from its checkpoint by the next start and completes', async () => {
    mkdirSync(path.join(root, 'resume'), { recursive: true });
    for (let i = 0; i < 2000; i++) writeFileSync(path.join(root, 'resume', `r${i}.txt`), `r${i}`);
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'resume', scan_paths: [`/${vol}/resume/`], log_path: `/${vol}/reports/` })).status).toBe(201);
    const run = await t.api.post(`${base}/on-demand-policies/resume/run`);
    const href = run.body.job._links.self.href as string;
    for (;;) {
      const r = await t.api.get(href);
      if (r.body.files.checked > 0) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    // The same extension instances start again: the admin extension starts fresh services.
    t = await t.restart();
    expect(admin.services()!.recovered).toContain(run.body.job.uuid);
    const job = await finished(t.api, href);
    expect(job).toMatchObject({ state: 'completed', files: { checked: 2000, total: 2000 } });
  });
});

describe('schedules follow the configuration', () => {
  it('a policy with a schedule is scheduled at its time; removing the schedule unschedules it; one per SVM (10027255)', async () => {
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'nightly', scan_paths: [`/${vol}/tree/`], log_path: `/${vol}/reports/`, schedule: { name: 'daily' } })).status).toBe(201);
    const key = `ontap/${t.filer.runtime.svms()[0]!.name}/nightly`;
    expect(admin.services()!.scheduler.get(key)).toMatchObject({ pattern: '10 0 * * *' });
    expect(admin.services()!.scheduler.get(key)!.next).toBeInstanceOf(Date);
    expectOntapError(await t.api.post(`${base}/on-demand-policies`, { name: 'other', scan_paths: [`/${vol}/`], log_path: `/${vol}/`, schedule: { name: 'hourly' } }), 409, '10027255');
    expect((await t.api.del(`${base}/on-demand-policies/nightly`)).status).toBe(200);
    expect(admin.services()!.scheduler.get(key)).toBeUndefined();
  });
});

describe('reports', () => {
  it('list with filters and paging; get one; 404', async () => {
    const r = await t.api.get('/api/protocols/vscan/reports?kind=on-demand&policy=tree_now&fields=*&order_by=start_time');
    expect(r.status).toBe(200);
    expect(r.body.num_records).toBe(2);
    expect(r.body.records[0]).toMatchObject({ policy: 'tree_now', files_scanned: 21, infected_count: 1 });
    const paged = await t.api.get('/api/protocols/vscan/reports?kind=on-demand&max_records=1');
    expect(paged.body.num_records).toBe(1);
    expect(paged.body._links.next).toBeDefined();
    expectOntapError(await t.api.get('/api/protocols/vscan/reports/nope'), 404, '4');
    expectOntapError(await t.api.get('/api/protocols/vscan/reports?bogus=1'), 400, '2');
  });

  it('POST …/reports/on-access builds the daily on-access report of a day', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const r = await t.api.post('/api/protocols/vscan/reports/on-access', { day });
    expect(r.status).toBe(201);
    expect(r.body.records[0]).toMatchObject({ id: `on-access-${day}`, kind: 'on-access-daily', state: 'completed' });
    expectOntapError(await t.api.post('/api/protocols/vscan/reports/on-access', { day: 'yesterday' }), 400, '2');
  });
});

describe('audit log configuration (seed 001)', () => {
  const audit = (): string => `/api/protocols/audit/${t.uuid}/object-store`;

  it('POST with the seed defaults (202, return_records), GET one and the collection with filters', async () => {
    const r = await t.api.post(`${audit()}?return_records=true`, { log_path: `/${vol}/audit` });
    expect(r.status).toBe(202);
    expect(r.body.records[0]).toMatchObject({ enabled: true, events: { data: true, management: false }, log: { format: 'json', rotation: { size: 100 * 1024 * 1024 } }, log_path: `/${vol}/audit` });
    expect((await t.api.get(audit())).body).toMatchObject({ svm: { uuid: t.uuid }, enabled: true });
    expect((await t.api.get('/api/protocols/audit/*/object-store?enabled=true')).body.num_records).toBe(1);
    expect((await t.api.get('/api/protocols/audit/*/object-store?events.management=true')).body.num_records).toBe(0);
  });

  it("the seed's error codes", async () => {
    expectOntapError(await t.api.post(audit(), { log_path: `/${vol}/audit` }), 409, '140902402');
    expectOntapError(await t.api.patch(audit(), { log: { rotation: { size: 1000 } } }), 400, '140902460');
    expectOntapError(await t.api.patch(audit(), { log_path: `/${vol}/missing` }), 400, '140902456');
    expectOntapError(await t.api.del(audit()), 409, '140902421');
    expectOntapError(await t.api.get('/api/protocols/audit/00000000-0000-0000-0000-000000000000/object-store'), 404, '9699340');
  });

  it('with events.management on, a configuration change through the REST API is written to the audit log (password-like fields redacted)', async () => {
    expect((await t.api.patch(audit(), { events: { management: true } })).status).toBe(202);
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'audited', scan_paths: [`/${vol}/tree/`], log_path: `/${vol}/reports/` })).status).toBe(201);
    const s = admin.services()!;
    await s.audit.flush();
    const log = path.join(root, 'audit', kActiveLog);
    expect(existsSync(log)).toBe(true);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const ev = lines.find((l) => JSON.stringify(l).includes('/on-demand-policies') && JSON.stringify(l).includes('audited'));
    expect(ev).toBeDefined();
    expect(JSON.stringify(ev)).toContain('POST');
    // Through the OneFS API too: the zone is named by the file's /ifs path.
    const svm = t.filer.runtime.svms()[0]!.name;
    const put = await t.api.raw('PUT', `/platform/3/antivirus/quarantine/ifs/${svm}/${vol}/tree/f0.txt`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ quarantined: false }) });
    expect(put.status).toBe(204);
    await s.audit.flush();
    const onefs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).find((l) => JSON.stringify(l).includes('/platform/3/antivirus/quarantine'));
    expect(JSON.stringify(onefs)).toContain('onefs');
  });

  it('DELETE after disabling (or with force=true) removes the configuration', async () => {
    expect((await t.api.patch(audit(), { enabled: false })).status).toBe(202);
    expect((await t.api.del(audit())).status).toBe(202);
    expectOntapError(await t.api.get(audit()), 404, '4');
  });
});
