// Schema of isi_avscan.db and its versioned migrations. `schema_version` holds one row; migration N
// moves a database from version N-1 to N inside the same IMMEDIATE transaction that bumps the row, so
// two processes opening a fresh file at once cannot both migrate it.
import type Database from 'better-sqlite3';
import { StoreError, StoreErrorCodes } from './errors.js';

const kMigrations: readonly string[] = [
  // 1: initial schema.
  `
  -- Attributes keyed by file identity. WITHOUT ROWID clusters rows by (volume, file_id), so inodes
  -- allocated together (one directory) are written to the same pages: cheap group-commit inserts.
  CREATE TABLE attributes (
    volume        TEXT    NOT NULL,
    file_id       TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    scan_time     INTEGER NOT NULL,
    scan_result   TEXT    NOT NULL,
    threats       TEXT    NOT NULL,  -- JSON array of threat names
    sig_timestamp INTEGER NOT NULL,
    change_stamp  TEXT    NOT NULL,
    quarantined   INTEGER NOT NULL,
    cache_gen     INTEGER NOT NULL,  -- equals meta.cache_generation while the scan mark is valid
    PRIMARY KEY (volume, file_id)
  ) WITHOUT ROWID;
  -- Serves lookups by path and renames of a path or folder prefix (range scan on path).
  CREATE INDEX attributes_by_volume_path ON attributes (volume, path);

  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('cache_generation', 1);

  CREATE TABLE locks (
    volume      TEXT    NOT NULL,
    file_id     TEXT    NOT NULL,
    node        TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    scan_id     TEXT    NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (volume, file_id)
  ) WITHOUT ROWID;
  -- Serves the release of a node's stale locks on open.
  CREATE INDEX locks_by_node ON locks (node);

  CREATE TABLE events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time      INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    server    TEXT,
    svm       TEXT,
    node      TEXT,
    file_path TEXT,
    reason    TEXT,
    details   TEXT             -- JSON object or NULL
  );
  -- Serves time-ordered paging (keyset on (time, id)) with or without a type filter.
  CREATE INDEX events_by_time ON events (time, id);
  CREATE INDEX events_by_type_time ON events (type, time, id);

  CREATE TABLE server_status (
    svm                 TEXT    NOT NULL,
    node                TEXT    NOT NULL,
    ip                  TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    type                TEXT    NOT NULL,
    update_time         INTEGER NOT NULL,
    vendor              TEXT,
    version             TEXT,
    disconnected_reason TEXT,
    PRIMARY KEY (svm, node, ip)
  ) WITHOUT ROWID;

  CREATE TABLE reports (
    id             TEXT    PRIMARY KEY,
    kind           TEXT    NOT NULL,  -- 'on-demand' | 'on-access-daily'
    policy         TEXT,
    start_time     INTEGER NOT NULL,
    end_time       INTEGER,
    files_scanned  INTEGER NOT NULL DEFAULT 0,
    total_bytes    INTEGER NOT NULL DEFAULT 0,
    scan_fails     INTEGER NOT NULL DEFAULT 0,
    infected_count INTEGER NOT NULL DEFAULT 0,
    state          TEXT    NOT NULL,  -- 'running' | 'completed' | 'failed' | 'cancelled'
    response       TEXT               -- configured response to infections, e.g. 'quarantine-move'
  ) WITHOUT ROWID;
  -- Serves report listing by kind, newest first.
  CREATE INDEX reports_by_kind_start ON reports (kind, start_time);

  CREATE TABLE report_infections (
    report_id TEXT    NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    file_path TEXT    NOT NULL,
    threats   TEXT    NOT NULL,      -- JSON array
    response  TEXT    NOT NULL,      -- response taken: 'quarantine', 'quarantine-move', 'delete', 'deny-only', 'none'
    time      INTEGER NOT NULL,
    PRIMARY KEY (report_id, seq)
  ) WITHOUT ROWID;
  `,
  // 2: the signature stamp a file was scanned with (ICAP ISTag: OneFS's scan currency), and why a
  // scanner server is in its state (the cause behind `disconnected_reason`) and its signatures.
  // locks_by_node goes: every lock taken and released paid a second B-tree page in its commit, for
  // an index used once per open (releasing our stale locks) on a table that only holds scans in
  // flight — a full scan of it is cheaper than the index's upkeep.
  `
  DROP INDEX locks_by_node;
  ALTER TABLE attributes ADD COLUMN sig_stamp TEXT;
  ALTER TABLE server_status ADD COLUMN message TEXT;
  ALTER TABLE server_status ADD COLUMN signature TEXT;
  `,
];

/** The schema version this code writes. */
export const kSchemaVersion = kMigrations.length;

function readVersion(db: Database.Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function tooNew(file: string, found: number): StoreError {
  return new StoreError(
    StoreErrorCodes.SCHEMA_TOO_NEW,
    `database \`${file}\` has schema version ${found}, newer than the ${kSchemaVersion} this version of @avscan/store supports: upgrade @avscan/store`,
    { target: file },
  );
}

/** Brings the database to {@link kSchemaVersion}; refuses a database written by newer code. */
export function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = readVersion(db);
    if (version > kSchemaVersion) throw tooNew(file, version);
    if (version === kSchemaVersion) return;
    if (version === 0) db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (let v = version; v < kSchemaVersion; v++) db.exec(kMigrations[v]!);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(kSchemaVersion);
  }).immediate();
}

/** Read-only opens cannot migrate: the database must already be at exactly our version. */
export function checkVersionReadonly(db: Database.Database, file: string): void {
  const version = readVersion(db);
  if (version > kSchemaVersion) throw tooNew(file, version);
  if (version < kSchemaVersion) {
    throw new StoreError(
      StoreErrorCodes.SCHEMA_TOO_OLD,
      `database \`${file}\` has schema version ${version} and needs migrations: open it once read-write`,
      { target: file },
    );
  }
}
