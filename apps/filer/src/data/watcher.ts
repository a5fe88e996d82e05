// The volume watcher: chokidar on every volume folder, so a change made outside the emulator (a
// person, a script, Samba writing into `<state>/volumes/...`) reaches the engine as SMB activity would.
// - A file added or changed is told to the engine as a close after write (`close(access, { wrote: true })`)
//   with its share's profile under the zone's OneFS filter (src/vscan/zone-filter.ts): close-triggered
//   profiles queue an asynchronous scan; for every profile the file is already non-current, because
//   its change stamp (size, mtime, ctime, inode) moved.
// - A file deleted loses its attributes (engine.delete, so the engine's cache forgets it too).
// - A file renamed keeps its attributes (engine.rename): a rename arrives as two events, so the new
//   name is paired with the old by inode — attributes under another path that no longer exists, with
//   the same size and mtime (rename(2) keeps both). A folder renamed moves every row below it at once.
// Memory: chokidar is asked to watch folders only (files are `ignored`), so it holds one inotify watch
// and one handle per folder, not per file; file events come from the folders' own inotify events
// (chokidar's `raw` events name the child). Watching files too costs ~7 KB RSS per file (README).
// The watcher itself holds one entry per path changed and not yet handled, and one timer per file
// deleted in the last `renameWindowMs`.
import { existsSync } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Answer, Engine, FileAccess, Operation } from '@avscan/engine';
import type { FilerExtension, FilerRuntime, ShareModel, VolumeModel } from '../model.js';
import { accessOf, pathComponents, resolveInVolume, type ResolvedPath } from '../paths.js';
import { storePathOf } from './target.js';

export interface WatchEvent {
  /** `changed`: told to the engine as a close after write; `renamed`, `deleted`: attributes updated. */
  readonly kind: 'changed' | 'renamed' | 'deleted';
  readonly svm: string;
  readonly volume: string;
  /** SVM path (`\vol1\dir\name`). */
  readonly path: string;
  /** For `renamed`: the old SVM path. */
  readonly from?: string;
  /** The engine's answer (not for `deleted`, nor for files no share exposes). */
  readonly answer?: Answer;
}

export interface VolumeWatcherOptions {
  /** Changes to one path within this many ms are handled once (a copy writes many times). @default 100 */
  readonly settleMs?: number;
  /** An unlink is a delete unless an add of the same file follows within this many ms. @default 1000 */
  readonly renameWindowMs?: number;
  /** Changed files handled at once (each is a store lookup and possibly a queued scan). @default 8 */
  readonly concurrency?: number;
  /** Use polling instead of inotify (network folders that deliver no events). @default false */
  readonly usePolling?: boolean;
  /** Called once per handled event (logs, tests). */
  readonly onEvent?: (event: WatchEvent) => void;
  /** Called on a watcher or handling error; handling goes on. @default ignored */
  readonly onError?: (err: unknown) => void;
}

type ResolvedOptions = Required<Omit<VolumeWatcherOptions, 'onEvent' | 'onError'>> & {
  readonly onEvent: VolumeWatcherOptions['onEvent'] | undefined;
  readonly onError: VolumeWatcherOptions['onError'] | undefined;
};

export interface WatcherHandle {
  close(): Promise<void>;
}

/** The share that exposes a volume-relative path, the most specific one when shares nest. */
function shareFor(shares: readonly ShareModel[], components: readonly string[]): ShareModel | undefined {
  let best: ShareModel | undefined;
  let bestDepth = -1;
  const lc = components.map((c) => c.toLowerCase());
  for (const s of shares) {
    const dir = pathComponents(s.dir).map((c) => c.toLowerCase());
    if (dir.length > bestDepth && dir.length <= lc.length && dir.every((c, i) => c === lc[i])) {
      best = s;
      bestDepth = dir.length;
    }
  }
  return best;
}

/** size and mtime from a change stamp (`size:mtimeNs:ctimeNs:ino`, @avscan/store changeStampOf). */
function sizeAndMtime(stamp: string): string {
  const [size, mtime] = stamp.split(':');
  return `${size}:${mtime}`;
}

class VolumeWatch {
  readonly #runtime: FilerRuntime;
  readonly #volume: VolumeModel;
  readonly #engine: Engine;
  readonly #o: ResolvedOptions;
  readonly #dirty = new Set<string>();
  readonly #deletes = new Set<NodeJS.Timeout>();
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #newDirs = new Set<string>();
  #dirTimer: NodeJS.Timeout | undefined;
  /** Batches and folder walks under way. */
  #active = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;
  readonly watcher: FSWatcher;

