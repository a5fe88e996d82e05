// The runtime the REST API changes: SVMs, volumes and shares from the configuration; each SVM's Vscan
// document (pools, policies, on/off) from the configuration database, seeded from the configuration
// the first time an SVM is seen and authoritative afterwards (so API changes survive restarts). Every
// change goes through `mutate`: one at a time, computed on a copy, saved, then applied to the live
// engine and dispatcher — the enabled policy with `engine.setPolicy`, Vscan on/off with `setEnabled`,
// pools by swapping the SVM's dispatcher in its slot, `cache_clear` with `clearCache` per volume.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DispatchError, validateDispatcherOptions, type Dispatcher, type DispatcherOptions } from '@avscan/dispatch';
import { createEngine, type Engine, type EngineOptions } from '@avscan/engine';
import type { StoreOptions } from '@avscan/store';
import type { PgStoreOptions } from '@avscan/store-pg';
import type { FilerRuntime, SvmModel } from '../model.js';
import { buildLayout, lookups, need, type LayoutSvm } from './layout.js';
import { ConfigDb } from './config-db.js';
import { DispatcherSlot } from './dispatcher-slot.js';
import { cloneVscan, enabledPolicy, type VscanDoc } from '../vscan/model.js';
import { seedVscan, type Outcome, type SvmContext } from '../vscan/ops.js';
import { OntapError, badField } from '../server/ontap-error.js';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import { serverAddress } from '../vscan/validate.js';
import { kDefaultCifsPolicy } from './static.js';
import { openFilerStore } from './store.js';
import { zoneProfile } from '../vscan/zone-filter.js';

export interface ManagedSvm extends LayoutSvm {
  /** The SVM's Vscan configuration the first time it starts (afterwards the database's copy wins). */
  readonly vscan?: Partial<VscanDoc>;
  /** Dispatcher options other than the pools (timeouts, node index, …). */
  readonly dispatcher?: Omit<DispatcherOptions, 'scanner_pools'>;
  /** Engine options other than store, dispatcher, policy, enabled and svm. */
  readonly engine?: Omit<EngineOptions, 'store' | 'dispatcher' | 'policy' | 'svm' | 'enabled'>;
}

export interface ManagedRuntimeOptions {
  readonly stateDir: string;
  readonly svms: readonly ManagedSvm[];
  /** Accept loopback, built-in and unix-socket scanner servers (ONTAP refuses them: 10027261/2). @default false */
  readonly labMode?: boolean;
  readonly store?: StoreOptions;
  /** A `postgres://` URL: the engines share a cluster's PostgreSQL store. @default SQLite `<stateDir>/isi_avscan.db` */
  readonly storeUrl?: string | undefined;
  /** This node's name in the store. @default the store's (`node1`) */
  readonly nodeId?: string | undefined;
  readonly pgStore?: PgStoreOptions;
}

export interface ManagedRuntime extends FilerRuntime {
  readonly labMode: boolean;
  readonly stateDir: string;
  /** A copy of the SVM's Vscan document. */
  vscan(svm: string): VscanDoc;
  context(svm: string): SvmContext;
  svmByUuid(uuid: string): SvmModel | undefined;
  /** The SVM's current dispatcher (`null` without pools). */
  dispatcher(svm: string): Dispatcher | null;
  /**
   * Runs one configuration change: `change` computes the new document from a copy (throwing refuses
   * it, nothing changes); the result is saved and applied live before the promise settles.
   */
  mutate(svm: string, change: (doc: VscanDoc, ctx: SvmContext) => Outcome | VscanDoc, extra?: { readonly cacheClear?: boolean }): Promise<Outcome>;
  close(): Promise<void>;
}

interface Live {
  readonly engine: Engine;
  readonly slot: DispatcherSlot;
  readonly svm: ManagedSvm;
  doc: VscanDoc;
  policyJson: string;
  poolsJson: string;
}

function dispatcherOptions(s: ManagedSvm, doc: VscanDoc): DispatcherOptions | null {
  if (doc.scanner_pools.length === 0) return null;
  return {
    ...s.dispatcher,
    ...(doc.request_timeout === undefined ? {} : { request_timeout: doc.request_timeout }),
    scanner_pools: doc.scanner_pools.map((p) => ({ name: p.name, servers: p.servers.map(serverAddress), privileged_users: p.privileged_users, role: p.role ?? 'primary' })),
  };
}

/** The dispatcher must accept the pools before they are saved (e.g. it refuses a server in two pools). */
function checkDispatcher(s: ManagedSvm, doc: VscanDoc): void {
  const o = dispatcherOptions(s, doc);
  if (o === null) return;
  try {
    validateDispatcherOptions(o);
  } catch (err) {
    if (err instanceof DispatchError) throw badField(err.message, 'servers');
    throw err;
  }
}

