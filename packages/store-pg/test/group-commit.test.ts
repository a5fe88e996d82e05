// Group commit with two batches in flight per node: throughput without giving up per-file order.
import { describe, expect, it } from 'vitest';
import { requirePostgres, usePostgres } from './support/postgres.js';

const available = requirePostgres();

describe.skipIf(!available)('PgStore group commit (PostgreSQL 15)', () => {
  const pg = usePostgres();

  it('writes to one file commit in call order across many small concurrent batches', async () => {
    const s = await pg.open(await pg.server.createDatabase('order'), { batchMaxRows: 4, batchMaxDelayMs: 1 });
    {
      // 600 writes over 7 files, each file written every 7th call: consecutive batches share files.
      await Promise.all(
        Array.from({ length: 600 }, (_, i) =>
          s.recordScan({ volume: 'vol1', fileId: `f${i % 7}`, path: `/p${i}`, scanResult: 'clean', changeStamp: `s${i}`, sigTimestamp: 1, scanTime: i }),
        ),
      );
      for (let f = 0; f < 7; f++) {
        const last = 599 - ((599 - f) % 7); // the last call that wrote file f
        expect((await s.getAttributes({ volume: 'vol1', fileId: `f${f}` }))?.scanTime).toBe(last);
      }
    }
  });

  it('a rename between records is a barrier: records before it move, records after it stay', async () => {
    const s = await pg.open(await pg.server.createDatabase('barrier'), { batchMaxRows: 2, batchMaxDelayMs: 1 });
    {
      const rec = (id: string, path: string) => s.recordScan({ volume: 'vol1', fileId: id, path, scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 });
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 20; i++) writes.push(rec(`a${i}`, `/d/a${i}`));
      writes.push(s.rename('vol1', '/d', '/e'));
      for (let i = 0; i < 20; i++) writes.push(rec(`b${i}`, `/d/b${i}`));
      await Promise.all(writes);
      const paths = (await s.listAttributes('vol1')).map((a) => a.path);
      expect(paths.filter((p) => p.startsWith('/e/a'))).toHaveLength(20);
      expect(paths.filter((p) => p.startsWith('/d/b'))).toHaveLength(20);
    }
  });
});
