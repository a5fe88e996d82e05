// Extension rules (SPEC §3 "Extensions"): a pattern of n dot-separated parts matches when it equals
// the last n extension parts of the file's last component, part by part, `*`/`?` staying inside a part.
import { kAny, kLit, kStar, matchAtoms, type Atom } from './glob.js';
import { equalsFolded, fold } from './normalize.js';

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

/** 32-bit polynomial hash over the text read from its end backwards (as collectDots reads names). */
export function backwardHash(text: string): number {
  let h = 0;
  for (let i = text.length - 1; i >= 0; i--) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

/**
 * Fills kDots and kSuffixHash for s[start, end) up to `max` dots; returns how many were found.
 * Hashes A–Z as a–z, so a raw ASCII name hashes like its lower-cased form.
 */
export function collectDots(s: string, start: number, end: number, max: number): number {
  if (kDots.length < max) {
    kDots = new Int32Array(max);
    kSuffixHash = new Int32Array(max);
  }
  let found = 0;
  let h = 0;
  for (let i = end - 1; i >= start && found < max; i--) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      kDots[found] = i;
      kSuffixHash[found++] = h;
    }
    h = (Math.imul(h, 31) + fold(c)) | 0;
  }
  return found;
}

/** Position of the (k+1)-th dot from the end, after collectDots. */
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
  readonly #literal: (Map<number, ExtensionPattern[]> | undefined)[];
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
    this.#literal = literal;
    this.#wild = wild;
  }

  /**
   * The longest pattern (lowest index among equally long ones) matching the last component
   * s[start, end), considering only lengths in (minExclusive, found]; null if none.
   * Requires collectDots(s, start, end, ≥ maxParts) to have run; `found` is its result. `s` may hold
   * A–Z: literal patterns compare them folded, wildcard ones get a lower-cased copy.
   */
  longest(s: string, end: number, found: number, minExclusive: number): ExtensionPattern | null {
    const top = found < this.maxParts ? found : this.maxParts;
    let lower: string | null = null;
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
          lower ??= s.toLowerCase(); // ASCII when it holds A–Z: same offsets
          if (matchesParts(w, lower, from, end)) {
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
