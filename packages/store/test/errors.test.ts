import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kSchemaVersion, openStore, StoreError, StoreErrorCodes } from '../src/index.js';
import { classifySqliteError } from '../src/internal.js';
import { freshStore, tempDbFile, tempDir } from './helpers.js';

function sqliteError(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifySqliteError', () => {
  it.each([
    ['SQLITE_BUSY', 'ERR_STORE_BUSY', true],
    ['SQLITE_BUSY_SNAPSHOT', 'ERR_STORE_BUSY', true],
    ['SQLITE_LOCKED', 'ERR_STORE_BUSY', true],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', 'ERR_STORE_CONSTRAINT', false],
    ['SQLITE_CORRUPT', 'ERR_STORE_CORRUPT', false],
    ['SQLITE_NOTADB', 'ERR_STORE_CORRUPT', false],
    ['SQLITE_FULL', 'ERR_STORE_FULL', false],
    ['SQLITE_CANTOPEN', 'ERR_STORE_UNWRITABLE', false],
    ['SQLITE_READONLY', 'ERR_STORE_UNWRITABLE', false],
    ['SQLITE_IOERR_WRITE', 'ERR_STORE_UNWRITABLE', false],
    ['SQLITE_ERROR', 'ERR_STORE_SQLITE', false],
  ])('%s → %s (retryable %s)', (sqlite, code, retryable) => {
    const e = classifySqliteError(sqliteError(sqlite, 'line one.\nline two'), '/x/db');
    expect(e).toBeInstanceOf(StoreError);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toContain('`/x/db`');
    expect(e.message).not.toMatch(/\n|\.$/);
  });

  it('passes a StoreError through unchanged', () => {
    const e = new StoreError(StoreErrorCodes.CLOSED, 'x');
    expect(classifySqliteError(e)).toBe(e);
  });

  it('classifies a real busy database as retryable', () => {
    const file = tempDbFile();
    const s = freshStore({ busyTimeoutMs: 0 }, file);
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      let err: unknown;
      try {
        s.acquireLock({ volume: 'v', fileId: '1' }, 'o', 's', 1000);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'ERR_STORE_BUSY', retryable: true });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});

describe('opening bad databases', () => {
  it('refuses a database with a newer schema_version', async () => {
    const file = tempDbFile();
    await openStore(file).close();
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = ?').run(kSchemaVersion + 1);
    raw.close();
    expect(() => openStore(file)).toThrow(expect.objectContaining({ code: 'ERR_STORE_SCHEMA_TOO_NEW', target: file }));
    expect(() => openStore(file, { readonly: true })).toThrow(expect.objectContaining({ code: 'ERR_STORE_SCHEMA_TOO_NEW' }));
  });

  it('a garbage file gives ERR_STORE_CORRUPT with a one-line message naming the file', () => {
    const file = path.join(tempDir(), 'garbage.db');
    fs.writeFileSync(file, Buffer.alloc(16384, 0x5a));
    let err: unknown;
    try {
      openStore(file);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    const message = (err as Error).message;
    expect(message).toContain(`\`${file}\``);
    expect(message).not.toContain('\n');
  });

  it('an unopenable path gives ERR_STORE_UNWRITABLE', () => {
    const file = path.join(tempDir(), 'missing-dir', 'db');
    expect(() => openStore(file)).toThrow(expect.objectContaining({ code: 'ERR_STORE_UNWRITABLE' }));
    expect(() => openStore(path.join(tempDir(), 'none.db'), { readonly: true })).toThrow(expect.objectContaining({ code: 'ERR_STORE_UNWRITABLE' }));
  });

  it('a read-only store reads but refuses writes', async () => {
    const file = tempDbFile();
    const w = openStore(file);
    await w.recordScan({ volume: 'v', fileId: '1', path: '/a', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 });
    await w.close();
    const r = openStore(file, { readonly: true });
    try {
      expect(r.getAttributes({ volume: 'v', fileId: '1' })!.path).toBe('/a');
      await expect(r.recordScan({ volume: 'v', fileId: '2', path: '/b', scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 })).rejects.toMatchObject({
        code: 'ERR_STORE_UNWRITABLE',
      });
      expect(() => r.acquireLock({ volume: 'v', fileId: '1' }, 'o', 's', 1)).toThrow(expect.objectContaining({ code: 'ERR_STORE_UNWRITABLE' }));
    } finally {
      await r.close();
    }
  });

  it('migrations are idempotent: reopening keeps data and version', async () => {
    const file = tempDbFile();
    const s = openStore(file);
    await s.appendEvent({ type: 'x' });
    await s.close();
    const again = freshStore({}, file);
    expect(again.queryEvents().numRecords).toBe(1);
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: kSchemaVersion }]);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });
});

