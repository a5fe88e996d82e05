// policy-decide: compiled `decide()` on a realistic access mix (deep paths, many extensions, ~20 %
// under excluded paths) for policies of 10, 100 and 10,000 rules, against three baselines measured in
// the same run: (a) naive: per access `path.extname` + `micromatch.isMatch` per pattern; (b) strong:
// picomatch globs joined into one RegExp + a `Set` of extensions, compiled once; (c) floor:
// lower-case + last dot + one `Set.has`.
import path from 'node:path';
import micromatch from 'micromatch';
import picomatch from 'picomatch';
import { compilePolicy } from '@avscan/policy';
import { blackhole, header, measure, median, result, table, rng } from './lib/harness.js';

const rand = rng(0x9011c7);
const choose = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const kWords = ['Users', 'home', 'Projects', 'src', 'build', 'Documents', 'Shared', 'finance', 'hr', 'Q3', 'reports', 'lib', 'node_modules', 'Archive', 'Media', 'photos', '2024', 'old', 'drafts', 'Team'];
const kExts = ['docx', 'xlsx', 'pdf', 'txt', 'exe', 'dll', 'js', 'ts', 'json', 'png', 'jpg', 'mp4', 'zip', 'gz', 'tar', 'log', 'csv', 'html', 'css', 'ps1', 'bat', 'msi', 'iso', 'vmdk', 'bak', 'tmp', 'db', 'ini', 'xml', 'md'];

interface Rules {
  readonly json: unknown;
  readonly pathEntries: string[];
  readonly globs: string[];
  readonly extensions: string[];
}

/** N rules: ~48 % literal exclude paths, ~2 % globs, ~50 % extensions (a few two-part). */
function makeRules(n: number): Rules {
  const globs: string[] = [];
  const pathEntries: string[] = [];
  const extensions: string[] = [];
  const nGlobs = Math.max(1, Math.round(n * 0.02));
  const nExt = Math.round(n * 0.5);
  const nPaths = n - nGlobs - nExt;
  for (let i = 0; i < nGlobs; i++) globs.push(`\\vol${i % 7}\\home\\*\\AppData${i}`);
  for (let i = 0; i < nPaths; i++) pathEntries.push(`\\vol${i % 7}\\${choose(kWords)}\\scratch${i}${i % 3 === 0 ? '\\' : ''}`);
  for (let i = 0; i < nExt; i++) extensions.push(i < 5 ? ['tmp', 'log', 'bak', 'iso', 'vmdk'][i]! : i % 10 === 0 ? `x${i}.gz` : `x${i}`);
  const json = { name: `bench${n}`, scope: { exclude_paths: [...pathEntries, ...globs], exclude_extensions: extensions } };
  return { json, pathEntries, globs, extensions };
}

function makePaths(rules: Rules, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let p: string;
    if (rand() < 0.2) {
      // Under an excluded entry (literal or glob).
      if (rules.globs.length > 0 && rand() < 0.2) p = choose(rules.globs).replace('*', choose(kWords));
      else p = choose(rules.pathEntries).replace(/\\$/, '');
    } else p = `\\vol${Math.floor(rand() * 7)}`;
    const depth = 3 + Math.floor(rand() * 6);
    for (let d = 0; d < depth; d++) p += `\\${choose(kWords)}`;
    p += `\\File_${i}.${choose(kExts)}`;
    // Flat strings, as a gateway gets them from the wire (a `+=`-built rope would make every
    // decider pay V8's cons-string flattening and measure that instead).
    out.push(Buffer.from(rand() < 0.3 ? p.toUpperCase() : p).toString());
  }
  return out;
}

// (a) naive: per access, extname + micromatch.isMatch per pattern (compiles every call).
function naiveDecider(rules: Rules): (p: string) => boolean {
  const pathGlobs = [...rules.pathEntries, ...rules.globs].map((e) => `${e.replace(/\\/g, '/').replace(/\/$/, '').toLowerCase()}{,/**}`);
  const exts = rules.extensions.map((e) => e.toLowerCase());
  return (p) => {
    const lower = p.toLowerCase().replace(/\\/g, '/');
    for (const g of pathGlobs) if (micromatch.isMatch(lower, g, { dot: true })) return false;
    const ext = path.extname(lower).slice(1);
    for (const e of exts) if (micromatch.isMatch(ext, e)) return false;
    return true;
  };
}

// (b) strong: every path pattern as a picomatch regex, joined into one RegExp; extensions in a Set.
function strongDecider(rules: Rules): (p: string) => boolean {
  const sources = [...rules.pathEntries, ...rules.globs].map((e) => {
    const g = `${e.replace(/\\/g, '/').replace(/\/$/, '').toLowerCase()}{,/**}`;
    return picomatch.makeRe(g, { dot: true }).source;
  });
  const re = new RegExp(sources.map((s) => `(?:${s})`).join('|'));
  const exts = new Set(rules.extensions.map((e) => e.toLowerCase()));
  return (p) => {
    const lower = p.toLowerCase().replace(/\\/g, '/');
    if (re.test(lower)) return false;
    const dot = lower.lastIndexOf('.');
    return !(dot >= 0 && exts.has(lower.slice(dot + 1)));
  };
}

