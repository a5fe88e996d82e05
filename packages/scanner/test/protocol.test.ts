import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandParser, ScannerErrorCodes, kCommands, type ProtocolEvent } from '../dist/index.js';
import { compileAutomaton, createCursor, feed, parseSignatures, threatNames } from '../dist/internal.js';

const kCodes = new Set<string>(Object.values(ScannerErrorCodes));

/** Feeds `input` split at `cuts`, then EOF; returns all events. */
function parseAll(input: Uint8Array, cuts: number[], max = 1 << 20): ProtocolEvent[] {
  const p = new CommandParser(max);
  const events: ProtocolEvent[] = [];
  let last = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c < last || c > input.length) continue;
    events.push(...p.push(input.subarray(last, c)));
    last = c;
  }
  events.push(...p.push(input.subarray(last)), ...p.end());
  return events;
}

function checkInvariants(events: ProtocolEvent[]): void {
  let errors = 0;
  for (const ev of events) {
    expect(errors).toBe(0); // nothing follows an error
    if (ev.type === 'error') {
      errors++;
      expect(kCodes.has(ev.code)).toBe(true);
      expect(ev.message).not.toMatch(/\n|\.$/);
    } else if (ev.type === 'command') {
      expect(kCommands).toContain(ev.name);
      expect(['\0', '\n']).toContain(ev.term);
    }
  }
}

const commandBytes = fc.oneof(
  fc.constantFrom('zPING\0', 'nPING\n', 'PING\n', 'zVERSION\0', 'zSTATS\0', 'zIDSESSION\0', 'zEND\0', 'zSCAN /tmp/x\0', 'nSCAN /a b\n', 'zINSTREAM\0', 'zBOGUS\0').map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }),
  fc.tuple(fc.nat({ max: 2000 }), fc.uint8Array({ maxLength: 40 })).map(([n, d]) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(n);
    return Buffer.concat([h, d]);
  }),
);

