// Every validation rule and error code, with its boundary.
import { describe, expect, it } from 'vitest';
import { compilePolicy, PolicyError, PolicyErrorCodes as C, validatePolicy, type PolicyErrorCode } from '../src/index.js';

function refused(json: unknown, code: PolicyErrorCode, target?: string): PolicyError {
  let caught: unknown;
  try {
    compilePolicy(json);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PolicyError);
  const e = caught as PolicyError;
  expect(e.code).toBe(code);
  if (target !== undefined) expect(e.target).toBe(target);
  expect(e.message).not.toMatch(/\.$/);
  expect(e.message[0]).toBe(e.message[0]!.toLowerCase());
  return e;
}
const scope = (s: Record<string, unknown>) => ({ name: 'p', scope: s });

describe('policy shape', () => {
  it('fills every default', () => {
    expect(validatePolicy({})).toEqual({
      name: 'default_CIFS',
      enabled: true,
      mandatory: true,
      onFailure: 'deny',
      scope: {
        includeExtensions: ['*'],
        excludeExtensions: [],
        excludePaths: [],
        includePaths: [],
        maxFileSize: 2147483648,
        onlyExecuteAccess: false,
        scanReadonlyVolumes: false,
        scanWithoutExtension: true,
        oversizeAction: 'allow',
        pathMatch: 'prefix',
      },
    });
  });
  it('on_failure defaults from mandatory, and on_failure wins when both are given', () => {
    expect(validatePolicy({ mandatory: false }).onFailure).toBe('allow');
    expect(validatePolicy({ mandatory: true, on_failure: 'allow-if-previously-clean' }).onFailure).toBe('allow-if-previously-clean');
    refused({ on_failure: 'maybe' }, C.BAD_VALUE, 'on_failure');
  });
  it('refuses non-objects', () => {
    for (const v of [null, [], 'x', 1, true]) refused(v, C.WRONG_TYPE, 'policy');
    refused({ scope: null }, C.WRONG_TYPE, 'scope');
    refused({ scope: [] }, C.WRONG_TYPE, 'scope');
  });
  it('refuses unknown fields, nested, dotted and prototype keys', () => {
    refused({ nope: 1 }, C.UNKNOWN_FIELD, 'nope');
    refused(scope({ max_size: 1 }), C.UNKNOWN_FIELD, 'scope.max_size');
    refused({ 'scope.nope': 1 }, C.UNKNOWN_FIELD, 'scope.nope');
    refused(JSON.parse('{"__proto__": {"enabled": false}}'), C.UNKNOWN_FIELD, '__proto__');
    refused(JSON.parse('{"scope": {"__proto__": {}}}'), C.UNKNOWN_FIELD, 'scope.__proto__');
    refused({ Enabled: true }, C.UNKNOWN_FIELD);
  });
  it('accepts dotted keys, mixed with nested ones, but not the same field twice', () => {
    const p = validatePolicy({ scope: { exclude_paths: ['\\a'] }, 'scope.max_file_size': 1024 });
    expect(p.scope.maxFileSize).toBe(1024);
    expect(p.scope.excludePaths).toEqual(['\\a']);
    const e = refused({ scope: { max_file_size: 2048 }, 'scope.max_file_size': 1024 }, C.DUPLICATE_FIELD, 'scope.max_file_size');
    expect(e.message).toContain('scope.max_file_size');
  });
  it('null is a wrong type, not absent', () => {
    refused({ enabled: null }, C.WRONG_TYPE, 'enabled');
    refused(scope({ max_file_size: null }), C.WRONG_TYPE, 'scope.max_file_size');
    refused(scope({ exclude_paths: null }), C.WRONG_TYPE, 'scope.exclude_paths');
    refused({ 'scope.scan_without_extension': null }, C.WRONG_TYPE, 'scope.scan_without_extension');
  });
  it('checks every boolean and enum field', () => {
    for (const f of ['only_execute_access', 'scan_readonly_volumes', 'scan_without_extension']) {
      refused(scope({ [f]: 'true' }), C.WRONG_TYPE, `scope.${f}`);
    }
    refused({ mandatory: 1 }, C.WRONG_TYPE, 'mandatory');
    refused(scope({ oversize_action: 'block' }), C.BAD_VALUE, 'scope.oversize_action');
    refused(scope({ path_match: 'Prefix' }), C.BAD_VALUE, 'scope.path_match');
    refused(scope({ path_match: 1 }), C.WRONG_TYPE, 'scope.path_match');
  });
});

