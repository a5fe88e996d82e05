// Share-relative paths to real files, confined to their volume. Every path that reaches the file
// system through the data path or the clamd front door goes through `resolveInVolume`, so a client
// can never name a file outside the volume: not with `..`, not with an absolute or drive path, not
// through a symlink that points out. Normalisation follows SPEC §3 so the file the engine judges is
// the file that is opened (an SMB stream `doc.txt:x` is `doc.txt`; `evil.exe.` is `evil.exe`).
import { lstatSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import type { FileAccess, Profile } from '@avscan/engine';
import { changeStampOf } from '@avscan/store';
import { FilerError, FilerErrorCodes, show } from './errors.js';
import type { VolumeModel } from './model.js';

/** Longest name component, in Unicode code points (NTFS / SMB). */
export const kMaxComponent = 255;
/** Longest whole path inside a volume, in UTF-8 bytes (Linux PATH_MAX less room for the volume root). */
export const kMaxPathBytes = 3072;

function invalid(raw: string, why: string): FilerError {
  return new FilerError(FilerErrorCodes.INVALID_PATH, `path ${show(raw)} ${why}`, 'path');
}

/**
 * Components of a path relative to a share or volume root (`\` or `/` separated; a leading separator
 * means that root). Throws ERR_FILER_INVALID_PATH for what can't name a file inside it.
 */
export function pathComponents(raw: string): string[] {
  if (typeof raw !== 'string') throw invalid(String(raw), 'is not a string');
  if (raw.includes('\0')) throw invalid(raw, 'holds a NUL character');
  if (/^[a-zA-Z]:/.test(raw) || raw.startsWith('\\\\?\\') || raw.startsWith('//')) throw invalid(raw, 'is a drive or UNC path, not one inside the share');
  if (Buffer.byteLength(raw) > kMaxPathBytes) throw invalid(raw, `is longer than ${kMaxPathBytes} bytes`);
  const parts = raw.split(/[\\/]+/).filter((p) => p.length > 0);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i]!;
    if (i === parts.length - 1) {
      const colon = part.indexOf(':');
      if (colon >= 0) part = part.slice(0, colon);
    } else if (part.includes(':')) {
      throw invalid(raw, 'has a stream name in a folder component');
    }
    if (part === '.' ) continue;
    if (part === '..') {
      if (out.length === 0) throw invalid(raw, 'climbs above its root');
      out.pop();
      continue;
    }
    const trimmed = part.replace(/[. ]+$/u, '');
    if (trimmed.length === 0) throw invalid(raw, `has an empty name component ${show(part)}`);
    if ([...trimmed].length > kMaxComponent) throw invalid(raw, `has a name longer than ${kMaxComponent} characters`);
    out.push(trimmed);
  }
  return out;
}

export interface ResolvedPath {
  readonly volume: VolumeModel;
  /** Components from the volume root. */
  readonly components: readonly string[];
  /** Absolute path on the host (inside the volume root). */
  readonly file: string;
  /** The path from the SVM root as ONTAP writes it (`\vol1\dir\name`): what policies judge. */
  readonly svmPath: string;
  /** The file's stat read while resolving (when it exists): `accessOf` uses it instead of a second stat. */
  readonly stat?: BigIntStats | undefined;
}

let realRoots = new Map<string, string>();

