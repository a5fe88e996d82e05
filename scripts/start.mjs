#!/usr/bin/env node
// `npm start`: the main job. Until the filer emulator lands (apps/filer), it demonstrates the core:
// 1. the on-access decider on ONTAP's default_CIFS policy with a few exclusions (one line per access,
//    with the rule that decided, then how long a decision takes);
// 2. the whole engine on real files under ./var/demo: SQLite attributes, the built-in scanner in
//    worker threads behind the dispatcher, one line per file operation.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './pnpm.mjs';
import { useSupportedNode } from './runtime.mjs';

await useSupportedNode();

const load = (pkg) => import(pathToFileURL(path.join(repoRoot, 'packages', pkg, 'dist', 'index.js')).href);
const { compilePolicy } = await load('policy');

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

function printTable(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}

console.log(`1. the decider — policy \`${policyJson.name}\`\n`);
printTable(['path', 'size', 'action', 'reason', 'rule'], accesses.map((a) => {
  const d = policy.decide(a);
  return [a.path + (a.readonlyVolume ? '  (read-only volume)' : ''), String(a.size), d.action, d.reason, d.rule ?? ''];
}));

const n = 1_000_000;
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) policy.decide(accesses[i % accesses.length]);
const ns = Number(process.hrtime.bigint() - t0) / n;
console.log(`\n${n.toLocaleString('en')} decisions: ${ns.toFixed(0)} ns each (${(1e9 / ns / 1e6).toFixed(1)} M/s)`);

// --- 2. the engine on real files ------------------------------------------------------------------
const { openStore, changeStampOf } = await load('store');
const { createDispatcher } = await load('dispatch');
const { createEngine } = await load('engine');
const { mkdirSync, rmSync, statSync, writeFileSync, appendFileSync } = await import('node:fs');

const demo = path.join(repoRoot, 'var', 'demo');
rmSync(demo, { recursive: true, force: true });
const vol = path.join(demo, 'vol1');
mkdirSync(path.join(vol, 'docs'), { recursive: true });
const store = openStore(path.join(demo, 'isi_avscan.db'), { nodeId: 'node1' });
const dispatcher = createDispatcher({ scanner_pools: [{ name: 'pool1', servers: ['builtin:'], role: 'primary' }] });
await dispatcher.ready();
const engine = createEngine({ store, dispatcher, policy: policyJson });

const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const files = { 'docs\\report.docx': 'quarterly numbers', 'docs\\invoice.pdf': '%PDF-1.7 demo', 'setup.exe': eicar, 'app.log': eicar };
for (const [rel, content] of Object.entries(files)) writeFileSync(path.join(vol, ...rel.split('\\')), content);
const describe = (rel) => {
  const full = path.join(vol, ...rel.split('\\'));
  const st = statSync(full, { bigint: true });
  const changeStamp = changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino });
  return { volume: 'vol1', fileId: String(st.ino), path: `\\vol1\\${rel}`, size: Number(st.size), file: full, changeStamp };
};

const rows = [];
async function op(name, rel, run) {
  const t = process.hrtime.bigint();
  const a = await run(describe(rel));
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  rows.push([name, rel, a.allow ? 'allow' : 'DENY', a.reason, a.verdict?.result === 'infected' ? a.verdict.threats.join(',') : '', `${ms.toFixed(2)} ms`]);
}
for (const rel of Object.keys(files)) await op('open', rel, (a) => engine.open(a));
for (const rel of Object.keys(files)) await op('open again', rel, (a) => engine.open(a));
appendFileSync(path.join(vol, 'docs', 'report.docx'), ' (revised)');
await op('open after edit', 'docs\\report.docx', (a) => engine.open(a));
await engine.drain();
console.log(`\n2. the engine on real files under ${path.relative(repoRoot, demo)}/ (built-in scanner, SQLite attributes)\n`);
printTable(['operation', 'file', 'answer', 'reason', 'threats', 'took'], rows);
const m = engine.metrics();
console.log(`\nscans: ${m.scansStarted}, verdicts: ${JSON.stringify(m.verdicts)}; events recorded: ${store.queryEvents({}).numRecords}`);
await engine.shutdown();
await dispatcher.close();
await store.close();
console.log('\nthe filer emulator (REST API, data path, clamd front door) is not built yet; see README.md');
