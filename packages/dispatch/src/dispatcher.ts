// The dispatcher: a bounded priority queue in front of the scanner servers of a set of pools.
// scan() → (free server now? run : wait in the queue ≤ scan_queue_timeout) → run on the selected
// server with request_timeout → on timeout, death or garbage retry once on another server → outcome.
// Server transitions are 'server' events and `avscan:dispatch:server` diagnostics_channel messages;
// signature updates are 'signature' events and `avscan:dispatch:signature` messages.
import diagnostics_channel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ServerAddress } from './address.js';
import type { ScanInput, ScannerClient, ScannerVerdict } from './client.js';
import { makeClient } from './clients.js';
import { resolveConfig, type DispatcherOptions, type ResolvedConfig } from './config.js';
import { AbortError, DispatchError, DispatchErrorCodes, QueueFullError, quote } from './errors.js';
import { failureAction, failureKind } from './failures.js';
import { kPriorities, PriorityQueue, type Priority, type QueueEntry } from './queue.js';
import { activeTier, hasAlternative, selectServer, type SelectOptions } from './select.js';
import { PoolServer, type ServerEvent, type SignatureEvent } from './server.js';
import { serverMetricsOf, serverStatusOf, signatureWatermarkOf } from './status.js';
import type { DispatcherMetrics, OutcomeBase, PendingScan, ScanOutcome, ScanRequest, ServerStatus, SignatureWatermark } from './types.js';

/** A request from `scan()` until its outcome. */
interface Job extends QueueEntry {
  readonly input: ScanInput;
  /** Raised (never lowered) by `PendingScan.raise` while the request waits or runs. */
  priority: Priority;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (o: ScanOutcome) => void;
  readonly reject: (e: unknown) => void;
  readonly start: number;
  /** Indexes of servers tried; a retry must go elsewhere. */
  readonly tried: Set<number>;
  attempts: number;
  queueTimer: NodeJS.Timeout | null;
  /** Aborts the running attempt (request timeout or caller abort). */
  attempt: AbortController | null;
  /** performance.now() by which the running attempt must have answered (request_timeout). */
  deadline: number;
  lastServer: PoolServer | null;
  lastError: DispatchError | null;
  done: boolean;
  onAbort: (() => void) | null;
  /** The scanner answered and the reply waits for its batch (`background_settle_delay`). */
  held: boolean;
}

/** A background request's verdict held for its batch (its connection slot is already free). */
interface Held {
  readonly job: Job;
  readonly i: number;
  readonly server: PoolServer;
  readonly verdict: ScannerVerdict;
}

const kServerChannel = diagnostics_channel.channel('avscan:dispatch:server');
const kSignatureChannel = diagnostics_channel.channel('avscan:dispatch:signature');
/** How long a server that answered EAGAIN is skipped. */
const kBusyMs = 20;

export class Dispatcher extends EventEmitter {
  readonly config: ResolvedConfig;
  readonly #servers: PoolServer[] = [];
  readonly #queue: PriorityQueue<Job>;
  readonly #select: SelectOptions;
  readonly #scratch: number[] = [];
  readonly #results = { clean: 0, infected: 0, unavailable: 0, timeout: 0, error: 0, 'too-large': 0 };
  #inFlight = 0;
  /**
   * Jobs with an attempt running, in the order their attempts started. Every attempt gets the same
   * request_timeout, so this is also deadline order: the first entry is the next to expire.
   * close() cuts them after session_teardown_timeout.
   */
  readonly #running = new Set<Job>();
  /**
   * ONE timer for every request timeout, armed for the first deadline and re-armed lazily when it
   * fires (a finished request leaves it alone), instead of a setTimeout + clearTimeout per request:
   * at one request at a time a timer fires about once per request_timeout, not once per file.
   * Referenced only while requests run, like the per-request timers it replaces.
   */
  #deadlineTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #needsDrain = false;
  #busyTimer: NodeJS.Timeout | null = null;
  /** Producers waiting for the queue to shrink (`onQueueBelow`). */
  #below: Array<{ readonly n: number; readonly resolve: () => void }> = [];
  /** Background requests not done (waiting, running or held). */
  #background = 0;
  /** Verdicts of background requests waiting for #heldTimer, in the order they came. */
  #held: Held[] = [];
  #heldTimer: NodeJS.Timeout | null = null;

