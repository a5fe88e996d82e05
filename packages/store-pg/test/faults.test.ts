// Faults in one process: PostgreSQL unreachable at open, the wrong database, a schema from the future,
// and the server stopped and started under an open store (coded errors meanwhile; the pool and LISTEN
// come back by themselves; the cache is off while deaf and flushed after).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { kPgSchemaVersion, openPgStore } from '../src/index.js';
import { requirePostgres, usePostgres } from './support/postgres.js';
import { until } from './support/until.js';

const k1 = { volume: 'vol1', fileId: '1' };
const available = requirePostgres();

describe.skipIf(!available)('PgStore faults (PostgreSQL 15)', () => {
  const postgres = usePostgres();

  it('no server at the address: ERR_STOREPG_UNAVAILABLE (retryable), naming the server', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'avscan-nopg-'));
    try {
      const err = await openPgStore({ host: empty, user: 'postgres', database: 'x' }, { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_STOREPG_UNAVAILABLE', retryable: true });
      expect((err as Error).message).toContain(empty);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('an unknown database: ERR_STOREPG_REJECTED (not retryable)', async () => {
    await expect(openPgStore(postgres.server.config('no_such_db'))).rejects.toMatchObject({ code: 'ERR_STOREPG_REJECTED', retryable: false });
  });

  it('a database migrated by a newer version is refused', async () => {
    const db = await postgres.server.createDatabase('future');
    await (await openPgStore(postgres.server.config(db))).close();
    const admin = new pg.Client(postgres.server.config(db));
    await admin.connect();
    await admin.query('UPDATE schema_version SET version = $1', [kPgSchemaVersion + 1]);
    await admin.end();
    await expect(openPgStore(postgres.server.config(db))).rejects.toMatchObject({ code: 'ERR_STOREPG_SCHEMA_TOO_NEW' });
  });

  it('a version 1 database is migrated to version 2 on open, keeping its rows (sig_stamp, message, signature NULL)', async () => {
    const db = await postgres.server.createDatabase('v1');
    const s = await openPgStore(postgres.server.config(db));
    await s.recordScan({ ...k1, path: '/a', scanResult: 'clean', changeStamp: 'S', sigTimestamp: 5 });
    await s.upsertServerStatus({ svm: 'vs1', node: 'n1', ip: '10.0.0.1', state: 'connected', type: 'primary', updateTime: 1 });
    await s.close();
    // Back to what version 1 wrote: migration 2 only added columns.
    const admin = new pg.Client(postgres.server.config(db));
    await admin.connect();
    await admin.query(`ALTER TABLE attributes DROP COLUMN sig_stamp; ALTER TABLE server_status DROP COLUMN message;
      ALTER TABLE server_status DROP COLUMN signature; UPDATE schema_version SET version = 1`);
    await admin.end();
    const again = await openPgStore(postgres.server.config(db));
    try {
      expect(await again.getAttributes(k1)).toMatchObject({ path: '/a', sigTimestamp: 5, sigStamp: null });
      expect((await again.queryServerStatus()).records[0]).toMatchObject({ ip: '10.0.0.1', message: null, signature: null });
      await again.recordScan({ ...k1, path: '/a', scanResult: 'clean', changeStamp: 'S', sigTimestamp: 0, sigStamp: 'istag' });
      expect((await again.getAttributes(k1))?.sigStamp).toBe('istag');
    } finally {
      await again.close();
    }
  });

  it('a password in a connection string never appears in messages', async () => {
    const err = (await openPgStore(`postgresql://u:s3cret@127.0.0.1:1/x`, { connectTimeoutMs: 500 }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('s3cret');
  });

  it('server stopped and started under an open store: coded errors, cache off while deaf, recovery by itself', async () => {
    const db = await postgres.server.createDatabase('restart');
    const s = await postgres.open(db, { nodeId: 'a', connectTimeoutMs: 1000, reconnectDelayMs: 20, unlockPollMs: 60_000 });
    const other = await postgres.open(db, { nodeId: 'b' });
    await s.recordScan({ ...k1, path: '/a', scanResult: 'clean', changeStamp: 'S', sigTimestamp: 1 });
    expect(s.peekAttributes(k1)).toBeDefined();
    await other.acquireLock({ volume: 'vol1', fileId: 'held' }, 'w', 'x', 60_000);
    let settled = false;
    const waiting = s.waitForUnlock({ volume: 'vol1', fileId: 'held' }, 30_000).finally(() => (settled = true));

    await postgres.server.stopServer('fast');
    await until(() => !s.listening, 10_000, 'LISTEN to break');
    expect(s.peekAttributes(k1)).toBeUndefined(); // deaf: the cache must not answer
    await expect(s.getAttributes(k1)).rejects.toMatchObject({ code: 'ERR_STOREPG_UNAVAILABLE', retryable: true });
    await expect(s.acquireLock(k1, 'w', 's', 1000)).rejects.toMatchObject({ code: 'ERR_STOREPG_UNAVAILABLE' });
    await expect(s.recordScan({ ...k1, path: '/a', scanResult: 'clean', changeStamp: 'S2', sigTimestamp: 1 })).rejects.toMatchObject({
      code: 'ERR_STOREPG_UNAVAILABLE',
    });

    postgres.server.startServer();
    await until(() => s.listening, 15_000, 'LISTEN to come back');
    // The reconnect makes the waiter read the lock again; it is still held, so the wait goes on.
    expect(await s.lockHolder({ volume: 'vol1', fileId: 'held' })).toMatchObject({ node: 'b' });
    await s.lockHolder({ volume: 'vol1', fileId: 'held' });
    expect(settled).toBe(false);
    // The stopped server dropped b's pooled connections; its lock row survived. Releasing it wakes our waiter.
    expect(await other.releaseLock({ volume: 'vol1', fileId: 'held' }, 'w', 'x')).toBe(true);
    expect(await waiting).toBe(true);
    await s.recordScan({ ...k1, path: '/a', scanResult: 'clean', changeStamp: 'S3', sigTimestamp: 1 });
    expect((await s.getAttributes(k1))?.changeStamp).toBe('S3');
    expect(s.peekAttributes(k1)?.changeStamp).toBe('S3');
  }, 60_000);
});
