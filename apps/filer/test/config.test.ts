// Configuration: the embedded default, a YAML file with several SVMs, environment and flag overrides,
// coded errors naming the field, and ONTAP's refusal of loopback servers outside lab mode.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilerErrorCodes, loadConfig, startFiler } from '../src/index.js';
import { expectOntapError, startTestFiler, type TestFiler } from './helpers/filer.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const yaml = `
state_dir: ./state
lab_mode: false
builtin_servers: 0
svms:
  - name: vs_a
    volumes: [{ name: data }, { name: archive, readonly: true }]
    shares: [{ name: Docs, volume: data, dir: docs, profile: strict }]
    vscan:
      enabled: false
      scanner_pools: [{ name: remote, servers: [10.1.2.3, "icap://av.example.com:1344/avscan"], privileged_users: ["CORP\\\\svc-av"] }]
  - name: vs_b
    cifs_server: false
    volumes: [{ name: data, path: ./elsewhere/b-data }]
`;

describe('loadConfig', () => {
  it('the embedded default: vs1 with vol1 and vol_ro, lab mode, two built-in servers, ./var, port 8443 or next', () => {
    const c = loadConfig({}, {}, tmp);
    expect(c).toMatchObject({ embedded: true, labMode: true, builtinServers: 2, stateDir: path.join(tmp, 'var'), port: 8443, host: '127.0.0.1', portAttempts: 20 });
    expect(c.svms.map((s) => [s.name, s.volumes.map((v) => [v.name, v.readonly ?? false])])).toEqual([['vs1', [['vol1', false], ['vol_ro', true]]]]);
    expect(c.users).toEqual([{ name: 'admin' }]);
  });

  it('environment, then flags override', () => {
    const env = { AVSCAN_STATE_DIR: '/tmp/s', AVSCAN_PORT: '9000', AVSCAN_HOST: '::1', AVSCAN_USER: 'ops', AVSCAN_PASSWORD: 'pw' };
    expect(loadConfig({}, env, tmp)).toMatchObject({ stateDir: '/tmp/s', port: 9000, portAttempts: 0, host: '::1', users: [{ name: 'ops', password: 'pw' }] });
    expect(loadConfig({ port: '9443', stateDir: 'x', password: 'other' }, env, tmp)).toMatchObject({ stateDir: path.join(tmp, 'x'), port: 9443, users: [{ name: 'ops', password: 'other' }] });
  });

  it('a YAML file with several SVMs, folders relative to the file', () => {
    writeFileSync(path.join(tmp, 'filer.yaml'), yaml);
    const c = loadConfig({ config: 'filer.yaml' }, {}, tmp);
    expect(c).toMatchObject({ embedded: false, labMode: false, builtinServers: 0, stateDir: path.join(tmp, 'state') });
    expect(c.svms[1]).toMatchObject({ name: 'vs_b', cifsServer: false, volumes: [{ name: 'data', root: path.join(tmp, 'elsewhere', 'b-data') }] });
  });

  it.each([
    ['svms: [{ name: a, volumes: [{ name: v }], colour: red }]', 'svms[0].colour'],
    ['svms: [{ name: "a b", volumes: [{ name: v }] }]', 'svms[0].name'],
    ['svms: [{ name: a, volumes: [] }]', 'svms[0].volumes'],
    ['svms: [{ name: a, volumes: [{ name: v }], shares: [{ name: s, volume: v, profile: loud }] }]', 'svms[0].shares[0].profile'],
    ['rest: { port: 70000 }\nsvms: [{ name: a, volumes: [{ name: v }] }]', 'rest.port'],
    ['users: [{ name: u }]\nsvms: [{ name: a, volumes: [{ name: v }] }]', 'users[0].password'],
    ['svms: [{ name: a, volumes: [{ name: v }] }]\nlab_mode: maybe', 'lab_mode'],
    ['svms: [', 'config'],
  ])('refuses %j naming %s', (text, target) => {
    const f = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, text);
    expect(() => loadConfig({ config: f }, {}, tmp)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target }));
  });

  it('the README example loads', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const f = path.join(tmp, 'readme.yaml');
    writeFileSync(f, example);
    const c = loadConfig({ config: f }, {}, tmp);
    expect(c).toMatchObject({ host: '0.0.0.0', port: 8443, labMode: false, builtinServers: 0, users: [{ name: 'admin', password: 's3cret' }, { name: 'monitor' }] });
    expect(c.svms[0]).toMatchObject({ name: 'vs1', volumes: [{ name: 'vol1' }, { name: 'archive', root: '/srv/archive', readonly: true }] });
    expect(c.svms[0]!.vscan?.scanner_pools?.[0]?.privileged_users).toEqual(['CORP\\svc-av']);
  });

  it('a Vscan seed that breaks ONTAP rules is refused at start, naming the field', async () => {
    const f = path.join(tmp, 'bad-vscan.yaml');
    writeFileSync(f, 'builtin_servers: 0\nsvms: [{ name: a, volumes: [{ name: v }], vscan: { scanner_pools: [{ name: p, servers: [127.0.0.1], privileged_users: ["D\\\\u"] }] } }]\n');
    const c = loadConfig({ config: f, stateDir: path.join(tmp, 'bad-vscan'), port: 0 }, {}, tmp);
    await expect(startFiler(c)).rejects.toMatchObject({ code: FilerErrorCodes.INVALID_CONFIG, target: 'svms[0].vscan.servers', message: expect.stringContaining('10027261') });
  });
});

describe('a filer from a configuration file (no lab mode)', () => {
  let t: TestFiler;
  beforeAll(async () => {
    t = await startTestFiler({ config: path.join(tmp, 'filer.yaml') });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('each SVM has its own Vscan configuration', async () => {
    const list = (await t.api.get('/api/protocols/vscan?fields=svm.name,enabled,scanner_pools')).body.records;
    expect(list.map((r: { svm: { name: string } }) => r.svm.name)).toEqual(['vs_a', 'vs_b']);
    expect(list[0].scanner_pools.map((p: { name: string }) => p.name)).toEqual(['remote']);
    expect(list[1].scanner_pools).toEqual([]);
    expect(t.filer.runtime.share('vs_a', 'docs')).toMatchObject({ volume: 'data', dir: 'docs', profile: 'strict' });
  });

  it('refuses loopback, multicast and local servers (10027261, IPv6 10027262)', async () => {
    const p = `/api/protocols/vscan/${t.uuid}/scanner-pools`;
    const users = ['CORP\\svc'];
    for (const s of ['127.0.0.1', '127.9.9.9:3310', '224.0.0.1', '255.255.255.255', '0.0.0.0', 'localhost', 'builtin:', 'clamd+unix:///run/clamd.sock', 'clamd://127.0.0.1:3310']) {
      expectOntapError(await t.api.post(p, { name: 'lo', servers: [s], privileged_users: users }), 400, '10027261');
    }
    for (const s of ['::1', '::', 'fe80::1', 'ff02::1', '::ffff:10.0.0.1']) {
      expectOntapError(await t.api.post(p, { name: 'lo', servers: [s], privileged_users: users }), 400, '10027262');
    }
    expect((await t.api.post(p, { name: 'ok', servers: ['10.0.0.7', '2001:db8::7'], privileged_users: users })).status).toBe(201);
  });

  it('clamd address options flow through to the dispatcher (`?scan=path`, `?session=0`); a typo is refused', async () => {
    const p = `/api/protocols/vscan/${t.uuid}/scanner-pools`;
    const users = ['CORP\\svc'];
    const servers = ['clamd://10.0.0.9:3310?session=0&scan=path', 'clamd://10.0.0.10?scan=path'];
    expect((await t.api.post(p, { name: 'bypath', servers, privileged_users: users })).status).toBe(201);
    const pools = (await t.api.get(`/api/protocols/vscan/${t.uuid}/scanner-pools?fields=servers`)).body.records;
    expect(pools.find((x: { name: string }) => x.name === 'bypath').servers).toEqual(servers);
    const typo = await t.api.post(p, { name: 'typo', servers: ['clamd://10.0.0.9?scan=paths'], privileged_users: users });
    expect(typo.status).toBe(400);
    expect(JSON.stringify(typo.body)).toContain('scan');
  });

  it('Vscan cannot be enabled on an SVM without a CIFS server (10027011)', async () => {
    const b = t.filer.runtime.svm('vs_b')!;
    expect((await t.api.post(`/api/protocols/vscan/${b.uuid}/scanner-pools`, { name: 'p', servers: ['10.0.0.8'], privileged_users: ['CORP\\svc'] })).status).toBe(201);
    expectOntapError(await t.api.patch(`/api/protocols/vscan/${b.uuid}`, { enabled: true }), 409, '10027011');
  });
});