function realRoot(volume: VolumeModel): string {
  let r = realRoots.get(volume.root);
  if (r === undefined) {
    r = realpathSync.native(volume.root);
    if (realRoots.size > 1024) realRoots = new Map();
    realRoots.set(volume.root, r);
  }
  return r;
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * Resolves `rel` (relative to `dir` inside the volume, e.g. a share's folder) to a host path, and
 * proves it stays inside the volume: the deepest existing ancestor (the file itself when it exists)
 * is resolved with realpath, so a symlink anywhere on the way that points outside is refused
 * (ERR_FILER_PATH_ESCAPES). A missing file is fine (it may be about to be created).
 */
export function resolveInVolume(volume: VolumeModel, rel: string, dir = ''): ResolvedPath {
  const components = [...pathComponents(dir), ...pathComponents(rel)];
  const root = realRoot(volume);
  const file = path.join(root, ...components);
  const svmPath = `\\${volume.name}${components.length ? '\\' : ''}${components.join('\\')}`;
  const seen = statOf(file);
  if (seen !== undefined && verified.get(file) === identity(seen)) return { volume, components, file, svmPath, stat: seen };
  const folder = path.dirname(file);
  if (seen !== undefined && seen.isFile() && folder !== file && inProvenFolder(folder, file, seen)) {
    remember(file, identity(seen));
    return { volume, components, file, svmPath, stat: seen };
  }
  // The folder's identity before the walk: recorded as proven only if it is the same after.
  const folderBefore = seen !== undefined && seen.isFile() ? statOf(folder) : undefined;
  let probe = file;
  let realFile: string | undefined;
  for (;;) {
    let real: string | undefined;
    try {
      real = realpathSync.native(probe);
    } catch (err) {
      // A dangling symlink would be followed by a later create: judge where it points.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && isSymlink(probe)) throw escapes(rel, volume);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    if (real !== undefined) {
      if (!inside(root, real)) throw escapes(rel, volume);
      if (probe === file) realFile = real;
      break;
    }
    if (probe === root) break;
    probe = path.dirname(probe);
  }
  const stat = seen === undefined ? undefined : statOf(file);
  if (stat !== undefined && probe === file) remember(file, identity(stat));
  // No symlink anywhere on the path (it is its own realpath): its folder is proven inside too.
  if (realFile === file && folderBefore !== undefined) {
    const folderAfter = statOf(folder);
    if (folderAfter !== undefined && identity(folderAfter) === identity(folderBefore)) rememberFolder(folder, identity(folderAfter));
  }
  return { volume, components, file, svmPath, stat };
}

// Paths proven inside their volume, with the identity of what they named then: device, inode and
// ctime. The same path naming the same identity again needs no new realpath walk (the data path's hot
// path: an open of a scan-current file is otherwise mostly this walk). Any rename, link, unlink or
// write of the file changes its ctime, and a recycled inode has a new ctime, so a symlink planted on
// the way since can only lead to an identity never proven, which is walked and judged again.
const kVerifiedMax = 10_000;
let verified = new Map<string, string>();

function identity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.ctimeNs}`;
}

function remember(file: string, id: string): void {
  if (verified.size >= kVerifiedMax) verified = new Map();
  verified.set(file, id);
}

// Folders proven inside their volume (a file's realpath walk found no symlink on the way), with their
// identity then. A new file in such a folder needs no walk of its own when the folder is unchanged
// (same device, inode and ctime: a moved folder has a new ctime, a folder swapped for a symlink or
// another folder has another identity) and the name itself is a regular file, not a symlink (lstat).
// This is the walk a clamd miss paid on every new file (glibc's realpath: a readlink per component).
// Adding or removing an entry changes a folder's ctime, so a busy folder is simply walked again. Its
// strength is the file cache's above: what was proven stays proven while the identity holds.
let verifiedFolders = new Map<string, string>();

function rememberFolder(folder: string, id: string): void {
  if (verifiedFolders.size >= kVerifiedMax) verifiedFolders = new Map();
  verifiedFolders.set(folder, id);
}

function inProvenFolder(folder: string, file: string, seen: BigIntStats): boolean {
  const known = verifiedFolders.get(folder);
  if (known === undefined) return false;
  const now = statOf(folder);
  if (now === undefined || identity(now) !== known) return false;
  let own: BigIntStats | undefined;
  try {
    own = lstatSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return false;
  }
  return own !== undefined && own.isFile() && identity(own) === identity(seen);
}

function statOf(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, ELOOP, EACCES: the walk judges the path
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function escapes(rel: string, volume: VolumeModel): FilerError {
  return new FilerError(FilerErrorCodes.PATH_ESCAPES, `path ${show(rel)} leads outside volume ${show(volume.name)}`, 'path');
}

export interface AccessExtras {
  readonly profile?: Profile;
  readonly execute?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * The engine's view of an existing regular file: identity (volume store key + inode), size and change
 * stamp as read when `resolved` was made (resolve right before building the access), or now when the
 * file did not exist then. Throws ERR_FILER_NOT_FOUND when there is no such file (or not a regular file).
 */
export function accessOf(resolved: ResolvedPath, extras: AccessExtras = {}): FileAccess {
  let st = resolved.stat;
  if (st === undefined) {
    try {
      st = statSync(resolved.file, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw new FilerError(FilerErrorCodes.NOT_FOUND, `no file ${show(resolved.svmPath)}`, 'path', { cause: err });
      }
      throw err;
    }
  }
  if (!st.isFile()) throw new FilerError(FilerErrorCodes.NOT_FOUND, `${show(resolved.svmPath)} is not a regular file`, 'path');
  const v = resolved.volume;
  // One object literal with every field present: accesses built by spreading were several times
  // slower in the policy stage (engine README), and this runs on every data-path operation.
  return {
    volume: v.storeKey,
    fileId: String(st.ino),
    path: resolved.svmPath,
    size: Number(st.size),
    changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
    file: resolved.file,
    readonlyVolume: v.readonly,
    worm: v.worm,
    profile: extras.profile,
    execute: extras.execute ?? false,
    signal: extras.signal,
  } as FileAccess;
}
