import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScanAbortedError, ScannerError, ScannerErrorCodes } from '../dist/index.js';

describe('error catalog', () => {
  it('lists exactly the codes of the README Errors table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(ScannerErrorCodes).sort());
    for (const [k, v] of Object.entries(ScannerErrorCodes)) expect(v).toBe(k);
    expect(Object.isFrozen(ScannerErrorCodes)).toBe(true);
  });

  it('errors carry their code; aborts look like AbortError', () => {
    const e = new ScannerError(ScannerErrorCodes.ERR_SCANNER_CLOSED, 'scan engine is closed');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('ERR_SCANNER_CLOSED');
    const a = new ScanAbortedError('why');
    expect([a.name, a.code, a.cause]).toEqual(['AbortError', 'ERR_SCANNER_ABORTED', 'why']);
  });
});
