// Counts on-access scans per UTC day and SVM for the daily on-access report: the engines' verdict
// channel (diagnostics_channel, free when nobody listens) minus the scans on-demand jobs ran at
// background priority. Counts are added up in memory and flushed to `onaccess_daily` every
// `flushMs` and on close: a crash loses at most that much of the day's counts (never infections,
// which the report reads from the store's committed `file.infected` events).
import diagnostics_channel from 'node:diagnostics_channel';
import type Database from 'better-sqlite3';
import type { FileAccess, Verdict } from '@avscan/engine';
import type { FilerRuntime } from '../model.js';

export interface OnAccessCounterOptions {
  /** @default 5000 */
  readonly flushMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

interface Tally { files: number; bytes: number; fails: number }

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface OnAccessCounter {
  /** Writes the counts gathered so far. */
  flush(): void;
  close(): void;
}

export function startOnAccessCounter(runtime: FilerRuntime, db: Database.Database, options: OnAccessCounterOptions = {}): OnAccessCounter {
  const clock = options.clock ?? Date.now;
  const svmOfVolume = (key: string): string | undefined => {
    const svm = key.slice(0, key.indexOf('/'));
    return runtime.volumes(svm).some((v) => v.storeKey === key) ? svm : undefined;
  };
  const background = new Set<string>();
  const tallies = new Map<string, Tally>();
  const upsert = db.prepare(`INSERT INTO onaccess_daily (day, svm, files, bytes, fails) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (day, svm) DO UPDATE SET files = files + excluded.files, bytes = bytes + excluded.bytes, fails = fails + excluded.fails`);
  const onDispatched = (m: unknown): void => {
    const msg = m as { priority: string; scanId: string };
    if (msg.priority === 'background') background.add(msg.scanId);
  };
  const onVerdict = (m: unknown): void => {
    const msg = m as { access: FileAccess; verdict: Verdict; scanId: string };
    if (background.delete(msg.scanId)) return;
    const svm = svmOfVolume(msg.access.volume);
    if (svm === undefined) return;
    const key = `${utcDay(clock())}|${svm}`;
    let t = tallies.get(key);
    if (t === undefined) tallies.set(key, (t = { files: 0, bytes: 0, fails: 0 }));
    t.files++;
    t.bytes += msg.access.size;
    if (msg.verdict.result === 'failure') t.fails++;
  };
  const flush = db.transaction(() => {
    for (const [key, t] of tallies) {
      const [day, svm] = key.split('|') as [string, string];
      upsert.run(day, svm, t.files, t.bytes, t.fails);
    }
    tallies.clear();
  });
  diagnostics_channel.subscribe('avscan:engine:dispatched', onDispatched);
  diagnostics_channel.subscribe('avscan:engine:verdict', onVerdict);
  const timer = setInterval(() => flush(), options.flushMs ?? 5000);
  timer.unref();
  let closed = false;
  return {
    flush: () => flush(),
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      diagnostics_channel.unsubscribe('avscan:engine:dispatched', onDispatched);
      diagnostics_channel.unsubscribe('avscan:engine:verdict', onVerdict);
      flush();
    },
  };
}
