// Path entries (exclude_paths / include_paths): literal entries in a trie keyed by normalised
// component; each glob hangs on the trie node of its leading literal components, so it is only tried
// for paths under that prefix. One walk of the access path answers "which is the lowest-index entry
// that matches?" for thousands of entries.
import { ensureOffsets, isSeparator, scratch } from './access.js';
import { kAnyComponentSegment, kGlobstarSegment, kShapeLiteral, matchSegments, type Segment } from './glob.js';
import { HashTable } from './hash-table.js';
import { codeUnits, equalsFoldedUnits, fold, mapKeyHash } from './normalize.js';

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

/** Above this many keys a node switches from a linear scan (no allocation) to a Map (one slice per lookup). */
const kSmallFanout = 8;

/** Polynomial hash of a component (a table key: see mapKeyHash), computed the same way during the walk (no slicing). */
export function forwardHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return mapKeyHash(h);
}

class TrieNode {
  /** The component leading to this node ('' for the root). */
  readonly key: string;
  /** codeUnits(key): what the walk compares against. */
  readonly units: Uint16Array;
  constructor(key: string) {
    this.key = key;
    this.units = codeUnits(key);
  }
  /**
   * Children by exact normalised component. Invariant: keys[j] ↦ nodes[j]; once sealed, `map`
   * mirrors them when there are more than kSmallFanout keys (small nodes are scanned linearly through
   * keyTags, which allocates nothing and hashes nothing).
   */
  readonly keys: string[] = [];
  readonly nodes: TrieNode[] = [];
  /**
   * keyTags[j] = keyTag(keys[j].length, last code unit of keys[j]): the linear scan's filter is one
   * small-integer compare per key, with no read of the key string.
   */
  readonly keyTags: number[] = [];
  /**
   * firsts[c] = 1 when a key or a partial key starts with the ASCII code unit c: a component whose
   * first character is none of them matches nothing here, and the walk stops without reading the rest.
   */
  readonly firsts = new Uint8Array(128);
  /** Children by forwardHash(key), each bucket a short collision list (confirmed against `units`). */
  map: HashTable<TrieNode[]> | null = null;
  /** Lowest index of a component-mode entry without trailing separator ending here (matches here and below), or -1. */
  exact = -1;
  /** Lowest index of an entry with a trailing separator ending here (matches strictly below), or -1. */
  below = -1;
  /**
   * Prefix mode only: last components of entries without trailing separator whose parent is this
   * node, with the lowest entry index (partialIndex[j] for partialKeys[j]). Such an entry matches
   * when the next path component starts with the key (`\vol\a` excludes `\vol\ab`). With more
   * than kSmallFanout keys, `partialMap` mirrors them and `partialLengths` lists the distinct key
   * lengths in ascending order.
   */
  readonly partialKeys: string[] = [];
  readonly partialIndex: number[] = [];
  /** partialFirst[j] = the first code unit of partialKeys[j] (the linear scan's filter). */
  readonly partialFirst: number[] = [];
  /** partialUnits[j] = codeUnits(partialKeys[j]). */
  readonly partialUnits: Uint16Array[] = [];
  partialMap: Map<string, number> | null = null;
  partialLengths: number[] = [];
  /**
   * Globs whose leading literal components lead to this node, in entry order. They are only tried
   * when the walk reaches this node, i.e. when the path starts with that literal prefix.
   */
  globs: PathEntry[] | null = null;

  child(key: string): TrieNode {
    const j = this.keys.indexOf(key);
    if (j >= 0) return this.nodes[j]!;
    const node = new TrieNode(key);
    this.keys.push(key);
    this.nodes.push(node);
    this.keyTags.push(keyTag(key.length, key.charCodeAt(key.length - 1)));
    this.#markFirst(key);
    return node;
  }

