// Aho–Corasick multi-pattern matcher compiled once into a dense DFA over bytes.
//
// Layout (all typed arrays live in SharedArrayBuffers, so every worker thread reads the same memory
// and nothing is recompiled per thread):
//   delta[s + b]   next state for state s on byte b. States are stored PRE-MULTIPLIED by 256, so the hot
//                  loop is one load per byte: `s = delta[s + b]`. Invariant: delta is total (every entry is
//                  a valid pre-multiplied state), i.e. goto transitions already completed by failure links.
//   outputBase     states are renumbered so that every state with at least one output (a pattern, or a
//                  pattern reachable by its suffix chain, ends here) has id*256 >= outputBase and every
//                  other state is below it. Invariant: `s >= outputBase` ⇔ some pattern ends at this byte.
//                  The root (state 0) never has an output because patterns have ≥ 4 bytes.
//   outStart/outIds  outputs of state id i are outIds[outStart[i] .. outStart[i+1]), already closed under
//                  the dictionary-suffix chain, so reporting needs no link walking.
//   patLen/patOffset per signature: length, and required absolute start offset (-1 = anywhere).
//
// Streaming: a ScanCursor carries the DFA state and the absolute position across chunks; because the
// DFA state encodes the longest pattern prefix ending at the previous byte, matches that straddle chunk
// boundaries are found exactly as in one pass over the concatenation.
import { ScannerError, ScannerErrorCodes } from './errors.js';
import type { Signature } from './signatures.js';

/** Upper bound on automaton states (delta costs 1 KiB per state). */
export const kMaxStates = 1 << 17;

export interface CompiledAutomaton {
  readonly stateCount: number;
  readonly outputBase: number;
  /** Longest pattern, bytes (bounds the look-behind a state depends on). */
  readonly maxLength: number;
  readonly delta: Int32Array;
  readonly outStart: Int32Array;
  readonly outIds: Int32Array;
  readonly patLen: Int32Array;
  readonly patOffset: Float64Array;
  readonly names: readonly string[];
}

function shared<T extends Int32Array | Float64Array>(Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new Ctor(new SharedArrayBuffer(Math.max(1, n) * Ctor.BYTES_PER_ELEMENT));
}

export function compileAutomaton(signatures: readonly Signature[]): CompiledAutomaton {
  let bound = 1;
  for (const s of signatures) bound += s.pattern.length;
  if (bound > kMaxStates) {
    // Exact count could be lower thanks to shared prefixes; count it before giving up.
    bound = countTrieStates(signatures);
    if (bound > kMaxStates) {
      throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_SIGNATURES_TOO_LARGE, `signature trie needs ${bound} states, the cap is ${kMaxStates}`);
    }
  }
  // Phase 1: trie. goto[s*256+b] = child id or -1 while building.
  const go = new Int32Array(bound * 256).fill(-1);
  const own: number[][] = [[]];
  let n = 1;
  signatures.forEach((sig, id) => {
    let s = 0;
    for (const b of sig.pattern) {
      let t = go[s * 256 + b]!;
      if (t < 0) {
        t = n++;
        go[s * 256 + b] = t;
        own.push([]);
      }
      s = t;
    }
    own[s]!.push(id);
  });
  // Phase 2: BFS computes failure links, completes delta and closes outputs over suffix links.
  // Invariant: when a state is dequeued, its failure state (strictly shallower) is already complete.
  const fail = new Int32Array(n);
  const outs: number[][] = own;
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let b = 0; b < 256; b++) {
    const t = go[b]!;
    if (t < 0) go[b] = 0;
    else {
      fail[t] = 0;
      order[tail++] = t;
    }
  }
  while (head < tail) {
    const s = order[head++]!;
    const f = fail[s]!;
    if (outs[f]!.length > 0) outs[s] = outs[s]!.concat(outs[f]!);
    for (let b = 0; b < 256; b++) {
      const t = go[s * 256 + b]!;
      if (t < 0) go[s * 256 + b] = go[f * 256 + b]!;
      else {
        fail[t] = go[f * 256 + b]!;
        order[tail++] = t;
      }
    }
  }
  // Phase 3: renumber so output states come last, then emit the shared, pre-multiplied tables.
  const newId = new Int32Array(n);
  let next = 0;
  for (let s = 0; s < n; s++) if (outs[s]!.length === 0) newId[s] = next++;
  const firstOutput = next;
  for (let s = 0; s < n; s++) if (outs[s]!.length > 0) newId[s] = next++;
  const delta = shared(Int32Array, n * 256);
  const outStart = shared(Int32Array, n + 1);
  let outTotal = 0;
  for (let s = 0; s < n; s++) outTotal += outs[s]!.length;
  const outIds = shared(Int32Array, outTotal);
  const byNew: number[][] = new Array<number[]>(n);
  for (let s = 0; s < n; s++) {
    const ns = newId[s]!;
    byNew[ns] = outs[s]!;
    for (let b = 0; b < 256; b++) delta[ns * 256 + b] = newId[go[s * 256 + b]!]! * 256;
  }
  let k = 0;
  for (let i = 0; i < n; i++) {
    outStart[i] = k;
    for (const id of byNew[i]!) outIds[k++] = id;
  }
  outStart[n] = k;
  const patLen = shared(Int32Array, signatures.length);
  const patOffset = shared(Float64Array, signatures.length);
  signatures.forEach((sig, id) => {
    patLen[id] = sig.pattern.length;
    patOffset[id] = sig.offset;
  });
  const maxLength = signatures.reduce((m, sig) => Math.max(m, sig.pattern.length), 1);
  return { stateCount: n, outputBase: firstOutput * 256, maxLength, delta, outStart, outIds, patLen, patOffset, names: signatures.map((s) => s.name) };
}

