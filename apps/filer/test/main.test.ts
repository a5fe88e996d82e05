// `npm start`'s program (scripts/start.mjs → main): a bad configuration exits with status 2 and a
// coded message naming the field, before anything listens; signals close gracefully, twice exits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownOnSignals } from '../src/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-main-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const start = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [path.join(repo, 'scripts', 'start.mjs'), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, AVSCAN_STATE_DIR: path.join(tmp, 'state'), ...env } });

describe('main', () => {
  it('a configuration error exits 2 with the code and the field', () => {
    const f = path.join(tmp, 'bad.json');
    writeFileSync(f, JSON.stringify({ svms: [{ name: 'a', volumes: [{ name: 'v', readonly: 'yes' }] }] }));
    const r = start(['--config', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_FILER_INVALID_CONFIG]');
    expect(r.stderr).toContain('svms[0].volumes[0].readonly');
  });

  it('a bad port from the environment or a flag names its source', () => {
    expect(start([], { AVSCAN_PORT: 'eighty' }).stderr).toMatch(/AVSCAN_PORT.*\[ERR_FILER_INVALID_CONFIG\]/s);
    expect(start(['--port', '99999']).stderr).toMatch(/--port.*\[ERR_FILER_INVALID_CONFIG\]/s);
  });
});

describe('signals', () => {
  it('the first closes gracefully and exits 0; a second while closing exits 130 at once', async () => {
    const exits: number[] = [];
    const lines: string[] = [];
    let finish!: () => void;
    const stop = shutdownOnSignals(() => new Promise<void>((r) => (finish = r)), (c) => exits.push(c), (l) => lines.push(l));
    stop('SIGINT');
    expect(exits).toEqual([]);
    stop('SIGTERM');
    expect(exits).toEqual([130]);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([130, 0]);
    expect(lines).toEqual(['avscan-filer: SIGINT, shutting down (again to exit at once)', 'avscan-filer: second SIGTERM, exiting now']);
  });

  it('a failed close exits 1', async () => {
    const exits: number[] = [];
    shutdownOnSignals(() => Promise.reject(new Error('disk gone')), (c) => exits.push(c), () => {})('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1]);
  });
});