  constructor(options: DispatcherOptions, clientFactory: (a: ServerAddress, cfg: ResolvedConfig) => ScannerClient = makeClient) {
    super();
    // Phase 1: validate everything before any socket is opened.
    this.config = resolveConfig(options);
    this.#queue = new PriorityQueue<Job>(this.config.maxQueue);
    this.#select = { nodeIndex: this.config.nodeIndex, maxServersPerNode: this.config.maxServersPerNode, maxConnections: this.config.maxConnectionsPerServer };
    // Phase 2: one state machine per server, in config order (selection relies on that order).
    for (const pool of this.config.pools) {
      for (const a of pool.servers) {
        this.#servers.push(new PoolServer(a, pool.name, pool.role, clientFactory(a, this.config), this.config, (e) => this.#onTransition(e), (e) => this.#onSignature(e)));
      }
    }
    // Phase 3: start session setup; idle pools are never used, so they are not connected at all.
    for (const s of this.#servers) if (s.role !== 'idle') s.start();
  }

  /** Requests waiting for a server (what `onQueueBelow` compares). */
  get queued(): number {
    return this.#queue.size;
  }

  /** True while the queue is full: new requests fail `unavailable` until 'drain'. */
  get saturated(): boolean {
    return this.#queue.full;
  }

  /**
   * Resolves once a primary or secondary server is connected, or every non-idle server has finished
   * its first session setup (whatever the result), or after `timeoutMs`.
   */
  ready(timeoutMs = this.config.sessionSetupTimeoutMs * this.config.maxSessionSetupRetries): Promise<void> {
    const settled = (): boolean => activeTier(this.#servers) !== null || this.#servers.every((s) => s.role === 'idle' || s.state !== 'connecting');
    if (settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, timeoutMs);
      function done(): void { clearTimeout(t); resolve(); }
      const check = (): void => {
        if (settled()) { this.off('server', check); done(); }
      };
      this.on('server', check);
    });
  }

  scan(request: ScanRequest): Promise<ScanOutcome> {
    return this.submit(request).outcome;
  }

