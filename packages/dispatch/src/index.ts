// Public API of @avscan/dispatch: explicit named exports only.
export { createDispatcher, Dispatcher, failureKind } from './dispatcher.js';
export type {
  DispatcherMetrics, FailureKind, PendingScan, ScanOutcome, ScanRequest, ServerMetrics, ServerStatus, SignatureWatermark,
} from './dispatcher.js';
export { kDefaults, resolveConfig } from './config.js';
export type { DispatcherOptions, PoolRole, ResolvedConfig, ScannerPool } from './config.js';
export { parseAddress } from './address.js';
export type { Endpoint, ServerAddress, ServerType } from './address.js';
export { AbortError, DispatchError, DispatchErrorCodes, QueueFullError } from './errors.js';
export type { DispatchErrorCode } from './errors.js';
export type { DisconnectedReason, ServerEvent, ServerState, SignatureEvent } from './server.js';
export type { Priority } from './queue.js';
export { ClamdClient } from './clamd-client.js';
export type { ClamdClientOptions } from './clamd-client.js';
export { ClamdSession } from './clamd-session.js';
export { IcapClient } from './icap-client.js';
export type { ProbeResult, ScanInput, ScannerClient, ScannerVerdict } from './client.js';
export {
  parseClamdReply, parsePing, parseSessionReply, parseVersion, stripUnofficial,
} from './clamd-protocol.js';
export type { ClamdVerdict, ClamdVersion } from './clamd-protocol.js';
export { IcapResponseParser, icapThreats, icapVerdict, parseIcapResponse } from './icap-protocol.js';
export type { IcapResponse, IcapVerdict } from './icap-protocol.js';
export { activeTier, nodeServers, selectServer } from './select.js';
export type { SelectOptions, ServerView } from './select.js';
