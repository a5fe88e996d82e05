// The engine keeps the dispatcher it was created with; a slot lets the management side change an
// SVM's scanner pools while the engine runs. The engine calls only `scan` and `signatureWatermark`,
// which the slot forwards to the current dispatcher. A swap puts the new dispatcher in place at once
// (new scans go there) and closes the old one in the background: its requests in flight finish or
// fail per session_teardown_timeout, as on an ONTAP pool change. With no pool the slot answers every
// scan `unavailable` (the failure policy decides), as ONTAP does with no active server.
import {
  createDispatcher, DispatchErrorCodes,
  type Dispatcher, type DispatcherMetrics, type DispatcherOptions, type ScanOutcome, type ScanRequest, type ServerStatus, type SignatureWatermark,
} from '@avscan/dispatch';

export class DispatcherSlot {
  #current: Dispatcher | null = null;
  readonly #closing = new Set<Promise<void>>();
  readonly #onSwap: (d: Dispatcher | null) => void;

  constructor(onSwap: (d: Dispatcher | null) => void = () => {}) {
    this.#onSwap = onSwap;
  }

  get current(): Dispatcher | null {
    return this.#current;
  }

  /** Builds a dispatcher for these options (or none when there are no pools) and swaps it in. */
  replace(options: DispatcherOptions | null): void {
    const next = options === null || options.scanner_pools.length === 0 ? null : createDispatcher(options);
    const old = this.#current;
    this.#current = next;
    this.#onSwap(next);
    if (old !== null) {
      const p: Promise<void> = old.close().catch(() => {}).finally(() => this.#closing.delete(p));
      this.#closing.add(p);
    }
  }

  scan(request: ScanRequest): Promise<ScanOutcome> {
    if (this.#current === null) {
      return Promise.resolve({
        result: 'failure', kind: 'unavailable', code: DispatchErrorCodes.QUEUE_TIMEOUT,
        message: 'the SVM has no scanner pool', server: null, stamp: null, sigTimestamp: null, latencyMs: 0, attempts: 0,
      });
    }
    return this.#current.scan(request);
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

  /** The engine's view: typed as a Dispatcher, since the engine only calls what the slot forwards. */
  asDispatcher(): Dispatcher {
    return this as unknown as Dispatcher;
  }

  async close(): Promise<void> {
    const cur = this.#current;
    this.#current = null;
    await Promise.allSettled([cur?.close(), ...this.#closing]);
  }
}
