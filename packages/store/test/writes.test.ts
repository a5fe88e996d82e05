// WAL checkpoints on a worker thread (checkpointIntervalMs), and the record-and-release write the engine uses.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openStore, type Store } from '../src/index.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(checkpointIntervalMs: number): { store: Store; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-ckpt-'));
  dirs.push(dir);
  const file = path.join(dir, 'isi_avscan.db');
  const store = openStore(file, { checkpointIntervalMs });
  stores.push(store);
  return { store, file };
}

async function writeRows(store: Store, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => store.recordScan({
    volume: 'vol1', fileId: String(i), path: `/d${i % 50}/f${i}.docx`, scanResult: 'clean', changeStamp: `s${i}`, sigTimestamp: 1,
  })));
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

it('the background checkpointer copies WAL pages into the database while the store stays open', async () => {
  const { store, file } = fresh(20);
  const before = statSync(file).size;
  await writeRows(store, 3000);
  expect(await until(() => statSync(file).size > before, 3000)).toBe(true);
  expect(store.countAttributes()).toBe(3000);
});

it('with checkpointIntervalMs 0 and a small WAL, nothing is checkpointed before close (control)', async () => {
  const { store, file } = fresh(0);
  const before = statSync(file).size;
  await writeRows(store, 3000);
  await new Promise((r) => setTimeout(r, 200));
  expect(statSync(file).size).toBe(before);
});

it('close() stops the worker and leaves no WAL behind; the data is all there on reopen', async () => {
  const { store, file } = fresh(20);
  await writeRows(store, 500);
  await store.close();
  stores.splice(stores.indexOf(store), 1);
  // SQLite removes the WAL when its last connection closes cleanly; a leftover one must be empty.
  expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
  const again = openStore(file);
  stores.push(again);
  expect(again.countAttributes()).toBe(500);
});

it('rejects a bad interval with a coded error', () => {
  expect(() => openStore(path.join(os.tmpdir(), 'never.db'), { checkpointIntervalMs: -1 })).toThrow(
    expect.objectContaining({ code: 'ERR_STORE_INVALID_OPTION', target: 'checkpointIntervalMs' }),
  );
});

it('recordScan with releaseLock commits the result and releases the lock in one transaction', async () => {
  const { store } = fresh(0);
  const key = { volume: 'vol1', fileId: '42' };
  expect(store.acquireLock(key, 'node1', 'scan-1', 60_000).acquired).toBe(true);
  await store.recordScan(
    { volume: 'vol1', fileId: '42', path: '/a.docx', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 },
    { releaseLock: { owner: 'node1', scanId: 'scan-1' } },
  );
  expect(store.lockHolder(key)).toBeUndefined();
  expect(store.getAttributes(key)?.scanResult).toBe('clean');
  // Another scan's lock is not released by a stale scan id.
  expect(store.acquireLock(key, 'node1', 'scan-2', 60_000).acquired).toBe(true);
  await store.recordScan(
    { volume: 'vol1', fileId: '42', path: '/a.docx', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 },
    { releaseLock: { owner: 'node1', scanId: 'scan-1' } },
  );
  expect(store.lockHolder(key)).toMatchObject({ scanId: 'scan-2' });
  await expect(store.recordScan(
    { volume: 'vol1', fileId: '42', path: '/a.docx', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 },
    { releaseLock: { owner: '', scanId: 'x' } },
  )).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_ARGUMENT' });
});
