// Test support shared by every suite: real scanner launchers and binary checks.
// The clamd launcher lives in bench/lib/clamd.ts so benchmarks (compiled with tsc -b) use the same one.
export { clamdAvailable, clamdCommand, freePort, kEicar, kLogicalParts, kMarker, signatureFiles, startClamd } from '../../bench/lib/clamd.js';
export type { ClamdHandle, ClamdOptions } from '../../bench/lib/clamd.js';
export { startCicap } from './cicap.js';
export type { CicapHandle } from './cicap.js';
export { binaryPath, requireBinary } from './binaries.js';
export { sambaAvailable, startSmbd } from '../../bench/lib/samba.js';
export type { SmbclientResult, SmbdHandle, SmbShare, VirusfilterShare } from '../../bench/lib/samba.js';
