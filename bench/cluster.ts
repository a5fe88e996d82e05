// cluster (first part): the PostgreSQL store shared by gateway nodes, each node a separate process on
// one private PostgreSQL 15 (unix socket, default durability: synchronous_commit on, fsync on).
// - record throughput from one node with group commit, against one record per transaction (baseline,
//   same run), and from three nodes writing together (the scaling is reported);
// - the cross-node joined wait: node B waits for a file node A is scanning; p50 of A's record+release
//   to B's wake-up (the scan time itself excluded: A records as soon as it is told);
// - store-level scan-current hits: PgStore's synchronous cache peek vs the SQLite store's lookup;
// - engine-level (lib/engine-cluster.ts): `engine.open` scan-current hits with the engine on PgStore vs
//   on SQLite, and the cross-node joined wait of a second engine minus the scan time.
// The machine is shared (2 vCPU, several engineers): absolute numbers drift, compare within one run.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { isScanCurrent, openStore } from '@avscan/store';
import { openPgStore } from '@avscan/store-pg';
import { header, measure, median, percentile, result, table } from './lib/harness.js';
import { startPostgres, type PostgresHandle } from './lib/postgres.js';
import { clusteredRecord } from './lib/records.js';
import { engineCluster, joinedP50 } from './lib/engine-cluster.js';

const kNode = path.join(import.meta.dirname, 'lib', 'cluster-node.js');
const kRowsPerNode = Number(process.env['AVSCAN_BENCH_ROWS'] ?? 40_000);
const kBaselineRows = 600;
const kInFlight = 2048;
const kRounds = 3;
const kWakeSamples = 40;

class Node {
  readonly child: ChildProcess;
  readonly #lines: string[] = [];
  #waiters: Array<() => void> = [];

