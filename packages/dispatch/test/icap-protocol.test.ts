import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DispatchError } from '../src/index.js';
import { IcapResponseParser, icapVerdict, parseIcapResponse } from '../src/internal.js';

const httpHead = 'HTTP/1.1 403 Forbidden\r\nServer: C-ICAP\r\n\r\n';
const infected = [
  'ICAP/1.0 200 OK',
  'Server: C-ICAP/0.5.10',
  'Connection: keep-alive',
  'ISTag: "CI0001-XXXX"',
  'X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature.UNOFFICIAL;',
  'X-Violations-Found: 1',
  '\t-',
  '\tEicar-Test-Signature.UNOFFICIAL',
  '\t0',
  '\t0',
  `Encapsulated: res-hdr=0, res-body=${httpHead.length}`,
  '',
  '',
].join('\r\n');
const body = 'VIRUS FOUND <html>';
const infectedWire = Buffer.from(`${infected}${httpHead}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);

describe('ICAP response parser', () => {
  it('parses a c-icap infection response with folded headers and a chunked body', () => {
    const r = parseIcapResponse(infectedWire);
    expect(r.status).toBe(200);
    expect(r.headers.get('istag')).toBe('"CI0001-XXXX"');
    expect(r.headers.get('x-violations-found')).toBe('1\n-\nEicar-Test-Signature.UNOFFICIAL\n0\n0');
    expect(r.bodyLength).toBe(body.length);
    expect(icapVerdict(r)).toEqual({ kind: 'infected', threats: ['Eicar-Test-Signature'] });
  });

  it('gets the same response whatever the split of the bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(infectedWire.length), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const p = new IcapResponseParser();
        let r = null;
        let prev = 0;
        for (const c of [...points, infectedWire.length]) {
          const got = p.feed(infectedWire.subarray(prev, c));
          prev = c;
          if (got) {
            r = got;
            break;
          }
        }
        expect(r).not.toBeNull();
        expect(prev).toBe(infectedWire.length);
        expect(icapVerdict(r!)).toEqual({ kind: 'infected', threats: ['Eicar-Test-Signature'] });
      }),
      { numRuns: 300 },
    );
  });

  it('takes the verdict from the headers, not the status code', () => {
    const clean204 = parseIcapResponse(Buffer.from('ICAP/1.0 204 Unmodified\r\nISTag: "x"\r\nEncapsulated: null-body=0\r\n\r\n'));
    expect(icapVerdict(clean204)).toEqual({ kind: 'clean' });
    const echoed = parseIcapResponse(Buffer.from('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n3; ieof\r\nabc\r\n0\r\n\r\n'));
    expect(icapVerdict(echoed)).toEqual({ kind: 'clean' });
    const violations = parseIcapResponse(Buffer.from('ICAP/1.0 200 OK\r\nX-Violations-Found: 1\r\n\tf\r\n\tTrojan.X\r\n\t0\r\n\t0\r\nEncapsulated: null-body=0\r\n\r\n'));
    expect(icapVerdict(violations)).toEqual({ kind: 'infected', threats: ['Trojan.X'] });
    const virusId = parseIcapResponse(Buffer.from('ICAP/1.0 403 Forbidden\r\nX-Virus-ID: Worm.Y\r\n\r\n'));
    expect(icapVerdict(virusId)).toEqual({ kind: 'infected', threats: ['Worm.Y'] });
    const down = parseIcapResponse(Buffer.from('ICAP/1.0 500 Server error\r\nConnection: close\r\nEncapsulated: null-body=0\r\n\r\n'));
    expect(icapVerdict(down)).toEqual({ kind: 'error', message: 'icap server answered 500 Server error', retryable: true });
  });

  it('keeps bytes after a complete response', () => {
    const p = new IcapResponseParser();
    expect(p.feed(Buffer.from('ICAP/1.0 204 No\r\n\r\nICAP/1.0'))).not.toBeNull();
    expect(p.rest.toString()).toBe('ICAP/1.0');
  });

  it.each([
    'HTTP/1.1 200 OK\r\n\r\n',
    'ICAP/1.0 2000 OK\r\n\r\n',
    'ICAP/1.0 200 OK\r\nno colon here\r\n\r\n',
    'ICAP/1.0 200 OK\r\nEncapsulated: res-body=5, res-hdr=0\r\n\r\n',
    'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=2\r\n\r\nxxzz\r\n',
  ])('refuses %j with ERR_DISPATCH_PROTOCOL', (wire) => {
    expect(() => new IcapResponseParser().feed(Buffer.from(wire))).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_PROTOCOL' }));
  });

  it('never throws anything but a coded error on random or truncated input', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(infectedWire.length).map((n) => infectedWire.subarray(0, n)),
      fc.tuple(fc.nat(infectedWire.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
        const copy = Buffer.from(infectedWire);
        copy[i] = b;
        return copy;
      }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const r = new IcapResponseParser().feed(bytes);
          if (r) icapVerdict(r);
        } catch (e) {
          expect(e).toBeInstanceOf(DispatchError);
          expect((e as DispatchError).code).toBe('ERR_DISPATCH_PROTOCOL');
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 3000 },
    );
  });
});
