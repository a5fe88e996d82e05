// store-lookup: point lookups of scan attributes by file identity at 10^5 and 10^6 rows, against the
// same lookup on an in-memory Map of the same size. The claim is flat latency across sizes (a B-tree
// adds at most one level per ~100× rows, and the clustered WITHOUT ROWID key needs no second lookup).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Attributes, type FileKey } from '@avscan/store';
import { clusteredRecord } from './lib/records.js';
import { blackhole, header, measure, result, table } from './lib/harness.js';

const kSizes = [100_000, 1_000_000];
const kProbes = 50_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-store-lookup-'));


interface Row {
  size: number;
  storeNs: number;
  mapNs: number;
}

async function measureSize(size: number): Promise<Row> {
  const file = path.join(dir, `lookup-${size}.db`);
  // Bulk load in big transactions: the group committer with large batches.
  const loader = openStore(file, { batchMaxRows: 20_000, batchMaxDelayMs: 50 });
  for (let from = 0; from < size; from += 100_000) {
    const chunk: Array<Promise<void>> = [];
    for (let i = from; i < Math.min(size, from + 100_000); i++) chunk.push(loader.recordScan(clusteredRecord(i)));
    await Promise.all(chunk);
  }
  await loader.close();

  // Random probes over the whole key space, prepared before timing.
  const keys: FileKey[] = [];
  const mapKeys: string[] = [];
  for (let p = 0; p < kProbes; p++) {
    const i = Math.floor(Math.random() * size);
    const r = clusteredRecord(i);
    keys.push({ volume: r.volume, fileId: r.fileId });
    mapKeys.push(`${r.volume}\0${r.fileId}`);
  }

  const store = openStore(file, { readonly: true });
  const s = measure((i) => store.getAttributes(keys[i % kProbes]!), { opsPerRound: kProbes, rounds: 5, warmup: 2 });
  await store.close();

  const map = new Map<string, Attributes>();
  for (let i = 0; i < size; i++) {
    const r = clusteredRecord(i);
    map.set(`${r.volume}\0${r.fileId}`, { ...r, threats: [], quarantined: false, cacheValid: true } as Attributes);
  }
  const m = measure((i) => map.get(mapKeys[i % kProbes]!), { opsPerRound: kProbes, rounds: 5, warmup: 2 });
  blackhole(map);
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}-wal`, { force: true });
  fs.rmSync(`${file}-shm`, { force: true });
  return { size, storeNs: s.nsPerOp, mapNs: m.nsPerOp };
}

async function main(): Promise<void> {
  header('store-lookup');
  try {
    const rows: Row[] = [];
    for (const size of kSizes) rows.push(await measureSize(size));
    console.log(
      table(
        rows.map((r) => ({
          rows: r.size,
          'store µs/lookup': r.storeNs / 1000,
          'Map µs/lookup (baseline)': r.mapNs / 1000,
          'store / Map': r.storeNs / r.mapNs,
        })),
      ),
    );
    const growth = rows[1]!.storeNs / rows[0]!.storeNs;
    console.log(`store growth 10^5 → 10^6: ${growth.toFixed(2)}×; Map growth: ${(rows[1]!.mapNs / rows[0]!.mapNs).toFixed(2)}×`);
    result('store-lookup', 'growth_1e5_to_1e6', growth, '<=', 1.5, 'x');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
