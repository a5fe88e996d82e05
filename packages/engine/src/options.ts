// Engine options: one type, frozen defaults, validated eagerly (unknown options are refused).
import type { PendingScan, ScanRequest, ServerEvent, ServerStatus, SignatureEvent, SignatureWatermark } from '@avscan/dispatch';
import type { CompiledPolicy } from '@avscan/policy';
import type { EngineStore } from './store-port.js';
import { EngineError, EngineErrorCodes, show } from './errors.js';
import type { Answer } from './answer.js';
import type { FileAccess } from './access.js';
import { isProfile, type Profile } from './triggers.js';

export type InfectedAction = 'none' | 'quarantine-move' | 'delete';

/**
 * What the engine uses of its dispatcher, and nothing more. A `Dispatcher` from `createDispatcher()`
 * is one; an embedder that swaps pools under a running engine (the filer's dispatcher slot) provides
 * its own, and the compiler checks it stays complete as the engine's needs change.
 */
export interface EngineDispatcher {
  submit(request: ScanRequest): PendingScan;
  signatureWatermark(): SignatureWatermark | null;
  serverStatus(): readonly ServerStatus[];
  on(event: 'server', listener: (e: ServerEvent) => void): unknown;
  on(event: 'signature', listener: (e: SignatureEvent) => void): unknown;
  off(event: 'server', listener: (e: ServerEvent) => void): unknown;
  off(event: 'signature', listener: (e: SignatureEvent) => void): unknown;
}

export interface EngineOptions {
  /**
   * The attribute store: a SQLite `Store` (`openStore`, one engine per database file) or a shared
   * `PgStore` (`openPgStore`, any number of engine processes on one PostgreSQL), or any `EngineStore`.
   * The engine does not close it.
   */
  readonly store: EngineStore;
  /** The scanner dispatcher (`createDispatcher`, or any `EngineDispatcher`). The engine does not close it. */
  readonly dispatcher: EngineDispatcher;
  /** The SVM's active on-access policy: ONTAP JSON or an already compiled policy. */
  readonly policy: unknown;
  /** Which operations trigger scans (SPEC §5). @default 'standard' */
  readonly profile?: Profile;
  /** Vscan on/off for the SVM (ONTAP `enabled`). @default true */
  readonly enabled?: boolean;
  /** SVM name, written on events. @default 'vs1' */
  readonly svm?: string;
  /** Scan lock lease, ms; renewed while the scan runs. @default 30_000 */
  readonly leaseMs?: number;
  /**
   * How long a write, rename or delete of a file being scanned waits for the verdict, and how long an
   * access waits for another node's scan lock, ms (SPEC §6: bounded by the request timeout). @default 30_000
   */
  readonly waitTimeoutMs?: number;
  /** What to do with an infected file besides denying it (SPEC §8). @default 'none' */
  readonly infectedAction?: InfectedAction;
  /** Folder infected files are moved to with `quarantine-move` (the tree below it mirrors the volume's). */
  readonly quarantineDir?: string;
  /** Files whose attributes are kept in memory for the scan-current fast path. @default 100_000 */
  readonly cacheSize?: number;
  /** How long the pools' signature watermark is reused before it is read again, ms. @default 100 */
  readonly watermarkRefreshMs?: number;
  /** Called after every answer (audit log). Must not throw; errors are swallowed and counted. */
  readonly onAnswer?: (answer: Answer, access: FileAccess, operation: string) => void;
  /**
   * Local store only (ignored on a shared one): `'deferred'` queues the scan lock's write into the
   * store's group-commit batch and sends the scan without waiting for it (a fast scan's lock is never
   * written); a conflict with another process found afterwards is counted in `metrics().lockConflicts`
   * and the scan still records. `'immediate'` commits the lock before the scan and waits while another
   * process holds it. @default 'deferred'
   */
  readonly lockWrites?: LockWrites;
  /**
   * How long a verdict's record may wait for the store's group commit, ms (SQLite store; a shared
   * store batches by its own rule). Nothing waits on that commit — the access was answered and the
   * engine's cache holds the attributes — so a longer wait only gathers more records per commit: at
   * 1 ms a job's batches held 2–3 records, at 5 ms ~8, and node's CPU per scanned file fell.
   * A write, rename or delete of the file waits for its record (bounded). @default 5
   */
  readonly recordDelayMs?: number;
}

export type LockWrites = 'deferred' | 'immediate';

export interface ResolvedEngineOptions {
  readonly store: EngineStore;
  readonly dispatcher: EngineDispatcher;
  readonly policy: CompiledPolicy | unknown;
  readonly profile: Profile;
  readonly enabled: boolean;
  readonly svm: string;
  readonly leaseMs: number;
  readonly waitTimeoutMs: number;
  readonly infectedAction: InfectedAction;
  readonly quarantineDir: string | undefined;
  readonly cacheSize: number;
  readonly watermarkRefreshMs: number;
  readonly onAnswer: EngineOptions['onAnswer'] | undefined;
  readonly lockWrites: LockWrites;
  readonly recordDelayMs: number;
}

