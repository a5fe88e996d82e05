// storm: latency of interactive opens (unscanned files, so each one is a real scan) while 100,000
// files are revalidated in the background after a signature update, against the same opens with no
// background load, in the same run. Target (BENCH.md): interactive p99 ≤ 2× unloaded.
// Scanner: the built-in clamd-protocol server (`avscan-scanner`, 2 worker threads) as its own process
// on a unix socket, as a gateway deploys scanner servers (in-process, the scanner's protocol work would
// compete with the engine for the same main thread and measure that instead).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { makeBenchRig, syntheticAccess } from './lib/engine-rig.js';
import { formatNumber, header, percentile, result, table } from './lib/harness.js';

header('storm');
const kStorm = 100_000;
const kPhaseMs = 4000;
const sock = path.join(os.tmpdir(), `avscan-bench-storm-${process.pid}.sock`);
const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('@avscan/scanner')), 'cli.js');
const scanner = spawn(process.execPath, [cli, '--unix', sock, '--workers', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
// Never leave the scanner behind, even when the bench fails.
process.on('exit', () => scanner.kill('SIGTERM'));
await new Promise<void>((resolve, reject) => {
  const deadline = Date.now() + 10_000;
  const poll = (): void => {
    import('node:fs').then((fs) => {
      if (fs.existsSync(sock)) resolve();
      else if (Date.now() > deadline) reject(new Error('avscan-scanner did not start'));
      else setTimeout(poll, 20);
    }, reject);
  };
  poll();
});
const rig = await makeBenchRig([`clamd+unix://${sock}`], {}, { max_queue: 200_000 });

function content(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let j = 0; j < size; j++) b[j] = (i * 131 + j * 7) & 0xff;
  return b;
}

let next = 1_000_000;
async function interactivePhase(): Promise<number[]> {
  const lat: number[] = [];
  const end = Date.now() + kPhaseMs;
  while (Date.now() < end) {
    const a = syntheticAccess(next++, content(next, 1024));
    const t = process.hrtime.bigint();
    const answer = await rig.engine.open(a);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (answer.reason !== 'clean') throw new Error(`interactive open answered ${answer.reason}`);
  }
  return lat;
}

const unloaded = await interactivePhase();

// Files come from a lazy walk, as a gateway lists a tree: holding 100,000 accesses and their contents
// in memory at once would measure the garbage collector, not the engine.
function* storm(): Generator<ReturnType<typeof syntheticAccess>> {
  for (let i = 0; i < kStorm; i++) yield syntheticAccess(i, content(i, 256));
}
const abort = new AbortController();
let lastProgress = 0;
const revalidation = rig.engine.revalidate(storm(), {
  concurrency: 2,
  signal: abort.signal,
  onProgress: (r) => {
    lastProgress = r.checked;
  },
});
await new Promise((r) => setTimeout(r, 300));
const loaded = await interactivePhase();
abort.abort();
const report = await revalidation;

console.log(table([
  { load: 'none', opens: unloaded.length, 'p50 ms': percentile(unloaded, 50), 'p99 ms': percentile(unloaded, 99) },
  { load: `revalidating ${kStorm.toLocaleString('en')} files (2 in flight)`, opens: loaded.length, 'p50 ms': percentile(loaded, 50), 'p99 ms': percentile(loaded, 99) },
]));
console.log(`background files scanned during the loaded phase: ${report.scanned} (progress ${lastProgress}); aborted after the phase`);
const ratio = percentile(loaded, 99) / percentile(unloaded, 99);
console.log(`p99 loaded / unloaded: ${formatNumber(ratio)}x`);
result('storm', 'p99_loaded_vs_unloaded', ratio, '<=', 2, 'x');
await rig.close();
scanner.kill('SIGTERM');
