// Glob syntax (SPEC §3): validation and a linear-time matcher.
//
// Globs are NOT turned into backtracking RegExps: V8's regex engine backtracks, so a glob such as
// `\*a*a*a*b` against a hostile 64 KiB path component would run for minutes. Instead each component
// pattern is compiled into atoms matched with the classic "greedy, backtrack to the last star"
// algorithm, which is O(component × pattern) in the worst case, and `**` is handled by the same
// algorithm one level up, over components. Braces are expanded at compile time (bounded).

/** One literal code point. */
export const kLit = 0;
/** `?`: exactly one code point. */
export const kAny = 1;
/** `[...]`: one code point in (or, negated, not in) the ranges. */
export const kClass = 2;
/** `*`: any run of code points (inside one component, or one extension part). */
export const kStar = 3;

/** A compiled pattern element. Every atom has all fields, so atom arrays stay monomorphic. */
export interface Atom {
  readonly kind: number;
  /** The code point of a kLit atom, else -1. */
  readonly cp: number;
  /** Negated class. */
  readonly negated: boolean;
  /** Class ranges as [lo0, hi0, lo1, hi1, ...] inclusive code points; empty for non-class atoms. */
  readonly ranges: readonly number[];
}

const kStarAtom: Atom = Object.freeze({ kind: kStar, cp: -1, negated: false, ranges: Object.freeze([]) });
const kAnyAtom: Atom = Object.freeze({ kind: kAny, cp: -1, negated: false, ranges: Object.freeze([]) });
function litAtom(cp: number): Atom {
  return Object.freeze({ kind: kLit, cp, negated: false, ranges: kStarAtom.ranges });
}

/** True for the characters that make a path entry a glob. */
export function isGlobText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2a || c === 0x3f || c === 0x5b || c === 0x7b) return true;
  }
  return false;
}

/** Raised inside the parser; the compiler turns it into a PolicyError naming the field. */
export class GlobSyntaxError extends Error {}

const kMaxBraceDepth = 8;
const kMaxExpansions = 256;

type Item = Atom | { readonly alts: Item[][] };

/**
 * Parses one glob component (no separators) into brace-free alternatives of atoms.
 * Refuses extglobs, `{1..3}`, POSIX classes, unbalanced/empty brackets and braces, and `**` that is
 * not a whole component (the caller handles the whole-component `**`).
 */
export function parseComponent(component: string): Atom[][] {
  const cps = Array.from(component, (ch) => ch.codePointAt(0)!);
  let i = 0;

  const parseSeq = (depth: number, inBrace: boolean): Item[] => {
    const items: Item[] = [];
    while (i < cps.length) {
      const c = cps[i]!;
      if (inBrace && (c === 0x2c || c === 0x7d)) return items; // `,` or `}` end an alternative
      if (c === 0x7c) throw new GlobSyntaxError('extglob alternation `|` is not supported');
      if (c === 0x28 && i > 0 && isExtglobPrefix(cps[i - 1]!)) {
        throw new GlobSyntaxError('extglobs such as `@(a|b)` are not supported');
      }
      if (c === 0x5d) throw new GlobSyntaxError('unbalanced `]` (write `[]]` for a literal `]`)');
      if (c === 0x7d) throw new GlobSyntaxError('unbalanced `}`');
      if (c === 0x2a) {
        if (cps[i + 1] === 0x2a) throw new GlobSyntaxError('`**` must be a whole path component');
        items.push(kStarAtom);
        i++;
      } else if (c === 0x3f) {
        items.push(kAnyAtom);
        i++;
      } else if (c === 0x5b) {
        items.push(parseClass());
      } else if (c === 0x7b) {
        if (depth + 1 > kMaxBraceDepth) throw new GlobSyntaxError(`braces nested deeper than ${kMaxBraceDepth}`);
        i++;
        const alts: Item[][] = [];
        for (;;) {
          alts.push(parseSeq(depth + 1, true));
          if (i >= cps.length) throw new GlobSyntaxError('unbalanced `{`');
          const d = cps[i++]!;
          if (d === 0x7d) break; // `}`
        }
        if (alts.length < 2) {
          throw new GlobSyntaxError('a brace needs at least two alternatives separated by `,` (`{1..3}` ranges are not supported)');
        }
        items.push({ alts });
      } else {
        items.push(litAtom(c));
        i++;
      }
    }
    return items;
  };

  const parseClass = (): Atom => {
    i++; // `[`
    let negated = false;
    if (cps[i] === 0x21 || cps[i] === 0x5e) {
      negated = true;
      i++;
    }
    const ranges: number[] = [];
    let first = true;
    for (;;) {
      if (i >= cps.length) throw new GlobSyntaxError('unbalanced or empty `[` (write `[[]` for a literal `[`)');
      const c = cps[i]!;
      if (c === 0x5d && !first) {
        i++;
        break;
      }
      if (c === 0x5b && (cps[i + 1] === 0x3a || cps[i + 1] === 0x2e || cps[i + 1] === 0x3d)) {
        throw new GlobSyntaxError('POSIX classes such as `[[:alpha:]]` are not supported');
      }
      const hi = cps[i + 2];
      if (cps[i + 1] === 0x2d && hi !== undefined && hi !== 0x5d) {
        if (hi < c) throw new GlobSyntaxError('a class range runs backwards');
        ranges.push(c, hi);
        i += 3;
      } else {
        ranges.push(c, c);
        i++;
      }
      first = false;
    }
    return Object.freeze({ kind: kClass, cp: -1, negated, ranges: Object.freeze(ranges) });
  };

  const items = parseSeq(0, false);
  return expand(items).map(collapseStars);
}