  /**
   * Like `scan()`, with a handle on the request: `raise(priority)` moves it to a more urgent class
   * while it waits (a scan an interactive access joined), keeping its arrival order in that class.
   */
  submit(request: ScanRequest): PendingScan {
    const start = performance.now();
    let job: Job | undefined;
    const raise = (priority: Priority): void => {
      if (job !== undefined) this.#raise(job, priority);
    };
    if (this.#closed) return { outcome: Promise.reject(new DispatchError(DispatchErrorCodes.CLOSED, 'dispatcher is closed')), raise };
    let input: ScanInput;
    let priority: Priority;
    try {
      ({ input, priority } = checkRequest(request));
    } catch (e) {
      return { outcome: Promise.reject(e), raise };
    }
    const signal = request.signal;
    if (signal?.aborted) return { outcome: Promise.reject(new AbortError(signal.reason)), raise };
    const outcome = new Promise<ScanOutcome>((resolve, reject) => {
      const j: Job = {
        queued: false, queueClass: -1, arrival: 0, input, priority, signal, resolve, reject, start, tried: new Set(), attempts: 0,
        queueTimer: null, attempt: null, deadline: 0, lastServer: null, lastError: null, done: false, onAbort: null, held: false,
      };
      job = j;
      if (priority === 'background') this.#background++;
      if (signal) {
        j.onAbort = () => this.#abort(j);
        signal.addEventListener('abort', j.onAbort, { once: true });
      }
      // Fast path: nobody waiting and a server free → run now, no queue timer.
      if (this.#queue.size === 0) {
        const i = selectServer(this.#servers, this.#select, performance.now(), undefined, this.#scratch);
        if (i !== -1) {
          this.#run(j, i);
          return;
        }
      }
      this.#enqueue(j, false);
      // A client's request that has to wait ends the batch: while clients wait, the job works file by
      // file (see #answered), so their replies are never read behind a burst of its records.
      if (priority !== 'background' && this.#held.length > 0) this.#releaseHeld();
    });
    return { outcome, raise };
  }

  #raise(job: Job, priority: Priority): void {
    if (job.done || kPriorities.indexOf(priority) >= kPriorities.indexOf(job.priority)) return;
    if (job.priority === 'background') this.#background--;
    job.priority = priority;
    // A client joined a scan whose verdict is held: it is handed over now.
    if (job.held) this.#releaseHeld();
    if (job.queued) {
      this.#queue.raise(job, priority);
      this.#pump();
    }
  }

  /** One status record per server (ONTAP `vscan/server-status`). */
  serverStatus(): ServerStatus[] {
    return serverStatusOf(this.#servers);
  }

  /** Newest signature stamp among healthy active servers, or `null` when none is connected. */
  signatureWatermark(): SignatureWatermark | null {
    return signatureWatermarkOf(this.#servers);
  }

  metrics(): DispatcherMetrics {
    return { inFlight: this.#inFlight, queued: this.#queue.size, saturated: this.#queue.full, results: { ...this.#results }, servers: serverMetricsOf(this.#servers) };
  }

  /**
   * Stops accepting requests, fails queued ones `unavailable`, waits up to session_teardown_timeout
   * for requests in flight, then cuts their connections and closes every server.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#busyTimer) clearTimeout(this.#busyTimer);
    this.#releaseHeld();
    const closed = new DispatchError(DispatchErrorCodes.CLOSED, 'dispatcher is closed');
    for (let j = this.#queue.shift(); j !== undefined; j = this.#queue.shift()) this.#fail(j, closed);
    this.#maybeDrain();
    for (const w of this.#below.splice(0)) w.resolve();
    const deadline = performance.now() + this.config.sessionTeardownTimeoutMs;
    while (this.#inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const j of this.#running) j.attempt?.abort(closed);
    await Promise.all(this.#servers.map((s) => s.close()));
    // Only now: requests still running during the teardown wait keep their request_timeout, as before.
    if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = null;
  }

  #onSignature(e: SignatureEvent): void {
    if (kSignatureChannel.hasSubscribers) kSignatureChannel.publish(e);
    this.emit('signature', e);
  }

  #onTransition(e: ServerEvent): void {
    if (kServerChannel.hasSubscribers) kServerChannel.publish(e);
    this.emit('server', e);
    if (e.to === 'connected') this.#pump();
  }

  #enqueue(job: Job, front: boolean): void {
    if (front) this.#queue.pushFront(job, job.priority);
    else if (!this.#queue.push(job, job.priority)) {
      this.#needsDrain = true;
      this.emit('saturated');
      this.#fail(job, new QueueFullError(this.#queue.limit));
      return;
    }
    if (job.queueTimer === null) {
      job.queueTimer = setTimeout(() => {
        job.queueTimer = null;
        if (!job.queued) return;
        this.#queue.remove(job);
        this.#fail(job, job.lastError ?? new DispatchError(DispatchErrorCodes.QUEUE_TIMEOUT, `no scanner server took the request within scan_queue_timeout (${this.config.scanQueueTimeoutMs} ms)`));
        this.#maybeDrain();
      }, this.config.scanQueueTimeoutMs);
    }
  }

  /** Resolves once fewer than `n` requests wait in the queue: await it before submitting more. */
  onQueueBelow(n: number): Promise<void> {
    if (this.#queue.size < n || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#below.push({ n, resolve }));
  }

  #maybeDrain(): void {
    if (this.#below.length > 0) {
      const size = this.#queue.size;
      this.#below = this.#below.filter((w) => (size < w.n ? (w.resolve(), false) : true));
    }
    if (this.#needsDrain && this.#queue.size === 0) {
      this.#needsDrain = false;
      this.emit('drain');
    }
  }

  /** Starts queued requests while servers have room. */
  #pump(): void {
    if (this.#closed) return;
    const now = performance.now();
    for (let job = this.#queue.peek(); job !== undefined; job = this.#queue.peek()) {
      const i = selectServer(this.#servers, this.#select, now, job.tried.size > 0 ? job.tried : undefined, this.#scratch);
      if (i === -1) {
        // A retry whose alternatives are all gone would block the head of the queue: end it now.
        if (job.tried.size > 0 && !hasAlternative(this.#servers, this.#select, job.tried)) {
          this.#queue.shift();
          this.#fail(job, job.lastError!);
          continue;
        }
        this.#armBusyTimer(now);
        break;
      }
      this.#queue.shift();
      this.#run(job, i);
    }
    this.#maybeDrain();
  }

  /** When only EAGAIN-busy servers block the queue, look again once they are due. */
  #armBusyTimer(now: number): void {
    if (this.#busyTimer !== null) return;
    let due = Infinity;
    for (const s of this.#servers) if (s.busyUntil > now) due = Math.min(due, s.busyUntil);
    if (due === Infinity) return;
    this.#busyTimer = setTimeout(() => { this.#busyTimer = null; this.#pump(); }, Math.ceil(due - now));
  }

  #run(job: Job, i: number): void {
    const server = this.#servers[i]!;
    if (job.queueTimer !== null) {
      clearTimeout(job.queueTimer);
      job.queueTimer = null;
    }
    job.attempts++;
    job.tried.add(i);
    job.lastServer = server;
    server.inFlight++;
    this.#inFlight++;
    const ac = new AbortController();
    job.attempt = ac;
    const t0 = performance.now();
    job.deadline = t0 + this.config.requestTimeoutMs;
    this.#running.add(job);
    this.#watchDeadlines(job.deadline);
    server.client.scan(job.input, ac.signal).then(
      (v) => this.#answered(job, i, server, t0, v),
      (e: unknown) => this.#settle(job, i, server, t0, null, e),
    );
  }

  /**
   * A verdict came. A background one is held while other background requests are still running or
   * waiting, up to background_settle_delay, and handed over with the verdicts that come meanwhile:
   * an on-demand job then does its per-file work (records, next files, their requests) in bursts
   * instead of one wake-up per file: beside a busy clamd its node CPU per file fell from 102–174 µs
   * to 94–121 in quiet runs (bench/RESULTS.md, "Background verdicts in batches"). Failures are never held.
   * A held verdict gives its connection slot back at once, so the requests waiting in the queue keep
   * the scanner's threads busy during the hold.
   */
  #answered(job: Job, i: number, server: PoolServer, t0: number, v: ScannerVerdict): void {
    const delay = this.config.backgroundSettleDelayMs;
    if (job.priority === 'background' && delay > 0 && !job.done && !this.#closed) {
      // Held only while another background request is still to come. Not while a client's request
      // waits in the queue: the job then works file by file, as it did before verdicts were batched.
      if (this.#background - this.#held.length > 1 && (this.#queue.peek()?.priority ?? 'background') === 'background') {
        this.#free(job, server, t0);
        job.held = true;
        this.#held.push({ job, i, server, verdict: v });
        this.#heldTimer ??= setTimeout(() => this.#releaseHeld(), delay);
        this.#pump();
        return;
      }
      // Nothing else under way: this one completes the batch.
      this.#releaseHeld();
    }
    this.#settle(job, i, server, t0, v, null);
  }

  /** Settles every held verdict, in the order they came. */
  #releaseHeld(): void {
    if (this.#heldTimer !== null) clearTimeout(this.#heldTimer);
    this.#heldTimer = null;
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const h of held) {
      h.job.held = false;
      this.#deliver(h.job, h.i, h.server, h.verdict, null);
    }
  }

  /** A request now runs until `deadline`: make sure the shared timer is armed and keeps the process up. */
  #watchDeadlines(deadline: number): void {
    const t = this.#deadlineTimer;
    // Armed already: for an earlier deadline (or this one), since deadlines only grow; it re-arms itself.
    if (t !== null) t.ref();
    else this.#armDeadlines(deadline, performance.now());
  }

  #armDeadlines(deadline: number, now: number): void {
    this.#deadlineTimer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(deadline - now)));
  }

  /** The shared timer fired: time out every attempt past its deadline, re-arm for the next one. */
  #expire(): void {
    this.#deadlineTimer = null;
    const now = performance.now();
    const expired: Job[] = [];
    let next = Infinity;
    for (const job of this.#running) {
      if (job.deadline > now) {
        next = job.deadline;
        break;
      }
      expired.push(job);
    }
    if (next !== Infinity) this.#armDeadlines(next, now);
    for (const job of expired) {
      const server = job.lastServer!;
      // Aborting makes the client settle (reject) soon, which takes the job out of #running.
      if (job.attempt !== null && !job.attempt.signal.aborted) {
        job.attempt.abort(new DispatchError(DispatchErrorCodes.TIMEOUT, `scanner ${server.address.raw} gave no verdict within request_timeout (${this.config.requestTimeoutMs} ms)`, { target: server.address.raw }));
      }
    }
  }

  #settle(job: Job, i: number, server: PoolServer, t0: number, v: ScannerVerdict | null, err: unknown): void {
    this.#free(job, server, t0);
    this.#deliver(job, i, server, v, err);
  }

  /** The attempt is over: its connection slot is free and the server's latency is recorded. */
  #free(job: Job, server: PoolServer, t0: number): void {
    server.inFlight--;
    this.#inFlight--;
    job.attempt = null;
    this.#running.delete(job);
    // Nothing left to time out: the pending shared timer must not keep the process alive.
    if (this.#running.size === 0) this.#deadlineTimer?.unref();
    server.record(performance.now() - t0);
  }

  /** Hands the attempt's verdict or error to the request (or retries it), then starts what waits. */
  #deliver(job: Job, i: number, server: PoolServer, v: ScannerVerdict | null, err: unknown): void {
    if (job.done) {
      this.#pump();
      return;
    }
    if (v !== null) {
      server.counts[v.kind]++;
      this.#finish(job, v.kind === 'clean' ? { result: 'clean', ...this.#base(job) } : { result: 'infected', threats: v.threats, ...this.#base(job) });
    } else this.#failed(job, i, server, err);
    this.#pump();
  }

