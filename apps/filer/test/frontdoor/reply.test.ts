// Answer → clamd reply: allows are OK, infections FOUND, every other deny an ERROR (the only word
// that makes Samba with `block access on error = yes` deny).
import type { Answer } from '@avscan/engine';
import { describe, expect, it } from 'vitest';
import { replyOf } from '../../src/index.js';

const answer = (a: Partial<Answer>): Answer => ({ allow: false, reason: 'clean', rule: undefined, verdict: undefined, decisionId: 'd', policyRevision: 'r', trigger: 'sync', joined: false, ...a }) as Answer;

describe('replyOf', () => {
  it('allows are OK whatever their reason', () => {
    for (const reason of ['clean', 'scan-current', 'excluded-extension', 'not-triggered', 'vscan-disabled', 'failure-allow', 'failure-allow-previously-clean'] as const) {
      expect(replyOf(answer({ allow: true, reason }))).toEqual({ kind: 'OK', text: 'OK' });
    }
  });

  it('infected names the first threat; quarantined the stored one, or a fixed name', () => {
    expect(replyOf(answer({ reason: 'infected', verdict: { result: 'infected', threats: ['Eicar-Test-Signature', 'X'] } }))).toEqual({ kind: 'FOUND', text: 'Eicar-Test-Signature FOUND' });
    expect(replyOf(answer({ reason: 'quarantined' }), ['Win.Test.X'])).toEqual({ kind: 'FOUND', text: 'Win.Test.X FOUND' });
    expect(replyOf(answer({ reason: 'quarantined' }), [])).toEqual({ kind: 'FOUND', text: 'Avscan.Quarantined FOUND' });
  });

  it('other denies are ERROR, one line, with the failure kind', () => {
    expect(replyOf(answer({ reason: 'invalid-path' })).text).toBe('Access denied: path not valid for the policy ERROR');
    const r = replyOf(answer({ reason: 'failure-deny-not-previously-clean', verdict: { result: 'failure', kind: 'timeout', message: 'no reply\nin 30 s\0' } }));
    expect(r).toEqual({ kind: 'ERROR', text: 'Access denied: no verdict and the file was not previously clean (timeout: no reply in 30 s ) ERROR' });
  });
});
