// engine-profile: where the engine's CPU goes for one small file, end to end. Profiles (V8's CPU
// profiler, as `node --cpu-prof`, limited to the measured loop) a child that opens N unique,
// unscanned 1 KiB files one at a time through the whole engine to one real clamd, then prints the
// CPU per file by package and by function of ours (time in Node internals and native bindings is
// charged to the function of ours that called it), beside the raw IDSESSION client profiled the
// same way; then both again in scan-by-path mode (`?scan=path` engine, raw `zSCAN` client). Needs clamd.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clamdAvailable } from './lib/clamd.js';
import { costTable } from './lib/cpuprofile.js';
import { formatNumber, header, result, table } from './lib/harness.js';

header('engine-profile');
if (!clamdAvailable()) {
  console.log('clamd is not installed: run `bash scripts/real-scanners.sh install`');
  process.exit(0);
}
const kFiles = Number(process.env.ENGINE_PROFILE_FILES ?? 3000);
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'profile-child.js');
const perFile: Record<string, number> = {};
const cpuPerFile: Record<string, number> = {};
const wallPerFile: Record<string, number> = {};
// ENGINE_PROFILE_ONLY=engine-path,zscan profiles a subset (quicker when iterating on one mode).
const kAll = ['engine', 'idsession', 'engine-path', 'zscan'] as const;
const only = process.env.ENGINE_PROFILE_ONLY?.split(',');
for (const who of kAll.filter((w) => only === undefined || only.includes(w))) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-prof-'));
  const file = path.join(dir, `${who}.cpuprofile`);
  const r = spawnSync(process.execPath, [child, who, String(kFiles), file], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`profile child ${who} failed`);
  const m = /PROFILE-CPU \S+ (\S+) (\S+)/.exec(r.stdout);
  cpuPerFile[who] = Number(m![1]);
  wallPerFile[who] = Number(m![2]);
  const locks = /PROFILE-LOCKS \S+ (\d+) (\d+)/.exec(r.stdout);
  if (locks !== null) console.log(`\n${who}: deferred scan-lock writes elided ${locks[2]} of ${locks[1]} (a scan ending within the store's lockWriteDelayMs of its lock request writes no lock row)`);
  const pkgs = costTable(file, kFiles, false);
  perFile[who] = pkgs.reduce((s, x) => s + x.usPerUnit, 0);
  console.log(`\n${who}: CPU per 1 KiB file by package (${kFiles} files)`);
  console.log(table(pkgs.slice(0, 12).map((x) => ({ where: x.where, 'µs/file': formatNumber(x.usPerUnit), share: `${(x.share * 100).toFixed(1)} %` }))));
  if (who === 'engine' || who === 'engine-path') {
    console.log(`\n${who}: top functions of ours (inclusive of the Node/native work they call)`);
    console.log(table(costTable(file, kFiles, true).slice(0, 25).map((x) => ({ where: x.where, 'µs/file': formatNumber(x.usPerUnit), share: `${(x.share * 100).toFixed(1)} %` }))));
  }
  rmSync(dir, { recursive: true, force: true });
}
if (perFile.engine !== undefined && perFile.idsession !== undefined) {
  console.log(`\nsampled (non-idle) time per file: engine ${formatNumber(perFile.engine)} µs, raw IDSESSION client ${formatNumber(perFile.idsession)} µs`);
  console.log(`process CPU (user+sys) per file: engine ${formatNumber(cpuPerFile.engine!)} µs, raw ${formatNumber(cpuPerFile.idsession!)} µs; wall per file: engine ${formatNumber(wallPerFile.engine!)} µs, raw ${formatNumber(wallPerFile.idsession!)} µs`);
}
if (perFile['engine-path'] !== undefined && perFile.zscan !== undefined) {
  console.log(`scan=path: sampled time per file: engine ${formatNumber(perFile['engine-path'])} µs, raw zSCAN client ${formatNumber(perFile.zscan)} µs; process CPU per file: engine ${formatNumber(cpuPerFile['engine-path']!)} µs, raw ${formatNumber(cpuPerFile.zscan!)} µs; wall per file: engine ${formatNumber(wallPerFile['engine-path']!)} µs, raw ${formatNumber(wallPerFile.zscan!)} µs`);
}
// Informational (no target of its own in BENCH.md): the engine's CPU per small file over the raw client's.
if (cpuPerFile.engine !== undefined && cpuPerFile.idsession !== undefined) {
  result('engine-profile', 'engine_cpu_per_small_file_vs_raw', cpuPerFile.engine / cpuPerFile.idsession, '<=', 3, 'x');
}
