// The engine on PgStore, two engines ("nodes") in one process on one real PostgreSQL, each with its
// own dispatcher in front of one built-in scanner server (a real clamd-protocol server on a unix
// socket). The multi-process cases with real clamd are in test/real/cluster.test.ts.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher } from '@avscan/dispatch';
import { createEngine, type Engine, type EngineStore, type FileAccess } from '@avscan/engine';
import { ScanEngine, startScannerServer, type ScannerServer } from '@avscan/scanner';
import { changeStampOf } from '@avscan/store';
import { openPgStore, type PgStore } from '@avscan/store-pg';
import { postgresAvailable, startPostgres, type PostgresHandle } from '../bench/lib/postgres.js';
import { kEicar } from './support/index.js';

function requirePostgres(): boolean {
  if (postgresAvailable()) return true;
  if (process.env['CI'] === 'true') throw new Error('engine-pg: PostgreSQL 15 is required in CI');
  console.warn(`\n${'!'.repeat(78)}\n!!! ENGINE-ON-POSTGRESQL TESTS SKIPPED: PostgreSQL 15 not installed\n${'!'.repeat(78)}\n`);
  return false;
}

// Compile-time check: PgStore satisfies the engine's store port.
const _port: (s: PgStore) => EngineStore = (s) => s;
void _port;

const available = requirePostgres();

