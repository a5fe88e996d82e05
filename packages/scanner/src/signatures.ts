// Parser for the avscan signature database format (documented in the README):
//
//   # comment lines and blank lines are ignored
//   AVSCAN-SIGS/1 version=<token> timestamp=<ISO-8601>      ← header, first non-comment line
//   <name>:<hexpattern>[:<offset>]                            ← one signature per line
//
// <name> is [A-Za-z0-9._-]+, <hexpattern> an even number of hex digits (kMinPatternBytes..kMaxPatternBytes
// bytes), <offset> a decimal byte offset where the pattern must start, or `*` (anywhere, the default).
// Parsing never partially succeeds: the first bad line throws ERR_SCANNER_SIGNATURES_MALFORMED naming it.
import { ScannerError, ScannerErrorCodes } from './errors.js';

export const kMinPatternBytes = 4;
export const kMaxPatternBytes = 1024;
const kMaxSignatures = 100_000;
const kNameRe = /^[A-Za-z0-9._-]{1,128}$/;
const kHexRe = /^(?:[0-9a-fA-F]{2})+$/;
const kHeaderRe = /^AVSCAN-SIGS\/1 version=([A-Za-z0-9._-]{1,64}) timestamp=(\S+)$/;

export interface Signature {
  readonly name: string;
  readonly pattern: Uint8Array;
  /** Absolute byte offset where the pattern must start; -1 means anywhere. */
  readonly offset: number;
}

export interface SignatureDatabase {
  readonly version: string;
  /** ms since the epoch. */
  readonly timestamp: number;
  readonly signatures: readonly Signature[];
}

function malformed(line: number, what: string): ScannerError {
  return new ScannerError(ScannerErrorCodes.ERR_SCANNER_SIGNATURES_MALFORMED, `signature database line ${line}: ${what}`);
}

export function parseSignatures(text: string): SignatureDatabase {
  const lines = text.split(/\r?\n/);
  let version: string | undefined;
  let timestamp = 0;
  const signatures: Signature[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (version === undefined) {
      const h = kHeaderRe.exec(line);
      if (!h) throw malformed(lineNo, `expected header \`AVSCAN-SIGS/1 version=<v> timestamp=<iso>\`, got \`${line.slice(0, 80)}\``);
      const ts = Date.parse(h[2]!);
      if (!Number.isFinite(ts)) throw malformed(lineNo, `invalid timestamp \`${h[2]!}\``);
      version = h[1]!;
      timestamp = ts;
      continue;
    }
    const parts = line.split(':');
    if (parts.length < 2 || parts.length > 3) throw malformed(lineNo, `expected \`name:hexpattern[:offset]\`, got \`${line.slice(0, 80)}\``);
    const [name, hex, off] = parts as [string, string, string | undefined];
    if (!kNameRe.test(name)) throw malformed(lineNo, `invalid signature name \`${name.slice(0, 80)}\``);
    if (!kHexRe.test(hex)) throw malformed(lineNo, `pattern of \`${name}\` is not an even-length hex string`);
    const bytes = hex.length / 2;
    if (bytes < kMinPatternBytes || bytes > kMaxPatternBytes) {
      throw malformed(lineNo, `pattern of \`${name}\` has ${bytes} bytes, allowed ${kMinPatternBytes}..${kMaxPatternBytes}`);
    }
    let offset = -1;
    if (off !== undefined && off !== '*') {
      if (!/^\d{1,15}$/.test(off)) throw malformed(lineNo, `invalid offset \`${off.slice(0, 40)}\` for \`${name}\``);
      offset = Number(off);
    }
    if (signatures.length >= kMaxSignatures) throw malformed(lineNo, `more than ${kMaxSignatures} signatures`);
    signatures.push({ name, pattern: Uint8Array.from(Buffer.from(hex, 'hex')), offset });
  }
  if (version === undefined) throw malformed(lines.length, 'missing header line');
  return { version, timestamp, signatures };
}
