// @avscan/engine/internal: pure pieces of the pipeline for tests and tools, not for embedders (not
// covered by semver).
export { answerFailure } from './failure.js';
export type { FailureAnswer, PriorState } from './failure.js';
