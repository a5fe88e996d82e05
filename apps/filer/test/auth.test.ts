// Basic auth: constant-time check of the credentials; accepted headers are remembered (bounded), so a
// keep-alive client's repeated header costs a map lookup, and a wrong one is never remembered.
import { describe, expect, it } from 'vitest';
import { makeAuthenticator } from '../src/server/auth.js';

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('makeAuthenticator', () => {
  const auth = makeAuthenticator([{ name: 'admin', password: 'pw' }, { name: 'ops', password: 'a:b' }]);

  it('accepts each user, again and again; refuses wrong, missing and malformed headers with 401', () => {
    for (let i = 0; i < 3; i++) expect(auth(basic('admin', 'pw'))).toBe('admin');
    expect(auth(basic('ops', 'a:b'))).toBe('ops');
    expect(auth(`basic   ${Buffer.from('admin:pw').toString('base64')}`)).toBe('admin');
    for (const h of [basic('admin', 'PW'), basic('admin', 'pw '), basic('nobody', 'pw'), 'Bearer x', 'Basic !!!', '', undefined]) {
      expect(() => auth(h)).toThrow(expect.objectContaining({ status: 401, code: '6' }));
    }
  });

  it('remembers at most 64 accepted headers; a forgotten one is checked again and still accepted', () => {
    const a = makeAuthenticator([{ name: 'u', password: 'p' }]);
    const variants = Array.from({ length: 100 }, (_, i) => `Basic ${Buffer.from('u:p').toString('base64')}${' '.repeat(i)}`);
    for (const v of variants) expect(a(v)).toBe('u');
    for (const v of variants) expect(a(v)).toBe('u');
    expect(() => a(basic('u', 'q'))).toThrow(expect.objectContaining({ status: 401 }));
  });
});
