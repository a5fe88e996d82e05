// Two emulator nodes on one PostgreSQL act as one filer (issue 13, docs/cluster.md): real processes
// (`scripts/start.mjs`, as `npm start` runs it), each with its own state folder, port, node id and
// built-in scanner server, sharing the volume folder (the cluster file system) and the store. A file
// scanned through node 1's data path is scan-current on node 2 with no scanner request there; EICAR
// denied on node 1 is denied on node 2 (quarantine shared); each node's events are visible through
// the other's API; a quarantine released on node 2 reaches node 1's cache. PostgreSQL is started by the test (unix socket in a temp dir); without it the
// suite is skipped loudly, under CI=true it fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kServerHookMs, requirePostgres, startPostgres, type PostgresHandle } from '../../../../packages/store-pg/test/support/postgres.js';
import { client, freePort, kEicar, type Client } from '../helpers/filer.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const kUuid = '3c5e0e4a-6f0b-4c1e-9a55-0d1c9b1f7a01';
const kPassword = 'cluster-test';

interface Node {
  readonly id: string;
  readonly api: Client;
  readonly child: ChildProcess;
  output(): string;
}

/** Sum of a Prometheus counter's samples for the SVM (all label values). */
function counter(metrics: string, name: string): number {
  let n = 0;
  for (const line of metrics.split('\n')) if (line.startsWith(`${name}{`) && line.includes('svm="vs1"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

describe.skipIf(!requirePostgres())('two emulator nodes on one PostgreSQL', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-cluster-'));
  const volume = path.join(tmp, 'shared', 'vol1');
  let pg: PostgresHandle | undefined;
  const nodes: Node[] = [];

  async function startNode(id: string, index: number, url: string): Promise<Node> {
    const [port, scanner] = [await freePort(), await freePort()];
    const config = path.join(tmp, `${id}.yaml`);
    writeFileSync(config, [
      'lab_mode: true',
      // The test counts scans exactly: no watcher rescans the files it writes into the shared folder.
      'watch_volumes: false',
      `builtin_servers: [${scanner}]`,
      'svms:',
      `  - name: vs1`,
      `    uuid: ${kUuid}`,
      `    volumes: [{ name: vol1, path: ${JSON.stringify(volume)} }]`,
      '    vscan:',
      '      enabled: true',
      '      default_cifs_enabled: true',
      `      scanner_pools: [{ name: pool1, servers: ["127.0.0.1:${scanner}"], privileged_users: ['LAB\\avscan'] }]`,
      '',
    ].join('\n'));
    const child = spawn(process.execPath, [path.join(repo, 'scripts', 'start.mjs'), '--config', config, '--state-dir', path.join(tmp, id), '--port', String(port), '--node', id, '--node-index', String(index)], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AVSCAN_STORE_URL: url, AVSCAN_USER: 'admin', AVSCAN_PASSWORD: kPassword },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const api = client(`https://127.0.0.1:${port}`, 'admin', kPassword);
    const node: Node = { id, api, child, output: () => out };
    nodes.push(node);
    // Bounded wait for the API (a hook cannot use expect.poll): 90 s covers a start on a loaded machine.
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`node ${id} exited (${child.exitCode}):\n${out}`);
      if (i >= 360) throw new Error(`node ${id} did not answer within 90 s:\n${out}`);
      const status = await api.get('/api/cluster').then((r) => r.status, () => 0);
      if (status === 200) return node;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    mkdirSync(volume, { recursive: true });
    pg = await startPostgres();
    const url = pg.url(await pg.createDatabase('filer_cluster'));
    // One after the other: the second also finds the schema migrated (both racing is the store's own test).
    await startNode('n1', 0, url);
    await startNode('n2', 1, url);
  }, kServerHookMs);

  afterAll(async () => {
    // Graceful stop by PID (each node closes its store), then the database.
    await Promise.all(nodes.map(async (n) => {
      await n.api.close();
      if (n.child.exitCode !== null) return;
      const gone = new Promise((r) => n.child.once('exit', r));
      n.child.kill('SIGTERM');
      const timer = setTimeout(() => n.child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }));
    await pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }, kServerHookMs);

  const open = (n: Node, name: string) => n.api.get(`/data/vs1/vol1/${name}?op=open&mode=read`);
  const metrics = async (n: Node) => (await n.api.get('/metrics')).text;

  it('a file scanned through node 1 is scan-current on node 2, with no scanner request there', async () => {
    const [n1, n2] = nodes as [Node, Node];
    writeFileSync(path.join(volume, 'report.txt'), 'quarterly numbers\n');
    const first = await open(n1, 'report.txt');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ allow: true, reason: 'clean' });
    const second = await open(n2, 'report.txt');
    expect(second.status).toBe(200);
    // Node 1 answers before its record commits: node 2 either finds the record (scan-current) or waits
    // for node 1's lock and takes its verdict (clean); never a scan of its own.
    expect(second.body).toMatchObject({ allow: true, reason: expect.stringMatching(/^(scan-current|clean)$/) });
    expect(counter(await metrics(n1), 'avscan_scans_total')).toBe(1);
    expect(counter(await metrics(n2), 'avscan_scans_total')).toBe(0);
  });

  it('EICAR denied on node 1 is denied on node 2 (quarantine shared), still without a scan on node 2', async () => {
    const [n1, n2] = nodes as [Node, Node];
    writeFileSync(path.join(volume, 'eicar.com'), kEicar);
    const denied = await open(n1, 'eicar.com');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: 'infected' });
    const there = await open(n2, 'eicar.com');
    expect(there.status).toBe(403);
    // Quarantined once node 1's record committed; infected when node 2 waited for node 1's lock and took its verdict.
    expect(there.body.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: expect.stringMatching(/^(quarantined|infected)$/) });
    // Later accesses on node 2 are denied from the shared attributes.
    const again = await open(n2, 'eicar.com');
    expect(again.body.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: 'quarantined' });
    expect(counter(await metrics(n2), 'avscan_scans_total')).toBe(0);
    // The file's attributes read through node 2's API are node 1's verdict.
    const file = await n2.api.get(`/api/protocols/vscan/${kUuid}/files?path=${encodeURIComponent('/vol1/eicar.com')}`);
    expect(file.body).toMatchObject({ scan_result: 'infected', quarantined: true, modified_since_scan: false });
  });

  it('a quarantine released through node 2 is heard by node 1: its next open scans again instead of denying from its cache', async () => {
    const [n1, n2] = nodes as [Node, Node];
    const before = counter(await metrics(n1), 'avscan_scans_total');
    expect((await open(n1, 'eicar.com')).body.error).toMatchObject({ reason: 'quarantined' });
    const released = await n2.api.patch(`/api/protocols/vscan/${kUuid}/files?path=${encodeURIComponent('/vol1/eicar.com')}`, { quarantined: false });
    expect(released.status).toBe(200);
    // Still EICAR, so the rescan denies it again — as `infected`, from a scan on node 1. Node 1's cache
    // hears the release by NOTIFY (milliseconds after node 2's commit): until then it still says quarantined.
    await expect.poll(async () => (await open(n1, 'eicar.com')).body.error.reason, { timeout: 5000, interval: 20 }).toBe('infected');
    expect(counter(await metrics(n1), 'avscan_scans_total')).toBe(before + 1);
  });

  it('events of both nodes are visible through either node\'s API', async () => {
    const [n1, n2] = nodes as [Node, Node];
    const q = `/api/protocols/vscan/${kUuid}/events?fields=*&max_records=1000`;
    for (const n of [n1, n2]) {
      const r = await n.api.get(q);
      expect(r.status).toBe(200);
      const records = r.body.records as Array<{ type: string; node?: { name: string }; file_path?: string }>;
      expect(records.some((e) => e.type === 'file.infected' && e.node?.name === 'n1')).toBe(true);
      expect(new Set(records.flatMap((e) => (e.node === undefined ? [] : [e.node.name])))).toEqual(new Set(['n1', 'n2']));
    }
  });
});
