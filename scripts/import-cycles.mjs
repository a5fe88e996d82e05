#!/usr/bin/env node
// Import-cycle check, run by `npm test` before vitest: parses every TypeScript and JavaScript module of
// packages/*, apps/*, bench and test with the TypeScript parser, builds the graph of load-time imports
// and fails on any cycle between modules, or between workspace packages, apps and bench as their
// non-test code imports each other (such a cycle means a dependency points up the data flow:
// policy ← store/scanner ← dispatch ← engine ← apps ← bench).
// Not edges: `import type` / `export type` (erased at compile time) and dynamic `import()` (loaded
// lazily, so it cannot make a load-order cycle). Usage: node scripts/import-cycles.mjs [--verbose]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './pnpm.mjs';

const kSourceExt = /\.(?:ts|mts|tsx|js|mjs|jsx)$/;
const kSkipDirs = new Set(['node_modules', 'dist', '.runtime', 'coverage', 'public']);

/**
 * Cycles known and owned by another change, as sorted module lists: reported, not failed. An entry
 * that no longer matches a cycle is reported as stale (remove it).
 */
const kKnownCycles = [];

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (kSkipDirs.has(name) || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else if (kSourceExt.test(name) && !name.endsWith('.d.ts')) yield full;
  }
}

/** The folders whose modules are checked: every package and app, the benchmarks and the cross tests. */
function roots() {
  const out = [];
  for (const group of ['packages', 'apps']) {
    const dir = path.join(repoRoot, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) if (statSync(path.join(dir, name)).isDirectory()) out.push(path.join(dir, name));
  }
  for (const name of ['bench', 'test']) if (existsSync(path.join(repoRoot, name))) out.push(path.join(repoRoot, name));
  return out;
}

/** Workspace package name → its folder (from each package.json). */
function workspacePackages(folders) {
  const byName = new Map();
  for (const dir of folders) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8'));
    if (typeof name === 'string') byName.set(name, dir);
  }
  return byName;
}

/** A built file (`dist/x.js`) stands for its source (`src/x.ts`); `x.js` for `x.ts` beside it. */
function sourceFor(file) {
  const candidates = [file];
  const src = file.replace(`${path.sep}dist${path.sep}`, `${path.sep}src${path.sep}`);
  for (const f of new Set([file, src])) candidates.push(f.replace(/\.js$/, '.ts'), f.replace(/\.js$/, '.tsx'), f.replace(/\.mjs$/, '.mts'), f.replace(/\.d\.ts$/, '.ts'));
  return candidates.find((f) => existsSync(f) && statSync(f).isFile()) ?? null;
}

function resolve(spec, fromFile, packages) {
  if (spec.startsWith('.')) return sourceFor(path.resolve(path.dirname(fromFile), spec));
  const m = /^(@[^/]+\/[^/]+|[^@/][^/]*)(\/.*)?$/.exec(spec);
  if (m === null || !packages.has(m[1])) return null; // node: builtins and third-party packages
  const dir = packages.get(m[1]);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const entry = manifest.exports?.[`.${m[2] ?? ''}`];
  const target = typeof entry === 'string' ? entry : (entry?.default ?? entry?.import);
  return typeof target === 'string' ? sourceFor(path.join(dir, target)) : null;
}

/** Load-time import specifiers of one module. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : file.endsWith('js') ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const specs = [];
  for (const st of source.statements) {
    if (ts.isImportDeclaration(st)) {
      if (st.importClause?.isTypeOnly) continue;
      specs.push(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier !== undefined) {
      if (st.isTypeOnly) continue;
      specs.push(st.moduleSpecifier.text);
    }
  }
  return specs;
}

/** Strongly connected components with more than one node, or with a self-edge (Tarjan). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const found = [];
  const connect = (v) => {
    const vi = { index, low: index, onStack: true };
    index++;
    info.set(v, vi);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      const wi = info.get(w);
      if (wi === undefined) {
        connect(w);
        vi.low = Math.min(vi.low, info.get(w).low);
      } else if (wi.onStack) vi.low = Math.min(vi.low, wi.index);
    }
    if (vi.low !== vi.index) return;
    const scc = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!info.has(v)) connect(v);
  return found;
}

const folders = roots();
const packages = workspacePackages(folders);
const rel = (f) => path.relative(repoRoot, f).split(path.sep).join('/');
const folderOf = (f) => rel(folders.find((d) => f.startsWith(d + path.sep)) ?? f);
const modules = new Map();
const owners = new Map();
for (const dir of folders) {
  for (const file of walk(dir)) {
    const edges = new Set();
    for (const spec of importsOf(file)) {
      const target = resolve(spec, file, packages);
      if (target !== null) edges.add(rel(target));
    }
    modules.set(rel(file), edges);
    owners.set(rel(file), folderOf(file));
  }
}
// Test code is a consumer that may reach anywhere (shared launchers in test/support and bench/lib, an
// app's real-scanner test using them): its imports are no package dependencies.
const isTest = (file) => file.startsWith('test/') || /^(?:packages|apps)\/[^/]+\/test\//.test(file);
const folderGraph = new Map();
for (const [file, edges] of modules) {
  const from = owners.get(file);
  if (!folderGraph.has(from)) folderGraph.set(from, new Set());
  if (isTest(file)) continue;
  for (const to of edges) {
    const owner = owners.get(to) ?? folderOf(path.join(repoRoot, to));
    if (owner !== from) folderGraph.get(from).add(owner);
  }
}

const key = (scc) => scc.join(' ');
const known = new Set(kKnownCycles.map((c) => key([...c].sort())));
const moduleCycles = cycles(modules);
const failures = moduleCycles.filter((c) => !known.has(key(c)));
const packageCycles = cycles(folderGraph);
for (const c of moduleCycles.filter((c) => known.has(key(c)))) console.log(`import-cycles: known cycle (owned elsewhere, see scripts/import-cycles.mjs): ${c.join(' → ')}`);
for (const k of known) if (!moduleCycles.some((c) => key(c) === k)) console.log(`import-cycles: stale known cycle, remove it from scripts/import-cycles.mjs: ${k}`);
for (const c of failures) console.error(`import-cycles: modules import each other at load time: ${c.join(' ↔ ')}`);
for (const c of packageCycles) console.error(`import-cycles: packages depend on each other: ${c.join(' ↔ ')}`);
if (process.argv.includes('--verbose')) console.log(`import-cycles: ${modules.size} modules in ${folders.length} folders`);
if (failures.length > 0 || packageCycles.length > 0) process.exit(1);
console.log(`import-cycles: no import cycles in ${modules.size} modules`);
