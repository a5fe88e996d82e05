// The Vscan REST API over real HTTPS: ONTAP's semantics and error codes, collection conventions,
// changes reaching the live engine and dispatcher, and persistence across a restart.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, resolveInVolume } from '../src/index.js';
import { expectOntapError, kEicar, startTestFiler, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
let base: string;
beforeAll(async () => {
  t = await startTestFiler();
  base = `/api/protocols/vscan/${t.uuid}`;
});
afterAll(async () => {
  await t?.close();
});

const disableVscan = async (): Promise<void> => {
  if ((await t.api.get(base)).body.enabled) expect((await t.api.patch(base, { enabled: false })).status).toBe(200);
};

describe('on-access policies', () => {
  it('POST with dotted keys: 201 + Location; saved but not enabled while default_CIFS is (10027249)', async () => {
    const r = await t.api.post(`${base}/on-access-policies`, { name: 'pol_a', enabled: false, 'scope.max_file_size': 4096, 'scope.exclude_extensions': ['exe', 'EXE'], 'scope.exclude_paths': ['\\vol1\\a b\\', '\\vol1\\a,b\\'] });
    expect(r.status).toBe(201);
    expect(r.headers['location']).toBe(`${base}/on-access-policies/pol_a`);
    const got = await t.api.get(`${base}/on-access-policies/pol_a`);
    expect(got.body).toMatchObject({ name: 'pol_a', enabled: false, mandatory: true, owner: 'vserver', protocol: 'CIFS', scope: { max_file_size: 4096, include_extensions: ['*'], exclude_extensions: ['exe', 'EXE'], exclude_paths: ['\\vol1\\a b\\', '\\vol1\\a,b\\'] } });
    const enabled = await t.api.post(`${base}/on-access-policies`, { name: 'pol_b' });
    expectOntapError(enabled, 409, '10027249');
    expect((await t.api.get(`${base}/on-access-policies/pol_b`)).body).toMatchObject({ enabled: false });
    expect((await t.api.get(`${base}/on-access-policies/pol_b?fields=scope`)).body.scope.exclude_paths).toBeUndefined();
    expectOntapError(await t.api.post(`${base}/on-access-policies`, { name: 'pol_a' }), 409, '1');
  });

  it('refuses bad sizes, empty includes, bad paths, too many exclusions, bad names', async () => {
    const p = `${base}/on-access-policies`;
    expectOntapError(await t.api.post(p, { name: 'x', scope: { max_file_size: 1023 } }), 400, '10027101');
    expectOntapError(await t.api.post(p, { name: 'x', scope: { max_file_size: 1099511627777 } }), 400, '10027101');
    expectOntapError(await t.api.post(p, { name: 'x', scope: { include_extensions: [] } }), 400, '10027107');
    expectOntapError(await t.api.post(p, { name: 'x', scope: { exclude_paths: ['vol1/x'] } }), 400, '10027109');
    expectOntapError(await t.api.post(p, { name: 'x', scope: { exclude_paths: [`\\${'a'.repeat(255)}`] } }), 400, '10027109');
    expectOntapError(await t.api.post(p, { name: 'x', scope: { exclude_paths: Array.from({ length: 101 }, (_, i) => `\\p${i}`) } }), 400, '10027253');
    expectOntapError(await t.api.post(p, { name: 'x', scope: { exclude_extensions: Array.from({ length: 101 }, (_, i) => `e${i}`) } }), 400, '10027254');
    expectOntapError(await t.api.post(p, { name: 'bad name!' }), 400, '2');
    expect((await t.api.get(`${p}?name=x`)).body.num_records).toBe(0);
  });

  it('default_CIFS: scope is the cluster\'s (10027033), cannot be deleted (10027034)', async () => {
    expectOntapError(await t.api.patch(`${base}/on-access-policies/default_CIFS`, { scope: { max_file_size: 4096 } }), 400, '10027033');
    expectOntapError(await t.api.patch(`${base}/on-access-policies/default_CIFS`, { mandatory: false }), 400, '10027033');
    expectOntapError(await t.api.del(`${base}/on-access-policies/default_CIFS`), 403, '10027034');
  });

  it('one enabled policy per SVM (10027250); disabling needs Vscan off; the engine follows the enabled policy', async () => {
    expectOntapError(await t.api.patch(`${base}/on-access-policies/pol_a`, { enabled: true }), 409, '10027250');
    expectOntapError(await t.api.patch(`${base}/on-access-policies/default_CIFS`, { enabled: false }), 409, '10027250');
    const saved = await t.api.patch(`${base}/on-access-policies/pol_a`, { enabled: true, mandatory: false });
    expectOntapError(saved, 409, '10027249');
    expect((await t.api.get(`${base}/on-access-policies/pol_a`)).body).toMatchObject({ enabled: false, mandatory: false });
    await disableVscan();
    expect((await t.api.patch(`${base}/on-access-policies/default_CIFS`, { enabled: false })).status).toBe(200);
    expect((await t.api.patch(`${base}/on-access-policies/pol_a`, { enabled: true })).status).toBe(200);
    expect(t.filer.runtime.engine('vs1').policy.policy.name).toBe('pol_a');
    // pol_a excludes exe: the engine now skips an infected .exe
    expect((await t.api.patch(base, { enabled: true })).status).toBe(200);
    const vol = t.filer.runtime.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'setup.exe'), kEicar);
    expect(await t.filer.runtime.engine('vs1').open(accessOf(resolveInVolume(vol, 'setup.exe')))).toMatchObject({ allow: true, reason: 'excluded-extension' });
    expectOntapError(await t.api.del(`${base}/on-access-policies/pol_a`), 409, '10027040');
  });

  it('PATCH lists replace whole lists; scope merges field by field', async () => {
    expect((await t.api.patch(`${base}/on-access-policies/pol_b`, { 'scope.exclude_extensions': ['tmp'] })).status).toBe(200);
    expect((await t.api.patch(`${base}/on-access-policies/pol_b`, { scope: { max_file_size: 8192 } })).status).toBe(200);
    const r = await t.api.get(`${base}/on-access-policies/pol_b?fields=scope.exclude_extensions,scope.max_file_size,,`);
    expect(r.body).toEqual({ name: 'pol_b', svm: { uuid: t.uuid, name: 'vs1' }, scope: { exclude_extensions: ['tmp'], max_file_size: 8192 }, _links: r.body._links });
    expect((await t.api.patch(`${base}/on-access-policies/pol_b`, { 'scope.exclude_extensions': ['log', 'bak'] })).status).toBe(200);
    expect((await t.api.get(`${base}/on-access-policies/pol_b`)).body.scope.exclude_extensions).toEqual(['log', 'bak']);
  });

  it('at most 10 SVM policies (10027043)', async () => {
    const have = (await t.api.get(`${base}/on-access-policies?owner=vserver`)).body.num_records as number;
    for (let i = have; i < 10; i++) expect((await t.api.post(`${base}/on-access-policies`, { name: `fill${i}`, enabled: false })).status).toBe(201);
    expectOntapError(await t.api.post(`${base}/on-access-policies`, { name: 'eleventh', enabled: false }), 409, '10027043');
    for (let i = have; i < 10; i++) expect((await t.api.del(`${base}/on-access-policies/fill${i}`)).status).toBe(200);
  });
});

