// The clamd wire protocol, as pure functions (no sockets) so property tests can hammer them.
// Replies to z-commands end in `\0`; clamd's read-timeout message ends in `\n` even then, so both
// terminators are accepted. Verified reply shapes are in REAL-SCANNERS.md §1.6–1.7.
import type { ScannerVerdict } from './client.js';
import { DispatchError, DispatchErrorCodes, quote } from './errors.js';

export type ClamdVerdict =
  | { readonly kind: 'clean' }
  | { readonly kind: 'infected'; readonly threats: readonly string[] }
  | { readonly kind: 'too-large'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export interface ClamdVersion {
  readonly vendor: string;
  readonly version: string;
  /** Signature database version (`27000`; other clamd-protocol servers send any token), `null` when clamd runs without a .cvd (our hand-written DBs). */
  readonly dbVersion: string | null;
  /** Signature database date in epoch ms, `null` when absent. */
  readonly dbTime: number | null;
  /** Opaque signature stamp: `ClamAV 1.4.6/27000` or, without a DB version, `ClamAV 1.4.6`. */
  readonly stamp: string;
}

const kMaxReply = 64 * 1024;
const kSuffix = '.UNOFFICIAL';

export const kInstreamCommand = Buffer.from('zINSTREAM\0');
export const kPingCommand = Buffer.from('zPING\0');
export const kVersionCommand = Buffer.from('zVERSION\0');
export const kIdSessionCommand = Buffer.from('zIDSESSION\0');
export const kEndCommand = Buffer.from('zEND\0');
/** The zero-length chunk that ends an INSTREAM. */
export const kInstreamEnd = Buffer.alloc(4);

function protocolError(message: string): DispatchError {
  return new DispatchError(DispatchErrorCodes.PROTOCOL, message);
}

/**
 * Whether clamd can be given `path` in a zSCAN: absolute (clamd resolves a relative path against ITS
 * working directory, not ours) and free of the NUL that ends the command and of newlines (clamd's
 * reply lines would split).
 */
export function pathSendable(path: string): boolean {
  return path.startsWith('/') && !path.includes('\0') && !path.includes('\n');
}

/** `zSCAN <path>\0`; refuses paths clamd could not receive intact. */
export function scanCommand(path: string): Buffer {
  if (path.length === 0 || path.includes('\0') || path.includes('\n')) {
    throw new DispatchError(DispatchErrorCodes.INVALID_REQUEST, `path ${quote(path)} cannot be sent to clamd`);
  }
  return Buffer.from(`zSCAN ${path}\0`);
}

/** The 4-byte big-endian length header of one INSTREAM chunk. */
export function chunkHeader(length: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(length, 0);
  return b;
}

/** Drops clamd's `.UNOFFICIAL` suffix (added to every name from an unsigned database). */
export function stripUnofficial(name: string): string {
  return name.endsWith(kSuffix) ? name.slice(0, -kSuffix.length) : name;
}

/**
 * Index just past the first reply terminator (`\0`, or `\n` for clamd's timeout message) in `buf`,
 * or -1 while the reply is incomplete.
 */
export function replyEnd(buf: Uint8Array, from = 0): number {
  for (let i = from; i < buf.length; i++) if (buf[i] === 0 || buf[i] === 10) return i + 1;
  return -1;
}

/**
 * Parses one reply body (terminator already removed, or present and stripped here) to a verdict.
 * `subject` is what the reply is about: `stream` for INSTREAM, the path for SCAN. Lines after the first
 * (ALLMATCHSCAN) each name one more threat. Throws `ERR_DISPATCH_PROTOCOL` on anything else.
 */
export function parseClamdReply(reply: string, subject = 'stream'): ClamdVerdict {
  // The common answer, one clean line (what an IDSESSION body always is): no split, no regex, no
  // allocation. `: OK` at the end rules out every other one-line shape parseLine knows.
  if (reply.endsWith(': OK') && reply.length <= kMaxReply && !reply.includes('\n') && !reply.includes('\0')) return kClean;
  let text = reply;
  while (text.endsWith('\0') || text.endsWith('\n')) text = text.slice(0, -1);
  if (text.length === 0) throw protocolError('empty reply from clamd');
  if (text.length > kMaxReply) throw protocolError(`clamd reply longer than ${kMaxReply} bytes`);
  const lines = text.split(/\0|\n/);
  const threats: string[] = [];
  let clean = false;
  for (const line of lines) {
    if (line.length === 0) continue;
    const v = parseLine(line, subject);
    if (v.kind === 'infected') threats.push(...v.threats);
    else if (v.kind === 'clean') clean = true;
    else return v;
  }
  if (threats.length > 0) return { kind: 'infected', threats };
  if (clean) return { kind: 'clean' };
  throw protocolError(`unrecognised clamd reply ${quote(text)}`);
}

/** Shared: the clean verdict carries nothing, and nobody mutates a verdict. */
const kClean: ClamdVerdict = Object.freeze({ kind: 'clean' });

function parseLine(line: string, subject: string): ClamdVerdict {
  if (line.endsWith(' ERROR')) {
    const message = line.slice(0, -' ERROR'.length);
    if (/size limit exceeded/i.test(message)) return { kind: 'too-large', message };
    const prefix = `${subject}: `;
    return { kind: 'error', message: message.startsWith(prefix) ? message.slice(prefix.length) : message };
  }
  if (line === 'COMMAND READ TIMED OUT') return { kind: 'error', message: 'clamd command read timed out' };
  if (line === 'UNKNOWN COMMAND') throw protocolError('clamd answered `UNKNOWN COMMAND`');
  // `<subject>: OK` — the subject (a path) may itself contain `: `, so anchor at the end.
  if (line.endsWith(': OK')) return kClean;
  // zSCAN of a path matching clamd's ExcludePath: not scanned at all (clamd keeps the session).
  if (line.endsWith(': Excluded')) return { kind: 'error', message: 'Excluded' };
  if (line.endsWith(' FOUND')) {
    const body = line.slice(0, -' FOUND'.length);
    const at = body.lastIndexOf(': ');
    const name = at === -1 ? '' : body.slice(at + 2);
    if (name.length === 0 || /\s/.test(name)) throw protocolError(`malformed clamd FOUND reply ${quote(line)}`);
    // Limits exceeded with AlertExceedsMax: clamd did not really scan the object.
    if (name.startsWith('Heuristics.Limits.Exceeded')) return { kind: 'too-large', message: stripUnofficial(name) };
    return { kind: 'infected', threats: [stripUnofficial(name)] };
  }
  throw protocolError(`unrecognised clamd reply ${quote(line)}`);
}

/**
 * clamd's answers to a zSCAN when IT cannot read the path (REAL-SCANNERS, and verified with clamd
 * 1.4.6 running as `User nobody`): `Access denied.`, `File path check failure: Permission denied.`
 * (a directory on the way it cannot enter), `lstat() failed`, `Can't open file`, symbolic links it
 * will not follow, `No such file` (the path is not visible from clamd's mount namespace), and
 * `Excluded` (the path matches clamd's ExcludePath, which does not apply to streams). The node may
 * still read such a file, so the request falls back to INSTREAM. NOT a refusal: `Not supported file
 * type` (a FIFO, socket or device) — streaming it would not work either (opening a FIFO blocks).
 */
const kPathRefusalRe = /^(?:Access denied|File path check failure|lstat\(\) failed|Can't open|Symbolic link|Excluded$)/i;

/** Whether a zSCAN error verdict says clamd could not read the path (so INSTREAM may still work). */
export function pathRefused(v: ClamdVerdict): boolean {
  return v.kind === 'error' && kPathRefusalRe.test(v.message);
}

/** Splits an IDSESSION reply `<id>: <body>` (1-based request number). */
export function parseSessionReply(reply: string): { id: number; body: string } {
  let end = reply.length;
  for (let c = reply.charCodeAt(end - 1); c === 0 || c === 10; c = reply.charCodeAt(end - 1)) end--;
  const at = sessionBodyStart(reply, end);
  if (at === -1) throw protocolError(`clamd session reply without a request id ${quote(reply.slice(0, end))}`);
  return { id: sessionId(reply, at - 2), body: reply.slice(at, end) };
}

/**
 * Where the body of `<id>: <body>` starts in `text` (before `end`), or -1 when it has no 1–9 digit id
 * followed by `: `. Character codes, not a regex: this runs once per scanned file.
 */
export function sessionBodyStart(text: string, end: number): number {
  let i = 0;
  while (i < end && i < 10) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === 0 || i > 9 || i + 2 > end || text.charCodeAt(i) !== 58 || text.charCodeAt(i + 1) !== 32) return -1;
  return i + 2;
}

/** The decimal id in `text[0, digits)` (already checked by sessionBodyStart). */
function sessionId(text: string, digits: number): number {
  let id = 0;
  for (let i = 0; i < digits; i++) id = id * 10 + text.charCodeAt(i) - 48;
  return id;
}

/** Expects `PONG`. */
export function parsePing(reply: string): void {
  const text = reply.replace(/[\0\n]+$/, '');
  if (text !== 'PONG') throw protocolError(`expected PONG from clamd, got ${quote(text)}`);
}

/** Parses `ClamAV 1.4.6/27000/Mon Jan  1 10:00:00 2024`, or just `ClamAV 1.4.6` without a .cvd. */
export function parseVersion(reply: string): ClamdVersion {
  const text = reply.replace(/[\0\n]+$/, '');
  const m = /^(\S+) ([0-9][0-9A-Za-z.+~_-]*)(?:\/([0-9A-Za-z._+~-]{1,64})(?:\/(.+))?)?$/.exec(text);
  if (!m) throw protocolError(`unrecognised clamd VERSION reply ${quote(text)}`);
  const vendor = m[1]!;
  const version = m[2]!;
  const dbVersion = m[3] ?? null;
  let dbTime: number | null = null;
  if (m[4] !== undefined) {
    // clamd prints ctime(3) in local time without a zone; parse as UTC for a stable, comparable stamp.
    const t = Date.parse(`${m[4].replace(/\s+/g, ' ').trim()} UTC`);
    dbTime = Number.isFinite(t) ? t : null;
  }
  const stamp = dbVersion === null ? `${vendor} ${version}` : `${vendor} ${version}/${dbVersion}`;
  return { vendor, version, dbVersion, dbTime, stamp };
}

/** Turns a parsed clamd reply into a verdict or a coded error. */
export function clamdVerdict(v: ClamdVerdict, target: string): ScannerVerdict {
  switch (v.kind) {
    case 'clean':
    case 'infected':
      return v;
    case 'too-large':
      throw new DispatchError(DispatchErrorCodes.TOO_LARGE, `object too large for scanner ${target}: ${v.message}`, { target });
    case 'error':
      throw new DispatchError(DispatchErrorCodes.SCANNER_ERROR, `scanner ${target} reported an error: ${v.message}`, { target });
  }
}
