// The per-node attribute cache and the cluster-wide signals around it: validated by the live change
// stamp, invalidated on every node by NOTIFY for what a stamp cannot show (quarantine, a non-clean
// result, cache clear, delete), the signature watermark, and waitForUnlock woken across nodes.
import { describe, expect, it } from 'vitest';
import type { ScanRecord } from '@avscan/store';
import { AttributeCache, cacheKey } from '../src/cache.js';
import { isScanCurrent, type PgStore, type PgStoreOptions } from '../src/index.js';
import { requirePostgres, usePostgres } from './support/postgres.js';
import { until } from './support/until.js';

const k1 = { volume: 'vol1', fileId: '1' };
const rec = (over: Partial<ScanRecord> = {}): ScanRecord => ({ ...k1, path: '/a', scanResult: 'clean', changeStamp: 'S1', sigTimestamp: 100, ...over });

describe('AttributeCache (LRU, epochs)', () => {
  const attrs = (fileId: string) => ({ ...rec(), fileId, threats: [], scanTime: 1, quarantined: false, sigStamp: null, cacheValid: true });

  it('evicts the least recently used entry beyond its bound; a hit refreshes an entry', () => {
    const c = new AttributeCache(3);
    c.setLive(true);
    for (const id of ['a', 'b', 'c']) c.fill(cacheKey('v', id), attrs(id), c.epoch);
    expect(c.get(cacheKey('v', 'a'))?.fileId).toBe('a'); // a is now the most recent
    c.fill(cacheKey('v', 'd'), attrs('d'), c.epoch);
    expect(c.size).toBe(3);
    expect(c.get(cacheKey('v', 'b'))).toBeUndefined();
    expect(c.get(cacheKey('v', 'a'))).toBeDefined();
  });

  it('a read that began before an invalidation does not refill the entry', () => {
    const c = new AttributeCache(10);
    c.setLive(true);
    const epoch = c.epoch;
    c.invalidateKey(cacheKey('v', 'x'));
    c.fill(cacheKey('v', 'x'), attrs('x'), epoch);
    expect(c.get(cacheKey('v', 'x'))).toBeUndefined();
  });

  it('answers nothing while not live, and is flushed when it goes live again', () => {
    const c = new AttributeCache(10);
    c.setLive(true);
    c.fill(cacheKey('v', 'x'), attrs('x'), c.epoch);
    c.setLive(false);
    expect(c.get(cacheKey('v', 'x'))).toBeUndefined();
    c.setLive(true);
    expect(c.size).toBe(0);
  });
});

const available = requirePostgres();

