// The common case without the parser: vfs_virusfilter (and clamdscan) write one `zSCAN <path>\0` on a
// fresh connection, and it arrives as the connection's first chunk. Such a chunk is read here with one
// scan for its terminator and one string decode; anything else — a split command, several commands,
// any other command, an empty path, a line longer than PATH_MAX — goes to the scanner package's
// CommandParser, which stays the one definition of the protocol (test/frontdoor/quick.test.ts checks
// that both read every chunk the same way).
import type { Terminator } from '@avscan/scanner';

/** Longer lines go to the parser (its own limit, 8192, is higher: nothing it would refuse is taken here). */
const kMaxQuickLength = 4096;
const kZ = 0x7a;
const kN = 0x6e;
const kNul = 0x00;
const kLf = 0x0a;
const kCr = 0x0d;
const kSpace = 0x20;

export interface QuickScan {
  readonly path: string;
  readonly term: Terminator;
}

/**
 * The SCAN a chunk holds when the chunk is exactly one `zSCAN <path>\0`, `nSCAN <path>\n` or
 * `SCAN <path>\n` (CR before LF dropped, as the parser does), or `undefined` for the parser to read.
 */
export function quickScan(chunk: Buffer): QuickScan | undefined {
  const n = chunk.length;
  if (n < 7 || n > kMaxQuickLength) return undefined;
  const nul = chunk[0] === kZ;
  const term = nul ? kNul : kLf;
  // The terminator must be the last byte and the only one: a second command is the parser's.
  if (chunk[n - 1] !== term || chunk.indexOf(term) !== n - 1) return undefined;
  const at = nul || chunk[0] === kN ? 1 : 0;
  // "SCAN "
  if (chunk[at] !== 0x53 || chunk[at + 1] !== 0x43 || chunk[at + 2] !== 0x41 || chunk[at + 3] !== 0x4e || chunk[at + 4] !== kSpace) return undefined;
  const end = !nul && chunk[n - 2] === kCr ? n - 2 : n - 1;
  if (end <= at + 5) return undefined; // no path: the parser's error
  return { path: chunk.toString('utf8', at + 5, end), term: nul ? '\0' : '\n' };
}
