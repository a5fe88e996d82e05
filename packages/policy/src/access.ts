// Turning an access path into normalised components without allocating on the common path.
import { PolicyError, PolicyErrorCodes, show, typeName } from './errors.js';
import type { Access } from './decision.js';
import { normalizeComponents } from './normalize.js';

/**
 * Component offsets of the path being decided: component k is s[starts[k], ends[k]).
 * Invariant: valid for the `count` components of the last successful normalizeAccessPath call only;
 * decide() is synchronous and never re-entered, so one buffer per process is enough.
 */
export let starts = new Int32Array(64);
export let ends = new Int32Array(64);
export let count = 0;

function grow(n: number): void {
  if (starts.length >= n) return;
  let size = starts.length;
  while (size < n) size *= 2;
  const s = new Int32Array(size);
  const e = new Int32Array(size);
  s.set(starts);
  e.set(ends);
  starts = s;
  ends = e;
}

const kNeedsSlowPath = -2;
const kInvalid = -1;
let sawUpper = false;

/**
 * Fast path: an ASCII path with no NUL, no `:` and no component ending in `.` or space (so no `.`,
 * `..`, streams or trailing dots) is already normalised up to lower-casing; record its component
 * offsets in one pass. Returns the component count, kInvalid, or kNeedsSlowPath.
 */
function scanSimple(p: string): number {
  let n = 0;
  let start = -1;
  let upper = false;
  const len = p.length;
  for (let i = 0; i < len; i++) {
    const c = p.charCodeAt(i);
    if (c === 0x5c || c === 0x2f) {
      if (start >= 0) {
        const last = p.charCodeAt(i - 1);
        if (last === 0x2e || last === 0x20) return kNeedsSlowPath;
        if (n === starts.length) grow(n + 1);
        starts[n] = start;
        ends[n++] = i;
        start = -1;
      }
      continue;
    }
    if (c >= 0x80 || c === 0x3a) return kNeedsSlowPath; // Unicode needs NFC; `:` may be a stream
    if (c === 0) return kInvalid;
    if (c >= 0x41 && c <= 0x5a) upper = true;
    if (start < 0) start = i;
  }
  if (start >= 0) {
    const last = p.charCodeAt(len - 1);
    if (last === 0x2e || last === 0x20) return kNeedsSlowPath;
    if (n === starts.length) grow(n + 1);
    starts[n] = start;
    ends[n++] = len;
  }
  sawUpper = upper;
  return n === 0 ? kInvalid : n;
}

/**
 * Normalises an access path (SPEC §3 steps 1–6) into a lower-case string whose components are
 * recorded in starts/ends/count, or returns null for an invalid path.
 */
export function normalizeAccessPath(path: string): string | null {
  const n = scanSimple(path);
  if (n > 0) {
    count = n;
    // ASCII lower-casing keeps every offset.
    return sawUpper ? path.toLowerCase() : path;
  }
  if (n === kInvalid) return null;
  const comps = normalizeComponents(path, true);
  if (comps === null) return null;
  grow(comps.length);
  let pos = 0;
  for (let k = 0; k < comps.length; k++) {
    starts[k] = pos + 1;
    pos += 1 + comps[k]!.length;
    ends[k] = pos;
  }
  count = comps.length;
  return `/${comps.join('/')}`;
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
