// Store options: one type, one frozen defaults object, eager validation (unknown names rejected, so a
// misspelled option never silently falls back to its default).
import { StoreError, StoreErrorCodes } from './errors.js';

export interface StoreOptions {
  /** Name of this filer node; owner of the locks this process takes. Two live processes must not share one. @default 'node1' */
  readonly nodeId?: string;
  /** A write batch is committed as soon as it holds this many writes. @default 512 */
  readonly batchMaxRows?: number;
  /** …or this many milliseconds after its first write, whichever comes first. @default 1 */
  readonly batchMaxDelayMs?: number;
  /** How long a statement waits for another connection's write lock before `ERR_STORE_BUSY`. @default 5000 */
  readonly busyTimeoutMs?: number;
  /** Open read-only: no migrations, no lock cleanup, every write fails with `ERR_STORE_UNWRITABLE`. @default false */
  readonly readonly?: boolean;
  /** `'normal'`: a commit survives a process kill; `'full'`: it also survives an OS crash / power loss (slower). @default 'normal' */
  readonly synchronous?: 'normal' | 'full';
  /** SQLite page cache per connection, in KiB. @default 65536 */
  readonly cacheSizeKiB?: number;
  /** Clock in epoch milliseconds (lease expiry, event and report times); replaceable for tests. @default Date.now */
  readonly clock?: () => number;
  /**
   * Milliseconds between WAL checkpoints run by a worker thread on its own connection; 0 leaves them to
   * SQLite's automatic checkpoint, which runs inside a commit on this thread and stalls it for several
   * milliseconds every ~1,000 pages written (measured: p99 16 ms vs 4 ms in `bench/storm`). @default 1000
   */
  readonly checkpointIntervalMs?: number;
  /**
   * A deferred scan lock (`acquireLockDeferred`) is written this long after it was asked for, unless
   * its scan ended first (then it is never written). Other processes on the same database see the
   * lock that much later: a scan of the same file there within the window is a duplicate scan, not a
   * wrong verdict. 0 queues the write into the next batch at once. @default 25
   */
  readonly lockWriteDelayMs?: number;
}

export interface ResolvedStoreOptions {
  readonly nodeId: string;
  readonly batchMaxRows: number;
  readonly batchMaxDelayMs: number;
  readonly busyTimeoutMs: number;
  readonly readonly: boolean;
  readonly synchronous: 'normal' | 'full';
  readonly cacheSizeKiB: number;
  readonly clock: () => number;
  readonly checkpointIntervalMs: number;
  readonly lockWriteDelayMs: number;
}

export const kDefaultStoreOptions: ResolvedStoreOptions = Object.freeze({
  nodeId: 'node1',
  batchMaxRows: 512,
  batchMaxDelayMs: 1,
  busyTimeoutMs: 5000,
  readonly: false,
  synchronous: 'normal',
  cacheSizeKiB: 65536,
  clock: Date.now,
  checkpointIntervalMs: 1000,
  lockWriteDelayMs: 25,
});

const kKnown: ReadonlySet<string> = new Set(Object.keys(kDefaultStoreOptions));

/** `ERR_STORE_INVALID_OPTION` for `name`, showing the value and what was expected. */
export function invalidOption(name: string, value: unknown, expected: string): StoreError {
  const shown = typeof value === 'string' ? `\`${value}\`` : typeof value === 'function' ? 'a function' : `\`${String(value)}\``;
  return new StoreError(
    StoreErrorCodes.INVALID_OPTION,
    `option \`${name}\` must be ${expected}, got ${shown} (${value === null ? 'null' : typeof value})`,
    { target: name },
  );
}

/** An integer option in [min, max], or `ERR_STORE_INVALID_OPTION`. */
export function integerOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(name, value, `an integer in [${min}, ${max}]`);
  }
  return value;
}

export function resolveStoreOptions(options: StoreOptions | undefined): ResolvedStoreOptions {
  if (options === undefined) return kDefaultStoreOptions;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new StoreError(StoreErrorCodes.INVALID_OPTION, 'options must be an object', { target: 'options' });
  }
  // Own keys only: a polluted prototype must not inject options.
  for (const key of Object.keys(options)) {
    if (!kKnown.has(key)) {
      throw new StoreError(StoreErrorCodes.UNKNOWN_OPTION, `unknown option \`${key}\``, { target: key });
    }
  }
  const own = (k: keyof StoreOptions): unknown => (Object.hasOwn(options, k) ? options[k] : undefined);
  const d = kDefaultStoreOptions;

  const nodeId = own('nodeId') ?? d.nodeId;
  if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 256) {
    throw invalidOption('nodeId', nodeId, 'a non-empty string of at most 256 characters');
  }
  const readonly = own('readonly') ?? d.readonly;
  if (typeof readonly !== 'boolean') throw invalidOption('readonly', readonly, 'a boolean');
  const synchronous = own('synchronous') ?? d.synchronous;
  if (synchronous !== 'normal' && synchronous !== 'full') throw invalidOption('synchronous', synchronous, "'normal' or 'full'");
  const clock = own('clock') ?? d.clock;
  if (typeof clock !== 'function') throw invalidOption('clock', clock, 'a function returning epoch milliseconds');

  return Object.freeze({
    nodeId,
    batchMaxRows: integerOption('batchMaxRows', own('batchMaxRows') ?? d.batchMaxRows, 1, 1_000_000),
    batchMaxDelayMs: integerOption('batchMaxDelayMs', own('batchMaxDelayMs') ?? d.batchMaxDelayMs, 0, 60_000),
    busyTimeoutMs: integerOption('busyTimeoutMs', own('busyTimeoutMs') ?? d.busyTimeoutMs, 0, 600_000),
    readonly,
    synchronous,
    cacheSizeKiB: integerOption('cacheSizeKiB', own('cacheSizeKiB') ?? d.cacheSizeKiB, 64, 16 * 1024 * 1024),
    clock: clock as () => number,
    checkpointIntervalMs: integerOption('checkpointIntervalMs', own('checkpointIntervalMs') ?? d.checkpointIntervalMs, 0, 3_600_000),
    lockWriteDelayMs: integerOption('lockWriteDelayMs', own('lockWriteDelayMs') ?? d.lockWriteDelayMs, 0, 60_000),
  });
}
