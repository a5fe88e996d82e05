// Server status, events (paged from SQLite), explain, per-file attributes, /docs/api and /metrics.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, resolveInVolume } from '../src/index.js';
import { expectOntapError, kEicar, startTestFiler, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
let base: string;
beforeAll(async () => {
  // No volume watcher: these tests count scans exactly, and the watcher would rescan the files they
  // write straight into the volume (a close after write, as it should).
  t = await startTestFiler({ extensions: [] });
  base = `/api/protocols/vscan/${t.uuid}`;
  await t.filer.runtime.dispatcher('vs1')!.ready();
});
afterAll(async () => {
  await t?.close();
});

describe('server-status', () => {
  it('lists each built-in server of the pool, connected, with ONTAP fields', async () => {
    const r = await t.api.get('/api/protocols/vscan/server-status?fields=*');
    expect(r.status).toBe(200);
    expect(r.body.num_records).toBe(2);
    for (const s of r.body.records) {
      expect(s).toMatchObject({ svm: { name: 'vs1', uuid: t.uuid }, ip: '127.0.0.1', state: 'connected', type: 'primary', vendor: expect.any(String), version: expect.any(String), update_time: expect.any(String) });
    }
    expect((await t.api.get('/api/protocols/vscan/server-status?state=disconnected')).body.num_records).toBe(0);
  });

  it('a killed server shows disconnected with a reason', async () => {
    await t.filer.scanners[1]!.close();
    await expect.poll(async () => (await t.api.get('/api/protocols/vscan/server-status?state=disconnected&fields=disconnected_reason')).body.num_records, { timeout: 15_000, interval: 100 }).toBe(1);
    const r = await t.api.get('/api/protocols/vscan/server-status?state=disconnected&fields=disconnected_reason');
    expect(r.body.records[0].disconnected_reason).toEqual(expect.any(String));
  });
});

describe('events', () => {
  it('an infected open leaves a file.infected event; events page through _links.next', async () => {
    const vol = t.filer.runtime.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'eicar.com'), kEicar);
    expect(await t.filer.runtime.engine('vs1').open(accessOf(resolveInVolume(vol, 'eicar.com')))).toMatchObject({ allow: false, reason: 'infected' });
    await t.filer.runtime.engine('vs1').drain();
    const r = await t.api.get(`${base}/events?type=file.infected`);
    expect(r.body.records).toEqual([expect.objectContaining({ type: 'file.infected', file_path: expect.stringContaining('eicar.com'), svm: { name: 'vs1', uuid: t.uuid } })]);
    for (let i = 0; i < 25; i++) await t.filer.runtime.store.appendEvent({ type: 'test.event', svm: 'vs1', details: { i } });
    let href: string | undefined = `${base}/events?type=test.event&max_records=10`;
    const seen: number[] = [];
    while (href !== undefined) {
      const page = await t.api.get(href);
      expect(page.status).toBe(200);
      seen.push(...page.body.records.map((e: { details: { i: number } }) => e.details.i));
      href = page.body._links.next?.href;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const desc = await t.api.get(`${base}/events?type=test.event&order_by=time%20desc&max_records=1`);
    expect(desc.body.records[0].details.i).toBe(24);
    const narrow = await t.api.get(`${base}/events?type=test.event&max_records=1&fields=details`);
    expect(Object.keys(narrow.body.records[0]).sort()).toEqual(['details', 'id', 'time', 'type']);
    expectOntapError(await t.api.get(`${base}/events?fields=colour`), 400, '2');
    expect((await t.api.get(`${base}/events?type=test.event&time=<2000-01-01T00:00:00Z`)).body.num_records).toBe(0);
    expectOntapError(await t.api.get(`${base}/events?colour=red`), 400, '2');
    expectOntapError(await t.api.get(`${base}/events?time=yesterday`), 400, '2');
  });
});

