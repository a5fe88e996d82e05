// One error class with stable string codes. Callers match on `code`, never on `instanceof`, because
// errors do not survive a worker_threads boundary with their class: workers return `{ code, message }`
// as plain data and the main thread rebuilds a ScannerError from it (see engine.ts).

/** Every code this package can produce. Kept in sync with the README "Errors" table by a unit test. */
export const ScannerErrorCodes = Object.freeze({
  /** An option has an unknown name, a wrong type or an out-of-range value. */
  ERR_SCANNER_INVALID_OPTION: 'ERR_SCANNER_INVALID_OPTION',
  /** The signature database could not be read from disk. */
  ERR_SCANNER_SIGNATURES_READ: 'ERR_SCANNER_SIGNATURES_READ',
  /** The signature database is malformed (the message names the line). */
  ERR_SCANNER_SIGNATURES_MALFORMED: 'ERR_SCANNER_SIGNATURES_MALFORMED',
  /** The compiled automaton would exceed its state cap. */
  ERR_SCANNER_SIGNATURES_TOO_LARGE: 'ERR_SCANNER_SIGNATURES_TOO_LARGE',
  /** The file given to `scanFile` / SCAN could not be opened or read. */
  ERR_SCANNER_FILE_READ: 'ERR_SCANNER_FILE_READ',
  /** A scan was cancelled through its AbortSignal. */
  ERR_SCANNER_ABORTED: 'ERR_SCANNER_ABORTED',
  /** The engine was closed; no more scans are accepted. */
  ERR_SCANNER_CLOSED: 'ERR_SCANNER_CLOSED',
  /** More scans are waiting than `maxQueue` allows (returned as an error result). */
  ERR_SCANNER_QUEUE_FULL: 'ERR_SCANNER_QUEUE_FULL',
  /** A worker thread failed in an unexpected way (crash, out of memory). */
  ERR_SCANNER_WORKER_FAILED: 'ERR_SCANNER_WORKER_FAILED',
  /** A protocol command line is longer than the parser accepts. */
  ERR_SCANNER_PROTOCOL_COMMAND_TOO_LONG: 'ERR_SCANNER_PROTOCOL_COMMAND_TOO_LONG',
  /** A command that is not part of the supported clamd subset. */
  ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND: 'ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND',
  /** The peer closed the connection in the middle of a command or an INSTREAM chunk. */
  ERR_SCANNER_PROTOCOL_TRUNCATED: 'ERR_SCANNER_PROTOCOL_TRUNCATED',
  /** An INSTREAM stream longer than StreamMaxLength. */
  ERR_SCANNER_STREAM_TOO_LONG: 'ERR_SCANNER_STREAM_TOO_LONG',
  /** An INSTREAM could not be written to its temporary file (disk full, directory gone). */
  ERR_SCANNER_SPOOL: 'ERR_SCANNER_SPOOL',
  /** The server could not listen on the requested address. */
  ERR_SCANNER_LISTEN: 'ERR_SCANNER_LISTEN',
  /** A non-loopback listen address was requested without `listenAny`. */
  ERR_SCANNER_NON_LOOPBACK: 'ERR_SCANNER_NON_LOOPBACK',
} as const);

export type ScannerErrorCode = (typeof ScannerErrorCodes)[keyof typeof ScannerErrorCodes];

export class ScannerError extends Error {
  readonly code: ScannerErrorCode;
  constructor(code: ScannerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScannerError';
    this.code = code;
  }
}

/** Rejection of a cancelled scan: `name` is `AbortError` like the platform's, `cause` is the signal's reason. */
export class ScanAbortedError extends ScannerError {
  constructor(cause: unknown) {
    super(ScannerErrorCodes.ERR_SCANNER_ABORTED, 'scan aborted', { cause });
    this.name = 'AbortError';
  }
}
