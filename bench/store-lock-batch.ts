// store-lock-batch: the store's side of one small-file scan at concurrency 1 — a lookup miss, the
// scan lock, then the record that releases it (group-committed) — in CPU µs per file. Baseline: the
// queued record committed on its own before the lock (what happened before acquireLock took the
// queue with it: two commits per file); measured: acquireLock commits the queued record and the lock
// in one transaction. Both in the same run, interleaved rounds on one store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '@avscan/store';
import { formatNumber, header, median, result, table } from './lib/harness.js';

header('store-lock-batch');
const kFiles = 3000;
const kRounds = 10;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-lock-batch-'));
const store = openStore(path.join(dir, 'isi_avscan.db'), { nodeId: 'bench' });
let next = 0;

function oneFile(separate: boolean): void {
  const i = next++;
  const key = { volume: 'vol1', fileId: String(1_000_000 + i) };
  const scanId = `scan-${i}`;
  store.getAttributes(key);
  // The baseline: the previous file's queued record gets its own commit first.
  if (separate) void store.flush();
  if (!store.acquireLock(key, 'bench', scanId, 60_000).acquired) throw new Error('lock refused');
  void store.recordScan(
    { volume: 'vol1', fileId: key.fileId, path: `/share/f${i}.docx`, scanResult: 'clean', changeStamp: `c${i}`, sigTimestamp: 1 },
    { releaseLock: { owner: 'bench', scanId } },
  );
}

const cpu: Record<'separate' | 'together', number[]> = { separate: [], together: [] };
for (let round = 0; round < kRounds; round++) {
  for (const mode of ['separate', 'together'] as const) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < kFiles; i++) oneFile(mode === 'separate');
    const c = process.cpuUsage(c0);
    cpu[mode].push((c.user + c.system) / kFiles);
    await store.flush();
  }
}
await store.close();
fs.rmSync(dir, { recursive: true, force: true });
const sep = median(cpu.separate);
const tog = median(cpu.together);
console.log(table([
  { case: 'record committed alone, then the lock (baseline: two commits)', 'CPU µs/file': formatNumber(sep) },
  { case: 'acquireLock commits the queued record with the lock (one commit)', 'CPU µs/file': formatNumber(tog) },
]));
console.log(`median of ${kRounds} interleaved rounds × ${kFiles} files; lookup miss + lock + record-and-release per file`);
result('store-lock-batch', 'one_commit_vs_two', sep / tog, '>=', 1.1, 'x');
