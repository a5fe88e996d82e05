// A FilerRuntime built once from a fixed description: one store for the node (SQLite, or a cluster's PostgreSQL), and per SVM its
// own dispatcher (its scanner pools) and engine (its on-access policy, Vscan on/off). Tests, benches
// and embedders use it directly; the management side builds the same objects from its persisted
// configuration and changes them through the engines' and dispatchers' own administration calls.
import { createDispatcher, type Dispatcher, type DispatcherOptions, type ScannerPool } from '@avscan/dispatch';
import { createEngine, type Engine, type EngineOptions } from '@avscan/engine';
import type { StoreOptions } from '@avscan/store';
import type { PgStoreOptions } from '@avscan/store-pg';
import type { FilerRuntime } from '../model.js';
import { buildLayout, lookups, need, type LayoutSvm } from './layout.js';
import { openFilerStore } from './store.js';

export type { StaticShare, StaticVolume } from './layout.js';

export interface StaticSvm extends LayoutSvm {
  readonly scanner_pools: readonly ScannerPool[];
  /** Dispatcher options other than the pools (timeouts, node index, …). */
  readonly dispatcher?: Omit<DispatcherOptions, 'scanner_pools'>;
  /** The SVM's enabled on-access policy (ONTAP JSON). @default ONTAP's default_CIFS */
  readonly policy?: unknown;
  /** Engine options other than store, dispatcher, policy and svm. */
  readonly engine?: Omit<EngineOptions, 'store' | 'dispatcher' | 'policy' | 'svm'>;
}

export interface StaticRuntimeOptions {
  /** Folder for `isi_avscan.db` and the default volume folders. */
  readonly stateDir: string;
  readonly svms: readonly StaticSvm[];
  readonly store?: StoreOptions;
  /** A `postgres://` URL: a cluster's shared PostgreSQL store. @default SQLite `<stateDir>/isi_avscan.db` */
  readonly storeUrl?: string | undefined;
  /** This node's name in the store. @default the store's (`node1`) */
  readonly nodeId?: string | undefined;
  readonly pgStore?: PgStoreOptions;
}

export interface StaticRuntime extends FilerRuntime {
  dispatcher(svm: string): Dispatcher;
  /** Shuts the engines down (scans in flight finish), then closes dispatchers and the store. */
  close(): Promise<void>;
}

export const kDefaultCifsPolicy = Object.freeze({ name: 'default_CIFS', enabled: true, mandatory: true });

export async function createStaticRuntime(options: StaticRuntimeOptions): Promise<StaticRuntime> {
  const { stateDir } = options;
  const layout = buildLayout(stateDir, options.svms);
  const { store, appDbFile } = await openFilerStore({ stateDir, url: options.storeUrl, nodeId: options.nodeId, sqlite: options.store, pg: options.pgStore });
  const dispatchers = new Map<string, Dispatcher>();
  const engines = new Map<string, Engine>();
  try {
    for (const s of options.svms) {
      const d = createDispatcher({ ...s.dispatcher, scanner_pools: s.scanner_pools });
      dispatchers.set(s.name, d);
      engines.set(s.name, createEngine({ ...s.engine, store, dispatcher: d, policy: s.policy ?? kDefaultCifsPolicy, svm: s.name }));
    }
    await Promise.all([...dispatchers.values()].map((d) => d.ready()));
  } catch (err) {
    await Promise.allSettled([...dispatchers.values()].map((d) => d.close()));
    await store.close();
    throw err;
  }

  return {
    store, appDbFile,
    ...lookups(layout),
    engine: (svm) => need(engines.get(svm), 'svm', svm),
    dispatcher: (svm) => need(dispatchers.get(svm), 'svm', svm),
    // No OneFS filter here: every share scans by its own profile.
    profileFor: (_svm, own) => own,
    async close() {
      await Promise.allSettled([...engines.values()].map((e) => e.shutdown()));
      await Promise.allSettled([...dispatchers.values()].map((d) => d.close()));
      await store.close();
    },
  };
}
