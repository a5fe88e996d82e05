// The engine keeps the dispatcher it was created with; a slot lets the management side change an
// SVM's scanner pools while the engine runs. The slot is an `EngineDispatcher` (the engine's declared
// needs, checked by the compiler): it forwards submissions and status reads to the current
// dispatcher and re-emits its `server` and `signature` events, so the engine's server log sees the
// new pools' servers connect. A swap puts the new dispatcher in place at once (new scans go there)
// and closes the old one in the background: its requests in flight finish or fail per
// session_teardown_timeout, as on an ONTAP pool change. With no pool the slot answers every scan
// `unavailable` (the failure policy decides), as ONTAP does with no active server.
import { EventEmitter } from 'node:events';
import {
  createDispatcher, DispatchErrorCodes,
  type Dispatcher, type DispatcherMetrics, type DispatcherOptions, type PendingScan, type ScanRequest, type ServerEvent, type ServerStatus,
  type SignatureEvent, type SignatureWatermark,
} from '@avscan/dispatch';
import type { EngineDispatcher } from '@avscan/engine';

export class DispatcherSlot extends EventEmitter implements EngineDispatcher {
  #current: Dispatcher | null = null;
  readonly #closing = new Set<Promise<void>>();
  readonly #onSwap: (d: Dispatcher | null) => void;
  readonly #forwardServer = (e: ServerEvent): void => {
    this.emit('server', e);
  };
  readonly #forwardSignature = (e: SignatureEvent): void => {
    this.emit('signature', e);
  };

  constructor(onSwap: (d: Dispatcher | null) => void = () => {}) {
    super();
    this.#onSwap = onSwap;
  }

  get current(): Dispatcher | null {
    return this.#current;
  }

  /** Builds a dispatcher for these options (or none when there are no pools) and swaps it in. */
  replace(options: DispatcherOptions | null): void {
    const next = options === null || options.scanner_pools.length === 0 ? null : createDispatcher(options);
    const old = this.#current;
    // Listen before anything connects: createDispatcher only starts its connections.
    next?.on('server', this.#forwardServer).on('signature', this.#forwardSignature);
    this.#current = next;
    this.#onSwap(next);
    if (old !== null) {
      old.off('server', this.#forwardServer).off('signature', this.#forwardSignature);
      const p: Promise<void> = old.close().catch(() => {}).finally(() => this.#closing.delete(p));
      this.#closing.add(p);
    }
  }

  submit(request: ScanRequest): PendingScan {
    if (this.#current === null) {
      return {
        outcome: Promise.resolve({
          result: 'failure', kind: 'unavailable', code: DispatchErrorCodes.QUEUE_TIMEOUT,
          message: 'the SVM has no scanner pool', server: null, stamp: null, sigTimestamp: null, latencyMs: 0, attempts: 0,
        }),
        raise: () => {},
      };
    }
    return this.#current.submit(request);
  }

  signatureWatermark(): SignatureWatermark | null {
    return this.#current?.signatureWatermark() ?? null;
  }

  serverStatus(): ServerStatus[] {
    return this.#current?.serverStatus() ?? [];
  }

  metrics(): DispatcherMetrics | null {
    return this.#current?.metrics() ?? null;
  }

  async close(): Promise<void> {
    const cur = this.#current;
    this.#current = null;
    cur?.off('server', this.#forwardServer).off('signature', this.#forwardSignature);
    await Promise.allSettled([cur?.close(), ...this.#closing]);
  }
}
