// Public API of @avscan/engine: the on-access pipeline a NAS gateway embeds. The failure-policy
// table (`answerFailure`) is in `@avscan/engine/internal`, for tests and tools.
export { createEngine, Engine } from './engine.js';
export type { DryRunChange, DryRunReport, Explain } from './explain.js';
export type { RevalidateOptions, RevalidateReport } from './revalidate.js';
export type { OnDemandOutcome } from './engine.js';
export type { FileAccess } from './access.js';
export type { FileLookup, LookupState } from './lookup.js';
export type { Answer, AnswerReason, Verdict } from './answer.js';
export { EngineError, EngineErrorCodes } from './errors.js';
export type { EngineErrorCode } from './errors.js';
export type { OnFailure } from './failure.js';
export { channels } from './observe.js';
export type { EngineMetrics } from './metrics.js';
export { kEngineDefaults } from './options.js';
export type { EngineDispatcher, EngineOptions, InfectedAction, LockWrites } from './options.js';
export type { EngineStore, MaybePromise, SharedEngineStore } from './store-port.js';
export { PROFILES, triggerFor } from './triggers.js';
export type { Operation, Profile, Trigger } from './triggers.js';