  #failed(job: Job, i: number, server: PoolServer, err: unknown): void {
    if (err instanceof AbortError) {
      this.#end(job);
      job.reject(err);
      return;
    }
    const e = err instanceof DispatchError ? err : new DispatchError(DispatchErrorCodes.SCANNER_ERROR, `scanner ${server.address.raw} failed: ${quote(String(err))}`, { target: server.address.raw, cause: err });
    job.lastError = e;
    server.counts.failure++;
    const action = failureAction(e.code);
    if (action === 'busy') {
      server.busyUntil = performance.now() + kBusyMs;
      job.attempts--;
      job.tried.delete(i);
      this.#enqueue(job, true);
      return;
    }
    if (action === 'retry') server.counts.timeout++;
    if (action === 'dead') server.reportDead(e);
    const retry = action === 'retry' || action === 'dead';
    if (retry && job.attempts < 2 && hasAlternative(this.#servers, this.#select, job.tried)) {
      server.counts.retried++;
      this.#enqueue(job, true);
      return;
    }
    this.#fail(job, e);
  }

  #abort(job: Job): void {
    // The verdict came before the abort: it stands.
    if (job.held) this.#releaseHeld();
    if (job.done) return;
    const err = new AbortError(job.signal?.reason);
    if (job.attempt !== null) {
      job.attempt.abort(err); // the client closes its connection; #settle rejects
      return;
    }
    this.#queue.remove(job);
    this.#end(job);
    job.reject(err);
    this.#maybeDrain();
  }

  #base(job: Job): OutcomeBase {
    const s = job.lastServer;
    return { server: s?.address.raw ?? null, stamp: s?.stamp ?? null, sigTimestamp: s?.sigTimestamp ?? null, latencyMs: performance.now() - job.start, attempts: job.attempts };
  }

  #fail(job: Job, e: DispatchError): void {
    const kind = failureKind(e.code);
    this.#finish(job, { result: 'failure', kind, code: e.code, message: e.message, ...this.#base(job) });
  }

  #finish(job: Job, o: ScanOutcome): void {
    this.#end(job);
    this.#results[o.result === 'failure' ? o.kind : o.result]++;
    job.resolve(o);
  }

  #end(job: Job): void {
    if (!job.done && job.priority === 'background') this.#background--;
    job.done = true;
    if (job.queueTimer !== null) clearTimeout(job.queueTimer);
    job.queueTimer = null;
    if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
  }
}

