// scan-current: accesses to files that are scan current (no scanner call) through the whole engine
// (validation, trigger, policy, attribute cache, watermark, answer), against `decide()` alone on the
// same accesses. Target: ≤ 10× `decide()` in the same run. The absolute rate is printed but has no
// RESULT line: it swung 460k–1.16M accesses/s between runs on the shared machine, so only the ratio
// measured within one run is a claim.
import { ScanEngine, startScannerServer } from '@avscan/scanner';
import { makeBenchRig, syntheticAccess } from './lib/engine-rig.js';
import { blackhole, formatNumber, header, measure, measureAsync, result, table } from './lib/harness.js';
import os from 'node:os';
import path from 'node:path';

header('scan-current');
const kFiles = 10_000;
const scanEngine = await ScanEngine.create({ workers: 1 });
const sock = path.join(os.tmpdir(), `avscan-bench-sc-${process.pid}.sock`);
const server = await startScannerServer({ engine: scanEngine, unix: sock, log: () => {} });
const rig = await makeBenchRig([`clamd+unix://${sock}`]);
const accesses = Array.from({ length: kFiles }, (_, i) => syntheticAccess(i));

// Make every file current: record a clean scan with the live change stamp and the current signatures.
const sig = rig.dispatcher.signatureWatermark()?.timestamp ?? 0;
await Promise.all(accesses.map((a) => rig.store.recordScan({
  volume: a.volume, fileId: a.fileId, path: `/${a.path.slice(1).replace(/\\/g, '/')}`, scanResult: 'clean',
  changeStamp: a.changeStamp, sigTimestamp: sig,
})));
const first = await rig.engine.open(accesses[0]!);
if (first.reason !== 'scan-current') throw new Error(`setup: expected scan-current, got ${first.reason}`);

const policy = rig.engine.policy;
const decide = measure((i) => policy.decide(accesses[i % kFiles]!), { opsPerRound: 200_000, rounds: 7 });

const kBatch = 1000;
const engineRun = await measureAsync(async () => {
  let n = 0;
  for (let b = 0; b < 50; b++) {
    const ps = new Array<Promise<unknown>>(kBatch);
    for (let j = 0; j < kBatch; j++) ps[j] = rig.engine.open(accesses[(b * kBatch + j) % kFiles]!);
    blackhole(await Promise.all(ps));
    n += kBatch;
  }
  return n;
}, { rounds: 7, warmup: 2 });

const scans = server.stats().scans;
console.log(table([
  { what: 'decide() alone', 'ns/access': decide.nsPerOp, 'accesses/s': formatNumber(decide.opsPerSec) },
  { what: 'engine.open (scan current)', 'ns/access': engineRun.nsPerOp, 'accesses/s': formatNumber(engineRun.opsPerSec) },
]));
console.log(`scanner requests during the run: ${scans} (expected 0)`);
const ratio = engineRun.nsPerOp / decide.nsPerOp;
console.log(`engine / decide: ${formatNumber(ratio)}x`);
result('scan-current', 'vs_decide', ratio, '<=', 10, 'x');
await rig.close();
await server.close();
await scanEngine.close();
