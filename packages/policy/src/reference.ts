// A slow, obviously-correct reference decider written straight from SPEC §3, for tests only.
// It shares validation (what is accepted) with the compiler, but none of the matching: its own naive
// normaliser, linear scans over every entry, string prefixes for literal entries, a recursive glob
// matcher and regexes for extension parts. `decide` never calls it.
import { checkAccess } from './access.js';
import { decision, type Access, type Decision } from './decision.js';
import { validatePolicy } from './validate.js';

function refNormalize(raw: string, isAccess: boolean): string[] | null {
  if (raw.includes('\u0000')) return null;
  let comps = raw.split(/[\\/]+/).filter((c) => c !== '');
  if (isAccess && comps.length > 0) {
    const last = comps[comps.length - 1]!;
    const colon = last.indexOf(':');
    if (colon >= 0) comps[comps.length - 1] = last.substring(0, colon);
  }
  comps = comps.map((c) => (c === '.' || c === '..' ? c : c.replace(/[. ]+$/, '')));
  if (comps.some((c) => c === '')) return null;
  const out: string[] = [];
  for (const c of comps) {
    if (c === '.') continue;
    if (c === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(c);
  }
  if (out.length === 0) return null;
  return out.map((c) => c.normalize('NFC').toLowerCase());
}

const isGlob = (text: string): boolean => /[*?[{]/.test(text);

/** Index just past the class starting at pattern[i] === '[' (code-point array). */
function classEnd(p: readonly string[], i: number): number {
  let j = i + 1;
  if (p[j] === '!' || p[j] === '^') j++;
  j++; // the first member may be `]`
  while (p[j] !== ']') j++;
  return j + 1;
}

/** Naive brace expansion: expand the first top-level brace, recurse. */
function expandBraces(pattern: string): string[] {
  const p = Array.from(pattern);
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '[') {
      i = classEnd(p, i) - 1;
      continue;
    }
    if (p[i] !== '{') continue;
    let depth = 0;
    const alts: string[] = [];
    let start = i + 1;
    for (let j = i; j < p.length; j++) {
      if (p[j] === '[') {
        j = classEnd(p, j) - 1;
        continue;
      }
      if (p[j] === '{') depth++;
      else if (p[j] === '}') {
        depth--;
        if (depth === 0) {
          alts.push(p.slice(start, j).join(''));
          const head = p.slice(0, i).join('');
          const tail = p.slice(j + 1).join('');
          return alts.flatMap((alt) => expandBraces(head + alt + tail));
        }
      } else if (p[j] === ',' && depth === 1) {
        alts.push(p.slice(start, j).join(''));
        start = j + 1;
      }
    }
  }
  return [pattern];
}

function classAccepts(p: readonly string[], i: number, ch: string): boolean {
  const end = classEnd(p, i) - 1;
  let j = i + 1;
  let negated = false;
  if (p[j] === '!' || p[j] === '^') {
    negated = true;
    j++;
  }
  let inside = false;
  while (j < end) {
    const lo = p[j]!.codePointAt(0)!;
    if (p[j + 1] === '-' && j + 2 < end) {
      const hi = p[j + 2]!.codePointAt(0)!;
      const c = ch.codePointAt(0)!;
      if (c >= lo && c <= hi) inside = true;
      j += 3;
    } else {
      if (p[j] === ch) inside = true;
      j++;
    }
  }
  return inside !== negated;
}

function matchChars(p: readonly string[], i: number, s: readonly string[], j: number): boolean {
  if (i === p.length) return j === s.length;
  const c = p[i]!;
  if (c === '*') return matchChars(p, i + 1, s, j) || (j < s.length && matchChars(p, i, s, j + 1));
  if (j === s.length) return false;
  if (c === '?') return matchChars(p, i + 1, s, j + 1);
  if (c === '[') return classAccepts(p, i, s[j]!) && matchChars(p, classEnd(p, i), s, j + 1);
  return c === s[j] && matchChars(p, i + 1, s, j + 1);
}

function matchComponent(pattern: string, name: string): boolean {
  return expandBraces(pattern).some((alt) => matchChars(Array.from(alt), 0, Array.from(name), 0));
}

function matchComps(g: readonly string[], gi: number, p: readonly string[], pi: number): boolean {
  if (gi === g.length) return pi === p.length;
  if (g[gi] === '**') return matchComps(g, gi + 1, p, pi) || (pi < p.length && matchComps(g, gi, p, pi + 1));
  return pi < p.length && matchComponent(g[gi]!, p[pi]!) && matchComps(g, gi + 1, p, pi + 1);
}

/** Does this entry match the path (components)? Straight from SPEC §3 "Paths". */
function entryMatches(raw: string, path: readonly string[], mode: 'prefix' | 'component'): boolean {
  const entry = refNormalize(raw, false)!;
  const trailing = /[\\/]$/.test(raw);
  if (isGlob(raw) && entry.some(isGlob)) {
    // The glob matches the path itself or one of its ancestors (the root included); trailing: strictly below.
    const last = trailing ? path.length - 1 : path.length;
    for (let i = 0; i <= last; i++) if (matchComps(entry, 0, path.slice(0, i), 0)) return true;
    return false;
  }
  const e = `/${entry.join('/')}`;
  const p = `/${path.join('/')}`;
  if (trailing) return p.startsWith(`${e}/`);
  if (mode === 'prefix') return p.startsWith(e);
  return p === e || p.startsWith(`${e}/`);
}

function partRegex(part: string): RegExp {
  const body = Array.from(part, (ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : `\\u{${ch.codePointAt(0)!.toString(16)}}`)).join('');
  return new RegExp(`^${body}$`, 'su');
}

function extensionMatches(pattern: string, parts: readonly string[]): boolean {
  const pp = pattern.normalize('NFC').toLowerCase().split('.');
  if (pp.length > parts.length) return false;
  const tail = parts.slice(parts.length - pp.length);
  return pp.every((x, k) => partRegex(x).test(tail[k]!));
}

/** Decides like `compilePolicy(policyJson).decide(access)`, slowly and independently. */
export function referenceDecide(policyJson: unknown, access: Access): Decision {
  const policy = validatePolicy(policyJson);
  checkAccess(access);
  const sc = policy.scope;
  const path = refNormalize(access.path, true);
  if (path === null) return decision('deny', 'invalid-path');
  if (!policy.enabled) return decision('skip', 'policy-disabled', 'enabled');
  if (access.readonlyVolume === true && !sc.scanReadonlyVolumes) return decision('skip', 'readonly-volume', 'scope.scan_readonly_volumes');
  if (sc.onlyExecuteAccess && access.execute !== true) return decision('skip', 'not-execute-access', 'scope.only_execute_access');
  const excluded = sc.excludePaths.find((e) => entryMatches(e, path, sc.pathMatch));
  if (excluded !== undefined) return decision('skip', 'excluded-path', excluded);
  if (sc.includePaths.length > 0 && !sc.includePaths.some((e) => entryMatches(e, path, sc.pathMatch))) {
    return decision('skip', 'not-included-path', 'scope.include_paths');
  }
  const name = path[path.length - 1]!;
  const dot = name.indexOf('.');
  if (dot < 0) {
    if (!sc.scanWithoutExtension) return decision('skip', 'no-extension', 'scope.scan_without_extension');
  } else {
    const parts = name.slice(dot + 1).split('.');
    const len = (p: string) => p.split('.').length;
    const includes = (sc.includeExtensions.length === 0 ? ['*'] : sc.includeExtensions).filter((p) => extensionMatches(p, parts));
    const excludes = sc.excludeExtensions.filter((p) => extensionMatches(p, parts));
    const incLen = Math.max(0, ...includes.map(len));
    const excLen = Math.max(0, ...excludes.map(len));
    if (excLen > 0 && !(incLen > excLen)) {
      return decision('skip', 'excluded-extension', excludes.find((p) => len(p) === excLen)!);
    }
    if (incLen === 0) return decision('skip', 'not-included-extension', 'scope.include_extensions');
  }
  if (access.size > sc.maxFileSize) {
    return decision(sc.oversizeAction === 'deny' ? 'deny' : 'skip', 'too-large', 'scope.max_file_size');
  }
  return decision('scan', 'in-scope');
}
