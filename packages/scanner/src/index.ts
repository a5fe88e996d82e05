export { ScanEngine, defaultSignaturesPath, type ScanEngineOptions } from './engine.js';
export { startScannerServer, type ScannerServer, type ScannerServerOptions, type ScannerServerStats, type FaultOptions } from './server.js';
export { ScannerError, ScanAbortedError, ScannerErrorCodes, type ScannerErrorCode } from './errors.js';
export { SignatureMatcher } from './matcher.js';
export { parseSignatures, type Signature, type SignatureDatabase } from './signatures.js';
export { CommandParser, kCommands, type CommandName, type ProtocolEvent, type Terminator } from './protocol.js';
export { EICAR } from './eicar.js';
export type { ScanResult } from './types.js';