describe('collections', () => {
  it('fields, filters (* ! | < >), order_by, max_records with _links.next, return_records=false', async () => {
    const p = `${base}/on-access-policies`;
    const all = await t.api.get(`${p}?fields=*&order_by=name%20desc`);
    expect(all.body.records.map((r: { name: string }) => r.name)).toEqual(['pol_b', 'pol_a', 'default_CIFS']);
    expect((await t.api.get(`${p}?name=pol*`)).body.num_records).toBe(2);
    expect((await t.api.get(`${p}?name=!pol_a`)).body.records.map((r: { name: string }) => r.name)).toEqual(['default_CIFS', 'pol_b']);
    expect((await t.api.get(`${p}?name=pol_a|pol_b`)).body.num_records).toBe(2);
    expect((await t.api.get(`${p}?scope.max_file_size=<5000`)).body.records).toEqual([expect.objectContaining({ name: 'pol_a', scope: { max_file_size: 4096 } })]);
    expect((await t.api.get(`${p}?scope.max_file_size=>=8192&enabled=false`)).body.num_records).toBe(2);
    expect((await t.api.get(`${p}?scope.exclude_extensions=LOG`)).body.num_records).toBe(1);
    let href: string | undefined = `${p}?max_records=1&order_by=name`;
    const seen: string[] = [];
    while (href !== undefined) {
      const page = await t.api.get(href);
      expect(page.body.num_records).toBe(1);
      seen.push(page.body.records[0].name);
      href = page.body._links.next?.href;
    }
    expect(seen).toEqual(['default_CIFS', 'pol_a', 'pol_b']);
    const counted = await t.api.get(`${p}?return_records=false`);
    expect(counted.body).toMatchObject({ num_records: 3 });
    expect(counted.body.records).toBeUndefined();
    const echoed = await t.api.post(`${p}?return_records=true`, { name: 'echo', enabled: false });
    expect(echoed.body).toMatchObject({ num_records: 1, records: [{ name: 'echo', enabled: false }] });
    expect((await t.api.del(`${p}/echo?return_timeout=15`)).status).toBe(200);
  });
});

