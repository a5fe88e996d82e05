// The front door's parser-free first chunk (src/frontdoor/quick.ts) against the scanner package's
// CommandParser, the protocol's one definition: whatever quickScan takes, the parser reads as exactly
// one SCAN of the same path with the same terminator.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandParser, type ProtocolEvent } from '@avscan/scanner';
import { quickScan } from '../../src/frontdoor/quick.js';

function parsed(chunk: Buffer): ProtocolEvent[] {
  return new CommandParser(0).push(chunk);
}

const piece = fc.oneof(
  fc.constantFrom('z', 'n', 'SCAN', 'SCAN ', 'zSCAN ', 'nSCAN ', 'PING', ' ', '/', '\0', '\n', '\r', '\r\n', 'é', '\u{1F600}', 'zEND\0', 'zIDSESSION\0'),
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString('latin1')),
);

describe('quickScan', () => {
  it('takes one whole SCAN per chunk, in each framing', () => {
    expect(quickScan(Buffer.from('zSCAN /vol/a b.txt\0'))).toEqual({ path: '/vol/a b.txt', term: '\0' });
    expect(quickScan(Buffer.from('nSCAN /vol/é\n'))).toEqual({ path: '/vol/é', term: '\n' });
    expect(quickScan(Buffer.from('SCAN /x\r\n'))).toEqual({ path: '/x', term: '\n' });
  });

  it('leaves everything else to the parser', () => {
    for (const s of ['zSCAN /a', 'zSCAN /a\0zSCAN /b\0', 'zSCAN /a\0x', 'zSCAN \0', 'SCAN \r\n', 'zPING\0', 'zSCANX /a\0', 'SCAN /a\0', 'zIDSESSION\0']) {
      expect(quickScan(Buffer.from(s)), JSON.stringify(s)).toBeUndefined();
    }
    // Longer than PATH_MAX: the parser applies its own length limit.
    expect(quickScan(Buffer.from(`zSCAN /${'a'.repeat(5000)}\0`))).toBeUndefined();
  });

  it('reads every chunk it takes exactly as the parser does', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), fc.boolean(), (parts, asBytes) => {
        const chunk = asBytes ? Buffer.from(parts.join(''), 'latin1') : Buffer.from(parts.join(''));
        const quick = quickScan(chunk);
        if (quick === undefined) return;
        expect(parsed(chunk)).toEqual([{ type: 'command', name: 'SCAN', arg: quick.path, term: quick.term }]);
      }),
      { numRuns: 3000 },
    );
    // And takes the usual commands the parser reads as one SCAN.
    fc.assert(
      fc.property(fc.constantFrom('zSCAN ', 'nSCAN ', 'SCAN '), fc.string({ minLength: 1, maxLength: 60 }).filter((p) => !/[\0\n]/.test(p) && !p.endsWith('\r')), (cmd, p) => {
        const chunk = Buffer.from(`${cmd}${p}${cmd.startsWith('z') ? '\0' : '\n'}`);
        const quick = quickScan(chunk);
        expect(quick).toBeDefined();
        expect(parsed(chunk)).toEqual([{ type: 'command', name: 'SCAN', arg: quick!.path, term: quick!.term }]);
      }),
      { numRuns: 500 },
    );
  });
});
