// The management commands' tables, from ONTAP-shaped JSON (ONTAP-API.md §1.3), and their wiring (SVM
// lookup, `_links.next` paging, Basic auth, --json, --follow) against a real HTTPS server answering
// those shapes. End-to-end tests against the management server live with it.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/index.js';
import { renderEvents, renderExplain, renderFile, renderPolicies, renderPools, renderServers, renderStatus } from '../../src/cli/render.js';
import { testCertificate } from '../support/https.js';

const svm = { uuid: '179d3c85-7053-11e8-b9b8-005056b41bd1', name: 'vs1' };
const cluster = { name: 'clus1', uuid: 'c1', version: { full: 'NetApp Release 9.14.1: Mon Jan 01 00:00:00 UTC 2024', generation: 9, major: 14, minor: 1 } };
const defaultCifs = {
  svm, name: 'default_CIFS', enabled: true, mandatory: true, protocol: 'CIFS', owner: 'cluster',
  scope: { max_file_size: 2147483648, include_extensions: ['*'], scan_without_extension: true, scan_readonly_volumes: false, only_execute_access: false },
};
const custom = {
  svm, name: 'pol-exec', enabled: false, mandatory: false, protocol: 'CIFS', owner: 'vserver',
  scope: { max_file_size: 1073741824, include_extensions: ['exe', 'dll'], exclude_extensions: ['tmp'], exclude_paths: ['\\vol1\\scratch\\'], scan_without_extension: false, scan_readonly_volumes: true, only_execute_access: true },
};
const pool = { svm, name: 'scanner-1', servers: ['1.1.1.1', '10.72.204.27'], privileged_users: ['cifs\\u1', 'cifs\\u2'], role: 'primary', cluster: { uuid: 'c1', name: 'clus1' } };
const serverStatus = [
  { ip: '1.1.1.1', state: 'connected', type: 'primary', update_time: '2026-11-28T06:00:00Z', vendor: 'avscan', version: '0.1.0', node: { name: 'node1' }, svm },
  { ip: '10.72.204.27', state: 'disconnected', type: 'primary', update_time: '2026-11-28T06:01:00Z', disconnected_reason: 'remote_closed', node: { name: 'node1' }, svm },
];
const vscan = { svm, enabled: true, scanner_pools: [{ name: 'scanner-1', role: 'primary' }], on_access_policies: [{ name: 'default_CIFS', enabled: true }, { name: 'pol-exec', enabled: false }] };
const events = [
  { id: 1, time: '2026-11-28T06:00:00Z', type: 'scanner.connected', svm: 'vs1', server: '1.1.1.1' },
  { id: 2, time: '2026-11-28T06:00:05Z', type: 'file.infected', svm: 'vs1', file_path: '\\vol1\\eicar.com', server: '1.1.1.1', details: { threats: ['Eicar-Test-Signature'], response: 'quarantined' } },
];

describe('tables from ONTAP JSON', () => {
  it('status: cluster version, Vscan state, enabled policy, active pools, connected servers', () => {
    const t = renderStatus(cluster, [vscan], serverStatus);
    expect(t.split('\n')[0]).toBe('Cluster clus1 — ONTAP NetApp Release 9.14.1: Mon Jan 01 00:00:00 UTC 2024');
    expect(t).toMatch(/│ vs1 +│ enabled +│ default_CIFS +│ scanner-1 \(primary\) +│ 1\/2 +│/);
  });

  it('policies: owner, flags, sizes in units, lists joined, absent lists as -', () => {
    const t = renderPolicies([defaultCifs, custom]);
    expect(t).toMatch(/│ vs1 +│ default_CIFS +│ cluster +│ yes +│ yes +│ 2 GB +│ \* +│ - +│ - +│ - +│/);
    expect(t).toContain('exe, dll');
    expect(t).toContain('\\vol1\\scratch\\');
    expect(t).toMatch(/scan-ro-volume,\s*│?\s*(scan-execute-access)?/);
  });

  it('pools and servers', () => {
    expect(renderPools([pool])).toMatch(/│ vs1 +│ scanner-1 +│ primary +│ 1\.1\.1\.1, 10\.72\.204\.27 +│ cifs\\u1, cifs\\u2 +│ clus1 +│/);
    const s = renderServers(serverStatus);
    expect(s).toMatch(/│ vs1 +│ 10\.72\.204\.27 +│ disconnected +│ primary +│ node1 +│ - +│ - +│ 2026-11-28 06:01:00 +│ remote_closed +│/);
  });

  it('events: infected files show threats and the response', () => {
    const t = renderEvents(events);
    expect(t).toMatch(/│ 2026-11-28 06:00:05 │ vs1 +│ file.infected +│ \\vol1\\eicar.com +│ 1\.1\.1\.1 +│ Eicar-Test-Signature/);
  });

  it('explain: the decision line and every rule consulted, the deciding one marked', () => {
    const t = renderExplain({
      path: '\\vol1\\a.tmp', decision: { action: 'skip', reason: 'excluded-extension', rule: 'tmp' }, policy: { name: 'p1' }, policy_revision: 'r1',
      steps: [{ rule: 'path', said: 'valid', decided: false }, { rule: 'scope.exclude_extensions', said: 'tmp matches', decided: true }],
    });
    expect(t.split('\n')[0]).toBe('\\vol1\\a.tmp: SKIP (excluded-extension, rule tmp)');
    expect(t).toContain('policy p1 revision r1');
    expect(t).toMatch(/│ 2 +│ scope\.exclude_extensions +│ tmp matches +│ <= +│/);
  });

  it('files: one row per attribute', () => {
    const t = renderFile({ path: '\\vol1\\a.doc', scan_time: '2026-11-28T06:00:00Z', scan_result: 'clean', signature_timestamp: 1764309600000, scan_status: 'current', quarantined: false });
    expect(t).toMatch(/│ scan status +│ current +│/);
    expect(t).toMatch(/│ scanned +│ 2026-11-28 06:00:00 +│/);
    expect(t).toMatch(/│ quarantined +│ no +│/);
  });
});

