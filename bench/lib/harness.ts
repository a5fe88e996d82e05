// Shared benchmark harness: warm-up, several timed rounds, median reported. Every bench script measures
// its baseline in the same process and prints `RESULT <bench> <metric>=<value> target=<t> PASS|MISS`.
// Timings are never asserted by tests: a MISS is reported, not thrown.
import os from 'node:os';

export interface Measurement {
  /** Median nanoseconds per operation over the rounds. */
  readonly nsPerOp: number;
  /** Operations per second derived from the median. */
  readonly opsPerSec: number;
  readonly rounds: number;
}

export interface MeasureOptions {
  /** Operations per round (the body is called once per op). @default 10_000 */
  readonly opsPerRound?: number;
  /** Timed rounds; the median is reported. @default 7 */
  readonly rounds?: number;
  /** Untimed warm-up rounds, so the JIT has compiled the body. @default 2 */
  readonly warmup?: number;
  /**
   * `wall`: elapsed time. `cpu`: this process's CPU time (user + system), which time slices lost to
   * other processes on a shared machine do not inflate; for a synchronous body on a quiet machine
   * the two agree. @default 'wall'
   */
  readonly clock?: 'wall' | 'cpu';
}

/** Nanoseconds on the chosen clock (CPU time has microsecond resolution: use rounds of ≥ 10 ms). */
function now(clock: 'wall' | 'cpu'): number {
  if (clock === 'wall') return Number(process.hrtime.bigint());
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Times `body(i)` for i in [0, opsPerRound) per round; returns the median round. */
export function measure(body: (i: number) => unknown, options: MeasureOptions = {}): Measurement {
  const opsPerRound = options.opsPerRound ?? 10_000;
  const rounds = options.rounds ?? 7;
  const warmup = options.warmup ?? 2;
  let sink: unknown;
  for (let r = 0; r < warmup; r++) for (let i = 0; i < opsPerRound; i++) sink = body(i);
  const clock = options.clock ?? 'wall';
  const perOp: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now(clock);
    for (let i = 0; i < opsPerRound; i++) sink = body(i);
    perOp.push((now(clock) - t0) / opsPerRound);
  }
  blackhole(sink);
  const nsPerOp = median(perOp);
  return { nsPerOp, opsPerSec: 1e9 / nsPerOp, rounds };
}

/** Times an async body over `rounds` rounds; `body` returns how many operations it did. */
export async function measureAsync(
  body: () => Promise<number>,
  options: { rounds?: number; warmup?: number } = {},
): Promise<Measurement> {
  const rounds = options.rounds ?? 5;
  for (let r = 0; r < (options.warmup ?? 1); r++) await body();
  const perOp: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const ops = await body();
    perOp.push(Number(process.hrtime.bigint() - t0) / ops);
  }
  const nsPerOp = median(perOp);
  return { nsPerOp, opsPerSec: 1e9 / nsPerOp, rounds };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Percentile (0–100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

let hole: unknown;
/** Keeps a value alive so the JIT cannot drop the work that produced it. */
export function blackhole(value: unknown): void {
  hole = value;
  if (hole === Symbol.for('never')) console.log('');
}

export type Comparison = '>=' | '<=' | '<';

/** Prints the closing line for one target and returns whether it passed. */
export function result(bench: string, metric: string, value: number, cmp: Comparison, target: number, unit = ''): boolean {
  const pass = cmp === '>=' ? value >= target : cmp === '<=' ? value <= target : value < target;
  const shown = formatNumber(value);
  console.log(`RESULT ${bench} ${metric}=${shown}${unit} target=${cmp}${formatNumber(target)}${unit} ${pass ? 'PASS' : 'MISS'}`);
  return pass;
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3).replace(/\.?0+$/, '') || '0';
}

/** A left-aligned text table for human-readable bench output. */
export function table(rows: ReadonlyArray<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? formatNumber(v) : (v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** One header line: what ran where, for bench/RESULTS.md. */
export function header(bench: string): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`# ${bench} — ${new Date().toISOString().slice(0, 10)} — ${cpu} ×${os.cpus().length} — Node ${process.version}`);
}

/** Deterministic xorshift32: unsigned 32-bit integers, the same sequence on every run. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Deterministic numbers in [0, 1) (xorshift32 scaled), the same sequence on every run. */
export function rng(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 0x100000000;
}
