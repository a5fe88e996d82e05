// engine-clamd: on-access opens of unique, unscanned files through the whole engine (policy, lookup,
// lock, dispatcher, SQLite record) to one real clamd, against a raw client that reads the same kind of
// file and streams it to clamd with zINSTREAM on a new connection, at the same concurrency, in the
// same run. Sizes 1 KiB / 64 KiB / 1 MiB. Targets (BENCH.md): ≥ 0.95× raw throughput; added p50 ≤ 0.3 ms.
// Needs clamd (bash scripts/real-scanners.sh install).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changeStampOf } from '@avscan/store';
import { clamdAvailable, rawInstream, startClamd } from './lib/clamd.js';
import { makeBenchRig } from './lib/engine-rig.js';
import { formatNumber, header, median, percentile, result, table } from './lib/harness.js';
import type { FileAccess } from '@avscan/engine';

header('engine-clamd');
if (!clamdAvailable()) {
  console.log('clamd is not installed: run `bash scripts/real-scanners.sh install`');
  process.exit(0);
}
const clamd = await startClamd({ maxThreads: 16, streamMaxLength: '4M', maxFileSize: '4M' });
const sock = clamd.socketPath!;
const rig = await makeBenchRig([`clamd+unix://${sock}`]);
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

/** The raw baseline: read the file, then a minimal zINSTREAM client on a new connection. */
function rawScan(file: string): Promise<string> {
  return rawInstream(sock, readFileSync(file));
}

/** Runs `one` over the accesses with `concurrency` loops; returns files/s and per-file latencies. */
async function run(accesses: FileAccess[], concurrency: number, one: (a: FileAccess) => Promise<void>): Promise<{ rate: number; lat: number[] }> {
  let i = 0;
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < accesses.length) {
      const a = accesses[i++]!;
      const t = process.hrtime.bigint();
      await one(a);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  return { rate: accesses.length / (Number(process.hrtime.bigint() - t0) / 1e9), lat };
}

const engineOne = async (a: FileAccess): Promise<void> => {
  const answer = await rig.engine.open(a);
  if (answer.reason !== 'clean') throw new Error(`engine answered ${answer.reason}`);
};
const rawOne = async (a: FileAccess): Promise<void> => {
  const reply = await rawScan(a.file!);
  if (!reply.startsWith('stream: OK')) throw new Error(reply);
};

const rows = [];
let worstRatio = Infinity;
let worstAddedP50 = 0;
for (const [size, count] of [[1024, 400], [64 * 1024, 160], [1024 * 1024, 24]] as const) {
  for (const concurrency of [1, 4]) {
    const rates = { raw: [] as number[], engine: [] as number[] };
    const p50 = { raw: [] as number[], engine: [] as number[] };
    // Warm both paths (JIT, kept scanner sessions) before timing either.
    await run(Array.from({ length: count / 4 }, () => makeFile(size)), concurrency, rawOne);
    await run(Array.from({ length: count / 4 }, () => makeFile(size)), concurrency, engineOne);
    for (let round = 0; round < 5; round++) {
      // Alternate which goes first so machine drift hits both alike.
      const order: Array<'raw' | 'engine'> = round % 2 ? ['engine', 'raw'] : ['raw', 'engine'];
      for (const who of order) {
        const files = Array.from({ length: count }, () => makeFile(size));
        const r = await run(files, concurrency, who === 'raw' ? rawOne : engineOne);
        rates[who].push(r.rate);
        p50[who].push(percentile(r.lat, 50));
      }
    }
    const ratio = median(rates.engine) / median(rates.raw);
    const added = median(p50.engine) - median(p50.raw);
    worstRatio = Math.min(worstRatio, ratio);
    worstAddedP50 = Math.max(worstAddedP50, added);
    rows.push({
      size: size >= 1024 * 1024 ? '1 MiB' : `${size / 1024} KiB`, concurrency,
      'raw files/s': median(rates.raw), 'engine files/s': median(rates.engine), ratio,
      'raw p50 ms': median(p50.raw), 'engine p50 ms': median(p50.engine), 'added p50 ms': added,
    });
  }
}
console.log(table(rows));
console.log('baseline: raw zINSTREAM over a new unix-socket connection per file (not IDSESSION pipelining)');
result('engine-clamd', 'worst_throughput_vs_raw', worstRatio, '>=', 0.95, 'x');
result('engine-clamd', 'worst_added_p50', worstAddedP50, '<=', 0.3, 'ms');
await rig.close();
await clamd.stop();
