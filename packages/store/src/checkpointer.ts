// Worker thread: runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection every `intervalMs`.
// Why a thread: SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, on
// the writer's thread, and stalls it (and every access waiting on it) for milliseconds. A PASSIVE
// checkpoint from another connection copies WAL frames into the database without blocking the writer
// or readers, so the WAL stays bounded and the writer never pays for it. Safe at any moment, including
// a crash mid-checkpoint (SQLite's own guarantee); it changes nothing about durability.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface Config {
  readonly file: string;
  readonly intervalMs: number;
  readonly busyTimeoutMs: number;
}

const { file, intervalMs, busyTimeoutMs } = workerData as Config;
const db = new Database(file, { timeout: busyTimeoutMs });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next tick tries again; the writer's WAL only grows meanwhile.
  }
}, intervalMs);

parentPort?.on('message', (msg: unknown) => {
  if (msg !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
