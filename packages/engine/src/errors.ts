// Coded errors of @avscan/engine. Callers match on `code`, never on the class. Messages are lowercase,
// without a trailing period, with user input in backticks.

export const EngineErrorCodes = Object.freeze({
  /** An engine option is unknown, of the wrong type or out of range. */
  INVALID_OPTION: 'ERR_ENGINE_INVALID_OPTION',
  /** A file access passed to the engine is malformed (a caller bug, like a negative size). */
  INVALID_ACCESS: 'ERR_ENGINE_INVALID_ACCESS',
  /** The engine was closed; no new access is accepted. */
  CLOSED: 'ERR_ENGINE_CLOSED',
  /** The access was cancelled (its `signal` fired) before its answer was known; nothing was recorded for it. */
  ABORTED: 'ERR_ENGINE_ABORTED',
  /** A quarantine action could not be applied (destination outside the quarantine folder, WORM volume, I/O). */
  ACTION_FAILED: 'ERR_ENGINE_ACTION_FAILED',
} as const);

export type EngineErrorCode = (typeof EngineErrorCodes)[keyof typeof EngineErrorCodes];

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** The option or field at fault, when there is one. */
  readonly target: string | undefined;
  constructor(code: EngineErrorCode, message: string, target?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
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
