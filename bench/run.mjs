#!/usr/bin/env node
// Runs benchmarks, each in a fresh Node process: `npm run bench` (all) or `npm run bench -- <name> …`.
// A bench is bench/<name>.ts, compiled to bench/dist/<name>.js by `tsc -b`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useSupportedNode } from '../scripts/runtime.mjs';

await useSupportedNode();

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist');
const all = readdirSync(dist).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
const wanted = process.argv.slice(2).filter((a) => a !== '--');
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: unknown benchmark \`${name}\` (have: ${all.join(', ')})`);
    process.exitCode = 2;
    continue;
  }
  const res = spawnSync(process.execPath, ['--expose-gc', path.join(dist, `${name}.js`)], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
if (failed) {
  console.error(`bench: ${failed} benchmark(s) crashed`);
  process.exitCode = 1;
}
