// PgStore options: one type, one frozen defaults object, eager validation (an unknown name is refused,
// so a misspelled option never silently falls back to its default).
import { integerOption as integer, invalidOption as invalid } from '@avscan/store/internal';
import { classifyPgError, StorePgError, StorePgErrorCodes } from './errors.js';

export interface PgStoreOptions {
  /** Name of this gateway node: owner of the locks it takes; unique among live nodes. @default 'node1' */
  readonly nodeId?: string;
  /** A write batch is committed as soon as it holds this many writes (more than SQLite's 512: a PostgreSQL commit costs a round trip and a WAL flush). @default 1024 */
  readonly batchMaxRows?: number;
  /** …or this many milliseconds after its first write. @default 1 */
  readonly batchMaxDelayMs?: number;
  /** Connections in the pool (writes use one at a time; reads, locks and reports share the rest). @default 10 */
  readonly poolMax?: number;
  /** How long to wait for a connection to PostgreSQL before `ERR_STOREPG_UNAVAILABLE`. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Server-side `statement_timeout` of every connection; 0 disables it. @default 30000 */
  readonly statementTimeoutMs?: number;
  /** Entries of the per-node attribute cache (LRU); 0 disables the cache. @default 100000 */
  readonly cacheMaxEntries?: number;
  /** `waitForUnlock` re-checks the lock this often in case a notification was lost. @default 1000 */
  readonly unlockPollMs?: number;
  /** First delay before re-establishing LISTEN after the connection broke (doubles up to 2 s). @default 100 */
  readonly reconnectDelayMs?: number;
  /**
   * Clock in epoch ms. By default leases are computed on PostgreSQL's clock (one clock for the whole
   * cluster, no skew between nodes) and scan, event and report times on this node's `Date.now`. When a
   * clock is given (tests), it is used for everything. @default undefined
   */
  readonly clock?: () => number;
}

export interface ResolvedPgStoreOptions {
  readonly nodeId: string;
  readonly batchMaxRows: number;
  readonly batchMaxDelayMs: number;
  readonly poolMax: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly cacheMaxEntries: number;
  readonly unlockPollMs: number;
  readonly reconnectDelayMs: number;
  readonly clock: (() => number) | undefined;
}

export const kDefaultPgStoreOptions: ResolvedPgStoreOptions = Object.freeze({
  nodeId: 'node1',
  batchMaxRows: 1024,
  batchMaxDelayMs: 1,
  poolMax: 10,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  cacheMaxEntries: 100_000,
  unlockPollMs: 1000,
  reconnectDelayMs: 100,
  clock: undefined,
});

const kKnown: ReadonlySet<string> = new Set(Object.keys(kDefaultPgStoreOptions));

/** Validates options; the option checks are the SQLite store's, their errors renamed into this catalog. */
export function resolvePgStoreOptions(options: PgStoreOptions | undefined): ResolvedPgStoreOptions {
  try {
    return resolve(options);
  } catch (err) {
    throw classifyPgError(err);
  }
}

function resolve(options: PgStoreOptions | undefined): ResolvedPgStoreOptions {
  if (options === undefined) return kDefaultPgStoreOptions;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new StorePgError(StorePgErrorCodes.INVALID_OPTION, 'options must be an object', { target: 'options' });
  }
  for (const key of Object.keys(options)) {
    if (!kKnown.has(key)) throw new StorePgError(StorePgErrorCodes.UNKNOWN_OPTION, `unknown option \`${key}\``, { target: key });
  }
  const own = (k: keyof PgStoreOptions): unknown => (Object.hasOwn(options, k) ? options[k] : undefined);
  const d = kDefaultPgStoreOptions;
  const nodeId = own('nodeId') ?? d.nodeId;
  if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 256) {
    throw invalid('nodeId', nodeId, 'a non-empty string of at most 256 characters');
  }
  const clock = own('clock');
  if (clock !== undefined && typeof clock !== 'function') throw invalid('clock', clock, 'a function returning epoch milliseconds');
  return Object.freeze({
    nodeId,
    batchMaxRows: integer('batchMaxRows', own('batchMaxRows') ?? d.batchMaxRows, 1, 100_000),
    batchMaxDelayMs: integer('batchMaxDelayMs', own('batchMaxDelayMs') ?? d.batchMaxDelayMs, 0, 60_000),
    poolMax: integer('poolMax', own('poolMax') ?? d.poolMax, 2, 1000),
    connectTimeoutMs: integer('connectTimeoutMs', own('connectTimeoutMs') ?? d.connectTimeoutMs, 1, 600_000),
    statementTimeoutMs: integer('statementTimeoutMs', own('statementTimeoutMs') ?? d.statementTimeoutMs, 0, 86_400_000),
    cacheMaxEntries: integer('cacheMaxEntries', own('cacheMaxEntries') ?? d.cacheMaxEntries, 0, 100_000_000),
    unlockPollMs: integer('unlockPollMs', own('unlockPollMs') ?? d.unlockPollMs, 10, 3_600_000),
    reconnectDelayMs: integer('reconnectDelayMs', own('reconnectDelayMs') ?? d.reconnectDelayMs, 1, 60_000),
    clock: clock as (() => number) | undefined,
  });
}
