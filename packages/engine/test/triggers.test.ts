import { describe, expect, it } from 'vitest';
import { PROFILES, triggerFor, type Operation, type Profile, type Trigger } from '../src/triggers.js';

// SPEC §5, transcribed independently of the source table: open, read, close-after-write, close-no-write, rename.
const spec: Record<Profile, string> = {
  'no-scan': '- - - - -',
  standard: 'S - A - S',
  strict: 'S S A A S',
  'writes-only': '- - A - -',
  'cava-standard': '- - A - S',
  'cava-strict': '- S A A S',
};
const ops: Operation[] = ['open', 'read', 'close-after-write', 'close-no-write', 'rename'];
const decode: Record<string, Trigger> = { S: 'sync', A: 'async', '-': 'none' };

describe('triggers (SPEC §5)', () => {
  it('covers every profile', () => {
    expect([...PROFILES].sort()).toEqual(Object.keys(spec).sort());
  });
  for (const profile of PROFILES) {
    const cells = spec[profile].split(' ');
    ops.forEach((op, i) => {
      it(`${profile} / ${op} → ${decode[cells[i]!]}`, () => {
        expect(triggerFor(profile, op)).toBe(decode[cells[i]!]);
      });
    });
  }
});
