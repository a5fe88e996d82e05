// Coded errors of @avscan/store-pg. Callers match on `code` (stable strings); `retryable` says whether
// the same call may succeed later unchanged — above all while PostgreSQL is restarting or unreachable,
// which is the fault a cluster must ride out (the pool reconnects by itself).
import { StoreError } from '@avscan/store';

/** Every error code this package throws. Keep in sync with the README "Errors" table (a test checks). */
export const StorePgErrorCodes = Object.freeze({
  /** PostgreSQL cannot be reached, is starting or shutting down, or the connection broke. Retryable. */
  UNAVAILABLE: 'ERR_STOREPG_UNAVAILABLE',
  /** The connection broke while COMMIT was in flight: the batch may or may not be committed. Retryable (writes are idempotent). */
  COMMIT_UNKNOWN: 'ERR_STOREPG_COMMIT_UNKNOWN',
  /** A deadlock or serialization failure persisted after a retry. Retryable. */
  CONFLICT: 'ERR_STOREPG_CONFLICT',
  /** A statement or a query ran longer than `statementTimeoutMs`. Retryable. */
  TIMEOUT: 'ERR_STOREPG_TIMEOUT',
  /** The server refused us: authentication failed, the database or role does not exist, no privilege. */
  REJECTED: 'ERR_STOREPG_REJECTED',
  /** A constraint was violated (e.g. a duplicate report id). */
  CONSTRAINT: 'ERR_STOREPG_CONSTRAINT',
  /** Any other PostgreSQL error. */
  POSTGRES: 'ERR_STOREPG_POSTGRES',
  /** The database was migrated by a newer @avscan/store-pg; not used. */
  SCHEMA_TOO_NEW: 'ERR_STOREPG_SCHEMA_TOO_NEW',
  /** The store was used after `close()`. */
  CLOSED: 'ERR_STOREPG_CLOSED',
  /** An option is not a known option name. */
  UNKNOWN_OPTION: 'ERR_STOREPG_UNKNOWN_OPTION',
  /** An option has a bad value or type. */
  INVALID_OPTION: 'ERR_STOREPG_INVALID_OPTION',
  /** A method argument has a bad value or type. */
  INVALID_ARGUMENT: 'ERR_STOREPG_INVALID_ARGUMENT',
  /** A report id or event cursor does not exist / cannot be decoded. */
  NOT_FOUND: 'ERR_STOREPG_NOT_FOUND',
});

export type StorePgErrorCode = (typeof StorePgErrorCodes)[keyof typeof StorePgErrorCodes];

const kRetryable: ReadonlySet<StorePgErrorCode> = new Set([
  StorePgErrorCodes.UNAVAILABLE,
  StorePgErrorCodes.COMMIT_UNKNOWN,
  StorePgErrorCodes.CONFLICT,
  StorePgErrorCodes.TIMEOUT,
]);

export class StorePgError extends Error {
  readonly code: StorePgErrorCode;
  /** True when the same call may succeed later unchanged. */
  readonly retryable: boolean;
  /** The option, argument or server the error is about. */
  readonly target: string | undefined;

  constructor(code: StorePgErrorCode, message: string, options: { target?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorePgError';
    this.code = code;
    this.retryable = kRetryable.has(code);
    this.target = options.target;
  }
}

// Validation is shared with @avscan/store (same input accepted and refused by both backends); its
// StoreErrors are renamed into this catalog so a caller sees one prefix per backend.
const kFromStore: Readonly<Record<string, StorePgErrorCode>> = {
  ERR_STORE_INVALID_ARGUMENT: StorePgErrorCodes.INVALID_ARGUMENT,
  ERR_STORE_NOT_FOUND: StorePgErrorCodes.NOT_FOUND,
  ERR_STORE_INVALID_OPTION: StorePgErrorCodes.INVALID_OPTION,
  ERR_STORE_UNKNOWN_OPTION: StorePgErrorCodes.UNKNOWN_OPTION,
};

// Socket-level failures of node-postgres and Node: the server is down, restarting or unreachable.
const kNetworkCodes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const kNetworkMessages = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Connection ended/i;

function oneLine(s: string): string {
  const first = s.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}

/**
 * Maps any error from node-postgres (SQLSTATE in `code`, or a socket error) to a coded
 * {@link StorePgError}; a StorePgError passes through. `server` names the database in the message.
 */
export function classifyPgError(err: unknown, server?: string): StorePgError {
  if (err instanceof StorePgError) return err;
  const detail = oneLine(err instanceof Error ? err.message : String(err));
  const opts = { cause: err, target: server };
  if (err instanceof StoreError) {
    const code = kFromStore[err.code] ?? StorePgErrorCodes.POSTGRES;
    return new StorePgError(code, err.message, { cause: err, target: err.target });
  }
  const code = (err as { code?: unknown } | null)?.code;
  const where = server === undefined ? '' : ` at ${server}`;
  // Socket errors first: `EPIPE` has the shape of a SQLSTATE (five capitals) but is Node's. A system
  // error carries `syscall`; no SQLSTATE class starts with E.
  const system = typeof (err as { syscall?: unknown } | null)?.syscall === 'string';
  if (system || (typeof code === 'string' && kNetworkCodes.has(code)) || kNetworkMessages.test(detail)) {
    return new StorePgError(StorePgErrorCodes.UNAVAILABLE, `PostgreSQL${where} is unreachable (${detail})`, opts);
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const cls = code.slice(0, 2);
    // 08 connection exception, 57P01-03 admin / crash shutdown and "cannot connect now", 53 insufficient resources (too many connections).
    if (cls === '08' || code === '57P01' || code === '57P02' || code === '57P03' || cls === '53') {
      return new StorePgError(StorePgErrorCodes.UNAVAILABLE, `PostgreSQL${where} is unavailable (${code}: ${detail})`, opts);
    }
    if (code === '57014') return new StorePgError(StorePgErrorCodes.TIMEOUT, `statement timed out${where} (${detail})`, opts);
    if (code === '40001' || code === '40P01') return new StorePgError(StorePgErrorCodes.CONFLICT, `transaction conflict${where} (${code}: ${detail})`, opts);
    if (cls === '23') return new StorePgError(StorePgErrorCodes.CONSTRAINT, `constraint failed${where} (${detail})`, opts);
    // 28 invalid authorization, 3D000 unknown database, 42501 insufficient privilege.
    if (cls === '28' || code === '3D000' || code === '42501') {
      return new StorePgError(StorePgErrorCodes.REJECTED, `PostgreSQL${where} refused the connection (${code}: ${detail})`, opts);
    }
    return new StorePgError(StorePgErrorCodes.POSTGRES, `PostgreSQL error${where} (${code}: ${detail})`, opts);
  }
  if (/Query read timeout/i.test(detail)) return new StorePgError(StorePgErrorCodes.TIMEOUT, `query timed out${where} (${detail})`, opts);
  return new StorePgError(StorePgErrorCodes.POSTGRES, `PostgreSQL client error${where} (${detail})`, opts);
}