// (c) floor: lower-case + last dot + one Set.has.
function floorDecider(rules: Rules): (p: string) => boolean {
  const exts = new Set(rules.extensions.map((e) => e.toLowerCase()));
  return (p) => {
    const lower = p.toLowerCase();
    return !exts.has(lower.slice(lower.lastIndexOf('.') + 1));
  };
}

header('policy-decide');
const kPaths = 4096;
const rows: Record<string, string | number>[] = [];
const ratios = new Map<string, number>();
for (const n of [10, 100, 10_000]) {
  const rules = makeRules(n);
  const paths = makePaths(rules, kPaths);
  const compiled = compilePolicy(rules.json);
  const mask = kPaths - 1;
  let excluded = 0;
  for (const p of paths) if (compiled.decide({ path: p, size: 1000 }).action === 'skip') excluded++;
  // decide and the floor are measured in alternating blocks so load drift on the shared machine hits
  // both alike; each gets the median of its blocks.
  // The same again on CPU time, which preemption by other processes does not inflate: on the shared
  // machine the wall-clock floor ratio swings ±30 % between runs, the CPU one a few per cent.
  const oursNs: number[] = [];
  const floorNs: number[] = [];
  const oursCpu: number[] = [];
  const floorCpu: number[] = [];
  const floor = floorDecider(rules);
  const decideOne = (i: number) => compiled.decide({ path: paths[i & mask]!, size: 1000 });
  const floorOne = (i: number) => floor(paths[i & mask]!);
  for (let block = 0; block < 5; block++) {
    oursNs.push(measure(decideOne, { opsPerRound: 50_000, rounds: 3 }).nsPerOp);
    floorNs.push(measure(floorOne, { opsPerRound: 50_000, rounds: 3 }).nsPerOp);
    oursCpu.push(measure(decideOne, { opsPerRound: 50_000, rounds: 3, clock: 'cpu' }).nsPerOp);
    floorCpu.push(measure(floorOne, { opsPerRound: 50_000, rounds: 3, clock: 'cpu' }).nsPerOp);
  }
  const ours = { nsPerOp: median(oursNs) };
  const floorM = { nsPerOp: median(floorNs) };
  const cpuFloorRatio = median(oursCpu) / median(floorCpu);
  const strong = strongDecider(rules);
  const strongM = measure((i) => strong(paths[i & mask]!), { opsPerRound: n >= 10_000 ? 2_000 : 50_000, rounds: 5 });
  let naiveNs = Number.NaN;
  if (n <= 100) {
    const naive = naiveDecider(rules);
    naiveNs = measure((i) => naive(paths[i & mask]!), { opsPerRound: n <= 10 ? 2_000 : 300, rounds: 3, warmup: 1 }).nsPerOp;
  }
  ratios.set(`naive-${n}`, naiveNs / ours.nsPerOp);
  ratios.set(`strong-${n}`, strongM.nsPerOp / ours.nsPerOp);
  ratios.set(`floor-${n}`, ours.nsPerOp / floorM.nsPerOp);
  ratios.set(`floor-cpu-${n}`, cpuFloorRatio);
  rows.push({
    rules: n,
    'skipped %': (100 * excluded) / kPaths,
    'decide ns': ours.nsPerOp,
    'naive ns': Number.isNaN(naiveNs) ? 'n/a' : naiveNs,
    'strong ns': strongM.nsPerOp,
    'floor ns': floorM.nsPerOp,
    'vs naive': Number.isNaN(naiveNs) ? 'n/a' : `${(naiveNs / ours.nsPerOp).toFixed(0)}x`,
    'vs strong': `${(strongM.nsPerOp / ours.nsPerOp).toFixed(2)}x`,
    'x floor': `${(ours.nsPerOp / floorM.nsPerOp).toFixed(2)}x`,
    'x floor cpu': `${cpuFloorRatio.toFixed(2)}x`,
  });
}
blackhole(rows);
console.log(table(rows));
result('policy-decide', 'vs-naive-100', ratios.get('naive-100')!, '>=', 1000, 'x');
result('policy-decide', 'vs-strong-10000', ratios.get('strong-10000')!, '>=', 2, 'x');
result('policy-decide', 'vs-floor-100', ratios.get('floor-100')!, '<=', 3, 'x');
result('policy-decide', 'vs-floor-100-cpu', ratios.get('floor-cpu-100')!, '<=', 3, 'x');
