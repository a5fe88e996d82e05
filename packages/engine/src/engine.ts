// The on-access pipeline a NAS gateway embeds. One call per file operation; each runs the stages
// top-down, one module each:
//   decide (triggers.ts + the compiled policy) → lookup (lookup.ts) → lock (flight.ts: joining,
//   lock.ts: the store lease) → scan (scan.ts) → record (record.ts builds, recorder.ts writes)
//   → answer (answer.ts, failure.ts)
// Beside the pipeline: revalidate.ts (background rescans), explain.ts (explain, dry run),
// metrics.ts, observe.ts (diagnostics channels), servers.ts (scanner state into the store).
// Policy swaps are atomic: an access reads `#policy` once, so in-flight scans finish under the policy
// they started with and every answer carries that policy's revision.
import { randomBytes } from 'node:crypto';
import type { Priority } from '@avscan/dispatch';
import { CompiledPolicy, compilePolicy } from '@avscan/policy';
import type { Attributes, FileKey } from '@avscan/store';
import { checkAccess, fileKeyString, storePath, type FileAccess } from './access.js';
import type { Answer, AnswerReason, Verdict } from './answer.js';
import { EngineError, EngineErrorCodes } from './errors.js';
import { dryRun, explainAccess, type DryRunReport, type Explain } from './explain.js';
import { answerFailure } from './failure.js';
import { InFlight, type Flight } from './flight.js';
import { LocalAttributes, SharedAttributes, type AttributeSource } from './attributes.js';
import { Leases, waitBounded } from './lock.js';
import { KeptLookup, lookupState, Watermark, type FileLookup, type LookupState } from './lookup.js';
import { Counters, metricsOf, type EngineMetrics } from './metrics.js';
import { channels } from './observe.js';
import { resolveEngineOptions, type EngineOptions, type InfectedAction, type ResolvedEngineOptions } from './options.js';
import { attributesOf, recordFor } from './record.js';
import { Recorder } from './recorder.js';
import { revalidate, type RevalidateOptions, type RevalidateReport } from './revalidate.js';
import { scanFile, type ScanRun } from './scan.js';
import { ServerLog } from './servers.js';
import { isSharedStore, type EngineStore, type SharedEngineStore } from './store-port.js';
import { isProfile, triggerFor, type Operation, type Profile, type Trigger } from './triggers.js';

export interface OnDemandOutcome {
  /** `current`: skipped, scan current; `quarantined`: skipped, quarantined; `scanned`: sent to a scanner. */
  readonly outcome: 'current' | 'quarantined' | 'scanned';
  readonly verdict: Verdict | undefined;
}

/** Everything an answer says, named (the answer stage builds the `Answer` from it). */
interface AnswerInput {
  readonly operation: Operation | 'write' | 'delete' | 'scan';
  readonly access: FileAccess;
  readonly allow: boolean;
  readonly reason: AnswerReason;
  readonly trigger: Trigger;
  /** `null` when no policy applied (not triggered, disabled). */
  readonly policyRevision: string | null;
  readonly rule?: string | undefined;
  readonly verdict?: Verdict | undefined;
  readonly joined?: boolean;
}

function toPolicy(p: unknown): CompiledPolicy {
  return p instanceof CompiledPolicy ? p : compilePolicy(p);
}

export class Engine {
  readonly #o: ResolvedEngineOptions;
  readonly #store: EngineStore;
  /** The store when it is shared by several engine processes (PgStore), else `undefined`. */
  readonly #shared: SharedEngineStore | undefined;
  #policy: CompiledPolicy;
  #profile: Profile;
  #enabled: boolean;
  readonly #attrs: AttributeSource;
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
  readonly #recorder: Recorder;
  readonly #leases: Leases;
  readonly #servers: ServerLog;
  readonly #idPrefix: string;
  #seq = 0;
  #closed = false;