  constructor(runtime: FilerRuntime, volume: VolumeModel, o: ResolvedOptions) {
    this.#runtime = runtime;
    this.#volume = volume;
    this.#engine = runtime.engine(volume.svm);
    this.#o = o;
    // followSymlinks false: a link is a file of its own here, never a way out of the volume.
    this.watcher = watch(volume.root, {
      ignoreInitial: true, followSymlinks: false, usePolling: o.usePolling, ignorePermissionErrors: true,
      ignored: (_p, stats) => stats !== undefined && !stats.isDirectory(),
    });
    this.watcher.on('raw', (_event, name, details) => {
      const dir = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (typeof name === 'string' && typeof dir === 'string') this.#touched(path.join(dir, name));
    });
    this.watcher.on('addDir', (p) => this.#addedDir(p));
    this.watcher.on('unlinkDir', (p) => this.#unlinkedDir(p));
    this.watcher.on('error', (err) => this.#error(err));
  }

  ready(): Promise<void> {
    return new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#dirTimer);
    for (const t of this.#deletes) clearTimeout(t);
    this.#deletes.clear();
    await this.watcher.close();
    await this.#flushing;
  }

  #error(err: unknown): void {
    try {
      this.#o.onError?.(err);
    } catch {
      // a throwing hook must not stop the watcher
    }
  }

  #emit(event: WatchEvent): void {
    try {
      this.#o.onEvent?.(event);
    } catch (err) {
      this.#error(err);
    }
  }

  #resolve(abs: string): ResolvedPath | undefined {
    const rel = path.relative(this.#volume.root, abs);
    if (rel === '' || rel.startsWith('..')) return undefined;
    try {
      return resolveInVolume(this.#volume, rel.split(path.sep).join('/'));
    } catch {
      return undefined; // not a name a client could use (or a link out): nothing to tell the engine
    }
  }

  /** Something happened to a folder's child: what, is decided once the path has settled. */
  #touched(abs: string): void {
    if (this.#closed) return;
    this.#dirty.add(abs);
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushing = this.#flush();
    }, this.#o.settleMs);
  }

  async #flush(): Promise<void> {
    this.#active++;
    try {
      await this.#flushing;
      await this.#handleBatch();
    } finally {
      this.#active--;
    }
  }

  async #handleBatch(): Promise<void> {
    const batch = [...this.#dirty];
    this.#dirty.clear();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length && !this.#closed) {
        const abs = batch[next++]!;
        try {
          const st = await lstat(abs).catch(() => undefined);
          if (st === undefined) await this.#gone(abs);
          else if (st.isFile()) await this.#handleChanged(abs);
        } catch (err) {
          this.#error(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, batch.length) }, worker));
  }

  async #handleChanged(abs: string): Promise<void> {
    const resolved = this.#resolve(abs);
    if (resolved === undefined) return;
    const share = shareFor(this.#runtime.shares(this.#volume.svm).filter((s) => s.volume === this.#volume.name), resolved.components);
    let access;
    try {
      access = accessOf(resolved, { profile: share?.profile ?? 'no-scan' });
    } catch {
      return; // gone or not a regular file any more
    }
    const base = { svm: this.#volume.svm, volume: this.#volume.name, path: resolved.svmPath };
    const prior = await this.#runtime.store.getAttributes({ volume: access.volume, fileId: access.fileId });
    const here = storePathOf(resolved);
    if (prior !== undefined && prior.path !== here && sizeAndMtime(prior.changeStamp) === sizeAndMtime(access.changeStamp) && !this.#existsInVolume(prior.path)) {
      const from = `\\${prior.path.slice(1).split('/').join('\\')}`;
      const answer = await this.#engine.rename(this.#as(access, share, 'rename'), { from });
      this.#emit({ kind: 'renamed', ...base, from, answer });
      return;
    }
    if (share === undefined) {
      this.#emit({ kind: 'changed', ...base });
      return;
    }
    this.#emit({ kind: 'changed', ...base, answer: await this.#engine.close(this.#as(access, share, 'close-after-write'), { wrote: true }) });
  }

  /** The access with its share's profile under the zone's OneFS filter triggers, for this operation. */
  #as(access: FileAccess, share: ShareModel | undefined, op: Operation): FileAccess {
    if (share === undefined) return access;
    return { ...access, profile: this.#runtime.profileFor(this.#volume.svm, share.profile, op) ?? share.profile };
  }

  /** Whether the store path `/vol1/dir/name` names a file on disk now. */
  #existsInVolume(storePath: string): boolean {
    const parts = storePath.split('/').filter(Boolean).slice(1);
    return existsSync(path.join(this.#volume.root, ...parts));
  }

  /** A path that is no longer there: a delete, unless it shows up renamed within the window. */
  async #gone(abs: string): Promise<void> {
    if (this.#closed) return;
    const resolved = this.#resolve(abs);
    if (resolved === undefined) return;
    const storePath = storePathOf(resolved);
    const attrs = await this.#runtime.store.getAttributesByPath(this.#volume.storeKey, storePath);
    if (attrs === undefined) return;
    // Wait for a matching add (a rename) before forgetting the file.
    this.#later(async () => {
      const now = await this.#runtime.store.getAttributes({ volume: attrs.volume, fileId: attrs.fileId });
      if (now === undefined || now.path !== storePath || this.#closed) return;
      // The engine's delete also drops its cached attributes, so a new file reusing the inode starts clean.
      const gone = { volume: attrs.volume, fileId: attrs.fileId, path: resolved.svmPath, size: 0, changeStamp: 'deleted', data: new Uint8Array(0) };
      this.#engine.delete(gone).then(
        () => this.#emit({ kind: 'deleted', svm: this.#volume.svm, volume: this.#volume.name, path: resolved.svmPath }),
        (err: unknown) => this.#error(err),
      );
    });
  }

  /**
   * A new folder: made here, moved in, or renamed. Its files are walked once: the first one whose
   * attributes sit under another folder that is gone tells a folder rename, and every row below the old
   * folder moves at once (no per-file rename scans: SMB does not scan a renamed folder's files); then
   * every file is handled as changed (files copied in before the folder was watched are not missed).
   */
  #addedDir(abs: string): void {
    if (this.#closed) return;
    // A folder moved in or renamed arrives as one addDir per folder in it: only the top ones are
    // walked (a rename of the top folder's rows also moves its subfolders'; moving a subfolder's rows
    // first would have them replaced by the top folder's rename).
    this.#newDirs.add(abs);
    this.#dirTimer ??= setTimeout(() => {
      this.#dirTimer = undefined;
      const dirs = [...this.#newDirs];
      this.#newDirs.clear();
      const top = dirs.filter((d) => !dirs.some((o) => o !== d && d.startsWith(o + path.sep)));
      for (const d of top) {
        const resolved = this.#resolve(d);
        if (resolved === undefined) continue;
        this.#active++;
        this.#walkNewDir(d, resolved).catch((err: unknown) => {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'ENOTDIR') this.#error(err); // gone again before the walk
        }).finally(() => this.#active--);
      }
    }, this.#o.settleMs);
  }

  async #walkNewDir(abs: string, resolved: ResolvedPath): Promise<void> {
    const newDir = storePathOf(resolved);
    let moved = false;
    for await (const entry of await opendir(abs, { recursive: true })) {
      if (this.#closed) return;
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      if (!moved) {
        moved = true; // only the first file is asked: the rest of a moved folder moved with it
        const inside = `/${path.relative(abs, file).split(path.sep).join('/')}`;
        const st = await lstat(file).catch(() => undefined);
        const prior = st === undefined ? undefined : await this.#runtime.store.getAttributes({ volume: this.#volume.storeKey, fileId: String(st.ino) });
        if (prior !== undefined && prior.path.endsWith(inside) && prior.path !== newDir + inside) {
          const oldDir = prior.path.slice(0, -inside.length);
          if (oldDir.length > 1 && !this.#existsInVolume(oldDir)) {
            await this.#runtime.store.rename(this.#volume.storeKey, oldDir, newDir);
            this.#emit({ kind: 'renamed', svm: this.#volume.svm, volume: this.#volume.name, path: resolved.svmPath, from: `\\${oldDir.slice(1).split('/').join('\\')}` });
          }
        }
      }
      this.#touched(file);
    }
  }

  #unlinkedDir(abs: string): void {
    // Files deleted with their folder were reported one by one; this sweeps rows of files never seen
    // (written before the watcher started), after the rename window, unless the folder came back.
    if (this.#closed) return;
    const resolved = this.#resolve(abs);
    if (resolved === undefined) return;
    this.#later(() => {
      if (this.#closed || existsSync(resolved.file)) return;
      this.#runtime.store.deletePath(this.#volume.storeKey, storePathOf(resolved)).catch((err: unknown) => this.#error(err));
    });
  }

