// SVMs, volumes and shares from a description: names checked, volume folders created, and the
// in-memory lookups every FilerRuntime offers. Shared by the static and the managed runtime.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Profile } from '@avscan/engine';
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

export interface LayoutSvm {
  readonly name: string;
  /** @default a random UUID */
  readonly uuid?: string;
  /** @default true */
  readonly cifsServer?: boolean;
  readonly volumes: readonly StaticVolume[];
  /** @default one share per volume, named after it, standard profile */
  readonly shares?: readonly StaticShare[];
}

export interface Layout {
  readonly svms: readonly SvmModel[];
  readonly volumes: readonly VolumeModel[];
  readonly shares: readonly ShareModel[];
}

export function buildLayout(stateDir: string, input: readonly LayoutSvm[]): Layout {
  mkdirSync(stateDir, { recursive: true });
  const svms: SvmModel[] = [];
  const volumes: VolumeModel[] = [];
  const shares: ShareModel[] = [];
  for (const s of input) {
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
  return { svms, volumes, shares };
}

/** The synchronous lookups of FilerRuntime over a layout (share names compare case-insensitively, as SMB's do). */
export function lookups(layout: Layout): Pick<FilerRuntime, 'svms' | 'svm' | 'volumes' | 'volume' | 'shares' | 'share'> {
  const { svms, volumes, shares } = layout;
  const lc = (x: string): string => x.toLowerCase();
  return {
    svms: () => svms,
    svm: (name) => svms.find((s) => s.name === name),
    volumes: (svm) => (svm === undefined ? volumes : volumes.filter((v) => v.svm === svm)),
    volume: (svm, name) => volumes.find((v) => v.svm === svm && v.name === name),
    shares: (svm) => (svm === undefined ? shares : shares.filter((s) => s.svm === svm)),
    share: (svm, name) => shares.find((s) => s.svm === svm && lc(s.name) === lc(name)),
  };
}

/** Throws ERR_FILER_NOT_FOUND for a missing SVM (or other named thing). */
export function need<T>(v: T | undefined, what: string, name: string): T {
  if (v === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no ${what} ${show(name)}`, what);
  return v;
}
