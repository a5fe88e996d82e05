// engine-clamd: on-access opens of unique, unscanned files through the whole engine (policy, lookup,
// lock, dispatcher, SQLite record) to one real clamd, in two modes, each against the raw client of
// the same mode, at the same concurrency, in the same run:
// - INSTREAM (the default address): the engine streams each file; baselines read the file and stream it
//   with zINSTREAM — IDSESSION with kept connections (one per concurrency lane), the best raw client and
//   BENCH.md's baseline, and a new connection per file (what a minimal client does, for reference);
// - path (`?scan=path`): clamd reads each file itself; the baseline sends `zSCAN <path>` on kept
//   IDSESSION connections, one per lane.
// Sizes 1 KiB / 64 KiB / 1 MiB. Targets (BENCH.md): ≥ 0.95× the same-mode IDSESSION baseline's
// throughput; added p50 ≤ 0.3 ms. `ENGINE_CLAMD_SIZES=1024` runs one size. Needs clamd
// (bash scripts/real-scanners.sh install).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changeStampOf } from '@avscan/store';
import { clamdAvailable, rawInstream, RawIdSession, startClamd } from './lib/clamd.js';
import { cpuWindow } from './lib/cpu.js';
import { makeBenchRig } from './lib/engine-rig.js';
import { header, median, percentile, result, table } from './lib/harness.js';
import type { FileAccess } from '@avscan/engine';

header('engine-clamd');
if (!clamdAvailable()) {
  console.log('clamd is not installed: run `bash scripts/real-scanners.sh install`');
  process.exit(0);
}
const clamd = await startClamd({ maxThreads: 16, streamMaxLength: '4M', maxFileSize: '4M' });
const sock = clamd.socketPath!;
const rig = await makeBenchRig([`clamd+unix://${sock}`]);
// Its own store, so the two engines never share attributes or locks; same clamd, same files dir.
const rigPath = await makeBenchRig([`clamd+unix://${sock}?scan=path`]);
const filesDir = path.join(rig.dir, 'files');
mkdirSync(filesDir);

let seq = 0;
function makeFile(size: number): FileAccess {
  const name = `f${seq++}.docx`;
  const full = path.join(filesDir, name);
  writeFileSync(full, randomBytes(size)); // unique content: clamd's cache never answers
  const st = statSync(full, { bigint: true });
  return {
    volume: 'vol1', fileId: String(st.ino), path: `\\vol1\\files\\${name}`, size, file: full,
    changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
  };
}

type One = (a: FileAccess, lane: number) => Promise<void>;

