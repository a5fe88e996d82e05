// Public API of @avscan/scanner: the scan engine, the clamd-protocol server, errors. Parsers and the
// automaton are in ./internal.ts (`@avscan/scanner/internal`, for tests and benchmarks).
export { ScanEngine, defaultSignaturesPath, type ScanEngineOptions } from './engine.js';
export { startScannerServer, type ScannerServer, type ScannerServerOptions, type ScannerServerStats, type FaultOptions } from './server.js';
export { ScannerError, ScanAbortedError, ScannerErrorCodes, type ScannerErrorCode } from './errors.js';
export { SignatureMatcher } from './matcher.js';
export type { CommandName } from './protocol.js';
export { EICAR } from './eicar.js';
export type { ScanResult } from './types.js';
