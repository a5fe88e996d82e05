// One scanner server's connection state machine:
//
//   connecting ──probe ok──▶ connected ──probe fails / request finds it dead──▶ disconnected
//        ▲  └─ max_session_setup_retries consecutive failures ─────────────────────▶ │
//        └──────────────── next health check (or at once after a request saw it die) ─┘
//
// Every transition is reported through `onTransition` (the dispatcher turns it into an event and a
// diagnostics_channel message) with ONTAP's `disconnected_reason`.
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { ServerAddress } from './address.js';
import type { ScannerClient } from './client.js';
import type { PoolRole, ResolvedConfig } from './config.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';
import type { ServerView } from './select.js';

export type ServerState = 'connecting' | 'connected' | 'disconnected';

/** ONTAP `disconnected_reason` values. */
export type DisconnectedReason =
  | 'unknown' | 'vscan_disabled' | 'no_data_lif' | 'session_uninitialized' | 'remote_closed'
  | 'invalid_protocol_msg' | 'invalid_session_id' | 'inactive_connection' | 'invalid_user' | 'server_removed';

export interface ServerEvent {
  readonly server: string;
  readonly pool: string;
  readonly role: PoolRole;
  readonly from: ServerState;
  readonly to: ServerState;
  /** Set when `to` is `disconnected`. */
  readonly disconnected_reason: DisconnectedReason | null;
  /** The error behind a disconnect, for logs. */
  readonly message: string | null;
  /** Epoch ms. */
  readonly time: number;
}

/** A connected server reported new signatures (its stamp changed between two probes). */
export interface SignatureEvent {
  readonly server: string;
  readonly pool: string;
  readonly role: PoolRole;
  readonly from: string | null;
  readonly to: string;
  /** The new signature time in epoch ms, when the server reports one. */
  readonly timestamp: number | null;
  /** Epoch ms. */
  readonly time: number;
}

/** Maps why a probe or request failed to ONTAP's `disconnected_reason`. */
export function reasonFor(err: unknown): DisconnectedReason {
  const code = err instanceof DispatchError ? err.code : '';
  switch (code) {
    case DispatchErrorCodes.TIMEOUT: return 'inactive_connection';
    case DispatchErrorCodes.PROTOCOL: return 'invalid_protocol_msg';
    case DispatchErrorCodes.CONNECT:
    case DispatchErrorCodes.SERVER_DIED: return 'remote_closed';
    case DispatchErrorCodes.CLOSED: return 'server_removed';
    case DispatchErrorCodes.SCANNER_START: return 'session_uninitialized';
    default: return 'unknown';
  }
}

export class PoolServer implements ServerView {
  readonly address: ServerAddress;
  readonly pool: string;
  readonly role: PoolRole;
  readonly client: ScannerClient;
  state: ServerState = 'connecting';
  connected = false;
  /** Requests running on this server now. Invariant: 0 ≤ inFlight ≤ max_connections_per_server. */
  inFlight = 0;
  busyUntil = 0;
  reason: DisconnectedReason | null = null;
  /** The error behind the last disconnect, in words; `null` while connected. */
  message: string | null = null;
  vendor = '';
  version = '';
  stamp: string | null = null;
  sigTimestamp: number | null = null;
  /** Epoch ms of the last state change. */
  updateTime = Date.now();
  /** Scan latency in microseconds. */
  readonly latency: RecordableHistogram = createHistogram();
  readonly counts = { clean: 0, infected: 0, failure: 0, timeout: 0, retried: 0 };

  readonly #cfg: ResolvedConfig;
  readonly #onTransition: (e: ServerEvent) => void;
  readonly #onSignature: (e: SignatureEvent) => void;
  #setupRunning = false;
  #probing = false;
  #closed = false;
  #timer: NodeJS.Timeout | null = null;
  #probeAbort: AbortController | null = null;