describe('CommandParser', () => {
  it('parses every framing and reassembles byte by byte', () => {
    const input = Buffer.from('zIDSESSION\0zPING\0nVERSION\nSTATS\r\nzSCAN /tmp/a b\0zEND\0');
    const whole = parseAll(input, []);
    const bytewise = parseAll(input, [...input.keys()]);
    expect(bytewise).toEqual(whole);
    expect(whole.map((e) => (e.type === 'command' ? `${e.name}|${e.arg}|${JSON.stringify(e.term)}` : e.type))).toEqual([
      'IDSESSION||"\\u0000"', 'PING||"\\u0000"', 'VERSION||"\\n"', 'STATS||"\\n"', 'SCAN|/tmp/a b|"\\u0000"', 'END||"\\u0000"',
    ]);
  });

  it('frames INSTREAM chunks and reports the stream length', () => {
    const input = Buffer.concat([Buffer.from('zINSTREAM\0'), Buffer.from([0, 0, 0, 3]), Buffer.from('abc'), Buffer.from([0, 0, 0, 2]), Buffer.from('de'), Buffer.alloc(4), Buffer.from('zPING\0')]);
    for (const cuts of [[], [...input.keys()], [11, 12, 17]]) {
      const events = parseAll(input, cuts);
      const data = Buffer.concat(events.flatMap((e) => (e.type === 'chunk' ? [e.data] : [])));
      expect(data.toString()).toBe('abcde');
      expect(events.find((e) => e.type === 'stream-end')).toEqual({ type: 'stream-end', length: 5 });
      expect(events.at(-1)).toMatchObject({ type: 'command', name: 'PING' });
    }
  });

  it('turns over-long streams, over-long lines, truncation and unknown commands into coded errors', () => {
    const tooLong = Buffer.concat([Buffer.from('zINSTREAM\0'), Buffer.from([0, 0, 0, 11]), Buffer.alloc(11)]);
    expect(parseAll(tooLong, [], 10).at(-1)).toMatchObject({ type: 'error', code: ScannerErrorCodes.ERR_SCANNER_STREAM_TOO_LONG });
    expect(parseAll(Buffer.alloc(9000, 0x41), []).at(-1)).toMatchObject({ type: 'error', code: ScannerErrorCodes.ERR_SCANNER_PROTOCOL_COMMAND_TOO_LONG });
    expect(parseAll(Buffer.from('zPIN'), [])).toEqual([expect.objectContaining({ type: 'error', code: ScannerErrorCodes.ERR_SCANNER_PROTOCOL_TRUNCATED })]);
    expect(parseAll(Buffer.from('zINSTREAM\0\0\0\0\x05ab'), []).at(-1)).toMatchObject({ code: ScannerErrorCodes.ERR_SCANNER_PROTOCOL_TRUNCATED });
    expect(parseAll(Buffer.from('zSCAN\0'), [])).toEqual([expect.objectContaining({ code: ScannerErrorCodes.ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND })]);
    // A newline inside a NUL-terminated name is echoed escaped: the error reply is one line (fast-check found `z` + `nPING\n`).
    expect(parseAll(Buffer.from('znPING\n\0'), [])).toEqual([expect.objectContaining({ code: ScannerErrorCodes.ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND, message: 'unknown command `nPING\\x0a`' })]);
  });

  it('never throws on random or truncated input: only valid commands or one coded error, independent of splits', () => {
    fc.assert(
      fc.property(fc.array(commandBytes, { maxLength: 12 }), fc.array(fc.nat({ max: 400 }), { maxLength: 8 }), fc.nat({ max: 3000 }), (parts, cuts, max) => {
        const input = Buffer.concat(parts);
        const events = parseAll(input, cuts, max + 1);
        checkInvariants(events);
        // Splitting differently never changes the commands seen.
        const whole = parseAll(input, [], max + 1).filter((e) => e.type !== 'chunk');
        expect(events.filter((e) => e.type !== 'chunk')).toEqual(whole);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 2500 },
    );
  });
});

describe('automaton', () => {
  const db = parseSignatures(['AVSCAN-SIGS/1 version=t timestamp=2025-01-01T00:00:00Z', 'A:61626364', 'B:62636465', 'C:6162636465666768', 'D:78787878:2'].join('\n'));
  const a = compileAutomaton(db.signatures);

  function scan(chunks: Uint8Array[]): string[] {
    const cur = createCursor(a);
    for (const c of chunks) feed(a, cur, c);
    return threatNames(a, cur);
  }

  it('reports overlapping patterns and suffix outputs', () => {
    expect(scan([Buffer.from('zzabcdefghzz')])).toEqual(['A', 'B', 'C']);
    expect(scan([Buffer.from('xxxxxx')])).toEqual(['D']); // D only counts when it starts at offset 2
    expect(scan([Buffer.from('xxxx')])).toEqual([]);
  });

  it('finds the same matches for every way of splitting the input into two or three chunks', () => {
    const input = Buffer.from('..abcdefgh..xxxx');
    const expected = scan([input]);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) expect(scan([input.subarray(0, i), input.subarray(i, j), input.subarray(j)])).toEqual(expected);
    }
  });

  it('finds matches straddling the interleaved lane boundaries and warm-up zones of long chunks', () => {
    const pats = ['A', 'B', 'C'].map((n, i) => ({ name: n, pattern: Uint8Array.from({ length: 8 + i * 12 }, (_, k) => 0x10 * (i + 1) + (k & 15)), offset: -1 }));
    const auto = compileAutomaton(pats);
    const len = 65_536;
    for (const boundary of [16_384, 32_768, 49_152, len]) {
      for (const delta of [-40, -31, -20, -8, -1, 0, 1, 5]) {
        for (const p of pats) {
          const at = boundary + delta;
          if (at < 0 || at + p.pattern.length > len) continue;
          const data = new Uint8Array(len);
          data.set(p.pattern, at);
          const cur = createCursor(auto);
          feed(auto, cur, data);
          expect(threatNames(auto, cur)).toEqual([p.name]);
          expect(cur.foundAt).toEqual([at + p.pattern.length - 1]);
        }
      }
    }
  });

  it('long chunks and chunked streams agree with a naive search (small alphabet, many matches)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 4, maxLength: 40 }).map((u) => u.map((b) => b & 7)), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 8192, max: 40_000 }),
        fc.integer({ min: 1, max: 0xffffff }),
        fc.array(fc.nat({ max: 40_000 }), { maxLength: 4 }),
        (pats, len, seed, cuts) => {
          let x = seed;
          const data = Uint8Array.from({ length: len }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 7);
          const sigs = pats.map((p, i) => ({ name: `S${i}`, pattern: p, offset: i % 3 === 0 ? 100 + i : -1 }));
          const auto = compileAutomaton(sigs);
          const naive = new Set(sigs.filter((s) => (s.offset < 0 ? Buffer.from(data).indexOf(Buffer.from(s.pattern)) >= 0 : Buffer.from(data).subarray(s.offset, s.offset + s.pattern.length).equals(Buffer.from(s.pattern)))).map((s) => s.name));
          const whole = createCursor(auto);
          feed(auto, whole, data);
          expect(new Set(threatNames(auto, whole))).toEqual(naive);
          const chunked = createCursor(auto);
          let last = 0;
          for (const c of [...cuts, len].sort((a, b) => a - b)) {
            if (c < last || c > len) continue;
            feed(auto, chunked, data.subarray(last, c));
            last = c;
          }
          expect(threatNames(auto, chunked)).toEqual(threatNames(auto, whole));
          expect(chunked.state).toBe(whole.state);
        },
      ),
      { numRuns: 60, interruptAfterTimeLimit: 2500 },
    );
  });

  it('agrees with a naive search on random signatures and data', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 4, maxLength: 6 }).map((u) => u.map((b) => b & 3)), { minLength: 1, maxLength: 20 }), fc.uint8Array({ maxLength: 300 }).map((u) => u.map((b) => b & 3)), (pats, data) => {
        const sigs = pats.map((p, i) => ({ name: `S${i}`, pattern: p, offset: -1 }));
        const auto = compileAutomaton(sigs);
        const cur = createCursor(auto);
        feed(auto, cur, data);
        const got = new Set(threatNames(auto, cur));
        const want = new Set(sigs.filter((s) => Buffer.from(data).indexOf(Buffer.from(s.pattern)) >= 0).map((s) => s.name));
        expect(got).toEqual(want);
      }),
      { numRuns: 200, interruptAfterTimeLimit: 2500 },
    );
  });
});
