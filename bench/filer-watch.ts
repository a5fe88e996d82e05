// filer-watch: what the volume watcher (chokidar 5 on inotify) costs with 100k files in a volume —
// RSS and heap added by the watcher once its initial walk is done, the time that walk takes, the
// inotify watches it holds (one per folder) — and how fast out-of-band changes reach the engine.
// Two layouts: 100 folders × 1,000 files and 10,000 folders × 10 files, each in its own process (RSS
// does not shrink back); for comparison, chokidar with its defaults (a watcher per file too) on the
// first layout. Target (issue 10, "bounded memory with 100k files per volume"): the watcher adds
// ≤ 200 MB RSS per 100k files.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch } from 'chokidar';
import { createStaticRuntime, watchVolumes, type WatchEvent } from '@avscan/filer';
import { formatNumber, header, result, table } from './lib/harness.js';

const kFiles = 100_000;
const kChanges = 1000;
const mb = (n: number): number => n / 1024 / 1024;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
}

/** chokidar as it comes (files watched one by one): what the folders-only set-up avoids. */
async function chokidarDefaults(folders: number): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-watch-'));
  const per = kFiles / folders;
  for (let d = 0; d < folders; d++) {
    mkdirSync(path.join(dir, `dir${d}`));
    for (let f = 0; f < per; f++) writeFileSync(path.join(dir, `dir${d}`, `file-${f}.docx`), '');
  }
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const w = watch(dir, { ignoreInitial: true, followSymlinks: false });
  await new Promise<void>((resolve) => w.once('ready', () => resolve()));
  const readyMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  await w.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    layout: `chokidar defaults, ${folders} folders × ${per} files`,
    'inotify watches': folders + 1 + kFiles,
    'initial walk s': formatNumber(readyMs / 1000),
    'RSS added MB': formatNumber(mb(after.rss - before.rss)),
    'heap added MB': formatNumber(mb(after.heapUsed - before.heapUsed)),
    'heap committed added MB': formatNumber(mb(after.heapTotal - before.heapTotal)),
    'external added MB': formatNumber(mb(after.external - before.external)),
    [`${kChanges} changes seen in ms`]: '-',
  };
}

async function layout(folders: number): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-watch-'));
  const rt = await createStaticRuntime({ stateDir: dir, svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }], shares: [{ name: 'vol1', volume: 'vol1', profile: 'no-scan' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] }] });
  const root = rt.volume('vs1', 'vol1')!.root;
  const per = kFiles / folders;
  for (let d = 0; d < folders; d++) {
    const sub = path.join(root, `dir${d}`);
    mkdirSync(sub);
    for (let f = 0; f < per; f++) writeFileSync(path.join(sub, `file-${f}.docx`), '');
  }
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let seen = 0;
  let onAll: (() => void) | undefined;
  const watcher = await watchVolumes(rt, {
    settleMs: 50,
    onEvent: (e: WatchEvent) => {
      if (e.kind === 'changed' && ++seen === kChanges) onAll?.();
    },
  });
  const readyMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  // Out-of-band changes: touch files spread over the folders, time until each reached the engine.
  const all = new Promise<void>((resolve) => (onAll = resolve));
  const t1 = performance.now();
  const now = new Date();
  for (let i = 0; i < kChanges; i++) utimesSync(path.join(root, `dir${i % folders}`, `file-${Math.floor(i / folders) % per}.docx`), now, now);
  await all;
  const changeMs = performance.now() - t1;
  await watcher.close();
  await rt.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    layout: `${folders} folders × ${per} files`,
    'inotify watches': folders + 1,
    'initial walk s': formatNumber(readyMs / 1000),
    'RSS added MB': formatNumber(mb(after.rss - before.rss)),
    'heap added MB': formatNumber(mb(after.heapUsed - before.heapUsed)),
    'heap committed added MB': formatNumber(mb(after.heapTotal - before.heapTotal)),
    'external added MB': formatNumber(mb(after.external - before.external)),
    [`${kChanges} changes seen in ms`]: formatNumber(changeMs),
  };
}

function inChild(args: string[]): Promise<Record<string, string | number>> {
  const child = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, string | number>));
    child.once('exit', (code) => reject(new Error(`filer-watch child exited with ${code}`)));
  });
}

const kind = process.argv[2];
if (kind === '--layout') {
  process.send!(await layout(Number(process.argv[3])));
  process.exit(0);
} else if (kind === '--chokidar-defaults') {
  process.send!(await chokidarDefaults(Number(process.argv[3])));
  process.exit(0);
} else {
  header('filer-watch');
  const rows = [await inChild(['--layout', '100']), await inChild(['--layout', '10000'])];
  const reference = await inChild(['--chokidar-defaults', '100']);
  console.log(table([...rows, reference]));
  const worst = Math.max(...rows.map((r) => Number(r['RSS added MB'])));
  result('filer-watch', 'rss_added_mb_per_100k_files', worst, '<=', 200, ' MB');
}
