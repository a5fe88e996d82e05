// Each test gets a fresh database file in its own temp directory, removed afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openStore, type Store, type StoreOptions } from '../src/index.js';

const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-store-'));
  dirs.push(dir);
  return dir;
}

/** A path for a database that does not exist yet. */
export function tempDbFile(): string {
  return path.join(tempDir(), 'isi_avscan.db');
}

/** Opens a store on a fresh file (or `file`), closed after the test. */
export function freshStore(options?: StoreOptions, file = tempDbFile()): Store {
  const store = openStore(file, options);
  stores.push(store);
  return store;
}

/** A clock tests can move. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

export const kDist = path.resolve(import.meta.dirname, '..', 'dist', 'index.js');
