import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePolicy, type Access } from '../src/index.js';
import { referenceDecide } from '../src/internal.js';

interface Case {
  readonly name: string;
  readonly policy: unknown;
  readonly access: Access;
  readonly expect: { readonly action: string; readonly reason: string };
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/policy-cases.json', import.meta.url), 'utf8')) as Case[];

describe('shared conformance cases (SPEC §3)', () => {
  it('has all 38 cases', () => {
    expect(cases).toHaveLength(38);
  });
  for (const c of cases) {
    it(`decide: ${c.name}`, () => {
      const d = compilePolicy(c.policy).decide(c.access);
      expect({ action: d.action, reason: d.reason }).toEqual(c.expect);
    });
    it(`reference: ${c.name}`, () => {
      const d = referenceDecide(c.policy, c.access);
      expect({ action: d.action, reason: d.reason }).toEqual(c.expect);
    });
    it(`explain ends with the decision: ${c.name}`, () => {
      const compiled = compilePolicy(c.policy);
      const e = compiled.explain(c.access);
      expect(e.decision).toEqual(compiled.decide(c.access));
      expect(e.steps.at(-1)?.decided).toBe(true);
      expect(e.steps.filter((s) => s.decided)).toHaveLength(1);
    });
  }
});
