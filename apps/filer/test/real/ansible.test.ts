// NetApp's Ansible collection (netapp.ontap, from Debian's `ansible` package, unchanged) drives the
// filer's REST API with use_rest: always: the playbook in ./ansible/vscan.yml creates, re-runs
// (no change reported), modifies and deletes, and checks that ONTAP's error codes reach the modules'
// failure messages. The collection is taken from `apt-get download ansible`, unpacked once into a
// cache folder (only ansible_collections/netapp/ontap), and found through ANSIBLE_COLLECTIONS_PATH.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kPassword, kUser, startTestFiler, type TestFiler } from '../helpers/filer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const kPlaybook = path.join(here, 'ansible', 'vscan.yml');
const kCache = process.env['AVSCAN_ANSIBLE_CACHE'] ?? path.join(os.tmpdir(), 'avscan-ansible-collections');

function haveAnsible(): boolean {
  if (existsSync('/usr/bin/ansible-playbook')) return true;
  const msg = 'ansible-playbook not found: install with `apt-get install ansible-core python3-requests`';
  if (process.env['CI'] === 'true') throw new Error(`real-clients: ${msg} (required in CI)`);
  console.warn(`\n${'!'.repeat(78)}\n!!! ANSIBLE SUITE SKIPPED: ${msg}\n${'!'.repeat(78)}\n`);
  return false;
}

/** ansible_collections/netapp/ontap from Debian's `ansible` package, unpacked once into the cache. */
function netappCollection(): string {
  const root = path.join(kCache, 'collections');
  if (existsSync(path.join(root, 'ansible_collections', 'netapp', 'ontap', 'MANIFEST.json'))) return root;
  mkdirSync(kCache, { recursive: true });
  const work = mkdtempSync(path.join(kCache, 'deb-'));
  try {
    execFileSync('apt-get', ['download', 'ansible'], { cwd: work, stdio: 'pipe' });
    const deb = readdirSync(work).find((f) => f.startsWith('ansible_') && f.endsWith('.deb'));
    if (deb === undefined) throw new Error('apt-get download ansible produced no .deb');
    const unpack = path.join(work, 'x');
    mkdirSync(unpack);
    execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards './usr/lib/python3/dist-packages/ansible_collections/netapp/ontap/*'`, 'sh', path.join(work, deb), unpack], { stdio: 'pipe' });
    const staged = path.join(work, 'collections');
    mkdirSync(path.join(staged, 'ansible_collections', 'netapp'), { recursive: true });
    execFileSync('mv', [path.join(unpack, 'usr/lib/python3/dist-packages/ansible_collections/netapp/ontap'), path.join(staged, 'ansible_collections', 'netapp', 'ontap')]);
    // Another test run may have finished first; either copy is the same.
    if (!existsSync(root)) execFileSync('mv', [staged, root]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return root;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

const available = haveAnsible();

describe.skipIf(!available)('netapp.ontap against the filer', () => {
  let t: TestFiler;
  let collections: string;
  let home: string;
  beforeAll(async () => {
    collections = netappCollection();
    home = mkdtempSync(path.join(os.tmpdir(), 'avscan-ansible-home-'));
    t = await startTestFiler();
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('the playbook passes: create, idempotent re-run, modify, delete, ONTAP error codes in failures', async () => {
    const port = new URL(t.filer.url).port;
    const vars = { filer_host: '127.0.0.1', filer_port: port, filer_user: kUser, filer_password: kPassword, svm: 'vs1', lab_server: '192.0.2.10' };
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'], HOME: home, LANG: 'C.UTF-8',
      ANSIBLE_COLLECTIONS_PATH: collections,
      ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'), ANSIBLE_REMOTE_TEMP: path.join(home, 'tmp'),
      ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0', ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    };
    const r = await run('ansible-playbook', ['-i', 'localhost,', '-c', 'local', '-e', JSON.stringify(vars), kPlaybook], env);
    if (r.code !== 0 || process.env['AVSCAN_ANSIBLE_VERBOSE'] === '1') console.error(r.out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/failed=0/);
    // The play ends where it started: default_CIFS enabled, Vscan on, no lab_policy, no lab_pool.
    const doc = t.filer.runtime.vscan('vs1');
    expect(doc).toMatchObject({ enabled: true, default_cifs_enabled: true, on_access_policies: [], on_demand_policies: [] });
    expect(doc.scanner_pools.map((p) => p.name)).toEqual(['pool1']);
  }, 300_000);
});
