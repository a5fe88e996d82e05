// Turning an access path into normalised components without allocating on the common path.
import { PolicyError, PolicyErrorCodes, show, typeName } from './errors.js';
import type { Access } from './decision.js';
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
};

function grow(n: number): void {
  if (scratch.starts.length >= n) return;
  let size = scratch.starts.length;
  while (size < n) size *= 2;
  scratch.starts = new Int32Array(size);
  scratch.ends = new Int32Array(size);
}

/**
 * Paths that need the general normaliser: NUL, non-ASCII (NFC, Unicode case), `:` (streams), or a
 * component ending in `.` or space (`.`, `..`, trailing dots and spaces). Everything else is
 * already normalised up to ASCII lower-casing and dropping empty components.
 * Compiled once; one native scan per access. The `[. ]` alternatives come first: irregexp then scans
 * for their lead characters, which most paths hold once (~12 % less time than the class first).
 */
// eslint-disable-next-line no-control-regex -- NUL (outside \x01-\x7f) is one of the characters it looks for
const kNeedsGeneralPath = /[. ][\\/]|[. ]$|[^\x01-\x39\x3b-\x7f]/;

export function isSeparator(c: number): boolean {
  return c === 0x5c || c === 0x2f;
}

/**
 * Normalises an access path (SPEC §3 steps 1–6) into a string whose components are separated by `\`
 * or `/` runs, or returns null for an invalid path. Sets scratch.lastStart/lastEnd. Fast-path strings
 * are ASCII and may still hold A–Z: every consumer folds them (equalsFolded, fold) or lower-cases a
 * copy when it needs one (globs, wildcard extensions); the general path returns lower-case text.
 */
export function normalizeAccessPath(path: string): string | null {
  if (!kNeedsGeneralPath.test(path)) {
    let end = path.length;
    while (end > 0 && isSeparator(path.charCodeAt(end - 1))) end--;
    if (end === 0) return null;
    let start = end - 1;
    while (start > 0 && !isSeparator(path.charCodeAt(start - 1))) start--;
    scratch.lastStart = start;
    scratch.lastEnd = end;
    scratch.complete = false;
    // Not lower-cased: the matchers fold A–Z as they compare (a copy costs more than the folding),
    // and ASCII lower-casing would keep every offset anyway.
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
  scratch.lastStart = scratch.starts[comps.length - 1]!;
  scratch.lastEnd = pos;
  return `/${comps.join('/')}`;
}

/** Fills starts/ends/count for `s` (the last normalised path) if the fast path skipped them. */
export function ensureOffsets(s: string): void {
  if (scratch.complete) return;
  let n = 0;
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const sep = i === s.length || isSeparator(s.charCodeAt(i));
    if (!sep) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    if (n === scratch.starts.length) {
      const starts = scratch.starts;
      const ends = scratch.ends;
      grow(n + 1);
      scratch.starts.set(starts);
      scratch.ends.set(ends);
    }
    scratch.starts[n] = start;
    scratch.ends[n++] = i;
    start = -1;
  }
  scratch.count = n;
  scratch.complete = true;
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
