// Public API of @avscan/dispatch: what an embedder uses. Protocol parsers, clients and sessions are
// in `@avscan/dispatch/internal` (tests, benchmarks).
export { createDispatcher, Dispatcher } from './dispatcher.js';
export type {
  DispatcherMetrics, FailureKind, PendingScan, ScanOutcome, ScanRequest, ServerMetrics, ServerStatus, SignatureWatermark,
} from './types.js';
export { kDefaults, validateDispatcherOptions } from './config.js';
export type { DispatcherOptions, PoolRole, ResolvedConfig, ScannerPool } from './config.js';
export { parseAddress } from './address.js';
export type { Endpoint, ServerAddress, ServerType } from './address.js';
export { AbortError, DispatchError, DispatchErrorCodes, QueueFullError } from './errors.js';
export type { DispatchErrorCode } from './errors.js';
export type { DisconnectedReason, ServerEvent, ServerState, SignatureEvent } from './server.js';
export type { Priority } from './queue.js';