describe('management commands over HTTPS', () => {
  let app: FastifyInstance;
  let url: string;
  const auths: string[] = [];
  let eventBatch = 1;
  beforeAll(async () => {
    const { key, cert } = await testCertificate();
    app = Fastify({ https: { key, cert } });
    app.addHook('onRequest', async (req) => {
      auths.push(String(req.headers.authorization));
    });
    const page = (records: unknown[], next?: string) => ({ records, num_records: records.length, _links: { self: { href: '/' }, ...(next ? { next: { href: next } } : {}) } });
    app.get('/api/cluster', async () => cluster);
    app.get('/api/svm/svms', async (req) => page([svm].filter((s) => (req.query as { name?: string }).name === undefined || s.name === (req.query as { name?: string }).name)));
    app.get('/api/protocols/vscan', async () => page([vscan]));
    app.get('/api/protocols/vscan/server-status', async () => page(serverStatus));
    // Two pages: the CLI must follow `_links.next`.
    app.get(`/api/protocols/vscan/${svm.uuid}/on-access-policies`, async (req) =>
      (req.query as { start?: string }).start === undefined ? page([defaultCifs], `/api/protocols/vscan/${svm.uuid}/on-access-policies?start=2`) : page([custom]));
    app.get(`/api/protocols/vscan/${svm.uuid}/scanner-pools`, async () => page([pool]));
    app.get(`/api/protocols/vscan/${svm.uuid}/events`, async () => page(events.slice(0, eventBatch)));
    app.get(`/api/protocols/vscan/${svm.uuid}/explain`, async (req) => ({ query: req.query, decision: { action: 'scan', reason: 'in-scope' }, steps: [] }));
    app.get(`/api/protocols/vscan/${svm.uuid}/files`, async (req) => {
      if ((req.query as { path: string }).path === '\\vol1\\none') return Promise.reject(Object.assign(new Error('no'), { statusCode: 404 }));
      return { path: (req.query as { path: string }).path, scan_status: 'not_current', scan_result: 'never_scanned', quarantined: false };
    });
    app.setErrorHandler((_e, _r, reply) => reply.code(404).send({ error: { code: '4', message: 'entry doesn\'t exist', target: 'path' } }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const a = app.server.address();
    url = `https://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  async function cli(argv: string[], signal?: AbortSignal, onOut?: (s: string) => void): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(['--insecure', '--user', 'admin', '--password', 'pw', ...argv], {
      stdout: (s) => {
        out += s;
        onOut?.(s);
      },
      stderr: (s) => (err += s), env: { AVSCAN_URL: url }, ...(signal !== undefined ? { signal } : {}),
    });
    return { code, out, err };
  }

  it('status, servers, pools; Basic auth on every request', async () => {
    expect((await cli(['status'])).out).toContain('default_CIFS');
    expect((await cli(['servers'])).out).toContain('remote_closed');
    expect((await cli(['pools', '--svm', 'vs1'])).out).toContain('scanner-1');
    expect(new Set(auths)).toEqual(new Set([`Basic ${Buffer.from('admin:pw').toString('base64')}`]));
  });

  it('policies follows _links.next; --json prints the records', async () => {
    const t = await cli(['policies']);
    expect(t.out).toContain('default_CIFS');
    expect(t.out).toContain('pol-exec');
    const j = await cli(['--json', 'policies']);
    expect(JSON.parse(j.out).map((p: { name: string }) => p.name)).toEqual(['default_CIFS', 'pol-exec']);
  });

  it('explain and files send the path and options; an API error is printed with its code', async () => {
    const e = await cli(['--json', 'explain', '\\vol1\\a.exe', '--size', '10', '--execute', '--policy', 'pol-exec']);
    expect(JSON.parse(e.out).query).toEqual({ path: '\\vol1\\a.exe', size: '10', execute: 'true', policy: 'pol-exec' });
    expect((await cli(['files', '\\vol1\\a.doc'])).out).toMatch(/│ scan status +│ not_current +│/);
    const missing = await cli(['files', '\\vol1\\none']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('avscan: 4: entry doesn\'t exist (target path)\n');
    expect((await cli(['files', 'x', '--svm', 'vs9'])).err).toContain('no svm `vs9`');
  });

  it('events --follow prints new events as they come, once each, until stopped', async () => {
    eventBatch = 1;
    const ac = new AbortController();
    const run = cli(['events', '--follow', '--interval', '0.05'], ac.signal, (s) => {
      if (s.includes('file.infected')) ac.abort();
      else if (s.includes('scanner.connected')) eventBatch = 2;
    });
    const { code, out } = await run;
    expect(code).toBe(0);
    expect(out.match(/scanner\.connected/g)).toHaveLength(1);
    expect(out).toContain('Eicar-Test-Signature (quarantined)');
  });
});
