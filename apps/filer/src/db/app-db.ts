// The app's own tables (on-demand jobs and their checkpoints, audit configuration and log cursors),
// kept in the node's isi_avscan.db beside the store's tables so one file holds a node's state and
// one backup covers it. They are the app's, not the store's: the store's schema (`schema_version`)
// is left alone and this module versions its tables in `filer_schema_version`, migrated the same way
// (inside one IMMEDIATE transaction, so two processes opening a fresh file cannot both migrate it).
//
// One extra connection to the same file: SQLite's locks arbitrate between it and the store's writer
// (WAL, `BEGIN IMMEDIATE`, busy timeout). better-sqlite3 is synchronous and both connections live on
// one thread, so a transaction of one always ends before the other's begins: no lock wait in-process.
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '@avscan/store';

const kMigrations: readonly string[] = [
  // 1: on-demand jobs, on-access daily counters, audit configuration and cursors.
  `
  CREATE TABLE od_jobs (
    id          TEXT    PRIMARY KEY,
    svm         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,   -- 'ontap' | 'onefs' | 'file'
    spec        TEXT    NOT NULL,   -- JSON: the normalised job (roots, scope policy, force, log path)
    state       TEXT    NOT NULL,   -- 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted'
    node        TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    ended       INTEGER,
    -- Counters and checkpoint move together, in one transaction: every file up to the checkpoint
    -- (walk order) is counted exactly once, none after it.
    counters    TEXT    NOT NULL,   -- JSON JobCounters
    checkpoint  TEXT,               -- JSON [rootIndex, ...components] of the last file done, in walk order
    error       TEXT,
    report_done INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX od_jobs_by_state ON od_jobs (state, created);

  CREATE TABLE od_job_infections (
    job_id    TEXT    NOT NULL REFERENCES od_jobs (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    file_path TEXT    NOT NULL,
    threats   TEXT    NOT NULL,     -- JSON array
    response  TEXT    NOT NULL,
    time      INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE audit_config (
    svm_uuid TEXT PRIMARY KEY,
    svm      TEXT NOT NULL,
    config   TEXT NOT NULL          -- JSON AuditConfig
  ) WITHOUT ROWID;

  -- On-access scans per UTC day and SVM (the daily on-access report's files and bytes; infections
  -- come from the store's events).
  CREATE TABLE onaccess_daily (
    day   TEXT    NOT NULL,         -- YYYY-MM-DD (UTC)
    svm   TEXT    NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    fails INTEGER NOT NULL,
    PRIMARY KEY (day, svm)
  ) WITHOUT ROWID;

  -- The audit writer's position: the id of the last event written to the SVM's log files.
  CREATE TABLE audit_cursor (
    svm     TEXT    PRIMARY KEY,
    last_id INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: what the OneFS PAPI keeps beyond the ONTAP document: cluster-wide CAVA settings, the per-zone
  // filter flags ONTAP has no field for, the CAVA servers' names, and OneFS policy-like jobs.
  // `onefs_filters` is no longer read: the filter's flags moved into the zone's Vscan document
  // (`onefs_filter`, applied by the data path); the table stays so this migration is unchanged.
  `
  CREATE TABLE onefs_settings (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT    NOT NULL            -- JSON StoredSettings
  );
  CREATE TABLE onefs_filters (
    zone TEXT PRIMARY KEY,
    doc  TEXT NOT NULL              -- JSON FilterFlags
  ) WITHOUT ROWID;
  CREATE TABLE onefs_servers (
    name    TEXT    PRIMARY KEY,
    uri     TEXT    NOT NULL,
    enabled INTEGER NOT NULL,
    created INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE onefs_jobs (
    name     TEXT    PRIMARY KEY,
    zone     TEXT    NOT NULL,
    doc      TEXT    NOT NULL,      -- JSON OnefsJobDoc
    created  INTEGER NOT NULL,
    last_run INTEGER
  ) WITHOUT ROWID;
  `,
];

export const kAppSchemaVersion = kMigrations.length;

/**
 * Opens the app's connection to the store's database and brings the app tables up to date.
 * Given the open SQLite `Store` itself, the store checkpoints the file's WAL (its checkpointer
 * thread, or its own connection), so this connection never does: with SQLite's default
 * (`wal_autocheckpoint` 1000 pages) every app commit made while the store's busy WAL was past
 * 1000 pages ran a checkpoint on the event loop — 2–14 ms per on-demand job checkpoint, measured.
 */
export function openAppDb(store: Store | string): Database.Database {
  const file = typeof store === 'string' ? store : store.file;
  const db = new Database(file, { timeout: 10_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    if (typeof store !== 'string') db.pragma('wal_autocheckpoint = 0');
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'filer_schema_version'").get();
      if (has === undefined) db.exec('CREATE TABLE filer_schema_version (version INTEGER NOT NULL); INSERT INTO filer_schema_version VALUES (0)');
      const { version } = db.prepare('SELECT version FROM filer_schema_version').get() as { version: number };
      if (version > kAppSchemaVersion) throw new Error(`database \`${file}\` has filer schema ${version}, newer than this app's ${kAppSchemaVersion}`);
      for (let v = version; v < kAppSchemaVersion; v++) db.exec(kMigrations[v]!);
      db.prepare('UPDATE filer_schema_version SET version = ?').run(kAppSchemaVersion);
    }).immediate();
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * The app connection of a running node: opened as the store's own (see `openAppDb`) when the app
 * tables live in the SQLite store's file, by path otherwise (a PostgreSQL store: `node.db`).
 */
export function openNodeAppDb(rt: { readonly store: unknown; readonly appDbFile: string }): Database.Database {
  const s = rt.store;
  return openAppDb(s instanceof Store && path.resolve(s.file) === path.resolve(rt.appDbFile) ? s : rt.appDbFile);
}
