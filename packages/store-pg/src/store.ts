// PgStore: isi_avscan.db on PostgreSQL, shared by every gateway node of a cluster. Same operations and
// semantics as the SQLite Store of @avscan/store, but every operation that reaches the database
// returns a promise; only `peekAttributes` and `signatureWatermark` are synchronous (they answer from
// this node's memory). See docs/store-interface.md for the contract an engine relies on.
//
// Durability: a write's promise resolves after the COMMIT of the transaction holding it returned, so
// an acknowledged write is as durable as the server's `synchronous_commit` makes it (on by default:
// flushed to PostgreSQL's WAL). Reads see committed data; `flush()` first to read your own queued writes.
import pg from 'pg';
import {
  type AcquireResult,
  type Attributes,
  type EventInput,
  type EventQuery,
  type EventRecord,
  type FileKey,
  type InfectionInput,
  type InfectionQuery,
  type InfectionRecord,
  type LockHolder,
  type Page,
  type Report,
  type ReportInput,
  type ReportProgress,
  type ReportQuery,
  type ReportState,
  type ScanRecord,
  type ServerStatusInput,
  type ServerStatusQuery,
  type ServerStatusRecord,
} from '@avscan/store';
import {
  checkCount,
  checkDeletePath,
  checkFileKey,
  checkRename,
  checkNumber,
  checkPath,
  checkString,
  badArgument,
  eventPage,
  eventQueryParams,
  infectionQueryParams,
  normalizeEvent,
  normalizeInfection,
  normalizeReportFinish,
  normalizeReportInput,
  normalizeReportProgress,
  normalizeScanRecord,
  normalizeServerStatus,
  reportNotFound,
  reportQueryParams,
  serverStatusQueryParams,
  toInfection,
  toInfectionRecord,
  toReport,
  toAttributes,
  toServerStatus,
  type AttributeRow,
  type EventRow,
  type InfectionRecordRow,
  type InfectionRow,
  type ReportRow,
  type ServerStatusRow,
} from '@avscan/store/internal';
import { AttributeCache, cacheKey } from './cache.js';
import { classifyPgError, StorePgError, StorePgErrorCodes } from './errors.js';
import { checkin, checkout, notifyKeys, PgGroupCommitter, type RecordWrite, type Write } from './group-commit.js';
import { Listener, type CacheMessage } from './listener.js';
import { kAcquireSql, kHolderSql, kReleaseNodeSql, kReleaseSql, kRenewSql, toHolder, type LockRow } from './locks.js';
import { resolvePgStoreOptions, type PgStoreOptions, type ResolvedPgStoreOptions } from './options.js';
import { kCacheChannel, migratePg } from './schema.js';

const kAcquired: AcquireResult = Object.freeze({ acquired: true });
const kNoThreats: readonly string[] = Object.freeze([]);

// bigint columns (counters, lock times, event ids) come back as numbers: every value stored is below 2^53.
const kTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

// Same row shape as the SQLite store's (flags as 0/1), so its row mapping serves both.
const kAttributeColumns = `volume, file_id, path, scan_time, scan_result, threats, sig_timestamp, sig_stamp, change_stamp, quarantined::int AS quarantined,
  (cache_gen = (SELECT value FROM meta WHERE key = 'cache_generation'))::int AS cache_valid`;

/** The attributes a committed record left (cache_gen is the current generation: valid). */
function recordAttributes(p: readonly unknown[]): Attributes {
  return {
    volume: p[0] as string,
    fileId: p[1] as string,
    path: p[2] as string,
    scanTime: p[3] as number,
    scanResult: p[4] as Attributes['scanResult'],
    threats: p[5] === '[]' ? kNoThreats : (JSON.parse(p[5] as string) as string[]),
    sigTimestamp: p[6] as number,
    changeStamp: p[7] as string,
    quarantined: p[8] === 1,
    sigStamp: p[9] as string | null,
    cacheValid: true,
  };
}

