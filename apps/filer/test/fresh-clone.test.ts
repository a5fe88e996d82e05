// The README's two commands on a fresh clone: `git clone` the repository into a temp dir, `npm start`
// there with the state dir and port from the environment, wait for /api/cluster over HTTPS, then stop
// it with SIGTERM (graceful) and check it exits and left its state behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { client, freePort } from './helpers/filer.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-fresh-clone-'));
let child: ChildProcess | undefined;
/** Set once every process of the group is seen gone, so afterAll never signals a recycled group id. */
let stopped = false;

afterAll(() => {
  // The process group is ours (spawned detached below); SIGKILL only if the test failed midway.
  if (child?.pid !== undefined && !stopped) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('fresh clone', () => {
  it('git clone, then npm start with AVSCAN_STATE_DIR and AVSCAN_PORT: /api/cluster answers, SIGTERM stops it', async () => {
    const clone = path.join(tmp, 'avscan');
    execFileSync('git', ['clone', '--quiet', repo, clone], { stdio: 'pipe' });
    const state = path.join(tmp, 'state');
    const port = await freePort();
    let out = '';
    child = spawn('npm', ['start'], {
      cwd: clone, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AVSCAN_STATE_DIR: state, AVSCAN_PORT: String(port), AVSCAN_USER: 'admin', AVSCAN_PASSWORD: 'fresh-clone' },
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const api = client(`https://127.0.0.1:${port}`, 'admin', 'fresh-clone');
    try {
      await expect.poll(async () => {
        if (child!.exitCode !== null) throw new Error(`npm start exited early (${child!.exitCode}):\n${out}`);
        try {
          return (await api.get('/api/cluster')).status;
        } catch {
          return 0;
        }
      }, { timeout: 240_000, interval: 500 }).toBe(200);
      expect(out).toContain('Try this:');
      expect(out).toContain(`https://127.0.0.1:${port}`);
    } finally {
      await api.close();
    }
    // SIGTERM to the whole group (npm dies of it; the filer shuts down gracefully), then wait until
    // every process of the group is gone.
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    await expect.poll(() => {
      try {
        process.kill(-child!.pid!, 0);
        return 'running';
      } catch {
        return 'gone';
      }
    }, { timeout: 30_000, interval: 100 }).toBe('gone');
    stopped = true;
    expect(out).toContain('SIGTERM, shutting down');
    // Closed cleanly: both databases checkpointed their write-ahead logs away.
    expect(existsSync(path.join(state, 'isi_avscan.db'))).toBe(true);
    expect(existsSync(path.join(state, 'filer.db'))).toBe(true);
    expect(existsSync(path.join(state, 'isi_avscan.db-wal'))).toBe(false);
    expect(existsSync(path.join(state, 'filer.db-wal'))).toBe(false);
    expect(existsSync(path.join(state, 'volumes', 'vs1', 'vol_ro'))).toBe(true);
  }, 300_000);
});