describe('explain and files', () => {
  it('explains with the enabled policy, or a named (disabled) one', async () => {
    const r = await t.api.get(`${base}/explain?path=/vol1/eicar.com`);
    expect(r.body).toMatchObject({ policy: 'default_CIFS', action: 'scan', reason: 'in-scope', vscan_enabled: true });
    expect(r.body.steps.length).toBeGreaterThan(3);
    expect((await t.api.post(`${base}/on-access-policies`, { name: 'no_com', enabled: false, scope: { exclude_extensions: ['com'] } })).status).toBe(201);
    const tried = await t.api.get(`${base}/explain?path=/vol1/eicar.com&policy=no_com`);
    expect(tried.body).toMatchObject({ policy: 'no_com', action: 'skip', reason: 'excluded-extension', rule: 'com' });
    const big = await t.api.get(`${base}/explain?path=/vol1/new/big.iso&size=4294967296`);
    expect(big.body).toMatchObject({ action: 'skip', reason: 'too-large' });
    expect((await t.api.get(`${base}/explain?path=/vol_ro/x.exe&size=10`)).body).toMatchObject({ reason: 'readonly-volume' });
    expectOntapError(await t.api.get(`${base}/explain?path=/vol1/missing.txt`), 400, '2');
    expectOntapError(await t.api.get(`${base}/explain?path=/vol9/x`), 404, '4');
    expectOntapError(await t.api.get(`${base}/explain?path=/vol1/x&policy=nope&size=1`), 404, '4');
    expectOntapError(await t.api.get(`${base}/explain?path=/vol1/../../etc/passwd&size=1`), 400, '2');
  });

  it('files shows the attributes; a quarantined file is released with quarantined: false', async () => {
    const vol = t.filer.runtime.volume('vs1', 'vol1')!;
    const r = await t.api.get(`${base}/files?path=/vol1/eicar.com`);
    // An infected verdict marks the file quarantined (the engine denies it without a scan from now on).
    expect(r.body).toMatchObject({ path: '\\vol1\\eicar.com', scan_result: 'infected', scan_status: 'not_current', quarantined: true, threats: [expect.stringMatching(/eicar/i)] });
    expectOntapError(await t.api.patch(`${base}/files?path=/vol1/eicar.com`, { quarantined: true }), 400, '2');
    expect((await t.api.patch(`${base}/files?path=/vol1/eicar.com`, { quarantined: false })).status).toBe(200);
    expect((await t.api.get(`${base}/files?path=/vol1/eicar.com`)).body.quarantined).toBe(false);
    writeFileSync(path.join(vol.root, 'fresh.txt'), 'x');
    expect((await t.api.get(`${base}/files?path=/vol1/fresh.txt`)).body).toMatchObject({ scan_result: 'never_scanned', scan_status: 'not_current' });
    expectOntapError(await t.api.get(`${base}/files?path=/vol1/none.txt`), 404, '4');
  });
});

describe('/docs/api and /metrics', () => {
  it('serves the OpenAPI document generated from the route schemas, and its UI', async () => {
    const spec = await t.api.get('/docs/api/json');
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/api/cluster', '/api/protocols/vscan/{svm_uuid}/on-access-policies', '/api/protocols/vscan/{svm_uuid}/scanner-pools/{name}']));
    expect(spec.body.paths['/api/protocols/vscan/{svm_uuid}/on-access-policies'].post.requestBody).toBeDefined();
    const entry = await t.api.raw('GET', '/docs/api');
    const ui = entry.status === 302 ? await t.api.raw('GET', new URL(String(entry.headers['location']), 'https://x/docs/api/').pathname) : entry;
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger/i);
  });

  it('exports decisions, verdicts, queue depth, server state and a latency histogram', async () => {
    const r = await t.api.get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.text).toMatch(/avscan_decisions_total\{svm="vs1",reason="infected"\} 1/);
    expect(r.text).toMatch(/avscan_scans_total\{svm="vs1",verdict="infected"\} 1/);
    expect(r.text).toMatch(/avscan_queue_depth\{svm="vs1"\} 0/);
    expect(r.text).toMatch(/avscan_server_up\{svm="vs1",pool="pool1",server="clamd:\/\/127\.0\.0\.1:\d+",state="connected"\} 1/);
    expect(r.text).toMatch(/avscan_scan_duration_seconds_count\{verdict="infected"\} 1/);
  });
});
