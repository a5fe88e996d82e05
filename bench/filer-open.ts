// filer-open: data-path opens of scan-current files over HTTPS keep-alive (undici, a fixed number of
// connections) against a bare fastify route that answers the same JSON, both served by one HTTPS
// server in a child process (so the load generator does not share its event loop), in alternating
// rounds of the same run. Target (issue 10): data path ≥ 0.7× the bare route's throughput; p99 reported.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { generate } from 'selfsigned';
import { Pool } from 'undici';
import { createStaticRuntime, dataPathExtension } from '@avscan/filer';
import { formatNumber, header, result, table } from './lib/harness.js';
import { mergeReasons, openLoad, summarize, type Round } from './lib/https-open-load.js';

const kFiles = 1000;
const kConnections = 8;
const kInFlight = 32;
const kRoundMs = 3000;
const kRounds = 3;

async function serve(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-filer-'));
  const rt = await createStaticRuntime({ stateDir: dir, svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] }] });
  const root = rt.volume('vs1', 'vol1')!.root;
  for (let i = 0; i < kFiles; i++) {
    mkdirSync(path.join(root, `d${i % 10}`), { recursive: true });
    writeFileSync(path.join(root, `d${i % 10}`, `f${i}.docx`), `file ${i}`);
  }
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048 });
  const app = Fastify({ https: { key: pems.private, cert: pems.cert } });
  await dataPathExtension().routes!(app, rt);
  // The bare route: the same JSON an allowed open answers, with no engine, file system or path work.
  const canned = { path: '\\vol1\\d0\\f0.docx', allow: true, reason: 'scan-current', decision_id: 'bench-xxxxxx-1', policy_revision: 'r', trigger: 'sync', joined: false };
  app.get('/bare/:svm/:share/*', async () => canned);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  // Scan every file once, so the measured opens are all scan current.
  const pool = new Pool(`https://127.0.0.1:${port}`, { connections: kConnections, connect: { rejectUnauthorized: false } });
  for (let i = 0; i < kFiles; i++) {
    const res = await pool.request({ method: 'GET', path: `/data/vs1/vol1/d${i % 10}/f${i}.docx?op=open&mode=read` });
    await res.body.text();
  }
  await pool.close();
  await rt.engine('vs1').drain();
  process.send!({ port, scans: rt.engine('vs1').metrics().scansStarted });
  process.once('message', () => {
    void app.close().then(() => rt.close()).then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

async function main(): Promise<void> {
  header('filer-open');
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ port: number; scans: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; scans: number }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const pool = new Pool(`https://127.0.0.1:${ready.port}`, { connections: kConnections, pipelining: 1, connect: { rejectUnauthorized: false } });
  const data = (i: number): string => `/data/vs1/vol1/d${(i % kFiles) % 10}/f${i % kFiles}.docx?op=open&mode=read`;
  const bare = (i: number): string => `/bare/vs1/vol1/d${(i % kFiles) % 10}/f${i % kFiles}.docx?op=open&mode=read`;
  const load = (pathOf: (i: number) => string, ms: number): Promise<Round> => openLoad(pool, pathOf, ms, kInFlight);
  await load(bare, 500); // warm-up both paths (TLS sessions, JIT)
  await load(data, 500);
  const rounds: { bare: Round[]; data: Round[] } = { bare: [], data: [] };
  for (let r = 0; r < kRounds; r++) {
    rounds.bare.push(await load(bare, kRoundMs));
    rounds.data.push(await load(data, kRoundMs));
  }
  await pool.close();
  child.send('stop');
  const b = summarize(rounds.bare);
  const d = summarize(rounds.data);
  const reasons = mergeReasons(rounds.data);
  console.log(`${kConnections} HTTPS keep-alive connections, ${kInFlight} requests in flight, ${kRounds} alternating rounds of ${kRoundMs} ms, ${kFiles} files (scanned once before: ${ready.scans} scans)`);
  console.log(table([
    { route: 'bare fastify (same JSON)', 'req/s': formatNumber(b.rps), 'p50 ms': b.p50, 'p99 ms': b.p99 },
    { route: 'data path open (scan current)', 'req/s': formatNumber(d.rps), 'p50 ms': d.p50, 'p99 ms': d.p99 },
  ]));
  console.log(`data-path answers: ${[...reasons].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  console.log(`data path p99: ${formatNumber(d.p99)} ms (bare ${formatNumber(b.p99)} ms)`);
  if (reasons.size !== 1 || !reasons.has('scan-current')) console.log('WARNING: not every measured open was scan current');
  result('filer-open', 'vs_bare', d.rps / b.rps, '>=', 0.7, 'x');
}

if (process.argv.includes('--serve')) await serve();
else await main();
