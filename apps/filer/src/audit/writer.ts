// Writes one SVM's audit log: JSON lines, from the audit events already committed in the database
// (store `events`, types `audit.data` and `audit.management`), in id order, behind a persisted cursor.
//
// Exactly once. Event ids are allocated inside SQLite's single write transaction, so once id N is
// visible every smaller id is too. A batch is appended to the active file with one write, fsynced,
// and only then the cursor (`audit_cursor.last_id`) is committed. A crash between the two leaves
// lines the cursor does not know about: on start-up `recover()` takes the cursor from the files
// themselves — the last complete line of the active file, or the id in the newest archive's name —
// when it is ahead, and cuts a torn last line (a write cut short) so it is written again whole.
// Rotation renames the active file to an archive whose name carries its last id (a rename is
// atomic); the next write creates a new active file. So a crash at any point neither loses nor
// repeats a line.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

export const kActiveLog = 'audit_last.json';

export interface AuditWriterOptions {
  readonly svm: string;
  /** Folder the log files go to (the resolved `log_path`). */
  readonly dir: string;
  /** Rotate before the active file would pass this many bytes; undefined = no size rotation. */
  readonly rotationSize?: number | undefined;
  /** Keep this many archives (0 = no count limit). */
  readonly retentionCount?: number;
  /** Delete archives rotated longer ago than this, ms (0 = no age limit). */
  readonly retentionMs?: number;
  /** fsync each batch before its cursor is committed (survives power loss, not only a crash). @default true */
  readonly fsync?: boolean;
  /** Events read per batch. @default 1000 */
  readonly batch?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Fault injection for crash tests: called after a batch is written (before the cursor) and after a rotation's rename. */
  readonly faults?: { afterWrite?(): void; afterRename?(): void };
}

interface EventRow {
  id: number;
  time: number;
  type: string;
  svm: string;
  file_path: string | null;
  reason: string | null;
  details: string | null;
}

/** The JSON line of an audit event. */
export function auditLine(e: EventRow): string {
  const details = e.details === null ? {} : (JSON.parse(e.details) as Record<string, unknown>);
  const line = {
    id: e.id,
    time: new Date(e.time).toISOString(),
    svm: e.svm,
    category: e.type === 'audit.data' ? 'data' : 'management',
    ...(e.file_path !== null ? { path: e.file_path } : {}),
    ...(e.reason !== null ? { reason: e.reason } : {}),
    ...details,
  };
  return `${JSON.stringify(line)}\n`;
}

const kArchive = /^audit_(.+)_D(\d{4}-\d{2}-\d{2})-T(\d{2})-(\d{2})-(\d{2})-(\d{3})_(\d{12})(?:-\d+)?\.json$/;

export interface ArchiveInfo {
  readonly name: string;
  readonly rotatedAt: number;
  readonly lastId: number;
}

/** The archives of `svm` in `dir`, oldest first. */
export function listArchives(dir: string, svm: string): ArchiveInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ArchiveInfo[] = [];
  for (const name of names) {
    const m = kArchive.exec(name);
    if (m === null || m[1] !== svm) continue;
    out.push({ name, rotatedAt: Date.parse(`${m[2]}T${m[3]}:${m[4]}:${m[5]}.${m[6]}Z`), lastId: Number(m[7]) });
  }
  return out.sort((a, b) => a.lastId - b.lastId || a.rotatedAt - b.rotatedAt || (a.name < b.name ? -1 : 1));
}

export class AuditLogWriter {
  readonly #db: Database.Database;
  readonly #o: AuditWriterOptions;
  readonly #read: Database.Statement;
  readonly #saveCursor: Database.Statement;
  readonly #active: string;
  #cursor = 0;
  #fd: number | null = null;
  #size = 0;