  constructor(options: EngineOptions) {
    this.#o = resolveEngineOptions(options);
    this.#store = this.#o.store;
    this.#policy = toPolicy(this.#o.policy);
    this.#profile = this.#o.profile;
    this.#enabled = this.#o.enabled;
    this.#shared = isSharedStore(this.#store) ? this.#store : undefined;
    this.#attrs = this.#shared !== undefined ? new SharedAttributes(this.#shared) : new LocalAttributes(this.#store, this.#o.cacheSize);
    this.#watermark = new Watermark(this.#o.dispatcher, this.#o.watermarkRefreshMs, this.#shared);
    this.#idPrefix = `${this.#store.nodeId}-${randomBytes(3).toString('hex')}-`;
    this.#recorder = new Recorder(this.#o, this.#attrs, this.#counters);
    this.#leases = new Leases(this.#store, this.#o.leaseMs, this.#o.lockWrites, () => { this.#counters.lockConflicts++; }, () => { this.#counters.storeErrors++; });
    this.#servers = new ServerLog(this.#store, this.#o.dispatcher, this.#o.svm, () => { this.#counters.recordErrors++; }, () => this.#shareWatermark());
    this.#servers.start();
    // A node whose scanners are newer than the cluster's watermark raises it on joining.
    this.#shareWatermark();
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
    return this.#answer({ operation: 'write', access, allow: true, reason: 'not-triggered', trigger: 'none', policyRevision: null });
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
    this.#attrs.drop(fileKeyString(access.volume, access.fileId));
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
      return this.#answer({ operation: 'scan', access, allow: decision.action === 'skip', reason: decision.reason, rule: decision.rule, trigger: 'sync', policyRevision: policy.revision });
    }
    const k = fileKeyString(access.volume, access.fileId);
    const { flight, joined } = this.#startScan(k, access, this.#attrs.peek(access.volume, access.fileId, k), 'async');
    return this.#verdictAnswer('scan', access, await flight.join('async', access.signal), 'sync', policy, joined);
  }

  /** The file is deleted: waits for a scan in flight, then forgets its attributes. */
  async delete(access: FileAccess): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    await this.#waitForScan(access);
    await this.#store.deleteFile(keyOf(access));
    this.#attrs.drop(fileKeyString(access.volume, access.fileId));
    return this.#answer({ operation: 'delete', access, allow: true, reason: 'not-triggered', trigger: 'none', policyRevision: null });
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
    this.#attrs.clear();
  }

  /** Releases a quarantined file (an administrator cleared it): the next access scans it again. */
  async releaseQuarantine(volume: string, fileId: string): Promise<boolean> {
    const done = await this.#store.setQuarantined({ volume, fileId }, false);
    this.#attrs.drop(fileKeyString(volume, fileId));
    return done;
  }

  /**
   * Tell the engine that scanner signatures changed, so the next lookup reads the new watermark. With
   * a shared store the dispatcher's watermark is also raised cluster-wide (other nodes' files go stale).
   */
  signaturesUpdated(): void {
    this.#watermark.invalidate();
    this.#shareWatermark();
  }

  /** Background rescans of stale files at a capped share of scanner capacity (revalidate.ts). */
  revalidate(accesses: Iterable<FileAccess> | AsyncIterable<FileAccess>, options: RevalidateOptions = {}): Promise<RevalidateReport> {
    this.#assertOpen();
    return revalidate({
      closed: () => this.#closed,
      policy: () => this.#policy,
      lookup: (access, k) => this.#lookupConfirmed(access, k).then((l) => l.state, (): LookupState => 'stale'),
      startScan: (k, access) => this.#startScan(k, access, this.#attrs.peek(access.volume, access.fileId, k), 'background').flight,
    }, accesses, options);
  }

  /**
   * One file of an on-demand (policy) scan job: scanned at background priority unless it is scan
   * current (or quarantined), whatever the on-access policy says — the job has its own scope and has
   * already judged the file. `force` (OneFS `ignore_previous_scan_status`) scans a current file too.
   * `lookup`: this engine's `lookupFile`/`lookupFileAsync` of the same file, which the job made to
   * skip current files without queueing them; the scan starts from what it read instead of reading
   * the store a second time (anything this engine learned of the file since, in memory, still wins;
   * a shared store's database is read unless the lookup already confirmed with it).
   * Locks, coalescing with an access scanning the same file, the record, the `file.infected` event
   * and the infected-file action are the on-access path's. Resolves with the verdict once known.
   */
  async scanOnDemand(access: FileAccess, options: { readonly force?: boolean; readonly lookup?: FileLookup } = {}): Promise<OnDemandOutcome> {
    this.#assertOpen();
    checkAccess(access);
    const k = fileKeyString(access.volume, access.fileId);
    const kept = options.lookup;
    const usable = kept instanceof KeptLookup && kept.k === k && kept.changeStamp === access.changeStamp;
    let attrs = usable ? (this.#attrs.cached(k) ?? kept.attrs) : this.#attrs.peek(access.volume, access.fileId, k);
    let state = lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now()));
    if (state === 'stale' && this.#attrs.shared && !(usable && kept.confirmed)) {
      // Another node may have scanned it. A store that cannot answer: scan (the lock stage reports the failure).
      try {
        ({ attrs, state } = await this.#confirm(access, k));
      } catch {
        state = 'stale';
      }
    }
    if (state === 'quarantined') return { outcome: 'quarantined', verdict: undefined };
    if (state === 'current' && options.force !== true) return { outcome: 'current', verdict: undefined };
    // A job's scan can be cancelled with the job (its signal); it joins an access's scan in flight.
    const run = await this.#startScan(k, access, attrs, 'background').flight.join('background', access.signal);
    return { outcome: 'scanned', verdict: run.verdict };
  }

  /**
   * What the attributes say about the file now, without scanning: `current` (scan current under the
   * pools' signatures), `quarantined`, or `stale` (a scan is due). Synchronous: an on-demand job skips
   * current files with it without queueing them. On a local store (SQLite) it is exact (cache, then
   * the store). On a shared store it answers from this node's cache only, so `stale` may be a file
   * another node scanned and this one has not read: `lookupAsync` confirms with the database
   * (`scanOnDemand` confirms by itself).
   */
  lookup(access: FileAccess): LookupState {
    return this.lookupFile(access).state;
  }

  /** `lookup`, kept: pass it to `scanOnDemand(access, { lookup })` and the store is read once per file. */
  lookupFile(access: FileAccess): FileLookup {
    checkAccess(access);
    const k = fileKeyString(access.volume, access.fileId);
    const attrs = this.#attrs.peek(access.volume, access.fileId, k);
    return new KeptLookup(lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now())), k, access.changeStamp, attrs, false);
  }

  /** `lookup`, with a non-current answer confirmed by the store itself (a shared store's database). Rejects with the store's error. */
  async lookupAsync(access: FileAccess): Promise<LookupState> {
    return (await this.lookupFileAsync(access)).state;
  }

  /** `lookupAsync`, kept (see `lookupFile`). Rejects with the store's error. */
  lookupFileAsync(access: FileAccess): Promise<FileLookup> {
    try {
      checkAccess(access);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#lookupConfirmed(access, fileKeyString(access.volume, access.fileId));
  }

  /** What an infected file gets besides the verdict (SPEC §8), as configured. */
  get infectedAction(): InfectedAction {
    return this.#o.infectedAction;
  }

  /** Every rule consulted for an access, without scanning or recording anything. */
  explain(access: FileAccess, operation: Operation = 'open'): Explain {
    checkAccess(access);
    return explainAccess(this.#policy, triggerFor(access.profile ?? this.#profile, operation), this.#enabled, access, operation, () =>
      lookupState(this.#attrs.peek(access.volume, access.fileId, fileKeyString(access.volume, access.fileId)), access.changeStamp, this.#watermark.get(Date.now())));
  }

  /** How many decisions a candidate policy would change on these accesses, and which. */
  dryRun(policy: unknown, accesses: readonly FileAccess[]): DryRunReport {
    return dryRun(this.#policy, toPolicy(policy), accesses);
  }

  metrics(): EngineMetrics {
    return metricsOf(this.#counters, this.#inFlight.size, this.#pending.size);
  }

  /** Resolves when every queued asynchronous scan, and every verdict's record, has finished. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0 || !this.#inFlight.idle) {
      // Records may wait `recordDelayMs` for their batch: a drain commits them now instead.
      if (this.#inFlight.idle) await this.#store.flush?.().catch(() => {});
      await Promise.allSettled([...this.#pending, ...this.#inFlight.all()]);
    }
  }

  /** Refuses new accesses and waits for scans in flight. The store and dispatcher stay open (the caller owns them). */
  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#servers.stop();
    await this.drain();
    this.#leases.close();
  }

  // --- the pipeline ---------------------------------------------------------------------------------

  async #access(operation: Operation, access: FileAccess): Promise<Answer> {
    this.#assertOpen();
    checkAccess(access);
    // decide
    const trigger = triggerFor(access.profile ?? this.#profile, operation);
    if (trigger === 'none') return this.#answer({ operation, access, allow: true, reason: 'not-triggered', trigger, policyRevision: null });
    if (!this.#enabled) return this.#answer({ operation, access, allow: true, reason: 'vscan-disabled', trigger, policyRevision: null });
    const policy = this.#policy;
    const decision = policy.decide(access);
    if (channels.decided.hasSubscribers) channels.decided.publish({ operation, access, decision, policyRevision: policy.revision });
    if (decision.action !== 'scan') {
      return this.#answer({ operation, access, allow: decision.action === 'skip', reason: decision.reason, rule: decision.rule, trigger, policyRevision: policy.revision });
    }
    // lookup
    const k = fileKeyString(access.volume, access.fileId);
    let attrs = this.#attrs.peek(access.volume, access.fileId, k);
    let state = lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now()));
    if (state === 'stale' && this.#attrs.shared) {
      // This node's cache cannot say: another node may have scanned (or released) the file. Ask the database.
      try {
        ({ attrs, state } = await this.#confirm(access, k));
      } catch (err) {
        // An asynchronous trigger is allowed anyway; its queued scan meets the store's failure at the lock stage.
        if (trigger !== 'async') return this.#verdictAnswer(operation, access, this.#storeFailed(err, attrs), trigger, policy, false);
      }
    }
    if (state === 'current') return this.#answer({ operation, access, allow: true, reason: 'scan-current', trigger, policyRevision: policy.revision });
    // A quarantined file is denied without a scan; an asynchronous trigger cannot deny, and needs no scan.
    if (state === 'quarantined') {
      return this.#answer({ operation, access, allow: trigger === 'async', reason: 'quarantined', trigger, policyRevision: policy.revision });
    }
    // lock + scan + record
    if (trigger === 'async') {
      this.#background(this.#startScan(k, access, attrs, 'async').flight.join('async', undefined));
      return this.#answer({ operation, access, allow: true, reason: 'scan-queued', trigger, policyRevision: policy.revision });
    }
    if (access.signal?.aborted === true) throw new EngineError(EngineErrorCodes.ABORTED, 'the access was cancelled', 'signal', { cause: access.signal.reason });
    const started = process.hrtime.bigint();
    const { flight, joined } = this.#startScan(k, access, attrs, 'interactive');
    if (joined) this.#counters.joined++;
    const run = await flight.join('interactive', access.signal);
    this.#counters.scanLatency.record(Math.max(1, Number(process.hrtime.bigint() - started)));
    return this.#verdictAnswer(operation, access, run, trigger, policy, joined);
  }

  /** The answer to a scan's verdict; no verdict is answered per the policy's failure mode. */
  #verdictAnswer(operation: Operation | 'scan', access: FileAccess, run: ScanRun, trigger: Trigger, policy: CompiledPolicy, joined: boolean): Answer {
    const v = run.verdict;
    const scanned = { operation, access, verdict: v, trigger, policyRevision: policy.revision, joined };
    if (v.result === 'clean') return this.#answer({ ...scanned, allow: true, reason: 'clean' });
    if (v.result === 'infected') return this.#answer({ ...scanned, allow: false, reason: 'infected' });
    const prior = run.prior;
    const failure = answerFailure(policy.policy.onFailure, {
      previouslyClean: prior?.scanResult === 'clean',
      modified: prior === undefined || prior.changeStamp !== access.changeStamp,
      // Rewritten in place, a quarantined file is replaced content (SPEC §8): judged as modified, not quarantined.
      quarantined: prior?.quarantined === true && prior.changeStamp === access.changeStamp,
    });
    return this.#answer({ ...scanned, allow: failure.allow, reason: failure.reason });
  }

  /** Starts a scan of the file, or finds the one in flight (coalescing); the caller joins it. */
  #startScan(k: string, access: FileAccess, prior: Attributes | undefined, priority: Priority): { flight: Flight<ScanRun>; joined: boolean } {
    return this.#inFlight.flight(k, priority, (f) => this.#scanLocked(k, access, prior, f));
  }

  /**
   * Lock, scan, and hand back the verdict as soon as it is known. Recording it (group commit), the
   * events, the infected-file action and the lock release continue in the background, tracked by
   * `drain()`: answering before the attribute write is durable is safe, because a record lost in a
   * crash only means the file is scanned again (an infected file is found again), and the in-memory
   * cache already holds the new attributes for the next access. The store lock is released by the
   * record's own transaction, so another node never scans on stale attributes.
   */
  async #scanLocked(k: string, access: FileAccess, prior: Attributes | undefined, flight: Flight<ScanRun>): Promise<ScanRun> {
    // Every waiter may have left before the scan started: then it never starts.
    flight.throwIfAbandoned();
    this.#counters.scansStarted++;
    const key = keyOf(access);
    const scanId = this.#nextId();
    // Another node's verdict while this one waited for its lock (shared store: read after each wake-up).
    let settledBy: Attributes | undefined;
    const settled = this.#shared === undefined ? undefined : async (): Promise<boolean> => {
      const fresh = await this.#attrs.read(key, k);
      if (lookupState(fresh, access.changeStamp, this.#watermark.get(Date.now())) === 'stale') return false;
      settledBy = fresh;
      return true;
    };
    let lease: Awaited<ReturnType<Leases['acquire']>>;
    try {
      lease = await this.#leases.acquire(key, this.#store.nodeId, scanId, this.#o.waitTimeoutMs, () => flight.abandoned, settled);
    } catch (err) {
      return this.#storeFailed(err, prior);
    }
    if (lease === 'settled') return settledRun(settledBy!);
    if (flight.abandoned) {
      if (lease !== 'timeout') this.#background(lease.release());
      flight.throwIfAbandoned();
    }
    if (lease === 'timeout') {
      const verdict: Verdict = { result: 'failure', kind: 'timeout', message: 'the scan lock is held by another node' };
      this.#counters.verdict('timeout');
      return { verdict, prior };
    }
    let handedOff = false;
    try {
      // Another process may have scanned the file while this one waited for the lock. On a shared
      // store it is read even without a wait: another node's record and unlock commit together, so a
      // lock taken just after them must not lead to a second scan of what they recorded.
      let fresh: Attributes | undefined;
      if (lease.waited || this.#shared !== undefined) {
        try {
          fresh = this.#shared === undefined ? await this.#store.getAttributes(key) : await this.#attrs.read(key, k);
        } catch (err) {
          return this.#storeFailed(err, prior);
        }
      }
      const freshState = fresh === undefined ? 'stale' : lookupState(fresh, access.changeStamp, this.#watermark.get(Date.now()));
      if (freshState === 'current' || (freshState === 'quarantined' && this.#shared !== undefined)) {
        if (this.#shared === undefined) this.#attrs.set(k, fresh!);
        return settledRun(fresh!);
      }
      // What the database holds is the history the record and the failure policy build on.
      const before = this.#shared !== undefined ? fresh : prior;
      const scanTime = Date.now();
      if (channels.dispatched.hasSubscribers) channels.dispatched.publish({ access, priority: flight.priority, scanId });
      // Rejects when the flight is abandoned: the lock is released below and nothing is recorded.
      const done = await scanFile(this.#o.dispatcher, access, flight);
      const v = done.verdict;
      this.#counters.verdict(v.result === 'failure' ? v.kind : v.result);
      if (channels.verdict.hasSubscribers) channels.verdict.publish({ access, verdict: v, server: done.server, scanId });
      const record = recordFor({ access, verdict: v, sigTimestamp: done.sigTimestamp, sigStamp: done.sigStamp, scanTime, changeStamp: access.changeStamp, prior: before });
      const attrs = record !== undefined ? attributesOf(record) : undefined;
      if (attrs !== undefined) this.#attrs.set(k, attrs);
      else this.#attrs.drop(k);
      handedOff = true;
      const persisted = this.#recorder.persist({ k, record, access, verdict: v, server: done.server, lease });
      // One reaction does what `.finally` + #background's `.catch().finally()` did (three promises on
      // every scan's path): it runs before any later waiter on `persisted`, and `tracked` never rejects.
      const after = (): void => {
        if (attrs !== undefined) this.#attrs.settled(k, attrs);
        if (this.#persisting.get(k) === persisted) this.#persisting.delete(k);
        this.#pending.delete(tracked);
      };
      const tracked: Promise<void> = persisted.then(after, after);
      this.#persisting.set(k, persisted);
      this.#pending.add(tracked);
      return { verdict: v, prior: before };
    } finally {
      if (!handedOff) this.#background(lease.release());
    }
  }

  /**
   * The store failed on the hot path (unreachable, busy): no verdict can be had, so the access is
   * answered by the policy's failure mode like a scanner outage (`unavailable`), never a rejection.
   */
  #storeFailed(err: unknown, prior: Attributes | undefined): ScanRun {
    this.#counters.storeErrors++;
    this.#counters.verdict('unavailable');
    const message = `the store is unavailable: ${err instanceof Error ? err.message : String(err)}`;
    return { verdict: { result: 'failure', kind: 'unavailable', message }, prior };
  }

  /** The lookup, confirmed by the database when a shared store's cache cannot say. */
  async #lookupConfirmed(access: FileAccess, k: string): Promise<KeptLookup> {
    const attrs = this.#attrs.peek(access.volume, access.fileId, k);
    const state = lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now()));
    if (state !== 'stale' || !this.#attrs.shared) return new KeptLookup(state, k, access.changeStamp, attrs, false);
    const read = await this.#confirm(access, k);
    return new KeptLookup(read.state, k, access.changeStamp, read.attrs, true);
  }

  /** A shared store's database read of a file this node's cache calls stale. Rejects with the store's error. */
  async #confirm(access: FileAccess, k: string): Promise<{ attrs: Attributes | undefined; state: LookupState }> {
    const attrs = await this.#attrs.read(keyOf(access), k);
    return { attrs, state: lookupState(attrs, access.changeStamp, this.#watermark.get(Date.now())) };
  }

  /** Shared store: raises the cluster's signature watermark to this node's dispatcher's (other nodes' files go stale). */
  #shareWatermark(): void {
    const w = this.#o.dispatcher.signatureWatermark();
    if (this.#shared === undefined || w === null || w.timestamp <= this.#shared.signatureWatermark) return;
    this.#background(this.#shared.setSignatureWatermark(w.timestamp).catch(() => {
      this.#counters.storeErrors++;
    }));
  }

  #background(p: Promise<unknown>): void {
    const tracked: Promise<unknown> = p.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  async #waitForScan(access: FileAccess): Promise<void> {
    const k = fileKeyString(access.volume, access.fileId);
    const pending = this.#inFlight.get(k);
    if (pending !== undefined) await waitBounded(pending, this.#o.waitTimeoutMs);
    const persisting = this.#persisting.get(k);
    if (persisting !== undefined) await waitBounded(persisting, this.#o.waitTimeoutMs);
    if (this.#shared !== undefined) await this.#waitForOtherNode(keyOf(access));
  }

  /**
   * Shared store: another node may be scanning the file; its record releases the lock, so waiting for
   * the lock keeps a late record from resurrecting a deleted file or landing under the old name. One
   * round trip when the file is not locked; a database that cannot answer does not hold the operation up.
   */
  async #waitForOtherNode(key: FileKey): Promise<void> {
    const shared = this.#shared!;
    try {
      const holder = await shared.lockHolder(key);
      if (holder !== undefined) await shared.waitForUnlock(key, this.#o.waitTimeoutMs);
    } catch {
      this.#counters.storeErrors++;
    }
  }

  #answer(a: AnswerInput): Answer {
    const answer: Answer = {
      allow: a.allow, reason: a.reason, rule: a.rule, verdict: a.verdict, decisionId: this.#nextId(),
      policyRevision: a.policyRevision, trigger: a.trigger, joined: a.joined ?? false,
    };
    this.#counters.reason(a.reason);
    if (channels.answered.hasSubscribers) channels.answered.publish({ answer, access: a.access, operation: a.operation });
    if (this.#o.onAnswer !== undefined) {
      try {
        this.#o.onAnswer(answer, a.access, a.operation);
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

/** Another node's verdict, read after its lock was released: clean and current, or quarantined. */
function settledRun(attrs: Attributes): ScanRun {
  const verdict: Verdict = attrs.quarantined ? { result: 'infected', threats: attrs.threats } : { result: 'clean' };
  return { verdict, prior: attrs };
}

function keyOf(access: FileAccess): FileKey {
  return { volume: access.volume, fileId: access.fileId };
}

/** Creates the on-access engine for one SVM. */
export function createEngine(options: EngineOptions): Engine {
  return new Engine(options);
}
