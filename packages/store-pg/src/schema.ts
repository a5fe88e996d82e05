// Schema of the PostgreSQL store and its versioned migrations. `schema_version` holds one row;
// migrations run in one transaction under a transaction-scoped advisory lock, so two nodes starting
// together on a fresh database wait for each other instead of both creating the tables.
//
// Text columns use the "C" collation: paths compare byte-wise, like SQLite's BINARY, so the folder
// range `p/` <= path < `p0` used by rename and delete selects exactly the rows below folder `p`
// whatever the database's locale. Times are epoch milliseconds; caller-supplied ones (scan, event,
// report times, signature timestamps) are `double precision` because callers may pass any finite number.
import type pg from 'pg';
import { StorePgError, StorePgErrorCodes } from './errors.js';

// Any constant: the key of the advisory lock that serialises migrations across nodes.
const kMigrationLockKey = 0x61767363616e; // "avscan"

/** NOTIFY channels: lock releases (waiters wake) and cache invalidations (every node's attribute cache). */
export const kUnlockChannel = 'avscan_unlock';
export const kCacheChannel = 'avscan_cache';

const kMigrations: readonly string[] = [
  // 1: initial schema.
  `
  CREATE FUNCTION avscan_now_ms() RETURNS bigint LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

  -- cache_generation: ONTAP cache_clear bumps it; signature_watermark: newest signature timestamp reported.
  CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value double precision NOT NULL);
  INSERT INTO meta (key, value) VALUES ('cache_generation', 1), ('signature_watermark', 0);

  CREATE TABLE attributes (
    volume        text COLLATE "C" NOT NULL,
    file_id       text COLLATE "C" NOT NULL,
    path          text COLLATE "C" NOT NULL,
    scan_time     double precision NOT NULL,
    scan_result   text NOT NULL,
    threats       text NOT NULL,            -- JSON array of threat names
    sig_timestamp double precision NOT NULL,
    change_stamp  text NOT NULL,
    quarantined   boolean NOT NULL,
    cache_gen     double precision NOT NULL, -- equals meta.cache_generation while the scan mark is valid
    PRIMARY KEY (volume, file_id)
  );
  -- Lookups by path, and renames / deletes of a folder (range scan on path).
  CREATE INDEX attributes_by_volume_path ON attributes (volume, path);

  CREATE TABLE locks (
    volume      text COLLATE "C" NOT NULL,
    file_id     text COLLATE "C" NOT NULL,
    node        text NOT NULL,
    owner       text NOT NULL,
    scan_id     text NOT NULL,
    acquired_at bigint NOT NULL,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (volume, file_id)
  );
  -- The release of a restarted node's locks.
  CREATE INDEX locks_by_node ON locks (node);

  -- Every end of a lock (release, release with the scan result, a restarted node's cleanup) wakes the
  -- waiters of that file on every node, at commit. A trigger, so no code path can forget it.
  CREATE FUNCTION avscan_lock_released() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${kUnlockChannel}', json_build_array(OLD.volume, OLD.file_id)::text);
    RETURN NULL;
  END $$;
  CREATE TRIGGER locks_released AFTER DELETE ON locks FOR EACH ROW EXECUTE FUNCTION avscan_lock_released();

  CREATE TABLE events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time      double precision NOT NULL,
    type      text COLLATE "C" NOT NULL,
    server    text,
    svm       text,
    node      text,
    file_path text,
    reason    text,
    details   text                -- JSON object or NULL
  );
  -- Time-ordered paging (keyset on (time, id)) with or without a type filter.
  CREATE INDEX events_by_time ON events (time, id);
  CREATE INDEX events_by_type_time ON events (type, time, id);

  CREATE TABLE server_status (
    svm                 text COLLATE "C" NOT NULL,
    node                text COLLATE "C" NOT NULL,
    ip                  text COLLATE "C" NOT NULL,
    state               text NOT NULL,
    type                text NOT NULL,
    update_time         double precision NOT NULL,
    vendor              text,
    version             text,
    disconnected_reason text,
    PRIMARY KEY (svm, node, ip)
  );

  CREATE TABLE reports (
    id             text COLLATE "C" PRIMARY KEY,
    kind           text NOT NULL,
    policy         text,
    start_time     double precision NOT NULL,
    end_time       double precision,
    files_scanned  bigint NOT NULL DEFAULT 0,
    total_bytes    bigint NOT NULL DEFAULT 0,
    scan_fails     bigint NOT NULL DEFAULT 0,
    infected_count bigint NOT NULL DEFAULT 0,
    state          text NOT NULL,
    response       text
  );
  CREATE INDEX reports_by_kind_start ON reports (kind, start_time);

  CREATE TABLE report_infections (
    report_id text COLLATE "C" NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    seq       bigint NOT NULL,
    file_path text NOT NULL,
    threats   text NOT NULL,      -- JSON array
    response  text NOT NULL,
    time      double precision NOT NULL,
    PRIMARY KEY (report_id, seq)
  );
  `,
  // 2: the SQLite store's schema 2. The signature stamp a file was scanned with (ICAP ISTag: OneFS's
  // scan currency); why a scanner server is in its state and its signatures. locks_by_node stays
  // (SQLite dropped its own): here a node releasing its locks on open may face every node's scans in
  // flight across the cluster, not just its own.
  `
  ALTER TABLE attributes ADD COLUMN sig_stamp text;
  ALTER TABLE server_status ADD COLUMN message text;
  ALTER TABLE server_status ADD COLUMN signature text;
  `,
];

/** The schema version this code writes. */
export const kPgSchemaVersion = kMigrations.length;

/** Brings the database to {@link kPgSchemaVersion} in one transaction; refuses a newer one. */
export async function migratePg(client: pg.ClientBase, server: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [kMigrationLockKey]);
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
    let version = 0;
    if (exists.rows[0]?.t === undefined || exists.rows[0].t === null) {
      await client.query('CREATE TABLE schema_version (version integer NOT NULL)');
    } else {
      version = (await client.query<{ version: number }>('SELECT version FROM schema_version')).rows[0]?.version ?? 0;
    }
    if (version > kPgSchemaVersion) {
      throw new StorePgError(
        StorePgErrorCodes.SCHEMA_TOO_NEW,
        `database at ${server} has schema version ${version}, newer than the ${kPgSchemaVersion} this version of @avscan/store-pg supports: upgrade @avscan/store-pg`,
        { target: server },
      );
    }
    for (let v = version; v < kPgSchemaVersion; v++) await client.query(kMigrations[v]!);
    if (version < kPgSchemaVersion) {
      await client.query('DELETE FROM schema_version');
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [kPgSchemaVersion]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
