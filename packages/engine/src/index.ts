// Public API of @avscan/engine: the on-access pipeline a NAS gateway embeds.
export { createEngine, Engine } from './engine.js';
export type { DryRunChange, DryRunReport, Explain, OnDemandOutcome, RevalidateOptions, RevalidateReport } from './engine.js';
export type { FileAccess } from './access.js';
export type { LookupState } from './lookup.js';
export type { Answer, AnswerReason, Verdict } from './answer.js';
export { EngineError, EngineErrorCodes } from './errors.js';
export type { EngineErrorCode } from './errors.js';
export { answerFailure } from './failure.js';
export type { FailureAnswer, OnFailure, PriorState } from './failure.js';
export { channels } from './observe.js';
export type { EngineMetrics } from './observe.js';
export { kEngineDefaults } from './options.js';
export type { EngineOptions, InfectedAction } from './options.js';
export { PROFILES, triggerFor } from './triggers.js';
export type { Operation, Profile, Trigger } from './triggers.js';
