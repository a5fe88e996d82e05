// ScanEngine: the public facade over a private pool generation (a Piscina pool + the compiled database
// it was created with). reload() compiles the new database on the main thread first, so a malformed file
// throws and leaves the current generation untouched; on success the new generation replaces the old
// one in a single assignment, and the old pool is destroyed once its in-flight scans have finished.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { compileAutomaton, type CompiledAutomaton } from './automaton.js';
import { BufferBatcher } from './batcher.js';
import { ScanAbortedError, ScannerError, ScannerErrorCodes } from './errors.js';
import { parseSignatures } from './signatures.js';
import type { ScanResult, ScanTask } from './types.js';

/** Path of the signature database shipped with the package (EICAR + test markers). */
export const defaultSignaturesPath = fileURLToPath(new URL('../signatures/test.sigs', import.meta.url));
const kWorkerUrl = new URL('./worker.js', import.meta.url).href;

export interface ScanEngineOptions {
  /** Signature database file. @default the shipped `signatures/test.sigs` */
  readonly signatures?: string;
  /** Worker threads scanning in parallel. @default min(2, os.availableParallelism()) */
  readonly workers?: number;
  /** Bytes read per chunk when scanning files. @default 65536 */
  readonly chunkSize?: number;
  /**
   * Scans allowed to wait for a worker; beyond it a scan resolves at once as an
   * `ERR_SCANNER_QUEUE_FULL` error result (clamd's MaxQueue). @default 1024
   */
  readonly maxQueue?: number;
  /**
   * Most buffer scans sent to a worker in one task when scans are waiting (1 sends each scan alone).
   * Batching amortizes the per-task thread round trip, which costs about as much as scanning 64 KiB.
   * @default 8
   */
  readonly maxBatch?: number;
}

const kDefaults: Readonly<FilledOptions> = Object.freeze({
  signatures: defaultSignaturesPath,
  workers: Math.max(1, Math.min(2, availableParallelism())),
  chunkSize: 64 * 1024,
  maxQueue: 1024,
  maxBatch: 8,
});
type FilledOptions = { signatures: string; workers: number; chunkSize: number; maxQueue: number; maxBatch: number };

// Tasks posted to each worker at once: it runs one while the next already waits in its port, so a
// worker does not sit idle for a main-thread round trip between tasks.
const kTasksPerWorker = 2;

function invalid(message: string): ScannerError {
  return new ScannerError(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION, message);
}

function validateOptions(options: unknown): Readonly<FilledOptions> {
  if (options === undefined) return kDefaults;
  if (options === null || typeof options !== 'object') throw invalid(`options must be an object, got ${options === null ? 'null' : typeof options}`);
  const filled: FilledOptions = { ...kDefaults };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    switch (key) {
      case 'signatures':
        if (typeof value !== 'string' || value === '') throw invalid(`option \`signatures\` must be a non-empty string, got ${typeof value}`);
        filled.signatures = value;
        break;
      case 'workers':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 64) throw invalid(`option \`workers\` must be an integer in 1..64, got \`${String(value)}\``);
        filled.workers = value;
        break;
      case 'chunkSize':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 16 * 1024 * 1024) throw invalid(`option \`chunkSize\` must be an integer in 1..16777216, got \`${String(value)}\``);
        filled.chunkSize = value;
        break;
      case 'maxQueue':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000) throw invalid(`option \`maxQueue\` must be an integer in 0..1000000, got \`${String(value)}\``);
        filled.maxQueue = value;
        break;
      case 'maxBatch':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1024) throw invalid(`option \`maxBatch\` must be an integer in 1..1024, got \`${String(value)}\``);
        filled.maxBatch = value;
        break;
      default:
        throw invalid(`unknown option \`${key}\``);
    }
  }
  return Object.freeze(filled);
}

interface LoadedDatabase {
  readonly version: string;
  readonly timestamp: number;
  readonly automaton: CompiledAutomaton;
}

/** Reads, parses and compiles a database; throws a coded ScannerError and has no side effects. */
export async function loadDatabase(file: string): Promise<LoadedDatabase> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_SIGNATURES_READ, `cannot read signature database \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? 'EIO'}`, { cause: err });
  }
  const db = parseSignatures(text);
  return { version: db.version, timestamp: db.timestamp, automaton: compileAutomaton(db.signatures) };
}

