// What a failed attempt means, as one pure table: the failure kind it is reported as (ONTAP's
// `unavailable` / `timeout` / `error` / `too-large`) and what the dispatcher does next.
import { DispatchErrorCodes, type DispatchErrorCode } from './errors.js';
import type { FailureKind } from './types.js';

/**
 * - `busy`: the server's backlog is full — skip it briefly and re-queue; the attempt does not count
 *   (busy is not down: REAL-SCANNERS §1.7).
 * - `retry`: the server gave no verdict in time — retry once elsewhere.
 * - `dead`: the server is gone or speaks garbage — disconnect it, retry once elsewhere.
 * - `final`: the outcome for this request (the object itself, or the request, is the problem).
 */
export type FailureAction = 'busy' | 'retry' | 'dead' | 'final';

interface Rule {
  readonly kind: FailureKind;
  readonly action: FailureAction;
}

const kTable: Readonly<Record<DispatchErrorCode, Rule>> = Object.freeze({
  [DispatchErrorCodes.TIMEOUT]: { kind: 'timeout', action: 'retry' },
  [DispatchErrorCodes.TOO_LARGE]: { kind: 'too-large', action: 'final' },
  [DispatchErrorCodes.SERVER_BUSY]: { kind: 'unavailable', action: 'busy' },
  [DispatchErrorCodes.CONNECT]: { kind: 'unavailable', action: 'dead' },
  [DispatchErrorCodes.SCANNER_START]: { kind: 'unavailable', action: 'dead' },
  [DispatchErrorCodes.SERVER_DIED]: { kind: 'error', action: 'dead' },
  [DispatchErrorCodes.PROTOCOL]: { kind: 'error', action: 'dead' },
  [DispatchErrorCodes.QUEUE_FULL]: { kind: 'unavailable', action: 'final' },
  [DispatchErrorCodes.QUEUE_TIMEOUT]: { kind: 'unavailable', action: 'final' },
  [DispatchErrorCodes.CLOSED]: { kind: 'unavailable', action: 'final' },
  [DispatchErrorCodes.SCANNER_ERROR]: { kind: 'error', action: 'final' },
  [DispatchErrorCodes.INVALID_REQUEST]: { kind: 'error', action: 'final' },
  [DispatchErrorCodes.INVALID_CONFIG]: { kind: 'error', action: 'final' },
  [DispatchErrorCodes.INVALID_ADDRESS]: { kind: 'error', action: 'final' },
  [DispatchErrorCodes.ABORTED]: { kind: 'error', action: 'final' },
});

/** Which failure kind a code is reported as. */
export function failureKind(code: DispatchErrorCode): FailureKind {
  return kTable[code].kind;
}

/** What the dispatcher does after an attempt failed with `code`. */
export function failureAction(code: DispatchErrorCode): FailureAction {
  return kTable[code].action;
}
