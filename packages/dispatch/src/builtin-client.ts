// `builtin:` servers: the in-process @avscan/scanner engine behind the same client interface. The
// engine is loaded lazily so the dispatcher works (and its other clients are testable) without it.
import type { ProbeResult, ScanInput, ScannerClient, ScannerVerdict } from './client.js';
import { throwIfAborted } from './client.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';

type EngineResult = { status: 'clean' } | { status: 'infected'; threats: string[] } | { status: 'error'; code: string; message: string };
interface Engine {
  scanBuffer(d: Uint8Array, s?: AbortSignal): Promise<EngineResult>;
  scanFile(p: string, s?: AbortSignal): Promise<EngineResult>;
  readonly signatureVersion: string;
  readonly signatureTimestamp: number;
  close(): Promise<void>;
}
interface EngineModule {
  ScanEngine?: { create(o?: { signatures?: string }): Promise<Engine> };
}

export class BuiltinClient implements ScannerClient {
  readonly #signatures: string | undefined;
  #engine: Promise<Engine> | null = null;

  constructor(signatures?: string) {
    this.#signatures = signatures;
  }

  #load(): Promise<Engine> {
    this.#engine ??= import('@avscan/scanner').then((m: unknown) => {
      const ScanEngine = (m as EngineModule).ScanEngine;
      if (ScanEngine === undefined) throw new DispatchError(DispatchErrorCodes.SCANNER_START, 'the built-in scanner cannot start: @avscan/scanner has no ScanEngine', { target: 'builtin:' });
      return ScanEngine.create(this.#signatures === undefined ? {} : { signatures: this.#signatures });
    }).catch((err: unknown) => {
      if (err instanceof DispatchError) throw err;
      // Name the cause (a missing package, a missing or bad signature file) instead of `unknown`.
      throw new DispatchError(DispatchErrorCodes.SCANNER_START, `the built-in scanner cannot start: ${(err as Error)?.message ?? String(err)}`, { target: 'builtin:', cause: err });
    });
    this.#engine.catch(() => { this.#engine = null; });
    return this.#engine;
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    throwIfAborted(signal);
    const e = await this.#load();
    return { vendor: 'avscan', version: 'builtin', stamp: e.signatureVersion, timestamp: e.signatureTimestamp };
  }

  async scan(input: ScanInput, signal: AbortSignal): Promise<ScannerVerdict> {
    const e = await this.#load();
    const r = input.data !== undefined ? await e.scanBuffer(input.data, signal) : await e.scanFile(input.file!, signal);
    throwIfAborted(signal);
    if (r.status === 'error') {
      const tooLarge = /too.?large|limit/i.test(r.code);
      throw new DispatchError(tooLarge ? DispatchErrorCodes.TOO_LARGE : DispatchErrorCodes.SCANNER_ERROR, `built-in scanner: ${r.message} (${r.code})`, { target: 'builtin:' });
    }
    return r.status === 'clean' ? { kind: 'clean' } : { kind: 'infected', threats: r.threats };
  }

  async close(): Promise<void> {
    const e = this.#engine;
    this.#engine = null;
    if (e) await (await e.catch(() => null))?.close();
  }
}
