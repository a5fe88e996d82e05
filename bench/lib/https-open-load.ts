// The closed-loop HTTPS load of the data-path benches (filer-open, filer-cluster-open): `inFlight`
// workers on one undici Pool, each sending the next open as soon as its previous one answered, for a
// fixed time. One round is one such run; benches alternate rounds of the routes they compare.
import type { Pool } from 'undici';
import { median, percentile } from './harness.js';

export interface Round {
  readonly rps: number;
  readonly latenciesMs: number[];
  /** Answers by the data path's `reason` (or the HTTP status when the body has none). */
  readonly reasons: Map<string, number>;
}

/** Runs `inFlight` workers for `ms`; request `i` opens `pathOf(i)`. */
export async function openLoad(pool: Pool, pathOf: (i: number) => string, ms: number, inFlight: number): Promise<Round> {
  const latenciesMs: number[] = [];
  const reasons = new Map<string, number>();
  const end = performance.now() + ms;
  let n = 0;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await pool.request({ method: 'GET', path: pathOf(i++) });
      const body = (await res.body.json()) as { reason?: string };
      latenciesMs.push(performance.now() - t0);
      const why = body.reason ?? String(res.statusCode);
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      n++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { rps: n / ((performance.now() - t0) / 1000), latenciesMs, reasons };
}

/** Median rate of the rounds; p50/p99 over all their latencies. */
export function summarize(rounds: readonly Round[]): { rps: number; p50: number; p99: number } {
  const all = rounds.flatMap((x) => x.latenciesMs);
  return { rps: median(rounds.map((x) => x.rps)), p50: percentile(all, 50), p99: percentile(all, 99) };
}

/** The answers of several rounds, merged. */
export function mergeReasons(rounds: readonly Round[]): Map<string, number> {
  const reasons = new Map<string, number>();
  for (const r of rounds) for (const [k, v] of r.reasons) reasons.set(k, (reasons.get(k) ?? 0) + v);
  return reasons;
}