  constructor(db: Database.Database, options: AuditWriterOptions) {
    this.#db = db;
    this.#o = options;
    this.#active = path.join(options.dir, kActiveLog);
    this.#read = db.prepare(`SELECT id, time, type, svm, file_path, reason, details FROM events
      WHERE id > ? AND svm = ? AND type IN ('audit.data', 'audit.management') ORDER BY id LIMIT ?`);
    this.#saveCursor = db.prepare('INSERT INTO audit_cursor (svm, last_id) VALUES (?, ?) ON CONFLICT (svm) DO UPDATE SET last_id = excluded.last_id');
    this.recover();
  }

  /** Id of the last event written. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Brings the cursor level with the files (see the module comment) and cuts a torn last line. */
  recover(): void {
    const row = this.#db.prepare('SELECT last_id FROM audit_cursor WHERE svm = ?').get(this.#o.svm) as { last_id: number } | undefined;
    let cursor = row?.last_id ?? 0;
    for (const a of listArchives(this.#o.dir, this.#o.svm)) cursor = Math.max(cursor, a.lastId);
    if (existsSync(this.#active)) {
      const fd = openSync(this.#active, 'r+');
      try {
        const size = fstatSync(fd).size;
        const take = Math.min(size, 1 << 20);
        const buf = Buffer.alloc(take);
        readSync(fd, buf, 0, take, size - take);
        const lastNl = buf.lastIndexOf(0x0a);
        const keep = lastNl < 0 ? size - take : size - take + lastNl + 1;
        if (keep < size) ftruncateSync(fd, keep);
        if (lastNl >= 0) {
          const prevNl = buf.lastIndexOf(0x0a, lastNl - 1);
          const last = JSON.parse(buf.subarray(prevNl + 1, lastNl).toString('utf8')) as { id: number };
          cursor = Math.max(cursor, last.id);
        }
      } finally {
        closeSync(fd);
      }
    }
    this.#cursor = cursor;
    this.#saveCursor.run(this.#o.svm, cursor);
  }

  #open(): number {
    if (this.#fd === null) {
      this.#fd = openSync(this.#active, 'a');
      this.#size = fstatSync(this.#fd).size;
    }
    return this.#fd;
  }

  #append(lines: string[], lastId: number): void {
    if (lines.length === 0) return;
    const fd = this.#open();
    const buf = Buffer.from(lines.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    if (this.#o.fsync !== false) fsyncSync(fd);
    this.#size += buf.length;
    this.#o.faults?.afterWrite?.();
    this.#saveCursor.run(this.#o.svm, lastId);
    this.#cursor = lastId;
  }

  /** Writes every committed event after the cursor; rotates by size on the way. Returns lines written. */
  pump(): number {
    const limit = this.#o.rotationSize;
    const batch = this.#o.batch ?? 1000;
    let written = 0;
    for (;;) {
      const rows = this.#read.all(this.#cursor, this.#o.svm, batch) as EventRow[];
      if (rows.length === 0) return written;
      let lines: string[] = [];
      let bytes = 0;
      let lastId = this.#cursor;
      for (const r of rows) {
        const line = auditLine(r);
        const n = Buffer.byteLength(line);
        if (limit !== undefined && this.#size + bytes + n > limit && this.#size + bytes > 0) {
          this.#append(lines, lastId);
          lines = [];
          bytes = 0;
          this.rotate();
        }
        lines.push(line);
        bytes += n;
        lastId = r.id;
        written++;
      }
      this.#append(lines, lastId);
    }
  }

  /** Archives the active file (when it holds lines) and applies retention; returns the archive name. */
  rotate(): string | undefined {
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
    if (!existsSync(this.#active)) return undefined;
    const fd = openSync(this.#active, 'r');
    const size = fstatSync(fd).size;
    closeSync(fd);
    if (size === 0) return undefined;
    const now = new Date((this.#o.clock ?? Date.now)());
    const stamp = now.toISOString().replace(/:/g, '-').replace('T', '-T').replace(/\.(\d{3})Z$/, '-$1');
    const base = `audit_${this.#o.svm}_D${stamp}_${String(this.#cursor).padStart(12, '0')}`;
    let name = `${base}.json`;
    for (let i = 1; existsSync(path.join(this.#o.dir, name)); i++) name = `${base}-${String(i)}.json`;
    renameSync(this.#active, path.join(this.#o.dir, name));
    this.#size = 0;
    this.#o.faults?.afterRename?.();
    this.retain();
    return name;
  }

  /** Deletes archives beyond the retention count or older than the retention duration. */
  retain(): string[] {
    const archives = listArchives(this.#o.dir, this.#o.svm);
    const now = (this.#o.clock ?? Date.now)();
    const doomed = new Set<string>();
    const count = this.#o.retentionCount ?? 0;
    if (count > 0) for (const a of archives.slice(0, Math.max(0, archives.length - count))) doomed.add(a.name);
    const age = this.#o.retentionMs ?? 0;
    if (age > 0) for (const a of archives) if (now - a.rotatedAt > age) doomed.add(a.name);
    for (const name of doomed) {
      try {
        unlinkSync(path.join(this.#o.dir, name));
      } catch {
        // already gone
      }
    }
    return [...doomed];
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
