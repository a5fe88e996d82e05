// A FilerRuntime built once from a fixed description: one SQLite store for the node, and per SVM its
// own dispatcher (its scanner pools) and engine (its on-access policy, Vscan on/off). Tests, benches
// and embedders use it directly; the management side builds the same objects from its persisted
// configuration and changes them through the engines' and dispatchers' own administration calls.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDispatcher, type Dispatcher, type DispatcherOptions, type ScannerPool } from '@avscan/dispatch';
import { createEngine, type Engine, type EngineOptions, type Profile } from '@avscan/engine';
import { openStore, type Store, type StoreOptions } from '@avscan/store';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime, ShareModel, SvmModel, VolumeModel } from '../model.js';

export interface StaticVolume {
  readonly name: string;
  readonly readonly?: boolean;
  readonly worm?: boolean;
  /** @default `<stateDir>/volumes/<svm>/<volume>` (created) */
  readonly root?: string;
}

export interface StaticShare {
  readonly name: string;
  readonly volume: string;
  /** Folder inside the volume. @default '' (the volume root) */
  readonly dir?: string;
  /** @default 'standard' */
  readonly profile?: Profile;
}

export interface StaticSvm {
  readonly name: string;
  /** @default a random UUID */
  readonly uuid?: string;
  /** @default true */
  readonly cifsServer?: boolean;
  readonly volumes: readonly StaticVolume[];
  /** @default one share per volume, named after it, standard profile */
  readonly shares?: readonly StaticShare[];
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
}

export interface StaticRuntime extends FilerRuntime {
  dispatcher(svm: string): Dispatcher;
  /** Shuts the engines down (scans in flight finish), then closes dispatchers and the store. */
  close(): Promise<void>;
}

export const kDefaultCifsPolicy = Object.freeze({ name: 'default_CIFS', enabled: true, mandatory: true });

export async function createStaticRuntime(options: StaticRuntimeOptions): Promise<StaticRuntime> {
  const { stateDir } = options;
  mkdirSync(stateDir, { recursive: true });
  const svms: SvmModel[] = [];
  const volumes: VolumeModel[] = [];
  const shares: ShareModel[] = [];
  for (const s of options.svms) {
    if (svms.some((x) => x.name === s.name)) throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `svm ${show(s.name)} is given twice`, 'svms.name');
    svms.push({ name: s.name, uuid: s.uuid ?? randomUUID(), cifsServer: s.cifsServer ?? true });
    for (const v of s.volumes) {
      if (volumes.some((x) => x.svm === s.name && x.name === v.name)) {
        throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `volume ${show(v.name)} is given twice in svm ${show(s.name)}`, 'volumes.name');
      }
      const root = path.resolve(v.root ?? path.join(stateDir, 'volumes', s.name, v.name));
      mkdirSync(root, { recursive: true });
      volumes.push({ name: v.name, svm: s.name, root, readonly: v.readonly ?? false, worm: v.worm ?? false, storeKey: `${s.name}/${v.name}` });
    }
    const declared: readonly StaticShare[] = s.shares ?? s.volumes.map((v) => ({ name: v.name, volume: v.name }));
    for (const sh of declared) {
      if (!s.volumes.some((v) => v.name === sh.volume)) {
        throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `share ${show(sh.name)} names unknown volume ${show(sh.volume)}`, 'shares.volume');
      }
      shares.push({ name: sh.name, svm: s.name, volume: sh.volume, dir: sh.dir ?? '', profile: sh.profile ?? 'standard' });
    }
  }

  const store = openStore(path.join(stateDir, 'isi_avscan.db'), options.store);
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

  const need = <T>(v: T | undefined, what: string, name: string): T => {
    if (v === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no ${what} ${show(name)}`, what);
    return v;
  };
  const lc = (x: string): string => x.toLowerCase();
  return {
    store,
    svms: () => svms,
    svm: (name) => svms.find((s) => s.name === name),
    volumes: (svm) => (svm === undefined ? volumes : volumes.filter((v) => v.svm === svm)),
    volume: (svm, name) => volumes.find((v) => v.svm === svm && v.name === name),
    shares: (svm) => (svm === undefined ? shares : shares.filter((s) => s.svm === svm)),
    share: (svm, name) => shares.find((s) => s.svm === svm && lc(s.name) === lc(name)),
    engine: (svm) => need(engines.get(svm), 'svm', svm),
    dispatcher: (svm) => need(dispatchers.get(svm), 'svm', svm),
    async close() {
      await Promise.allSettled([...engines.values()].map((e) => e.shutdown()));
      await Promise.allSettled([...dispatchers.values()].map((d) => d.close()));
      await store.close();
    },
  };
}
