// On a shared (PostgreSQL) store the audit log writer's source is a local copy. The writer reads
// committed audit events from a SQLite `events` table in id order, behind a cursor, synchronously
// (module comment of writer.ts); with PostgreSQL the events are in the shared database. So each node
// stages its *own* audit events into an `events` table of its `node.db` before a pump, and the writer
// runs on that table unchanged.
//
// Why a node's own events only: ids are allocated by PostgreSQL across all nodes, and another node's
// event with a smaller id may commit after a larger one is visible, which an id cursor would skip. One
// node's events commit in id order (its group commit runs one non-record batch at a time), so once id
// N of this node is visible every smaller id of this node is too. Each node's audit log therefore holds
// the accesses and changes made through it, as ONTAP's per-node staging files do before consolidation.
//
// The copy pages the node's events by time from a persisted lower bound that trails the newest seen by
// kOverlapMs (so an event stamped slightly earlier but committed later is still found); rows already
// staged are ignored by their id.
import type Database from 'better-sqlite3';
import type { FilerStore } from '../model.js';

const kAuditTypes: ReadonlySet<string> = new Set(['audit.data', 'audit.management']);
const kPage = 1000;
/** Pages read per call; the next pump carries on from where this one stopped. */
const kMaxPages = 100;
/** How far the next call reaches back before the newest event seen. */
export const kOverlapMs = 5000;

export class AuditStager {
  readonly #db: Database.Database;
  readonly #store: Pick<FilerStore, 'queryEvents' | 'nodeId'>;
  readonly #since: Database.Statement<[string], { since: number }>;
  readonly #saveSince: Database.Statement<[string, number]>;
  readonly #insert: Database.Statement;

  constructor(db: Database.Database, store: Pick<FilerStore, 'queryEvents' | 'nodeId'>) {
    this.#db = db;
    this.#store = store;
    // Only in a node.db (the SQLite store's own `events` table is never staged into).
    db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT NULL, svm TEXT,
        file_path TEXT, reason TEXT, details TEXT
      );
      CREATE TABLE IF NOT EXISTS audit_stage (svm TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID;
    `);
    this.#since = db.prepare('SELECT since FROM audit_stage WHERE svm = ?');
    this.#saveSince = db.prepare('INSERT INTO audit_stage (svm, since) VALUES (?, ?) ON CONFLICT (svm) DO UPDATE SET since = max(since, excluded.since)');
    this.#insert = db.prepare('INSERT OR IGNORE INTO events (id, time, type, svm, file_path, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** Copies this node's committed audit events of `svm` not staged yet; returns how many were new. Rejects when the store does. */
  async stage(svm: string): Promise<number> {
    const since = this.#since.get(svm)?.since ?? 0;
    let newest = since;
    let added = 0;
    let cursor: string | undefined;
    for (let page = 0; page < kMaxPages; page++) {
      const p = await this.#store.queryEvents({ svm, node: this.#store.nodeId, since, orderBy: 'time asc', maxRecords: kPage, ...(cursor === undefined ? {} : { cursor }) });
      this.#db.transaction(() => {
        for (const e of p.records) {
          newest = Math.max(newest, e.time);
          if (!kAuditTypes.has(e.type)) continue;
          added += this.#insert.run(e.id, e.time, e.type, e.svm, e.filePath, e.reason, e.details === null ? null : JSON.stringify(e.details)).changes;
        }
      })();
      cursor = p.next;
      if (cursor === undefined) break;
    }
    this.#saveSince.run(svm, Math.max(0, newest - kOverlapMs));
    return added;
  }
}