function isExtglobPrefix(cp: number): boolean {
  return cp === 0x40 || cp === 0x21 || cp === 0x2b || cp === 0x2a || cp === 0x3f;
}

/** Cartesian brace expansion, bounded so a hostile `{a,b}{a,b}...` cannot blow up. */
function expand(items: readonly Item[]): Atom[][] {
  let out: Atom[][] = [[]];
  for (const item of items) {
    if ('kind' in item) {
      for (const seq of out) seq.push(item);
      continue;
    }
    const next: Atom[][] = [];
    for (const alt of item.alts) {
      const tails = expand(alt);
      for (const head of out) {
        for (const tail of tails) {
          next.push([...head, ...tail]);
          if (next.length > kMaxExpansions) throw new GlobSyntaxError(`braces expand to more than ${kMaxExpansions} alternatives`);
        }
      }
    }
    out = next;
  }
  return out;
}

function collapseStars(atoms: Atom[]): Atom[] {
  return atoms.filter((a, j) => !(a.kind === kStar && j > 0 && atoms[j - 1]!.kind === kStar));
}

/** True if `cp` is accepted by a single-code-point atom. */
function atomAccepts(atom: Atom, cp: number): boolean {
  if (atom.kind === kLit) return atom.cp === cp;
  if (atom.kind === kAny) return true;
  const r = atom.ranges;
  let inside = false;
  for (let j = 0; j < r.length; j += 2) {
    if (cp >= r[j]! && cp <= r[j + 1]!) {
      inside = true;
      break;
    }
  }
  return inside !== atom.negated;
}

/**
 * Matches atoms against s[start, end) by code points: greedy, backtracking only to the last `*`.
 * Invariant: `i` and `starI` always sit on code-point boundaries of the region.
 */
