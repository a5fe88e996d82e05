// The engine is killed (SIGKILL) in the middle of a scan; on restart the node's stale scan lock is
// recovered and the next access scans the file again (nothing was recorded for it).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { createDispatcher } from '@avscan/dispatch';
import { createEngine } from '@avscan/engine';
import { ScanEngine, startScannerServer } from '@avscan/scanner';
import { changeStampOf, openStore } from '@avscan/store';

const child = fileURLToPath(new URL('../fixtures/engine-child.mjs', import.meta.url));
let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('engine killed mid-scan: on restart the lock is recovered and the next access rescans', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-restart-'));
  const file = path.join(dir, 'doc.docx');
  await writeFile(file, 'content under scan');
  const st = await stat(file, { bigint: true });
  const access = {
    volume: 'vol1', fileId: String(st.ino), path: '\\vol1\\doc.docx', size: Number(st.size), file,
    changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
  };
  const db = path.join(dir, 'isi_avscan.db');
  const proc = spawn(process.execPath, [child, db, path.join(dir, 'slow.sock'), JSON.stringify(access)], {
    cwd: path.dirname(child), stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child never dispatched the scan')), 15_000);
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes(`DISPATCHED ${access.fileId}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  // The lock is held by the child (node1) now, or within one group-commit batch (the engine's
  // deferred lock write is committed with the batch that follows the dispatch).
  const peek = openStore(db, { nodeId: 'observer' });
  for (let i = 0; i < 200 && peek.lockHolder({ volume: 'vol1', fileId: access.fileId }) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  expect(peek.lockHolder({ volume: 'vol1', fileId: access.fileId })).toMatchObject({ owner: 'node1' });
  await peek.close();
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));

  // Restart node1: opening the store releases its stale locks; nothing was recorded for the file.
  const store = openStore(db, { nodeId: 'node1' });
  expect(store.lockHolder({ volume: 'vol1', fileId: access.fileId })).toBeUndefined();
  expect(store.getAttributes({ volume: 'vol1', fileId: access.fileId })).toBeUndefined();
  const scanEngine = await ScanEngine.create({ workers: 1 });
  const server = await startScannerServer({ engine: scanEngine, unix: path.join(dir, 'fast.sock'), log: () => {} });
  const dispatcher = createDispatcher({ scanner_pools: [{ name: 'p', servers: [`clamd+unix://${path.join(dir, 'fast.sock')}`] }] });
  await dispatcher.ready(5000);
  const engine = createEngine({ store, dispatcher, policy: { name: 'p1', scope: {} } });
  try {
    expect(await engine.open(access)).toMatchObject({ allow: true, reason: 'clean' });
    expect(server.stats().scans).toBe(1);
  } finally {
    await engine.shutdown();
    await dispatcher.close();
    await server.close();
    await scanEngine.close();
    await store.close();
  }
}, 30_000);
