// The host side of data-path operations: what an SMB server does to the file once the engine allowed
// it. Paths here are already confined (target.ts); these functions refuse to follow a symlink at the
// last component when they create or replace, so a link planted after resolution cannot redirect them.
import { constants, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { ResolvedPath } from '../paths.js';

export interface ListEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  /** ISO 8601 modification time. */
  readonly modified: string;
}

/** What the path names now: `undefined` when nothing. Symlinks are not followed (resolution did that). */
export async function kindOf(file: string): Promise<'file' | 'directory' | 'other' | undefined> {
  try {
    const st = await lstat(file);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Writes the body over the file in place (truncating it), creating it and its folders when missing.
 * In place, not write-and-rename: the file keeps its inode, so it keeps its identity in the attribute
 * store, as a file rewritten over SMB does. O_NOFOLLOW: a symlink at the last component is refused.
 */
export async function writeFileFrom(resolved: ResolvedPath, body: Readable): Promise<{ bytes: number; created: boolean }> {
  const created = (await kindOf(resolved.file)) === undefined;
  await mkdir(path.dirname(resolved.file), { recursive: true });
  let handle;
  try {
    handle = await open(resolved.file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new FilerError(FilerErrorCodes.PATH_ESCAPES, `path ${show(resolved.svmPath)} is a symlink`, 'path');
    if (code === 'EISDIR') throw new FilerError(FilerErrorCodes.WRONG_TYPE, `${show(resolved.svmPath)} is a folder`, 'path');
    throw err;
  }
  const out = createWriteStream('', { fd: handle.fd, autoClose: false });
  let bytes = 0;
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  try {
    await pipeline(body, out);
  } finally {
    await handle.close();
  }
  return { bytes, created };
}

/** Directory entries, sorted by name (lstat: a symlink is listed as one, never followed). */
export async function listDir(resolved: ResolvedPath): Promise<ListEntry[]> {
  const kind = await kindOf(resolved.file);
  if (kind === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no folder ${show(resolved.svmPath)}`, 'path');
  if (kind !== 'directory') throw new FilerError(FilerErrorCodes.WRONG_TYPE, `${show(resolved.svmPath)} is not a folder`, 'path');
  const names = (await readdir(resolved.file)).sort();
  const out: ListEntry[] = [];
  for (const name of names) {
    let st;
    try {
      st = await lstat(path.join(resolved.file, name));
    } catch {
      continue; // removed while listing
    }
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
    out.push({ name, type, size: st.isFile() ? st.size : 0, modified: st.mtime.toISOString() });
  }
  return out;
}

/** Renames within the volume; refuses to replace an existing name (SMB without ReplaceIfExists). */
export async function renameFile(from: ResolvedPath, to: ResolvedPath): Promise<void> {
  if ((await kindOf(to.file)) !== undefined) throw new FilerError(FilerErrorCodes.EXISTS, `${show(to.svmPath)} already exists`, 'to');
  await mkdir(path.dirname(to.file), { recursive: true });
  await rename(from.file, to.file);
}

/** Deletes a file, or an empty folder. */
export async function deletePath(resolved: ResolvedPath, kind: 'file' | 'directory' | 'other'): Promise<void> {
  if (kind === 'directory') {
    try {
      await rmdir(resolved.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY') throw new FilerError(FilerErrorCodes.WRONG_TYPE, `folder ${show(resolved.svmPath)} is not empty`, 'path');
      throw err;
    }
  } else {
    await unlink(resolved.file);
  }
}
