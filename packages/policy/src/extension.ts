// Extension rules (SPEC §3 "Extensions"): a pattern of n dot-separated parts matches when it equals
// the last n extension parts of the file's last component, part by part, `*`/`?` staying inside a part.
import { kAny, kLit, kStar, matchAtoms, type Atom } from './glob.js';
import { HashTable } from './hash-table.js';
import { equalsFolded, fold, mapKeyHash } from './normalize.js';

/** One compiled extension pattern (already validated, NFC, lower-case). */
export interface ExtensionPattern {
  /** Index in its list: the lowest index wins among equally long matches (reported as `rule`). */
  readonly index: number;
  readonly raw: string;
  /** Normalised text, parts joined with `.`. */
  readonly text: string;
  readonly parts: number;
  /** Per part: atoms when the part has `*`/`?`, else null (literal). */
  readonly partAtoms: readonly (readonly Atom[] | null)[];
  /** Per part: the normalised text. */
  readonly partTexts: readonly string[];
  readonly wild: boolean;
}

/** Atoms for one part; `*`, `?` and literals only (other wildcards are refused at validation). */
function partToAtoms(part: string): Atom[] | null {
  if (!part.includes('*') && !part.includes('?')) return null;
  const atoms: Atom[] = [];
  for (const ch of part) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x2a) {
      if (atoms.at(-1)?.kind !== kStar) atoms.push({ kind: kStar, cp: -1, negated: false, ranges: [] });
    } else if (cp === 0x3f) atoms.push({ kind: kAny, cp: -1, negated: false, ranges: [] });
    else atoms.push({ kind: kLit, cp, negated: false, ranges: [] });
  }
  return atoms;
}

export function compileExtensionPattern(raw: string, normalized: string, index: number): ExtensionPattern {
  const split = normalized.split('.');
  const partAtoms = split.map(partToAtoms);
  return Object.freeze({
    index,
    raw,
    text: normalized,
    parts: split.length,
    partAtoms: Object.freeze(partAtoms),
    partTexts: Object.freeze(split),
    wild: partAtoms.some((a) => a !== null),
  });
}

/**
 * Scratch: positions of the dots of the current last component, nearest the end first
 * (kDots[k] = position of the (k+1)-th dot from the end). Invariant: only entries [0, found) of the
 * current call are meaningful; decide() is synchronous, so one buffer per process is enough.
 */
let kDots = new Int32Array(16);
/** kSuffixHash[k] = backwardHash(s[kDots[k] + 1, end)): the hash of the last k+1 parts, same call. */
let kSuffixHash = new Int32Array(16);

/** Polynomial hash (a table key: see mapKeyHash) over the text read backwards (as scanName reads names). */
export function backwardHash(text: string): number {
  let h = 0;
  for (let i = text.length - 1; i >= 0; i--) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return mapKeyHash(h);
}

/** How many dots the last scanName recorded (kDots/kSuffixHash entries [0, kFound) are its). */
let kFound = 0;

/**
 * Reads the file name s[start, end) backwards from `end` to the separator before it (or the string's
 * start) and returns `start`. On the way it records the positions of the last `max` dots and the
 * suffix hashes after them (kDots, kSuffixHash, kFound; A–Z hashed as a–z, so a raw ASCII name hashes
 * like its lower-cased form). With `raw` (a fast-path access path, see normalizeAccessPath) it
 * returns -1 instead when the name holds a character outside ASCII or a `:` (a stream name): such a
 * name needs the general normaliser. One pass serves both: the name is the part of the path that
 * every decision reads, so it is checked where it is read.
 */
export function scanName(s: string, end: number, max: number, raw: boolean): number {
  if (kDots.length < max) {
    kDots = new Int32Array(max);
    kSuffixHash = new Int32Array(max);
  }
  let found = 0;
  let h = 0;
  let i = end - 1;
  for (; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c === 0x5c || c === 0x2f) break;
    if (raw && (c > 0x7f || c === 0x3a)) return -1;
    if (c === 0x2e && found < max) {
      kDots[found] = i;
      kSuffixHash[found++] = mapKeyHash(h);
    }
    h = (Math.imul(h, 31) + fold(c)) | 0;
  }
  kFound = found;
  return i + 1;
}

/** Dots recorded by the last scanName (at most its `max`). */
export function dotsFound(): number {
  return kFound;
}

