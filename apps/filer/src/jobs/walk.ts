// The tree walk of an on-demand job: lazy (an async generator; a million files are never held in
// memory — only the names of one folder per level of depth), in a total order (names sorted by code
// unit at each level, roots in the job's order), so a checkpoint — the position of the last file
// done — says exactly which files are behind it and a resumed walk starts right after it.
// Symlinks and special files are not followed nor scanned: a job stays inside its volume.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dirent } from 'node:fs';

/** `[rootIndex, ...components below the root]` of a file: positions compare in walk order. */
export type Position = readonly [number, ...string[]];

export interface WalkItem {
  readonly root: number;
  /** Components below the root (empty when the root is the file itself). */
  readonly rel: readonly string[];
  readonly file: string;
}

export interface WalkRoot {
  /** Absolute folder or file on the host. */
  readonly abs: string;
}

const byName = (a: Dirent, b: Dirent): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function kind(abs: string, d: Dirent | undefined): Promise<'file' | 'dir' | 'other'> {
  if (d !== undefined && !d.isSymbolicLink() && (d.isFile() || d.isDirectory())) return d.isFile() ? 'file' : 'dir';
  if (d !== undefined && (d.isSymbolicLink() || d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice())) return 'other';
  try {
    const st = await lstat(abs);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'other';
  }
}

/**
 * Files handed over at most this many at a time. A step of an async generator costs a promise and
 * a microtask per level of nesting; a job's walk of small folders spent more on those steps than on
 * reading the folders. Files of one folder go together, so a step costs that once per folder.
 */
const kBatch = 256;

async function* walkDir(abs: string, root: number, rel: string[], after: readonly string[] | undefined, signal?: AbortSignal): AsyncGenerator<WalkItem[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch {
    return; // removed or unreadable while the job ran: nothing to scan there
  }
  entries.sort(byName);
  const prefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
  let skipUntil = after;
  let batch: WalkItem[] = [];
  for (const d of entries) {
    if (signal?.aborted === true) break;
    let below: readonly string[] | undefined;
    if (skipUntil !== undefined && skipUntil.length > 0) {
      const head = skipUntil[0]!;
      if (d.name < head) continue;
      if (d.name === head) {
        // The checkpoint is this file (done) or lies below this folder.
        if (skipUntil.length === 1) {
          skipUntil = undefined;
          continue;
        }
        below = skipUntil.slice(1);
      }
      skipUntil = undefined;
    }
    // Concatenated, not path.join: `abs` is already normal and a name holds no separator, and join's
    // normalisation was a visible share of the walk's CPU per file.
    const child = prefix + d.name;
    // Dirent types answer for nearly every entry, without an await per file; only an unknown type costs an lstat.
    const k = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : await kind(child, d);
    if (k === 'file' && below === undefined) {
      batch.push({ root, rel: [...rel, d.name], file: child });
      if (batch.length >= kBatch) {
        yield batch;
        batch = [];
      }
    } else if (k === 'dir') {
      // The files before this folder go first: the walk order is the checkpoint's order.
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
      yield* walkDir(child, root, [...rel, d.name], below, signal);
    }
  }
  if (batch.length > 0 && signal?.aborted !== true) yield batch;
}

/**
 * Files under the roots in walk order, starting after `after` (a checkpoint) when given, in batches
 * (consecutive files, never empty; at most one folder's files each).
 */
export async function* walkBatches(roots: readonly WalkRoot[], after?: Position, signal?: AbortSignal): AsyncGenerator<WalkItem[]> {
  const start = after?.[0] ?? 0;
  for (let i = start; i < roots.length; i++) {
    if (signal?.aborted === true) return;
    const r = roots[i]!;
    const k = await kind(r.abs, undefined);
    const resume = i === start && after !== undefined ? after.slice(1) as string[] : undefined;
    if (k === 'file') {
      if (resume === undefined) yield [{ root: i, rel: [], file: r.abs }];
    } else if (k === 'dir') {
      // A checkpoint equal to the root itself (a one-file root) means this root is done.
      if (resume !== undefined && resume.length === 0) continue;
      yield* walkDir(r.abs, i, [], resume, signal);
    }
  }
}

/** Files under the roots in walk order, starting after `after` (a checkpoint) when given. */
export async function* walkFiles(roots: readonly WalkRoot[], after?: Position, signal?: AbortSignal): AsyncGenerator<WalkItem> {
  for await (const batch of walkBatches(roots, after, signal)) yield* batch;
}

/** Entries of a folder counted between turns of the event loop: a folder of 100,000 files is not one macrotask. */
const kCountChunk = 2048;

async function countDir(abs: string, signal?: AbortSignal): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch {
    return 0;
  }
  const prefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
  let n = 0;
  let i = 0;
  for (const d of entries) {
    if (signal?.aborted === true) return n;
    if (++i % kCountChunk === 0) await nextTurn();
    const k = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : await kind(prefix + d.name, d);
    if (k === 'file') n++;
    else if (k === 'dir') n += await countDir(prefix + d.name, signal);
  }
  return n;
}

/**
 * Counts the files a walk would visit (for the ETA): the same files by the same rules (no symlink
 * followed, no stat of regular files), without the walk's order, positions or paths — it runs beside
 * the scanning walk, so what it costs is taken from the scans.
 */
export async function countFiles(roots: readonly WalkRoot[], signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const r of roots) {
    if (signal?.aborted === true) return n;
    const k = await kind(r.abs, undefined);
    if (k === 'file') n++;
    else if (k === 'dir') n += await countDir(r.abs, signal);
  }
  return n;
}