  #markFirst(key: string): void {
    const c = key.charCodeAt(0);
    if (c < 0x80) this.firsts[c] = 1;
  }

  /** Builds this node's hashed lookup, once all entries are in (see PathMatcher's constructor). */
  seal(): void {
    if (this.keys.length > kSmallFanout) {
      const buckets = new Map<number, TrieNode[]>();
      for (let i = 0; i < this.keys.length; i++) {
        const h = forwardHash(this.keys[i]!);
        let bucket = buckets.get(h);
        if (bucket === undefined) buckets.set(h, (bucket = []));
        bucket.push(this.nodes[i]!);
      }
      this.map = new HashTable(buckets);
    }
  }

  addPartial(key: string, index: number): void {
    if (this.partialKeys.includes(key)) return; // entries arrive in index order: the first is the lowest
    this.partialKeys.push(key);
    this.partialIndex.push(index);
    this.partialFirst.push(key.charCodeAt(0));
    this.partialUnits.push(codeUnits(key));
    this.#markFirst(key);
    if (this.partialKeys.length > kSmallFanout) {
      this.partialMap = new Map(this.partialKeys.map((k, i) => [k, this.partialIndex[i]!]));
      this.partialLengths = [...new Set(this.partialKeys.map((k) => k.length))].sort((a, b) => a - b);
    }
  }

  /**
   * The child for component s[a, b), or undefined; `h` is the component's forwardHash with A–Z folded
   * (read only when the node is hashed), `last` its last code unit with A–Z folded (read only when it
   * is not). A–Z in `s` compare as a–z (keys are lower-case), so an ASCII access path needs no
   * lower-cased copy.
   */
  find(s: string, a: number, b: number, h: number, last: number): TrieNode | undefined {
    const len = b - a;
    if (this.map !== null) {
      const bucket = this.map.get(h);
      if (bucket === undefined) return undefined;
      for (let j = 0; j < bucket.length; j++) {
        const node = bucket[j]!;
        const k = node.key;
        if (k.length === len && equalsFoldedUnits(s, a, node.units)) return node;
      }
      return undefined;
    }
    // Cheap filter first (length and last character in one tag), then the comparison.
    const tag = keyTag(len, last);
    const tags = this.keyTags;
    for (let j = 0; j < tags.length; j++) {
      if (tags[j] === tag) {
        const node = this.nodes[j]!;
        if (equalsFoldedUnits(s, a, node.units)) return node;
      }
    }
    return undefined;
  }

  /** Lowest index of a partial key that is a prefix of s[a, b), or -1; `first` is s[a] with A–Z folded. */
  partialMatch(s: string, a: number, b: number, first: number): number {
    let best = -1;
    if (this.partialMap !== null) {
      const lengths = this.partialLengths;
      for (let j = 0; j < lengths.length; j++) {
        const len = lengths[j]!;
        if (len > b - a) break;
        const idx = this.partialMap.get(s.slice(a, a + len).toLowerCase());
        if (idx !== undefined) best = min(best, idx);
      }
      return best;
    }
    const units = this.partialUnits;
    const firsts = this.partialFirst;
    for (let j = 0; j < units.length; j++) {
      if (firsts[j] !== first) continue;
      const k = units[j]!;
      if (k.length <= b - a && equalsFoldedUnits(s, a, k)) best = min(best, this.partialIndex[j]!);
    }
    return best;
  }
}

/** PathMatcher.match: the raw path holds a character outside ASCII where it matters; normalise it first. */
export const kNeedsGeneral = -2;

/** A key's length and last code unit as one small integer (lengths stay far below 2^14). */
function keyTag(length: number, last: number): number {
  return length * 0x10000 + last;
}

const min = (a: number, b: number): number => (a < 0 || (b >= 0 && b < a) ? b : a);


export class PathMatcher {
  readonly size: number;
  readonly #root = new TrieNode('');

