// Public API of @avscan/store: isi_avscan.db (scan attributes, locks with leases, events, reports).
export { openStore, Store } from './store.js';
export type { StoreOptions, ResolvedStoreOptions } from './options.js';
export { integerOption, invalidOption, kDefaultStoreOptions } from './options.js';
export { changeStampOf, isScanCurrent, scanStatus, kScanResults } from './current.js';
export type { Attributes, FileKey, ScanResult, ScanStatus, StatLike } from './current.js';
export type { ScanRecord } from './attributes.js';
export type { AcquireResult, LockHolder } from './locks.js';
export type {
  EventInput,
  EventQuery,
  EventRecord,
  Page,
  ServerStatusInput,
  ServerStatusQuery,
  ServerStatusRecord,
} from './events.js';
export type {
  Infection,
  InfectionInput,
  Report,
  ReportInput,
  ReportKind,
  ReportProgress,
  ReportQuery,
  ReportState,
} from './reports.js';
export { classifySqliteError, StoreError, StoreErrorCodes } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { kSchemaVersion } from './schema.js';
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
  normalizeInfection,
  normalizeReportFinish,
  normalizeReportInput,
  normalizeReportProgress,
  reportNotFound,
  reportQueryParams,
  toInfection,
  toReport,
} from './reports.js';
export type { InfectionRow, ReportRow } from './reports.js';
export { badArgument, checkCount, checkNumber, checkPath, checkString } from './validate.js';