describe('scanner pools', () => {
  it('ONTAP rules: loopback refused without lab mode is tested in the config suite; here names, users, servers', async () => {
    const p = `${base}/scanner-pools`;
    expectOntapError(await t.api.post(p, { name: 'p2', servers: [], privileged_users: ['LAB\\u'] }), 400, '10027107');
    expectOntapError(await t.api.post(p, { name: 'p2', servers: ['10.0.0.1'], privileged_users: [] }), 400, '10027107');
    expectOntapError(await t.api.post(p, { name: 'p2', servers: ['10.0.0.1'], privileged_users: ['nodomain'] }), 400, '10027108');
    expectOntapError(await t.api.post(p, { name: 'p2', servers: ['10.0.0.1'], privileged_users: ['LAB\\a*b'] }), 400, '10027119');
    expectOntapError(await t.api.post(p, { name: 'p2', servers: ['10.0.0.1'] }), 400, '2');
    const ok = await t.api.post(p, { name: 'p2', servers: ['builtin:'], privileged_users: ['LAB\\u'] });
    expect(ok.status).toBe(201);
    expect((await t.api.get(`${p}/p2`)).body).toEqual({ svm: expect.any(Object), name: 'p2', servers: ['builtin:'], privileged_users: ['LAB\\u'], _links: expect.any(Object) });
    // The dispatcher takes a server in one pool only: refused before anything is saved.
    expectOntapError(await t.api.post(p, { name: 'p3', servers: ['builtin:'], privileged_users: ['LAB\\u'] }), 400, '2');
    expectOntapError(await t.api.get(`${p}/p3`), 404, '4');
  });

  it('a pool change swaps the live dispatcher: pool1 idle → only the built-in engine serves', async () => {
    expect((await t.api.patch(`${base}/scanner-pools/pool1`, { role: 'idle' })).status).toBe(200);
    const servers = t.filer.runtime.dispatcher('vs1')!.serverStatus();
    expect(servers.filter((s) => s.role !== 'idle').map((s) => s.server)).toEqual(['builtin:']);
    const status = await t.api.get('/api/protocols/vscan/server-status?fields=*&role=!idle');
    expect(status.body.records).toEqual([expect.objectContaining({ ip: 'builtin', svm: { name: 'vs1', uuid: t.uuid } })]);
  });

  it('the last active pool cannot go while Vscan is on (10027070)', async () => {
    expectOntapError(await t.api.del(`${base}/scanner-pools/p2`), 409, '10027070');
    expect((await t.api.del(`${base}/scanner-pools/pool1`)).status).toBe(200);
    expect((await t.api.patch(`${base}/scanner-pools/p2`, { servers: ['builtin:', '10.9.9.9'] })).status).toBe(200);
    expect((await t.api.get(`${base}/scanner-pools?fields=servers`)).body.records).toEqual([expect.objectContaining({ name: 'p2', servers: ['builtin:', '10.9.9.9'] })]);
  });
});

