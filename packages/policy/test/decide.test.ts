// One boundary test per rule and per reason, plus access validation and hostile inputs.
import { describe, expect, it } from 'vitest';
import { compilePolicy, normalizePath, PolicyError, PolicyErrorCodes, Reasons, type Access } from '../src/index.js';
import { referenceDecide } from '../src/internal.js';

function both(json: unknown, access: Access) {
  const d = compilePolicy(json).decide(access);
  expect(d).toEqual(referenceDecide(json, access));
  return d;
}
const P = (s: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({ name: 'p', ...top, scope: s });
const A = (path: string, size = 1000, extra: Partial<Access> = {}): Access => ({ path, size, ...extra });

describe('order of evaluation and every reason', () => {
  it('0 invalid-path beats a disabled policy', () => {
    expect(both(P({}, { enabled: false }), A('\\..\\x'))).toEqual({ action: 'deny', reason: 'invalid-path' });
  });
  it('1 policy-disabled beats read-only', () => {
    expect(both(P({}, { enabled: false }), A('\\a.exe', 1, { readonlyVolume: true })).reason).toBe('policy-disabled');
  });
  it('2 readonly-volume beats execute-only', () => {
    expect(both(P({ only_execute_access: true }), A('\\a.exe', 1, { readonlyVolume: true })).reason).toBe('readonly-volume');
    expect(both(P({ only_execute_access: true, scan_readonly_volumes: true }), A('\\a.exe', 1, { readonlyVolume: true })).reason).toBe('not-execute-access');
  });
  it('3 not-execute-access beats excluded-path', () => {
    expect(both(P({ only_execute_access: true, exclude_paths: ['\\a'] }), A('\\a\\x.exe')).reason).toBe('not-execute-access');
    expect(both(P({ only_execute_access: true, exclude_paths: ['\\a'] }), A('\\a\\x.exe', 1, { execute: true })).reason).toBe('excluded-path');
  });
  it('4 excluded-path beats not-included-path, which beats extensions', () => {
    const p = P({ exclude_paths: ['\\a\\b'], include_paths: ['\\c'], exclude_extensions: ['exe'] });
    expect(both(p, A('\\a\\b\\x.exe'))).toEqual({ action: 'skip', reason: 'excluded-path', rule: '\\a\\b' });
    expect(both(p, A('\\a\\x.exe'))).toEqual({ action: 'skip', reason: 'not-included-path', rule: 'scope.include_paths' });
    expect(both(p, A('\\c\\x.exe'))).toEqual({ action: 'skip', reason: 'excluded-extension', rule: 'exe' });
    expect(both(p, A('\\c\\x.txt')).reason).toBe('in-scope');
  });
  it('5 extensions beat size, and excluded files are never denied for size', () => {
    const p = P({ exclude_extensions: ['iso'], include_extensions: ['iso', 'exe'], scan_without_extension: false, max_file_size: 1024, oversize_action: 'deny' });
    expect(both(p, A('\\a.iso', 1e9)).reason).toBe('excluded-extension');
    expect(both(p, A('\\a.txt', 1e9))).toEqual({ action: 'skip', reason: 'not-included-extension', rule: 'scope.include_extensions' });
    expect(both(p, A('\\Makefile', 1e9))).toEqual({ action: 'skip', reason: 'no-extension', rule: 'scope.scan_without_extension' });
    expect(both(p, A('\\a.exe', 1025))).toEqual({ action: 'deny', reason: 'too-large', rule: 'scope.max_file_size' });
  });
  it('6 size boundary: equal is scanned, one more is too large', () => {
    const p = P({ max_file_size: 4096 });
    expect(both(p, A('\\a.exe', 4096)).action).toBe('scan');
    expect(both(p, A('\\a.exe', 4097))).toEqual({ action: 'skip', reason: 'too-large', rule: 'scope.max_file_size' });
    expect(both(p, A('\\a.exe', 0)).action).toBe('scan');
  });
  it('covers every reason', () => {
    const seen = new Set<string>();
    const cases: [unknown, Access][] = [
      [P(), A('\\')], [P({}, { enabled: false }), A('\\a')], [P(), A('\\a', 1, { readonlyVolume: true })],
      [P({ only_execute_access: true }), A('\\a')], [P({ exclude_paths: ['\\a'] }), A('\\a')], [P({ include_paths: ['\\b'] }), A('\\a')],
      [P({ scan_without_extension: false }), A('\\a')], [P({ exclude_extensions: ['x'] }), A('\\a.x')], [P({ include_extensions: ['y'] }), A('\\a.x')],
      [P({ max_file_size: 1024 }), A('\\a', 1025)], [P(), A('\\a')],
    ];
    for (const [p, a] of cases) seen.add(both(p, a).reason);
    expect([...seen].sort()).toEqual([...Reasons].sort());
  });
});

describe('paths', () => {
  it('normalises as SPEC §3 says', () => {
    expect(normalizePath('\\\\Vol//A\\.\\b\\..\\Doc.TXT:zone.exe')).toEqual({ valid: true, components: ['vol', 'a', 'doc.txt'], path: '/vol/a/doc.txt' });
    expect(normalizePath('rel\\x')).toMatchObject({ valid: true, path: '/rel/x' });
    expect(normalizePath('\\a\\evil.exe. . ')).toMatchObject({ path: '/a/evil.exe' });
    expect(normalizePath('\\a\\Cafe\u0301')).toMatchObject({ path: '/a/café' });
    for (const bad of ['', '\\', '\\v\\:s', '\\..', '\\a\\...', '\\a\0b', '\\a\\. .\\b']) expect(normalizePath(bad).valid).toBe(false);
    expect(normalizePath('\\a:b\\c').valid).toBe(true); // a colon outside the last component is an ordinary character
  });
  it('prefix mode: string prefix; trailing separator: strictly below; component mode: whole components', () => {
    const pre = P({ exclude_paths: ['\\vol\\a'] });
    expect(both(pre, A('\\vol\\a')).reason).toBe('excluded-path');
    expect(both(pre, A('\\vol\\ab\\x')).reason).toBe('excluded-path');
    expect(both(pre, A('\\vol\\b')).reason).toBe('in-scope');
    const below = P({ exclude_paths: ['\\vol\\a\\'] });
    expect(both(below, A('\\vol\\a')).reason).toBe('in-scope');
    expect(both(below, A('\\vol\\a\\x')).reason).toBe('excluded-path');
    expect(both(below, A('\\vol\\ab\\x')).reason).toBe('in-scope');
    const comp = P({ exclude_paths: ['\\vol\\a'], path_match: 'component' });
    expect(both(comp, A('\\vol\\a')).reason).toBe('excluded-path');
    expect(both(comp, A('\\vol\\a\\x')).reason).toBe('excluded-path');
    expect(both(comp, A('\\vol\\ab')).reason).toBe('in-scope');
  });
  it('globs match the path or an ancestor; trailing separator means strictly below', () => {
    const g = P({ exclude_paths: ['\\home\\*\\AppData', '/**/Temp/', '\\x\\{a,b}?\\*.[ch]'] });
    expect(both(g, A('\\home\\ann\\appdata')).rule).toBe('\\home\\*\\AppData');
    expect(both(g, A('\\home\\ann\\AppData\\Local\\y.exe')).reason).toBe('excluded-path');
    expect(both(g, A('\\home\\AppData\\y.exe')).reason).toBe('in-scope');
    expect(both(g, A('\\d\\e\\temp')).reason).toBe('in-scope');
    expect(both(g, A('\\d\\e\\temp\\f')).rule).toBe('/**/Temp/');
    expect(both(g, A('\\temp\\f')).rule).toBe('/**/Temp/');
    expect(both(g, A('\\x\\a1\\m.c')).reason).toBe('excluded-path');
    expect(both(g, A('\\x\\c1\\m.c')).reason).toBe('in-scope');
  });
  it('reports the lowest-index matching entry', () => {
    const p = P({ exclude_paths: ['\\a\\b\\c', '\\a\\*', '\\a'] });
    expect(both(p, A('\\a\\b\\c\\d')).rule).toBe('\\a\\b\\c');
    expect(both(p, A('\\a\\x')).rule).toBe('\\a\\*');
  });
  it('many siblings (map-backed trie nodes) still match exactly', () => {
    const entries = Array.from({ length: 50 }, (_, i) => `\\vol\\d${i}${i % 2 ? '\\' : ''}`);
    for (const mode of ['prefix', 'component']) {
      const p = P({ exclude_paths: entries, path_match: mode });
      for (const path of ['\\vol\\d7', '\\vol\\d7x\\f', '\\vol\\d8', '\\vol\\d8\\f', '\\vol\\d49\\f', '\\vol\\d5\\f', '\\vol\\e']) both(p, A(path));
    }
  });
});

describe('extensions', () => {
  it('longest match wins; exclude wins at equal length; stem never matches', () => {
    const p = P({ include_extensions: ['pdf.exe', 'gz'], exclude_extensions: ['exe', 'tar.gz', '*.bak'] });
    expect(both(p, A('\\i.pdf.exe')).reason).toBe('in-scope');
    expect(both(p, A('\\i.doc.exe')).rule).toBe('exe');
    expect(both(p, A('\\x.tar.gz')).rule).toBe('tar.gz');
    expect(both(p, A('\\tar.gz')).reason).toBe('in-scope');
    expect(both(p, A('\\db.mdf.bak')).rule).toBe('*.bak');
    expect(both(p, A('\\db.bak')).reason).toBe('not-included-extension');
    expect(both(p, A('\\exe')).reason).toBe('in-scope');
  });
  it('dotfiles and trailing dots', () => {
    const p = P({ exclude_extensions: ['bashrc', 'json'], scan_without_extension: false });
    expect(both(p, A('\\.bashrc')).reason).toBe('excluded-extension');
    expect(both(p, A('\\.config.json')).reason).toBe('excluded-extension');
    expect(both(p, A('\\notes.')).reason).toBe('no-extension');
    expect(both(p, A('\\x.json:stream.exe')).reason).toBe('excluded-extension');
  });
  it('Unicode: NFC and lower-casing on both sides', () => {
    const p = P({ exclude_extensions: ['CAFE\u0301', 'ß'] });
    expect(both(p, A('\\a.café')).reason).toBe('excluded-extension');
    expect(both(p, A('\\a.ß')).reason).toBe('excluded-extension');
  });
});

describe('access validation', () => {
  const c = compilePolicy(P());
  it('throws a coded error for caller bugs only', () => {
    const bad: unknown[] = [
      { path: 1, size: 1 }, { path: null, size: 1 }, { path: '\\a', size: -1 }, { path: '\\a', size: 1.5 }, { path: '\\a', size: 2 ** 53 },
      { path: '\\a', size: '1' }, { path: '\\a', size: 1, execute: 'yes' }, { path: '\\a', size: 1, readonlyVolume: 1 }, null, undefined,
    ];
    for (const a of bad) {
      try {
        c.decide(a as Access);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(PolicyError);
        expect((err as PolicyError).code).toBe(PolicyErrorCodes.BAD_ACCESS);
      }
    }
    expect(c.decide({ path: '\\a', size: Number.MAX_SAFE_INTEGER }).reason).toBe('too-large');
  });
  it('decide returns shared frozen decisions (no allocation per call)', () => {
    const d1 = c.decide(A('\\a\\b.exe'));
    const d2 = c.decide(A('\\c\\d.txt'));
    expect(d1).toBe(d2);
    expect(Object.isFrozen(d1)).toBe(true);
  });
});

describe('malicious input', () => {
  it('64 KiB paths are decided (valid, invalid, one huge component) against multi-star globs', () => {
    const p = P({ exclude_paths: ['\\*a*a*a*a*a*a*b', '\\**\\*a*a*a*a*b\\', '\\{a,b}{a,b}{a,b}{a,b}*'], exclude_extensions: ['*a*a*a*a*a*b', 'x'] });
    const c = compilePolicy(p);
    const deep = '\\a'.repeat(32 * 1024);
    const huge = `\\${'a'.repeat(64 * 1024)}`;
    const hugeExt = `\\f.${'a'.repeat(64 * 1024)}`;
    // No glob matches (each needs a `b` or a 4-character first component) and there is no extension.
    expect(c.decide(A(deep)).reason).toBe('in-scope');
    expect(c.decide(A(`${deep}\\b`)).reason).toBe('in-scope');
    expect(c.decide(A(`\\aaab${deep}`)).rule).toBe('\\{a,b}{a,b}{a,b}{a,b}*');
    expect(c.decide(A(`\\aaaaaab${deep}`)).rule).toBe('\\*a*a*a*a*a*a*b');
    // The multi-star glob (index 0) is tried first and fails in linear-ish time; the brace glob matches.
    expect(c.decide(A(huge)).rule).toBe('\\{a,b}{a,b}{a,b}{a,b}*');
    expect(c.decide(A(hugeExt)).reason).toBe('in-scope');
    expect(c.decide(A(`${deep}\\..\\x.x`)).rule).toBe('x');
    expect(c.decide(A(`${'\\..'.repeat(30_000)}\\x`)).reason).toBe('invalid-path');
    expect(c.decide(A(`\\${'é'.repeat(32 * 1024)}:${'x'.repeat(1000)}`)).reason).toBe('in-scope');
    expect(c.decide(A(`${huge}\0`)).reason).toBe('invalid-path');
  });
  it('deeply nested or exploding braces are refused quickly', () => {
    const t0 = Date.now();
    expect(() => compilePolicy(P({ exclude_paths: [`\\${'{a,'.repeat(40)}b${'}'.repeat(40)}`] }))).toThrow(PolicyError);
    expect(() => compilePolicy(P({ exclude_paths: [`\\${'{a,b}'.repeat(40)}`] }))).toThrow(/256 alternatives/);
    expect(() => compilePolicy(P({ exclude_paths: [`\\${'['.repeat(200)}`] }))).toThrow(PolicyError);
    expect(Date.now() - t0).toBeLessThan(5_000); // a hang guard, not a benchmark
  });
  it('10,000-entry lists compile and decide like the reference', () => {
    const paths = Array.from({ length: 10_000 }, (_, i) => (i % 50 === 0 ? `\\v${i % 7}\\*\\g${i}` : `\\v${i % 7}\\d${i}${i % 3 ? '' : '\\'}`));
    const exts = Array.from({ length: 10_000 }, (_, i) => (i % 10 ? `e${i}` : `e*${i}.z`));
    const p = P({ exclude_paths: paths, exclude_extensions: exts });
    const c = compilePolicy(p);
    const probes = ['\\v3\\d10\\x.txt', '\\v3\\d3\\x', '\\v0\\d0', '\\v0\\d0\\f', '\\v0\\q\\g50\\f', '\\v1\\q\\g50', '\\v9\\x.e77', '\\v9\\x.eQ10.z', '\\v9\\x.e10'];
    for (const path of probes) expect(c.decide(A(path))).toEqual(referenceDecide(p, A(path)));
    expect(c.decide(A('\\v3\\d10\\x.txt'))).toEqual({ action: 'skip', reason: 'excluded-path', rule: '\\v3\\d10' });
  });

  it('folds A–Z in ASCII paths on every matcher (hashed and scanned trie nodes, partial keys, globs, extensions)', () => {
    // More than 8 keys per node puts the trie and the partial keys behind hash maps; fewer keeps them in
    // linear scans. The fast path matches the raw path with A–Z folded, never a lower-cased copy.
    for (const n of [4, 40]) {
      const names = Array.from({ length: n }, (_, i) => `dir${i}x`);
      const p = P({
        exclude_paths: [...names.map((d) => `\\vol\\${d}\\`), ...names.map((d) => `\\pre\\${d}`), '\\g\\*\\Cache'],
        exclude_extensions: [...names.map((_, i) => `ext${i}`), 'b?k', 'tar.gz'],
      });
      const c = compilePolicy(p);
      const probes = [
        '\\VOL\\DIR3X\\f.txt', '\\Vol\\dir3X', '\\PRE\\DIR3XY\\f.txt', '\\pre\\Dir3\\f.txt', '\\G\\User\\CACHE\\x.doc',
        '\\a\\F.EXT3', '\\a\\f.Ext33', '\\a\\F.BAK', '\\a\\F.BIK', '\\a\\F.TAR.GZ', '\\a\\f.Tar.Gz', '\\a\\F.GZ', '\\a\\F.DOC',
      ];
      for (const path of probes) expect(c.decide(A(path)), `${n}: ${path}`).toEqual(referenceDecide(p, A(path)));
      expect(c.decide(A('\\VOL\\DIR3X\\f.txt')).rule).toBe('\\vol\\dir3x\\');
      expect(c.decide(A('\\PRE\\DIR3XY\\f.txt')).rule).toBe('\\pre\\dir3x');
      expect(c.decide(A('\\a\\F.BIK')).reason).toBe('excluded-extension');
    }
  });
});
