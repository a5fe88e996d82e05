#!/usr/bin/env node
// One-step set-up for a fresh clone: install the workspace with the pinned pnpm when the lockfile or a
// manifest changed since the last install, make sure better-sqlite3's native addon is built, then build
// every package with `tsc -b` (incremental: a no-op when nothing changed). `--no-build` stops after install.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pnpm, repoRoot, run } from './pnpm.mjs';
import { useSupportedNode } from './runtime.mjs';

await useSupportedNode();

const stampFile = path.join(repoRoot, 'node_modules', '.avscan-setup-stamp');

function manifests() {
  const files = ['pnpm-lock.yaml', 'package.json', 'pnpm-workspace.yaml', 'bench/package.json', 'test/package.json'];
  for (const group of ['packages', 'apps']) {
    const dir = path.join(repoRoot, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) files.push(`${group}/${name}/package.json`);
  }
  return files;
}

function fingerprint() {
  const hash = createHash('sha256').update(process.version);
  for (const file of manifests()) {
    const full = path.join(repoRoot, file);
    if (existsSync(full)) hash.update(file).update(readFileSync(full));
  }
  return hash.digest('hex');
}

async function install() {
  const want = fingerprint();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) return;
  console.log('avscan: installing dependencies with pnpm');
  const code = await pnpm(['install', '--frozen-lockfile', '--loglevel=info']);
  if (code !== 0) {
    console.error('avscan: pnpm install failed (see above)');
    process.exit(code);
  }
  await ensureSqliteAddon();
  writeFileSync(stampFile, want);
}

// better-sqlite3 loads a prebuilt binary; should none fit this platform, compile it here rather than
// fail at run time.
async function ensureSqliteAddon() {
  const storeDir = path.join(repoRoot, 'packages', 'store');
  if (!existsSync(path.join(storeDir, 'node_modules', 'better-sqlite3'))) return;
  const probe = "const D=require('better-sqlite3'); new D(':memory:').close()";
  if ((await run(process.execPath, ['-e', probe], { cwd: storeDir, stdio: 'ignore' })) === 0) return;
  console.log('avscan: no prebuilt better-sqlite3 addon loads here; compiling it from source');
  const code = await run('npx', ['-y', 'node-gyp', 'rebuild', '--release'], { cwd: path.join(storeDir, 'node_modules', 'better-sqlite3') });
  if (code !== 0 || (await run(process.execPath, ['-e', probe], { cwd: storeDir })) !== 0) {
    console.error('avscan: better-sqlite3 could not be built (needs python3, make, g++ and Node headers)');
    process.exit(1);
  }
}

await install();
if (!process.argv.includes('--no-build')) {
  const code = await run(path.join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-b']);
  if (code !== 0) {
    console.error('avscan: build failed (tsc -b)');
    process.exit(code);
  }
}
