// A real set-up for engine tests: a SQLite store in a temp dir, the built-in clamd-protocol scanner
// server (worker threads) on a unix socket, a dispatcher with one primary pool pointing at it, and
// helpers that write real files and describe them as the gateway would.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from '@avscan/dispatch';
import { ScanEngine, startScannerServer, type FaultOptions, type ScannerServer } from '@avscan/scanner';
import { changeStampOf, openStore, type Store, type StoreOptions } from '@avscan/store';
import { createEngine, type Engine, type EngineOptions, type FileAccess } from '../src/index.js';

export const kPolicy = {
  name: 'default_CIFS',
  enabled: true,
  mandatory: true,
  scope: { exclude_extensions: ['tmp'], exclude_paths: ['\\vol1\\scratch\\'] },
};

export interface Rig {
  readonly dir: string;
  readonly root: string;
  readonly store: Store;
  readonly dispatcher: Dispatcher;
  readonly server: ScannerServer;
  readonly scanEngine: ScanEngine;
  readonly engine: Engine;
  /** Writes a file under the volume root and returns the access describing it now. */
  file(rel: string, content: string | Uint8Array, extra?: Partial<FileAccess>): Promise<FileAccess>;
  /** The access for a file as it is on disk now (after an outside change). */
  describe(rel: string, extra?: Partial<FileAccess>): Promise<FileAccess>;
  close(): Promise<void>;
}

export interface RigOptions {
  readonly engine?: Partial<EngineOptions>;
  readonly dispatcher?: Partial<DispatcherOptions>;
  readonly faults?: FaultOptions;
  readonly nodeId?: string;
  /** Store options besides `nodeId`. */
  readonly store?: StoreOptions;
  /** Reuse a folder (restart tests). */
  readonly dir?: string;
}

export async function makeRig(options: RigOptions = {}): Promise<Rig> {
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'avscan-engine-')));
  const root = path.join(dir, 'vol1');
  await import('node:fs/promises').then((fs) => fs.mkdir(root, { recursive: true }));
  const store = openStore(path.join(dir, 'isi_avscan.db'), { ...options.store, nodeId: options.nodeId ?? 'node1' });
  const scanEngine = await ScanEngine.create({ workers: 1 });
  const socket = path.join(dir, `scanner-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
  const server = await startScannerServer({ engine: scanEngine, unix: socket, ...(options.faults ? { faults: options.faults } : {}), log: () => {} });
  const dispatcher = createDispatcher({
    scanner_pools: [{ name: 'pool1', servers: [`clamd+unix://${socket}`], role: 'primary' }],
    request_timeout: 5,
    scan_queue_timeout: 5,
    ...options.dispatcher,
  });
  await dispatcher.ready(5000);
  const engine = createEngine({ store, dispatcher, policy: kPolicy, watermarkRefreshMs: 1, ...options.engine });

  async function describe(rel: string, extra: Partial<FileAccess> = {}): Promise<FileAccess> {
    const full = path.join(root, rel);
    const st = await stat(full, { bigint: true });
    return {
      volume: 'vol1',
      fileId: String(st.ino),
      path: `\\vol1\\${rel.replace(/\//g, '\\')}`,
      size: Number(st.size),
      changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
      file: full,
      ...extra,
    };
  }

  return {
    dir, root, store, dispatcher, server, scanEngine, engine, describe,
    async file(rel, content, extra) {
      const full = path.join(root, rel);
      await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(full), { recursive: true }));
      await writeFile(full, content);
      return describe(rel, extra);
    },
    async close() {
      await engine.shutdown();
      await dispatcher.close();
      await server.close();
      await scanEngine.close();
      await store.close();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The EICAR test string, built here so the source file itself is not flagged by scanners. */
export const kEicar = Buffer.from(
  'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*',
  'latin1',
);

/** Waits for a condition (polling), at most `ms`: tests await states instead of sleeping. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
