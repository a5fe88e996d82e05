// coalesce: N = 100 concurrent opens of one unscanned file must make exactly one scanner request
// (also a test: packages/engine/test/coalesce.test.ts). Reports the time for all 100 answers against
// the time of one lone scan of a file of the same size, measured in the same run.
import { ScanEngine, startScannerServer } from '@avscan/scanner';
import os from 'node:os';
import path from 'node:path';
import { makeBenchRig, syntheticAccess } from './lib/engine-rig.js';
import { formatNumber, header, median, result, table } from './lib/harness.js';

header('coalesce');
const scanEngine = await ScanEngine.create({ workers: 1 });
const sock = path.join(os.tmpdir(), `avscan-bench-co-${process.pid}.sock`);
const server = await startScannerServer({ engine: scanEngine, unix: sock, log: () => {} });
const rig = await makeBenchRig([`clamd+unix://${sock}`]);
const data = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);

const lone: number[] = [];
const crowd: number[] = [];
let maxRequests = 0;
for (let round = 0; round < 10; round++) {
  const a = syntheticAccess(round * 2, data);
  let t = process.hrtime.bigint();
  await rig.engine.open(a);
  lone.push(Number(process.hrtime.bigint() - t) / 1e6);

  const b = syntheticAccess(round * 2 + 1, data);
  const before = server.stats().scans;
  t = process.hrtime.bigint();
  const answers = await Promise.all(Array.from({ length: 100 }, () => rig.engine.open(b)));
  crowd.push(Number(process.hrtime.bigint() - t) / 1e6);
  const requests = server.stats().scans - before;
  maxRequests = Math.max(maxRequests, requests);
  if (answers.some((x) => x.reason !== 'clean')) throw new Error('a joined access got another verdict');
}
console.log(table([
  { what: '1 open of an unscanned 64 KiB file', 'median ms': median(lone) },
  { what: '100 concurrent opens of one unscanned 64 KiB file', 'median ms': median(crowd) },
]));
console.log(`100 opens cost ${formatNumber(median(crowd) / median(lone))}x one open`);
result('coalesce', 'scanner_requests_per_100_opens', maxRequests, '<=', 1);
await rig.close();
await server.close();
await scanEngine.close();
