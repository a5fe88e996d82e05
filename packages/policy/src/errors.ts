// Coded errors of @avscan/policy. Callers match on `code`, never on the class or the message.

/** Every error code this package throws, in one frozen catalog (documented in README "Errors"). */
export const PolicyErrorCodes = Object.freeze({
  /** A field (or the policy itself, or an access) has the wrong JSON type; `null` counts as a wrong type. */
  WRONG_TYPE: 'ERR_POLICY_WRONG_TYPE',
  /** A field name that the policy schema does not know (misspelling, prototype keys). */
  UNKNOWN_FIELD: 'ERR_POLICY_UNKNOWN_FIELD',
  /** The same field given both nested (`scope: {max_file_size}`) and dotted (`"scope.max_file_size"`). */
  DUPLICATE_FIELD: 'ERR_POLICY_DUPLICATE_FIELD',
  /** `name` is not 1–256 characters of `[A-Za-z0-9_.-]`. */
  BAD_NAME: 'ERR_POLICY_BAD_NAME',
  /** A string field outside its allowed values (`oversize_action`, `path_match`, `on_failure`). */
  BAD_VALUE: 'ERR_POLICY_BAD_VALUE',
  /** `max_file_size` is not an integer from 1024 to 1099511627776. */
  BAD_SIZE: 'ERR_POLICY_BAD_SIZE',
  /** A list holds more than 10,000 entries. */
  TOO_MANY_ENTRIES: 'ERR_POLICY_TOO_MANY_ENTRIES',
  /** An extension or path entry is the empty string. */
  EMPTY_ENTRY: 'ERR_POLICY_EMPTY_ENTRY',
  /** An extension or path entry is longer than 255 code points. */
  ENTRY_TOO_LONG: 'ERR_POLICY_ENTRY_TOO_LONG',
  /** An extension pattern with an empty part, a separator, or unsupported wildcard syntax. */
  BAD_EXTENSION: 'ERR_POLICY_BAD_EXTENSION',
  /** A path glob with unsupported or malformed syntax. */
  BAD_GLOB: 'ERR_POLICY_BAD_GLOB',
  /** A path entry that does not start at the SVM root (no leading `\` or `/`). */
  PATH_NOT_FROM_ROOT: 'ERR_POLICY_PATH_NOT_FROM_ROOT',
  /** A path entry that normalises to an invalid path (`\`, `\..\x`, `\v\...`, NUL). */
  INVALID_PATH_ENTRY: 'ERR_POLICY_INVALID_PATH_ENTRY',
  /** `decide()` got an access whose `path` is not a string or whose `size` is not a non-negative safe integer (a caller bug). */
  BAD_ACCESS: 'ERR_POLICY_BAD_ACCESS',
} as const);

export type PolicyErrorCode = (typeof PolicyErrorCodes)[keyof typeof PolicyErrorCodes];

/** The only error class this package throws. `target` names the offending field (`scope.exclude_paths[3]`). */
export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  readonly target: string | undefined;

  constructor(code: PolicyErrorCode, message: string, target?: string) {
    super(message);
    this.name = 'PolicyError';
    this.code = code;
    this.target = target;
  }
}

const kMaxShown = 80;

/** Renders user input for a message: JSON, truncated, in backticks. */
export function show(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  if (text.length > kMaxShown) text = `${text.slice(0, kMaxShown)}…`;
  return `\`${text}\``;
}

/** The JSON type name used in wrong-type messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