class Generation {
  readonly pool: Piscina<ScanTask, ScanResult | ScanResult[]>;
  readonly batcher: BufferBatcher;
  readonly db: LoadedDatabase;
  inflight = 0;
  retired = false;
  constructor(db: LoadedDatabase, options: Readonly<FilledOptions>) {
    this.db = db;
    this.pool = new Piscina<ScanTask, ScanResult | ScanResult[]>({
      filename: kWorkerUrl,
      minThreads: options.workers,
      maxThreads: options.workers,
      concurrentTasksPerWorker: kTasksPerWorker,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      workerData: { automaton: db.automaton, chunkSize: options.chunkSize },
    });
    this.batcher = new BufferBatcher(this.pool, { maxBatch: options.maxBatch, maxTasks: options.workers * kTasksPerWorker });
  }
  retire(): Promise<void> {
    this.retired = true;
    return this.inflight === 0 ? this.pool.destroy() : Promise.resolve();
  }
  settle(): void {
    this.inflight--;
    if (this.retired && this.inflight === 0) void this.pool.destroy();
  }
}

export class ScanEngine {
  readonly #options: Readonly<FilledOptions>;
  #generation: Generation;
  #closed = false;
  #signaturesPath: string;

  private constructor(options: Readonly<FilledOptions>, db: LoadedDatabase) {
    this.#options = options;
    this.#signaturesPath = options.signatures;
    this.#generation = new Generation(db, options);
  }

  static async create(options?: ScanEngineOptions): Promise<ScanEngine> {
    const filled = validateOptions(options);
    return new ScanEngine(filled, await loadDatabase(filled.signatures));
  }

  /** Version token from the database header, e.g. `avscan-test-1`. */
  get signatureVersion(): string {
    return this.#generation.db.version;
  }

  /** Timestamp from the database header, ms since the epoch. */
  get signatureTimestamp(): number {
    return this.#generation.db.timestamp;
  }

  /** Worker threads per pool. */
  get workers(): number {
    return this.#options.workers;
  }

  /** Scans tasks queued or running in the current pool. */
  get pending(): number {
    return this.#generation.inflight;
  }

  /**
   * Scans a copy of `data` (taken at once: the caller may reuse its buffer), batched with other waiting
   * scans. A view of a SharedArrayBuffer is scanned in place, without a copy: leave it unchanged until the
   * returned promise settles.
   */
  scanBuffer(data: Uint8Array, signal?: AbortSignal): Promise<ScanResult> {
    return this.#run(signal, (gen) => gen.batcher.scan(data, signal));
  }

  /** Scans a file inside a worker, reading it in `chunkSize` chunks (never whole into memory). */
  scanFile(path: string, signal?: AbortSignal): Promise<ScanResult> {
    return this.#run(signal, async (gen) => {
      const run = () => gen.pool.run({ kind: 'file', path }, signal ? { signal } : {}) as Promise<ScanResult>;
      try {
        return await run();
      } catch (err) {
        // Another task's abort may have terminated the worker this scan shared: retry once.
        if (signal?.aborted || this.#closed) throw err;
        return await run();
      }
    });
  }

  async #run(signal: AbortSignal | undefined, start: (gen: Generation) => Promise<ScanResult>): Promise<ScanResult> {
    if (this.#closed) throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_CLOSED, 'scan engine is closed');
    if (signal?.aborted) throw new ScanAbortedError(signal.reason);
    const gen = this.#generation;
    // Bounded queue: at most `workers` running plus `maxQueue` waiting, so a flood cannot grow memory.
    if (gen.inflight >= this.#options.workers + this.#options.maxQueue) {
      return { status: 'error', code: ScannerErrorCodes.ERR_SCANNER_QUEUE_FULL, message: `scan queue is full (${this.#options.maxQueue} waiting)` };
    }
    gen.inflight++;
    try {
      // Piscina terminates the worker running an aborted task and refills the pool.
      return await start(gen);
    } catch (err) {
      if (err instanceof ScanAbortedError) throw err;
      if (signal?.aborted) throw new ScanAbortedError(signal.reason);
      if (this.#closed) throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_CLOSED, 'scan engine is closed', { cause: err });
      return { status: 'error', code: ScannerErrorCodes.ERR_SCANNER_WORKER_FAILED, message: `worker failed: ${(err as Error).message}` };
    } finally {
      gen.settle();
    }
  }

  /**
   * Loads `file` (default: the current database path) into a new pool and swaps it in atomically.
   * A malformed or unreadable file rejects with a coded error and the current database stays active.
   */
  async reload(file?: string): Promise<void> {
    if (this.#closed) throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_CLOSED, 'scan engine is closed');
    const path = file ?? this.#signaturesPath;
    const db = await loadDatabase(path);
    if (this.#closed) return;
    const old = this.#generation;
    this.#generation = new Generation(db, this.#options);
    this.#signaturesPath = path;
    await old.retire();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation.batcher.close(new ScannerError(ScannerErrorCodes.ERR_SCANNER_CLOSED, 'scan engine is closed'));
    await this.#generation.pool.destroy();
  }
}
