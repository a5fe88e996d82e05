// The filer's shape, shared by every part of the app: what an SVM, a volume and a share are, and the
// runtime view the data path, the file watcher, the clamd front door and the REST API use to reach a
// share's folder and its SVM's engine. The management side (config, REST, persistence) builds a
// `FilerRuntime`; everything on the data side only reads it.
import type { Engine, Operation, Profile } from '@avscan/engine';
import type { Store } from '@avscan/store';
import type { PgStore } from '@avscan/store-pg';

/**
 * The engine state store the filer runs on: one node's SQLite store or a cluster's PostgreSQL store.
 * Code that uses it awaits every call (SQLite answers some synchronously; `await` of a value is one
 * microtask) and touches only what both offer (docs/store-interface.md).
 */
export type FilerStore = Store | PgStore;

export interface VolumeModel {
  /** Volume name, unique within its SVM (`vol1`). */
  readonly name: string;
  /** The SVM this volume belongs to. */
  readonly svm: string;
  /** Absolute folder holding the volume's files: `<state>/volumes/<svm>/<volume>/` by default. */
  readonly root: string;
  /** Read-only volume (SPEC §3 `scan_readonly_volumes`); writes through the data path are refused. */
  readonly readonly: boolean;
  /** WORM volume: files cannot be moved or deleted, so infected files are only denied. */
  readonly worm: boolean;
  /**
   * The volume's identity in the attribute store (`FileAccess.volume`): `<svm>/<volume>`, since two
   * SVMs may each have a `vol1` and they share one `isi_avscan.db`.
   */
  readonly storeKey: string;
}

export interface ShareModel {
  /** CIFS share name (case-insensitive, as SMB names are). */
  readonly name: string;
  readonly svm: string;
  readonly volume: string;
  /** Folder inside the volume that the share exposes, `/`-separated, `''` for the volume root. */
  readonly dir: string;
  /** ONTAP `vscan-fileop-profile` of the share. @default 'standard' */
  readonly profile: Profile;
}

export interface SvmModel {
  readonly name: string;
  readonly uuid: string;
  /** Has a CIFS server (ONTAP refuses to enable Vscan without one: 10027011). */
  readonly cifsServer: boolean;
}

/** What the data side needs from the running filer. Lookups are synchronous and cheap (in memory). */
export interface FilerRuntime {
  readonly store: FilerStore;
  /** The node's own SQLite file for the app's tables (jobs, audit cursors): `openAppDb(appDbFile)`. */
  readonly appDbFile: string;
  svms(): readonly SvmModel[];
  svm(name: string): SvmModel | undefined;
  volumes(svm?: string): readonly VolumeModel[];
  volume(svm: string, volume: string): VolumeModel | undefined;
  shares(svm?: string): readonly ShareModel[];
  share(svm: string, share: string): ShareModel | undefined;
  /** The engine of an SVM (one per SVM: its enabled policy, pools and Vscan on/off). */
  engine(svm: string): Engine;
  /**
   * The profile an access through a share of `svm` runs with for `operation`: the share's own
   * (`undefined` = the engine's) under the zone's OneFS filter triggers (`src/vscan/zone-filter.ts`).
   * Read at every access, so a filter change applies to the next one.
   */
  profileFor(svm: string, own: Profile | undefined, operation: Operation): Profile | undefined;
}

/**
 * A part of the app that plugs into the running filer: routes (registered inside the authenticated
 * API scope, so they share its auth, TLS and error shape) and/or a background service (started once
 * the runtime is up, closed in reverse order before it shuts down). The data path, the volume
 * watcher and the clamd front door are extensions; the management server loads them.
 */
export interface FilerExtension {
  readonly name: string;
  routes?(app: import('fastify').FastifyInstance, runtime: FilerRuntime): Promise<void>;
  start?(runtime: FilerRuntime): Promise<{ close(): Promise<void> }>;
}
