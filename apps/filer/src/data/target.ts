// A data-path request names `<svm>/<share>/<path in share>`; this turns it into the share, its volume
// and the confined host path. Every data-path operation starts here, so none can reach a file outside
// its share's volume.
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime, ShareModel, VolumeModel } from '../model.js';
import { resolveInVolume, type ResolvedPath } from '../paths.js';

export interface ShareTarget {
  readonly share: ShareModel;
  readonly volume: VolumeModel;
  readonly resolved: ResolvedPath;
}

export function shareOf(runtime: FilerRuntime, svm: string, shareName: string): { share: ShareModel; volume: VolumeModel } {
  if (runtime.svm(svm) === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no svm ${show(svm)}`, 'svm');
  const share = runtime.share(svm, shareName);
  if (share === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no share ${show(shareName)} on svm ${show(svm)}`, 'share');
  const volume = runtime.volume(svm, share.volume);
  if (volume === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `share ${show(shareName)} names no volume`, 'share');
  return { share, volume };
}

/** The share and the host path of `rel` inside it (ERR_FILER_INVALID_PATH / ERR_FILER_PATH_ESCAPES). */
export function targetOf(runtime: FilerRuntime, svm: string, shareName: string, rel: string): ShareTarget {
  const { share, volume } = shareOf(runtime, svm, shareName);
  return { share, volume, resolved: resolveInVolume(volume, rel, share.dir) };
}

/** Writes, renames and deletes need a writable volume; renames and deletes also a non-WORM one. */
export function assertWritable(volume: VolumeModel, what: 'write' | 'rename' | 'delete'): void {
  if (volume.readonly) throw new FilerError(FilerErrorCodes.READONLY_VOLUME, `volume ${show(volume.name)} is read-only: cannot ${what}`, 'volume');
  if (volume.worm && what !== 'write') throw new FilerError(FilerErrorCodes.READONLY_VOLUME, `volume ${show(volume.name)} is WORM: files cannot be ${what === 'rename' ? 'renamed' : 'deleted'}`, 'volume');
}

/**
 * The path the attribute store keeps for a file: the engine stores `access.path` (the SVM path,
 * `\vol1\dir\name`) as `/vol1/dir/name`; folder renames and out-of-band deletes must name rows alike.
 */
export function storePathOf(resolved: ResolvedPath): string {
  return `/${[resolved.volume.name, ...resolved.components].join('/')}`;
}