export const kEngineDefaults = Object.freeze({
  profile: 'standard' as Profile,
  enabled: true,
  svm: 'vs1',
  leaseMs: 30_000,
  waitTimeoutMs: 30_000,
  infectedAction: 'none' as InfectedAction,
  cacheSize: 100_000,
  watermarkRefreshMs: 100,
  lockWrites: 'deferred' as LockWrites,
  recordDelayMs: 5,
});

const kKnown = new Set([
  'store', 'dispatcher', 'policy', 'profile', 'enabled', 'svm', 'leaseMs', 'waitTimeoutMs', 'infectedAction',
  'quarantineDir', 'cacheSize', 'watermarkRefreshMs', 'onAnswer', 'lockWrites', 'recordDelayMs',
]);

function bad(option: string, value: unknown, expected: string): EngineError {
  return new EngineError(EngineErrorCodes.INVALID_OPTION, `option \`${option}\` must be ${expected}, got ${show(value)}`, option);
}

function positiveInt(o: Record<string, unknown>, name: string, dflt: number): number {
  const v = o[name] ?? dflt;
  if (!Number.isSafeInteger(v) || (v as number) <= 0) throw bad(name, v, 'a positive integer');
  return v as number;
}

export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  if (options === null || typeof options !== 'object') throw bad('options', options, 'an object');
  const o = options as unknown as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!kKnown.has(key)) throw bad(key, o[key], 'one of the documented options (unknown option)');
  }
  const st = o.store as Partial<EngineStore> | undefined | null;
  if (st === undefined || st === null || typeof st.recordScan !== 'function' || typeof st.acquireLock !== 'function' || typeof st.getAttributes !== 'function') {
    throw bad('store', o.store, 'a store from openStore() or openPgStore()');
  }
  const d = o.dispatcher as Partial<EngineDispatcher> | undefined;
  if (d === undefined || d === null || typeof d.submit !== 'function' || typeof d.on !== 'function' || typeof d.serverStatus !== 'function') {
    throw bad('dispatcher', o.dispatcher, 'a dispatcher from createDispatcher()');
  }
  if (o.policy === undefined) throw bad('policy', o.policy, 'an on-access policy');
  const profile = o.profile ?? kEngineDefaults.profile;
  if (!isProfile(profile)) throw bad('profile', profile, 'one of no-scan, standard, strict, writes-only, cava-standard, cava-strict');
  const enabled = o.enabled ?? kEngineDefaults.enabled;
  if (typeof enabled !== 'boolean') throw bad('enabled', enabled, 'a boolean');
  const svm = o.svm ?? kEngineDefaults.svm;
  if (typeof svm !== 'string' || svm.length === 0) throw bad('svm', svm, 'a non-empty string');
  const infectedAction = o.infectedAction ?? kEngineDefaults.infectedAction;
  if (infectedAction !== 'none' && infectedAction !== 'quarantine-move' && infectedAction !== 'delete') {
    throw bad('infectedAction', infectedAction, 'one of none, quarantine-move, delete');
  }
  const quarantineDir = o.quarantineDir;
  if (quarantineDir !== undefined && (typeof quarantineDir !== 'string' || quarantineDir.length === 0)) {
    throw bad('quarantineDir', quarantineDir, 'a folder path');
  }
  if (infectedAction === 'quarantine-move' && quarantineDir === undefined) {
    throw bad('quarantineDir', quarantineDir, 'a folder path when `infectedAction` is quarantine-move');
  }
  if (o.onAnswer !== undefined && typeof o.onAnswer !== 'function') throw bad('onAnswer', o.onAnswer, 'a function');
  const lockWrites = o.lockWrites ?? kEngineDefaults.lockWrites;
  if (lockWrites !== 'deferred' && lockWrites !== 'immediate') throw bad('lockWrites', lockWrites, 'one of deferred, immediate');
  const recordDelayMs = o.recordDelayMs ?? kEngineDefaults.recordDelayMs;
  if (!Number.isSafeInteger(recordDelayMs) || (recordDelayMs as number) < 0 || (recordDelayMs as number) > 60_000) {
    throw bad('recordDelayMs', recordDelayMs, 'an integer in [0, 60000]');
  }
  return Object.freeze({
    store: o.store as EngineStore,
    dispatcher: o.dispatcher as EngineDispatcher,
    policy: o.policy,
    profile,
    enabled,
    svm,
    leaseMs: positiveInt(o, 'leaseMs', kEngineDefaults.leaseMs),
    waitTimeoutMs: positiveInt(o, 'waitTimeoutMs', kEngineDefaults.waitTimeoutMs),
    infectedAction,
    quarantineDir: quarantineDir as string | undefined,
    cacheSize: positiveInt(o, 'cacheSize', kEngineDefaults.cacheSize),
    watermarkRefreshMs: positiveInt(o, 'watermarkRefreshMs', kEngineDefaults.watermarkRefreshMs),
    onAnswer: o.onAnswer as EngineOptions['onAnswer'] | undefined,
    lockWrites,
    recordDelayMs: recordDelayMs as number,
  });
}
