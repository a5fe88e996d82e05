// Observability without cost when nobody listens: one diagnostics channel per stage (checked with
// `hasSubscribers` before building a message). Counters are in metrics.ts.
import diagnostics_channel from 'node:diagnostics_channel';

export const channels = Object.freeze({
  /** `{ decisionId, operation, access, decision }` after the policy stage. */
  decided: diagnostics_channel.channel('avscan:engine:decided'),
  /** `{ decisionId, access, priority }` when a scan is sent to the dispatcher. */
  dispatched: diagnostics_channel.channel('avscan:engine:dispatched'),
  /** `{ decisionId, access, verdict, server }` when a verdict (or failure) came back. */
  verdict: diagnostics_channel.channel('avscan:engine:verdict'),
  /** `{ answer, access, operation }` for every answer. */
  answered: diagnostics_channel.channel('avscan:engine:answered'),
});
