// Kept IDSESSION connections to one clamd, so a scan costs no connect/accept (REAL-SCANNERS §1.9:
// +30–40 % throughput). Each session carries ONE request at a time: a hung or timed-out request then
// costs only its own session (clamd cannot cancel a command, so that session is dropped), and a
// streamed file never interleaves with another request's chunks. The dispatcher already bounds
// requests in flight per server by max_connections_per_server, so sessions ≤ that bound.
import { performance } from 'node:perf_hooks';
import type { Endpoint } from './address.js';
import { ClamdSession } from './clamd-session.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';

export interface SessionPoolOptions {
  /** Idle sessions kept at most (the dispatcher passes max_connections_per_server). */
  readonly maxIdle: number;
  /**
   * An idle session older than this is closed instead of reused: clamd drops idle sessions after its
   * IdleTimeout (default 30 s), and reusing one just as clamd closes it would look like a dead server.
   */
  readonly idleMs: number;
}

export class SessionPool {
  readonly #ep: Endpoint;
  readonly #target: string;
  readonly #opts: SessionPoolOptions;
  /** Idle sessions, most recently used last (LIFO keeps hot sessions hot, lets cold ones expire). Invariant: every entry is alive and has no request. */
  readonly #idle: ClamdSession[] = [];
  /** Every open session (idle or busy), for close(). */
  readonly #all = new Set<ClamdSession>();
  #sweeper: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(ep: Endpoint, target: string, opts: SessionPoolOptions) {
    this.#ep = ep;
    this.#target = target;
    this.#opts = opts;
  }

  /** Sessions open now (idle + busy). */
  get size(): number {
    return this.#all.size;
  }

  get idle(): number {
    return this.#idle.length;
  }

  /** The most recently used live idle session, or `null` (then call `open`). */
  take(): ClamdSession | null {
    const now = performance.now();
    for (let s = this.#idle.pop(); s !== undefined; s = this.#idle.pop()) {
      if (s.alive && now - s.idleSince < this.#opts.idleMs) return s;
      void s.close();
    }
    return null;
  }

  /** A new session, tracked by the pool; rejects like `ClamdSession.open`. */
  async open(signal: AbortSignal): Promise<ClamdSession> {
    const s = await ClamdSession.open(this.#ep, this.#target, signal);
    if (this.#closed) {
      s.destroy();
      throw new DispatchError(DispatchErrorCodes.CLOSED, 'clamd session pool closed', { target: this.#target });
    }
    this.#all.add(s);
    s.onDead = (x) => this.#forget(x);
    return s;
  }

  /** Returns a session after a completed request; a dead one (or any after close) is dropped. */
  release(s: ClamdSession): void {
    if (this.#closed || !s.alive || s.pending > 0) {
      s.destroy();
      return;
    }
    s.idleSince = performance.now();
    this.#idle.push(s);
    if (this.#idle.length > this.#opts.maxIdle) void this.#idle.shift()!.close();
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(() => this.#sweep(), this.#opts.idleMs);
      this.#sweeper.unref();
    }
  }

  /** Closes every idle session (the server was seen dead: they would fail anyway). */
  reset(): void {
    for (const s of this.#idle.splice(0)) s.destroy();
  }

  /** Closes idle sessions with zEND and drops busy ones. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
    const idle = new Set(this.#idle.splice(0));
    // Idle sessions say goodbye (awaited); busy ones are cut at once (destroy is synchronous).
    const closing: Promise<void>[] = [];
    for (const s of this.#all) {
      if (idle.has(s)) closing.push(s.close());
      else s.destroy();
    }
    await Promise.all(closing);
    this.#all.clear();
  }

  #forget(s: ClamdSession): void {
    this.#all.delete(s);
    const i = this.#idle.indexOf(s);
    if (i !== -1) this.#idle.splice(i, 1);
  }

  #sweep(): void {
    const now = performance.now();
    // Oldest first: stop at the first session still fresh enough.
    while (this.#idle.length > 0 && now - this.#idle[0]!.idleSince >= this.#opts.idleMs) void this.#idle.shift()!.close();
    if (this.#idle.length === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }
}
