import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DispatchError } from '../src/index.js';
import { parseClamdReply, parsePing, parseSessionReply, parseVersion, pathRefused, pathSendable, stripUnofficial } from '../src/internal.js';

describe('clamd reply parser', () => {
  it.each([
    ['stream: OK\0', { kind: 'clean' }],
    ['stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0', { kind: 'infected', threats: ['Eicar-Test-Signature'] }],
    ['stream: Win.Test.EICAR_HDB-1 FOUND', { kind: 'infected', threats: ['Win.Test.EICAR_HDB-1'] }],
    ['INSTREAM size limit exceeded. ERROR\0', { kind: 'too-large', message: 'INSTREAM size limit exceeded.' }],
    ['stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND\0', { kind: 'too-large', message: 'Heuristics.Limits.Exceeded.MaxFileSize' }],
    ['COMMAND READ TIMED OUT\n', { kind: 'error', message: 'clamd command read timed out' }],
  ])('%j', (reply, want) => {
    expect(parseClamdReply(reply)).toEqual(want);
  });

  it('parses SCAN replies whose path contains `: `', () => {
    expect(parseClamdReply('/a: b/c.txt: OK', '/a: b/c.txt')).toEqual({ kind: 'clean' });
    expect(parseClamdReply('/a: b/x: Test.Seed.Marker.UNOFFICIAL FOUND', '/a: b/x')).toEqual({ kind: 'infected', threats: ['Test.Seed.Marker'] });
    expect(parseClamdReply('/x: File path check failure: No such file or directory. ERROR', '/x')).toEqual({
      kind: 'error', message: 'File path check failure: No such file or directory.',
    });
  });

  it('collects every name of an ALLMATCHSCAN reply', () => {
    expect(parseClamdReply('/f: A.UNOFFICIAL FOUND\n/f: B FOUND\n', '/f')).toEqual({ kind: 'infected', threats: ['A', 'B'] });
  });

  it.each(['', '\0', 'UNKNOWN COMMAND\0', 'stream: FOUND', 'stream: two words FOUND', 'PONG', 'stream: MAYBE'])('refuses %j with ERR_DISPATCH_PROTOCOL', (reply) => {
    expect(() => parseClamdReply(reply)).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_PROTOCOL' }));
  });

  it('strips only a trailing .UNOFFICIAL', () => {
    expect(stripUnofficial('A.UNOFFICIAL')).toBe('A');
    expect(stripUnofficial('A.UNOFFICIAL.B')).toBe('A.UNOFFICIAL.B');
  });

  it('parses VERSION with and without the database part', () => {
    expect(parseVersion('ClamAV 1.4.6/27000/Mon Jan  1 10:00:00 2024\0')).toEqual({
      vendor: 'ClamAV', version: '1.4.6', dbVersion: '27000', dbTime: Date.UTC(2024, 0, 1, 10), stamp: 'ClamAV 1.4.6/27000',
    });
    expect(parseVersion('ClamAV 1.4.6\0')).toEqual({ vendor: 'ClamAV', version: '1.4.6', dbVersion: null, dbTime: null, stamp: 'ClamAV 1.4.6' });
    expect(parseVersion('ClamAV 1.4.6/avscan-test-1/Sun Jun  1 00:00:00 2025')).toMatchObject({ dbVersion: 'avscan-test-1', dbTime: Date.UTC(2025, 5, 1), stamp: 'ClamAV 1.4.6/avscan-test-1' });
    expect(() => parseVersion('garbage')).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_PROTOCOL' }));
  });

  it('parses PING and session replies', () => {
    expect(() => parsePing('PONG\0')).not.toThrow();
    expect(() => parsePing('PANG\0')).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_PROTOCOL' }));
    expect(parseSessionReply('3: stream: OK\0')).toEqual({ id: 3, body: 'stream: OK' });
    expect(() => parseSessionReply('stream: OK')).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_PROTOCOL' }));
  });

  it('never throws anything but a coded error on random or truncated input', () => {
    const known = ['stream: OK\0', 'stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0', 'INSTREAM size limit exceeded. ERROR\0', '1: PONG\0', 'ClamAV 1.4.6/27000/Mon Jan  1 10:00:00 2024\0'];
    const input = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(...known).chain((k) => fc.nat(k.length).map((n) => k.slice(0, n))),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    fc.assert(
      fc.property(input, (s) => {
        for (const f of [parseClamdReply, parseVersion, parseSessionReply, parsePing] as Array<(s: string) => unknown>) {
          try {
            f(s);
          } catch (e) {
            expect(e).toBeInstanceOf(DispatchError);
            expect((e as DispatchError).code).toBe('ERR_DISPATCH_PROTOCOL');
          }
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 3000 },
    );
  });
});

describe('clamd zSCAN replies (scan by path)', () => {
  const p = '/vol/a dir/name: with colon.txt';
  it('maps `<path>: OK`, `<path>: <Name> FOUND` and `<path>: <msg> ERROR` with the path as subject', () => {
    expect(parseClamdReply(`${p}: OK\0`, p)).toEqual({ kind: 'clean' });
    expect(parseClamdReply(`${p}: Eicar-Test-Signature.UNOFFICIAL FOUND\0`, p)).toEqual({ kind: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(parseClamdReply(`${p}: Access denied. ERROR`, p)).toEqual({ kind: 'error', message: 'Access denied.' });
  });

  it.each([
    'Access denied.', 'File path check failure: Permission denied.', 'File path check failure: No such file or directory.',
    'lstat() failed: Permission denied.', "Can't open file or directory", 'Symbolic link',
  ])('a refusal to read the path (%s) is a fallback case', (msg) => {
    expect(pathRefused(parseClamdReply(`${p}: ${msg} ERROR`, p))).toBe(true);
  });

  it('`Excluded` (clamd ExcludePath) is a fallback case, not a protocol error; a file NAMED so is not', () => {
    expect(parseClamdReply(`${p}: Excluded\0`, p)).toEqual({ kind: 'error', message: 'Excluded' });
    expect(pathRefused(parseClamdReply(`${p}: Excluded`, p))).toBe(true);
    expect(parseClamdReply('/v/x: Excluded: OK', '/v/x: Excluded')).toEqual({ kind: 'clean' });
  });

  it('other errors and verdicts are not', () => {
    expect(pathRefused(parseClamdReply(`${p}: Can't allocate memory ERROR`, p))).toBe(false);
    // A FIFO or device: streaming it would not work either.
    expect(pathRefused(parseClamdReply(`${p}: Not supported file type ERROR`, p))).toBe(false);
    expect(pathRefused(parseClamdReply(`${p}: OK`, p))).toBe(false);
    expect(pathRefused(parseClamdReply(`${p}: Access.denied FOUND`, p))).toBe(false);
    expect(pathRefused({ kind: 'too-large', message: 'Access denied' })).toBe(false);
  });

  it('only absolute paths without NUL or newline are sent', () => {
    expect(pathSendable('/a/b c')).toBe(true);
    expect(pathSendable('relative/a')).toBe(false);
    expect(pathSendable('')).toBe(false);
    expect(pathSendable('/a\0b')).toBe(false);
    expect(pathSendable('/a\nb')).toBe(false);
  });
});
