// The OneFS antivirus PAPI's writes over real HTTPS, each checked for its effect on the one data model
// (the SVM's ONTAP Vscan document, its live engine and dispatcher, the scheduler, the reports), for
// PAPI's error shape, for leaving everything as it was after bad input, for session-cookie auth, and
// for its management event in the audit log.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startScannerServer, type ScannerServer } from '@avscan/scanner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminExtension, dataPathExtension } from '../src/index.js';
import { expectPapiError, kEicar, kPassword, kUser, startTestFiler, type Reply, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
let svm: string;
let vol: string;
let base: string;
let scanner: ScannerServer;
const admin = adminExtension();

beforeAll(async () => {
  t = await startTestFiler({ extensions: [dataPathExtension(), admin] });
  svm = t.filer.runtime.svms()[0]!.name;
  base = `/api/protocols/vscan/${t.uuid}`;
  const v = t.filer.runtime.volumes(svm).find((x) => !x.readonly)!;
  vol = v.name;
  mkdirSync(path.join(v.root, 'in'), { recursive: true });
  mkdirSync(path.join(v.root, 'audit'), { recursive: true });
  writeFileSync(path.join(v.root, 'in', 'eicar.com'), kEicar);
  writeFileSync(path.join(v.root, 'in', 'clean.txt'), 'clean\n');
  writeFileSync(path.join(v.root, 'in', 'big.bin'), Buffer.alloc(4096, 7));
  scanner = await startScannerServer({ tcp: { host: '127.0.0.1', port: 0 }, log: () => {} });
  // Management events recorded, to check that every OneFS write is one.
  expect((await t.api.post(`/api/protocols/audit/${t.uuid}/object-store`, { log_path: `/${vol}/audit`, events: { management: true } })).status).toBe(202);
});
afterAll(async () => {
  await t?.close();
  await scanner?.close();
});

const put = (p: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  t.api.raw('PUT', p, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const settings = async (): Promise<Record<string, unknown>> => (await t.api.get('/platform/11/avscan/settings')).body.settings;
const vscan = async (): Promise<Record<string, any>> => (await t.api.get(`${base}?fields=**`)).body;
const explain = async (p: string, size?: number): Promise<Record<string, any>> =>
  (await t.api.get(`${base}/explain?path=${encodeURIComponent(p)}${size === undefined ? '' : `&size=${size}`}`)).body;
const policies = async (): Promise<Array<Record<string, any>>> => (await t.api.get(`${base}/on-access-policies?fields=*`)).body.records;
/** Everything a bad request must leave as it was. */
const snapshot = async (): Promise<string> => JSON.stringify([await settings(), await vscan(), (await t.api.get(`/platform/11/avscan/filters/${svm}`)).body,
  (await t.api.get('/platform/11/avscan/servers')).body, (await t.api.get('/platform/11/avscan/jobs')).body]);

describe('settings (§3.1)', () => {
  it('GET has the CAVA settings shape, read from the zones', async () => {
    const r = await t.api.get('/platform/11/avscan/settings');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      settings: {
        service_enabled: true, scan_zones: [], ip_pool: null, scan_timeout: expect.any(Number), scan_cloudpool_timeout: 60,
        // default_CIFS's 2 GiB, in kB
        scan_size_maximum: 2097152, report_expiry: 31536000,
      },
    });
  });

  it('bad input: PAPI errors (AEC_BAD_REQUEST with the field), and nothing changes', async () => {
    const before = await snapshot();
    for (const [body, field] of [
      [{ bogus: 1 }, 'bogus'], [{ scan_timeout: 0 }, 'scan_timeout'], [{ scan_timeout: 4294967296 }, 'scan_timeout'], [{ scan_size_maximum: -1 }, 'scan_size_maximum'],
      [{ scan_size_maximum: 17179869185 }, 'scan_size_maximum'], [{ report_expiry: 0 }, 'report_expiry'], [{ scan_zones: ['nope'] }, 'scan_zones'],
      [{ service_enabled: 'yes' }, 'service_enabled'], [{ ip_pool: '' }, 'ip_pool'], [{ scan_cloudpool_timeout: 1.5 }, 'scan_cloudpool_timeout'],
      // a valid field beside a bad one: the valid one is not applied either
      [{ scan_size_maximum: 1, scan_timeout: 0 }, 'scan_timeout'],
    ] as const) {
      const r = await put('/platform/11/avscan/settings', body);
      expectPapiError(r, 400, 'AEC_BAD_REQUEST');
      expect(r.body.errors[0].field).toBe(field);
    }
    expectPapiError(await t.api.raw('PUT', '/platform/11/avscan/settings', { headers: { 'content-type': 'application/json' }, body: '{"scan_timeout":' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.raw('POST', '/platform/11/avscan/settings', { headers: { 'content-type': 'application/json' }, body: '{}' }), 405, 'AEC_BAD_REQUEST');
    expect(await snapshot()).toBe(before);
    expect((await policies()).find((p) => p.enabled)?.name).toBe('default_CIFS');
  });

  it('scan_size_maximum (kB) is the enabled policy\'s max_file_size: a file over it is skipped; 0 lifts the cap to ONTAP\'s 1 TB', async () => {
    expect((await explain(`/${vol}/in/big.bin`)).reason).toBe('in-scope');
    const r = await put('/platform/11/avscan/settings', { scan_size_maximum: 1 });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    // default_CIFS cannot be edited: the zone now runs its own copy, with the new size.
    const own = (await policies()).find((p) => p.enabled)!;
    expect(own).toMatchObject({ name: 'onefs_filter', scope: { max_file_size: 1024 } });
    expect((await explain(`/${vol}/in/big.bin`))).toMatchObject({ policy: 'onefs_filter', action: 'skip', reason: 'too-large', vscan_enabled: true });
    expect((await settings())['scan_size_maximum']).toBe(1);
    expect((await put('/platform/11/avscan/settings', { scan_size_maximum: 0 })).status).toBe(204);
    expect((await explain(`/${vol}/in/huge.iso`, 4294967296)).reason).toBe('in-scope');
    expect((await policies()).find((p) => p.enabled)!.scope.max_file_size).toBe(1099511627776);
    expect((await settings())['scan_size_maximum']).toBe(0);
    // A change through ONTAP shows through OneFS.
    expect((await t.api.patch(`${base}/on-access-policies/onefs_filter`, { scope: { max_file_size: 1048576 } })).status).toBe(200);
    expect((await settings())['scan_size_maximum']).toBe(1024);
  });

  it('scan_timeout is the dispatcher\'s request timeout (capped at 3600 s)', async () => {
    expect((await put('/platform/11/avscan/settings', { scan_timeout: 7 })).status).toBe(204);
    expect(t.filer.runtime.dispatcher(svm)!.config.requestTimeoutMs).toBe(7000);
    expect((await settings())['scan_timeout']).toBe(7);
    expect((await put('/platform/11/avscan/settings', { scan_timeout: 100000, scan_cloudpool_timeout: 120, ip_pool: 'pool0' })).status).toBe(204);
    expect(t.filer.runtime.dispatcher(svm)!.config.requestTimeoutMs).toBe(3_600_000);
    expect(await settings()).toMatchObject({ scan_timeout: 100000, scan_cloudpool_timeout: 120, ip_pool: 'pool0' });
    expect((await put('/platform/11/avscan/settings', { scan_timeout: 30 })).status).toBe(204);
  });

  it('service_enabled is Vscan on/off of the zones in scope; the filter and ONTAP show it', async () => {
    expect((await put('/platform/11/avscan/settings', { service_enabled: false, scan_zones: [svm] })).status).toBe(204);
    expect((await vscan()).enabled).toBe(false);
    expect((await explain(`/${vol}/in/clean.txt`)).vscan_enabled).toBe(false);
    expect((await t.api.get(`/platform/11/avscan/filters/${svm}`)).body.filters[0].filter_enabled).toBe(false);
    expect(await settings()).toMatchObject({ service_enabled: false, scan_zones: [svm] });
    expect((await put('/platform/11/avscan/settings', { service_enabled: true })).status).toBe(204);
    expect((await vscan()).enabled).toBe(true);
    expect((await settings())['service_enabled']).toBe(true);
  });

  it('turning the service on without ONTAP\'s prerequisites (an active pool) is AEC_CONFLICT, and nothing changes', async () => {
    expect((await put('/platform/11/avscan/settings', { service_enabled: false })).status).toBe(204);
    const pool = (await t.api.get(`${base}/scanner-pools?fields=*`)).body.records[0];
    expect((await t.api.del(`${base}/scanner-pools/${pool.name}`)).status).toBe(200);
    const before = await snapshot();
    const r = await put('/platform/11/avscan/settings', { service_enabled: true, scan_timeout: 9 });
    expectPapiError(r, 409, 'AEC_CONFLICT');
    expect(r.body.errors[0].message).toMatch(/scanner pool/);
    expect(await snapshot()).toBe(before);
    expect((await t.api.post(`${base}/scanner-pools`, { name: pool.name, servers: pool.servers, privileged_users: pool.privileged_users, role: pool.role })).status).toBe(201);
    expect((await put('/platform/11/avscan/settings', { service_enabled: true })).status).toBe(204);
    expect((await vscan()).enabled).toBe(true);
  });
});

describe('filters (PUT /platform/11/avscan/filters/{zone})', () => {
  it('writes the zone\'s on-access policy: extensions, excluded paths, no-extension files, open_on_fail; explain shows the new rules', async () => {
    const r = await put(`/platform/11/avscan/filters/${svm}`, {
      file_extensions: ['.exe', 'com'], file_extension_action: 'exclude', paths_to_exclude: [`${vol}/tmp/`], scan_if_no_extension: false,
      open_on_fail: true, scan_profile: 'strict', scan_on_read: true,
    });
    expect(r.status).toBe(204);
    expect((await t.api.get(`/platform/11/avscan/filters/${svm}`)).body.filters[0]).toEqual({
      id: svm, zone_name: svm, filter_enabled: true, open_on_fail: true, scan_profile: 'strict', scan_on_read: true, scan_on_close: true, scan_on_rename: true,
      scan_cloudpool_files: false, file_extensions: ['exe', 'com'], file_extension_action: 'exclude', paths_to_exclude: [`${vol}/tmp/`], scan_if_no_extension: false,
    });
    expect((await explain(`/${vol}/in/eicar.com`))).toMatchObject({ action: 'skip', reason: 'excluded-extension', rule: 'com' });
    expect((await explain(`/${vol}/tmp/a.txt`, 10))).toMatchObject({ action: 'skip', reason: 'excluded-path' });
    expect((await explain(`/${vol}/in/README`, 10))).toMatchObject({ action: 'skip', reason: 'no-extension' });
    expect((await policies()).find((p) => p.enabled)).toMatchObject({ name: 'onefs_filter', mandatory: false, scope: { exclude_paths: [`\\${vol}\\tmp\\`], exclude_extensions: ['exe', 'com'] } });
    // include: only those extensions are scanned
    expect((await put(`/platform/11/avscan/filters/${svm}`, { file_extensions: ['txt'], file_extension_action: 'include', paths_to_exclude: [], scan_if_no_extension: true, open_on_fail: false })).status).toBe(204);
    expect((await explain(`/${vol}/in/eicar.com`))).toMatchObject({ action: 'skip', reason: 'not-included-extension' });
    expect((await explain(`/${vol}/in/clean.txt`))).toMatchObject({ action: 'scan', reason: 'in-scope' });
  });

  it('filter_enabled is the zone\'s Vscan on/off', async () => {
    expect((await put(`/platform/11/avscan/filters/${svm}`, { filter_enabled: false })).status).toBe(204);
    expect((await vscan()).enabled).toBe(false);
    expect((await put(`/platform/11/avscan/filters/${svm}`, { filter_enabled: true })).status).toBe(204);
    expect((await vscan()).enabled).toBe(true);
  });

  it('bad input and unknown zones: PAPI errors, nothing changes', async () => {
    const before = await snapshot();
    for (const body of [{ scan_profile: 'odd' }, { paths_to_exclude: ['../x'] }, { file_extension_action: 'maybe' }, { file_extensions: 'exe' }, { id: 'x' },
      // a valid field beside a bad one
      { open_on_fail: true, scan_on_read: 'yes' }]) {
      expectPapiError(await put(`/platform/11/avscan/filters/${svm}`, body), 400, 'AEC_BAD_REQUEST');
    }
    expectPapiError(await put('/platform/11/avscan/filters/nope', { filter_enabled: true }), 404, 'AEC_NOT_FOUND');
    expect(await snapshot()).toBe(before);
  });
});

describe('servers', () => {
  it('POST → {id}; the server is in the zone\'s pool `onefs_cava` and the node status; PUT renames and disables; DELETE removes', async () => {
    const uri = `127.0.0.1:${scanner.tcp!.port}/cee`;
    const r = await t.api.post('/platform/11/avscan/servers', { server_name: 'cee1', server_uri: uri });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: 'cee1' });
    expect((await t.api.get('/platform/11/avscan/servers/cee1')).body).toEqual({ servers: [{ id: 'cee1', server_name: 'cee1', server_uri: uri, server_type: 'CAVA', enabled: true }] });
    expect((await t.api.get(`${base}/scanner-pools/onefs_cava`)).body).toMatchObject({ servers: [`127.0.0.1:${scanner.tcp!.port}`], role: 'primary' });
    const list = (await t.api.get('/platform/11/avscan/servers')).body;
    expect(list.servers[0]).toMatchObject({ id: 'cee1' });
    expect(list.total).toBe(list.servers.length);
    const node = (await t.api.get('/platform/11/avscan/nodes/1/status')).body.status[0];
    expect(node.server_status.map((s: { server_name: string }) => s.server_name)).toContain('cee1');

    expectPapiError(await t.api.post('/platform/11/avscan/servers', { server_name: 'cee1', server_uri: '127.0.0.1:1' }), 409, 'AEC_EXISTS');
    const before = await snapshot();
    expectPapiError(await t.api.post('/platform/11/avscan/servers', { server_name: 'cee9' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/avscan/servers', { server_name: 'cee9', server_uri: 'clamd://127.0.0.1:1/path' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/avscan/servers', { server_name: 'cee9', server_uri: 'gopher://x' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await put('/platform/11/avscan/servers/cee1', { enabled: 'no' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await put('/platform/11/avscan/servers/nope', { enabled: false }), 404, 'AEC_NOT_FOUND');
    expect(await snapshot()).toBe(before);

    expect((await put('/platform/11/avscan/servers/cee1', { new_name: 'cee2', enabled: false })).status).toBe(204);
    expectPapiError(await t.api.get('/platform/11/avscan/servers/cee1'), 404, 'AEC_NOT_FOUND');
    expect((await t.api.get('/platform/11/avscan/servers/cee2')).body.servers[0]).toMatchObject({ enabled: false, server_uri: uri });
    expect((await t.api.get(`${base}/scanner-pools/onefs_cava`)).status).toBe(404);
    expect((await put('/platform/11/avscan/servers/cee2', { enabled: true })).status).toBe(204);
    expect((await t.api.get(`${base}/scanner-pools/onefs_cava`)).status).toBe(200);
    expect((await t.api.del('/platform/11/avscan/servers/cee2')).status).toBe(204);
    expectPapiError(await t.api.get('/platform/11/avscan/servers/cee2'), 404, 'AEC_NOT_FOUND');
    expect((await t.api.post('/platform/11/avscan/servers', { server_name: 'a', server_uri: uri })).status).toBe(201);
    expect((await t.api.del('/platform/11/avscan/servers')).status).toBe(204);
    expect((await t.api.get('/platform/11/avscan/servers')).body.servers.some((s: { id: string }) => s.id === 'a')).toBe(false);
    expect((await t.api.get(`${base}/scanner-pools/onefs_cava`)).status).toBe(404);
  });
});

describe('jobs', () => {
  it('POST with a schedule → listed, scheduled at its OneFS time, runs through the job manager with a report; PUT renames and disables; DELETE', async () => {
    const include = `/ifs/${svm}/${vol}/in/`;
    const r = await t.api.post('/platform/11/avscan/jobs', {
      job_name: 'thursday', description: 'weekly sweep', paths_to_include: [include], paths_to_exclude: ['sub/'], file_extensions: ['.com', 'txt'],
      file_extension_action: 'include', ignore_previous_scan_status: true, schedule: 'every Thursday at 01:00',
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: 'thursday' });
    const listed = (await t.api.get(`/platform/11/avscan/jobs?zone=${svm}`)).body.jobs.find((j: { id: string }) => j.id === 'thursday');
    expect(listed).toMatchObject({
      job_name: 'thursday', description: 'weekly sweep', enabled: true, paths_to_include: [include], paths_to_exclude: ['sub/'], file_extensions: ['.com', 'txt'],
      file_extension_action: 'include', ignore_previous_scan_status: true, schedule: 'every Thursday at 01:00', last_scheduled_run: null, zone: svm,
    });
    expect((await t.api.get('/platform/11/avscan/jobs/thursday')).body.jobs[0]).toEqual(listed);
    const s = admin.services()!;
    const entry = s.scheduler.get('onefs/thursday')!;
    expect(entry.pattern).toBe('0 1 * * 4');
    expect(entry.next!.getDay()).toBe(4);
    expect(entry.next!.getHours()).toBe(1);

    // Its time comes (the scheduler's own callback, as at 01:00 on a Thursday).
    expect(await s.scheduler.runNow('onefs/thursday')).toBe(true);
    let report: Record<string, any> | undefined;
    for (let i = 0; i < 400 && report?.['status'] !== 'Finished'; i++) {
      report = (await t.api.get('/platform/11/antivirus/reports/scans?policy_id=thursday')).body.reports[0];
      if (report?.['status'] !== 'Finished') await new Promise((res) => setTimeout(res, 10));
    }
    // clean.txt and eicar.com (big.bin is not a .com/.txt file)
    expect(report).toMatchObject({ policy_id: 'thursday', files: 2, infections: 1 });
    expect((await t.api.get('/platform/11/avscan/jobs/thursday')).body.jobs[0].last_scheduled_run).toBeGreaterThan(1_700_000_000);

    const before = await snapshot();
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { job_name: 'thursday', paths_to_include: [include] }), 409, 'AEC_EXISTS');
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { job_name: 'x', paths_to_include: [include], schedule: 'sometimes' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { job_name: 'x', paths_to_include: [`/${vol}/in/`] }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { job_name: 'x', paths_to_include: [`/ifs/${svm}/novol/`] }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { paths_to_include: [include] }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { job_name: 'x', paths_to_include: [include], file_extension_action: 'all' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await put('/platform/11/avscan/jobs/thursday', { schedule: 'every Funday at 1:00' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await put('/platform/11/avscan/jobs/thursday', { job_name: 'y' }), 400, 'AEC_BAD_REQUEST');
    expectPapiError(await t.api.get('/platform/11/avscan/jobs/nope'), 404, 'AEC_NOT_FOUND');
    expect(await snapshot()).toBe(before);
    expect(s.scheduler.get('onefs/thursday')).toBeDefined();

    expect((await put('/platform/11/avscan/jobs/thursday', { new_name: 'thu2', schedule: 'every day at 02:30' })).status).toBe(204);
    expect(s.scheduler.get('onefs/thursday')).toBeUndefined();
    expect(s.scheduler.get('onefs/thu2')!.pattern).toBe('30 2 * * *');
    expect((await put('/platform/11/avscan/jobs/thu2', { enabled: false })).status).toBe(204);
    expect(s.scheduler.get('onefs/thu2')).toBeUndefined();
    expect((await t.api.get('/platform/11/avscan/jobs/thu2')).body.jobs[0]).toMatchObject({ enabled: false, description: 'weekly sweep', schedule: 'every day at 02:30' });
    expect((await t.api.del('/platform/11/avscan/jobs/thu2')).status).toBe(204);
    expectPapiError(await t.api.get('/platform/11/avscan/jobs/thu2'), 404, 'AEC_NOT_FOUND');
  });

  it('an ONTAP on-demand policy is a job too: read and deleted through OneFS, changed through ONTAP (409)', async () => {
    expect((await t.api.post(`${base}/on-demand-policies`, { name: 'od1', scan_paths: [`/${vol}/in/`], log_path: `/${vol}/` })).status).toBe(201);
    expect((await t.api.get('/platform/11/avscan/jobs/od1')).body.jobs[0]).toMatchObject({ job_name: 'od1', zone: svm, paths_to_include: [`/ifs/${svm}/${vol}/in/`] });
    expectPapiError(await put('/platform/11/avscan/jobs/od1', { enabled: false }), 409, 'AEC_CONFLICT');
    expectPapiError(await t.api.post('/platform/11/avscan/jobs', { job_name: 'od1', paths_to_include: [`/ifs/${svm}/${vol}/in/`] }), 409, 'AEC_EXISTS');
    expect((await t.api.del('/platform/11/avscan/jobs/od1')).status).toBe(204);
    expect((await t.api.get(`${base}/on-demand-policies/od1`)).status).toBe(404);
  });
});

describe('session-cookie writes, audit, report expiry', () => {
  it('a write with the isisessid cookie needs the isicsrf token (X-CSRF-Token)', async () => {
    const login = await t.api.raw('POST', '/session/1/session', {
      auth: null, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: kUser, password: kPassword, services: ['platform'] }),
    });
    expect(login.status).toBe(201);
    const c = Object.fromEntries([login.headers['set-cookie'] ?? []].flat().map((x) => x.split(';')[0]!.split('=') as [string, string]));
    const cookie = `isisessid=${c['isisessid']}`;
    const body = JSON.stringify({ scan_cloudpool_timeout: 90 });
    const h = { cookie, 'content-type': 'application/json' };
    expectPapiError(await t.api.raw('PUT', '/platform/11/avscan/settings', { auth: null, headers: h, body }), 401, 'AEC_UNAUTHORIZED');
    expect((await settings())['scan_cloudpool_timeout']).toBe(120);
    const ok = await t.api.raw('PUT', '/platform/11/avscan/settings', { auth: null, headers: { ...h, 'x-csrf-token': c['isicsrf']!, origin: 'https://127.0.0.1' }, body });
    expect(ok.status).toBe(204);
    expect((await settings())['scan_cloudpool_timeout']).toBe(90);
    expectPapiError(await t.api.raw('PUT', '/platform/11/avscan/settings', { auth: null, headers: { 'content-type': 'application/json' }, body }), 401, 'AEC_UNAUTHORIZED');
    expectPapiError(await t.api.raw('GET', '/platform/11/avscan/settings', { auth: 'Basic bm9wZTpub3Bl' }), 401, 'AEC_UNAUTHORIZED');
    // /api keeps ONTAP's error object
    expect((await t.api.raw('GET', `${base}`, { auth: 'Basic bm9wZTpub3Bl' })).body.error.code).toBe('6');
  });

  it('every OneFS write is a management event of the audit log, api onefs', async () => {
    const rt = t.filer.runtime;
    let events: ReadonlyArray<{ reason: string | null; details: unknown }> = [];
    for (let i = 0; i < 200; i++) {
      await rt.store.flush();
      events = (await rt.store.queryEvents({ type: 'audit.management' })).records;
      if (events.some((e) => e.reason === 'DELETE /platform/11/avscan/jobs/od1')) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const reasons = events.filter((e) => (e.details as { api?: string }).api === 'onefs').map((e) => e.reason);
    for (const w of ['PUT /platform/11/avscan/settings', `PUT /platform/11/avscan/filters/${svm}`, 'POST /platform/11/avscan/servers', 'PUT /platform/11/avscan/servers/cee1',
      'DELETE /platform/11/avscan/servers', 'POST /platform/11/avscan/jobs', 'PUT /platform/11/avscan/jobs/thursday', 'DELETE /platform/11/avscan/jobs/thu2']) {
      expect(reasons, w).toContain(w);
    }
    // refused writes are not changes
    expect(reasons.filter((r) => r === 'POST /platform/11/avscan/servers')).toHaveLength(2);
  });

  it('report_expiry: reports older than it are deleted', async () => {
    const scan = await t.api.post('/platform/11/antivirus/scan', { file: `/ifs/${svm}/${vol}/in/clean.txt` });
    const id = scan.body.report_id as string;
    expect((await t.api.get(`/platform/11/antivirus/reports/scans/${id}`)).status).toBe(200);
    await new Promise((res) => setTimeout(res, 1100));
    expect((await put('/platform/11/avscan/settings', { report_expiry: 1 })).status).toBe(204);
    expectPapiError(await t.api.get(`/platform/11/antivirus/reports/scans/${id}`), 404, 'AEC_NOT_FOUND');
    expect((await settings())['report_expiry']).toBe(1);
    expect(admin.services()!.scheduler.get('reports/expiry')).toBeDefined();
  });
});

describe('restart', () => {
  it('OneFS settings, filter flags, servers and scheduled jobs survive a restart', async () => {
    expect((await t.api.post('/platform/11/avscan/servers', { server_name: 'keep', server_uri: `127.0.0.1:${scanner.tcp!.port}` })).status).toBe(201);
    expect((await t.api.post('/platform/11/avscan/jobs', { job_name: 'persist', paths_to_include: [`/ifs/${svm}/${vol}/in/`], schedule: 'every 4 hours' })).status).toBe(201);
    const before = await snapshot();
    t = await t.restart();
    expect(await snapshot()).toBe(before);
    expect(admin.services()!.scheduler.get('onefs/persist')!.pattern).toBe('0 */4 * * *');
    expect((await t.api.get('/platform/11/avscan/servers/keep')).body.servers[0]).toMatchObject({ enabled: true });
    expect((await t.api.get(`/platform/11/avscan/filters/${svm}`)).body.filters[0]).toMatchObject({ scan_profile: 'strict', scan_on_read: true });
  });
});
