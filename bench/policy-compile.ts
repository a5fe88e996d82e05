// policy-compile: compilePolicy() time for 100 and 10,000 rules (mixed literal paths, globs and
// extensions, as in policy-decide). Target: 10,000 rules in < 200 ms.
import { compilePolicy } from '@avscan/policy';
import { blackhole, header, median, result, table } from './lib/harness.js';

function rules(n: number): unknown {
  const nGlobs = Math.max(1, Math.round(n * 0.02));
  const nExt = Math.round(n * 0.5);
  const nPaths = n - nGlobs - nExt;
  const exclude_paths: string[] = [];
  for (let i = 0; i < nPaths; i++) exclude_paths.push(`\\vol${i % 7}\\Projects\\dept${i % 13}\\scratch${i}${i % 3 === 0 ? '\\' : ''}`);
  for (let i = 0; i < nGlobs; i++) exclude_paths.push(`\\vol${i % 7}\\home\\*\\{AppData,Temp}${i}\\**\\*.tmp`);
  const exclude_extensions = Array.from({ length: nExt }, (_, i) => (i % 10 === 0 ? `x${i}.gz` : i % 17 === 0 ? `x${i}*` : `x${i}`));
  return { name: `bench${n}`, scope: { exclude_paths, exclude_extensions } };
}

header('policy-compile');
const rows: Record<string, string | number>[] = [];
const ms = new Map<number, number>();
for (const n of [100, 10_000]) {
  const json = rules(n);
  for (let w = 0; w < 2; w++) blackhole(compilePolicy(json));
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    blackhole(compilePolicy(json));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.set(n, median(times));
  rows.push({ rules: n, 'median ms': median(times), 'min ms': Math.min(...times), 'max ms': Math.max(...times) });
}
console.log(table(rows));
result('policy-compile', 'compile-10000-ms', ms.get(10_000)!, '<', 200, 'ms');
