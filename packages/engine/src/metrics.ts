// Engine metrics: counters per reason and verdict, the synchronous scan latency histogram, and the
// snapshot `engine.metrics()` returns.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface EngineMetrics {
  /** Answers by reason. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Scans by verdict (`clean`, `infected`, `unavailable`, `timeout`, `error`, `too-large`). */
  readonly verdicts: Readonly<Record<string, number>>;
  /** Scans this engine started (joined accesses not counted). */
  readonly scansStarted: number;
  /** Accesses that joined a scan in flight. */
  readonly joined: number;
  readonly inFlight: number;
  /** Background work not finished: asynchronous scans, and records of verdicts already answered. */
  readonly pendingAsync: number;
  /** Latency of synchronous answers that needed a scan, ms. */
  readonly scanLatencyMs: { readonly p50: number; readonly p99: number; readonly count: number };
  /** Errors thrown by the `onAnswer` hook (swallowed). */
  readonly hookErrors: number;
  /** Verdicts whose attribute record or event could not be written (the file will be scanned again). */
  readonly recordErrors: number;
  /** Store reads and locks that failed on the hot path (answered by the failure policy), and watermark pushes that failed. */
  readonly storeErrors: number;
  /**
   * Scans whose deferred lock (`lockWrites: 'deferred'`) turned out to be held by another process on
   * the same database: the scan went ahead and recorded anyway (both verdicts carry the change stamp).
   */
  readonly lockConflicts: number;
}

export class Counters {
  readonly reasons: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly verdicts: Record<string, number> = Object.create(null) as Record<string, number>;
  scansStarted = 0;
  joined = 0;
  hookErrors = 0;
  recordErrors = 0;
  storeErrors = 0;
  lockConflicts = 0;
  readonly scanLatency: RecordableHistogram = createHistogram();

  reason(r: string): void {
    this.reasons[r] = (this.reasons[r] ?? 0) + 1;
  }

  verdict(v: string): void {
    this.verdicts[v] = (this.verdicts[v] ?? 0) + 1;
  }
}

/** The `metrics()` snapshot: copies, so the caller cannot change the counters. */
export function metricsOf(c: Counters, inFlight: number, pendingAsync: number): EngineMetrics {
  const h = c.scanLatency;
  const ms = (ns: number): number => (h.count > 0 ? ns / 1e6 : 0);
  return {
    reasons: { ...c.reasons },
    verdicts: { ...c.verdicts },
    scansStarted: c.scansStarted,
    joined: c.joined,
    inFlight,
    pendingAsync,
    scanLatencyMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), count: h.count },
    hookErrors: c.hookErrors,
    recordErrors: c.recordErrors,
    storeErrors: c.storeErrors,
    lockConflicts: c.lockConflicts,
  };
}
