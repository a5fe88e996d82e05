// `@avscan/scanner/internal`: what the tests and benchmarks reach into, kept off the public surface (an
// embedder scans with ScanEngine and serves with startScannerServer; it never parses the protocol or
// signature files itself): the clamd protocol parser, the signature file parser and the automaton.
export { CommandParser, kCommands, kMaxCommandLength, type CommandName, type ProtocolEvent, type Terminator } from './protocol.js';
export { parseSignatures, type Signature, type SignatureDatabase } from './signatures.js';
export { compileAutomaton, createCursor, feed, threatNames, type CompiledAutomaton } from './automaton.js';
