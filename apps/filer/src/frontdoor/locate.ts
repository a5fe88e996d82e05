// Absolute host paths (what Samba's vfs_virusfilter sends: `<share path>/<file>`) to the volume, share
// and confined file they name. Only a path under some volume root is ever looked at: anything else is
// refused before the file system is touched, so the front door can never be used to read or judge an
// arbitrary file on the host. The part below the root goes through `resolveInVolume`, which applies
// the SPEC §3 normalisation and refuses `..` climbs and symlink escapes.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime, ShareModel, VolumeModel } from '../model.js';
import { resolveInVolume, type ResolvedPath } from '../paths.js';

export interface Located {
  readonly resolved: ResolvedPath;
  /** The most specific share exposing the file; `undefined` when no share covers it (engine's own profile). */
  readonly share: ShareModel | undefined;
}

interface Root {
  /** The root without a trailing slash, and with one: what a path inside it starts with. */
  readonly root: string;
  readonly prefix: string;
  readonly volume: VolumeModel;
}

interface ShareDir {
  readonly share: ShareModel;
  readonly dir: readonly string[];
}

// What locate matches against, built from the arrays the runtime hands out and rebuilt as soon as it
// hands out another one or one of another length (a volume or share added or removed): not per SCAN,
// where every call re-sorted the roots and split every share's folder. The runtime's lookups return
// their arrays as they are (runtime/layout.ts); a runtime that builds a new array per call only costs
// the rebuild. A root that did not resolve is kept unresolved for one call only.
interface Index {
  readonly volumes: readonly VolumeModel[];
  readonly volumeCount: number;
  readonly roots: readonly Root[];
  readonly complete: boolean;
  readonly shares: readonly ShareModel[];
  readonly shareCount: number;
  /** Shares by volume (`VolumeModel.storeKey`), deepest folder first. */
  readonly sharesOf: ReadonlyMap<string, readonly ShareDir[]>;
}

const indexes = new WeakMap<FilerRuntime, Index>();

function rootOf(root: string, volume: VolumeModel): Root {
  const r = root.length > 1 && root.endsWith('/') ? root.slice(0, -1) : root;
  return { root: r, prefix: r.endsWith('/') ? r : `${r}/`, volume };
}

function indexOf(runtime: FilerRuntime): Index {
  const volumes = runtime.volumes();
  const shares = runtime.shares();
  const hit = indexes.get(runtime);
  if (hit !== undefined && hit.complete && hit.volumes === volumes && hit.volumeCount === volumes.length && hit.shares === shares && hit.shareCount === shares.length) return hit;
  // Roots to match, longest first: each volume's configured root and its realpath (Samba may send either).
  const roots: Root[] = [];
  let complete = true;
  for (const volume of volumes) {
    roots.push(rootOf(volume.root, volume));
    const real = realOf(volume.root);
    if (real === undefined) complete = false;
    else if (real !== volume.root) roots.push(rootOf(real, volume));
  }
  roots.sort((a, b) => b.root.length - a.root.length);
  const sharesOf = new Map<string, ShareDir[]>();
  for (const volume of volumes) {
    const list: ShareDir[] = [];
    for (const share of shares) {
      if (share.svm === volume.svm && share.volume === volume.name) list.push({ share, dir: share.dir.split('/').filter((c) => c.length > 0) });
    }
    // Deepest first; among equally deep folders the first declared wins, as before (a stable sort).
    list.sort((a, b) => b.dir.length - a.dir.length);
    sharesOf.set(volume.storeKey, list);
  }
  const index: Index = { volumes, volumeCount: volumes.length, roots, complete, shares, shareCount: shares.length, sharesOf };
  indexes.set(runtime, index);
  return index;
}

function realOf(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** The share of `volume` whose folder holds `components`, the deepest one when shares nest. */
function shareFor(index: Index, volume: VolumeModel, components: readonly string[]): ShareModel | undefined {
  for (const { share, dir } of index.sharesOf.get(volume.storeKey) ?? []) {
    if (dir.length <= components.length && dir.every((c, i) => c === components[i])) return share;
  }
  return undefined;
}

/**
 * Maps an absolute path to its volume, share and confined file. Throws ERR_FILER_INVALID_PATH for a
 * relative path, ERR_FILER_NOT_FOUND when no volume holds it, and resolveInVolume's errors for `..`
 * climbs, symlink escapes and malformed names. The runtime's volumes and shares are looked at on every
 * call (a new array from it rebuilds the index), so volumes added or removed are seen at once.
 */
export function locate(runtime: FilerRuntime, absolute: string): Located {
  if (!path.isAbsolute(absolute)) {
    throw new FilerError(FilerErrorCodes.INVALID_PATH, `path ${show(absolute)} is not absolute`, 'path');
  }
  const index = indexOf(runtime);
  for (const { root, prefix, volume } of index.roots) {
    let rel: string;
    if (absolute.startsWith(prefix)) rel = absolute.slice(prefix.length);
    else if (absolute === root) rel = '';
    else continue;
    const resolved = resolveInVolume(volume, rel);
    return { resolved, share: shareFor(index, volume, resolved.components) };
  }
  throw new FilerError(FilerErrorCodes.NOT_FOUND, `path ${show(absolute)} is not inside any volume`, 'path');
}