describe.skipIf(!available)('PgStore cache, watermark and wake-ups across nodes (PostgreSQL 15)', () => {
  const pg = usePostgres();

  async function nodes(options: PgStoreOptions = {}): Promise<[PgStore, PgStore]> {
    const db = await pg.server.createDatabase('cache');
    return [await pg.open(db, { nodeId: 'a', ...options }), await pg.open(db, { nodeId: 'b', ...options })];
  }

  it('peekAttributes answers from this node only: a miss until read or written here; a changed stamp never matches', async () => {
    const [a, b] = await nodes();
    expect(a.peekAttributes(k1)).toBeUndefined();
    await a.recordScan(rec());
    expect(a.peekAttributes(k1)?.changeStamp).toBe('S1'); // our own commit fills our cache
    expect(b.peekAttributes(k1)).toBeUndefined(); // another node's record is not pushed
    expect((await b.getAttributes(k1))?.changeStamp).toBe('S1');
    const cached = b.peekAttributes(k1);
    expect(isScanCurrent(cached, 'S1', b.signatureWatermark)).toBe(true);
    expect(isScanCurrent(cached, 'S2', b.signatureWatermark)).toBe(false); // the file changed: rescan
    expect(b.cacheStats.hits).toBeGreaterThan(0);
  });

  it('the cache carries the signature stamp (ICAP ISTag currency) from a commit and from a read', async () => {
    const [a, b] = await nodes();
    await a.recordScan(rec({ sigTimestamp: 0, sigStamp: 'istag-1' }));
    expect(a.peekAttributes(k1)?.sigStamp).toBe('istag-1');
    await b.getAttributes(k1);
    const cached = b.peekAttributes(k1);
    expect(cached?.sigStamp).toBe('istag-1');
    expect(isScanCurrent(cached, 'S1', { timestamp: 0, stamps: new Set(['istag-1']) })).toBe(true);
    expect(isScanCurrent(cached, 'S1', { timestamp: 0, stamps: new Set(['istag-2']) })).toBe(false);
  });

  it('quarantine set on one node evicts the entry on every node; its release too', async () => {
    const [a, b] = await nodes();
    await a.recordScan(rec());
    await b.getAttributes(k1);
    expect(b.peekAttributes(k1)).toBeDefined();
    expect(await a.setQuarantined(k1, true)).toBe(true);
    expect(a.peekAttributes(k1)).toBeUndefined(); // at once on the writer
    await until(() => b.peekAttributes(k1) === undefined, 5000, 'the NOTIFY on node b');
    expect((await b.getAttributes(k1))?.quarantined).toBe(true);
    expect(isScanCurrent(b.peekAttributes(k1), 'S1', 0)).toBe(false);
    await a.setQuarantined(k1, false);
    await until(() => b.peekAttributes(k1) === undefined, 5000, 'the release NOTIFY on node b');
    expect(isScanCurrent(await b.getAttributes(k1), 'S1', 0)).toBe(true);
  });

  it('an infected result recorded on one node evicts a cached clean entry elsewhere, with the same stamp', async () => {
    const [a, b] = await nodes();
    await a.recordScan(rec());
    await b.getAttributes(k1);
    await a.recordScan(rec({ scanResult: 'infected', threats: ['Eicar-Test-Signature'] }));
    await until(() => b.peekAttributes(k1) === undefined, 5000, 'the NOTIFY on node b');
  });

  it('cache clear (all, or one volume) and deletes evict on every node', async () => {
    const [a, b] = await nodes();
    const k2 = { volume: 'vol2', fileId: '2' };
    await a.recordScan(rec());
    await a.recordScan(rec({ ...k2, path: '/b' }));
    await b.getAttributes(k1);
    await b.getAttributes(k2);
    await a.clearCache('vol2');
    await until(() => b.peekAttributes(k2) === undefined, 5000, 'volume clear on b');
    expect(b.peekAttributes(k1)).toBeDefined();
    expect((await b.getAttributes(k2))?.cacheValid).toBe(false);
    await a.clearCache();
    await until(() => b.peekAttributes(k1) === undefined, 5000, 'full clear on b');
    await b.getAttributes(k1);
    await a.deleteFile(k1);
    await until(() => b.peekAttributes(k1) === undefined, 5000, 'delete on b');
  });

  it('the signature watermark is cluster-wide: raised on one node, heard on the others, never lowered', async () => {
    const [a, b] = await nodes();
    expect(a.signatureWatermark).toBe(0);
    expect(await a.setSignatureWatermark(500)).toBe(500);
    await until(() => b.signatureWatermark === 500, 5000, 'the watermark on b');
    expect(await b.setSignatureWatermark(400)).toBe(500);
    expect(await b.getSignatureWatermark()).toBe(500);
    await a.recordScan(rec({ sigTimestamp: 400 }));
    await b.getAttributes(k1);
    expect(isScanCurrent(b.peekAttributes(k1), 'S1', b.signatureWatermark)).toBe(false); // stale signatures: rescan
    await expect(a.setSignatureWatermark(Number.NaN)).rejects.toMatchObject({ code: 'ERR_STOREPG_INVALID_ARGUMENT' });
  });

  it('cacheMaxEntries 0 turns the cache off', async () => {
    const [a] = await nodes({ cacheMaxEntries: 0 });
    await a.recordScan(rec());
    await a.getAttributes(k1);
    expect(a.peekAttributes(k1)).toBeUndefined();
  });

  describe('waitForUnlock', () => {
    it('is woken by a release on another node, not by the (slow) poll', async () => {
      const [a, b] = await nodes({ unlockPollMs: 60_000 });
      expect((await a.acquireLock(k1, 'w', 's', 60_000)).acquired).toBe(true);
      const t0 = Date.now();
      const woken = b.waitForUnlock(k1, 10_000);
      await a.releaseLock(k1, 'w', 's');
      expect(await woken).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('resolves true at once when nothing holds the lock, false at its timeout', async () => {
      const [a, b] = await nodes();
      expect(await b.waitForUnlock(k1, 1000)).toBe(true);
      await a.acquireLock(k1, 'w', 's', 60_000);
      const t0 = Date.now();
      expect(await b.waitForUnlock(k1, 150)).toBe(false);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    });

    it("is woken by the lease's end when the holder never releases", async () => {
      const [a, b] = await nodes({ unlockPollMs: 60_000 });
      await a.acquireLock(k1, 'w', 's', 300);
      const t0 = Date.now();
      expect(await b.waitForUnlock(k1, 10_000)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect((await b.acquireLock(k1, 'w', 's2', 1000)).acquired).toBe(true);
    });

    it('close() ends every wait with false; bad arguments are coded', async () => {
      const [a, b] = await nodes();
      await a.acquireLock(k1, 'w', 's', 60_000);
      const waiting = b.waitForUnlock(k1, 10_000);
      await expect(b.waitForUnlock(k1, -1)).rejects.toMatchObject({ code: 'ERR_STOREPG_INVALID_ARGUMENT', target: 'timeoutMs' });
      await b.close();
      expect(await waiting).toBe(false);
    });
  });
});