describe('vscan', () => {
  it('enable prerequisites and twice-errors (10027009/10027010/10027015/10027023)', async () => {
    expectOntapError(await t.api.patch(base, { enabled: true }), 409, '10027009');
    await disableVscan();
    expectOntapError(await t.api.patch(base, { enabled: false }), 409, '10027010');
    expect(t.filer.runtime.engine('vs1').explain(accessOf(resolveInVolume(t.filer.runtime.volume('vs1', 'vol1')!, 'setup.exe'))).enabled).toBe(false);
    expect((await t.api.patch(`${base}/scanner-pools/p2`, { role: 'idle' })).status).toBe(200);
    expectOntapError(await t.api.patch(base, { enabled: true }), 409, '10027015');
    expect((await t.api.patch(`${base}/scanner-pools/p2`, { role: 'primary' })).status).toBe(200);
    expect((await t.api.patch(`${base}/on-access-policies/pol_a`, { enabled: false })).status).toBe(200);
    expectOntapError(await t.api.patch(base, { enabled: true }), 409, '10027023');
    expect((await t.api.patch(`${base}/on-access-policies/default_CIFS`, { enabled: true })).status).toBe(200);
    expect((await t.api.patch(base, { enabled: true })).status).toBe(200);
    expect(t.filer.runtime.engine('vs1').policy.policy.name).toBe('default_CIFS');
  });

  it('cache_clear makes a scanned file non-current', async () => {
    const vol = t.filer.runtime.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'clean.txt'), 'hello');
    const a = accessOf(resolveInVolume(vol, 'clean.txt'));
    expect(await t.filer.runtime.engine('vs1').open(a)).toMatchObject({ allow: true, reason: 'clean' });
    await t.filer.runtime.engine('vs1').drain();
    const files = `${base}/files?path=/vol1/clean.txt`;
    expect((await t.api.get(files)).body).toMatchObject({ scan_status: 'current', scan_result: 'clean', quarantined: false });
    expect((await t.api.patch(base, { cache_clear: true })).status).toBe(200);
    expect((await t.api.get(files)).body).toMatchObject({ scan_status: 'not_current', scan_result: 'clean' });
  });

  it('GET list and one; svm.name filter; unknown SVM in POST (2621462)', async () => {
    const list = await t.api.get('/api/protocols/vscan?svm.name=vs1&fields=svm,enabled');
    expect(list.body.records).toEqual([expect.objectContaining({ svm: expect.objectContaining({ name: 'vs1' }), enabled: true })]);
    expect((await t.api.get(`${base}?fields=scanner_pools`)).body.scanner_pools).toEqual([expect.objectContaining({ name: 'p2', vsName: 'vs1' })]);
    expectOntapError(await t.api.post('/api/protocols/vscan', { svm: { name: 'vs9' } }), 400, '2621462');
    expectOntapError(await t.api.post('/api/protocols/vscan', { svm: { uuid: 'x' } }), 400, '2621706');
  });

  it('DELETE needs the SVM policy disabled (10027259), then removes pools and policies', async () => {
    await disableVscan();
    expect((await t.api.patch(`${base}/on-access-policies/default_CIFS`, { enabled: false })).status).toBe(200);
    expect((await t.api.patch(`${base}/on-access-policies/pol_b`, { enabled: true })).status).toBe(200);
    expectOntapError(await t.api.del(base), 409, '10027259');
    expect((await t.api.patch(`${base}/on-access-policies/pol_b`, { enabled: false })).status).toBe(200);
    expect((await t.api.del(base)).status).toBe(200);
    const after = (await t.api.get(`${base}?fields=*`)).body;
    expect(after).toMatchObject({ enabled: false, scanner_pools: [], on_demand_policies: [] });
    expect(after.on_access_policies.map((p: { name: string }) => p.name)).toEqual(['default_CIFS']);
    expect(t.filer.runtime.dispatcher('vs1')).toBeNull();
  });

  it('POST creates pools and (disabled) policies, then enables; a failing child is named (10027259), an existing one 10027260', async () => {
    expect((await t.api.patch(`${base}/on-access-policies/default_CIFS`, { enabled: true })).status).toBe(200);
    const bad = await t.api.post('/api/protocols/vscan', { svm: { name: 'vs1' }, scanner_pools: [{ name: 'px', servers: [], privileged_users: ['LAB\\u'] }] });
    expectOntapError(bad, 400, '10027259');
    expect(bad.body.error.message).toContain('px');
    const r = await t.api.post('/api/protocols/vscan?return_records=true', {
      svm: { uuid: t.uuid }, scanner_pools: [{ name: 'pool9', servers: ['builtin:'], privileged_users: ['LAB\\u'], role: 'primary' }],
      on_access_policies: [{ name: 'nested', scope: { max_file_size: 2048 } }],
    });
    expect(r.status).toBe(201);
    expect(r.body.records[0]).toMatchObject({ enabled: true, scanner_pools: [expect.objectContaining({ name: 'pool9' })] });
    expect((await t.api.get(`${base}/on-access-policies/nested`)).body.enabled).toBe(false);
    expectOntapError(await t.api.post('/api/protocols/vscan', { svm: { name: 'vs1' }, enabled: true, on_access_policies: [{ name: 'nested' }] }), 409, '10027260');
  });
});

