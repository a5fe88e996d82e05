// What the dispatcher needs from a scanner, whatever its protocol. Clients report failures by throwing
// `DispatchError`s whose code says what went wrong (and so whether to retry elsewhere); the
// dispatcher's `AbortSignal` (caller abort or request timeout) makes them drop their connection and
// reject with the signal's reason.
import net from 'node:net';
import type { Endpoint } from './address.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';

export interface ScanInput {
  /**
   * Absolute path: streamed by the client (INSTREAM / RESPMOD), or named to clamd in a zSCAN when
   * the server's address says `?scan=path` (then clamd reads it).
   */
  readonly file?: string | undefined;
  readonly data?: Uint8Array | undefined;
}

export type ScannerVerdict = { readonly kind: 'clean' } | { readonly kind: 'infected'; readonly threats: readonly string[] };

export interface ProbeResult {
  readonly vendor: string;
  readonly version: string;
  /** Opaque signature stamp (clamd `ClamAV 1.4.6/27000`, ICAP ISTag, built-in signature version). */
  readonly stamp: string;
  /** Signature time in epoch ms when the scanner reports one. */
  readonly timestamp: number | null;
}

export interface ScannerClient {
  /** Health check and session setup: proves the server answers its protocol and reads its versions. */
  probe(signal: AbortSignal): Promise<ProbeResult>;
  scan(input: ScanInput, signal: AbortSignal): Promise<ScannerVerdict>;
  close(): Promise<void>;
  /** The server was seen dead: drop kept idle connections (they would fail too). Optional. */
  reset?(): void;
  /** clamd scan-by-path: requests clamd could not read by path and that were streamed instead. */
  readonly pathFallbacks?: number;
}

/** Opens a socket to a TCP or unix endpoint, with Nagle off (requests are small and latency-bound). */
export function connect(ep: Endpoint, onread?: net.OnReadOpts): net.Socket {
  const sock = 'path' in ep ? net.createConnection({ path: ep.path, onread }) : net.createConnection({ port: ep.port, host: ep.host, onread });
  sock.setNoDelay(true);
  return sock;
}

/**
 * Maps a socket failure to a coded error. Before the connection was up it is a connect failure
 * (`EAGAIN` on a full unix backlog means busy, not down: REAL-SCANNERS §1.7); after it, the server
 * went away mid-request.
 */
export function socketError(err: NodeJS.ErrnoException | undefined, connected: boolean, target: string): DispatchError {
  const code = err?.code ?? 'EOF';
  if (!connected) {
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
      return new DispatchError(DispatchErrorCodes.SERVER_BUSY, `scanner ${target} is busy (listen backlog full)`, { target, cause: err });
    }
    return new DispatchError(DispatchErrorCodes.CONNECT, `cannot connect to scanner ${target} (${code})`, { target, cause: err });
  }
  return new DispatchError(DispatchErrorCodes.SERVER_DIED, `scanner ${target} closed the connection without a complete reply (${code})`, { target, cause: err });
}

/** Rejects at once if the signal already fired. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}
