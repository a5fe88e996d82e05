// BufferBatcher: buffer scans wait in an engine-side queue and go to the workers in batches, so the
// main thread pays piscina's per-task cost (task bookkeeping, postMessage, wake-up, result message) once
// per batch instead of once per scan, and each worker has a second task already posted to it while it
// runs one (piscina `concurrentTasksPerWorker: 2`), so it never idles waiting for the main thread.
// Under light load a batch holds a single scan and is posted in the same tick: batching adds no latency.
//
// Abort and failure: an aborted scan rejects at once; if its batch is running, the batch is aborted
// (piscina terminates that worker, so a long scan stops burning CPU) and its other scans go back to the
// front of the queue. A batch lost for another reason (a worker crash, or the termination of a task
// sharing its worker) is retried once per scan; a second loss resolves as `ERR_SCANNER_WORKER_FAILED`.
// Every scan keeps its own copy of the data until it settles, which is what makes the retry possible.
import type { Piscina } from 'piscina';
import { ScanAbortedError, ScannerErrorCodes } from './errors.js';
import type { ScanResult, ScanTask } from './types.js';

interface Pending {
  /** The caller's bytes, copied at submission: immune to later changes, reusable for a retry. */
  readonly data: Uint8Array;
  readonly resolve: (result: ScanResult) => void;
  readonly reject: (err: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
  /** The running batch holding this scan; undefined while it waits in the queue. */
  batch: Batch | undefined;
  /** Batches lost under this scan for reasons other than its own abort. */
  losses: number;
  settled: boolean;
}

interface Batch {
  readonly items: readonly Pending[];
  readonly controller: AbortController;
}

export interface BufferBatcherOptions {
  /** Most scans in one worker task. */
  readonly maxBatch: number;
  /** Most batches posted and not yet settled (workers × tasks per worker). */
  readonly maxTasks: number;
}

export class BufferBatcher {
  readonly #pool: Piscina<ScanTask, ScanResult | ScanResult[]>;
  readonly #maxBatch: number;
  readonly #maxTasks: number;
  // Invariant: every entry is unsettled and has `batch === undefined`; FIFO, except that scans put back
  // from a lost batch go to the front (they were submitted earlier than anything still queued).
  #queue: Pending[] = [];
  // Invariant: number of batches posted to the pool whose promise has not settled; ≤ #maxTasks.
  #running = 0;
  #pumpScheduled = false;
  #closedWith: Error | undefined;

  constructor(pool: Piscina<ScanTask, ScanResult | ScanResult[]>, options: BufferBatcherOptions) {
    this.#pool = pool;
    this.#maxBatch = options.maxBatch;
    this.#maxTasks = options.maxTasks;
  }

  /** Scans a private copy of `data`. Rejects only with ScanAbortedError or the error given to close(). */
  scan(data: Uint8Array, signal: AbortSignal | undefined): Promise<ScanResult> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    // allocUnsafeSlow: its own (transfer-safe) ArrayBuffer, and no zero-fill that the copy overwrites anyway.
    const copy = Buffer.allocUnsafeSlow(data.byteLength);
    copy.set(data);
    return new Promise<ScanResult>((resolve, reject) => {
      const p: Pending = {
        data: copy,
        resolve,
        reject,
        signal,
        onAbort: signal ? () => this.#abort(p) : undefined,
        batch: undefined,
        losses: 0,
        settled: false,
      };
      if (signal && p.onAbort) signal.addEventListener('abort', p.onAbort, { once: true });
      this.#queue.push(p);
      this.#schedulePump();
    });
  }

  /** Rejects every queued scan with `err`; running batches reject with it when the pool is destroyed. */
  close(err: Error): void {
    this.#closedWith = err;
    const queued = this.#queue;
    this.#queue = [];
    for (const p of queued) this.#settle(p)?.reject(err);
  }

  #schedulePump(): void {
    // Deferred to a microtask so that scans submitted in the same tick can share a batch.
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#maxTasks && this.#queue.length > 0 && !this.#closedWith) {
      // Spread what is waiting over the free task slots, so both workers get work.
      const free = this.#maxTasks - this.#running;
      const n = Math.min(this.#maxBatch, Math.ceil(this.#queue.length / free));
      this.#post(this.#queue.splice(0, n));
    }
  }

  #post(items: Pending[]): void {
    let total = 0;
    for (const p of items) total += p.data.byteLength;
    // One ArrayBuffer per batch, moved (not cloned) to the worker; each scan keeps its own copy for retries.
    const packed = Buffer.allocUnsafeSlow(total);
    const lengths = new Array<number>(items.length);
    let at = 0;
    for (let i = 0; i < items.length; i++) {
      const d = items[i]!.data;
      packed.set(d, at);
      at += d.byteLength;
      lengths[i] = d.byteLength;
    }
    const batch: Batch = { items, controller: new AbortController() };
    for (const p of items) p.batch = batch;
    this.#running++;
    const data = new Uint8Array(packed.buffer, 0, total);
    this.#pool.run({ kind: 'buffers', data, lengths }, { signal: batch.controller.signal, transferList: [packed.buffer as ArrayBuffer] }).then(
      (results) => this.#finished(batch, results as ScanResult[]),
      (err: unknown) => this.#lost(batch, err),
    );
  }

  #finished(batch: Batch, results: ScanResult[]): void {
    this.#running--;
    for (let i = 0; i < batch.items.length; i++) this.#settle(batch.items[i]!)?.resolve(results[i]!);
    this.#pump();
  }

  #lost(batch: Batch, err: unknown): void {
    this.#running--;
    const retry: Pending[] = [];
    for (const p of batch.items) {
      if (p.settled) continue;
      p.batch = undefined;
      if (this.#closedWith) {
        this.#settle(p)?.reject(this.#closedWith);
      } else if (batch.controller.signal.aborted) {
        retry.push(p); // a neighbour's abort terminated the batch: not this scan's fault
      } else if (++p.losses >= 2) {
        const message = `worker failed: ${err instanceof Error ? err.message : String(err)}`;
        this.#settle(p)?.resolve({ status: 'error', code: ScannerErrorCodes.ERR_SCANNER_WORKER_FAILED, message });
      } else {
        retry.push(p);
      }
    }
    if (retry.length > 0) this.#queue.unshift(...retry);
    this.#pump();
  }

  #abort(p: Pending): void {
    const settled = this.#settle(p);
    if (!settled) return;
    settled.reject(new ScanAbortedError(p.signal?.reason));
    if (p.batch === undefined) {
      const i = this.#queue.indexOf(p);
      if (i >= 0) this.#queue.splice(i, 1);
    } else if (!p.batch.controller.signal.aborted) {
      p.batch.controller.abort();
    }
  }

  /** Marks `p` settled exactly once; returns it the first time, undefined after. */
  #settle(p: Pending): Pending | undefined {
    if (p.settled) return undefined;
    p.settled = true;
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    return p;
  }
}
