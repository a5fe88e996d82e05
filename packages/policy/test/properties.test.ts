// Differential and invariant properties: the compiled decider against the slow reference, on random
// policies and hostile paths. Runs are bounded (numRuns) so the suite stays in seconds.
import fc from 'fast-check';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { compilePolicy, PolicyError, type Access, type Decision } from '../src/index.js';
import { compileSegment, globSegments, matchSegments, referenceDecide } from '../src/internal.js';

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

const kDirNames = ['a', 'b', 'ab', 'A', 'Ab', 'vol', 'VOL', 'tmp', 'x.y', 'é', 'e\u0301', 'É', 'ß', 'İ', '😀', 'a:b', 'data'];
const kHostile = ['.', '..', '...', 'a.', 'a ', ' ', '. .', 'ab. .', 'tmp..'];
const kFileNames = [
  'x.exe', 'X.EXE', 'a.tar.gz', 'tar.gz', '.bashrc', 'Makefile', 'notes.', 'evil.exe.', 'db.mdf.bak', 'db.bak',
  'x.TAR.GZ', 'a..b', 'café.exe', 'cafe\u0301.EXE', 'x.exe:stream.txt', 'x.mp3', 'x.amp', 'a.xe', 'r.doc', 'r.docx',
  '😀.😀', 'ab', 'a', 'q.e\u0301', ':s', 'x.pdf.exe',
];
const kSeps = ['\\', '/', '\\\\', '/\\'];

const component = fc.oneof({ weight: 6, arbitrary: pick(kDirNames) }, { weight: 1, arbitrary: pick(kHostile) });
const hostilePath = fc
  .record({
    lead: fc.boolean(),
    dirs: fc.array(fc.tuple(component, pick(kSeps)), { maxLength: 5 }),
    file: pick(kFileNames),
    trail: fc.boolean(),
  })
  .map(({ lead, dirs, file, trail }) => (lead ? '\\' : '') + dirs.map(([c, s]) => c + s).join('') + file + (trail ? '/' : ''));

const globComponent = pick(['*', '?', 'a*', '*b', '[ab]', '[!a]', '[^b]', '{a,b}', '**', 'a?', '*.exe', '[a-c]*', '{vol,tmp}', '*.{exe,gz}', '[[]', 'x.*']);
const entry = fc
  .record({
    comps: fc.array(fc.oneof({ weight: 3, arbitrary: pick(kDirNames) }, { weight: 2, arbitrary: globComponent }, { weight: 1, arbitrary: pick(['..', '.', 'x.exe', 'tar.gz']) }), {
      minLength: 1,
      maxLength: 4,
    }),
    sep: pick(['\\', '/']),
    trail: fc.boolean(),
  })
  .map(({ comps, sep, trail }) => sep + comps.join(sep) + (trail ? sep : ''));
const extension = pick(['exe', 'EXE', 'tar.gz', 'gz', '*', '*.bak', '?xe', 'mp*', 'e\u0301', 'é', 'a*b', '*.*', 'bashrc', 'txt', 'doc', 'pdf.exe', '😀', '?', 'b']);