describe.skipIf(!available)('engine on PgStore: two nodes on one PostgreSQL', () => {
  let pg: PostgresHandle;
  let dir: string;
  let scanEngine: ScanEngine;
  let scanner: ScannerServer;
  let socket: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    pg = await startPostgres();
    dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-engine-pg-'));
    await mkdir(path.join(dir, 'vol1'));
    scanEngine = await ScanEngine.create({ workers: 1 });
    socket = path.join(dir, 'scanner.sock');
    // 150 ms per scan: concurrent opens on two nodes overlap.
    scanner = await startScannerServer({ engine: scanEngine, unix: socket, faults: { commandLatencyMs: { INSTREAM: 150 } }, log: () => {} });
  }, 180_000);
  afterAll(async () => {
    await scanner?.close();
    await scanEngine?.close();
    await pg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 180_000);
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  interface Node {
    readonly store: PgStore;
    readonly dispatcher: Dispatcher;
    readonly engine: Engine;
  }

  async function node(db: string, nodeId: string, policy: object = { name: 'p', scope: {}, mandatory: true }): Promise<Node> {
    const store = await openPgStore(pg.config(db), { nodeId, unlockPollMs: 5000 });
    cleanups.push(() => store.close());
    const dispatcher = createDispatcher({ scanner_pools: [{ name: 'pool1', servers: [`clamd+unix://${socket}`] }], request_timeout: 5, scan_queue_timeout: 5 });
    cleanups.push(() => dispatcher.close());
    await dispatcher.ready(5000);
    const engine = createEngine({ store, dispatcher, policy, watermarkRefreshMs: 1, leaseMs: 2000 });
    cleanups.push(() => engine.shutdown());
    return { store, dispatcher, engine };
  }

  async function file(name: string, content: string): Promise<FileAccess> {
    const full = path.join(dir, 'vol1', name);
    await writeFile(full, content);
    const st = await stat(full, { bigint: true });
    return {
      volume: 'vol1', fileId: String(st.ino), path: `\\vol1\\${name}`, size: Number(st.size), file: full,
      changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
    };
  }

  it('a file scanned on node 1 is scan current on node 2 without a scan', async () => {
    const db = await pg.createDatabase('current');
    const [a, b] = [await node(db, 'n1'), await node(db, 'n2')];
    const f = await file('current.txt', `clean ${Date.now()}`);
    expect(await a.engine.open(f)).toMatchObject({ allow: true, reason: 'clean' });
    await a.engine.drain();
    expect(await b.engine.open(f)).toMatchObject({ allow: true, reason: 'scan-current' });
    expect(b.engine.metrics().scansStarted).toBe(0);
    // Now in node 2's store cache: the synchronous lookup says current too.
    expect(b.engine.lookup(f)).toBe('current');
    expect(await b.engine.lookupAsync(f)).toBe('current');
  });

  it('on-demand and revalidation on node 2 confirm with the database what node 1 scanned: no scan', async () => {
    const db = await pg.createDatabase('ondemand');
    const [a, b] = [await node(db, 'n1'), await node(db, 'n2')];
    const files = [await file('od1.txt', `od1 ${Date.now()}`), await file('od2.txt', `od2 ${Date.now()}`)];
    for (const f of files) expect((await a.engine.open(f)).reason).toBe('clean');
    await a.engine.drain();
    expect(b.engine.lookup(files[0]!)).toBe('stale'); // node 2's cache has never read it
    expect(await b.engine.scanOnDemand(files[0]!)).toEqual({ outcome: 'current', verdict: undefined });
    expect(await b.engine.revalidate(files)).toMatchObject({ checked: 2, current: 2, scanned: 0 });
    expect(b.engine.metrics().scansStarted).toBe(0);
  });

  it('concurrent opens of one new file on two nodes: one scan, the other node waits for its verdict', async () => {
    const db = await pg.createDatabase('joined');
    const [a, b] = [await node(db, 'n1'), await node(db, 'n2')];
    const f = await file('joined.txt', `joined ${Date.now()}`);
    const answers = await Promise.all([...Array.from({ length: 10 }, () => a.engine.open(f)), ...Array.from({ length: 10 }, () => b.engine.open(f))]);
    expect(answers.every((x) => x.allow)).toBe(true);
    const scans = (a.dispatcher.metrics().results['clean'] ?? 0) + (b.dispatcher.metrics().results['clean'] ?? 0);
    expect(scans).toBe(1);
    await Promise.all([a.engine.drain(), b.engine.drain()]);
    expect(await a.store.lockHolder({ volume: 'vol1', fileId: f.fileId })).toBeUndefined();
  });

  it('infected on node 1 is denied as quarantined on node 2; released on node 2, node 1 scans it again', async () => {
    const db = await pg.createDatabase('quarantine');
    const [a, b] = [await node(db, 'n1'), await node(db, 'n2')];
    const f = await file('eicar.com', kEicar);
    expect(await a.engine.open(f)).toMatchObject({ allow: false, reason: 'infected' });
    await a.engine.drain();
    expect(await b.engine.open(f)).toMatchObject({ allow: false, reason: 'quarantined' });
    expect(await a.engine.open(f)).toMatchObject({ allow: false, reason: 'quarantined' });
    expect(await b.engine.releaseQuarantine('vol1', f.fileId)).toBe(true);
    // Node 1's store cache is invalidated by NOTIFY (a few ms later): it reads the released row and scans again.
    for (let i = 0; i < 200 && a.engine.lookup(f) === 'quarantined'; i++) await new Promise((r) => setTimeout(r, 10));
    const again = await a.engine.open(f);
    expect(again).toMatchObject({ allow: false, reason: 'infected' });
    expect(a.engine.metrics().scansStarted).toBe(2);
  });

  it('delete on node 2 while node 1 scans the file waits for node 1\'s record: the row does not come back', async () => {
    const db = await pg.createDatabase('delete');
    const [a, b] = [await node(db, 'n1'), await node(db, 'n2')];
    const f = await file('deleted.txt', `deleted ${Date.now()}`);
    const key = { volume: 'vol1', fileId: f.fileId };
    const opened = a.engine.open(f);
    for (let i = 0; i < 200 && (await b.store.lockHolder(key)) === undefined; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await b.store.lockHolder(key))?.node).toBe('n1');
    await b.engine.delete(f);
    expect((await opened).reason).toBe('clean');
    await a.engine.drain();
    expect(await b.store.getAttributes(key)).toBeUndefined();
  });

  it('cache clear on node 2 makes the file stale on node 1', async () => {
    const db = await pg.createDatabase('clear');
    const [a, b] = [await node(db, 'n1'), await node(db, 'n2')];
    const f = await file('clear.txt', `clear ${Date.now()}`);
    expect((await a.engine.open(f)).reason).toBe('clean');
    await a.engine.drain();
    expect((await a.engine.open(f)).reason).toBe('scan-current');
    await b.engine.clearCache();
    // Node 1 hears the clear by NOTIFY (the documented lag of a few ms), bounded here.
    for (let i = 0; i < 200 && a.engine.lookup(f) === 'current'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await a.engine.open(f)).reason).toBe('clean');
  });

  it('PostgreSQL stopped: accesses get the failure policy (deny / allow), never a rejection; recovery after restart', async () => {
    const db = await pg.createDatabase('down');
    const deny = await node(db, 'n1');
    const allow = await node(db, 'n2', { name: 'open', scope: {}, mandatory: false });
    const known = await file('known.txt', `known ${Date.now()}`);
    expect((await deny.engine.open(known)).reason).toBe('clean');
    await deny.engine.drain();
    const fresh = await file('fresh.txt', `fresh ${Date.now()}`);
    await pg.stopServer('immediate');
    try {
      // A file in node 1's cache is still answered from it while the cache is live, then the LISTEN loss turns it off.
      const denied = await deny.engine.open(fresh);
      expect(denied).toMatchObject({ allow: false, reason: 'failure-deny' });
      expect(denied.verdict).toMatchObject({ result: 'failure', kind: 'unavailable' });
      expect(await allow.engine.open(fresh)).toMatchObject({ allow: true, reason: 'failure-allow' });
      expect(deny.engine.metrics().storeErrors).toBeGreaterThan(0);
    } finally {
      pg.startServer();
    }
    // The pool reconnects by itself: the next access scans and records.
    let answer = await deny.engine.open(fresh);
    for (let i = 0; i < 100 && answer.reason !== 'clean'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await deny.engine.open(fresh);
    }
    expect(answer.reason).toBe('clean');
    await deny.engine.drain();
    expect((await allow.store.getAttributes({ volume: 'vol1', fileId: fresh.fileId }))?.scanResult).toBe('clean');
  }, 60_000);
});
