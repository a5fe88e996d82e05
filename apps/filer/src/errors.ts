// Coded errors of @avscan/filer. Callers match on `code`, never on the class. Messages are lowercase,
// without a trailing period, with user input in backticks. Every code is listed in the README's
// "Errors" table (a test checks both lists agree). The REST layer maps these to ONTAP's error object,
// answered in OneFS PAPI's shape under /platform/ and /session/ (server/papi-error.ts).

export const FilerErrorCodes = Object.freeze({
  /** A path given for a share or volume is malformed: empty component, NUL, `..`, absolute, a stream, too long. */
  INVALID_PATH: 'ERR_FILER_INVALID_PATH',
  /** A path resolves (through a symlink) to a place outside its volume. */
  PATH_ESCAPES: 'ERR_FILER_PATH_ESCAPES',
  /** No such SVM, volume, share or file. */
  NOT_FOUND: 'ERR_FILER_NOT_FOUND',
  /** The filer's configuration (file, environment, flags or an API change) is invalid; `target` names the field. */
  INVALID_CONFIG: 'ERR_FILER_INVALID_CONFIG',
  /** A write, rename or delete on a read-only volume. */
  READONLY_VOLUME: 'ERR_FILER_READONLY_VOLUME',
  /** The clamd front door's socket path is taken: another process listens there, or it is not a socket. */
  SOCKET_IN_USE: 'ERR_FILER_SOCKET_IN_USE',
  /** An on-demand job description (ONTAP on-demand policy, OneFS job, file scan) is invalid; `target` names the field. */
  JOB_INVALID: 'ERR_FILER_JOB_INVALID',
  /** A job cannot do that in its state (cancel a finished job, start one already running). */
  JOB_STATE: 'ERR_FILER_JOB_STATE',
  /** A schedule (ONTAP name or cron, OneFS text) cannot be parsed. */
  SCHEDULE_INVALID: 'ERR_FILER_SCHEDULE_INVALID',
  /** Another on-demand policy of the SVM is already scheduled (ONTAP 10027255). */
  SCHEDULE_CONFLICT: 'ERR_FILER_SCHEDULE_CONFLICT',
  /** An audit configuration field is invalid; `ontapCode` holds the seed's code (140902456-140902461, 9699407, …). */
  AUDIT_INVALID: 'ERR_FILER_AUDIT_INVALID',
  /** The SVM already has an audit configuration (140902402). */
  AUDIT_EXISTS: 'ERR_FILER_AUDIT_EXISTS',
  /** The SVM has no audit configuration (140902415, 140902490). */
  AUDIT_NOT_FOUND: 'ERR_FILER_AUDIT_NOT_FOUND',
  /** The audit configuration is in the wrong enabled state: deleted while enabled (140902421), rotated while disabled (140902492). */
  AUDIT_STATE: 'ERR_FILER_AUDIT_STATE',
  /** A rename onto a name that already exists (SMB STATUS_OBJECT_NAME_COLLISION). */
  EXISTS: 'ERR_FILER_EXISTS',
  /** A data-path request is malformed: unknown operation or mode, missing or extra parameter. */
  INVALID_REQUEST: 'ERR_FILER_INVALID_REQUEST',
  /** The operation needs a file and the path names a folder (or the reverse). */
  WRONG_TYPE: 'ERR_FILER_WRONG_TYPE',
} as const);

export type FilerErrorCode = (typeof FilerErrorCodes)[keyof typeof FilerErrorCodes];

/**
 * The HTTP status each code answers with on the filer's own routes (the data path; the ONTAP routes map
 * to ONTAP's error codes instead). Exhaustive: a new code does not compile until it has a status.
 */
export const kFilerHttpStatus: Readonly<Record<FilerErrorCode, number>> = Object.freeze({
  [FilerErrorCodes.INVALID_PATH]: 400,
  [FilerErrorCodes.INVALID_REQUEST]: 400,
  [FilerErrorCodes.INVALID_CONFIG]: 400,
  [FilerErrorCodes.JOB_INVALID]: 400,
  [FilerErrorCodes.SCHEDULE_INVALID]: 400,
  [FilerErrorCodes.AUDIT_INVALID]: 400,
  [FilerErrorCodes.PATH_ESCAPES]: 403,
  [FilerErrorCodes.READONLY_VOLUME]: 403,
  [FilerErrorCodes.NOT_FOUND]: 404,
  [FilerErrorCodes.AUDIT_NOT_FOUND]: 404,
  [FilerErrorCodes.EXISTS]: 409,
  [FilerErrorCodes.WRONG_TYPE]: 409,
  [FilerErrorCodes.JOB_STATE]: 409,
  [FilerErrorCodes.SCHEDULE_CONFLICT]: 409,
  [FilerErrorCodes.AUDIT_EXISTS]: 409,
  [FilerErrorCodes.AUDIT_STATE]: 409,
  [FilerErrorCodes.SOCKET_IN_USE]: 409,
});

export class FilerError extends Error {
  readonly code: FilerErrorCode;
  /** The field, option or path at fault, when there is one. */
  readonly target: string | undefined;
  /** The vendor's numeric error code the REST layer answers with (e.g. ONTAP's 140902460), when there is one. */
  readonly ontapCode: number | undefined;
  constructor(code: FilerErrorCode, message: string, target?: string, options?: { cause?: unknown; ontapCode?: number }) {
    super(message, options);
    this.name = 'FilerError';
    this.code = code;
    this.target = target;
    this.ontapCode = options?.ontapCode;
  }
}

/** Shows a user value in a message: strings in backticks, other values as JSON, long ones cut. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return `\`${text}\``;
}
