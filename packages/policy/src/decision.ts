// Decisions are data: an action, a reason, and the rule (pattern or field) that decided.

export type Action = 'scan' | 'skip' | 'deny';

/** Every reason `decide` can return, in evaluation order. */
export const Reasons = Object.freeze([
  'invalid-path',
  'policy-disabled',
  'readonly-volume',
  'not-execute-access',
  'excluded-path',
  'not-included-path',
  'no-extension',
  'excluded-extension',
  'not-included-extension',
  'too-large',
  'in-scope',
] as const);

export type Reason = (typeof Reasons)[number];

export interface Decision {
  readonly action: Action;
  readonly reason: Reason;
  /** The pattern (as written in the policy) or the field that decided; absent for `in-scope` and `invalid-path`. */
  readonly rule?: string;
}

/** One file access to decide on. */
export interface Access {
  /** Path relative to the SVM root, `\` or `/` separated; any string (bad content yields `invalid-path`). */
  readonly path: string;
  /** File size in bytes: a non-negative safe integer. */
  readonly size: number;
  /** The open requested execute access. @default false */
  readonly execute?: boolean | undefined;
  /** The file lives on a read-only volume. @default false */
  readonly readonlyVolume?: boolean | undefined;
}

export function decision(action: Action, reason: Reason, rule?: string): Decision {
  return Object.freeze(rule === undefined ? { action, reason } : { action, reason, rule });
}

/** Decisions that do not depend on an entry: created once, shared by every compiled policy. */
export const kInvalidPath = decision('deny', 'invalid-path');
export const kPolicyDisabled = decision('skip', 'policy-disabled', 'enabled');
export const kReadonlyVolume = decision('skip', 'readonly-volume', 'scope.scan_readonly_volumes');
export const kNotExecuteAccess = decision('skip', 'not-execute-access', 'scope.only_execute_access');
export const kNotIncludedPath = decision('skip', 'not-included-path', 'scope.include_paths');
export const kNoExtension = decision('skip', 'no-extension', 'scope.scan_without_extension');
export const kNotIncludedExtension = decision('skip', 'not-included-extension', 'scope.include_extensions');
export const kTooLargeSkip = decision('skip', 'too-large', 'scope.max_file_size');
export const kTooLargeDeny = decision('deny', 'too-large', 'scope.max_file_size');
export const kInScope = decision('scan', 'in-scope');
