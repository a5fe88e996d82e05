// What the engine answers for one access. Decisions are data: every answer says why, carries the
// policy revision it was made under and an id an audit log can quote.
import type { Reason } from '@avscan/policy';
import type { FailureAnswer } from './failure.js';
import type { Trigger } from './triggers.js';

/** The scanner's word on the file, when a scan ran (or was joined). */
export type Verdict =
  | { readonly result: 'clean' }
  | { readonly result: 'infected'; readonly threats: readonly string[] }
  | { readonly result: 'failure'; readonly kind: 'unavailable' | 'timeout' | 'error' | 'too-large'; readonly message: string };

export type AnswerReason =
  /** The policy's own reason (`excluded-path`, `too-large`, `invalid-path`, ...) when it skipped or denied. */
  | Reason
  /** The profile does not scan on this operation. */
  | 'not-triggered'
  /** Vscan is disabled for the SVM. */
  | 'vscan-disabled'
  /** Allowed without a scan: the attributes say the file is scan current. */
  | 'scan-current'
  /** Denied without a scan: the file is quarantined. */
  | 'quarantined'
  | 'clean'
  | 'infected'
  /** Asynchronous trigger: allowed now, scan queued. */
  | 'scan-queued'
  | FailureAnswer['reason'];

export interface Answer {
  readonly allow: boolean;
  readonly reason: AnswerReason;
  /** The policy rule that decided, when the policy decided. */
  readonly rule: string | undefined;
  readonly verdict: Verdict | undefined;
  /** Unique per decision in this process: `<node>-<boot>-<seq>`. */
  readonly decisionId: string;
  /** Revision of the policy the decision was made under; `null` when no policy applied (not triggered, disabled). */
  readonly policyRevision: string | null;
  readonly trigger: Trigger;
  /** This access waited on a scan started by another access to the same file (coalescing). */
  readonly joined: boolean;
}
