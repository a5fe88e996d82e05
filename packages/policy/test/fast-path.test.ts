// The decider's fast path reads a raw access path without normalising it first: it checks for
// non-ASCII characters and `:` only in what it reads (the file name, the components the trie walk
// visits, every component when a glob is tried) and folds A–Z as it compares. These properties aim at
// the edges of that shortcut, against the slow reference: characters that normalise to ASCII (KELVIN
// SIGN → k, GREEK QUESTION MARK → ;), combining marks after an ASCII letter, mixed case, trailing dots
// and spaces, `\` and `/` runs, such characters in a walked component or a deep unread one, very long
// paths, and policies of 0, 1 and 100 rules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, PolicyError, type Access } from '../src/index.js';
import { referenceDecide } from '../src/internal.js';

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

/** ASCII words the policies name, in several cases. */
const kAscii = ['vol', 'VOL', 'Vol', 'k', 'K', 'kb', 'KB', 'e', 'E', 'a;', 'data', 'Data', 'x'];
/** Non-ASCII spellings that normalise to (or next to) the words above, and other hostile components. */
const kTricky = [
  '\u212A', // KELVIN SIGN: NFC → K, lower-case → k
  '\u212Ab', // → kb
  'e\u0301', // NFC → é: the ASCII prefix `e` must not match
  'E\u0301',
  'é',
  'a\u037E', // GREEK QUESTION MARK: NFC → `;`
  'ß',
  'İ',
  '😀',
  'a:b', // `:` outside the file name is an ordinary character
];
const kDotty = ['vol.', 'vol ', 'Vol. .', 'data..', '.', '..', '...', ' '];
const kSeps = ['\\', '/', '\\\\', '/\\'];
const kNames = [
  'x.exe', 'X.EXE', 'x.Exe', 'f.kb', 'F.KB', 'f.\u212Ab', 'f.K', 'f.\u212A', 'f.e\u0301', 'f.é', 'f.a;', 'f.a\u037E',
  'noext', 'x.exe.', 'x.exe ', 'x.exe:s', 'x:s.exe', '.kb', 'a.b.kb', 'A.B.KB', 'x.tar.gz', 'X.TAR.GZ', 'x.\u00e9xe',
];

const component = fc.oneof({ weight: 6, arbitrary: pick(kAscii) }, { weight: 3, arbitrary: pick(kTricky) }, { weight: 1, arbitrary: pick(kDotty) });
const path = fc
  .record({
    lead: fc.boolean(),
    dirs: fc.array(fc.tuple(component, pick(kSeps)), { maxLength: 6 }),
    name: pick(kNames),
    trail: fc.oneof(pick(['', '', '', '\\', '/', '\\/'])),
  })
  .map(({ lead, dirs, name, trail }) => (lead ? '\\' : '') + dirs.map(([c, s]) => c + s).join('') + name + trail);

/** Entries that key on the ASCII forms (the fast path must not be fooled by the tricky spellings). */
const kEntries = [
  '\\vol\\k', '\\vol\\kb\\', '\\vol\\e', '\\vol\\é', '\\vol\\a;', '\\VOL\\data', '\\vol\\*\\k', '\\**\\kb\\',
  '/vol/data/x', '\\k', '\\e\\', '\\vol\\k*', '\\vol\\{e,kb}\\data',
];
const kExtensions = ['exe', 'kb', 'k', 'é', '*b', 'tar.gz', 'b.kb', 'e*', 'EXE'];

/** `n` filler rules that never match the generated paths, so the trie is as wide as a real policy's. */
function fillers(n: number): { paths: string[]; extensions: string[] } {
  const paths: string[] = [];
  const extensions: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) paths.push(`\\vol${i % 7}\\filler${i}${i % 3 === 0 ? '\\' : ''}`);
    else extensions.push(`z${i}`);
  }
  return { paths, extensions };
}

const policy = fc
  .record({
    fill: pick([0, 1, 100]),
    exclude_paths: fc.array(pick(kEntries), { maxLength: 3 }),
    include_paths: fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array(pick(['\\vol', '\\*', '\\VOL\\k', '\\vol\\e']), { minLength: 1, maxLength: 2 }) }),
    exclude_extensions: fc.array(pick(kExtensions), { maxLength: 3 }),
    include_extensions: fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array(pick(kExtensions), { minLength: 1, maxLength: 2 }) }),
    path_match: pick(['prefix', 'component']),
    scan_without_extension: fc.boolean(),
  })
  .map(({ fill, exclude_paths, exclude_extensions, ...rest }) => {
    const f = fillers(fill);
    return {
      name: 'fast',
      scope: { ...rest, exclude_paths: [...f.paths, ...exclude_paths], exclude_extensions: [...f.extensions, ...exclude_extensions] },
    };
  });

function agree(p: unknown, a: Access): void {
  let compiled;
  try {
    compiled = compilePolicy(p);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return;
  }
  const got = compiled.decide(a);
  expect(got, JSON.stringify({ p, a })).toEqual(referenceDecide(p, a));
  expect(compiled.explain(a).decision).toBe(got);
}

