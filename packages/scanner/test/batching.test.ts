import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EICAR, ScanEngine, ScannerErrorCodes, type ScanResult, type ScannerError } from '../dist/index.js';
import { randomBytes, tempDir } from './helpers.js';

const dir = tempDir();
const infected: ScanResult = { status: 'infected', threats: ['Eicar-Test-Signature'] };

async function outcome(p: Promise<ScanResult>): Promise<ScanResult | string> {
  try {
    return await p;
  } catch (err) {
    return (err as ScannerError).code;
  }
}

// Every third input carries EICAR at a different offset, so a result delivered to the wrong caller shows.
const inputs = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? Buffer.concat([randomBytes(3000 + 97 * i, i + 1), EICAR, randomBytes(i, 500 + i)]) : randomBytes(3000 + 97 * i, i + 1)));
const expected = inputs.map((_, i) => (i % 3 === 0 ? infected : { status: 'clean' }));

describe('ScanEngine batching', () => {
  it('gives each of many concurrent scans its own verdict, for every maxBatch', async () => {
    for (const maxBatch of [1, 3, 8]) {
      const engine = await ScanEngine.create({ workers: 2, maxBatch });
      try {
        expect(await Promise.all(inputs.map((b) => engine.scanBuffer(b)))).toEqual(expected);
        expect(engine.pending).toBe(0);
      } finally {
        await engine.close();
      }
    }
  });

  it('scans the bytes given at submission even if the caller changes its buffer while the scan waits', async () => {
    const engine = await ScanEngine.create({ workers: 1, maxBatch: 4 });
    try {
      const mine = Buffer.concat([randomBytes(2000, 7), EICAR]);
      const runs = [engine.scanBuffer(Buffer.alloc(2 << 20)), engine.scanBuffer(Buffer.alloc(2 << 20)), engine.scanBuffer(mine)];
      mine.fill(0);
      expect(await Promise.all(runs)).toEqual([{ status: 'clean' }, { status: 'clean' }, infected]);
    } finally {
      await engine.close();
    }
  });

  it('scans views of SharedArrayBuffers in place, small and large, each with its own verdict', async () => {
    const engine = await ScanEngine.create({ workers: 2 });
    try {
      const shared = (b: Buffer) => {
        const v = new Uint8Array(new SharedArrayBuffer(b.length + 10), 5, b.length);
        v.set(b);
        return v;
      };
      const big = Buffer.concat([randomBytes(300_000, 9), EICAR]);
      const got = await Promise.all([...inputs.map((b) => engine.scanBuffer(shared(b))), engine.scanBuffer(shared(big))]);
      expect(got).toEqual([...expected, infected]);
    } finally {
      await engine.close();
    }
  });

  it('an aborted scan, queued or running, rejects alone: its batch neighbours are retried and keep their verdicts', async () => {
    const engine = await ScanEngine.create({ workers: 1, maxBatch: 8 });
    try {
      const file = join(dir, 'eicar.bin');
      writeFileSync(file, Buffer.concat([randomBytes(10_000, 3), EICAR]));
      const queuedAc = inputs.map(() => new AbortController());
      const bigAc = new AbortController();
      const first = inputs.map((b, i) => outcome(engine.scanBuffer(b, queuedAc[i]!.signal)));
      // The 64 MiB scan shares a batch with the next seven scans; the file scan shares its worker.
      const big = outcome(engine.scanBuffer(Buffer.alloc(64 << 20, 0x41), bigAc.signal));
      const second = inputs.map((b) => outcome(engine.scanBuffer(b)));
      const fileScan = outcome(engine.scanFile(file));
      // Aborted in the same tick: still in the engine queue, never posted.
      queuedAc[31]!.abort(new Error('gone'));
      queuedAc[38]!.abort(new Error('gone'));
      setTimeout(() => bigAc.abort(new Error('client closed')), 20);
      const want = (i: number) => (i === 31 || i === 38 ? ScannerErrorCodes.ERR_SCANNER_ABORTED : expected[i]);
      expect(await Promise.all(first)).toEqual(inputs.map((_, i) => want(i)));
      expect(await big).toBe(ScannerErrorCodes.ERR_SCANNER_ABORTED);
      expect(await Promise.all(second)).toEqual(expected);
      expect(await fileScan).toEqual(infected);
      expect(engine.pending).toBe(0);
      expect(await engine.scanBuffer(EICAR)).toEqual(infected);
    } finally {
      await engine.close();
    }
  });

  it('close() rejects queued and running scans with ERR_SCANNER_CLOSED', async () => {
    const engine = await ScanEngine.create({ workers: 1, maxBatch: 2 });
    const runs = Array.from({ length: 6 }, () => outcome(engine.scanBuffer(Buffer.alloc(8 << 20))));
    await new Promise((r) => setTimeout(r, 5));
    await engine.close();
    const got = await Promise.all(runs);
    expect(got.every((r) => r === ScannerErrorCodes.ERR_SCANNER_CLOSED || (typeof r === 'object' && r.status === 'clean'))).toBe(true);
    expect(got.slice(-2)).toEqual([ScannerErrorCodes.ERR_SCANNER_CLOSED, ScannerErrorCodes.ERR_SCANNER_CLOSED]);
  });

  it('validates maxBatch', async () => {
    for (const maxBatch of [0, 1.5, 1025, '8']) {
      const err = await outcome(ScanEngine.create({ maxBatch } as never).then(() => ({ status: 'clean' as const })));
      expect(err).toBe(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION);
    }
  });
});
