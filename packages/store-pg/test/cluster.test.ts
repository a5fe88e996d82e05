// Several gateway nodes on one PostgreSQL, each a real child process (fixtures/node-child.mjs): one
// owner per lock cluster-wide, takeover of a SIGKILLed node's lock after its lease, a waiter woken
// across processes by NOTIFY, a node SIGKILLed under load, and PostgreSQL stopped and started under
// load — with no acknowledged record lost.
import { afterEach, describe, expect, it } from 'vitest';
import type { PgStore } from '../src/index.js';
import { NodeChild } from './support/child.js';
import { requirePostgres, usePostgres } from './support/postgres.js';

const available = requirePostgres();

describe.skipIf(!available)('a cluster of store-pg nodes in separate processes (PostgreSQL 15)', () => {
  const pg = usePostgres();
  const children: NodeChild[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill();
  });

  function child(role: string, database: string, nodeId: string, args: string[] = []): NodeChild {
    const c = new NodeChild(role, pg.server.config(database), nodeId, args);
    children.push(c);
    return c;
  }

  const store = (database: string, nodeId: string, options: object = {}): Promise<PgStore> => pg.open(database, { nodeId, ...options });

  it('three nodes racing for the same 200 locks: every lock has exactly one owner', async () => {
    const db = await pg.server.createDatabase('race');
    await (await store(db, 'migrator')).flush(); // schema first, so the race is on locks, not on migrations
    const nodes = ['n1', 'n2', 'n3'].map((n) => child('race', db, n, ['200']));
    await Promise.all(nodes.map((c) => c.waitFor((l) => l === 'READY')));
    for (const c of nodes) c.send('GO');
    await Promise.all(nodes.map((c) => c.waitFor((l) => l === 'DONE', 30_000)));
    const owners = new Map<string, string[]>();
    nodes.forEach((c, i) => {
      for (const l of c.lines.filter((x) => x.startsWith('WON '))) owners.set(l.slice(4), [...(owners.get(l.slice(4)) ?? []), `n${i + 1}`]);
    });
    expect(owners.size).toBe(200);
    expect([...owners.values()].filter((o) => o.length !== 1)).toEqual([]);
    const check = await store(db, 'checker');
    for (const [k, [owner]] of owners) expect((await check.lockHolder({ volume: 'vol1', fileId: k }))?.node).toBe(owner);
  }, 60_000);

  it('two nodes opening a fresh database at once both migrate it safely', async () => {
    const db = await pg.server.createDatabase('migrate');
    const [a, b] = await Promise.all([store(db, 'a'), store(db, 'b')]);
    await a.recordScan({ volume: 'v', fileId: '1', path: '/x', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 });
    expect((await b.getAttributes({ volume: 'v', fileId: '1' }))?.path).toBe('/x');
  });

  it('a node SIGKILLed while holding a lock: another node takes it over after the lease, not before', async () => {
    const db = await pg.server.createDatabase('takeover');
    const leaseMs = 1500;
    const a = child('hold', db, 'n1', ['f1', String(leaseMs)]);
    await a.waitFor((l) => l === 'LOCKED');
    const lockedAt = Date.now();
    a.kill('SIGKILL');
    await a.exited;
    const b = await store(db, 'n2');
    const k = { volume: 'vol1', fileId: 'f1' };
    const first = await b.acquireLock(k, 'worker', 'n2-scan', 30_000);
    expect(first).toMatchObject({ acquired: false, holder: { node: 'n1' } });
    // The waiter is woken by the lease's end (no release will ever come from the dead node).
    expect(await b.waitForUnlock(k, 10_000)).toBe(true);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(leaseMs - 100);
    expect((await b.acquireLock(k, 'worker', 'n2-scan', 30_000)).acquired).toBe(true);
    expect(await b.lockHolder(k)).toMatchObject({ node: 'n2' });
    // When n1 comes back it releases only its own (none left), not n2's.
    await store(db, 'n1');
    expect(await b.lockHolder(k)).toMatchObject({ node: 'n2' });
  }, 30_000);

  it("a waiter on node B is woken by node A's record through NOTIFY, well before the fallback poll", async () => {
    const db = await pg.server.createDatabase('wake');
    const b = await store(db, 'nB', { unlockPollMs: 60_000 });
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = child('finish', db, 'nA', [`w${i}`]);
      await a.waitFor((l) => l === 'LOCKED');
      const k = { volume: 'vol1', fileId: `w${i}` };
      expect((await b.acquireLock(k, 'worker', 'b', 30_000)).acquired).toBe(false);
      const woken = b.waitForUnlock(k, 20_000).then((ok) => ({ ok, at: Date.now() }));
      a.send('RECORD');
      const sent = Number((await a.waitFor((l) => l.startsWith('SENDING '))).slice(8));
      const { ok, at } = await woken;
      expect(ok).toBe(true);
      latencies.push(at - sent);
      // The verdict A recorded is what B reads once woken.
      expect((await b.getAttributes(k))?.scanResult).toBe('clean');
      await a.exited;
    }
    latencies.sort((x, y) => x - y);
    console.log(`cross-process wake-up after record+release (ms): ${latencies.join(', ')} (p50 ${latencies[2]})`);
    expect(latencies[4]).toBeLessThan(5_000);
  }, 60_000);

  it('a node SIGKILLed under load: every record it acknowledged is present', async () => {
    const db = await pg.server.createDatabase('kill');
    const load = child('load', db, 'n1', ['K']);
    await load.until(() => load.count('ACK') >= 3000, 30_000);
    load.kill('SIGKILL');
    await load.exited;
    const acked = load.lines.filter((l) => l.startsWith('ACK ')).map((l) => l.slice(4));
    const present = new Set((await (await store(db, 'checker')).listAttributes('vol1')).map((a) => a.fileId));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
  }, 60_000);

  it.each(['fast', 'immediate'] as const)('PostgreSQL stopped (%s shutdown) and started under load: coded errors meanwhile, recovery after, every acknowledged record present', async (mode) => {
    const db = await pg.server.createDatabase(`restart_${mode}`);
    const load = child('load', db, 'n1', ['L']);
    await load.until(() => load.count('ACK') >= 2000, 30_000);
    await pg.server.stopServer(mode);
    await load.until(() => load.count('ERR') > 0, 15_000);
    const beforeRestart = load.count('ACK');
    pg.server.startServer();
    await load.until(() => load.count('ACK') >= beforeRestart + 2000, 30_000);
    load.send('STOP');
    await load.waitFor((l) => l === 'STOPPED', 30_000);
    const acked = load.lines.filter((l) => l.startsWith('ACK ')).map((l) => l.slice(4));
    const codes = new Set(load.lines.filter((l) => l.startsWith('ERR ')).map((l) => l.split(' ')[1]!));
    expect([...codes].filter((c) => !['ERR_STOREPG_UNAVAILABLE', 'ERR_STOREPG_COMMIT_UNKNOWN'].includes(c)), load.stderr).toEqual([]);
    const check = await store(db, 'checker');
    const present = new Set((await check.listAttributes('vol1')).map((a) => a.fileId));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(4000);
  }, 120_000);
});
