import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePolicy, PolicyError, PolicyErrorCodes, Reasons, validatePolicy, type PolicyErrorCode } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (title: string) => readme.split(`## ${title}`)[1]!.split('\n## ')[0]!;

describe('errors catalog ↔ README', () => {
  it('lists the same codes in the catalog and the README Errors table', () => {
    const documented = [...section('Errors').matchAll(/^\| `(ERR_POLICY_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.values(PolicyErrorCodes).sort());
  });
  it('lists every reason in the README Reasons table', () => {
    const documented = [...section('Reasons').matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...Reasons].sort());
  });
  it('codes are unique, stable-looking, and the catalog is frozen', () => {
    const codes = Object.values(PolicyErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^ERR_POLICY_[A-Z_]+$/);
    expect(Object.isFrozen(PolicyErrorCodes)).toBe(true);
  });
});

// Each code, raised by the real API path (compilePolicy or decide) with the field it names.
const ok = compilePolicy({ name: 'p', scope: {} });
const kRaisedBy: Record<PolicyErrorCode, { run: () => unknown; target: string; shows: string }> = {
  ERR_POLICY_WRONG_TYPE: { run: () => compilePolicy({ enabled: null }), target: 'enabled', shows: 'null' },
  ERR_POLICY_UNKNOWN_FIELD: { run: () => compilePolicy({ scope: { exclude_path: [] } }), target: 'scope.exclude_path', shows: 'scope.exclude_path' },
  ERR_POLICY_DUPLICATE_FIELD: { run: () => compilePolicy({ scope: { max_file_size: 2048 }, 'scope.max_file_size': 4096 }), target: 'scope.max_file_size', shows: 'scope.max_file_size' },
  ERR_POLICY_BAD_NAME: { run: () => compilePolicy({ name: 'a b' }), target: 'name', shows: '"a b"' },
  ERR_POLICY_BAD_VALUE: { run: () => compilePolicy({ scope: { path_match: 'glob' } }), target: 'scope.path_match', shows: '"glob"' },
  ERR_POLICY_BAD_SIZE: { run: () => compilePolicy({ scope: { max_file_size: 1023 } }), target: 'scope.max_file_size', shows: '1023' },
  ERR_POLICY_TOO_MANY_ENTRIES: { run: () => compilePolicy({ scope: { exclude_extensions: Array.from({ length: 10_001 }, (_, i) => `x${i}`) } }), target: 'scope.exclude_extensions', shows: '10001' },
  ERR_POLICY_EMPTY_ENTRY: { run: () => compilePolicy({ scope: { exclude_paths: ['\\a', ''] } }), target: 'scope.exclude_paths[1]', shows: 'empty' },
  ERR_POLICY_ENTRY_TOO_LONG: { run: () => compilePolicy({ scope: { include_extensions: ['e'.repeat(256)] } }), target: 'scope.include_extensions[0]', shows: 'eeee' },
  ERR_POLICY_BAD_EXTENSION: { run: () => compilePolicy({ scope: { exclude_extensions: ['.exe'] } }), target: 'scope.exclude_extensions[0]', shows: '".exe"' },
  ERR_POLICY_BAD_GLOB: { run: () => compilePolicy({ scope: { exclude_paths: ['\\a\\{1..3}'] } }), target: 'scope.exclude_paths[0]', shows: '{1..3}' },
  ERR_POLICY_PATH_NOT_FROM_ROOT: { run: () => compilePolicy({ scope: { include_paths: ['vol\\a'] } }), target: 'scope.include_paths[0]', shows: 'vol' },
  ERR_POLICY_INVALID_PATH_ENTRY: { run: () => compilePolicy({ scope: { exclude_paths: ['\\..\\x'] } }), target: 'scope.exclude_paths[0]', shows: '..' },
  ERR_POLICY_BAD_ACCESS: { run: () => ok.decide({ path: '\\a.txt', size: -1 }), target: 'access.size', shows: '-1' },
};

describe('every error code is raised by the API', () => {
  it('the table covers the whole catalog', () => {
    expect(Object.keys(kRaisedBy).sort()).toEqual(Object.values(PolicyErrorCodes).sort());
  });
  for (const [code, { run, target, shows }] of Object.entries(kRaisedBy)) {
    it(`${code}: names \`${target}\` and shows the bad value`, () => {
      let caught: unknown;
      try {
        run();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PolicyError);
      const e = caught as PolicyError;
      expect([e.name, e.code, e.target]).toEqual(['PolicyError', code, target]);
      expect(e.message).toContain(shows);
    });
  }
  it('validatePolicy raises the same codes as compilePolicy', () => {
    expect(() => validatePolicy({ scope: { max_file_size: 1500.5 } })).toThrow(expect.objectContaining({ code: PolicyErrorCodes.BAD_SIZE }));
  });
});