  constructor(entries: readonly PathEntry[], mode: PathMatchMode) {
    this.size = entries.length;
    for (const e of entries) {
      if (e.segments !== null) this.#insertGlob(e);
      else this.#insert(e, mode);
    }
    // Every node, without recursion (entries may be deep).
    const pending = [this.#root];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      node.seal();
      pending.push(...node.nodes);
    }
  }

  #insertGlob(e: PathEntry): void {
    let node = this.#root;
    for (const seg of e.segments!) {
      const alt = seg.globstar || seg.alternatives.length !== 1 ? null : seg.alternatives[0]!;
      if (alt === null || alt.shape !== kShapeLiteral) break;
      node = node.child(alt.text);
    }
    (node.globs ??= []).push(e);
  }

  #insert(e: PathEntry, mode: PathMatchMode): void {
    const comps = e.components;
    const partial = mode === 'prefix' && !e.trailing;
    let node = this.#root;
    const depth = partial ? comps.length - 1 : comps.length;
    for (let d = 0; d < depth; d++) node = node.child(comps[d]!);
    if (partial) node.addPartial(comps[comps.length - 1]!, e.index);
    else if (e.trailing) node.below = min(node.below, e.index);
    else node.exact = min(node.exact, e.index);
  }

  /**
   * Lowest index of an entry matching the normalised path `s` (components separated by runs of
   * `\` or `/`: see normalizeAccessPath), or -1; or kNeedsGeneral when `raw` (s is a fast-path
   * string, A–Z not yet lower-cased) and a character the match reads is not ASCII. Walks components
   * left to right only as deep as the trie goes; full component offsets are computed only when a glob
   * has to be tried.
   */
  match(s: string, raw: boolean): number {
    let best = -1;
    let node = this.#root;
    const len = s.length;
    let pos = 0;
    let lower: string | null = null;
    for (;;) {
      // Invariant: `node` is the trie node for the components before `pos`.
      if (node.globs !== null) {
        // A glob may read every component: on a raw path all of them must be ASCII.
        if (!ensureOffsets(s)) return kNeedsGeneral;
        lower ??= s.toLowerCase(); // ASCII on the raw path: same offsets
        best = firstGlob(node.globs, best, lower, scratch.starts, scratch.ends, scratch.count);
      }
      // Nothing below this node reads the next component: do not even scan it.
      if (node.keys.length === 0 && node.partialKeys.length === 0) break;
      let c = 0;
      for (; pos < len; pos++) {
        c = s.charCodeAt(pos);
        if (c !== 0x5c && c !== 0x2f) break;
      }
      if (pos >= len) break;
      // One read per character: the filters' first and last characters and a hashed node's hash
      // come from this scan, not from second reads of the path.
      const a = pos;
      const first = fold(c);
      // No key starts with this character. It is the normalised component's first character too
      // when it is ASCII and so is the next one (NFC composes a letter only with the marks after it).
      if (first < 0x80 && node.firsts[first] === 0 && (pos + 1 === len || s.charCodeAt(pos + 1) < 0x80)) break;
      const hashed = node.map !== null;
      let h = 0;
      let last;
      for (;;) {
        if (c > 0x7f && raw) return kNeedsGeneral;
        if (hashed) h = (Math.imul(h, 31) + fold(c)) | 0;
        last = c;
        if (++pos === len) break;
        c = s.charCodeAt(pos);
        if (c === 0x5c || c === 0x2f) break;
      }
      const b = pos;
      if (node.partialKeys.length > 0) best = min(best, node.partialMatch(s, a, b, first));
      if (node.keys.length === 0) break;
      const child = node.find(s, a, b, mapKeyHash(h), fold(last));
      if (child === undefined) break;
      node = child;
      if (node.exact >= 0) best = min(best, node.exact);
      if (node.below >= 0 && hasComponentAfter(s, b)) best = min(best, node.below);
    }
    return best;
  }
}

function hasComponentAfter(s: string, pos: number): boolean {
  for (let i = pos; i < s.length; i++) if (!isSeparator(s.charCodeAt(i))) return true;
  return false;
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
