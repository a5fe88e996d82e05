// Public API of @avscan/scanner: the scan engine, the clamd-protocol server and its command parser (the
// filer's front door serves the same protocol), errors. The signature parser and the automaton are in
// ./internal.ts (`@avscan/scanner/internal`, for tests and benchmarks).
export { ScanEngine, defaultSignaturesPath, type ScanEngineOptions } from './engine.js';
export { startScannerServer, type ScannerServer, type ScannerServerOptions, type ScannerServerStats, type FaultOptions } from './server.js';
export { ScannerError, ScanAbortedError, ScannerErrorCodes, type ScannerErrorCode } from './errors.js';
export { SignatureMatcher } from './matcher.js';
export { CommandParser, kCommands, type CommandName, type ProtocolEvent, type Terminator } from './protocol.js';
export { EICAR } from './eicar.js';
export type { ScanResult } from './types.js';