describe('schema migration', () => {
  it('moves a version 1 database to the current version, keeping its rows (sig_stamp NULL, server message NULL)', async () => {
    const file = tempDbFile();
    const raw = new Database(file);
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)');
    raw.exec(`CREATE TABLE attributes (volume TEXT NOT NULL, file_id TEXT NOT NULL, path TEXT NOT NULL, scan_time INTEGER NOT NULL,
      scan_result TEXT NOT NULL, threats TEXT NOT NULL, sig_timestamp INTEGER NOT NULL, change_stamp TEXT NOT NULL,
      quarantined INTEGER NOT NULL, cache_gen INTEGER NOT NULL, PRIMARY KEY (volume, file_id)) WITHOUT ROWID;
      CREATE INDEX attributes_by_volume_path ON attributes (volume, path);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta (key, value) VALUES ('cache_generation', 1);
      CREATE TABLE locks (volume TEXT NOT NULL, file_id TEXT NOT NULL, node TEXT NOT NULL, owner TEXT NOT NULL, scan_id TEXT NOT NULL,
        acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (volume, file_id)) WITHOUT ROWID;
      CREATE INDEX locks_by_node ON locks (node);
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, type TEXT NOT NULL, server TEXT, svm TEXT,
        node TEXT, file_path TEXT, reason TEXT, details TEXT);
      CREATE TABLE server_status (svm TEXT NOT NULL, node TEXT NOT NULL, ip TEXT NOT NULL, state TEXT NOT NULL, type TEXT NOT NULL,
        update_time INTEGER NOT NULL, vendor TEXT, version TEXT, disconnected_reason TEXT, PRIMARY KEY (svm, node, ip)) WITHOUT ROWID;
      CREATE TABLE reports (id TEXT PRIMARY KEY, kind TEXT NOT NULL, policy TEXT, start_time INTEGER NOT NULL, end_time INTEGER,
        files_scanned INTEGER NOT NULL DEFAULT 0, total_bytes INTEGER NOT NULL DEFAULT 0, scan_fails INTEGER NOT NULL DEFAULT 0,
        infected_count INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, response TEXT) WITHOUT ROWID;
      CREATE TABLE report_infections (report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE, seq INTEGER NOT NULL,
        file_path TEXT NOT NULL, threats TEXT NOT NULL, response TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (report_id, seq)) WITHOUT ROWID;
      INSERT INTO attributes VALUES ('vol1', '1', '/a', 5, 'clean', '[]', 9, 'S', 0, 1);
      INSERT INTO server_status VALUES ('vs1', 'n1', '10.0.0.1', 'disconnected', 'primary', 5, NULL, NULL, 'remote_closed');`);
    raw.close();
    const s = freshStore({}, file);
    expect(s.getAttributes({ volume: 'vol1', fileId: '1' })).toMatchObject({ scanResult: 'clean', sigTimestamp: 9, sigStamp: null, cacheValid: true });
    expect(s.queryServerStatus().records[0]).toMatchObject({ ip: '10.0.0.1', disconnectedReason: 'remote_closed', message: null, signature: null });
    await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'disconnected', type: 'primary', disconnectedReason: 'session_uninitialized', message: 'signatures missing' });
    expect(s.queryServerStatus().records[0]).toMatchObject({ disconnectedReason: 'session_uninitialized', message: 'signatures missing' });
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: kSchemaVersion }]);
    check.close();
  });
});

describe('error catalog', () => {
  it('lists the same codes as the README Errors table', () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\| `(ERR_STORE_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.values(StoreErrorCodes).sort());
  });

  it('codes are unique and well-formed, and the catalog is frozen', () => {
    const codes = Object.values(StoreErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^ERR_STORE_[A-Z_]+$/);
    expect(Object.isFrozen(StoreErrorCodes)).toBe(true);
  });
});
