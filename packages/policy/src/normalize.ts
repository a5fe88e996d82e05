// Path normalisation, SPEC §3 "Paths" steps 1–6. This is the general (slow) normaliser: the decider's
// fast path (access.ts) only hands paths here when they need stream cutting, trailing-dot stripping,
// `.`/`..` resolution, or Unicode work in a component the decision reads.

const kBackslash = 0x5c;
const kSlash = 0x2f;

/** Splits on `\` and `/`, dropping empty components (step 1). */
export function splitComponents(raw: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    const c = i < raw.length ? raw.charCodeAt(i) : kSlash;
    if (c === kBackslash || c === kSlash) {
      if (i > start) out.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** Strips trailing dots and spaces (Windows semantics, step 3). */
export function stripTrailingDotsAndSpaces(component: string): string {
  let end = component.length;
  while (end > 0) {
    const c = component.charCodeAt(end - 1);
    if (c !== 0x2e && c !== 0x20) break;
    end--;
  }
  return end === component.length ? component : component.slice(0, end);
}

/**
 * Normalises a path into lower-case NFC components, or returns null when the path is invalid.
 * `access` enables step 2 (SMB stream cut in the last component), which entries do not get.
 */
export function normalizeComponents(raw: string, access: boolean): string[] | null {
  if (raw.includes('\0')) return null;
  const parts = splitComponents(raw);
  if (access && parts.length > 0) {
    const last = parts[parts.length - 1]!;
    const colon = last.indexOf(':');
    if (colon >= 0) parts[parts.length - 1] = last.slice(0, colon);
  }
  const out: string[] = [];
  for (const part of parts) {
    if (part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    const stripped = stripTrailingDotsAndSpaces(part);
    if (stripped.length === 0) return null;
    out.push(stripped);
  }
  if (out.length === 0) return null;
  for (let i = 0; i < out.length; i++) out[i] = out[i]!.normalize('NFC').toLowerCase();
  return out;
}

/** Result of {@link normalizePath}: the normalised components and the `/`-joined form, or invalid. */
export type NormalizedPath =
  | { readonly valid: true; readonly components: readonly string[]; readonly path: string }
  | { readonly valid: false };

const kInvalidPath: NormalizedPath = Object.freeze({ valid: false });

/** Normalises an access path exactly as `decide` does (SPEC §3 steps 1–6). Never throws for a string. */
export function normalizePath(path: string): NormalizedPath {
  const components = normalizeComponents(path, true);
  if (components === null) return kInvalidPath;
  return Object.freeze({ valid: true, components: Object.freeze(components), path: `/${components.join('/')}` });
}

/** Number of Unicode code points (the unit of the 255-character limits). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** A–Z to a–z; every other code unit unchanged. */
export function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** The code units of `text`, for comparisons that read them often (typed-array reads are cheap). */
export function codeUnits(text: string): Uint16Array {
  const out = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** s[a, a + k.length) equals the code units `k` (lower-case) with A–Z in `s` folded to a–z. */
export function equalsFoldedUnits(s: string, a: number, k: Uint16Array): boolean {
  for (let j = 0; j < k.length; j++) if (fold(s.charCodeAt(a + j)) !== k[j]) return false;
  return true;
}

/** s[a, a + k.length) equals `k` (lower-case) with A–Z in `s` folded to a–z. */
export function equalsFolded(s: string, a: number, k: string): boolean {
  for (let j = 0; j < k.length; j++) if (fold(s.charCodeAt(a + j)) !== k.charCodeAt(j)) return false;
  return true;
}

/**
 * A 32-bit hash cut to 30 bits for use as a table key: V8 keeps such numbers as small integers (Smis,
 * 31 bits with pointer compression; a larger int32 may be boxed into a heap number), and HashTable
 * stores key + 1 in an Int32Array.
 */
export function mapKeyHash(h: number): number {
  return h & 0x3fffffff;
}
