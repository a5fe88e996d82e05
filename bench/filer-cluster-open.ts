// filer-cluster-open: data-path opens of scan-current files over HTTPS keep-alive on a filer node whose
// store is a shared PostgreSQL (the cluster set-up of docs/cluster.md) against the same node on its
// SQLite store, in alternating rounds of the same run. Both runtimes are served by one child process
// (the load generator does not share its event loop); the files are scanned once through *another*
// node on the same database first, so the PostgreSQL node's opens are verdicts it never scanned:
// its first open of a file reads PostgreSQL, later ones hit its cache. Target (issue 13's hot-path
// budget): ≥ 0.5× the SQLite node's rate; p50/p99 reported.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { Pool } from 'undici';
import { createStaticRuntime, dataPathExtension, type StaticRuntime } from '@avscan/filer';
import { postgresAvailable, startPostgres } from './lib/postgres.js';
import { formatNumber, header, result, table } from './lib/harness.js';
import { mergeReasons, openLoad, summarize, type Round } from './lib/https-open-load.js';

const kFiles = 1000;
const kConnections = 8;
const kInFlight = 32;
const kRoundMs = 3000;
const kRounds = 3;

type Served = { rt: StaticRuntime; app: FastifyInstance; port: number };

async function serveOne(stateDir: string, volumeRoot: string, store: { storeUrl?: string; nodeId?: string }, pems: { private: string; cert: string }): Promise<Served> {
  const rt = await createStaticRuntime({
    stateDir, ...store,
    svms: [{ name: 'vs1', volumes: [{ name: 'vol1', root: volumeRoot }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] }],
  });
  const app = Fastify({ https: { key: pems.private, cert: pems.cert } });
  await dataPathExtension().routes!(app, rt);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return { rt, app, port: typeof a === 'object' && a !== null ? a.port : 0 };
}

async function openAll(port: number): Promise<void> {
  const pool = new Pool(`https://127.0.0.1:${port}`, { connections: kConnections, connect: { rejectUnauthorized: false } });
  for (let i = 0; i < kFiles; i++) await (await pool.request({ method: 'GET', path: `/data/vs1/vol1/d${i % 10}/f${i}.docx?op=open&mode=read` })).body.text();
  await pool.close();
}

async function serve(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-filer-cluster-'));
  const volume = path.join(dir, 'vol1');
  for (let i = 0; i < kFiles; i++) {
    mkdirSync(path.join(volume, `d${i % 10}`), { recursive: true });
    writeFileSync(path.join(volume, `d${i % 10}`, `f${i}.docx`), `file ${i}`);
  }
  const pg = await startPostgres();
  const url = pg.url(await pg.createDatabase('bench_filer'));
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048 });
  const sqlite = await serveOne(path.join(dir, 'sqlite'), volume, {}, pems);
  const scanner = await serveOne(path.join(dir, 'n1'), volume, { storeUrl: url, nodeId: 'n1' }, pems);
  const node = await serveOne(path.join(dir, 'n2'), volume, { storeUrl: url, nodeId: 'n2' }, pems);
  // SQLite scans its own files; n1 scans them for the cluster, n2 only ever reads n1's verdicts.
  await openAll(sqlite.port);
  await openAll(scanner.port);
  await sqlite.rt.engine('vs1').drain();
  await scanner.rt.engine('vs1').drain();
  process.send!({ sqlite: sqlite.port, pg: node.port, scansN1: scanner.rt.engine('vs1').metrics().scansStarted });
  process.once('message', () => {
    void (async () => {
      const scansN2 = node.rt.engine('vs1').metrics().scansStarted;
      for (const s of [sqlite, scanner, node]) {
        await s.app.close();
        await s.rt.close();
      }
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
      process.send!({ scansN2 }, () => process.exit(0));
    })();
  });
}

async function main(): Promise<void> {
  header('filer-cluster-open');
  if (!postgresAvailable()) {
    console.log('SKIPPED: PostgreSQL 15 not installed (apt-get install postgresql)');
    return;
  }
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ sqlite: number; pg: number; scansN1: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { sqlite: number; pg: number; scansN1: number }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const pools = {
    sqlite: new Pool(`https://127.0.0.1:${ready.sqlite}`, { connections: kConnections, pipelining: 1, connect: { rejectUnauthorized: false } }),
    pg: new Pool(`https://127.0.0.1:${ready.pg}`, { connections: kConnections, pipelining: 1, connect: { rejectUnauthorized: false } }),
  };
  const open = (i: number): string => `/data/vs1/vol1/d${(i % kFiles) % 10}/f${i % kFiles}.docx?op=open&mode=read`;
  const load = (pool: Pool, ms: number): Promise<Round> => openLoad(pool, open, ms, kInFlight);
  // Warm-up: TLS sessions and JIT on both; on the PostgreSQL node also the first read of each verdict.
  await load(pools.sqlite, 500);
  await load(pools.pg, 500);
  const rounds: { sqlite: Round[]; pg: Round[] } = { sqlite: [], pg: [] };
  for (let r = 0; r < kRounds; r++) {
    rounds.sqlite.push(await load(pools.sqlite, kRoundMs));
    rounds.pg.push(await load(pools.pg, kRoundMs));
  }
  await pools.sqlite.close();
  await pools.pg.close();
  const done = new Promise<{ scansN2: number }>((resolve) => child.once('message', (m) => resolve(m as { scansN2: number })));
  child.send('stop');
  const { scansN2 } = await done;
  const s = summarize(rounds.sqlite);
  const p = summarize(rounds.pg);
  const reasons = mergeReasons([...rounds.sqlite, ...rounds.pg]);
  console.log(`${kConnections} HTTPS keep-alive connections, ${kInFlight} requests in flight, ${kRounds} alternating rounds of ${kRoundMs} ms, ${kFiles} files (scanned by node n1: ${ready.scansN1} scans; by the measured node n2: ${scansN2})`);
  console.log(table([
    { node: 'SQLite store (one node)', 'req/s': formatNumber(s.rps), 'p50 ms': s.p50, 'p99 ms': s.p99 },
    { node: 'PostgreSQL store (node 2 of 2)', 'req/s': formatNumber(p.rps), 'p50 ms': p.p50, 'p99 ms': p.p99 },
  ]));
  console.log(`answers: ${[...reasons].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (reasons.size !== 1 || !reasons.has('scan-current') || scansN2 !== 0) console.log('WARNING: not every measured open was scan current without a scan');
  result('filer-cluster-open', 'pg_vs_sqlite', p.rps / s.rps, '>=', 0.5, 'x');
}

if (process.argv.includes('--serve')) await serve();
else await main();
