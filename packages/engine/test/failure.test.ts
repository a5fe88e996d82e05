import { describe, expect, it } from 'vitest';
import { answerFailure, type OnFailure } from '../src/failure.js';

const cases: Array<[OnFailure, { previouslyClean: boolean; modified: boolean; quarantined: boolean }, boolean]> = [
  ['deny', { previouslyClean: true, modified: false, quarantined: false }, false],
  ['deny', { previouslyClean: false, modified: true, quarantined: false }, false],
  ['allow', { previouslyClean: false, modified: true, quarantined: false }, true],
  ['allow', { previouslyClean: true, modified: false, quarantined: false }, true],
  ['allow', { previouslyClean: false, modified: false, quarantined: true }, false],
  ['allow-if-previously-clean', { previouslyClean: true, modified: false, quarantined: false }, true],
  ['allow-if-previously-clean', { previouslyClean: true, modified: true, quarantined: false }, false],
  ['allow-if-previously-clean', { previouslyClean: false, modified: false, quarantined: false }, false],
  ['allow-if-previously-clean', { previouslyClean: true, modified: false, quarantined: true }, false],
];

describe('failure policy (SPEC §7)', () => {
  for (const [mode, prior, allow] of cases) {
    it(`${mode} with ${JSON.stringify(prior)} → ${allow ? 'allow' : 'deny'}`, () => {
      expect(answerFailure(mode, prior).allow).toBe(allow);
    });
  }
});
