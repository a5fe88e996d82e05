// What the dashboard charts: every on-access answer of the last hour counted per minute by reason
// and by verdict, and the latest noteworthy decisions (denies, infected, unscanned allows), from
// the engines' `answered` channel. Fixed memory: 60 buckets and a ring of recent events.
import diagnostics_channel from 'node:diagnostics_channel';
import type { Answer, FileAccess } from '@avscan/engine';

export interface MinuteBucket {
  /** Start of the minute, epoch ms. */
  readonly minute: number;
  readonly reasons: Record<string, number>;
  /** clean, infected, failure, or none (answered without a scan: excluded, cached, …). */
  readonly verdicts: Record<string, number>;
}

export interface RecentDecision {
  readonly time: number;
  readonly svm: string;
  readonly path: string;
  readonly operation: string;
  readonly allow: boolean;
  readonly reason: string;
  readonly verdict: string;
  readonly threats: readonly string[];
}

export interface DashboardStats {
  /** The last hour's minutes, oldest first, empty minutes included. */
  minutes(): MinuteBucket[];
  recent(): RecentDecision[];
  close(): void;
}

const kMinute = 60_000;
const kMinutes = 60;
const kRecent = 50;

export function startDashboardStats(clock: () => number = Date.now): DashboardStats {
  const buckets = new Map<number, { reasons: Record<string, number>; verdicts: Record<string, number> }>();
  const recent: RecentDecision[] = [];
  const onAnswered = (m: unknown): void => {
    const { answer, access, operation } = m as { answer: Answer; access: FileAccess; operation: string };
    const now = clock();
    const minute = now - (now % kMinute);
    let b = buckets.get(minute);
    if (b === undefined) {
      buckets.set(minute, (b = { reasons: {}, verdicts: {} }));
      for (const k of buckets.keys()) if (k <= minute - kMinutes * kMinute) buckets.delete(k);
    }
    const verdict = answer.verdict?.result ?? 'none';
    b.reasons[answer.reason] = (b.reasons[answer.reason] ?? 0) + 1;
    b.verdicts[verdict] = (b.verdicts[verdict] ?? 0) + 1;
    if (!answer.allow || verdict === 'infected' || verdict === 'failure') {
      const slash = access.volume.indexOf('/');
      recent.push({
        time: now, svm: slash < 0 ? access.volume : access.volume.slice(0, slash), path: access.path, operation, allow: answer.allow,
        reason: answer.reason, verdict, threats: answer.verdict?.result === 'infected' ? answer.verdict.threats : [],
      });
      if (recent.length > kRecent) recent.shift();
    }
  };
  diagnostics_channel.subscribe('avscan:engine:answered', onAnswered);
  return {
    minutes() {
      const now = clock();
      const last = now - (now % kMinute);
      const out: MinuteBucket[] = [];
      for (let i = kMinutes - 1; i >= 0; i--) {
        const minute = last - i * kMinute;
        const b = buckets.get(minute);
        out.push({ minute, reasons: { ...b?.reasons }, verdicts: { ...b?.verdicts } });
      }
      return out;
    },
    recent: () => [...recent].reverse(),
    close: () => diagnostics_channel.unsubscribe('avscan:engine:answered', onAnswered),
  };
}
