// Which store a node runs on: `store:` / AVSCAN_STORE_URL / --store (a postgres:// URL, else SQLite), the
// node's name (`node:` / AVSCAN_NODE_ID / --node) and CAVA index (`node_index:` / AVSCAN_NODE_INDEX /
// --node-index). A bad URL is a coded configuration error naming its source, and nothing starts; a
// database that cannot be reached is the store's coded error, and nothing keeps running.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FilerErrorCodes, loadConfig } from '../src/index.js';
import { defaultNodeId, storeUrl } from '../src/config/config.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-store-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const kUrl = 'postgresql://avscan@db.example:5432/avscan';
const kSocketUrl = 'postgresql://postgres@/avscan?host=%2Ftmp%2Fpg';

describe('store configuration', () => {
  it('SQLite by default, with the store default node id node1 and node index 0', () => {
    const c = loadConfig({}, {}, tmp);
    expect(c.storeUrl).toBeUndefined();
    expect(c.nodeId).toBe('node1');
    expect(c.nodeIndex).toBe(0);
  });

  it('file, then environment, then flag', () => {
    const f = path.join(tmp, 'cluster.yaml');
    writeFileSync(f, `store: ${kUrl}\nnode: n1\nnode_index: 1\nsvms: [{ name: a, volumes: [{ name: v }] }]\n`);
    expect(loadConfig({ config: f }, {}, tmp)).toMatchObject({ storeUrl: kUrl, nodeId: 'n1', nodeIndex: 1 });
    const env = { AVSCAN_STORE_URL: kSocketUrl, AVSCAN_NODE_ID: 'n2', AVSCAN_NODE_INDEX: '2' };
    expect(loadConfig({ config: f }, env, tmp)).toMatchObject({ storeUrl: kSocketUrl, nodeId: 'n2', nodeIndex: 2 });
    expect(loadConfig({ config: f, store: 'postgres://h/other', node: 'n3', nodeIndex: '3' }, env, tmp)).toMatchObject({ storeUrl: 'postgres://h/other', nodeId: 'n3', nodeIndex: 3 });
  });

  it('on PostgreSQL a node without a name gets one from its host and state folder: stable, distinct per folder', () => {
    const a = loadConfig({ store: kUrl, stateDir: 'a' }, {}, tmp);
    const b = loadConfig({ store: kUrl, stateDir: 'b' }, {}, tmp);
    expect(a.nodeId).toBe(defaultNodeId(path.join(tmp, 'a')));
    expect(a.nodeId).toMatch(/^[A-Za-z0-9_.-]+-[0-9a-f]{8}$/);
    expect(a.nodeId).not.toBe(b.nodeId);
    expect(loadConfig({ store: kUrl, stateDir: 'a' }, {}, tmp).nodeId).toBe(a.nodeId);
  });

  it.each([
    ['sqlite:///var/isi_avscan.db', 'not a postgres URL'],
    ['mysql://h/db', 'another database'],
    ['postgresql://h', 'no database'],
    ['postgresql://h/', 'empty database'],
    ['postgresql://h/a/b', 'a path, not a database'],
    ['postgresql:///avscan', 'no host and no socket'],
    ['postgresql://h:notaport/db', 'a bad port'],
    ['', 'empty'],
  ])('refuses %j (%s), naming where it came from', (url, _why) => {
    expect(() => storeUrl(url, 'store')).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target: 'store' }));
    expect(() => loadConfig({}, { AVSCAN_STORE_URL: url }, tmp)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target: 'AVSCAN_STORE_URL' }));
    expect(() => loadConfig({ store: url }, {}, tmp)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target: '--store' }));
  });

  it('accepts host, socket and user forms pg takes', () => {
    for (const u of [kUrl, kSocketUrl, 'postgres://h/db', 'postgresql:///avscan?host=/run/postgresql', 'postgresql://u:p%40ss@[::1]:5433/db?sslmode=disable']) expect(storeUrl(u, 'store')).toBe(u);
  });

  it.each([
    [{ node: 'a b' }, {}, '--node'],
    [{}, { AVSCAN_NODE_ID: 'x'.repeat(129) }, 'AVSCAN_NODE_ID'],
    [{ nodeIndex: '64' }, {}, '--node-index'],
    [{}, { AVSCAN_NODE_INDEX: 'one' }, 'AVSCAN_NODE_INDEX'],
  ])('refuses node %j %j naming %s', (flags, env, target) => {
    expect(() => loadConfig(flags, env, tmp)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target }));
  });

  it('`store:` in a file must be a string URL', () => {
    const f = path.join(tmp, 'bad-store.yaml');
    writeFileSync(f, 'store: { url: x }\nsvms: [{ name: a, volumes: [{ name: v }] }]\n');
    expect(() => loadConfig({ config: f }, {}, tmp)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target: 'store' }));
  });
});

describe('npm start with a store URL', () => {
  const start = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [path.join(repo, 'scripts', 'start.mjs'), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

  it('a bad URL exits 2 with the code and its source before anything is created', () => {
    const state = path.join(tmp, 'bad-url-state');
    const r = start(['--port', '0'], { AVSCAN_STATE_DIR: state, AVSCAN_STORE_URL: 'postgresql://db.example' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/AVSCAN_STORE_URL.*\[ERR_FILER_INVALID_CONFIG\]/s);
    expect(existsSync(state)).toBe(false);
  });

  it('a database that cannot be reached exits 2 with the store error, nothing left listening', () => {
    const state = path.join(tmp, 'unreachable-state');
    const r = start(['--port', '0', '--store', `postgresql://postgres@/avscan?host=${encodeURIComponent(path.join(tmp, 'no-such-socket-dir'))}`], { AVSCAN_STATE_DIR: state });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_STOREPG_UNAVAILABLE]');
    expect(r.stdout).not.toContain('avscan filer emulator:');
  });
});
