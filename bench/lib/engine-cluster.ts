// The engine-level half of bench/cluster.ts: whole engines (policy, lookup, watermark, answer) on the
// PostgreSQL store against one on the SQLite store, in the same run.
// - scan-current hits: `engine.open` of files that are current, engine on PgStore (its node cache via
//   `peekAttributes`) vs engine on SQLite (the engine's own cache);
// - cross-node joined wait: engine A (node a) scans a file through a scanner that takes `scanMs`;
//   engine B (node b, its own PgStore on the same database) opens the same file meanwhile, so it waits
//   for A's lock and is woken by A's record. Reported: B's answer time minus A's answer time, i.e. the
//   joined wait minus the scan time (A's group commit, the NOTIFY, B's read).
import diagnostics_channel from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDispatcher, type Dispatcher } from '@avscan/dispatch';
import { createEngine, type Engine, type FileAccess } from '@avscan/engine';
import { ScanEngine, startScannerServer, type ScannerServer } from '@avscan/scanner';
import { openStore } from '@avscan/store';
import { openPgStore, type PgStore } from '@avscan/store-pg';
import { blackhole, measureAsync, percentile, type Measurement } from './harness.js';
import type { PostgresHandle } from './postgres.js';
import { syntheticAccess } from './engine-rig.js';

const kFiles = 10_000;
const kBatch = 1000;
const kPolicy = { name: 'bench', scope: { exclude_extensions: ['tmp'] } };

export interface EngineClusterResult {
  readonly sqliteHits: Measurement;
  readonly pgHits: Measurement;
  readonly joinedExtraMs: readonly number[];
  readonly scanMs: number;
}

async function hitRate(engine: Engine, accesses: readonly FileAccess[]): Promise<Measurement> {
  const first = await engine.open(accesses[0]!);
  if (first.reason !== 'scan-current') throw new Error(`setup: expected scan-current, got ${first.reason}`);
  return measureAsync(async () => {
    for (let b = 0; b < 20; b++) {
      const ps = new Array<Promise<unknown>>(kBatch);
      for (let j = 0; j < kBatch; j++) ps[j] = engine.open(accesses[(b * kBatch + j) % kFiles]!);
      blackhole(await Promise.all(ps));
    }
    return 20 * kBatch;
  }, { rounds: 5, warmup: 2 });
}

async function record(store: { recordScan: PgStore['recordScan'] }, accesses: readonly FileAccess[], sig: number): Promise<void> {
  await Promise.all(accesses.map((a) => store.recordScan({
    volume: a.volume, fileId: a.fileId, path: `/${a.path.slice(1).replace(/\\/g, '/')}`, scanResult: 'clean', changeStamp: a.changeStamp, sigTimestamp: sig,
  })));
}

export async function engineCluster(pg: PostgresHandle, db: string, samples: number, scanMs = 50): Promise<EngineClusterResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-engine-cluster-'));
  const scanEngine = await ScanEngine.create({ workers: 1 });
  const servers: ScannerServer[] = [];
  const dispatchers: Dispatcher[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const scanner = async (name: string, latency: number): Promise<Dispatcher> => {
      const sock = path.join(dir, `${name}.sock`);
      const server = await startScannerServer({ engine: scanEngine, unix: sock, log: () => {}, ...(latency > 0 ? { faults: { commandLatencyMs: { INSTREAM: latency } } } : {}) });
      servers.push(server);
      const d = createDispatcher({ scanner_pools: [{ name: 'pool1', servers: [`clamd+unix://${sock}`] }] });
      await d.ready(10_000);
      dispatchers.push(d);
      return d;
    };

    // Scan-current hits, same files and scanner on both stores.
    const fast = await scanner('fast', 0);
    const accesses = Array.from({ length: kFiles }, (_, i) => syntheticAccess(i));
    const sig = fast.signatureWatermark()?.timestamp ?? 0;
    const sqlite = openStore(path.join(dir, 'isi_avscan.db'), { nodeId: 'sqlite' });
    closers.push(() => sqlite.close());
    await record(sqlite, accesses, sig);
    const pgStore = await openPgStore(pg.config(db), { nodeId: 'hits', cacheMaxEntries: kFiles * 2 });
    closers.push(() => pgStore.close());
    await record(pgStore, accesses, sig);
    const onSqlite = createEngine({ store: sqlite, dispatcher: fast, policy: kPolicy });
    const onPg = createEngine({ store: pgStore, dispatcher: fast, policy: kPolicy });
    closers.push(() => onSqlite.shutdown(), () => onPg.shutdown());
    const sqliteHits = await hitRate(onSqlite, accesses);
    const pgHits = await hitRate(onPg, accesses);

    // Cross-node joined wait: two engines, two PgStores (nodes a and b), one slow scanner each.
    const [slowA, slowB] = [await scanner('slow-a', scanMs), await scanner('slow-b', scanMs)];
    const [storeA, storeB] = [await openPgStore(pg.config(db), { nodeId: 'a' }), await openPgStore(pg.config(db), { nodeId: 'b' })];
    closers.push(() => storeA.close(), () => storeB.close());
    const a = createEngine({ store: storeA, dispatcher: slowA, policy: kPolicy });
    const b = createEngine({ store: storeB, dispatcher: slowB, policy: kPolicy });
    closers.push(() => a.shutdown(), () => b.shutdown());
    const dispatched = diagnostics_channel.channel('avscan:engine:dispatched');
    const extra: number[] = [];
    for (let i = 0; i < samples + 3; i++) {
      const access = syntheticAccess(kFiles + i, new Uint8Array(64));
      // B opens once A's scan is with the scanner (A holds the lock).
      const started = new Promise<void>((resolve) => {
        const on = (): void => {
          dispatched.unsubscribe(on);
          resolve();
        };
        dispatched.subscribe(on);
      });
      const answerA = a.open(access).then(() => performance.now());
      await started;
      const answerB = b.open(access).then((x) => {
        if (x.reason !== 'clean') throw new Error(`joined open answered ${x.reason}`);
        return performance.now();
      });
      const [ta, tb] = await Promise.all([answerA, answerB]);
      if (i >= 3) extra.push(tb - ta); // the first few warm up connections and prepared statements
      await Promise.all([a.drain(), b.drain()]);
    }
    if (slowB.metrics().results.clean !== 0) throw new Error('node b scanned a file node a was scanning');
    return { sqliteHits, pgHits, joinedExtraMs: extra, scanMs };
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
    for (const d of dispatchers) await d.close();
    for (const s of servers) await s.close();
    await scanEngine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function joinedP50(r: EngineClusterResult): number {
  return percentile([...r.joinedExtraMs], 50);
}