/** Runs `one` over the accesses with `concurrency` lanes; returns files/s and per-file latencies. */
async function run(accesses: FileAccess[], concurrency: number, one: One): Promise<{ rate: number; lat: number[] }> {
  let i = 0;
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
    while (i < accesses.length) {
      const a = accesses[i++]!;
      const t = process.hrtime.bigint();
      await one(a, lane);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  return { rate: accesses.length / (Number(process.hrtime.bigint() - t0) / 1e9), lat };
}

const engineOne = async (a: FileAccess): Promise<void> => {
  const answer = await rig.engine.open(a);
  if (answer.reason !== 'clean') throw new Error(`engine answered ${answer.reason}`);
};
const enginePathOne = async (a: FileAccess): Promise<void> => {
  const answer = await rigPath.engine.open(a);
  if (answer.reason !== 'clean') throw new Error(`engine (scan=path) answered ${answer.reason}`);
};
/** Connection per file: read the file, a new connection, zINSTREAM. */
const connOne: One = async (a) => {
  const reply = await rawInstream(sock, readFileSync(a.file!));
  if (!reply.startsWith('stream: OK')) throw new Error(reply);
};
/** IDSESSION: read the file, zINSTREAM on the lane's kept session. */
const sessions: RawIdSession[] = [];
const sessionOne: One = async (a, lane) => {
  const reply = await sessions[lane]!.scan(readFileSync(a.file!));
  if (!reply.startsWith('stream: OK')) throw new Error(reply);
};
/** IDSESSION, path mode: `zSCAN <path>` on the lane's kept session; clamd reads the file. */
const sessionPathOne: One = async (a, lane) => {
  const reply = await sessions[lane]!.scanPath(a.file!);
  if (!reply.endsWith(': OK')) throw new Error(reply);
};
const clients = { idsession: sessionOne, conn: connOne, engine: engineOne, 'idsession-path': sessionPathOne, 'engine-path': enginePathOne } as const;
type Who = keyof typeof clients;

const kSizes = [[1024, 400], [64 * 1024, 160], [1024 * 1024, 24]] as const;
const only = process.env.ENGINE_CLAMD_SIZES?.split(',').map(Number);
const rows = [];
const pathRows = [];
const cpuRows = [];
let worstRatio = Infinity;
let worstConnRatio = Infinity;
let worstAddedP50 = 0;
let worstPathRatio = Infinity;
let worstPathAddedP50 = 0;
const kWho = Object.keys(clients) as Who[];
for (const [size, count] of kSizes.filter(([s]) => only === undefined || only.includes(s))) {
  for (const concurrency of [1, 4]) {
    for (const s of sessions.splice(0)) s.close();
    for (let lane = 0; lane < concurrency; lane++) sessions.push(await RawIdSession.open(sock));
    const rates = Object.fromEntries(kWho.map((w) => [w, [] as number[]])) as Record<Who, number[]>;
    const p50 = Object.fromEntries(kWho.map((w) => [w, [] as number[]])) as Record<Who, number[]>;
    // CPU per file of this process (the client: engine or raw) and of clamd, summed over the rounds.
    const cpu = Object.fromEntries(kWho.map((w) => [w, { node: 0, clamd: 0, files: 0 }])) as Record<Who, { node: number; clamd: number; files: number }>;
    // Warm every path (JIT, kept scanner sessions) before timing any.
    for (const who of kWho) await run(Array.from({ length: count / 4 }, () => makeFile(size)), concurrency, clients[who]);
    for (let round = 0; round < 5; round++) {
      // Rotate which goes first so machine drift hits all alike.
      const order = kWho.map((_, j, a) => a[(j + round) % a.length]!);
      for (const who of order) {
        const files = Array.from({ length: count }, () => makeFile(size));
        const w = cpuWindow(clamd.pid);
        const r = await run(files, concurrency, clients[who]);
        const used = w.stop();
        cpu[who].node += used.selfMs;
        cpu[who].clamd += used.otherMs;
        cpu[who].files += count;
        rates[who].push(r.rate);
        p50[who].push(percentile(r.lat, 50));
      }
    }
    const ratio = median(rates.engine) / median(rates.idsession);
    const connRatio = median(rates.engine) / median(rates.conn);
    const added = median(p50.engine) - median(p50.idsession);
    worstRatio = Math.min(worstRatio, ratio);
    worstConnRatio = Math.min(worstConnRatio, connRatio);
    worstAddedP50 = Math.max(worstAddedP50, added);
    rows.push({
      size: size >= 1024 * 1024 ? '1 MiB' : `${size / 1024} KiB`, concurrency,
      'idsession files/s': median(rates.idsession), 'conn/file files/s': median(rates.conn), 'engine files/s': median(rates.engine),
      'vs idsession': ratio, 'vs conn/file': connRatio,
      'idsession p50 ms': median(p50.idsession), 'engine p50 ms': median(p50.engine), 'added p50 ms': added,
    });
    const pathRatio = median(rates['engine-path']) / median(rates['idsession-path']);
    const pathAdded = median(p50['engine-path']) - median(p50['idsession-path']);
    worstPathRatio = Math.min(worstPathRatio, pathRatio);
    worstPathAddedP50 = Math.max(worstPathAddedP50, pathAdded);
    pathRows.push({
      size: size >= 1024 * 1024 ? '1 MiB' : `${size / 1024} KiB`, concurrency,
      'idsession zSCAN files/s': median(rates['idsession-path']), 'engine scan=path files/s': median(rates['engine-path']),
      'vs idsession zSCAN': pathRatio, 'vs idsession INSTREAM': median(rates['engine-path']) / median(rates.idsession),
      'zSCAN p50 ms': median(p50['idsession-path']), 'engine p50 ms': median(p50['engine-path']), 'added p50 ms': pathAdded,
    });
    const us = (who: Who, k: 'node' | 'clamd'): number => (cpu[who][k] * 1000) / cpu[who].files;
    // On these 2 shared cores every µs of client CPU is taken from clamd: where the run is CPU-bound,
    // throughput can reach at most (clamd + raw client) / (clamd + engine) of the raw client's.
    const ceiling = (eng: Who, raw: Who): number => (us(raw, 'clamd') + us(raw, 'node')) / (us(eng, 'clamd') + us(eng, 'node'));
    cpuRows.push({
      size: size >= 1024 * 1024 ? '1 MiB' : `${size / 1024} KiB`, concurrency,
      'engine µs': us('engine', 'node'), 'idsession µs': us('idsession', 'node'), 'clamd µs (engine)': us('engine', 'clamd'), 'clamd µs (idsession)': us('idsession', 'clamd'), 'CPU ceiling': ceiling('engine', 'idsession'),
      'engine-path µs': us('engine-path', 'node'), 'zSCAN µs': us('idsession-path', 'node'), 'clamd µs (engine-path)': us('engine-path', 'clamd'), 'clamd µs (zSCAN)': us('idsession-path', 'clamd'), 'path CPU ceiling': ceiling('engine-path', 'idsession-path'),
    });
  }
}
for (const s of sessions.splice(0)) s.close();
console.log('INSTREAM mode (the engine streams each file)');
console.log(table(rows));
console.log('baseline: raw zINSTREAM on kept IDSESSION connections, one per concurrency lane (BENCH.md); conn/file: a new connection per file');
console.log('\npath mode (`?scan=path`: clamd reads each file itself)');
console.log(table(pathRows));
console.log('baseline: raw `zSCAN <path>` on kept IDSESSION connections, one per concurrency lane; "vs idsession INSTREAM" is the path-mode engine over the INSTREAM baseline');
console.log('\nCPU per file (user + system, all threads; node = this process, the engine or the raw client)');
console.log(table(cpuRows));
console.log('CPU ceiling = (clamd + raw client) / (clamd + engine) CPU per file: the best throughput ratio the engine can reach where the 2 shared cores are the bottleneck (concurrency 4)');
result('engine-clamd', 'worst_throughput_vs_idsession', worstRatio, '>=', 0.95, 'x');
result('engine-clamd', 'worst_throughput_vs_conn_per_file', worstConnRatio, '>=', 0.95, 'x');
result('engine-clamd', 'worst_added_p50_vs_idsession', worstAddedP50, '<=', 0.3, 'ms');
result('engine-clamd', 'path_worst_throughput_vs_idsession_zscan', worstPathRatio, '>=', 0.95, 'x');
result('engine-clamd', 'path_worst_added_p50_vs_idsession_zscan', worstPathAddedP50, '<=', 0.3, 'ms');
await rigPath.close();
await rig.close();
await clamd.stop();
