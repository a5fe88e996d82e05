// store-write: scan-attribute upserts through group commit vs autocommit (one row per transaction),
// same schema, same run. Directory-clustered keys (inodes allocated together, as in one directory)
// are the target; random keys are reported too (they are disk-bound: every row dirties its own pages).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type ScanRecord, type Store } from '@avscan/store';
import { clusteredRecord } from './lib/records.js';
import { header, measureAsync, result, table } from './lib/harness.js';

const kGroupRows = 100_000; // rows per timed round of group commit
const kAutoRows = 3_000; // rows per timed round of autocommit (~20–85 µs each)
const kInFlight = 4096; // writes a producer keeps in flight (many concurrent accesses)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-store-write-'));


function random(i: number): ScanRecord {
  const ino = Math.floor(Math.random() * 1e12);
  return { ...clusteredRecord(i), fileId: String(ino).padStart(12, '0'), path: `/share/d${ino % 9973}/f${ino}.docx` };
}

/** Writes `n` records with at most kInFlight unacknowledged; resolves when all are acknowledged. */
async function groupWrite(store: Store, make: (i: number) => ScanRecord, from: number, n: number): Promise<void> {
  let next = from;
  const end = from + n;
  const worker = async (): Promise<void> => {
    while (next < end) await store.recordScan(make(next++));
  };
  await Promise.all(Array.from({ length: kInFlight }, worker));
}

async function main(): Promise<void> {
  header('store-write');
  try {
    // Group commit, clustered keys.
    const gFile = path.join(dir, 'group.db');
    const store = openStore(gFile);
    let offset = 0;
    const groupClustered = await measureAsync(
      async () => {
        await groupWrite(store, clusteredRecord, offset, kGroupRows);
        offset += kGroupRows;
        return kGroupRows;
      },
      { rounds: 3, warmup: 1 },
    );
    // Group commit, random keys (same store, so the table is already large).
    const groupRandom = await measureAsync(
      async () => {
        await groupWrite(store, random, offset, kGroupRows);
        offset += kGroupRows;
        return kGroupRows;
      },
      { rounds: 3, warmup: 1 },
    );
    await store.close();

    // Baseline: autocommit, one row per transaction, same schema (created by the store) and pragmas.
    const aFile = path.join(dir, 'auto.db');
    await openStore(aFile).close();
    const db = new Database(aFile);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const upsert = db.prepare(`
      INSERT INTO attributes (volume, file_id, path, scan_time, scan_result, threats, sig_timestamp, change_stamp, quarantined, cache_gen)
      VALUES (?, ?, ?, ?, ?, '[]', ?, ?, 0, (SELECT value FROM meta WHERE key = 'cache_generation'))
      ON CONFLICT (volume, file_id) DO UPDATE SET path = excluded.path, scan_time = excluded.scan_time,
        scan_result = excluded.scan_result, threats = excluded.threats, sig_timestamp = excluded.sig_timestamp,
        change_stamp = excluded.change_stamp, quarantined = excluded.quarantined, cache_gen = excluded.cache_gen`);
    let aOffset = 0;
    const auto = await measureAsync(
      async () => {
        for (let i = aOffset; i < aOffset + kAutoRows; i++) {
          const r = clusteredRecord(i);
          upsert.run(r.volume, r.fileId, r.path, r.scanTime, r.scanResult, r.sigTimestamp, r.changeStamp);
        }
        aOffset += kAutoRows;
        return kAutoRows;
      },
      { rounds: 3, warmup: 1 },
    );
    db.close();

    const ratio = groupClustered.opsPerSec / auto.opsPerSec;
    console.log(
      table([
        { case: 'autocommit, 1 row/txn (baseline)', keys: 'clustered', 'µs/row': auto.nsPerOp / 1000, 'rows/s': auto.opsPerSec, 'vs baseline': 1 },
        { case: 'group commit (512 rows/batch)', keys: 'clustered', 'µs/row': groupClustered.nsPerOp / 1000, 'rows/s': groupClustered.opsPerSec, 'vs baseline': ratio },
        { case: 'group commit (512 rows/batch)', keys: 'random', 'µs/row': groupRandom.nsPerOp / 1000, 'rows/s': groupRandom.opsPerSec, 'vs baseline': groupRandom.opsPerSec / auto.opsPerSec },
      ]),
    );
    result('store-write', 'group_vs_autocommit', ratio, '>=', 5, 'x');
    result('store-write', 'group_rows_per_s_clustered', groupClustered.opsPerSec, '>=', 100_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
