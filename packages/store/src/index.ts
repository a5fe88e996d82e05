// Public API of @avscan/store: isi_avscan.db (scan attributes, locks with leases, events, reports).
// Helpers for tests, tools and other store backends are in `@avscan/store/internal`.
export { openStore, Store } from './store.js';
export type { RecordOptions } from './store.js';
export type { StoreOptions, ResolvedStoreOptions } from './options.js';
export { kDefaultStoreOptions } from './options.js';
export { changeStampOf, isScanCurrent, scanStatus, kScanResults } from './current.js';
export type { Attributes, FileKey, RecordedResult, ScanStatus, SignatureState, StatLike } from './current.js';
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
  InfectionQuery,
  InfectionRecord,
  Report,
  ReportInput,
  ReportKind,
  ReportProgress,
  ReportQuery,
  ReportState,
} from './reports.js';
export { StoreError, StoreErrorCodes } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { kSchemaVersion } from './schema.js';
