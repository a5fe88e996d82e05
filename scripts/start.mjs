#!/usr/bin/env node
// `npm start`: the main job. Until the filer emulator lands (apps/filer), it runs a demonstration of the
// on-access decider on ONTAP's default_CIFS policy with a few exclusions: one line per access, with the
// rule that decided, then how long a decision takes.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './pnpm.mjs';

const policyModule = pathToFileURL(path.join(repoRoot, 'packages', 'policy', 'dist', 'index.js')).href;
const { compilePolicy } = await import(policyModule);

const policyJson = {
  name: 'default_CIFS',
  enabled: true,
  mandatory: true,
  scope: {
    include_extensions: ['*'],
    exclude_extensions: ['tmp', 'log', '*.bak'],
    exclude_paths: ['\\vol1\\scratch\\', '\\vol1\\home\\*\\AppData'],
    max_file_size: 2147483648,
    only_execute_access: false,
    scan_readonly_volumes: false,
    scan_without_extension: true,
  },
};
const policy = compilePolicy(policyJson);

const accesses = [
  { path: '\\vol1\\docs\\report.docx', size: 48_213 },
  { path: '/vol1/docs/REPORT.DOCX.', size: 48_213 },
  { path: '\\vol1\\docs\\setup.exe:Zone.Identifier', size: 1_024 },
  { path: '\\vol1\\scratch\\build.exe', size: 4_096 },
  { path: '\\vol1\\home\\alice\\AppData\\Local\\x.dll', size: 9_000 },
  { path: '\\vol1\\db\\orders.mdf.bak', size: 10_485_760 },
  { path: '\\vol1\\logs\\app.log', size: 300 },
  { path: '\\vol1\\Makefile', size: 800 },
  { path: '\\vol1\\iso\\disk.iso', size: 4_294_967_296 },
  { path: '\\vol1\\ro\\tool.exe', size: 2_000, readonlyVolume: true },
  { path: '\\vol1\\..\\..\\etc\\passwd', size: 10 },
];

const rows = accesses.map((a) => {
  const d = policy.decide(a);
  return [a.path + (a.readonlyVolume ? '  (read-only volume)' : ''), String(a.size), d.action, d.reason, d.rule ?? ''];
});
const head = ['path', 'size', 'action', 'reason', 'rule'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(`avscan decider demo — policy \`${policyJson.name}\`\n`);
console.log(line(head));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));

const n = 1_000_000;
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) policy.decide(accesses[i % accesses.length]);
const ns = Number(process.hrtime.bigint() - t0) / n;
console.log(`\n${n.toLocaleString('en')} decisions: ${ns.toFixed(0)} ns each (${(1e9 / ns / 1e6).toFixed(1)} M/s)`);
console.log('\nthe filer emulator (REST API, data path) is not built yet; see README.md for what exists');
