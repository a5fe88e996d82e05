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
//
// Copies live in shared memory, so posting a batch copies nothing more: a scan of up to 64 KiB is copied
// into a free slot of a preallocated SharedArrayBuffer slab (warm, reused memory: a fresh 64 KiB
// allocation costs 2–4× the copy itself in page faults and zeroing); a larger scan, or one arriving when
// every slot is taken, gets its own SharedArrayBuffer. A caller whose data already lives in a
// SharedArrayBuffer skips the copy: its view is shared as is (and must stay unchanged until it settles).
import type { Piscina } from 'piscina';
import { ScanAbortedError, ScannerErrorCodes } from './errors.js';
import type { ScanResult, ScanTask } from './types.js';

const kSlotBytes = 64 * 1024;

interface Pending {
  /** The caller's bytes, copied at submission into shared memory: immune to later changes, reusable for a retry. */
  readonly data: Uint8Array;
  /** Slab slot holding `data`, or -1 when `data` has its own SharedArrayBuffer. */
  readonly slot: number;
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
  /** Present only if some scan in the batch has a signal: nothing else can abort a batch. */
  readonly controller: AbortController | undefined;
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
  readonly #slab: Uint8Array;
  // Invariant: slots not held by an unsettled scan (a slot returns when its scan settles, even if a
  // terminated worker may still be reading it: that worker's results are discarded).
  readonly #freeSlots: number[];

  constructor(pool: Piscina<ScanTask, ScanResult | ScanResult[]>, options: BufferBatcherOptions) {
    this.#pool = pool;
    this.#maxBatch = options.maxBatch;
    this.#maxTasks = options.maxTasks;
    // Enough slots for every running batch plus as many waiting; at most 16 MiB (zero pages until used).
    const slots = Math.min(256, Math.max(64, 2 * options.maxTasks * options.maxBatch));
    this.#slab = new Uint8Array(new SharedArrayBuffer(slots * kSlotBytes));
    this.#freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** Scans a private copy of `data`. Rejects only with ScanAbortedError or the error given to close(). */
  scan(data: Uint8Array, signal: AbortSignal | undefined): Promise<ScanResult> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    let copy: Uint8Array;
    let slot = -1;
    if (data.buffer instanceof SharedArrayBuffer) {
      copy = data;
    } else {
      slot = data.byteLength <= kSlotBytes ? (this.#freeSlots.pop() ?? -1) : -1;
      copy = slot >= 0 ? this.#slab.subarray(slot * kSlotBytes, slot * kSlotBytes + data.byteLength) : new Uint8Array(new SharedArrayBuffer(data.byteLength));
      copy.set(data);
    }
    return new Promise<ScanResult>((resolve, reject) => {
      const p: Pending = {
        data: copy,
        slot,
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
    // Views of shared memory: the message carries references, not bytes.
    const parts = new Array<Uint8Array>(items.length);
    let abortable = false;
    for (let i = 0; i < items.length; i++) {
      parts[i] = items[i]!.data;
      abortable ||= items[i]!.signal !== undefined;
    }
    const batch: Batch = { items, controller: abortable ? new AbortController() : undefined };
    for (const p of items) p.batch = batch;
    this.#running++;
    this.#pool.run({ kind: 'buffers', parts }, batch.controller ? { signal: batch.controller.signal } : {}).then(
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
      } else if (batch.controller?.signal.aborted) {
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
    } else if (p.batch.controller && !p.batch.controller.signal.aborted) {
      p.batch.controller.abort();
    }
  }

  /** Marks `p` settled exactly once; returns it the first time, undefined after. */
  #settle(p: Pending): Pending | undefined {
    if (p.settled) return undefined;
    p.settled = true;
    if (p.slot >= 0) this.#freeSlots.push(p.slot);
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    return p;
  }
}