  /**
   * Runs `fn` once the rename window has passed and every change seen so far has been handled (a
   * busy or slow machine must not turn a rename into a delete because the new name was handled late),
   * or after ten windows on a volume that is never quiet.
   */
  #later(fn: () => void | Promise<void>, windows = 1): void {
    const timer = setTimeout(() => {
      this.#deletes.delete(timer);
      if (this.#closed) return;
      if ((this.#dirty.size > 0 || this.#newDirs.size > 0 || this.#active > 0) && windows < 10) this.#later(fn, windows + 1);
      else Promise.resolve(fn()).catch((err: unknown) => this.#error(err));
    }, this.#o.renameWindowMs);
    this.#deletes.add(timer);
  }
}

/** Starts one watcher per volume of the runtime; resolves once every volume's initial walk is done. */
export async function watchVolumes(runtime: FilerRuntime, options: VolumeWatcherOptions = {}): Promise<WatcherHandle> {
  const o: ResolvedOptions = {
    settleMs: options.settleMs ?? 100,
    renameWindowMs: options.renameWindowMs ?? 1000,
    concurrency: options.concurrency ?? 8,
    usePolling: options.usePolling ?? false,
    onEvent: options.onEvent,
    onError: options.onError,
  };
  const watches = runtime.volumes().map((v) => new VolumeWatch(runtime, v, o));
  await Promise.all(watches.map((w) => w.ready()));
  return {
    async close() {
      await Promise.all(watches.map((w) => w.close()));
    },
  };
}

/** The watcher as a filer extension (a background service). */
export function volumeWatcherExtension(options: VolumeWatcherOptions = {}): FilerExtension {
  return { name: 'volume-watcher', start: (runtime) => watchVolumes(runtime, options) };
}