const policy = fc.record(
  {
    name: fc.constant('p'),
    enabled: fc.boolean(),
    scope: fc.record(
      {
        include_extensions: fc.array(extension, { maxLength: 3 }),
        exclude_extensions: fc.array(extension, { maxLength: 4 }),
        exclude_paths: fc.array(entry, { maxLength: 4 }),
        include_paths: fc.array(entry, { maxLength: 2 }),
        max_file_size: pick([1024, 4096]),
        only_execute_access: fc.boolean(),
        scan_readonly_volumes: fc.boolean(),
        scan_without_extension: fc.boolean(),
        oversize_action: pick(['allow', 'deny']),
        path_match: pick(['prefix', 'component']),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name', 'scope'] },
);
const access = fc.record({
  path: hostilePath,
  size: pick([0, 1024, 1025, 4096, 5000]),
  execute: fc.boolean(),
  readonlyVolume: fc.boolean(),
});

function tryCompile(p: unknown) {
  try {
    return compilePolicy(p);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect(() => referenceDecide(p, { path: '\\a', size: 0 })).toThrow(PolicyError);
    return null;
  }
}

describe('compiled decide agrees with the reference', () => {
  it('on random policies × hostile paths (decision and rule)', () => {
    fc.assert(
      fc.property(policy, fc.array(access, { minLength: 1, maxLength: 8 }), (p, accesses) => {
        const compiled = tryCompile(p);
        if (compiled === null) return;
        for (const a of accesses) {
          const got: Decision = compiled.decide(a);
          expect(got, JSON.stringify({ p, a })).toEqual(referenceDecide(p, a));
          expect(compiled.explain(a).decision).toBe(got);
        }
      }),
      { numRuns: 600, seed: 42 },
    );
  });

  it('on random seeds too (not just the fixed one)', () => {
    fc.assert(
      fc.property(policy, access, (p, a) => {
        const compiled = tryCompile(p);
        if (compiled !== null) expect(compiled.decide(a)).toEqual(referenceDecide(p, a));
      }),
      { numRuns: 300 },
    );
  });
});

describe('invariants', () => {
  it('adding an exclude entry never turns a skip into a scan', () => {
    fc.assert(
      fc.property(policy, access, fc.oneof(entry.map((e) => ({ e })), extension.map((x) => ({ x }))), (p, a, extra) => {
        const before = tryCompile(p);
        if (before === null) return;
        const scope = { ...p.scope };
        if ('e' in extra) scope.exclude_paths = [...(scope.exclude_paths ?? []), extra.e];
        else scope.exclude_extensions = [...(scope.exclude_extensions ?? []), extra.x];
        const after = tryCompile({ ...p, scope });
        if (after === null) return;
        const b = before.decide(a);
        const c = after.decide(a);
        if (b.action === 'skip') expect(c.action).toBe('skip');
        if (b.action !== 'scan') expect(c.action).not.toBe('scan');
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('decide never throws for any string path', () => {
    const json = {
      name: 'p',
      scope: { exclude_paths: ['\\a\\*\\b', '\\vol\\x', '\\**\\tmp\\'], exclude_extensions: ['exe', '*.bak'], include_paths: ['/v*'] },
    };
    const compiled = compilePolicy(json);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }), hostilePath), fc.nat(), (path, size) => {
        const d = compiled.decide({ path, size });
        expect(['scan', 'skip', 'deny']).toContain(d.action);
        expect(d).toEqual(referenceDecide(json, { path, size }));
      }),
      { numRuns: 400, seed: 3 },
    );
  });
});

describe('glob matcher agrees with picomatch on generated ASCII globs', () => {
  // Glob strings are generated atom by atom (not picked from a list): literals, `?`, `*`, classes with
  // ranges and `!`/`^` negation, braces whose alternatives hold wildcards, and whole-component `**`.
  const kAlphabet = ['a', 'b', 'c', '.'];
  const literal = pick(kAlphabet);
  const classText = fc
    .record({
      neg: pick(['', '!', '^']),
      members: fc.array(fc.oneof(pick(['a', 'b', 'c', '.']), pick(['a-b', 'a-c', 'b-c'])), { minLength: 1, maxLength: 3 }),
    })
    .map(({ neg, members }) => `[${neg}${members.join('')}]`);
  const simpleAtom = fc.oneof({ weight: 4, arbitrary: literal }, { weight: 2, arbitrary: pick(['?', '*']) }, { weight: 2, arbitrary: classText });
  // No two stars in a row: `**` inside a component is refused (checked elsewhere).
  const noDoubleStar = (atoms: string[]) => atoms.join('').replace(/\*{2,}/g, '*');
  // Alternatives holding `..` are left out: picomatch reads `{a..c}` as a range (which SPEC refuses).
  const brace = fc
    .array(fc.array(simpleAtom, { minLength: 1, maxLength: 3 }).map(noDoubleStar).filter((a) => !a.includes('..')), { minLength: 2, maxLength: 3 })
    .map((alts) => `{${alts.join(',')}}`);
  const componentGlob = fc
    .array(fc.oneof({ weight: 5, arbitrary: simpleAtom }, { weight: 1, arbitrary: brace }), { minLength: 1, maxLength: 4 })
    .map(noDoubleStar);
  // Normalisation strips trailing dots and drops `.` components, so a glob component never ends in one.
  const globComps = fc.array(fc.oneof({ weight: 6, arbitrary: componentGlob.filter((c) => !c.endsWith('.')) }, { weight: 1, arbitrary: fc.constant('**') }), { minLength: 1, maxLength: 4 });
  // Path components are normalised too: never `.`/`..`, never a trailing dot.
  const pathComp = fc.array(literal, { minLength: 1, maxLength: 3 }).map((cs) => cs.join('')).filter((c) => !c.endsWith('.'));
  const pathComps = fc.array(pathComp, { minLength: 1, maxLength: 5 });

  // picomatch 4 compiles `[!a]` to a regex that also matches `a` (a literal-or-class alternation),
  // so it is given the `^` spelling of the same class.
  const forPicomatch = (glob: string) => glob.replace(/\[!/g, '[^');

  // picomatch 4's trailing `/**` does not match zero components after a component ending in a
  // wildcard (`x*/**` misses `xa`, `x/**` matches `x`), which SPEC's `**` does: a trailing `/**` is
  // asked as "without it, or with it".
  function pico(path: string, glob: string): boolean {
    if (glob.endsWith('/**') && pico(path, glob.slice(0, -3))) return true;
    return picomatch.isMatch(path, forPicomatch(glob), { dot: true });
  }

  function ours(comps: readonly string[], path: readonly string[], ancestors: boolean): boolean {
    const segs = comps.map(compileSegment);
    const s = `/${path.join('/')}`;
    const starts: number[] = [];
    const ends: number[] = [];
    let pos = 0;
    for (const c of path) {
      starts.push(pos + 1);
      pos += 1 + c.length;
      ends.push(pos);
    }
    return matchSegments(ancestors ? globSegments(segs, false) : segs, s, starts, ends, path.length);
  }

  // Compared without the leading `/`: picomatch 4 does not let a leading `/**/` match zero components.
  for (const seed of [11, 12, 13, 14]) {
    it(`matches like picomatch with dot: true, the path itself and its ancestors (seed ${seed})`, () => {
      fc.assert(
        fc.property(globComps, pathComps, (comps, path) => {
          const glob = comps.join('/');
          const p = path.join('/');
          expect(ours(comps, path, false), `${glob} vs ${p}`).toBe(pico(p, glob));
          const orBelow = pico(p, glob) || pico(p, `${glob}/**`);
          expect(ours(comps, path, true), `${glob}/** vs ${p}`).toBe(orBelow);
          expect(path.some((_, k) => pico(path.slice(0, k + 1).join('/'), glob))).toBe(orBelow);
        }),
        { numRuns: 1500, seed },
      );
    });
  }
});

describe('compile refuses what validation must refuse', () => {
  const bad = fc.oneof(
    pick(['.exe', 'exe.', 'tar..gz', 'a/b', 'a\\b', '', '.', '[ab]', '{a,b}']).map((x) => ({ scope: { exclude_extensions: [x] } })),
    pick([
      '\\a\\@(x|y)*', '\\a\\{1..3}', '\\a\\[[:alpha:]]', '\\a\\[', '\\a\\{a,b', '\\a\\[a\\b]', '\\a\\{a\\,b}', '\\a\\b]*',
      '\\{}', '\\x**', '\\a\\[]', '\\a\\[z-a]', 'a\\b', 'vol', '\\', '\\..\\x', '\\v\\...', '\\a\\*(x)', '\\{a}', '\\a|b*', '',
    ]).map((x) => ({ scope: { exclude_paths: [x] } })),
    fc.oneof(fc.double({ noInteger: true, min: 1024, max: 1e6 }), pick([1023, 0, -1, 1099511627777, Number.NaN, Infinity])).map((x) => ({ scope: { max_file_size: x } })),
    pick([null, 1, 'yes', [], {}]).map((x) => ({ enabled: x })),
    pick(['', 'a b', 'x'.repeat(257), 'é', 'a/b']).map((x) => ({ name: x })),
    pick(['scope.nope', 'nope', '__proto__', 'Enabled']).map((k) => ({ [k]: true })),
  );
  it('throws a coded PolicyError', () => {
    fc.assert(
      fc.property(bad, (p) => {
        expect(() => compilePolicy({ name: 'p', ...p })).toThrow(PolicyError);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});

// Keep the arbitrary types honest for tsc.
export type { Access };