export function matchAtoms(atoms: readonly Atom[], s: string, start: number, end: number): boolean {
  let i = start;
  let p = 0;
  let starP = -1;
  let starI = start;
  const n = atoms.length;
  while (i < end) {
    if (p < n) {
      const a = atoms[p]!;
      if (a.kind === kStar) {
        starP = p++;
        starI = i;
        continue;
      }
      const cp = s.codePointAt(i)!;
      if (atomAccepts(a, cp)) {
        i += cp > 0xffff ? 2 : 1;
        p++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP + 1;
    starI += s.codePointAt(starI)! > 0xffff ? 2 : 1;
    i = starI;
  }
  while (p < n && atoms[p]!.kind === kStar) p++;
  return p === n;
}

/** Shapes of one brace-free component pattern, so the common ones skip the general matcher. */
export const kShapeLiteral = 0;
export const kShapeAnything = 1;
export const kShapePrefix = 2;
export const kShapeSuffix = 3;
export const kShapeGeneral = 4;

/** One alternative of a component pattern. `text` is the literal (or prefix/suffix) for fast shapes. */
export interface Alternative {
  readonly shape: number;
  readonly text: string;
  readonly atoms: readonly Atom[];
}

function hasSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

/** Classifies a brace-free atom list into a fast shape where possible. */
export function toAlternative(atoms: readonly Atom[]): Alternative {
  const lits = atoms.every((a) => a.kind === kLit);
  const textOf = (xs: readonly Atom[]) => String.fromCodePoint(...xs.map((a) => a.cp));
  if (lits) return Object.freeze({ shape: kShapeLiteral, text: textOf(atoms), atoms });
  if (atoms.length === 1 && atoms[0]!.kind === kStar) return Object.freeze({ shape: kShapeAnything, text: '', atoms });
  const last = atoms.length - 1;
  // Prefix/suffix by code units is only equivalent to code points when the literal has no surrogates.
  if (atoms[last]!.kind === kStar && atoms.slice(0, last).every((a) => a.kind === kLit)) {
    const text = textOf(atoms.slice(0, last));
    if (!hasSurrogate(text)) return Object.freeze({ shape: kShapePrefix, text, atoms });
  }
  if (atoms[0]!.kind === kStar && atoms.slice(1).every((a) => a.kind === kLit)) {
    const text = textOf(atoms.slice(1));
    if (!hasSurrogate(text)) return Object.freeze({ shape: kShapeSuffix, text, atoms });
  }
  return Object.freeze({ shape: kShapeGeneral, text: '', atoms });
}

/** Matches one alternative against s[start, end). */
export function matchAlternative(alt: Alternative, s: string, start: number, end: number): boolean {
  switch (alt.shape) {
    case kShapeLiteral:
      return end - start === alt.text.length && s.startsWith(alt.text, start);
    case kShapeAnything:
      return true;
    case kShapePrefix:
      return end - start >= alt.text.length && s.startsWith(alt.text, start);
    case kShapeSuffix:
      return end - start >= alt.text.length && s.startsWith(alt.text, end - alt.text.length);
    default:
      return matchAtoms(alt.atoms, s, start, end);
  }
}

/** One path component of a glob: `**`, or a set of alternatives (from braces). */
export interface Segment {
  readonly globstar: boolean;
  readonly alternatives: readonly Alternative[];
}

export const kGlobstarSegment: Segment = Object.freeze({ globstar: true, alternatives: Object.freeze([]) });
/** Matches any one component (components are never empty). */
export const kAnyComponentSegment: Segment = Object.freeze({
  globstar: false,
  alternatives: Object.freeze([toAlternative([kStarAtom])]),
});

/** Compiles one normalised glob component. */
export function compileSegment(component: string): Segment {
  if (component === '**') return kGlobstarSegment;
  const alternatives = parseComponent(component).map(toAlternative);
  return Object.freeze({ globstar: false, alternatives: Object.freeze(alternatives) });
}

function matchSegment(seg: Segment, s: string, start: number, end: number): boolean {
  const alts = seg.alternatives;
  for (let j = 0; j < alts.length; j++) if (matchAlternative(alts[j]!, s, start, end)) return true;
  return false;
}

/**
 * Matches segments against the components s[starts[k], ends[k]) for k < n, `**` matching any number
 * of components (also none). Same greedy algorithm as matchAtoms, one level up: every non-globstar
 * segment consumes exactly one component, so backtracking to the last `**` is enough.
 */
export function matchSegments(
  segs: readonly Segment[],
  s: string,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  n: number,
): boolean {
  let ci = 0;
  let p = 0;
  let starP = -1;
  let starC = 0;
  const m = segs.length;
  while (ci < n) {
    if (p < m) {
      const g = segs[p]!;
      if (g.globstar) {
        starP = p++;
        starC = ci;
        continue;
      }
      if (matchSegment(g, s, starts[ci]!, ends[ci]!)) {
        ci++;
        p++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP + 1;
    ci = ++starC;
  }
  while (p < m && segs[p]!.globstar) p++;
  return p === m;
}
