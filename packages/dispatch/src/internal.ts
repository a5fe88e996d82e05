// @avscan/dispatch/internal: the protocol layer under the dispatcher — wire parsers, clients,
// sessions, server selection and the queue — for tests, benchmarks and tools that speak to a
// scanner directly. Not the embedding API (that is the package root), and not covered by semver.
export { ClamdClient } from './clamd-client.js';
export type { ClamdClientOptions } from './clamd-client.js';
export { ClamdSession } from './clamd-session.js';
export { IcapClient } from './icap-client.js';
export { BuiltinClient } from './builtin-client.js';
export type { ProbeResult, ScanInput, ScannerClient, ScannerVerdict } from './client.js';
export { makeClient } from './clients.js';
export {
  clamdVerdict, parseClamdReply, parsePing, parseSessionReply, parseVersion, pathRefused, pathSendable, stripUnofficial,
} from './clamd-protocol.js';
export type { ClamdVerdict, ClamdVersion } from './clamd-protocol.js';
export { IcapResponseParser, icapThreats, icapVerdict, parseIcapResponse } from './icap-protocol.js';
export type { IcapResponse, IcapVerdict } from './icap-protocol.js';
export { activeTier, nodeServers, selectServer } from './select.js';
export type { SelectOptions, ServerView } from './select.js';
export { PriorityQueue, kPriorities } from './queue.js';
export type { QueueEntry } from './queue.js';
export { failureAction, failureKind } from './failures.js';
export type { FailureAction } from './failures.js';
export { resolveConfig } from './config.js';
export { PoolServer, reasonFor } from './server.js';
