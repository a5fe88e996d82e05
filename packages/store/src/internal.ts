// @avscan/store/internal: helpers under the store's API for tests, tools and other store backends
// (@avscan/store-pg), not for embedders (not covered by semver).
export { classifySqliteError } from './errors.js';
export { integerOption, invalidOption } from './options.js';
// Pure validation and row-mapping helpers, shared with other store backends (@avscan/store-pg) so
// every backend accepts and rejects exactly the same input.
export { checkDeletePath, checkFileKey, checkRename, normalizeScanRecord, toAttributes } from './attributes.js';
export type { AttributeRow } from './attributes.js';
export {
  eventPage,
  eventQueryParams,
  normalizeEvent,
  normalizeServerStatus,
  serverStatusQueryParams,
  toServerStatus,
} from './events.js';
export type { EventRow, ServerStatusRow } from './events.js';
export {
  infectionQueryParams,
  normalizeInfection,
  normalizeReportFinish,
  normalizeReportInput,
  normalizeReportProgress,
  reportNotFound,
  reportQueryParams,
  toInfection,
  toInfectionRecord,
  toReport,
} from './reports.js';
export type { InfectionRecordRow, InfectionRow, ReportRow } from './reports.js';
export { badArgument, checkCount, checkNumber, checkPath, checkString } from './validate.js';
