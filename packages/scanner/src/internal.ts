// `@avscan/scanner/internal`: what the tests and benchmarks reach into, kept off the public surface (an
// embedder scans with ScanEngine and serves with startScannerServer or its own front door built on the
// public CommandParser; it never parses signature files or walks the automaton itself): the signature
// file parser, the automaton, and the parser's command-length limit.
export { kMaxCommandLength } from './protocol.js';
export { parseSignatures, type Signature, type SignatureDatabase } from './signatures.js';
export { compileAutomaton, createCursor, feed, threatNames, type CompiledAutomaton } from './automaton.js';
