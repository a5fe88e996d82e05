// Observability without cost when nobody listens: counters per reason and verdict, latency histograms,
// and one diagnostics channel per stage (checked with `hasSubscribers` before building a message).
import diagnostics_channel from 'node:diagnostics_channel';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export const channels = Object.freeze({
  /** `{ decisionId, operation, access, decision }` after the policy stage. */
  decided: diagnostics_channel.channel('avscan:engine:decided'),
  /** `{ decisionId, access, priority }` when a scan is sent to the dispatcher. */
  dispatched: diagnostics_channel.channel('avscan:engine:dispatched'),
  /** `{ decisionId, access, verdict, server }` when a verdict (or failure) came back. */
  verdict: diagnostics_channel.channel('avscan:engine:verdict'),
  /** `{ answer, access, operation }` for every answer. */
  answered: diagnostics_channel.channel('avscan:engine:answered'),
});

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
}

export class Counters {
  readonly reasons: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly verdicts: Record<string, number> = Object.create(null) as Record<string, number>;
  scansStarted = 0;
  joined = 0;
  hookErrors = 0;
  recordErrors = 0;
  readonly scanLatency: RecordableHistogram = createHistogram();

  reason(r: string): void {
    this.reasons[r] = (this.reasons[r] ?? 0) + 1;
  }

  verdict(v: string): void {
    this.verdicts[v] = (this.verdicts[v] ?? 0) + 1;
  }
}
