// `@avscan/policy/internal`: what the tests and benchmarks reach into, kept off the public surface (an
// embedder never needs it and it may change without notice): the slow reference decider used as the
// oracle, and the glob matching pieces the property tests drive directly.
export { referenceDecide } from './reference.js';
export { compileSegment, matchSegments, type Segment } from './glob.js';
export { globSegments } from './paths.js';
