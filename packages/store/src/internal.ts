// @avscan/store/internal: helpers under the store's API for tests and tools, not for embedders
// (not covered by semver).
export { classifySqliteError } from './errors.js';
