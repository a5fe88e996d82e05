// The on-access pipeline a NAS gateway embeds. One call per file operation; each runs the stages
// top-down, one module each:
//   decide (triggers.ts + the compiled policy) → lookup (lookup.ts) → lock (lock.ts) → scan (scan.ts)
//   → record (record.ts) → answer (answer.ts, failure.ts)
// Policy swaps are atomic: an access reads `#policy` once, so in-flight scans finish under the policy
// they started with and every answer carries that policy's revision.
import { randomBytes } from 'node:crypto';
import type { Priority } from '@avscan/dispatch';
import { CompiledPolicy, compilePolicy, type Decision, type Explanation } from '@avscan/policy';
import type { Attributes, FileKey, ScanRecord, Store } from '@avscan/store';
import { checkAccess, fileKeyString, storePath, type FileAccess } from './access.js';
import type { Answer, AnswerReason, Verdict } from './answer.js';
import { EngineError, EngineErrorCodes } from './errors.js';
import { answerFailure } from './failure.js';
import { InFlight, LeaseHolder, waitBounded } from './lock.js';
import { AttributeCache, lookupState, Watermark, type LookupState } from './lookup.js';
import { channels, Counters, type EngineMetrics } from './observe.js';
import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions } from './options.js';
import { applyInfectedAction, attributesOf, recordFor } from './record.js';
import { scanFile } from './scan.js';
import { isProfile, triggerFor, type Operation, type Profile, type Trigger } from './triggers.js';

/** What one scan (started by one access, joined by others) produced. */
interface ScanRun {
  readonly verdict: Verdict;
  readonly prior: Attributes | undefined;
}

export interface Explain {
  readonly operation: Operation;
  readonly trigger: Trigger;
  readonly enabled: boolean;
  readonly policyRevision: string;
  readonly policy: Explanation;
  /** Only when the policy said scan: what the attributes say. */
  readonly lookup: LookupState | undefined;
  /** Whether this access would be sent to a scanner now. */
  readonly wouldScan: boolean;
}

export interface RevalidateOptions {
  /** Background scans in flight at most (the share of scanner capacity revalidation may take). @default 2 */
  readonly concurrency?: number;
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
}

export interface DryRunChange {
  readonly access: FileAccess;
  readonly before: Decision;
  readonly after: Decision;
}

export interface DryRunReport {
  readonly total: number;
  readonly changed: number;
  readonly newRevision: string;
  readonly changes: readonly DryRunChange[];
}

function toPolicy(p: unknown): CompiledPolicy {
  return p instanceof CompiledPolicy ? p : compilePolicy(p);
}

export class Engine {
  readonly #o: ResolvedEngineOptions;
  readonly #store: Store;
  #policy: CompiledPolicy;
  #profile: Profile;
  #enabled: boolean;
  readonly #cache: AttributeCache;
  readonly #watermark: Watermark;
  readonly #inFlight = new InFlight<ScanRun>();
  readonly #pending = new Set<Promise<unknown>>();
  /**
   * Records not yet committed, by file key. Invariant: present from the verdict until its record,
   * events and lock release are done; rename, delete and write wait on it as on a scan in flight, so
   * a late record can never resurrect a deleted file or land under its old name.
   */
  readonly #persisting = new Map<string, Promise<void>>();
  readonly #counters = new Counters();
  readonly #idPrefix: string;
  #seq = 0;
  #closed = false;

  constructor(options: EngineOptions) {
    this.#o = resolveEngineOptions(options);
    this.#store = this.#o.store;
    this.#policy = toPolicy(this.#o.policy);
    this.#profile = this.#o.profile;
    this.#enabled = this.#o.enabled;
    this.#cache = new AttributeCache(this.#store, this.#o.cacheSize);
    this.#watermark = new Watermark(this.#o.dispatcher, this.#o.watermarkRefreshMs);
    this.#idPrefix = `${this.#store.nodeId}-${randomBytes(3).toString('hex')}-`;
  }

  // --- file operations -----------------------------------------------------------------------------

  /** A client opens the file (`execute: true` for an execute open). */
  open(access: FileAccess): Promise<Answer> {
    return this.#access('open', access);
  }

  read(access: FileAccess): Promise<Answer> {
    return this.#access('read', access);
  }

