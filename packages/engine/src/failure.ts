// What to answer when no verdict can be had (SPEC §7): the scanner pools were unavailable, the scan
// timed out, or the scanner reported an error. One small function, tested as a table. Its modes are
// the policy's `OnFailure` (one type in the code base; the engine's index re-exports it).
import type { OnFailure } from '@avscan/policy';

export type { OnFailure };

/** What the engine knows about the file's history when the scan fails. */
export interface PriorState {
  /** The last recorded result was clean (whatever its signature version). */
  readonly previouslyClean: boolean;
  /** The live change stamp differs from the one recorded with that result (or nothing is recorded). */
  readonly modified: boolean;
  readonly quarantined: boolean;
}

export interface FailureAnswer {
  readonly allow: boolean;
  /** Why, for the decision record: which clause of the failure policy answered. */
  readonly reason: 'failure-deny' | 'failure-allow' | 'failure-allow-previously-clean' | 'failure-deny-not-previously-clean';
}

const DENY: FailureAnswer = Object.freeze({ allow: false, reason: 'failure-deny' });
const ALLOW: FailureAnswer = Object.freeze({ allow: true, reason: 'failure-allow' });
const ALLOW_PREV: FailureAnswer = Object.freeze({ allow: true, reason: 'failure-allow-previously-clean' });
const DENY_PREV: FailureAnswer = Object.freeze({ allow: false, reason: 'failure-deny-not-previously-clean' });

/**
 * `deny` (ONTAP `mandatory: true`) denies; `allow` (open-on-fail) allows; `allow-if-previously-clean`
 * denies only files that are modified since their last clean scan, never scanned, or quarantined.
 * A quarantined file is denied under every mode: open-on-fail must not release a known infection.
 */
export function answerFailure(mode: OnFailure, prior: PriorState): FailureAnswer {
  if (prior.quarantined) return mode === 'allow-if-previously-clean' ? DENY_PREV : DENY;
  switch (mode) {
    case 'deny':
      return DENY;
    case 'allow':
      return ALLOW;
    case 'allow-if-previously-clean':
      return prior.previouslyClean && !prior.modified ? ALLOW_PREV : DENY_PREV;
  }
}