function countTrieStates(signatures: readonly Signature[]): number {
  const seen = new Set<string>();
  for (const s of signatures) {
    const hex = Buffer.from(s.pattern).toString('latin1');
    for (let i = 1; i <= hex.length; i++) seen.add(hex.slice(0, i));
  }
  return seen.size + 1;
}

/** Matching state carried across chunks of one stream. */
export interface ScanCursor {
  /** Pre-multiplied DFA state after the last byte consumed. */
  state: number;
  /** Absolute stream offset of the next byte. */
  position: number;
  /** hit[id] = 1 once signature id matched; avoids duplicate reports. */
  readonly hit: Uint8Array;
  /** Signature ids that matched, with foundAt[k] the absolute end offset of found[k]'s earliest match. */
  readonly found: number[];
  readonly foundAt: number[];
}

export function createCursor(a: CompiledAutomaton): ScanCursor {
  return { state: 0, position: 0, hit: new Uint8Array(a.names.length), found: [], foundAt: [] };
}

// Interleaved lanes. One DFA walk is a chain of dependent loads (`s = delta[s + b]`), so it runs at
// memory latency, not bandwidth. A long chunk is split into kLanes segments walked in the same loop,
// which gives the CPU kLanes independent chains to overlap. Lane k > 0 starts from the root
// (maxLength - 1) bytes before its segment. Invariant: an Aho–Corasick state is the longest suffix of the
// bytes read that is a trie prefix (at most maxLength bytes long), so once a lane has read ≥ maxLength
// bytes its state equals the full-stream walk's state. Hence every match ending inside lane k's segment
// is reported with its true end offset; matches ending in the warm-up zone belong to lane k - 1 (a lane
// never reports a false match, and hit[] drops duplicates). The last lane ends on the true state, which
// the cursor carries to the next chunk.
const kLanes = 4;
const kMinLaneBytes = 2048;

/** Feeds one chunk; matches (including ones straddling earlier chunks) are appended to cursor.found. */
export function feed(a: CompiledAutomaton, cursor: ScanCursor, chunk: Uint8Array): void {
  const len = chunk.length;
  const warm = a.maxLength - 1;
  const segment = Math.floor(len / kLanes);
  if (segment < kMinLaneBytes || segment < 4 * warm) {
    cursor.state = walk(a, cursor, chunk, cursor.state, 0, len);
    cursor.position += len;
    return;
  }
  const delta = a.delta;
  const ob = a.outputBase;
  const base = cursor.position;
  let s0 = cursor.state;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  // Lane k walks [start_k, end_k); lanes 1..3 begin `warm` bytes early.
  const p1 = segment - warm;
  const p2 = 2 * segment - warm;
  const p3 = 3 * segment - warm;
  const steps = segment; // lane 0 has exactly `segment` bytes, the shortest of the four
  for (let i = 0; i < steps; i++) {
    s0 = delta[s0 + chunk[i]!]!;
    s1 = delta[s1 + chunk[p1 + i]!]!;
    s2 = delta[s2 + chunk[p2 + i]!]!;
    s3 = delta[s3 + chunk[p3 + i]!]!;
    if (s0 >= ob || s1 >= ob || s2 >= ob || s3 >= ob) {
      if (s0 >= ob) report(a, cursor, s0 >> 8, base + i);
      if (s1 >= ob) report(a, cursor, s1 >> 8, base + p1 + i);
      if (s2 >= ob) report(a, cursor, s2 >> 8, base + p2 + i);
      if (s3 >= ob) report(a, cursor, s3 >> 8, base + p3 + i);
    }
  }
  // Tails: lanes 1..3 still have their last `warm` bytes (the last lane also the remainder).
  walk(a, cursor, chunk, s1, p1 + steps, 2 * segment);
  walk(a, cursor, chunk, s2, p2 + steps, 3 * segment);
  cursor.state = walk(a, cursor, chunk, s3, p3 + steps, len);
  cursor.position += len;
}

/** Single-chain walk of chunk[from, to) starting in state s; returns the final state. */
function walk(a: CompiledAutomaton, cursor: ScanCursor, chunk: Uint8Array, state: number, from: number, to: number): number {
  const delta = a.delta;
  const ob = a.outputBase;
  const base = cursor.position;
  let s = state;
  for (let i = from; i < to; i++) {
    s = delta[s + chunk[i]!]!;
    if (s >= ob) report(a, cursor, s >> 8, base + i);
  }
  return s;
}

function report(a: CompiledAutomaton, cursor: ScanCursor, stateId: number, endPos: number): void {
  const end = a.outStart[stateId + 1]!;
  for (let k = a.outStart[stateId]!; k < end; k++) {
    const id = a.outIds[k]!;
    const off = a.patOffset[id]!;
    if (off >= 0 && endPos - a.patLen[id]! + 1 !== off) continue;
    if (cursor.hit[id] === 1) {
      // Lanes report out of stream order: keep the earliest end offset so the order is deterministic.
      const j = cursor.found.indexOf(id);
      if (endPos < cursor.foundAt[j]!) cursor.foundAt[j] = endPos;
      continue;
    }
    cursor.hit[id] = 1;
    cursor.found.push(id);
    cursor.foundAt.push(endPos);
  }
}

/** Distinct threat names, ordered by where their first match ends (ties: signature order). */
export function threatNames(a: CompiledAutomaton, cursor: ScanCursor): string[] {
  const order = cursor.found.map((id, k) => k).sort((x, y) => cursor.foundAt[x]! - cursor.foundAt[y]! || cursor.found[x]! - cursor.found[y]!);
  const names: string[] = [];
  for (const k of order) {
    const name = a.names[cursor.found[k]!]!;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