describe('on-demand policies', () => {
  it('create, read, modify, delete with their codes', async () => {
    const p = `${base}/on-demand-policies`;
    expectOntapError(await t.api.post(p, { name: 'od1', log_path: '/vol1', scan_paths: ['/nope/'] }), 400, '10027168');
    expectOntapError(await t.api.post(p, { name: 'od1', log_path: '/vol9', scan_paths: ['/vol1/'] }), 400, '10027176');
    expectOntapError(await t.api.post(p, { name: 'od 1', log_path: '/vol1', scan_paths: ['/vol1/'] }), 400, '10027178');
    expectOntapError(await t.api.post(p, { name: 'od1', log_path: '/vol1', scan_paths: ['/vol1/'], scope: { exclude_paths: ['\\x'] } }), 400, '10027174');
    expectOntapError(await t.api.post(p, { name: 'od1', log_path: '/vol1', scan_paths: ['/vol1/'], 'schedule.name': 'never' }), 404, '10027167');
    const r = await t.api.post(p, { name: 'od1', log_path: '/vol1', scan_paths: ['/vol1/', '/vol_ro/'], 'scope.exclude_extensions': ['mp3'], 'schedule.name': 'weekly' });
    expect(r.status).toBe(201);
    expect((await t.api.get(`${p}/od1`)).body).toMatchObject({ name: 'od1', log_path: '/vol1', scan_paths: ['/vol1/', '/vol_ro/'], schedule: { name: 'weekly' }, scope: { include_extensions: ['*'], max_file_size: 10737418240, exclude_extensions: ['mp3'] } });
    expectOntapError(await t.api.post(p, { name: 'od2', log_path: '/vol1', scan_paths: ['/vol1/'], 'schedule.name': 'daily' }), 409, '10027255');
    expect((await t.api.patch(`${p}/od1`, { scan_paths: ['/vol1/'] })).status).toBe(200);
    expect((await t.api.get(`${p}?fields=scan_paths`)).body.records[0].scan_paths).toEqual(['/vol1/']);
    expect((await t.api.del(`${p}/od1`)).status).toBe(200);
    expectOntapError(await t.api.del(`${p}/od1`), 404, '4');
  });
});

describe('persistence', () => {
  it('a restart keeps the configuration and the file attributes', async () => {
    const before = (await t.api.get(`${base}?fields=*`)).body;
    const vol = t.filer.runtime.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'eicar.com'), kEicar);
    expect(await t.filer.runtime.engine('vs1').open(accessOf(resolveInVolume(vol, 'eicar.com')))).toMatchObject({ allow: false, reason: 'infected' });
    await t.filer.runtime.engine('vs1').drain();
    t = await t.restart();
    expect(t.uuid).toBe(before.svm.uuid);
    expect((await t.api.get(`${base}?fields=*`)).body).toEqual(before);
    expect((await t.api.get(`${base}/files?path=/vol1/eicar.com`)).body).toMatchObject({ scan_result: 'infected' });
    expect(t.filer.runtime.engine('vs1').policy.policy.name).toBe('default_CIFS');
  });
});