function checkRequest(r: ScanRequest): { input: ScanInput; priority: Priority } {
  const bad = (m: string): never => { throw new DispatchError(DispatchErrorCodes.INVALID_REQUEST, m); };
  if (r === null || typeof r !== 'object') bad(`scan request must be an object, got ${quote(r)}`);
  const hasFile = r.file !== undefined;
  const hasData = r.data !== undefined;
  if (hasFile === hasData) bad('scan request needs exactly one of `file` and `data`');
  if (hasFile && (typeof r.file !== 'string' || !r.file.startsWith('/') || r.file.includes('\0'))) bad(`\`file\` must be an absolute path, got ${quote(r.file)}`);
  if (hasData && !(r.data instanceof Uint8Array)) bad('`data` must be a Uint8Array');
  const priority = r.priority ?? 'interactive';
  if (!kPriorities.includes(priority)) bad(`\`priority\` must be interactive, async or background, got ${quote(priority)}`);
  if (r.signal !== undefined && !(r.signal instanceof AbortSignal)) bad('`signal` must be an AbortSignal');
  return { input: hasFile ? { file: r.file } : { data: r.data }, priority };
}

/** Creates a dispatcher; validates `options` eagerly (throws `ERR_DISPATCH_INVALID_CONFIG`). */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new Dispatcher(options);
}
