// Background revalidation (e.g. after a signature update): walks the given files and rescans, at
// background priority, those the policy wants scanned that are not current. At most `concurrency`
// scans are in flight, so it takes a capped share of scanner capacity; the dispatcher's priority
// queue puts interactive requests before it, and an interactive access that joins one of its scans
// raises that scan. A file being scanned by an access is joined, not scanned twice.
import type { CompiledPolicy } from '@avscan/policy';
import { checkAccess, fileKeyString, type FileAccess } from './access.js';
import { EngineError, EngineErrorCodes } from './errors.js';
import type { Flight } from './flight.js';
import type { LookupState } from './lookup.js';
import type { ScanRun } from './scan.js';

export interface RevalidateOptions {
  /** Background scans in flight at most (the share of scanner capacity revalidation may take). @default 2 */
  readonly concurrency?: number;
  /** Stops the walk; its scans that no access joined are cancelled (queue entry removed, nothing recorded). */
  readonly signal?: AbortSignal;
  /** Called every 1,000 files and at the end. */
  readonly onProgress?: (report: RevalidateReport) => void;
}

export interface RevalidateReport {
  readonly checked: number;
  /** Files sent to a scanner (infected and failed included). */
  readonly scanned: number;
  /** Files already current. */
  readonly current: number;
  /** Files out of the policy's scope, or quarantined. */
  readonly skipped: number;
  readonly infected: number;
  readonly failed: number;
  /** Scans abandoned because `signal` fired before they finished (nothing recorded for them). */
  readonly cancelled: number;
}

/** What revalidation needs from the engine. */
export interface RevalidateContext {
  readonly closed: () => boolean;
  readonly policy: () => CompiledPolicy;
  /** The file's lookup state now (a shared store's database confirms what this node's cache cannot say). */
  readonly lookup: (access: FileAccess, k: string) => Promise<LookupState>;
  /** Starts (or finds) the file's background scan. */
  readonly startScan: (k: string, access: FileAccess) => Flight<ScanRun>;
}

export async function revalidate(
  ctx: RevalidateContext, accesses: Iterable<FileAccess> | AsyncIterable<FileAccess>, options: RevalidateOptions,
): Promise<RevalidateReport> {
  const concurrency = options.concurrency ?? 2;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new EngineError(EngineErrorCodes.INVALID_OPTION, `option \`concurrency\` must be a positive integer, got \`${String(concurrency)}\``, 'concurrency');
  }
  const report = { checked: 0, scanned: 0, current: 0, skipped: 0, infected: 0, failed: 0, cancelled: 0 };
  const running = new Set<Promise<void>>();
  for await (const access of accesses) {
    if (options.signal?.aborted === true || ctx.closed()) break;
    checkAccess(access);
    report.checked++;
    if (ctx.policy().decide(access).action !== 'scan') {
      report.skipped++;
      continue;
    }
    const k = fileKeyString(access.volume, access.fileId);
    const state = await ctx.lookup(access, k);
    if (state !== 'stale') {
      if (state === 'current') report.current++;
      else report.skipped++;
      continue;
    }
    const p: Promise<void> = ctx.startScan(k, access).join('background', options.signal).then(
      (run) => {
        if (run.verdict.result === 'failure') report.failed++;
        else if (run.verdict.result === 'infected') report.infected++;
        report.scanned++;
      },
      (err: unknown) => {
        if ((err as EngineError).code === EngineErrorCodes.ABORTED) report.cancelled++;
        else report.failed++;
      },
    ).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= concurrency) await Promise.race(running);
    if (options.onProgress !== undefined && report.checked % 1000 === 0) options.onProgress({ ...report });
  }
  await Promise.all(running);
  options.onProgress?.({ ...report });
  return report;
}
