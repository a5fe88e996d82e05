// Looking without touching: `explain` (every rule consulted for one access, and whether it would be
// scanned now) and `dryRun` (which decisions a candidate policy would change). Nothing is scanned
// or recorded.
import type { CompiledPolicy, Decision, Explanation } from '@avscan/policy';
import type { FileAccess } from './access.js';
import type { LookupState } from './lookup.js';
import type { Operation, Trigger } from './triggers.js';

export interface Explain {
  readonly operation: Operation;
  readonly trigger: Trigger;
  readonly enabled: boolean;
  readonly policyRevision: string;
  readonly policy: Explanation;
  /** Only when the policy said scan: what the attributes say. */
  readonly lookup: LookupState | undefined;
  /** Whether this access would be sent to a scanner now. */
  readonly wouldScan: boolean;
}

export interface DryRunChange {
  readonly access: FileAccess;
  readonly before: Decision;
  readonly after: Decision;
}

export interface DryRunReport {
  readonly total: number;
  readonly changed: number;
  readonly newRevision: string;
  readonly changes: readonly DryRunChange[];
}

/** `lookup` is asked only when the policy says scan. */
export function explainAccess(
  policy: CompiledPolicy, trigger: Trigger, enabled: boolean, access: FileAccess, operation: Operation, lookup: () => LookupState,
): Explain {
  const explained = policy.explain(access);
  const state = explained.decision.action === 'scan' ? lookup() : undefined;
  return {
    operation, trigger, enabled, policyRevision: policy.revision, policy: explained, lookup: state,
    wouldScan: trigger !== 'none' && enabled && state === 'stale',
  };
}

export function dryRun(current: CompiledPolicy, next: CompiledPolicy, accesses: readonly FileAccess[]): DryRunReport {
  const changes: DryRunChange[] = [];
  for (const access of accesses) {
    const before = current.decide(access);
    const after = next.decide(access);
    if (before.action !== after.action || before.reason !== after.reason) changes.push({ access, before, after });
  }
  return { total: accesses.length, changed: changes.length, newRevision: next.revision, changes };
}
