// Path entries (exclude_paths / include_paths): literal entries in a trie keyed by normalised
// component, globs bucketed by their first component. One walk of the access path answers
// "which is the lowest-index entry that matches?" for thousands of entries.
import { kAnyComponentSegment, kGlobstarSegment, kShapeLiteral, matchSegments, type Segment } from './glob.js';

export type PathMatchMode = 'prefix' | 'component';

/** One validated path entry, normalised like an access path (minus the stream cut). */
export interface PathEntry {
  readonly index: number;
  readonly raw: string;
  readonly components: readonly string[];
  /** The raw entry ended with a separator: it matches only what lies strictly below it. */
  readonly trailing: boolean;
  /** Compiled glob segments (with the implicit "or below" tail), or null for a literal entry. */
  readonly segments: readonly Segment[] | null;
}

/** Builds the segment list for a glob entry: its components, then the implicit ancestor tail. */
export function globSegments(components: readonly Segment[], trailing: boolean): Segment[] {
  // "matches the path or one of its ancestors" == "the glob followed by `/**` matches the path";
  // "strictly below" needs one more component first.
  return trailing ? [...components, kAnyComponentSegment, kGlobstarSegment] : [...components, kGlobstarSegment];
}

class TrieNode {
  /** Children by exact normalised component; null while there are none. */
  children: Map<string, TrieNode> | null = null;
  /** Lowest index of a component-mode entry without trailing separator ending here (matches here and below), or -1. */
  exact = -1;
  /** Lowest index of an entry with a trailing separator ending here (matches strictly below), or -1. */
  below = -1;
  /**
   * Prefix mode only: last components of entries without trailing separator whose parent is this
   * node, mapped to the lowest entry index. Such an entry matches when the next path component
   * starts with the key (`\vol\a` excludes `\vol\ab`). Invariant: `partialLengths` lists the
   * distinct key lengths in ascending order.
   */
  partials: Map<string, number> | null = null;
  partialLengths: number[] = [];
}

const min = (a: number, b: number): number => (a < 0 || (b >= 0 && b < a) ? b : a);

export class PathMatcher {
  readonly size: number;
  readonly #root = new TrieNode();
  readonly #hasLiterals: boolean;
  /** Globs whose first component is a literal, by that component; each list in entry order. */
  readonly #globsByFirst = new Map<string, PathEntry[]>();
  /** Globs whose first component has wildcards (or is `**`), in entry order. */
  readonly #globsAnywhere: PathEntry[] = [];
  readonly #hasGlobs: boolean;

  constructor(entries: readonly PathEntry[], mode: PathMatchMode) {
    this.size = entries.length;
    let literals = 0;
    for (const e of entries) {
      if (e.segments !== null) {
        const first = e.segments[0]!;
        const alt = first.globstar || first.alternatives.length !== 1 ? null : first.alternatives[0]!;
        if (alt !== null && alt.shape === kShapeLiteral) {
          let list = this.#globsByFirst.get(alt.text);
          if (list === undefined) this.#globsByFirst.set(alt.text, (list = []));
          list.push(e);
        } else this.#globsAnywhere.push(e);
        continue;
      }
      literals++;
      this.#insert(e, mode);
    }
    this.#hasLiterals = literals > 0;
    this.#hasGlobs = entries.length > literals;
  }

  #insert(e: PathEntry, mode: PathMatchMode): void {
    const comps = e.components;
    const partial = mode === 'prefix' && !e.trailing;
    let node = this.#root;
    const depth = partial ? comps.length - 1 : comps.length;
    for (let d = 0; d < depth; d++) {
      const children = (node.children ??= new Map());
      let child = children.get(comps[d]!);
      if (child === undefined) children.set(comps[d]!, (child = new TrieNode()));
      node = child;
    }
    if (partial) {
      const last = comps[comps.length - 1]!;
      const partials = (node.partials ??= new Map());
      if (!partials.has(last)) {
        partials.set(last, e.index);
        if (!node.partialLengths.includes(last.length)) {
          node.partialLengths.push(last.length);
          node.partialLengths.sort((a, b) => a - b);
        }
      }
    } else if (e.trailing) node.below = min(node.below, e.index);
    else node.exact = min(node.exact, e.index);
  }

  /** Lowest index of an entry matching the normalised path (components s[starts[k], ends[k])), or -1. */
  match(s: string, starts: ArrayLike<number>, ends: ArrayLike<number>, n: number): number {
    let best = -1;
    let first: string | null = null;
    if (this.#hasLiterals) {
      let node = this.#root;
      for (let d = 0; d < n; d++) {
        const a = starts[d]!;
        const b = ends[d]!;
        const partials = node.partials;
        if (partials !== null) {
          const lengths = node.partialLengths;
          for (let j = 0; j < lengths.length; j++) {
            const len = lengths[j]!;
            if (len > b - a) break;
            const idx = partials.get(s.slice(a, a + len));
            if (idx !== undefined) best = min(best, idx);
          }
        }
        const children = node.children;
        if (children === null) break;
        const key = s.slice(a, b);
        if (d === 0) first = key;
        const child = children.get(key);
        if (child === undefined) break;
        node = child;
        if (node.exact >= 0) best = min(best, node.exact);
        if (node.below >= 0 && d < n - 1) best = min(best, node.below);
      }
    }
    if (this.#hasGlobs) {
      first ??= s.slice(starts[0]!, ends[0]!);
      const bucket = this.#globsByFirst.get(first);
      if (bucket !== undefined) best = firstGlob(bucket, best, s, starts, ends, n);
      if (this.#globsAnywhere.length > 0) best = firstGlob(this.#globsAnywhere, best, s, starts, ends, n);
    }
    return best;
  }
}

/** Lowest-index match in an entry-ordered glob list, not looking past `best`. */
function firstGlob(
  list: readonly PathEntry[],
  best: number,
  s: string,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  n: number,
): number {
  for (let j = 0; j < list.length; j++) {
    const e = list[j]!;
    if (best >= 0 && e.index > best) return best;
    if (matchSegments(e.segments!, s, starts, ends, n)) return e.index;
  }
  return best;
}