  /** The handle is closed; `wrote` says whether it wrote. Close triggers are asynchronous: allowed at once. */
  close(access: FileAccess, how: { readonly wrote: boolean }): Promise<Answer> {
    return this.#access(how.wrote ? 'close-after-write' : 'close-no-write', access);
  }

  /** A write waits while the file is being scanned (bounded), then goes ahead. */
  async write(access: FileAccess): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    await this.#waitForScan(access);
    return this.#answer('write', access, true, 'not-triggered', undefined, undefined, 'none', null, false);
  }

  /**
   * The file was renamed from `from` to `access.path`. Waits for a scan in flight, moves the
   * attributes, then applies the profile's rename trigger to the new name.
   */
  async rename(access: FileAccess, how: { readonly from: string }): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    await this.#waitForScan(access);
    const from = storePath(how.from);
    const to = storePath(access.path);
    if (from !== to && from !== '/' && to !== '/') await this.#store.rename(access.volume, from, to);
    this.#cache.drop(fileKeyString(access.volume, access.fileId));
    return this.#access('rename', access);
  }

  /**
   * Individual-file scan (OneFS `isi antivirus scan`, `ignore_previous_scan_status`): scans the file now
   * even when it is scan current or quarantined, and answers with the verdict; the policy's scope still
   * applies (an excluded file is answered with the policy's reason, OneFS `skipped_per_settings`), the
   * profile and Vscan on/off do not (an administrator asked). Runs at `async` priority, below
   * interactive accesses (SPEC §5); joins a scan of the file already in flight.
   */
  async scan(access: FileAccess): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    const policy = this.#policy;
    const decision = policy.decide(access);
    if (decision.action !== 'scan') {
      return this.#answer('scan', access, decision.action === 'skip', decision.reason, decision.rule, undefined, 'sync', policy.revision, false);
    }
    const k = fileKeyString(access.volume, access.fileId);
    const { promise, joined } = this.#startScan(k, access, this.#cache.get(access.volume, access.fileId, k), 'async');
    return this.#verdictAnswer('scan', access, await promise, 'sync', policy, joined);
  }

  /** The file is deleted: waits for a scan in flight, then forgets its attributes. */
  async delete(access: FileAccess): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    await this.#waitForScan(access);
    await this.#store.deleteFile(keyOf(access));
    this.#cache.drop(fileKeyString(access.volume, access.fileId));
    return this.#answer('delete', access, true, 'not-triggered', undefined, undefined, 'none', null, false);
  }

  // --- administration -------------------------------------------------------------------------------

  /** Swaps the active policy atomically (compiled first: a bad policy throws and changes nothing). */
  async setPolicy(policy: unknown): Promise<string> {
    const next = toPolicy(policy);
    const before = this.#policy.revision;
    this.#policy = next;
    await this.#store.appendEvent({
      type: 'policy.changed', svm: this.#o.svm, node: this.#store.nodeId,
      details: { name: next.policy.name, from: before, to: next.revision },
    });
    return next.revision;
  }

  get policy(): CompiledPolicy {
    return this.#policy;
  }

  setEnabled(enabled: boolean): void {
    if (typeof enabled !== 'boolean') throw new EngineError(EngineErrorCodes.INVALID_OPTION, 'enabled must be a boolean', 'enabled');
    this.#enabled = enabled;
  }

  setProfile(profile: Profile): void {
    if (!isProfile(profile)) throw new EngineError(EngineErrorCodes.INVALID_OPTION, `unknown profile \`${String(profile)}\``, 'profile');
    this.#profile = profile;
  }

  /** ONTAP `cache_clear`: every file becomes non-current (history kept); the next access rescans. */
  async clearCache(volume?: string): Promise<void> {
    await this.#store.clearCache(volume);
    this.#cache.clear();
  }

  /** Releases a quarantined file (an administrator cleared it): the next access scans it again. */
  async releaseQuarantine(volume: string, fileId: string): Promise<boolean> {
    const done = await this.#store.setQuarantined({ volume, fileId }, false);
    this.#cache.drop(fileKeyString(volume, fileId));
    return done;
  }

  /** Tell the engine that scanner signatures changed, so the next lookup reads the new watermark. */
  signaturesUpdated(): void {
    this.#watermark.invalidate();
  }

  /**
   * Background revalidation (e.g. after a signature update): walks the given files and rescans, at
   * background priority, those the policy wants scanned that are not current. At most `concurrency`
   * of its scans are in flight, so it takes a capped share of scanner capacity; the dispatcher's
   * priority queue puts interactive requests before it. A file being scanned by an access is joined,
   * not scanned twice.
   */
  async revalidate(accesses: Iterable<FileAccess> | AsyncIterable<FileAccess>, options: RevalidateOptions = {}): Promise<RevalidateReport> {
    this.#assertOpen();
    const concurrency = options.concurrency ?? 2;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new EngineError(EngineErrorCodes.INVALID_OPTION, `option \`concurrency\` must be a positive integer, got \`${String(concurrency)}\``, 'concurrency');
    }
    const report = { checked: 0, scanned: 0, current: 0, skipped: 0, infected: 0, failed: 0 };
    const running = new Set<Promise<void>>();
    for await (const access of accesses) {
      if (options.signal?.aborted === true || this.#closed) break;
      checkAccess(access);
      report.checked++;
      if (this.#policy.decide(access).action !== 'scan') {
        report.skipped++;
        continue;
      }
      const k = fileKeyString(access.volume, access.fileId);
      const attrs = this.#cache.get(access.volume, access.fileId, k);
      const state = lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now()));
      if (state !== 'stale') {
        if (state === 'current') report.current++;
        else report.skipped++;
        continue;
      }
      const p: Promise<void> = this.#startScan(k, access, attrs, 'background').promise.then(
        (run) => {
          if (run.verdict.result === 'failure') report.failed++;
          else if (run.verdict.result === 'infected') report.infected++;
          report.scanned++;
        },
        () => {
          report.failed++;
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

  /** Every rule consulted for an access, without scanning or recording anything. */
  explain(access: FileAccess, operation: Operation = 'open'): Explain {
    checkAccess(access);
    const policy = this.#policy;
    const trigger = triggerFor(access.profile ?? this.#profile, operation);
    const explained = policy.explain(access);
    let lookup: LookupState | undefined;
    if (explained.decision.action === 'scan') {
      const attrs = this.#cache.get(access.volume, access.fileId);
      lookup = lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now()));
    }
    return {
      operation, trigger, enabled: this.#enabled, policyRevision: policy.revision, policy: explained, lookup,
      wouldScan: trigger !== 'none' && this.#enabled && lookup === 'stale',
    };
  }

  /** How many decisions a candidate policy would change on these accesses, and which. */
  dryRun(policy: unknown, accesses: readonly FileAccess[]): DryRunReport {
    const next = toPolicy(policy);
    const current = this.#policy;
    const changes: DryRunChange[] = [];
    for (const access of accesses) {
      const before = current.decide(access);
      const after = next.decide(access);
      if (before.action !== after.action || before.reason !== after.reason) changes.push({ access, before, after });
    }
    return { total: accesses.length, changed: changes.length, newRevision: next.revision, changes };
  }

  metrics(): EngineMetrics {
    const h = this.#counters.scanLatency;
    const ms = (ns: number): number => (h.count > 0 ? ns / 1e6 : 0);
    return {
      reasons: { ...this.#counters.reasons },
      verdicts: { ...this.#counters.verdicts },
      scansStarted: this.#counters.scansStarted,
      joined: this.#counters.joined,
      inFlight: this.#inFlight.size,
      pendingAsync: this.#pending.size,
      scanLatencyMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), count: h.count },
      hookErrors: this.#counters.hookErrors,
      recordErrors: this.#counters.recordErrors,
    };
  }

  /** Resolves when every queued asynchronous scan, and every verdict's record, has finished. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0 || this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#pending, ...this.#inFlight.all()]);
    }
  }

  /** Refuses new accesses and waits for scans in flight. The store and dispatcher stay open (the caller owns them). */
  async shutdown(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  // --- the pipeline ---------------------------------------------------------------------------------

  async #access(operation: Operation, access: FileAccess): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    // decide
    const trigger = triggerFor(access.profile ?? this.#profile, operation);
    if (trigger === 'none') return this.#answer(operation, access, true, 'not-triggered', undefined, undefined, trigger, null, false);
    if (!this.#enabled) return this.#answer(operation, access, true, 'vscan-disabled', undefined, undefined, trigger, null, false);
    const policy = this.#policy;
    const decision = policy.decide(access);
    if (channels.decided.hasSubscribers) channels.decided.publish({ operation, access, decision, policyRevision: policy.revision });
    if (decision.action !== 'scan') {
      return this.#answer(operation, access, decision.action === 'skip', decision.reason, decision.rule, undefined, trigger, policy.revision, false);
    }
    // lookup
    const k = fileKeyString(access.volume, access.fileId);
    const attrs = this.#cache.get(access.volume, access.fileId, k);
    const state = lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now()));
    if (state === 'current') return this.#answer(operation, access, true, 'scan-current', undefined, undefined, trigger, policy.revision, false);
    // A quarantined file is denied without a scan; an asynchronous trigger cannot deny, and needs no scan.
    if (state === 'quarantined') {
      return this.#answer(operation, access, trigger === 'async', 'quarantined', undefined, undefined, trigger, policy.revision, false);
    }
    // lock + scan + record
    if (trigger === 'async') {
      this.#background(this.#startScan(k, access, attrs, 'async').promise);
      return this.#answer(operation, access, true, 'scan-queued', undefined, undefined, trigger, policy.revision, false);
    }
    const started = process.hrtime.bigint();
    const { promise, joined } = this.#startScan(k, access, attrs, 'interactive');
    if (joined) this.#counters.joined++;
    const run = await promise;
    this.#counters.scanLatency.record(Math.max(1, Number(process.hrtime.bigint() - started)));
    return this.#verdictAnswer(operation, access, run, trigger, policy, joined);
  }

  /** The answer to a scan's verdict; no verdict is answered per the policy's failure mode. */
  #verdictAnswer(operation: Operation | 'scan', access: FileAccess, run: ScanRun, trigger: Trigger, policy: CompiledPolicy, joined: boolean): Answer {
    const v = run.verdict;
    if (v.result === 'clean') return this.#answer(operation, access, true, 'clean', undefined, v, trigger, policy.revision, joined);
    if (v.result === 'infected') return this.#answer(operation, access, false, 'infected', undefined, v, trigger, policy.revision, joined);
    const prior = run.prior;
    const failure = answerFailure(policy.policy.onFailure, {
      previouslyClean: prior?.scanResult === 'clean',
      modified: prior === undefined || prior.changeStamp !== access.changeStamp,
      quarantined: prior?.quarantined === true,
    });
    return this.#answer(operation, access, failure.allow, failure.reason, undefined, v, trigger, policy.revision, joined);
  }

  /** Starts a scan of the file, or joins the one in flight (coalescing). */
  #startScan(k: string, access: FileAccess, prior: Attributes | undefined, priority: Priority): { promise: Promise<ScanRun>; joined: boolean } {
    return this.#inFlight.run(k, () => this.#scanLocked(k, access, prior, priority));
  }

  /**
   * Lock, scan, and hand back the verdict as soon as it is known. Recording it (group commit), the
   * events, the infected-file action and the lock release continue in the background, tracked by
   * `drain()`: answering before the attribute write is durable is safe, because a record lost in a
   * crash only means the file is scanned again (an infected file is found again), and the in-memory
   * cache already holds the new attributes for the next access. The store lock is released by the
   * record's own transaction, so another node never scans on stale attributes.
   */
  async #scanLocked(k: string, access: FileAccess, prior: Attributes | undefined, priority: Priority): Promise<ScanRun> {
    this.#counters.scansStarted++;
    const key = keyOf(access);
    const scanId = this.#nextId();
    const lease = await LeaseHolder.acquire(this.#store, key, this.#store.nodeId, scanId, this.#o.leaseMs, this.#o.waitTimeoutMs);
    if (lease === null) {
      const verdict: Verdict = { result: 'failure', kind: 'timeout', message: 'the scan lock is held by another node' };
      this.#counters.verdict('timeout');
      return { verdict, prior };
    }
    let handedOff = false;
    try {
      // Another node may have scanned the file while this one waited for the lock.
      const fresh = lease.waited ? this.#store.getAttributes(key) : undefined;
      if (fresh !== undefined && lookupState(fresh, access.changeStamp, this.#watermark.get(Date.now())) === 'current') {
        this.#cache.set(k, fresh);
        return { verdict: { result: 'clean' }, prior: fresh };
      }
      const scanTime = Date.now();
      if (channels.dispatched.hasSubscribers) channels.dispatched.publish({ access, priority, scanId });
      const done = await scanFile(this.#o.dispatcher, access, priority);
      const v = done.verdict;
      this.#counters.verdict(v.result === 'failure' ? v.kind : v.result);
      if (channels.verdict.hasSubscribers) channels.verdict.publish({ access, verdict: v, server: done.server, scanId });
      const record = recordFor({ access, verdict: v, sigTimestamp: done.sigTimestamp, scanTime, changeStamp: access.changeStamp, prior });
      if (record !== undefined) this.#cache.set(k, attributesOf(record));
      else this.#cache.drop(k);
      handedOff = true;
      const persisted = this.#persist(k, record, access, v, done.server, lease).finally(() => {
        if (this.#persisting.get(k) === persisted) this.#persisting.delete(k);
      });
      this.#persisting.set(k, persisted);
      this.#background(persisted);
      return { verdict: v, prior };
    } finally {
      if (!handedOff) lease.release();
    }
  }

  /** Commits the record (releasing the scan lock in the same transaction), then events and actions. */
  async #persist(k: string, record: ScanRecord | undefined, access: FileAccess, v: Verdict, server: string | null, lease: LeaseHolder): Promise<void> {
    if (record === undefined) {
      lease.release();
    } else {
      try {
        await this.#store.recordScan(record, { releaseLock: lease.ownership });
        lease.released();
      } catch (err) {
        lease.release();
        // The cached attributes were never stored: forget them so the file is scanned again.
        this.#cache.drop(k);
        this.#counters.recordErrors++;
        await this.#store.appendEvent({ type: 'store.record_failed', svm: this.#o.svm, node: this.#store.nodeId, filePath: access.path, reason: (err as Error).message }).catch(() => {});
      }
    }
    await this.#afterVerdict(access, v, server).catch(() => {
      this.#counters.recordErrors++;
    });
  }

  #background(p: Promise<unknown>): void {
    const tracked: Promise<unknown> = p.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Events and actions that follow a verdict: infected files are reported and handled; failures reported. */
  async #afterVerdict(access: FileAccess, v: Verdict, server: string | null): Promise<void> {
    const base = { svm: this.#o.svm, node: this.#store.nodeId, filePath: access.path, ...(server !== null ? { server } : {}) };
    if (v.result === 'infected') {
      let response: string;
      try {
        response = await applyInfectedAction(this.#o.infectedAction, access, this.#o.quarantineDir);
      } catch (err) {
        response = 'quarantined';
        await this.#store.appendEvent({ type: 'file.action_failed', ...base, reason: (err as Error).message });
      }
      await this.#store.appendEvent({ type: 'file.infected', ...base, details: { threats: v.threats, response } });
    } else if (v.result === 'failure') {
      await this.#store.appendEvent({ type: `scan.${v.kind}`, ...base, reason: v.message });
    }
  }

  async #waitForScan(access: FileAccess): Promise<void> {
    const k = fileKeyString(access.volume, access.fileId);
    const pending = this.#inFlight.get(k);
    if (pending !== undefined) await waitBounded(pending, this.#o.waitTimeoutMs);
    const persisting = this.#persisting.get(k);
    if (persisting !== undefined) await waitBounded(persisting, this.#o.waitTimeoutMs);
  }

  #answer(
    operation: Operation | 'write' | 'delete' | 'scan', access: FileAccess, allow: boolean, reason: AnswerReason,
    rule: string | undefined, verdict: Verdict | undefined, trigger: Trigger, policyRevision: string | null, joined: boolean,
  ): Answer {
    const answer: Answer = { allow, reason, rule, verdict, decisionId: this.#nextId(), policyRevision, trigger, joined };
    this.#counters.reason(reason);
    if (channels.answered.hasSubscribers) channels.answered.publish({ answer, access, operation });
    if (this.#o.onAnswer !== undefined) {
      try {
        this.#o.onAnswer(answer, access, operation);
      } catch {
        this.#counters.hookErrors++;
      }
    }
    return answer;
  }

  #nextId(): string {
    return this.#idPrefix + String(++this.#seq);
  }

  #assertOpen(): void {
    if (this.#closed) throw new EngineError(EngineErrorCodes.CLOSED, 'the engine is closed');
  }
}

function keyOf(access: FileAccess): FileKey {
  return { volume: access.volume, fileId: access.fileId };
}

/** Creates the on-access engine for one SVM. */
export function createEngine(options: EngineOptions): Engine {
  return new Engine(options);
}
