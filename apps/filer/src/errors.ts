// Coded errors of @avscan/filer. Callers match on `code`, never on the class. Messages are lowercase,
// without a trailing period, with user input in backticks. Every code is listed in the README's
// "Errors" table (a test checks both lists agree). The REST layer maps these to ONTAP's error object.

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
  /** A rename onto a name that already exists (SMB STATUS_OBJECT_NAME_COLLISION). */
  EXISTS: 'ERR_FILER_EXISTS',
  /** A data-path request is malformed: unknown operation or mode, missing or extra parameter. */
  INVALID_REQUEST: 'ERR_FILER_INVALID_REQUEST',
  /** The operation needs a file and the path names a folder (or the reverse). */
  WRONG_TYPE: 'ERR_FILER_WRONG_TYPE',
} as const);

export type FilerErrorCode = (typeof FilerErrorCodes)[keyof typeof FilerErrorCodes];

export class FilerError extends Error {
  readonly code: FilerErrorCode;
  /** The field, option or path at fault, when there is one. */
  readonly target: string | undefined;
  constructor(code: FilerErrorCode, message: string, target?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FilerError';
    this.code = code;
    this.target = target;
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
