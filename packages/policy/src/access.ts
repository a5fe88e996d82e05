// Turning an access path into normalised components without allocating on the common path.
import { PolicyError, PolicyErrorCodes, show, typeName } from './errors.js';
import type { Access } from './decision.js';
import { scanName } from './extension.js';
import { normalizeComponents } from './normalize.js';

/**
 * Per-access scratch state. Invariant: describes the string returned by the last successful
 * normalizeAccessPath call only; decide() is synchronous and never re-entered, so one per process
 * is enough. `lastStart`/`lastEnd` always bound the last component. starts/ends/count hold every
 * component's offsets only once `complete` is true (see ensureOffsets): the fast path skips them,
 * because most walks stop after one or two components.
 */
export const scratch = {
  starts: new Int32Array(64),
  ends: new Int32Array(64),
  count: 0,
  complete: false,
  lastStart: 0,
  lastEnd: 0,
  /** The string is the raw access path (fast path), not the general normaliser's lower-case output. */
  raw: false,
};

function grow(n: number): void {
  if (scratch.starts.length >= n) return;
  let size = scratch.starts.length;
  while (size < n) size *= 2;
  scratch.starts = new Int32Array(size);
  scratch.ends = new Int32Array(size);
}

/**
 * Paths that need the general normaliser whatever the policy reads of them: NUL (invalid), or a
 * component ending in `.` or space (`.`, `..`, trailing dots and spaces change which components the
 * path has). Compiled once; one native scan per access. The `[. ]` alternatives come first: irregexp
 * then scans for their lead characters, which most paths hold once.
 *
 * Non-ASCII (NFC, Unicode case) and `:` (streams) are not looked for here: they only matter in a
 * component the decider reads, and each reader checks the characters it reads (the last component in
 * normalizeAccessPath, the trie walk in PathMatcher.match, every component before a glob is tried:
 * ensureOffsets).
 * A whole-path class scan cost as much as the rest of the fast path (~70 ns for 55 characters).
 */
const kNeedsGeneralPath = /[. ][\\/]|[. ]$|\0/;

export function isSeparator(c: number): boolean {
  return c === 0x5c || c === 0x2f;
}

/**
 * Normalises an access path (SPEC §3 steps 1–6) into a string whose components are separated by `\`
 * or `/` runs, or returns null for an invalid path. Sets scratch.lastStart/lastEnd and scratch.raw, and
 * has scanName record the last `maxDots` dots of the file name (dotsFound, dotAt).
 *
 * Fast path (`general` false, scratch.raw true): the path itself, when it has no NUL, no component
 * ending in `.` or space, and a last component of ASCII without `:` (checked by scanName). Its other
 * components may still hold A–Z and any non-ASCII character: consumers fold A–Z as they compare
 * (equalsFoldedUnits, fold) and must hand the path back (kNeedsGeneral) when a character they read is
 * not ASCII. The general path (`general` true, or any of the above) returns lower-case NFC text
 * (scratch.raw false).
 */
export function normalizeAccessPath(path: string, general: boolean, maxDots: number): string | null {
  if (!general && !kNeedsGeneralPath.test(path)) {
    let end = path.length;
    while (end > 0 && isSeparator(path.charCodeAt(end - 1))) end--;
    if (end === 0) return null;
    const start = scanName(path, end, maxDots, true);
    if (start < 0) return normalizeAccessPath(path, true, maxDots);
    scratch.lastStart = start;
    scratch.lastEnd = end;
    scratch.complete = false;
    scratch.raw = true;
    // Not lower-cased: the matchers fold A–Z as they compare (a copy costs more than the folding).
    return path;
  }
  const comps = normalizeComponents(path, true);
  if (comps === null) return null;
  grow(comps.length);
  let pos = 0;
  for (let k = 0; k < comps.length; k++) {
    scratch.starts[k] = pos + 1;
    pos += 1 + comps[k]!.length;
    scratch.ends[k] = pos;
  }
  scratch.count = comps.length;
  scratch.complete = true;
  scratch.raw = false;
  scratch.lastStart = scratch.starts[comps.length - 1]!;
  scratch.lastEnd = pos;
  const s = `/${comps.join('/')}`;
  scanName(s, pos, maxDots, false);
  return s;
}

/**
 * Fills starts/ends/count for `s` (the last normalised path) if the fast path skipped them. Returns
 * false, leaving them incomplete, when `s` is a raw path holding a character outside ASCII (the
 * caller then needs the general normaliser): one pass both finds the components and checks them.
 */
export function ensureOffsets(s: string): boolean {
  if (scratch.complete) return true;
  let starts = scratch.starts;
  let ends = scratch.ends;
  const len = s.length;
  let n = 0;
  let i = 0;
  while (i < len) {
    let c = s.charCodeAt(i);
    if (c === 0x5c || c === 0x2f) {
      i++;
      continue;
    }
    if (n === starts.length) {
      grow(n + 1);
      scratch.starts.set(starts);
      scratch.ends.set(ends);
      starts = scratch.starts;
      ends = scratch.ends;
    }
    starts[n] = i;
    for (;;) {
      if (c > 0x7f) return false;
      if (++i === len) break;
      c = s.charCodeAt(i);
      if (c === 0x5c || c === 0x2f) break;
    }
    ends[n++] = i;
  }
  scratch.count = n;
  scratch.complete = true;
  return true;
}

/** Caller bugs are errors; path content never is. */
export function checkAccess(access: Access): void {
  if (typeof access !== 'object' || access === null) {
    throw new PolicyError(PolicyErrorCodes.BAD_ACCESS, `access must be an object, got ${typeName(access)}`, 'access');
  }
  if (typeof access.path !== 'string') {
    throw new PolicyError(PolicyErrorCodes.BAD_ACCESS, `\`access.path\` must be a string, got ${typeName(access.path)} ${show(access.path)}`, 'access.path');
  }
  const size = access.size;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new PolicyError(PolicyErrorCodes.BAD_ACCESS, `\`access.size\` must be a non-negative safe integer, got ${show(size)}`, 'access.size');
  }
  const { execute, readonlyVolume } = access;
  if (execute !== undefined && typeof execute !== 'boolean') {
    throw new PolicyError(PolicyErrorCodes.BAD_ACCESS, `\`access.execute\` must be a boolean, got ${show(execute)}`, 'access.execute');
  }
  if (readonlyVolume !== undefined && typeof readonlyVolume !== 'boolean') {
    throw new PolicyError(PolicyErrorCodes.BAD_ACCESS, `\`access.readonlyVolume\` must be a boolean, got ${show(readonlyVolume)}`, 'access.readonlyVolume');
  }
}
