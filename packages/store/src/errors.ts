// Coded errors of @avscan/store. Callers match on `code` (stable strings), never on `instanceof` or
// on the message; `retryable` says whether the same call may succeed later unchanged (a lock held by
// another process), so the engine can retry instead of failing the access.

/** Every error code this package throws. Keep in sync with the README "Errors" table (a test checks). */
export const StoreErrorCodes = Object.freeze({
  /** The database is locked by another connection beyond `busyTimeoutMs` (SQLITE_BUSY / SQLITE_LOCKED). Retryable. */
  BUSY: 'ERR_STORE_BUSY',
  /** A constraint was violated (SQLITE_CONSTRAINT). */
  CONSTRAINT: 'ERR_STORE_CONSTRAINT',
  /** The file is not a SQLite database or is damaged (SQLITE_CORRUPT / SQLITE_NOTADB). */
  CORRUPT: 'ERR_STORE_CORRUPT',
  /** The disk or the database is full (SQLITE_FULL). */
  FULL: 'ERR_STORE_FULL',
  /** The file cannot be opened or written (SQLITE_CANTOPEN / SQLITE_READONLY / SQLITE_PERM / SQLITE_IOERR). */
  UNWRITABLE: 'ERR_STORE_UNWRITABLE',
  /** Any other SQLite failure. */
  SQLITE: 'ERR_STORE_SQLITE',
  /** The database was written by a newer version of this package; it is not opened. */
  SCHEMA_TOO_NEW: 'ERR_STORE_SCHEMA_TOO_NEW',
  /** A read-only open found a database that still needs migrations. */
  SCHEMA_TOO_OLD: 'ERR_STORE_SCHEMA_TOO_OLD',
  /** The store was used after `close()`. */
  CLOSED: 'ERR_STORE_CLOSED',
  /** An option is not a known option name. */
  UNKNOWN_OPTION: 'ERR_STORE_UNKNOWN_OPTION',
  /** An option has a bad value or type. */
  INVALID_OPTION: 'ERR_STORE_INVALID_OPTION',
  /** A method argument has a bad value or type. */
  INVALID_ARGUMENT: 'ERR_STORE_INVALID_ARGUMENT',
  /** A report id or event cursor does not exist / cannot be decoded. */
  NOT_FOUND: 'ERR_STORE_NOT_FOUND',
});

export type StoreErrorCode = (typeof StoreErrorCodes)[keyof typeof StoreErrorCodes];

const kRetryable: ReadonlySet<StoreErrorCode> = new Set([StoreErrorCodes.BUSY]);

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** True when the same call may succeed later unchanged. */
  readonly retryable: boolean;
  /** The option, argument or file the error is about. */
  readonly target: string | undefined;

  constructor(code: StoreErrorCode, message: string, options: { target?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.retryable = kRetryable.has(code);
    this.target = options.target;
  }
}

/** The SQLite primary result code of a better-sqlite3 error (`SQLITE_IOERR_WRITE` → `SQLITE_IOERR`). */
function primaryCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const second = code.indexOf('_', 'SQLITE_'.length);
  return second === -1 ? code : code.slice(0, second);
}

/**
 * Maps any error thrown by better-sqlite3 to a coded {@link StoreError}; a StoreError passes through.
 * `file` (when known) is named in the message, so a bad database is a one-line, actionable message.
 */
export function classifySqliteError(err: unknown, file?: string): StoreError {
  if (err instanceof StoreError) return err;
  const where = file === undefined ? '' : ` \`${file}\``;
  const detail = oneLine(err instanceof Error ? err.message : String(err));
  const opts = file === undefined ? { cause: err } : { cause: err, target: file };
  switch (primaryCode(err)) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StoreError(StoreErrorCodes.BUSY, `database${where} is locked by another connection (${detail})`, opts);
    case 'SQLITE_CONSTRAINT':
      return new StoreError(StoreErrorCodes.CONSTRAINT, `constraint failed in database${where} (${detail})`, opts);
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return new StoreError(StoreErrorCodes.CORRUPT, `database${where} is corrupt or not a sqlite database (${detail})`, opts);
    case 'SQLITE_FULL':
      return new StoreError(StoreErrorCodes.FULL, `database${where} is full: free disk space (${detail})`, opts);
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_IOERR':
    case 'SQLITE_AUTH':
      return new StoreError(StoreErrorCodes.UNWRITABLE, `database${where} cannot be opened or written (${detail})`, opts);
    default:
      if (err instanceof TypeError || err instanceof RangeError) {
        return new StoreError(StoreErrorCodes.INVALID_ARGUMENT, `invalid argument (${detail})`, opts);
      }
      return new StoreError(StoreErrorCodes.SQLITE, `sqlite error in database${where} (${detail})`, opts);
  }
}

function oneLine(s: string): string {
  const first = s.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}
