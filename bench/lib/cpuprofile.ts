// Summarises a V8 `.cpuprofile` (node --cpu-prof) as CPU per unit of work: each sample is charged to
// the nearest frame of our own code on its stack (`packages/<name>/`, `apps/<name>/`, `bench/`), so time spent in
// Node internals or native bindings (socket writes, SQLite, fs) counts against the function of ours
// that called it. Samples with no frame of ours go to Node's own rows (GC, idle, event loop).
import { readFileSync } from 'node:fs';

export interface CallFrame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
export interface ProfileNode { readonly id: number; readonly callFrame: CallFrame; readonly children?: readonly number[] }
export interface Profile { readonly nodes: readonly ProfileNode[]; readonly samples: readonly number[]; readonly timeDeltas: readonly number[] }

/** A `.cpuprofile` read from disk, with its nodes by id and each node's parent (for walking a sample's stack). */
export interface ProfileTree {
  readonly profile: Profile;
  readonly byId: ReadonlyMap<number, ProfileNode>;
  readonly parent: ReadonlyMap<number, number>;
}

export function readProfile(file: string): ProfileTree {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  return { profile, byId, parent };
}

export interface CostRow {
  /** `package: function (file)` or a Node row such as `(garbage collector)`. */
  readonly where: string;
  /** CPU microseconds per unit of work. */
  readonly usPerUnit: number;
  readonly share: number;
}

function ours(url: string): string | null {
  const m = /\/((?:packages|apps)\/[^/]+|bench)\/(?:dist|src)?\/?(.*?)\.(?:js|ts)$/.exec(url);
  if (m === null || url.includes('node_modules')) return null;
  return `${m[1]!.replace(/^(?:packages|apps)\//, '@avscan/')}/${m[2]}`;
}

/**
 * Rows of CPU per unit, most expensive first. `units` is how many pieces of work the profiled window
 * did (files scanned); `(idle)` is left out (not CPU).
 */
export function costTable(file: string, units: number, byFunction: boolean): CostRow[] {
  const { profile: p, byId, parent } = readProfile(file);
  const label = new Map<number, string>();
  const labelOf = (id: number): string => {
    const hit = label.get(id);
    if (hit !== undefined) return hit;
    let cur: number | undefined = id;
    let found: string | null = null;
    while (cur !== undefined) {
      const n = byId.get(cur)!;
      const mod = ours(n.callFrame.url);
      if (mod !== null) {
        found = byFunction ? `${mod}: ${n.callFrame.functionName || '(anonymous)'}` : mod.split('/').slice(0, mod.startsWith('@') ? 2 : 1).join('/');
        break;
      }
      cur = parent.get(cur);
    }
    const own = byId.get(id)!.callFrame.functionName;
    const result = found ?? (own.startsWith('(') ? own : `node: ${own || '(anonymous)'}`);
    label.set(id, result);
    return result;
  };
  const totals = new Map<string, number>();
  let cpu = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const l = labelOf(p.samples[i]!);
    if (l === '(idle)') continue;
    const dt = p.timeDeltas[i] ?? 0;
    totals.set(l, (totals.get(l) ?? 0) + dt);
    cpu += dt;
  }
  return [...totals.entries()]
    .map(([where, us]) => ({ where, usPerUnit: us / units, share: us / cpu }))
    .sort((a, b) => b.usPerUnit - a.usPerUnit);
}
