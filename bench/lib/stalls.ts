// What holds node's one thread for milliseconds: from a V8 `.cpuprofile`, the busy spans (runs of
// consecutive samples that are not `(idle)`) longer than a threshold, and what their time went to.
// An interactive open whose reply lands during such a span waits for its end; the event-loop delay
// histogram says how long the spans are, this says what they are made of.
import { readProfile } from './cpuprofile.js';

export interface StallRow {
  /** The nearest frame of our own code on the stack (`apps/…`, `packages/…`, `bench/…`) and the innermost frame. */
  readonly where: string;
  /** Wall ms of the long spans spent there (includes time the thread was descheduled: a loaded machine). */
  readonly ms: number;
  /**
   * On-CPU ms, roughly: each sample's gap capped at twice the sampling interval, so a gap in which
   * the thread was preempted (or blocked in a syscall) counts as one sample, not as its length.
   */
  readonly cpuMs: number;
  /** Long spans it appeared in. */
  readonly spans: number;
}

export interface StallSummary {
  /** Busy spans ≥ the threshold, and their total and longest ms. */
  readonly spans: number;
  readonly totalMs: number;
  readonly maxMs: number;
  /** Spans whose on-CPU ms alone reach the threshold: node's own work, not the neighbours'. */
  readonly cpuSpans: number;
  readonly rows: StallRow[];
}

function ours(url: string): string | null {
  if (url.includes('node_modules')) return null;
  const m = /\/((?:packages|apps)\/[^/]+|bench)\/(?:dist|src)?\/?(.*?)\.(?:js|ts)$/.exec(url);
  return m === null ? null : `${m[1]!}/${m[2]!}`;
}

/** Spans of the profile during which node never went idle for `minMs` or longer, by where their time went. */
export function stallTable(file: string, minMs: number, intervalUs = 200): StallSummary {
  const capMs = (2 * intervalUs) / 1000;
  const { profile: p, byId, parent } = readProfile(file);
  const labels = new Map<number, string>();
  const labelOf = (id: number): string => {
    const hit = labels.get(id);
    if (hit !== undefined) return hit;
    const own = byId.get(id)!.callFrame;
    const inner = `${own.functionName || '(anonymous)'}${own.url ? ` ${own.url.slice(own.url.lastIndexOf('/') + 1)}:${String(own.lineNumber + 1)}` : ''}`;
    let where: string | null = null;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const mod = ours(f.url);
      if (mod !== null) {
        where = `${mod}: ${f.functionName || '(anonymous)'}:${String(f.lineNumber + 1)}`;
        break;
      }
    }
    const l = where === null ? inner : `${where} ← ${inner}`;
    labels.set(id, l);
    return l;
  };
  const idle = (id: number): boolean => byId.get(id)!.callFrame.functionName === '(idle)';
  const totals = new Map<string, { ms: number; cpuMs: number; spans: number }>();
  let spans = 0;
  let cpuSpans = 0;
  let totalMs = 0;
  let maxMs = 0;
  // A sample's delta is the time since the previous sample: charged to the sample that ends it.
  let start = 0;
  const flush = (end: number): void => {
    let ms = 0;
    let cpu = 0;
    for (let i = start; i < end; i++) {
      ms += (p.timeDeltas[i + 1] ?? 0) / 1000;
      cpu += Math.min(capMs, (p.timeDeltas[i + 1] ?? 0) / 1000);
    }
    if (ms >= minMs) {
      spans++;
      if (cpu >= minMs) cpuSpans++;
      totalMs += ms;
      maxMs = Math.max(maxMs, ms);
      const seen = new Set<string>();
      for (let i = start; i < end; i++) {
        const l = labelOf(p.samples[i]!);
        const t = totals.get(l) ?? { ms: 0, cpuMs: 0, spans: 0 };
        const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
        t.ms += dt;
        t.cpuMs += Math.min(capMs, dt);
        if (!seen.has(l)) {
          t.spans++;
          seen.add(l);
        }
        totals.set(l, t);
      }
    }
  };
  for (let i = 0; i < p.samples.length; i++) {
    if (idle(p.samples[i]!)) {
      flush(i);
      start = i + 1;
    }
  }
  flush(p.samples.length);
  const rows = [...totals.entries()].map(([where, t]) => ({ where, ...t })).sort((a, b) => b.cpuMs - a.cpuMs);
  return { spans, totalMs, maxMs, cpuSpans, rows };
}
