// The OneFS antivirus PAPI over real HTTPS, beside the ONTAP API on the same filer: session login
// with isisessid/isicsrf cookies, the individual-file scan, scan reports and threats in OneFS's
// shapes, and a zone's CAVA jobs as the view of its ONTAP on-demand policies.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminExtension, dataPathExtension } from '../src/index.js';
import { expectPapiError, kEicar, kPassword, kUser, startTestFiler, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
let svm: string;
let vol: string;
beforeAll(async () => {
  t = await startTestFiler({ extensions: [dataPathExtension(), adminExtension()] });
  svm = t.filer.runtime.svms()[0]!.name;
  const v = t.filer.runtime.volumes(svm).find((x) => !x.readonly)!;
  vol = v.name;
  mkdirSync(path.join(v.root, 'in'), { recursive: true });
  writeFileSync(path.join(v.root, 'in', 'eicar.com'), kEicar);
  writeFileSync(path.join(v.root, 'in', 'clean.txt'), 'clean\n');
});
afterAll(async () => {
  await t?.close();
});

const cookies = (setCookie: string | string[] | undefined): Record<string, string> =>
  Object.fromEntries([setCookie ?? []].flat().map((c) => c.split(';')[0]!.split('=') as [string, string]));

describe('session login (§3.4)', () => {
  it('POST /session/1/session: 201 with isisessid and isicsrf cookies; the cookie authenticates, a change also needs X-CSRF-Token', async () => {
    const login = await t.api.raw('POST', '/session/1/session', {
      auth: null, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: kUser, password: kPassword, services: ['platform', 'namespace'] }),
    });
    expect(login.status).toBe(201);
    expect(login.body).toMatchObject({ timeout_absolute: expect.any(Number), timeout_inactive: expect.any(Number) });
    const c = cookies(login.headers['set-cookie']);
    expect(c['isisessid']).toMatch(/^[\w-]{20,}$/);
    expect(c['isicsrf']).toMatch(/^[\w-]{20,}$/);
    const cookie = `isisessid=${c['isisessid']}`;
    expect((await t.api.raw('GET', '/platform/11/avscan/jobs', { auth: null, headers: { cookie } })).status).toBe(200);
    const scan = JSON.stringify({ file: `/ifs/${svm}/${vol}/in/clean.txt` });
    expectPapiError(await t.api.raw('POST', '/platform/11/antivirus/scan', { auth: null, headers: { cookie, 'content-type': 'application/json' }, body: scan }), 401, 'AEC_UNAUTHORIZED');
    const ok = await t.api.raw('POST', '/platform/11/antivirus/scan', { auth: null, headers: { cookie, 'x-csrf-token': c['isicsrf']!, 'content-type': 'application/json' }, body: scan });
    expect(ok.status).toBe(200);
    expect((await t.api.raw('DELETE', '/session/1/session', { auth: null, headers: { cookie, 'x-csrf-token': c['isicsrf']! } })).status).toBe(204);
    expectPapiError(await t.api.raw('GET', '/platform/11/avscan/jobs', { auth: null, headers: { cookie } }), 401, 'AEC_UNAUTHORIZED');
  });

  it('wrong password 401; missing fields 400; no session and no Basic 401', async () => {
    const post = (body: unknown) => t.api.raw('POST', '/session/1/session', { auth: null, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expectPapiError(await post({ username: kUser, password: 'nope' }), 401, 'AEC_UNAUTHORIZED');
    expectPapiError(await post({ username: kUser }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.raw('GET', '/platform/11/avscan/jobs', { auth: null, headers: { cookie: 'isisessid=forged' } }), 401, 'AEC_UNAUTHORIZED');
  });
});

describe('individual-file scan, reports and threats', () => {
  it('POST /platform/11/antivirus/scan → {result, report_id}; the report and its threat in OneFS shapes', async () => {
    const r = await t.api.post('/platform/11/antivirus/scan', { file: `/ifs/${svm}/${vol}/in/eicar.com` });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ result: 'infected', report_id: expect.any(String) });
    const rep = await t.api.get(`/platform/11/antivirus/reports/scans/${r.body.report_id}`);
    expect(rep.body.reports[0]).toMatchObject({ id: r.body.report_id, policy_id: 'MANUAL', job_id: r.body.report_id, av_service: 'cava', status: 'Finished', files: 1, infections: 1 });
    const threats = await t.api.get(`/platform/3/antivirus/reports/threats?scan_id=${r.body.report_id}`);
    expect(threats.body.reports).toHaveLength(1);
    expect(threats.body.reports[0]).toMatchObject({ scan_id: r.body.report_id, file: expect.stringMatching(/eicar\.com$/), threat: expect.stringMatching(/eicar/i) });
    const list = await t.api.get('/platform/11/antivirus/reports/scans?policy_id=MANUAL&sort=start&dir=ASC&limit=1');
    expect(list.body.reports).toHaveLength(1);
    expect(list.body.total).toBeGreaterThanOrEqual(1);
    expect((await t.api.post('/platform/11/antivirus/scan', { file: `/ifs/${svm}/${vol}/in/clean.txt` })).body.result).toBe('clean');
  });

  it('refuses paths outside /ifs/<zone>, unknown fields and query parameters; 404 for an unknown report', async () => {
    expectPapiError(await t.api.post('/platform/11/antivirus/scan', { file: `/${vol}/in/clean.txt` }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/antivirus/scan', { file: `/ifs/${svm}/${vol}/in/clean.txt`, bogus: 1 }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.get('/platform/11/antivirus/reports/scans?bogus=1'), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.get('/platform/11/antivirus/reports/scans?dir=UP'), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.get('/platform/11/antivirus/reports/scans/nope'), 404, 'AEC_NOT_FOUND');
  });
});

describe('quarantine, filters, servers, node status', () => {
  it('GET /platform/3/antivirus/quarantine/{path}: never scanned → not_current; after a scan → current with last_scan and last_istag; infected → quarantined; PUT releases', async () => {
    const q = (f: string) => t.api.get(`/platform/3/antivirus/quarantine/ifs/${svm}/${vol}/in/${f}`);
    writeFileSync(path.join(t.filer.runtime.volume(svm, vol)!.root, 'in', 'fresh.txt'), 'fresh\n');
    expect((await q('fresh.txt')).body).toMatchObject({ file: `/ifs/${svm}/${vol}/in/fresh.txt`, scan_result: 'never_scanned', scan_status: 'not_current', quarantined: false, last_scan: null });
    await t.api.post('/platform/11/antivirus/scan', { file: `/ifs/${svm}/${vol}/in/fresh.txt` });
    const after = (await q('fresh.txt')).body;
    expect(after).toMatchObject({ scan_result: 'clean', scan_status: 'current', quarantined: false });
    expect(after.last_scan).toBeGreaterThan(1_700_000_000);
    expect(after.last_scan).toBeLessThan(Date.now() / 1000 + 1);
    await t.api.post('/platform/11/antivirus/scan', { file: `/ifs/${svm}/${vol}/in/eicar.com` });
    expect((await q('eicar.com')).body).toMatchObject({ quarantined: true });
    const put = (body: unknown) => t.api.raw('PUT', `/platform/3/antivirus/quarantine/ifs/${svm}/${vol}/in/eicar.com`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expectPapiError(await put({ quarantined: true }), 400, 'AEC_BAD_REQUEST');
    expect((await put({ quarantined: false })).status).toBe(204);
    expect((await q('eicar.com')).body).toMatchObject({ quarantined: false });
    expectPapiError(await t.api.get('/platform/3/antivirus/quarantine/ifs/nozone/x'), 404, 'AEC_NOT_FOUND');
  });

  it("filters are the zones' Vscan state and enabled policy; servers the pools' servers; node 1's status", async () => {
    const filters = await t.api.get('/platform/11/avscan/filters');
    expect(filters.body.filters).toEqual([expect.objectContaining({ id: svm, zone_name: svm, filter_enabled: true, scan_profile: 'standard' })]);
    const one = await t.api.get(`/platform/11/avscan/filters/${svm}`);
    expect(one.body.filters[0]).toMatchObject({ file_extension_action: 'include', scan_if_no_extension: true });
    const servers = await t.api.get('/platform/11/avscan/servers');
    expect(servers.body.total).toBeGreaterThan(0);
    expect(servers.body.servers[0]).toMatchObject({ server_type: 'CAVA', enabled: true, zone: svm });
    const node = await t.api.get('/platform/11/avscan/nodes/1/status');
    expect(node.body.status[0]).toMatchObject({ av_vendor: 'avscan', system_status: 'RUNNING' });
    expect(node.body.status[0].system_stats.all_scan_requests).toBeGreaterThan(0);
    expect(node.body.status[0].server_status.length).toBe(servers.body.total);
    expectPapiError(await t.api.get('/platform/11/avscan/nodes/2/status'), 404, 'AEC_NOT_FOUND');
    expectPapiError(await t.api.get('/platform/11/avscan/filters/nope'), 404, 'AEC_NOT_FOUND');
  });
});

describe('one data model', () => {
  it("a zone's CAVA jobs are its ONTAP on-demand policies, paths under /ifs/<zone>", async () => {
    const base = `/api/protocols/vscan/${t.uuid}`;
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'weekly_in', scan_paths: [`/${vol}/in/`], log_path: `/${vol}/`, scope: { exclude_extensions: ['tmp'] } })).status).toBe(201);
    const jobs = await t.api.get(`/platform/11/avscan/jobs?zone=${svm}`);
    expect(jobs.body.jobs.find((j: { job_name: string }) => j.job_name === 'weekly_in')).toMatchObject({
      zone: svm, paths_to_include: [`/ifs/${svm}/${vol}/in/`], file_extensions: ['tmp'], file_extension_action: 'exclude',
    });
    expectPapiError(await t.api.get('/platform/11/avscan/jobs?zone=nope'), 404, 'AEC_NOT_FOUND');
  });
});