export async function createManagedRuntime(options: ManagedRuntimeOptions): Promise<ManagedRuntime> {
  const { stateDir } = options;
  const labMode = options.labMode ?? false;
  mkdirSync(stateDir, { recursive: true });
  const db = new ConfigDb(stateDir);
  const docs = new Map<string, VscanDoc>();
  const withUuid = options.svms.map((s) => ({ ...s, uuid: db.get(s.name)?.uuid ?? s.uuid ?? randomUUID() }));
  const layout = buildLayout(stateDir, withUuid);
  const look = lookups(layout);
  const context = (name: string): SvmContext => {
    const svm = need(look.svm(name), 'svm', name);
    return {
      svm: name, cifsServer: svm.cifsServer, labMode,
      dirExists: (unix) => {
        const parts = unix.split('/').filter((p) => p !== '');
        const vol = parts[0] === undefined ? undefined : look.volume(name, parts[0]);
        if (vol === undefined || parts.some((p) => p === '..' || p === '.')) return false;
        const full = path.join(vol.root, ...parts.slice(1));
        return existsSync(full) && statSync(full).isDirectory();
      },
    };
  };

  withUuid.forEach((s, i) => {
    const row = db.get(s.name);
    if (row !== undefined) {
      docs.set(s.name, row.vscan);
      return;
    }
    let doc: VscanDoc;
    try {
      doc = seedVscan(s.vscan ?? {}, context(s.name));
      checkDispatcher(s, doc);
    } catch (err) {
      if (!(err instanceof OntapError)) throw err;
      db.close();
      throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `svm ${show(s.name)}: ${err.message} (ONTAP error ${err.code})`, `svms[${i}].vscan${err.target === undefined ? '' : `.${err.target}`}`, { cause: err });
    }
    db.put(s.name, s.uuid, doc);
    docs.set(s.name, doc);
  });
  const { store, appDbFile } = await openFilerStore({ stateDir, url: options.storeUrl, nodeId: options.nodeId, sqlite: options.store, pg: options.pgStore }).catch((err: unknown) => {
    db.close();
    throw err;
  });
  const live = new Map<string, Live>();
  for (const s of withUuid) {
    const doc = docs.get(s.name)!;
    const slot = new DispatcherSlot();
    slot.replace(dispatcherOptions(s, doc));
    const policy = enabledPolicy(doc);
    const engine = createEngine({ ...s.engine, store, dispatcher: slot, policy: policy ?? kDefaultCifsPolicy, enabled: doc.enabled && policy !== undefined, svm: s.name });
    live.set(s.name, { engine, slot, svm: s, doc, policyJson: JSON.stringify(policy ?? null), poolsJson: JSON.stringify([doc.scanner_pools, doc.request_timeout]) });
  }

  let chain: Promise<unknown> = Promise.resolve();
  async function apply(l: Live, next: VscanDoc, cacheClear: boolean): Promise<void> {
    const policy = enabledPolicy(next);
    const policyJson = JSON.stringify(policy ?? null);
    if (policy !== undefined && policyJson !== l.policyJson) await l.engine.setPolicy(policy);
    l.policyJson = policyJson;
    l.engine.setEnabled(next.enabled && policy !== undefined);
    // A new timeout needs a new dispatcher, as new pools do.
    const poolsJson = JSON.stringify([next.scanner_pools, next.request_timeout]);
    if (poolsJson !== l.poolsJson) l.slot.replace(dispatcherOptions(l.svm, next));
    l.poolsJson = poolsJson;
    if (cacheClear) for (const v of look.volumes(l.svm.name)) await l.engine.clearCache(v.storeKey);
    l.doc = next;
  }

  return {
    store, appDbFile, labMode, stateDir,
    ...look,
    svmByUuid: (uuid) => layout.svms.find((s) => s.uuid === uuid),
    engine: (svm) => need(live.get(svm), 'svm', svm).engine,
    dispatcher: (svm) => need(live.get(svm), 'svm', svm).slot.current,
    vscan: (svm) => cloneVscan(need(live.get(svm), 'svm', svm).doc),
    // The live document, not a copy: this is asked on every access.
    profileFor: (svm, own, operation) => zoneProfile(need(live.get(svm), 'svm', svm).doc.onefs_filter, own, operation),
    context,
    mutate(svm, change, extra = {}) {
      const l = need(live.get(svm), 'svm', svm);
      const run = async (): Promise<Outcome> => {
        const result = change(cloneVscan(l.doc), context(svm));
        const outcome: Outcome = 'doc' in result && !('enabled' in result) ? result : { doc: result as VscanDoc };
        checkDispatcher(l.svm, outcome.doc);
        db.put(svm, need(look.svm(svm), 'svm', svm).uuid, outcome.doc);
        await apply(l, outcome.doc, extra.cacheClear === true);
        return outcome;
      };
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    },
    async close() {
      await Promise.allSettled([...live.values()].map((l) => l.engine.shutdown()));
      await Promise.allSettled([...live.values()].map((l) => l.slot.close()));
      await store.close();
      db.close();
    },
  };
}
