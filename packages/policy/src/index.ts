// Public API of @avscan/policy: compile an ONTAP on-access policy once, decide per access. The
// reference decider and matcher internals are in ./internal.ts (`@avscan/policy/internal`).
export { compilePolicy, CompiledPolicy } from './compile.js';
export type { Explanation, ExplainStep } from './compile.js';
export { Reasons } from './decision.js';
export type { Access, Action, Decision, Reason } from './decision.js';
export { PolicyError, PolicyErrorCodes } from './errors.js';
export type { PolicyErrorCode } from './errors.js';
export { normalizePath } from './normalize.js';
export type { NormalizedPath } from './normalize.js';
export type { PathMatchMode } from './paths.js';
export { kPolicyDefaults, validatePolicy } from './validate.js';
export type { NormalizedPolicy, NormalizedScope, OnFailure, OversizeAction } from './validate.js';
