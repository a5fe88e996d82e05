// Which store a node's engines share: this node's SQLite `isi_avscan.db` (the default), or a
// PostgreSQL database shared by every node of a cluster (`store: postgres://…`). The app's own
// tables (on-demand jobs and their checkpoints, audit configuration and cursors, daily on-access
// counters) stay on the node in both cases: beside the store's tables in `isi_avscan.db` on SQLite,
// in `<state>/node.db` with PostgreSQL — they describe what this node does, not the shared file state.
import path from 'node:path';
import { openStore, type StoreOptions } from '@avscan/store';
import { openPgStore, type PgStoreOptions } from '@avscan/store-pg';
import type { FilerStore } from '../model.js';

export interface FilerStoreOptions {
  readonly stateDir: string;
  /** A `postgres://` URL: the shared store of a cluster. @default undefined (SQLite in `stateDir`) */
  readonly url?: string | undefined;
  /** This node's name in the store (lock owner). @default the store's default (`node1`) */
  readonly nodeId?: string | undefined;
  /** SQLite store options (other than nodeId). */
  readonly sqlite?: StoreOptions | undefined;
  /** PgStore options (other than nodeId). */
  readonly pg?: PgStoreOptions | undefined;
}

export interface OpenedStore {
  readonly store: FilerStore;
  /** The SQLite file holding the app's per-node tables (see `openAppDb`). */
  readonly appDbFile: string;
}

export async function openFilerStore(o: FilerStoreOptions): Promise<OpenedStore> {
  const node = o.nodeId === undefined ? {} : { nodeId: o.nodeId };
  if (o.url === undefined) {
    const file = path.join(o.stateDir, 'isi_avscan.db');
    return { store: openStore(file, { ...o.sqlite, ...node }), appDbFile: file };
  }
  return { store: await openPgStore(o.url, { ...o.pg, ...node }), appDbFile: path.join(o.stateDir, 'node.db') };
}
