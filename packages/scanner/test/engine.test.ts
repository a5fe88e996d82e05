import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, ScanEngine, ScannerErrorCodes, type ScannerError } from '../dist/index.js';
import { randomBytes, tempDir } from './helpers.js';

const dir = tempDir();
const ascii = (s: string) => Buffer.from(s, 'latin1');
const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

function plant(base: Buffer, at: number, what: Buffer): Buffer {
  const out = Buffer.from(base);
  what.copy(out, at);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<ScannerError> {
  try {
    await p;
  } catch (err) {
    return err as ScannerError;
  }
  throw new Error('expected a rejection');
}

describe('ScanEngine with the shipped test signatures', () => {
  let engine: ScanEngine;
  beforeAll(async () => {
    engine = await ScanEngine.create({ workers: 2 });
  });
  afterAll(() => engine.close());

  it('reports the header version and timestamp', () => {
    expect(engine.signatureVersion).toBe('avscan-test-1');
    expect(engine.signatureTimestamp).toBe(Date.parse('2025-06-01T00:00:00Z'));
  });

  it('finds EICAR alone, at the start, in the middle and at the end of a buffer', async () => {
    const noise = randomBytes(200_000, 7);
    expect(await engine.scanBuffer(EICAR)).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature'] });
    for (const at of [0, 123_457, noise.length - EICAR.length]) {
      expect(await engine.scanBuffer(plant(noise, at, EICAR))).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature'] });
    }
  });

  it('keeps clean buffers clean, including empty and near-miss ones', async () => {
    expect(await engine.scanBuffer(new Uint8Array(0))).toEqual({ status: 'clean' });
    expect(await engine.scanBuffer(randomBytes(100_000, 3))).toEqual({ status: 'clean' });
    // EICAR minus its last byte is not EICAR
    expect(await engine.scanBuffer(EICAR.subarray(0, EICAR.length - 1))).toEqual({ status: 'clean' });
  });

  it('leaves the caller\'s buffer intact and scans only the view it was given', async () => {
    const backing = Buffer.concat([EICAR, Buffer.alloc(1 << 20)]);
    const view = backing.subarray(EICAR.length, EICAR.length + 4096);
    expect(await engine.scanBuffer(view)).toEqual({ status: 'clean' });
    expect(await engine.scanBuffer(backing)).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature'] });
    expect([backing.byteLength, view.byteLength, backing.subarray(0, EICAR.length).equals(EICAR)]).toEqual([EICAR.length + (1 << 20), 4096, true]);
  });

  it('reports several markers in stream order, each once', async () => {
    const data = Buffer.concat([ascii('xx AVSCAN-TEST-MARKER-2 yy '), Buffer.from('deadbeef00ff00ffcafebabe', 'hex'), ascii(' AVSCAN-TEST-MARKER-1 AVSCAN-TEST-MARKER-2')]);
    expect(await engine.scanBuffer(data)).toEqual({ status: 'infected', threats: ['Avscan.Test.Marker-2', 'Avscan.Test.Binary-4', 'Avscan.Test.Marker-1'] });
  });

  it('honours offset constraints', async () => {
    const header = ascii('AVSCAN-HEADER-MARKER-3');
    expect(await engine.scanBuffer(Buffer.concat([header, ascii(' rest')]))).toEqual({ status: 'infected', threats: ['Avscan.Test.Header-3'] });
    expect(await engine.scanBuffer(Buffer.concat([ascii(' '), header]))).toEqual({ status: 'clean' });
    const base = Buffer.alloc(8192, 0x20);
    expect(await engine.scanBuffer(plant(base, 4096, ascii('AVSCAN-OFFSET-MARKER-5')))).toEqual({ status: 'infected', threats: ['Avscan.Test.Offset-5'] });
    expect(await engine.scanBuffer(plant(base, 4095, ascii('AVSCAN-OFFSET-MARKER-5')))).toEqual({ status: 'clean' });
  });

  it('scans files in chunks and reports read errors as data', async () => {
    const file = join(dir, 'eicar-inside.bin');
    writeFileSync(file, plant(randomBytes(300_000, 11), 65_536 - 30, EICAR)); // straddles the 64 KiB chunk boundary
    expect(await engine.scanFile(file)).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature'] });
    const clean = join(dir, 'clean.bin');
    writeFileSync(clean, randomBytes(150_000, 12));
    expect(await engine.scanFile(clean)).toEqual({ status: 'clean' });
    const missing = await engine.scanFile(join(dir, 'missing.bin'));
    expect(missing).toMatchObject({ status: 'error', code: ScannerErrorCodes.ERR_SCANNER_FILE_READ });
    expect(missing.status === 'error' && missing.message).toContain('ENOENT');
  });

  it('aborts: a pre-aborted signal rejects at once, a running scan is cancelled, the pool refills', async () => {
    const pre = await rejection(engine.scanBuffer(EICAR, AbortSignal.abort(new Error('gone'))));
    expect(pre.code).toBe(ScannerErrorCodes.ERR_SCANNER_ABORTED);
    expect(pre.name).toBe('AbortError');
    const ac = new AbortController();
    const big = Buffer.alloc(96 * 1024 * 1024, 0x41);
    const running = engine.scanBuffer(big, ac.signal);
    setTimeout(() => ac.abort(new Error('client closed')), 5);
    const err = await rejection(running);
    expect(err.code).toBe(ScannerErrorCodes.ERR_SCANNER_ABORTED);
    expect((err.cause as Error).message).toBe('client closed');
    expect(await engine.scanBuffer(EICAR)).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature'] });
  });
});

describe('ScanEngine with other databases', () => {
  it('streams across chunk boundaries with tiny chunks', async () => {
    const engine = await ScanEngine.create({ workers: 1, chunkSize: 7 });
    try {
      const file = join(dir, 'tiny-chunks.bin');
      writeFileSync(file, Buffer.concat([randomBytes(1000, 5), EICAR, randomBytes(999, 6), ascii('AVSCAN-TEST-MARKER-1')]));
      expect(await engine.scanFile(file)).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature', 'Avscan.Test.Marker-1'] });
    } finally {
      await engine.close();
    }
  });

  it('matches many signatures exactly like a naive search', async () => {
    const sigs: Buffer[] = [];
    const lines = ['AVSCAN-SIGS/1 version=many-1 timestamp=2025-01-02T03:04:05Z'];
    for (let i = 0; i < 2000; i++) {
      const p = randomBytes(8 + (i % 25), 1000 + i);
      sigs.push(p);
      lines.push(`Many.Sig-${i}:${p.toString('hex')}`);
    }
    const file = join(dir, 'many.sigs');
    writeFileSync(file, lines.join('\n'));
    const engine = await ScanEngine.create({ signatures: file, workers: 1 });
    try {
      let data = randomBytes(256 * 1024, 99);
      const planted = [5, 77, 500, 1999, 1234];
      planted.forEach((id, k) => (data = plant(data, 1000 + k * 40_000, sigs[id]!)));
      const expected = sigs.flatMap((p, i) => (data.indexOf(p) >= 0 ? [`Many.Sig-${i}`] : []));
      const got = await engine.scanBuffer(data);
      expect(got.status).toBe('infected');
      expect(got.status === 'infected' && [...got.threats].sort()).toEqual([...expected].sort());
      expect(expected).toEqual(expect.arrayContaining(planted.map((i) => `Many.Sig-${i}`)));
    } finally {
      await engine.close();
    }
  });

  it('reload swaps the database atomically; a malformed file is refused with its line and the old one kept', async () => {
    const v1 = join(dir, 'v1.sigs');
    const v2 = join(dir, 'v2.sigs');
    const bad = join(dir, 'bad.sigs');
    writeFileSync(v1, `AVSCAN-SIGS/1 version=v1 timestamp=2025-01-01T00:00:00Z\nOld.Sig:${hex('OLD-MARKER')}\n`);
    writeFileSync(v2, `# v2\nAVSCAN-SIGS/1 version=v2 timestamp=2025-02-01T00:00:00Z\nNew.Sig:${hex('NEW-MARKER')}\n`);
    writeFileSync(bad, `AVSCAN-SIGS/1 version=v3 timestamp=2025-03-01T00:00:00Z\nGood.Sig:${hex('GOOD')}\nBad.Sig:abc\n`);
    const engine = await ScanEngine.create({ signatures: v1, workers: 1 });
    try {
      const sample = ascii('.. OLD-MARKER .. NEW-MARKER ..');
      expect(await engine.scanBuffer(sample)).toEqual({ status: 'infected', threats: ['Old.Sig'] });
      const inflight = engine.scanBuffer(sample); // submitted before the swap: old database
      await engine.reload(v2);
      expect(await inflight).toEqual({ status: 'infected', threats: ['Old.Sig'] });
      expect(engine.signatureVersion).toBe('v2');
      expect(engine.signatureTimestamp).toBe(Date.parse('2025-02-01T00:00:00Z'));
      expect(await engine.scanBuffer(sample)).toEqual({ status: 'infected', threats: ['New.Sig'] });
      const err = await rejection(engine.reload(bad));
      expect(err.code).toBe(ScannerErrorCodes.ERR_SCANNER_SIGNATURES_MALFORMED);
      expect(err.message).toContain('line 3');
      expect(engine.signatureVersion).toBe('v2');
      expect(await engine.scanBuffer(sample)).toEqual({ status: 'infected', threats: ['New.Sig'] });
      const missing = await rejection(engine.reload(join(dir, 'nope.sigs')));
      expect(missing.code).toBe(ScannerErrorCodes.ERR_SCANNER_SIGNATURES_READ);
      await engine.reload(); // re-reads the current file (v2)
      expect(engine.signatureVersion).toBe('v2');
    } finally {
      await engine.close();
    }
    const closed = await rejection(engine.scanBuffer(EICAR));
    expect(closed.code).toBe(ScannerErrorCodes.ERR_SCANNER_CLOSED);
  });

  it('refuses malformed databases at create with coded errors naming the line', async () => {
    const cases: Array<[string, string]> = [
      ['Eicar:0011223344\n', 'line 1'],
      ['AVSCAN-SIGS/1 version=x timestamp=2025-01-01T00:00:00Z\nno-colon-here\n', 'line 2'],
      ['AVSCAN-SIGS/1 version=x timestamp=2025-01-01T00:00:00Z\n\n# c\nBad Name:00112233\n', 'line 4'],
      ['AVSCAN-SIGS/1 version=x timestamp=2025-01-01T00:00:00Z\nShort:0011\n', 'line 2'],
      ['AVSCAN-SIGS/1 version=x timestamp=2025-01-01T00:00:00Z\nOff:00112233:-1\n', 'line 2'],
      ['AVSCAN-SIGS/1 version=x timestamp=not-a-date\n', 'line 1'],
      ['# only a comment\n', 'missing header'],
    ];
    for (const [text, where] of cases) {
      const f = join(dir, 'malformed.sigs');
      writeFileSync(f, text);
      const err = await rejection(ScanEngine.create({ signatures: f }));
      expect(err.code).toBe(ScannerErrorCodes.ERR_SCANNER_SIGNATURES_MALFORMED);
      expect(err.message).toContain(where);
    }
  });

  it('bounds its queue: beyond workers + maxQueue a scan resolves as QUEUE_FULL at once', async () => {
    const engine = await ScanEngine.create({ workers: 1, maxQueue: 2 });
    try {
      const big = Buffer.alloc(4 << 20, 0x41);
      const runs = Array.from({ length: 5 }, () => engine.scanBuffer(big));
      const results = await Promise.all(runs);
      expect(results.slice(0, 3)).toEqual([{ status: 'clean' }, { status: 'clean' }, { status: 'clean' }]);
      expect(results.slice(3)).toEqual([0, 0].map(() => expect.objectContaining({ status: 'error', code: ScannerErrorCodes.ERR_SCANNER_QUEUE_FULL })));
      expect(engine.pending).toBe(0);
      expect(await engine.scanBuffer(EICAR)).toEqual({ status: 'infected', threats: ['Eicar-Test-Signature'] });
    } finally {
      await engine.close();
    }
  });

  it('validates options eagerly', async () => {
    for (const bad of [{ workers: 0 }, { workers: 1.5 }, { chunkSize: -1 }, { maxQueue: -1 }, { signatures: '' }, { wrokers: 2 }, JSON.parse('{"__proto__": {"workers": 1}}')]) {
      const err = await rejection(ScanEngine.create(bad));
      expect(err.code).toBe(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION);
    }
  });
});
