import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PolicyError, PolicyErrorCodes, Reasons } from '../src/index.js';

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
  it('PolicyError carries code and target', () => {
    const e = new PolicyError(PolicyErrorCodes.BAD_SIZE, 'x', 'scope.max_file_size');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('ERR_POLICY_BAD_SIZE');
    expect(e.target).toBe('scope.max_file_size');
    expect(e.name).toBe('PolicyError');
  });
});
