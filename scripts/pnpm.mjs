#!/usr/bin/env node
// Runs the pinned pnpm through npx, so a fresh machine with only node and npm can set itself up.
// Usage as a module: `await pnpm(['install'])`; as a command: `node scripts/pnpm.mjs <args…>`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PNPM_VERSION = '10.34.9';
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Environment for every child: node-gyp must build against the running Node's headers, never download them. */
export function childEnv(extra = {}) {
  const nodedir = path.resolve(path.dirname(process.execPath), '..');
  return { ...process.env, npm_config_nodedir: nodedir, npm_config_yes: 'true', ...extra };
}

export function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: 'inherit', env: childEnv(), ...options });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      console.error(`avscan: cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
  });
}

export function pnpm(args, options) {
  return run('npx', ['-y', `pnpm@${PNPM_VERSION}`, ...args], options);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { useSupportedNode } = await import('./runtime.mjs');
  await useSupportedNode();
  process.exit(await pnpm(process.argv.slice(2)));
}