describe('fast path agrees with the reference', () => {
  it('on tricky characters in walked and unread components (0, 1 and 100 rules)', () => {
    fc.assert(
      fc.property(policy, fc.array(path, { minLength: 1, maxLength: 6 }), (p, paths) => {
        for (const path of paths) agree(p, { path, size: 1 });
      }),
      { numRuns: 800, seed: 9 },
    );
  });

  it('on very long paths, the tricky component near the start, in the middle or in the name', () => {
    const long = fc
      .record({ depth: fc.integer({ min: 50, max: 400 }), at: fc.nat(), tricky: component, sep: pick(kSeps), name: pick(kNames), head: pick(['\\vol\\', '\\VOL\\kb\\', '/vol/data/', '']) })
      .map(({ depth, at, tricky, sep, name, head }) => {
        const parts = Array.from({ length: depth }, (_, i) => (i % 5 === 0 ? 'Data' : `d${i}`));
        parts[at % depth] = tricky;
        return head + parts.join(sep) + sep + name;
      });
    fc.assert(
      fc.property(policy, long, (p, path) => {
        expect(path.length).toBeGreaterThan(150);
        agree(p, { path, size: 1 });
      }),
      { numRuns: 300, seed: 10 },
    );
  });

  it('on random seeds too', () => {
    fc.assert(
      fc.property(policy, path, (p, path) => agree(p, { path, size: 1 })),
      { numRuns: 300 },
    );
  });
});

describe('fast path boundaries', () => {
  const p = {
    name: 'b',
    scope: { exclude_paths: ['\\vol\\k', '\\vol\\kb\\', '\\vol\\e', '\\vol\\*\\tmp'], exclude_extensions: ['kb', 'k', 'é', 'exe'], path_match: 'prefix' },
  };
  const compiled = compilePolicy(p);
  const d = (path: string) => compiled.decide({ path, size: 1 });

  it.each([
    // [path, reason, rule]
    ['\\VOL\\K\\f.txt', 'excluded-path', '\\vol\\k'],
    ['\\vol\\\u212A\\f.txt', 'excluded-path', '\\vol\\k'], // KELVIN SIGN folds to k only through NFC
    ['\\vol\\\u212Ab\\x\\f.txt', 'excluded-path', '\\vol\\k'], // the lower-index prefix entry wins
    ['\\vol\\kx\\f.txt', 'excluded-path', '\\vol\\k'], // prefix mode: `\vol\k` covers `\vol\kx`
    ['\\vol\\e\u0301x\\f.txt', 'in-scope', undefined], // é is not e: no prefix match on the ASCII `e`
    ['\\vol\\ex\\f.txt', 'excluded-path', '\\vol\\e'],
    ['\\vol.\\k \\f.txt', 'excluded-path', '\\vol\\k'], // trailing dots and spaces are stripped
    ['/vol//k/f.txt', 'excluded-path', '\\vol\\k'],
    ['\\vol\\x\\tmp\\f.txt', 'excluded-path', '\\vol\\*\\tmp'],
    ['\\vol\\\u00e9\\tmp\\f.txt', 'excluded-path', '\\vol\\*\\tmp'], // non-ASCII under a glob
    ['\\a\\f.KB', 'excluded-extension', 'kb'],
    ['\\a\\f.\u212Ab', 'excluded-extension', 'kb'],
    ['\\a\\f.\u212A', 'excluded-extension', 'k'],
    ['\\a\\f.e\u0301', 'excluded-extension', 'é'],
    ['\\a\\f.EXE:stream', 'excluded-extension', 'exe'],
    ['\\a\\f.exe.', 'excluded-extension', 'exe'],
    ['\\a\\\u212A\\..\\f.exe', 'excluded-extension', 'exe'],
  ] as const)('%s → %s', (path, reason, rule) => {
    const got = d(path);
    expect(got).toEqual(referenceDecide(p, { path, size: 1 }));
    expect(got.reason).toBe(reason);
    expect(got.rule).toBe(rule);
  });

  it('non-ASCII deep in an unread component does not change a decision, `..` after a match does', () => {
    const deep = `\\vol\\k\\${'x\\'.repeat(300)}é\\f.txt`;
    expect(d(deep)).toMatchObject({ reason: 'excluded-path', rule: '\\vol\\k' });
    expect(d(`\\vol\\k\\a\\..\\..\\b\\f.txt`).reason).toBe('in-scope');
    expect(d(`\\vol\\k\\${'x\\'.repeat(300)}\0\\f.txt`).reason).toBe('invalid-path');
    expect(d(`\\vol\\k\\${'x\\'.repeat(300)}...\\f.txt`).reason).toBe('invalid-path');
  });
});

describe('fast path boundaries without globs (the walk alone decides)', () => {
  const q = { name: 'q', scope: { exclude_paths: ['\\vol\\é', '\\vol\\k\\', '\\vol\\data'], path_match: 'prefix' } };
  const compiled = compilePolicy(q);

  it.each([
    ['\\VOL\\E\u0301\\f.txt', 'excluded-path', '\\vol\\é'], // `E` has no key, but NFC composes it with the mark
    ['\\vol\\e\u0301x\\f.txt', 'excluded-path', '\\vol\\é'],
    ['\\vol\\ex\\f.txt', 'in-scope', undefined], // no key starts with `e`: the walk stops at the first character
    ['\\vol\\\u212A\\a\\f.txt', 'excluded-path', '\\vol\\k\\'],
    ['\\vol\\\u212A.\\f.txt', 'excluded-path', '\\vol\\k\\'], // trailing dot stripped, then NFC
    ['\\vol\\k', 'in-scope', undefined], // `\vol\k\` covers only what lies below it
    ['\\vol\\Datax\\f.txt', 'excluded-path', '\\vol\\data'],
    ['\\vol\\zz\u00e9\\f.txt', 'in-scope', undefined],
  ] as const)('%s → %s', (path, reason, rule) => {
    const got = compiled.decide({ path, size: 1 });
    expect(got).toEqual(referenceDecide(q, { path, size: 1 }));
    expect(got.reason).toBe(reason);
    expect(got.rule).toBe(rule);
  });
});
