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

// Realpaths of volume roots, by configured root: a root is resolved once, not on every SCAN (the JS
// realpath lstats each component of each root, per request). Same lifetime as paths.ts's own root
// cache, which the file resolution below relies on anyway; a root that does not resolve (yet) is
// not cached, so it is tried again next time.
let realRoots = new Map<string, string>();

function realOr(p: string): string {
  const hit = realRoots.get(p);
  if (hit !== undefined) return hit;
  try {
    const real = realpathSync.native(p);
    if (realRoots.size > 1024) realRoots = new Map();
    realRoots.set(p, real);
    return real;
  } catch {
    return p;
  }
}

/** Roots to match, longest first: each volume's configured root and its realpath (Samba may send either). */
function roots(runtime: FilerRuntime): Array<{ root: string; volume: VolumeModel }> {
  const out: Array<{ root: string; volume: VolumeModel }> = [];
  for (const volume of runtime.volumes()) {
    out.push({ root: volume.root, volume });
    const real = realOr(volume.root);
    if (real !== volume.root) out.push({ root: real, volume });
  }
  return out.sort((a, b) => b.root.length - a.root.length);
}

function under(root: string, p: string): string | undefined {
  const r = root.endsWith('/') ? root.slice(0, -1) : root;
  if (p === r) return '';
  return p.startsWith(r + '/') ? p.slice(r.length + 1) : undefined;
}

/** The share of `volume` whose folder holds `components`, the deepest one when shares nest. */
export function shareFor(runtime: FilerRuntime, volume: VolumeModel, components: readonly string[]): ShareModel | undefined {
  let best: ShareModel | undefined;
  let bestDepth = -1;
  for (const share of runtime.shares(volume.svm)) {
    if (share.volume !== volume.name) continue;
    const dir = share.dir.split('/').filter((c) => c.length > 0);
    if (dir.length > components.length || dir.length <= bestDepth) continue;
    if (dir.every((c, i) => c === components[i])) {
      best = share;
      bestDepth = dir.length;
    }
  }
  return best;
}

/**
 * Maps an absolute path to its volume, share and confined file. Throws ERR_FILER_INVALID_PATH for a
 * relative path, ERR_FILER_NOT_FOUND when no volume holds it, and resolveInVolume's errors for `..`
 * climbs, symlink escapes and malformed names. Volume roots are read from the runtime on every call,
 * so volumes added or removed by the management side are seen at once.
 */
export function locate(runtime: FilerRuntime, absolute: string): Located {
  if (!path.isAbsolute(absolute)) {
    throw new FilerError(FilerErrorCodes.INVALID_PATH, `path ${show(absolute)} is not absolute`, 'path');
  }
  for (const { root, volume } of roots(runtime)) {
    const rel = under(root, absolute);
    if (rel === undefined) continue;
    const resolved = resolveInVolume(volume, rel);
    return { resolved, share: shareFor(runtime, volume, resolved.components) };
  }
  throw new FilerError(FilerErrorCodes.NOT_FOUND, `path ${show(absolute)} is not inside any volume`, 'path');
}
