import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPgStore } from '../src/index.js';
import { startPostgres, type PostgresHandle } from './support/postgres.js';

let pgh: PostgresHandle;
beforeAll(async () => { pgh = await startPostgres(); });
afterAll(async () => { await pgh?.stop(); });

it('smoke', async () => {
  const db = await pgh.createDatabase();
  const s = await openPgStore(pgh.config(db), { nodeId: 'a' });
  await s.recordScan({ volume: 'v', fileId: '1', path: '/a', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 });
  expect((await s.getAttributes({ volume: 'v', fileId: '1' }))?.scanResult).toBe('clean');
  expect(s.peekAttributes({ volume: 'v', fileId: '1' })?.changeStamp).toBe('s');
  expect(await s.acquireLock({ volume: 'v', fileId: '1' }, 'o', 's1', 1000)).toEqual({ acquired: true });
  const b = await openPgStore(pgh.url(db), { nodeId: 'b' });
  const r = await b.acquireLock({ volume: 'v', fileId: '1' }, 'o', 's2', 1000);
  expect(r.acquired).toBe(false);
  const t0 = Date.now();
  const w = b.waitForUnlock({ volume: 'v', fileId: '1' }, 5000);
  await new Promise((r) => setTimeout(r, 50));
  await s.recordScan({ volume: 'v', fileId: '1', path: '/a', scanResult: 'clean', changeStamp: 's2', sigTimestamp: 1 }, { releaseLock: { owner: 'o', scanId: 's1' } });
  expect(await w).toBe(true);
  console.log('wake ms', Date.now() - t0 - 50);
  expect(await b.setSignatureWatermark(5)).toBe(5);
  await new Promise((r) => setTimeout(r, 100));
  expect(s.signatureWatermark).toBe(5);
  await s.close(); await b.close();
});
