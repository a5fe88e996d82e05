// The dispatcher's public data shapes: requests, outcomes, status and metrics records.
import type { DispatchErrorCode } from './errors.js';
import type { Priority } from './queue.js';
import type { DisconnectedReason, ServerState } from './server.js';

export type FailureKind = 'unavailable' | 'timeout' | 'error' | 'too-large';

export interface OutcomeBase {
  /** Address of the server that gave the verdict (or last tried), `null` if none was tried. */
  readonly server: string | null;
  /** Signature stamp of that server (clamd version/db, ICAP ISTag). */
  readonly stamp: string | null;
  /** Signature time of that server in epoch ms, when it reports one. */
  readonly sigTimestamp: number | null;
  /** From `scan()` to the outcome, ms. */
  readonly latencyMs: number;
  /** Servers tried (0 when it never left the queue, 2 after a retry). */
  readonly attempts: number;
}
export type ScanOutcome =
  | (OutcomeBase & { readonly result: 'clean' })
  | (OutcomeBase & { readonly result: 'infected'; readonly threats: readonly string[] })
  | (OutcomeBase & { readonly result: 'failure'; readonly kind: FailureKind; readonly code: DispatchErrorCode; readonly message: string });

export interface ScanRequest {
  /** Absolute path of a file to scan (streamed, or named to clamd with `?scan=path`). Exactly one of `file` / `data`. */
  readonly file?: string;
  readonly data?: Uint8Array;
  /** @default 'interactive' */
  readonly priority?: Priority;
  /** Aborting removes a queued request or closes its scanner connection; `scan()` rejects with `AbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** A submitted request: its outcome, and a way to make it more urgent while it waits. */
export interface PendingScan {
  readonly outcome: Promise<ScanOutcome>;
  /** Moves the request to a more urgent priority class (a no-op when it is already as urgent, or done). */
  raise(priority: Priority): void;
}

export interface ServerStatus {
  /** Host, unix socket path or `builtin`. */
  readonly ip: string;
  readonly state: ServerState;
  /** ONTAP: `primary` for primary pools, `backup` otherwise. */
  readonly type: 'primary' | 'backup';
  /** ISO 8601. */
  readonly update_time: string;
  readonly vendor: string;
  readonly version: string;
  readonly disconnected_reason: DisconnectedReason | null;
  /** Why it is disconnected, in words (the error behind `disconnected_reason`); `null` otherwise. */
  readonly message: string | null;
  readonly server: string;
  readonly pool: string;
  readonly role: 'primary' | 'secondary' | 'idle';
  readonly in_flight: number;
  readonly signature: string | null;
  readonly signature_timestamp: number | null;
  /** clamd `?scan=path`: requests clamd could not read by path, streamed instead (0 otherwise). */
  readonly path_fallbacks: number;
}

export interface SignatureWatermark {
  /** Newest signature time among healthy active servers; 0 when none reports one. */
  readonly timestamp: number;
  /** Signature stamps of the healthy active servers (a stored stamp in this set is current). */
  readonly stamps: readonly string[];
}

export interface ServerMetrics {
  readonly server: string;
  readonly state: ServerState;
  readonly inFlight: number;
  readonly clean: number;
  readonly infected: number;
  readonly failure: number;
  readonly timeout: number;
  readonly retried: number;
  /** clamd `?scan=path`: requests clamd could not read by path, streamed instead. */
  readonly pathFallbacks: number;
  /** Latency percentiles in ms (0 before the first request). */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

export interface DispatcherMetrics {
  readonly inFlight: number;
  readonly queued: number;
  readonly saturated: boolean;
  readonly results: { clean: number; infected: number; unavailable: number; timeout: number; error: number; 'too-large': number };
  readonly servers: readonly ServerMetrics[];
}
