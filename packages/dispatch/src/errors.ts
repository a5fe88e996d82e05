// Coded errors of @avscan/dispatch. Callers match on `code`, never on the message or the class.
// Every code is in `DispatchErrorCodes`, and the package README's "Errors" table lists the same set
// (a unit test keeps them in step).

/** Every error code this package throws or reports, frozen. */
export const DispatchErrorCodes = Object.freeze({
  /** An option or pool field is invalid (unknown, wrong type, out of range). */
  INVALID_CONFIG: 'ERR_DISPATCH_INVALID_CONFIG',
  /** A scanner server address cannot be parsed or uses an unknown scheme. */
  INVALID_ADDRESS: 'ERR_DISPATCH_INVALID_ADDRESS',
  /** A `scan()` request is malformed (neither or both of `file`/`data`, bad priority). */
  INVALID_REQUEST: 'ERR_DISPATCH_INVALID_REQUEST',
  /** A scanner sent bytes that do not parse as its protocol. */
  PROTOCOL: 'ERR_DISPATCH_PROTOCOL',
  /** The scanner could not be reached (refused, reset, socket gone). */
  CONNECT: 'ERR_DISPATCH_CONNECT',
  /** A `builtin:` scanner could not start (its package or signatures missing, a bad signature file): the message names the cause. */
  SCANNER_START: 'ERR_DISPATCH_SCANNER_START',
  /** The scanner's listen backlog was full (`EAGAIN`): busy, not down. */
  SERVER_BUSY: 'ERR_DISPATCH_SERVER_BUSY',
  /** The connection ended without a complete reply: the scanner died mid-request. */
  SERVER_DIED: 'ERR_DISPATCH_SERVER_DIED',
  /** The scanner answered with an error for this object (e.g. unreadable path). */
  SCANNER_ERROR: 'ERR_DISPATCH_SCANNER_ERROR',
  /** The object exceeds the scanner's stream or size limit. */
  TOO_LARGE: 'ERR_DISPATCH_TOO_LARGE',
  /** No reply within `request_timeout` (or `session_setup_timeout` for a health probe). */
  TIMEOUT: 'ERR_DISPATCH_TIMEOUT',
  /** No active server took the request within `scan_queue_timeout`. */
  QUEUE_TIMEOUT: 'ERR_DISPATCH_QUEUE_TIMEOUT',
  /** The bounded queue was full when the request arrived. */
  QUEUE_FULL: 'ERR_DISPATCH_QUEUE_FULL',
  /** The dispatcher was closed. */
  CLOSED: 'ERR_DISPATCH_CLOSED',
  /** The caller's `AbortSignal` fired. */
  ABORTED: 'ERR_DISPATCH_ABORTED',
} as const);

export type DispatchErrorCode = (typeof DispatchErrorCodes)[keyof typeof DispatchErrorCodes];

export class DispatchError extends Error {
  readonly code: DispatchErrorCode;
  /** The option, field or server address the error is about, when there is one. */
  readonly target: string | undefined;

  constructor(code: DispatchErrorCode, message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DispatchError';
    this.code = code;
    this.target = options?.target;
  }
}

/** Thrown by `Dispatcher.scan()` when the queue is full; also reported as an `unavailable` outcome. */
export class QueueFullError extends DispatchError {
  constructor(limit: number) {
    super(DispatchErrorCodes.QUEUE_FULL, `scan queue is full (max_queue ${limit})`);
    this.name = 'QueueFullError';
  }
}

/** The rejection of an aborted `scan()`; `cause` is the signal's reason. */
export class AbortError extends DispatchError {
  constructor(cause: unknown) {
    super(DispatchErrorCodes.ABORTED, 'scan aborted by the caller', { cause });
    this.name = 'AbortError';
  }
}

/** Renders user input for messages: backticks, bounded length, no line breaks. */
export function quote(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  s = s.replace(/[\r\n\t]/g, ' ');
  return '`' + (s.length > 80 ? s.slice(0, 77) + '...' : s) + '`';
}