  constructor(conn: object, nodeId: string, batchMaxRows: number) {
    this.child = spawn(process.execPath, [kNode, JSON.stringify(conn), nodeId, String(batchMaxRows)], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.#lines.push(l);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Sends a command and resolves with the next line starting with `prefix`. */
  async ask(cmd: string | undefined, prefix: string): Promise<string> {
    if (cmd !== undefined) this.child.stdin!.write(`${cmd}\n`);
    for (;;) {
      const i = this.#lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.#lines.splice(0, i + 1)[i]!;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  async exit(): Promise<void> {
    const closed = new Promise((r) => this.child.once('close', r));
    this.child.stdin!.write('EXIT\n');
    await closed;
  }
}

async function nodes(pg: PostgresHandle, db: string, n: number, batchMaxRows: number): Promise<Node[]> {
  const list = Array.from({ length: n }, (_, i) => new Node(pg.config(db), `node${i + 1}`, batchMaxRows));
  await Promise.all(list.map((x) => x.ask(undefined, 'READY')));
  return list;
}

/** Records/s of `n` nodes writing `rows` each at once: total rows over first start → last end. */
async function writeRate(list: Node[], rows: number, offset: number, inFlight: number): Promise<number> {
  const t0 = Date.now();
  const spans = await Promise.all(list.map((x, i) => x.ask(`WRITE ${offset + i * rows} ${rows} ${inFlight}`, 'WROTE')));
  const times = spans.map((l) => l.split(' ').slice(1).map(Number) as [number, number]);
  const ms = Math.max(...times.map((t) => t[1])) - Math.min(...times.map((t) => t[0]));
  const rate = (rows * list.length * 1000) / ms;
  console.error(`cluster: ${list.length} node(s) × ${rows} records: ${Math.round(rate)}/s (${Date.now() - t0} ms)`);
  return rate;
}

async function main(): Promise<void> {
  header('cluster');
  const pg = await startPostgres();
  try {
    const db = await pg.createDatabase('bench');
    await (await openPgStore(pg.config(db), { nodeId: 'migrator' })).close();

    // Baseline: one record per transaction from one node (batchMaxRows 1), same schema and server.
    const [single] = await nodes(pg, db, 1, 1);
    let offset = 10_000_000;
    await writeRate([single!], 100, offset, 64);
    offset += 100;
    const base: number[] = [];
    for (let r = 0; r < kRounds; r++) {
      base.push(await writeRate([single!], kBaselineRows, offset, 64));
      offset += kBaselineRows;
    }
    await single!.exit();

    // Group commit: one node, then three nodes together (each its own key range).
    const one = await nodes(pg, db, 1, 1024);
    await writeRate(one, 10_000, offset, kInFlight);
    offset += 10_000;
    const oneRates: number[] = [];
    for (let r = 0; r < kRounds; r++) {
      oneRates.push(await writeRate(one, kRowsPerNode, offset, kInFlight));
      offset += kRowsPerNode;
    }
    await one[0]!.exit();
    const three = await nodes(pg, db, 3, 1024);
    const threeRates: number[] = [];
    for (let r = 0; r < kRounds; r++) {
      threeRates.push(await writeRate(three, kRowsPerNode, offset, kInFlight));
      offset += 3 * kRowsPerNode;
    }

    // Cross-node joined wait: node1 (a child) holds the lock; this process (nodeB) waits and is woken.
    const b = await openPgStore(pg.config(db), { nodeId: 'nodeB' });
    const wakes: number[] = [];
    for (let i = 0; i < kWakeSamples + 5; i++) {
      const fileId = `wake-${i}`;
      await three[0]!.ask(`LOCK ${fileId}`, 'LOCKED');
      const k = { volume: 'vol1', fileId };
      if ((await b.acquireLock(k, 'bench', 'b', 60_000)).acquired) throw new Error('lock should be held by node1');
      const woken = b.waitForUnlock(k, 10_000).then(() => Date.now());
      const sent = Number((await three[0]!.ask(`RECORD ${fileId}`, 'SENDING')).split(' ')[1]);
      const at = await woken;
      await three[0]!.ask(undefined, 'RECORDED');
      if (i >= 5) wakes.push(at - sent); // the first few warm up prepared statements and connections
    }
    await Promise.all(three.map((x) => x.exit()));

    // Store-level scan-current hit: PgStore peek (its cache) vs SQLite getAttributes, same 10k files.
    const files = Array.from({ length: 10_000 }, (_, i) => clusteredRecord(i));
    await Promise.all(files.map((f) => b.recordScan(f)));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-cluster-'));
    const sqlite = openStore(path.join(dir, 'isi_avscan.db'));
    await Promise.all(files.map((f) => sqlite.recordScan(f)));
    const keys = files.map((f) => ({ volume: f.volume, fileId: f.fileId }));
    const wm = 1_700_000_000_000;
    const sq = measure((i) => isScanCurrent(sqlite.getAttributes(keys[i % keys.length]!), files[i % keys.length]!.changeStamp, wm));
    const pk = measure((i) => isScanCurrent(b.peekAttributes(keys[i % keys.length]!), files[i % keys.length]!.changeStamp, wm));
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await b.close();

    const engines = await engineCluster(pg, db, 30);
    const joined = joinedP50(engines);

    const baseRate = median(base);
    const oneRate = median(oneRates);
    const threeRate = median(threeRates);
    const p50 = percentile(wakes, 50);
    console.log(
      table([
        { case: '1 node, 1 record/txn (baseline)', 'records/s': baseRate, 'vs baseline': 1 },
        { case: '1 node, group commit (1024/batch, default)', 'records/s': oneRate, 'vs baseline': oneRate / baseRate },
        { case: '3 nodes together, group commit', 'records/s': threeRate, 'vs baseline': threeRate / baseRate },
      ]),
    );
    console.log(`scaling 1 → 3 nodes: ${(threeRate / oneRate).toFixed(2)}× (2 vCPU shared by PostgreSQL, 3 writers and other users)`);
    console.log(`cross-node wake-up (record+release on node1 → waiter on nodeB), ms: p50 ${p50} p90 ${percentile(wakes, 90)} max ${Math.max(...wakes)} (n=${wakes.length})`);
    console.log(`scan-current hit: SQLite getAttributes ${(sq.nsPerOp / 1000).toFixed(3)} µs, PgStore peek ${(pk.nsPerOp / 1000).toFixed(3)} µs`);
    result('cluster', 'records_per_s_one_node', oneRate, '>=', 20_000);
    result('cluster', 'group_vs_one_per_txn', oneRate / baseRate, '>=', 5, 'x');
    result('cluster', 'three_nodes_vs_one', threeRate / oneRate, '>=', 1, 'x');
    result('cluster', 'wake_p50_ms', p50, '<=', 20, 'ms');
    result('cluster', 'hit_pg_peek_vs_sqlite', pk.opsPerSec / sq.opsPerSec, '>=', 0.5, 'x');
    console.log(
      table([
        { case: 'engine.open scan-current, SQLite store', 'accesses/s': engines.sqliteHits.opsPerSec, 'ns/access': engines.sqliteHits.nsPerOp },
        { case: 'engine.open scan-current, PgStore', 'accesses/s': engines.pgHits.opsPerSec, 'ns/access': engines.pgHits.nsPerOp },
      ]),
    );
    console.log(
      `cross-node joined wait minus the scan (${engines.scanMs} ms scans), ms: p50 ${joined.toFixed(2)} p90 ${percentile([...engines.joinedExtraMs], 90).toFixed(2)} (n=${engines.joinedExtraMs.length})`,
    );
    result('cluster', 'engine_hit_pg_vs_sqlite', engines.pgHits.opsPerSec / engines.sqliteHits.opsPerSec, '>=', 0.5, 'x');
    result('cluster', 'engine_joined_wait_minus_scan_p50_ms', joined, '<=', 20, 'ms');
  } finally {
    await pg.stop();
  }
}

await main();
