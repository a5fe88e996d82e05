// Public API of @avscan/store-pg: the store on PostgreSQL for a cluster of gateway nodes.
export { openPgStore, PgStore } from './store.js';
export type { PgStoreOptions, ResolvedPgStoreOptions } from './options.js';
export { kDefaultPgStoreOptions } from './options.js';
export { classifyPgError, StorePgError, StorePgErrorCodes } from './errors.js';
export type { StorePgErrorCode } from './errors.js';
export { kPgSchemaVersion } from './schema.js';
// The pure "scan current" functions and record types are the SQLite package's: one definition for both backends.
export { changeStampOf, isScanCurrent, scanStatus } from '@avscan/store';