describe('name', () => {
  it('accepts 1 to 256 characters of [A-Za-z0-9_.-]', () => {
    expect(validatePolicy({ name: 'a' }).name).toBe('a');
    expect(validatePolicy({ name: 'x'.repeat(256) }).name).toHaveLength(256);
    expect(validatePolicy({ name: 'A-z_0.9' }).name).toBe('A-z_0.9');
  });
  it('refuses empty, too long, other characters, and non-strings', () => {
    refused({ name: '' }, C.BAD_NAME, 'name');
    refused({ name: 'x'.repeat(257) }, C.BAD_NAME, 'name');
    for (const n of ['a b', 'é', 'a/b', 'a\n']) refused({ name: n }, C.BAD_NAME, 'name');
    refused({ name: 5 }, C.WRONG_TYPE, 'name');
  });
});

describe('max_file_size', () => {
  it('accepts the bounds', () => {
    expect(validatePolicy(scope({ max_file_size: 1024 })).scope.maxFileSize).toBe(1024);
    expect(validatePolicy(scope({ max_file_size: 1099511627776 })).scope.maxFileSize).toBe(1099511627776);
  });
  it('refuses just outside the bounds and non-integers, showing the value', () => {
    const e = refused(scope({ max_file_size: 1023 }), C.BAD_SIZE, 'scope.max_file_size');
    expect(e.message).toContain('`1023`');
    refused(scope({ max_file_size: 1099511627777 }), C.BAD_SIZE);
    refused(scope({ max_file_size: 1024.5 }), C.BAD_SIZE);
    refused(scope({ max_file_size: Number.NaN }), C.BAD_SIZE);
    refused(scope({ max_file_size: '2048' }), C.WRONG_TYPE);
  });
});

describe('lists', () => {
  it('accepts 10,000 entries and refuses 10,001', () => {
    const exts = Array.from({ length: 10_000 }, (_, i) => `e${i}`);
    expect(compilePolicy(scope({ exclude_extensions: exts })).policy.scope.excludeExtensions).toHaveLength(10_000);
    refused(scope({ exclude_extensions: [...exts, 'x'] }), C.TOO_MANY_ENTRIES, 'scope.exclude_extensions');
    const paths = Array.from({ length: 10_001 }, (_, i) => `\\p${i}`);
    refused(scope({ include_paths: paths }), C.TOO_MANY_ENTRIES, 'scope.include_paths');
  });
  it('refuses non-string and empty entries with their index', () => {
    refused(scope({ exclude_paths: ['\\a', 3] }), C.WRONG_TYPE, 'scope.exclude_paths[1]');
    refused(scope({ exclude_paths: ['\\a', null] }), C.WRONG_TYPE, 'scope.exclude_paths[1]');
    refused(scope({ include_extensions: ['exe', ''] }), C.EMPTY_ENTRY, 'scope.include_extensions[1]');
    refused(scope({ exclude_paths: [''] }), C.EMPTY_ENTRY, 'scope.exclude_paths[0]');
  });
  it('counts the 255-character limit in code points', () => {
    expect(() => compilePolicy(scope({ exclude_extensions: ['x'.repeat(255)] }))).not.toThrow();
    refused(scope({ exclude_extensions: ['x'.repeat(256)] }), C.ENTRY_TOO_LONG, 'scope.exclude_extensions[0]');
    // 255 astral characters are 510 UTF-16 units but 255 code points: accepted.
    expect(() => compilePolicy(scope({ exclude_extensions: ['😀'.repeat(255)] }))).not.toThrow();
    refused(scope({ exclude_extensions: ['😀'.repeat(256)] }), C.ENTRY_TOO_LONG);
    expect(() => compilePolicy(scope({ exclude_paths: [`\\${'é'.repeat(254)}`] }))).not.toThrow();
    refused(scope({ exclude_paths: [`\\${'a'.repeat(255)}`] }), C.ENTRY_TOO_LONG, 'scope.exclude_paths[0]');
  });
});

describe('extensions', () => {
  it('refuses empty parts with advice about dots', () => {
    for (const x of ['.exe', 'exe.', 'tar..gz', '.', '..']) {
      const e = refused(scope({ exclude_extensions: [x] }), C.BAD_EXTENSION, 'scope.exclude_extensions[0]');
      expect(e.message).toContain('without dots at the ends');
    }
    refused(scope({ include_extensions: ['.exe'] }), C.BAD_EXTENSION, 'scope.include_extensions[0]');
  });
  it('refuses separators and non-`*`/`?` wildcards', () => {
    for (const x of ['a/b', 'a\\b']) refused(scope({ exclude_extensions: [x] }), C.BAD_EXTENSION);
    for (const x of ['[ab]', '{a,b}', 'a]']) refused(scope({ exclude_extensions: [x] }), C.BAD_EXTENSION);
    refused(scope({ exclude_extensions: ['a\0'] }), C.BAD_EXTENSION);
  });
  it('accepts wildcard and multi-part patterns', () => {
    expect(() => compilePolicy(scope({ exclude_extensions: ['*', '*.bak', '?xe', 'tar.gz', 'mp*', 'EXE'] }))).not.toThrow();
  });
});