/** Where the store points, without a password: named in error messages. */
function describeServer(config: pg.PoolConfig): string {
  if (config.connectionString !== undefined) return config.connectionString.replace(/(:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
  return `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
}

/**
 * Opens the store on PostgreSQL: runs migrations (once per cluster, under an advisory lock), releases
 * the locks a previous life of `nodeId` left, and starts LISTENing. Rejects with a coded error.
 */
export async function openPgStore(connection: string | pg.PoolConfig, options?: PgStoreOptions): Promise<PgStore> {
  const o = resolvePgStoreOptions(options);
  if (typeof connection !== 'string' && (connection === null || typeof connection !== 'object')) {
    throw new StorePgError(StorePgErrorCodes.INVALID_ARGUMENT, '`connection` must be a connection string or a pg PoolConfig', { target: 'connection' });
  }
  const base: pg.PoolConfig = typeof connection === 'string' ? { connectionString: checkConnection(connection) } : { ...connection };
  const server = describeServer(base);
  const clientConfig: pg.ClientConfig = {
    ...base,
    application_name: `avscan-${o.nodeId}`,
    connectionTimeoutMillis: o.connectTimeoutMs,
    types: kTypes,
    ...(o.statementTimeoutMs > 0 ? { statement_timeout: o.statementTimeoutMs } : {}),
  };
  const pool = new pg.Pool({ ...clientConfig, max: o.poolMax, idleTimeoutMillis: 30_000 });
  // An idle pooled connection killed by a server restart emits 'error' on the pool: the pool drops it
  // and the next query opens a new one. Without a listener Node would crash the process.
  pool.on('error', () => {});
  let store: PgStore | undefined;
  try {
    const client = await checkout(pool);
    try {
      await migratePg(client, server);
      await client.query(kReleaseNodeSql, [o.nodeId]);
      checkin(client);
    } catch (err) {
      checkin(client, err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    store = new PgStore(pool, clientConfig, o, server);
    await store[kStartListening]();
    await store.getSignatureWatermark();
    return store;
  } catch (err) {
    await store?.[kStopListening]();
    await pool.end().catch(() => {});
    throw classifyPgError(err, server);
  }
}

function checkConnection(s: string): string {
  if (s.length === 0) throw new StorePgError(StorePgErrorCodes.INVALID_ARGUMENT, '`connection` must be a non-empty connection string', { target: 'connection' });
  return s;
}

// Module-private: only openPgStore starts or abandons a store's LISTEN connection.
const kStartListening = Symbol('startListening');
const kStopListening = Symbol('stopListening');

interface Waiter {
  /** The lock ended (its NOTIFY arrived) or the store closes: resolve now. */
  readonly wake: () => void;
  /** Notifications may have been lost (LISTEN re-established): read the lock again. */
  readonly recheck: () => void;
}

export class PgStore {
  readonly options: ResolvedPgStoreOptions;
  /** Where the store points (password hidden). */
  readonly server: string;
  readonly #listener: Listener;
  readonly #pool: pg.Pool;
  readonly #cache: AttributeCache;
  readonly #committer: PgGroupCommitter;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #watermark = 0;
  #closed = false;

  /** @internal use {@link openPgStore} */
  constructor(pool: pg.Pool, clientConfig: pg.ClientConfig, options: ResolvedPgStoreOptions, server: string) {
    this.#pool = pool;
    this.options = options;
    this.server = server;
    this.#cache = new AttributeCache(options.cacheMaxEntries);
    this.#committer = new PgGroupCommitter(pool, server, options.nodeId, options.batchMaxRows, options.batchMaxDelayMs, () => this.#cache.epoch, (writes, epoch) =>
      this.#committed(writes, epoch),
    );
    this.#listener = new Listener(clientConfig, options.reconnectDelayMs, {
      onUnlock: (volume, fileId) => this.#wakeWaiters(cacheKey(volume, fileId)),
      onCache: (m) => this.#applyCacheMessage(m),
      onUp: () => {
        // Notifications sent while we were deaf are lost: start from an empty cache, re-check every waiter.
        this.#cache.setLive(true);
        for (const set of this.#waiters.values()) for (const w of set) w.recheck();
        this.getSignatureWatermark().catch(() => {});
      },
      onDown: () => this.#cache.setLive(false),
    });
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Writes queued or being committed. */
  get pendingWrites(): number {
    return this.#committer.pending;
  }

  /** Whether the LISTEN connection is up (the attribute cache answers only then). */
  get listening(): boolean {
    return this.#listener.up;
  }

  /** Attribute cache counters of this node. */
  get cacheStats(): { readonly entries: number; readonly hits: number; readonly misses: number; readonly live: boolean } {
    return { entries: this.#cache.size, hits: this.#cache.hits, misses: this.#cache.misses, live: this.#cache.live };
  }

  // --- attributes ------------------------------------------------------------------------------

  /**
   * Records a scan result; resolves once committed (group commit). With `releaseLock`, the file's lock
   * ends in the same transaction. `commitWithinMs` is accepted for the engine's port and not used:
   * PostgreSQL batches by its own rule (another node waits on this record's NOTIFY).
   */
  recordScan(record: ScanRecord, options?: { readonly releaseLock?: { readonly owner: string; readonly scanId: string }; readonly commitWithinMs?: number }): Promise<void> {
    return this.#write(() => {
      const params = normalizeScanRecord(record, this.#now());
      const release = options?.releaseLock;
      const pair =
        release === undefined ? undefined : ([checkString('releaseLock.owner', release.owner, 256), checkString('releaseLock.scanId', release.scanId, 256)] as const);
      const notify = params[4] !== 'clean' || params[8] === 1;
      return { kind: 'record', params, release: pair, notify } satisfies RecordWrite;
    });
  }

  /**
   * Synchronous, from this node's cache only: the attributes last read or written here, or undefined
   * (not cached, or the cache is off while LISTEN is down). Validate with `isScanCurrent(attrs,
   * liveStamp, watermark)`; anything but "current" must be confirmed with {@link getAttributes}.
   */
  peekAttributes(key: FileKey): Attributes | undefined {
    this.#assertOpen();
    return this.#cache.get(cacheKey(key.volume, key.fileId));
  }

  /** Reads PostgreSQL (never the cache) and refreshes this node's cache entry. */
  async getAttributes(key: FileKey): Promise<Attributes | undefined> {
    this.#assertOpen();
    this.#check(() => checkFileKey(key));
    const epoch = this.#cache.epoch;
    const rows = await this.#query<AttributeRow>('avscan_get_attributes', `SELECT ${kAttributeColumns} FROM attributes WHERE volume = $1 AND file_id = $2`, [
      key.volume,
      key.fileId,
    ]);
    const attrs = rows[0] === undefined ? undefined : toAttributes(rows[0]);
    this.#cache.fill(cacheKey(key.volume, key.fileId), attrs, epoch);
    return attrs;
  }

  async getAttributesByPath(volume: string, path: string): Promise<Attributes | undefined> {
    this.#assertOpen();
    this.#check(() => {
      checkString('volume', volume, 1024);
      checkPath('path', path);
    });
    const rows = await this.#query<AttributeRow>(
      'avscan_get_attributes_by_path',
      `SELECT ${kAttributeColumns} FROM attributes WHERE volume = $1 AND path = $2 ORDER BY file_id LIMIT 1`,
      [volume, path],
    );
    return rows[0] === undefined ? undefined : toAttributes(rows[0]);
  }

  /** Every row of one volume (or all), ordered by volume and path. For reports and tests, not the hot path. */
  async listAttributes(volume?: string): Promise<Attributes[]> {
    this.#assertOpen();
    if (volume !== undefined) this.#check(() => checkString('volume', volume, 1024));
    const rows =
      volume === undefined
        ? await this.#query<AttributeRow>(undefined, `SELECT ${kAttributeColumns} FROM attributes ORDER BY volume, path, file_id`, [])
        : await this.#query<AttributeRow>(undefined, `SELECT ${kAttributeColumns} FROM attributes WHERE volume = $1 ORDER BY path, file_id`, [volume]);
    return rows.map(toAttributes);
  }

  async countAttributes(): Promise<number> {
    this.#assertOpen();
    const rows = await this.#query<{ n: number }>(undefined, 'SELECT count(*) AS n FROM attributes', []);
    return rows[0]!.n;
  }

  /** Moves a file or a folder (and everything below it); rows at or below `to` are replaced. Resolves with the rows moved. */
  rename(volume: string, from: string, to: string): Promise<number> {
    return this.#write(() => {
      checkRename(volume, from, to);
      return this.#statement(async (c) => {
        if (from === to) return 0;
        await c.query(`DELETE FROM attributes WHERE volume = $1 AND (path = $2 OR (path >= $2 || '/' AND path < $2 || '0'))`, [volume, to]);
        const one = await c.query('UPDATE attributes SET path = $3 WHERE volume = $1 AND path = $2', [volume, from, to]);
        const tree = await c.query(
          `UPDATE attributes SET path = $3 || substr(path, length($2) + 1) WHERE volume = $1 AND path >= $2 || '/' AND path < $2 || '0'`,
          [volume, from, to],
        );
        const moved = (one.rowCount ?? 0) + (tree.rowCount ?? 0);
        if (moved > 0) await notify(c, { v: volume });
        return moved;
      }, { v: volume });
    });
  }

  /** The file is gone: removes its row. Resolves with whether a row existed. */
  deleteFile(key: FileKey): Promise<boolean> {
    return this.#write(() => {
      checkFileKey(key);
      return this.#statement(async (c) => {
        const r = await c.query('DELETE FROM attributes WHERE volume = $1 AND file_id = $2', [key.volume, key.fileId]);
        if ((r.rowCount ?? 0) > 0) await notifyKeys(c, [[key.volume, key.fileId]]);
        return (r.rowCount ?? 0) > 0;
      }, { k: [[key.volume, key.fileId]] });
    });
  }

  /** The file or folder at `path` is gone: removes its row and every row below it. Resolves with the count. */
  deletePath(volume: string, path: string): Promise<number> {
    return this.#write(() => {
      checkDeletePath(volume, path);
      return this.#statement(async (c) => {
        const r = await c.query(`DELETE FROM attributes WHERE volume = $1 AND (path = $2 OR (path >= $2 || '/' AND path < $2 || '0'))`, [volume, path]);
        if ((r.rowCount ?? 0) > 0) await notify(c, { v: volume });
        return r.rowCount ?? 0;
      }, { v: volume });
    });
  }

  /** Sets or clears (administrator release) the quarantine flag, on every node. Resolves with whether the row existed. */
  setQuarantined(key: FileKey, quarantined: boolean): Promise<boolean> {
    return this.#write(() => {
      checkFileKey(key);
      if (typeof quarantined !== 'boolean') throw badArgument('quarantined', quarantined, 'a boolean');
      return this.#statement(async (c) => {
        const r = await c.query('UPDATE attributes SET quarantined = $3 WHERE volume = $1 AND file_id = $2', [key.volume, key.fileId, quarantined]);
        await notifyKeys(c, [[key.volume, key.fileId]]);
        return (r.rowCount ?? 0) > 0;
      }, { k: [[key.volume, key.fileId]] });
    });
  }

  /** ONTAP `cache_clear` on every node: files (of `volume`, or all) become non-current; history is kept. */
  clearCache(volume?: string): Promise<void> {
    return this.#write(() => {
      if (volume !== undefined) checkString('volume', volume, 1024);
      return this.#statement(async (c) => {
        if (volume === undefined) {
          await c.query("UPDATE meta SET value = value + 1 WHERE key = 'cache_generation'");
          await notify(c, { all: 1 });
        } else {
          await c.query('UPDATE attributes SET cache_gen = 0 WHERE volume = $1', [volume]);
          await notify(c, { v: volume });
        }
      }, volume === undefined ? { all: 1 } : { v: volume });
    });
  }

  // --- signature watermark ----------------------------------------------------------------------

  /** The cluster-wide signature watermark as this node last heard it (synchronous; updated by NOTIFY). */
  get signatureWatermark(): number {
    return this.#watermark;
  }

  /** Raises the cluster-wide watermark (never lowers it); every node hears it. Resolves with the watermark now in force. */
  async setSignatureWatermark(timestamp: number): Promise<number> {
    this.#assertOpen();
    this.#check(() => checkNumber('timestamp', timestamp));
    // The NOTIFY is sent only if the watermark rose, at the statement's commit.
    const rows = await this.#query<{ value: number }>(
      'avscan_raise_watermark',
      `WITH up AS (UPDATE meta SET value = $1 WHERE key = 'signature_watermark' AND value < $1 RETURNING value)
       SELECT value, pg_notify('${kCacheChannel}', json_build_object('w', value)::text) FROM up`,
      [timestamp],
    );
    if (rows[0] === undefined) return this.getSignatureWatermark();
    this.#raiseWatermark(rows[0]!.value);
    return this.#watermark;
  }

  /** Reads the watermark from PostgreSQL (and updates {@link signatureWatermark}). */
  async getSignatureWatermark(): Promise<number> {
    this.#assertOpen();
    const rows = await this.#query<{ value: number }>('avscan_get_watermark', "SELECT value FROM meta WHERE key = 'signature_watermark'", []);
    this.#raiseWatermark(rows[0]!.value);
    return this.#watermark;
  }

  // --- locks ------------------------------------------------------------------------------------

  /** Takes the scan lock of a file for `leaseMs` cluster-wide, or reports who holds it. Takes over an expired lease. */
  async acquireLock(key: FileKey, owner: string, scanId: string, leaseMs: number): Promise<AcquireResult> {
    this.#assertOpen();
    this.#check(() => {
      checkFileKey(key);
      checkString('owner', owner, 256);
      checkString('scanId', scanId, 256);
      checkCount('leaseMs', leaseMs, 86_400_000);
    });
    // The holder may release between our failed upsert and the read of its row: try again then.
    for (;;) {
      const took = await this.#query('avscan_acquire', kAcquireSql, [key.volume, key.fileId, this.nodeId, owner, scanId, leaseMs, this.#injectedNow()]);
      if (took.length > 0) return kAcquired;
      const holder = await this.lockHolder(key);
      if (holder !== undefined) return { acquired: false, holder };
    }
  }

  /** Extends our unexpired lease to now + `leaseMs`; false if the lock is no longer ours. */
  async renewLock(key: FileKey, owner: string, scanId: string, leaseMs: number): Promise<boolean> {
    this.#assertOpen();
    this.#check(() => {
      checkFileKey(key);
      checkCount('leaseMs', leaseMs, 86_400_000);
    });
    const r = await this.#run((p) => p.query({ name: 'avscan_renew', text: kRenewSql, values: [key.volume, key.fileId, this.nodeId, owner, scanId, leaseMs, this.#injectedNow()] }));
    return (r.rowCount ?? 0) > 0;
  }

  /** Releases our lock (waiters on every node wake); false if it was not ours. */
  async releaseLock(key: FileKey, owner: string, scanId: string): Promise<boolean> {
    this.#assertOpen();
    this.#check(() => checkFileKey(key));
    const r = await this.#run((p) => p.query({ name: 'avscan_release', text: kReleaseSql, values: [key.volume, key.fileId, this.nodeId, owner, scanId] }));
    return (r.rowCount ?? 0) > 0;
  }

  /** Who holds the lock of a file (even if its lease expired), or undefined. */
  async lockHolder(key: FileKey): Promise<LockHolder | undefined> {
    const row = await this.#holderRow(key);
    return row === undefined ? undefined : toHolder(row);
  }

  /**
   * Resolves `true` once the file's lock is released (on any node: woken by NOTIFY) or its lease has
   * expired, `false` after `timeoutMs`. A slow poll (`unlockPollMs`) covers a lost notification, and a
   * timer fires at the lease's end. Database errors while waiting do not end the wait (the timeout does).
   */
  waitForUnlock(key: FileKey, timeoutMs: number): Promise<boolean> {
    try {
      this.#assertOpen();
      this.#check(() => {
        checkFileKey(key);
        checkCount('timeoutMs', timeoutMs, 86_400_000);
      });
    } catch (err) {
      return Promise.reject(err);
    }
    const k = cacheKey(key.volume, key.fileId);
    return new Promise<boolean>((resolve) => {
      let done = false;
      let leaseTimer: NodeJS.Timeout | undefined;
      const finish = (unlocked: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        clearInterval(poll);
        if (leaseTimer !== undefined) clearTimeout(leaseTimer);
        const set = this.#waiters.get(k);
        set?.delete(waiter);
        if (set?.size === 0) this.#waiters.delete(k);
        resolve(unlocked);
      };
      const check = (): void => {
        if (done || this.#closed) return;
        this.#holderRow(key).then(
          (row) => {
            if (row === undefined || row.expires_at <= row.now) return finish(true);
            if (leaseTimer !== undefined) clearTimeout(leaseTimer);
            leaseTimer = setTimeout(check, Math.max(1, row.expires_at - row.now + 1));
          },
          () => {}, // PostgreSQL unreachable: keep waiting; the poll retries and the deadline bounds us.
        );
      };
      // A notification means the lock ended: no need to read it back.
      const waiter: Waiter = { wake: () => (this.#closed ? finish(false) : finish(true)), recheck: check };
      let set = this.#waiters.get(k);
      if (set === undefined) this.#waiters.set(k, (set = new Set()));
      set.add(waiter);
      const deadline = setTimeout(() => finish(false), timeoutMs);
      const poll = setInterval(check, this.options.unlockPollMs);
      // Registered before the first read: a release committed in between still wakes us.
      check();
    });
  }

  // --- events and server status -----------------------------------------------------------------

  /** Appends an event; resolves with its id once committed (group commit). */
  appendEvent(event: EventInput): Promise<number> {
    return this.#write(() => {
      const params = normalizeEvent(event, this.#now());
      return this.#statement(async (c) => {
        const r = await c.query<{ id: number }>({
          name: 'avscan_append_event',
          text: 'INSERT INTO events (time, type, server, svm, node, file_path, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
          values: params,
        });
        return r.rows[0]!.id;
      });
    });
  }

  async queryEvents(query?: EventQuery): Promise<Page<EventRecord>> {
    this.#assertOpen();
    const { orderBy, max, params: p } = this.#check(() => eventQueryParams(query));
    const asc = orderBy === 'time asc';
    const rows = await this.#query<EventRow>(
      asc ? 'avscan_events_asc' : 'avscan_events_desc',
      `SELECT id, time, type, server, svm, node, file_path, reason, details FROM events
       WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR server = $2) AND ($3::text IS NULL OR svm = $3)
         AND ($4::text IS NULL OR node = $4) AND ($5::text IS NULL OR file_path = $5) AND ($6::text IS NULL OR reason = $6)
         AND ($7::float8 IS NULL OR time >= $7) AND ($8::float8 IS NULL OR time <= $8)
         AND ($9::float8 IS NULL OR time ${asc ? '>' : '<'} $9 OR (time = $9 AND id ${asc ? '>' : '<'} $10::bigint))
       ORDER BY time ${asc ? 'ASC' : 'DESC'}, id ${asc ? 'ASC' : 'DESC'} LIMIT $11::bigint OFFSET $12::bigint`,
      [p['type'], p['server'], p['svm'], p['node'], p['filePath'], p['reason'], p['since'], p['until'], p['cTime'], p['cId'], p['limit'] === -1 ? null : p['limit'], p['offset']],
    );
    return eventPage(rows, max);
  }

  /** Upserts the status of one scanner server as seen from (svm, node); resolves once committed. */
  upsertServerStatus(status: ServerStatusInput): Promise<void> {
    return this.#write(() => {
      const s = normalizeServerStatus(status, this.#now());
      return this.#statement(async (c) => {
        await c.query({
          name: 'avscan_upsert_server',
          text: `INSERT INTO server_status (svm, node, ip, state, type, update_time, vendor, version, disconnected_reason, message, signature)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (svm, node, ip) DO UPDATE SET state = excluded.state, type = excluded.type,
              update_time = excluded.update_time, vendor = coalesce(excluded.vendor, server_status.vendor),
              version = coalesce(excluded.version, server_status.version), disconnected_reason = excluded.disconnected_reason,
              message = excluded.message, signature = coalesce(excluded.signature, server_status.signature)`,
          values: [s['svm'], s['node'], s['ip'], s['state'], s['type'], s['updateTime'], s['vendor'], s['version'], s['disconnectedReason'], s['message'], s['signature']],
        });
      });
    });
  }

  async queryServerStatus(query?: ServerStatusQuery): Promise<Page<ServerStatusRecord>> {
    this.#assertOpen();
    const { orderBy, params: p } = this.#check(() => serverStatusQueryParams(query));
    const order = orderBy === 'ip asc' ? 'ip ASC, svm, node' : `update_time ${orderBy === 'update_time asc' ? 'ASC' : 'DESC'}, svm, node, ip`;
    const rows = await this.#query<ServerStatusRow>(
      undefined,
      `SELECT svm, node, ip, state, type, update_time, vendor, version, disconnected_reason, message, signature FROM server_status
       WHERE ($1::text IS NULL OR svm = $1) AND ($2::text IS NULL OR node = $2) AND ($3::text IS NULL OR ip = $3)
         AND ($4::text IS NULL OR state = $4) AND ($5::text IS NULL OR type = $5) AND ($6::text IS NULL OR disconnected_reason = $6)
       ORDER BY ${order} LIMIT $7::bigint`,
      [p['svm'], p['node'], p['ip'], p['state'], p['type'], p['reason'], p['limit'] === -1 ? null : p['limit']],
    );
    const records = rows.map(toServerStatus);
    return { records, numRecords: records.length };
  }

  // --- reports (each its own statement, not group-committed: rare, and the caller needs the id) -----

  async createReport(input: ReportInput): Promise<Report> {
    this.#assertOpen();
    const [id, kind, policy, start, response] = this.#check(() => normalizeReportInput(input, this.#now()));
    await this.#query(undefined, "INSERT INTO reports (id, kind, policy, start_time, state, response) VALUES ($1, $2, $3, $4, 'running', $5)", [
      id,
      kind,
      policy,
      start,
      response,
    ]);
    return (await this.getReport(id))!;
  }

  /** Adds to a report's counters (files scanned, bytes, failures). Aggregate before calling. */
  async addReportProgress(id: string, progress: ReportProgress): Promise<void> {
    this.#assertOpen();
    const [files, bytes, fails] = this.#check(() => normalizeReportProgress(progress));
    this.#check(() => checkString('id', id, 256));
    const r = await this.#run((p) =>
      p.query('UPDATE reports SET files_scanned = files_scanned + $1, total_bytes = total_bytes + $2, scan_fails = scan_fails + $3 WHERE id = $4', [files, bytes, fails, id]),
    );
    if ((r.rowCount ?? 0) === 0) throw classifyPgError(reportNotFound(id));
  }

  /** Adds one infected file and bumps the infected count, atomically. */
  async addReportInfection(id: string, infection: InfectionInput): Promise<void> {
    this.#assertOpen();
    const time = this.#check(() => normalizeInfection(infection, this.#now()));
    this.#check(() => checkString('id', id, 256));
    const r = await this.#run((p) =>
      p.query(
        `WITH bump AS (UPDATE reports SET infected_count = infected_count + 1 WHERE id = $1 RETURNING infected_count)
         INSERT INTO report_infections (report_id, seq, file_path, threats, response, time) SELECT $1, infected_count, $2, $3, $4, $5 FROM bump`,
        [id, infection.filePath, JSON.stringify(infection.threats), infection.response, time],
      ),
    );
    if ((r.rowCount ?? 0) === 0) throw classifyPgError(reportNotFound(id));
  }

  async finishReport(id: string, state: Exclude<ReportState, 'running'>, endTime?: number): Promise<Report> {
    this.#assertOpen();
    const end = this.#check(() => normalizeReportFinish(state, endTime, this.#now()));
    this.#check(() => checkString('id', id, 256));
    const r = await this.#run((p) => p.query('UPDATE reports SET state = $1, end_time = $2 WHERE id = $3', [state, end, id]));
    if ((r.rowCount ?? 0) === 0) throw classifyPgError(reportNotFound(id));
    return (await this.getReport(id))!;
  }

  async getReport(id: string): Promise<Report | undefined> {
    this.#assertOpen();
    this.#check(() => checkString('id', id, 256));
    const rows = await this.#query<ReportRow>(undefined, `SELECT ${kReportColumns} FROM reports WHERE id = $1`, [id]);
    if (rows[0] === undefined) return undefined;
    const inf = await this.#query<InfectionRow>(undefined, 'SELECT file_path, threats, response, time FROM report_infections WHERE report_id = $1 ORDER BY seq', [id]);
    return toReport(rows[0], inf.map(toInfection), this.#now());
  }

  async listReports(query?: ReportQuery): Promise<Page<Report>> {
    this.#assertOpen();
    const p = this.#check(() => reportQueryParams(query));
    const rows = await this.#query<ReportRow>(
      undefined,
      `SELECT ${kReportColumns} FROM reports
       WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR state = $2) AND ($7::text IS NULL OR policy = $7)
         AND ($3::float8 IS NULL OR start_time >= $3) AND ($4::float8 IS NULL OR start_time <= $4)
       ORDER BY start_time DESC, id LIMIT $5::bigint OFFSET $6::bigint`,
      [p['kind'], p['state'], p['since'], p['until'], p['limit'] === -1 ? null : p['limit'], p['offset'], p['policy']],
    );
    const now = this.#now();
    const records = rows.map((r) => toReport(r, [], now));
    return { records, numRecords: records.length };
  }

  /** Infected files across reports, newest first (OneFS `reports/threats`). */
  async listInfections(query?: InfectionQuery): Promise<Page<InfectionRecord>> {
    this.#assertOpen();
    const p = this.#check(() => infectionQueryParams(query));
    const rows = await this.#query<InfectionRecordRow>(
      undefined,
      `SELECT i.report_id, i.seq, i.file_path, i.threats, i.response, i.time, r.policy
       FROM report_infections i JOIN reports r ON r.id = i.report_id
       WHERE ($1::text IS NULL OR i.report_id = $1) AND ($2::text IS NULL OR i.file_path = $2) AND ($3::text IS NULL OR i.response = $3)
         AND ($4::float8 IS NULL OR i.time >= $4) AND ($5::float8 IS NULL OR i.time <= $5)
       ORDER BY i.time DESC, i.report_id, i.seq LIMIT $6::bigint OFFSET $7::bigint`,
      [p['reportId'], p['filePath'], p['response'], p['since'], p['until'], p['limit'] === -1 ? null : p['limit'], p['offset']],
    );
    const records = rows.map(toInfectionRecord);
    return { records, numRecords: records.length };
  }

  async deleteReport(id: string): Promise<boolean> {
    this.#assertOpen();
    this.#check(() => checkString('id', id, 256));
    const r = await this.#run((p) => p.query('DELETE FROM reports WHERE id = $1', [id]));
    return (r.rowCount ?? 0) > 0;
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /** Resolves when every write queued before the call has settled. */
  async flush(): Promise<void> {
    await this.#committer.flush();
  }

  /** Drains queued writes, wakes waiters (false), stops LISTEN and closes the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#committer.flush();
    this.#closed = true;
    for (const set of [...this.#waiters.values()]) for (const w of [...set]) w.wake();
    await this.#listener.close();
    await this.#pool.end().catch(() => {});
  }

  // --- internals --------------------------------------------------------------------------------

  /** First LISTEN (openPgStore only): a store that cannot hear the cluster is not opened. */
  async [kStartListening](): Promise<void> {
    await this.#listener.start();
  }

  async [kStopListening](): Promise<void> {
    await this.#listener.close();
  }

  #now(): number {
    return this.options.clock === undefined ? Date.now() : this.options.clock();
  }

  /** The injected clock for lease SQL, or null: PostgreSQL's clock decides. */
  #injectedNow(): number | null {
    return this.options.clock === undefined ? null : this.options.clock();
  }

  async #holderRow(key: FileKey): Promise<LockRow | undefined> {
    this.#assertOpen();
    this.#check(() => checkFileKey(key));
    const rows = await this.#query<LockRow>('avscan_lock_holder', kHolderSql, [key.volume, key.fileId, this.#injectedNow()]);
    return rows[0];
  }

  #raiseWatermark(value: number): void {
    if (value > this.#watermark) this.#watermark = value;
  }

  #wakeWaiters(key: string): void {
    const set = this.#waiters.get(key);
    if (set !== undefined) for (const w of [...set]) w.wake();
  }

  #applyCacheMessage(m: CacheMessage): void {
    if (m.all !== undefined) this.#cache.invalidateAll();
    if (typeof m.v === 'string') this.#cache.invalidateVolume(m.v);
    if (Array.isArray(m.k)) for (const [v, f] of m.k) this.#cache.invalidateKey(cacheKey(String(v), String(f)));
    if (typeof m.w === 'number') this.#raiseWatermark(m.w);
  }

  /** After COMMIT, in call order: our own records fill the cache, our own invalidations apply at once (not waiting for our NOTIFY). */
  #committed(writes: readonly Write[], epoch: number): void {
    for (const w of writes) {
      if (w.kind === 'record') {
        const attrs = recordAttributes(w.params);
        const key = cacheKey(attrs.volume, attrs.fileId);
        if (w.notify) this.#cache.invalidateKey(key);
        else this.#cache.fill(key, attrs, epoch);
      } else {
        if (w.local !== undefined) this.#applyCacheMessage(w.local);
      }
    }
  }

  #statement(run: (c: pg.ClientBase) => Promise<unknown>, local?: CacheMessage): Write {
    return { kind: 'statement', run, local };
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorePgError(StorePgErrorCodes.CLOSED, `store on ${this.server} is closed`, { target: this.server });
  }

  /** Runs a validation: its StoreError becomes this catalog's error. */
  #check<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw classifyPgError(err, this.server);
    }
  }

  async #run<R>(fn: (pool: pg.Pool) => Promise<R>): Promise<R> {
    try {
      return await fn(this.#pool);
    } catch (err) {
      throw classifyPgError(err, this.server);
    }
  }

  async #query<R extends object>(name: string | undefined, text: string, values: unknown[]): Promise<R[]> {
    const r = await this.#run((p) => p.query<R & pg.QueryResultRow>(name === undefined ? { text, values } : { name, text, values }));
    return r.rows;
  }

  #write<T>(prepare: () => Write): Promise<T> {
    let write: Write;
    try {
      this.#assertOpen();
      write = prepare();
    } catch (err) {
      return Promise.reject(classifyPgError(err, this.server));
    }
    return this.#committer.enqueue<T>(write);
  }
}

const kReportColumns = 'id, kind, policy, start_time, end_time, files_scanned, total_bytes, scan_fails, infected_count, state, response';

async function notify(c: pg.ClientBase, message: CacheMessage): Promise<void> {
  await c.query(`SELECT pg_notify('${kCacheChannel}', $1)`, [JSON.stringify(message)]);
}
