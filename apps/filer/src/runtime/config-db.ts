// Where the management side keeps what the API changed: one row per SVM (its UUID and its Vscan
// document) in `<state>/filer.db`, beside the store's `isi_avscan.db` but in its own file, so the
// store's schema and migrations stay the store's. Writes are synchronous transactions: an API call
// answers after its change is on disk.
import Database from 'better-sqlite3';
import path from 'node:path';
import type { VscanDoc } from '../vscan/model.js';

export interface SvmRow {
  readonly uuid: string;
  readonly vscan: VscanDoc;
}

export class ConfigDb {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], { uuid: string; vscan: string }>;
  readonly #put: Database.Statement<[string, string, string]>;

  constructor(stateDir: string) {
    this.#db = new Database(path.join(stateDir, 'filer.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec('CREATE TABLE IF NOT EXISTS svm (name TEXT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, vscan TEXT NOT NULL) STRICT');
    this.#get = this.#db.prepare('SELECT uuid, vscan FROM svm WHERE name = ?');
    this.#put = this.#db.prepare('INSERT INTO svm (name, uuid, vscan) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET vscan = excluded.vscan');
  }

  get(svm: string): SvmRow | undefined {
    const row = this.#get.get(svm);
    return row === undefined ? undefined : { uuid: row.uuid, vscan: JSON.parse(row.vscan) as VscanDoc };
  }

  put(svm: string, uuid: string, vscan: VscanDoc): void {
    this.#put.run(svm, uuid, JSON.stringify(vscan));
  }

  close(): void {
    this.#db.close();
  }
}