  constructor(
    address: ServerAddress, pool: string, role: PoolRole, client: ScannerClient, cfg: ResolvedConfig,
    onTransition: (e: ServerEvent) => void, onSignature: (e: SignatureEvent) => void = () => {},
  ) {
    this.address = address;
    this.pool = pool;
    this.role = role;
    this.client = client;
    this.#cfg = cfg;
    this.#onTransition = onTransition;
    this.#onSignature = onSignature;
  }

  /** Starts session setup and the periodic health checks. */
  start(): void {
    void this.#setup();
    this.#timer = setInterval(() => void this.#healthCheck(), this.#cfg.healthCheckIntervalMs);
    this.#timer.unref();
  }

  /** A request saw this server die (or answer garbage): disconnect now and start reconnecting. */
  reportDead(err: unknown): void {
    if (this.#closed || this.state === 'disconnected') return;
    if (this.state === 'connected') this.#transition('disconnected', reasonFor(err), err);
    void this.#setup();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#probeAbort?.abort(new DispatchError(DispatchErrorCodes.CLOSED, 'dispatcher closed'));
    if (this.state !== 'disconnected') this.#transition('disconnected', 'server_removed', null);
    await this.client.close();
  }

  #transition(to: ServerState, reason: DisconnectedReason | null, err: unknown): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.connected = to === 'connected';
    this.reason = to === 'disconnected' ? reason : null;
    this.message = to === 'disconnected' && err instanceof Error ? err.message : null;
    if (to === 'disconnected') this.client.reset?.();
    this.updateTime = Date.now();
    this.#onTransition({
      server: this.address.raw, pool: this.pool, role: this.role, from, to,
      disconnected_reason: this.reason,
      message: err instanceof Error ? err.message : null,
      time: this.updateTime,
    });
  }

  async #probe(): Promise<void> {
    const ac = new AbortController();
    this.#probeAbort = ac;
    const t = setTimeout(() => ac.abort(new DispatchError(DispatchErrorCodes.TIMEOUT, `scanner ${this.address.raw} did not answer its probe in time`, { target: this.address.raw })), this.#cfg.sessionSetupTimeoutMs);
    try {
      const p = await this.client.probe(ac.signal);
      this.vendor = p.vendor;
      this.version = p.version;
      const before = this.stamp;
      this.stamp = p.stamp;
      this.sigTimestamp = p.timestamp;
      // The very first probe only reads the stamp; any later change (health check or reconnect) is an update.
      if (before !== null && before !== p.stamp) {
        this.#onSignature({ server: this.address.raw, pool: this.pool, role: this.role, from: before, to: p.stamp, timestamp: p.timestamp, time: Date.now() });
      }
    } finally {
      clearTimeout(t);
      this.#probeAbort = null;
    }
  }

  /** Session setup with up to max_session_setup_retries consecutive attempts. */
  async #setup(): Promise<void> {
    if (this.#setupRunning || this.#closed) return;
    this.#setupRunning = true;
    try {
      this.#transition('connecting', null, null);
      let last: unknown = null;
      for (let attempt = 0; attempt < this.#cfg.maxSessionSetupRetries && !this.#closed; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, this.#cfg.sessionRetryIntervalMs).unref());
        if (this.#closed) return;
        try {
          await this.#probe();
          if (!this.#closed) this.#transition('connected', null, null);
          return;
        } catch (e) {
          last = e;
        }
      }
      if (!this.#closed) this.#transition('disconnected', reasonFor(last), last);
    } finally {
      this.#setupRunning = false;
    }
  }

  async #healthCheck(): Promise<void> {
    if (this.#closed || this.#setupRunning || this.#probing) return;
    if (this.state !== 'connected') {
      void this.#setup();
      return;
    }
    this.#probing = true;
    try {
      await this.#probe();
      this.updateTime = Date.now();
    } catch (e) {
      if (!this.#closed && this.state === 'connected') {
        this.#transition('disconnected', reasonFor(e), e);
        void this.#setup();
      }
    } finally {
      this.#probing = false;
    }
  }

  /** Records one finished request's latency (ms). */
  record(ms: number): void {
    this.latency.record(Math.max(1, Math.round(ms * 1000)));
  }

  now(): number {
    return performance.now();
  }
}
