// The file access the gateway reports to the engine, and its validation. Validation is the caller-bug
// guard: a malformed access throws ERR_ENGINE_INVALID_ACCESS; an odd *path* never throws (the policy
// answers `invalid-path`).
import { EngineError, EngineErrorCodes, show } from './errors.js';
import { isProfile, type Profile } from './triggers.js';

export interface FileAccess {
  /** Volume the file lives on; with `fileId` it is the file's identity in the attribute store. */
  readonly volume: string;
  /** Inode / file id: stable across renames. */
  readonly fileId: string;
  /** Path from the SVM root, `\` or `/` separated (ONTAP writes `\vol1\dir\name`). Policy scope applies to it. */
  readonly path: string;
  /** Bytes. */
  readonly size: number;
  /** The file's change stamp now (`changeStampOf` from @avscan/store: size + mtime + ctime + inode). */
  readonly changeStamp: string;
  /** Where a scanner can read the content (streamed to clamd/ICAP). Without it, `data` must be given. */
  readonly file?: string;
  /** The content, for gateways that hold it in memory. */
  readonly data?: Uint8Array;
  /** The open asked for execute access. @default false */
  readonly execute?: boolean;
  /** The volume is mounted read-only. @default false */
  readonly readonlyVolume?: boolean;
  /** The volume is WORM (SmartLock-like): files can't be moved or deleted, so infected files are only denied. @default false */
  readonly worm?: boolean;
  /**
   * The profile of the share this access came through (ONTAP's `vscan-fileop-profile` is a property of
   * the share, so one SVM's engine serves shares with different profiles). @default the engine's profile
   */
  readonly profile?: Profile;
  /** Cancels a synchronous wait (the client went away). */
  readonly signal?: AbortSignal;
}

function bad(field: string, value: unknown, expected: string): EngineError {
  return new EngineError(EngineErrorCodes.INVALID_ACCESS, `access.${field} must be ${expected}, got ${show(value)}`, field);
}

export function checkAccess(a: FileAccess): void {
  if (a === null || typeof a !== 'object') throw bad('', a, 'an object');
  if (typeof a.volume !== 'string' || a.volume.length === 0) throw bad('volume', a.volume, 'a non-empty string');
  if (typeof a.fileId !== 'string' || a.fileId.length === 0) throw bad('fileId', a.fileId, 'a non-empty string');
  if (typeof a.path !== 'string') throw bad('path', a.path, 'a string');
  if (!Number.isSafeInteger(a.size) || a.size < 0) throw bad('size', a.size, 'a non-negative safe integer');
  if (typeof a.changeStamp !== 'string' || a.changeStamp.length === 0) throw bad('changeStamp', a.changeStamp, 'a non-empty string');
  if (a.profile !== undefined && !isProfile(a.profile)) throw bad('profile', a.profile, 'one of no-scan, standard, strict, writes-only, cava-standard, cava-strict');
  if (a.file === undefined && a.data === undefined) throw bad('file', a.file, 'a path the scanner can read when `data` is not given');
}

/** The attribute store keys paths as `/`-separated and rooted; the SVM path is kept as the gateway gave it otherwise. */
export function storePath(path: string): string {
  let p = path.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  if (!p.startsWith('/')) p = `/${p}`;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** One string per file identity, for in-process maps. */
export function fileKeyString(volume: string, fileId: string): string {
  return `${volume}\u0000${fileId}`;
}