/** Position of the (k+1)-th dot from the end, after scanName. */
export function dotAt(k: number): number {
  return kDots[k]!;
}

/**
 * One extension list compiled for "longest match" queries.
 * Invariants: `literal[n]` maps the joined text of every literal n-part pattern to its lowest-index
 * pattern; `wild[n]` holds the wildcard n-part patterns in list order; `maxParts` is the largest n present.
 */
export class ExtensionList {
  readonly maxParts: number;
  readonly size: number;
  /** A 1-part `*` is present: every file with an extension matches at length ≥ 1. */
  readonly matchesAnyOne: ExtensionPattern | null;
  /** literal[n]: backwardHash(text) → the n-part literal patterns with that hash, in index order, distinct texts. */
  readonly #literal: (HashTable<ExtensionPattern[]> | undefined)[];
  readonly #wild: (ExtensionPattern[] | undefined)[];

  constructor(patterns: readonly ExtensionPattern[]) {
    this.size = patterns.length;
    let max = 0;
    const literal: (Map<number, ExtensionPattern[]> | undefined)[] = [];
    const wild: (ExtensionPattern[] | undefined)[] = [];
    let any: ExtensionPattern | null = null;
    for (const p of patterns) {
      max = Math.max(max, p.parts);
      if (p.wild) {
        (wild[p.parts] ??= []).push(p);
        if (any === null && p.text === '*') any = p;
      } else {
        const m = (literal[p.parts] ??= new Map<number, ExtensionPattern[]>());
        const h = backwardHash(p.text);
        let bucket = m.get(h);
        if (bucket === undefined) m.set(h, (bucket = []));
        if (!bucket.some((q) => q.text === p.text)) bucket.push(p);
      }
    }
    this.maxParts = max;
    this.matchesAnyOne = any;
    this.#literal = literal.map((m) => (m === undefined ? undefined : new HashTable(m)));
    this.#wild = wild;
  }

  /**
   * The longest pattern (lowest index among equally long ones) matching the last component
   * s[start, end), considering only lengths in (minExclusive, found]; null if none.
   * Requires scanName(s, end, ≥ maxParts, …) to have run; `found` is dotsFound(). `s` may hold
   * A–Z (the last component is then ASCII): literal patterns compare them folded, wildcard ones get a
   * lower-cased copy of the extension.
   */
  longest(s: string, end: number, found: number, minExclusive: number): ExtensionPattern | null {
    const top = found < this.maxParts ? found : this.maxParts;
    let lower: string | null = null;
    const base = top > 0 ? kDots[top - 1]! + 1 : end;
    for (let n = top; n > minExclusive; n--) {
      const from = kDots[n - 1]! + 1;
      let best: ExtensionPattern | null = null;
      const lits = this.#literal[n];
      if (lits !== undefined) {
        const bucket = lits.get(kSuffixHash[n - 1]!);
        if (bucket !== undefined) {
          for (let j = 0; j < bucket.length; j++) {
            const q = bucket[j]!;
            if (q.text.length === end - from && equalsFolded(s, from, q.text)) {
              best = q;
              break;
            }
          }
        }
      }
      const wilds = this.#wild[n];
      if (wilds !== undefined) {
        for (let j = 0; j < wilds.length; j++) {
          const w = wilds[j]!;
          if (best !== null && best.index < w.index) break;
          // Only the last component is lower-cased: on a raw path it is the part known to be ASCII
          // (other components may change length when lower-cased), so the offsets carry over.
          lower ??= s.slice(base, end).toLowerCase();
          if (matchesParts(w, lower, from - base, end - base)) {
            best = w;
            break;
          }
        }
      }
      if (best !== null) return best;
    }
    return null;
  }
}

/** Matches an n-part wildcard pattern against s[from, end), whose parts are split by dots. */
function matchesParts(p: ExtensionPattern, s: string, from: number, end: number): boolean {
  let partStart = from;
  for (let k = 0; k < p.parts; k++) {
    let partEnd = s.indexOf('.', partStart);
    if (partEnd < 0 || partEnd > end) partEnd = end;
    const atoms = p.partAtoms[k]!;
    if (atoms !== null) {
      if (!matchAtoms(atoms, s, partStart, partEnd)) return false;
    } else {
      const text = p.partTexts[k]!;
      if (partEnd - partStart !== text.length || !s.startsWith(text, partStart)) return false;
    }
    partStart = partEnd + 1;
  }
  return true;
}
