// Installable as a gateway installs it: every library package packed with `pnpm pack` (which turns
// `workspace:*` into real versions and ships only each package's `files`), the tarballs installed with
// npm into a fresh project outside the workspace, and the engine's own example run there. The example
// must answer clean / scan-current / infected / quarantined, which needs the built-in scanner's shipped
// signature file: without it every access waits out the queue timeout and is denied as a failure.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const kLibraries = ['policy', 'store', 'scanner', 'dispatch', 'engine'];
const dir = mkdtempSync(path.join(tmpdir(), 'avscan-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command to its end (killed after `timeoutMs`); resolves with its exit code and output. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('packed libraries', () => {
  it('install with npm outside the workspace and run the gateway example', { timeout: 300_000 }, async () => {
    const tarballs = path.join(dir, 'tarballs');
    mkdirSync(tarballs);
    for (const name of kLibraries) {
      const packed = await run(process.execPath, [path.join(repoRoot, 'scripts', 'pnpm.mjs'), '--dir', path.join('packages', name), 'pack', '--pack-destination', tarballs], repoRoot, 120_000);
      expect(packed.code, packed.out).toBe(0);
    }
    expect(readdirSync(tarballs).sort()).toEqual(kLibraries.map((n) => `avscan-${n}-0.1.0.tgz`).sort());

    const app = path.join(dir, 'gateway');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'gateway', version: '1.0.0', private: true, type: 'module' }));
    copyFileSync(path.join(repoRoot, 'packages', 'engine', 'examples', 'gateway.mjs'), path.join(app, 'gateway.mjs'));
    // npm runs on the Node that runs the tests (first on PATH), so `engines` is checked against it.
    // Install scripts run as for any embedder (better-sqlite3 13 has none: it ships prebuilt binaries);
    // --prefer-offline takes npm's cache first, so a warm machine needs no registry round trip.
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
    const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...files], app, 240_000, env);
    expect(installed.code, installed.out).toBe(0);

    const example = await run(process.execPath, ['gateway.mjs'], app, 30_000);
    expect(example.code, example.out).toBe(0);
    const answers = example.out.trim().split('\n').map((line) => line.trim().split(/\s+/).slice(0, 2).join(' '));
    expect(answers).toEqual(['allow clean', 'allow scan-current', 'deny infected', 'deny quarantined']);
  });
});