describe('path entries', () => {
  it('must start at the root', () => {
    for (const x of ['vol\\a', 'a', '*\\x', ' \\a']) refused(scope({ exclude_paths: [x] }), C.PATH_NOT_FROM_ROOT, 'scope.exclude_paths[0]');
    refused(scope({ include_paths: ['x'] }), C.PATH_NOT_FROM_ROOT, 'scope.include_paths[0]');
  });
  it('refuses entries that normalise to an invalid path', () => {
    for (const x of ['\\', '/', '\\\\', '\\..\\x', '\\v\\...', '\\v\\. .', '\\a\\..\\..', '\\a\0']) {
      refused(scope({ exclude_paths: [x] }), C.INVALID_PATH_ENTRY, 'scope.exclude_paths[0]');
    }
  });
  it('accepts entries with dots that resolve below the root', () => {
    expect(() => compilePolicy(scope({ exclude_paths: ['\\a\\..\\b', '\\a\\.\\b\\', '\\tmp.', '\\a:b'] }))).not.toThrow();
  });
  it('refuses malformed and unsupported globs', () => {
    const bad = [
      '\\a\\@(x|y)*', '\\a\\+(x)*', '\\a|b*', '\\a\\{1..3}', '\\a\\{}', '\\a\\{x}', '\\a\\[[:alpha:]]', '\\a\\[', '\\a\\[]',
      '\\a\\[!]', '\\a\\{a,b', '\\a\\[a\\b]', '\\a\\{a\\,b}', '\\a\\b]*', '\\a\\b}*', '\\x**', '\\**x', '\\a\\***', '\\a\\[z-a]',
    ];
    for (const x of bad) {
      const e = refused(scope({ exclude_paths: [x] }), C.BAD_GLOB, 'scope.exclude_paths[0]');
      expect(e.message).toContain('not a supported glob');
    }
  });
  it('accepts the documented glob syntax', () => {
    const ok = ['\\home\\*\\AppData', '\\**\\tmp\\', '\\a\\?b', '\\a\\[abc]*', '\\a\\[!a-c]', '\\a\\[^x]', '\\a\\{x,y}*', '\\a\\[[]x*', '\\Program Files (x86)\\*', '\\**'];
    expect(() => compilePolicy(scope({ exclude_paths: ok }))).not.toThrow();
  });
  it('strips trailing dots and spaces from each component before validating a glob (SPEC §3 order)', () => {
    // `\a\**.\b` is the glob /a/**/b and `\x\**  ` is /x/**: once refused as ERR_POLICY_BAD_GLOB.
    const p = compilePolicy(scope({ exclude_paths: ['\\a\\**.\\b', '\\x\\**  ', '\\y\\*. .\\z', '\\w\\[ab]. '] }));
    const reason = (path: string) => p.decide({ path, size: 1 }).reason;
    expect(reason('\\a\\b')).toBe('excluded-path');
    expect(reason('\\a\\q\\r\\b\\f.txt')).toBe('excluded-path');
    expect(reason('\\a\\c\\f.txt')).toBe('in-scope');
    expect(reason('\\x\\anything\\f.txt')).toBe('excluded-path');
    expect(reason('\\y\\k\\z\\f.txt')).toBe('excluded-path');
    expect(reason('\\w\\b\\f.txt')).toBe('excluded-path');
    expect(reason('\\w\\c\\f.txt')).toBe('in-scope');
    expect(p.decide({ path: '\\a\\b', size: 1 }).rule).toBe('\\a\\**.\\b');
    // Stripping does not make a malformed glob acceptable, nor `**` glued to text.
    for (const x of ['\\a\\[ab.', '\\a\\x**.', '\\a\\{a,b .']) refused(scope({ exclude_paths: [x] }), C.BAD_GLOB, 'scope.exclude_paths[0]');
  });
  it('an entry without * ? [ { is literal, whatever else it holds', () => {
    const p = compilePolicy(scope({ exclude_paths: ['\\a\\@(x|y)'] }));
    expect(p.decide({ path: '\\a\\@(x|y)\\f.txt', size: 1 }).reason).toBe('excluded-path');
    expect(p.decide({ path: '\\a\\x\\f.txt', size: 1 }).reason).toBe('in-scope');
  });
});

describe('compiled object', () => {
  it('is frozen, exposes the normalised policy and a stable revision', () => {
    const a = compilePolicy({ name: 'p', scope: { exclude_extensions: ['exe'] } });
    const b = compilePolicy({ 'scope.exclude_extensions': ['exe'], name: 'p' });
    const c = compilePolicy({ name: 'p', scope: { exclude_extensions: ['dll'] } });
    expect(a.revision).toMatch(/^[0-9a-f]{16}$/);
    expect(a.revision).toBe(b.revision);
    expect(a.revision).not.toBe(c.revision);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.policy.scope.excludeExtensions)).toBe(true);
  });
});
