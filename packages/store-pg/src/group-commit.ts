// Group commit on PostgreSQL: writes are queued and applied together in one transaction on one pooled
// connection; a write's promise settles only after COMMIT returned (or the batch failed), so an
// acknowledged write is durable on the server (synchronous_commit as configured there).
//
// Throughput comes from round trips, not rows: consecutive scan records of a batch become ONE
// statement — a multi-row upsert (`unnest` of arrays, last write per file wins, rows in key order so
// two nodes' batches lock rows in the same order and cannot deadlock each other) with the lock
// releases and cache NOTIFYs as CTEs. A batch of records only needs no BEGIN/COMMIT at all. Other
// writes (rename, delete, events, …) run one statement each, in call order, inside BEGIN/COMMIT.
//
// Two batches may be in flight at once, so one node's next batch executes while the previous one waits
// for its WAL flush. Order per file is kept: a second batch starts only if it is full, holds records
// only, and touches no file of the batch in flight; any other write (rename, delete, event, …) waits
// until nothing is in flight and holds back everything queued after it.
//
// Failures: a statement refused for its own data (a constraint) fails alone: the transaction is rolled
// back and re-run without it. A deadlock or serialization failure re-runs the batch (up to 3 times).
// Anything else (PostgreSQL down, connection lost) fails the whole batch; if the connection broke
// during COMMIT the outcome is unknown, and the writes fail with ERR_STOREPG_COMMIT_UNKNOWN.
import type pg from 'pg';
import type { CacheMessage } from './listener.js';
import { classifyPgError, StorePgError, StorePgErrorCodes } from './errors.js';

/** A scan record: `params` from normalizeScanRecord; `release` = [owner, scanId] of the lock to release with it. */
export interface RecordWrite {
  readonly kind: 'record';
  readonly params: readonly unknown[];
  readonly release: readonly [string, string] | undefined;
  /** The record makes a cached "clean" stale on other nodes (not clean, or quarantined): NOTIFY. */
  readonly notify: boolean;
}

/** Any other write: one statement (or a few) on the batch's connection. */
export interface StatementWrite {
  readonly kind: 'statement';
  readonly run: (client: pg.ClientBase) => Promise<unknown>;
  /** This node's own cache invalidation, applied right after COMMIT (its NOTIFY comes back later). */
  readonly local: CacheMessage | undefined;
}

export type Write = RecordWrite | StatementWrite;

interface Pending {
  readonly write: Write;
  readonly resolve: (value: never) => void;
  readonly reject: (err: StorePgError) => void;
}

/** Called after a batch committed, with the writes in call order and the cache epoch at BEGIN. */
export type CommittedHook = (writes: readonly Write[], epochAtBegin: number) => void;

const kMaxConflictRetries = 3;
/** Batches of one node committing at once (see the header). */
const kMaxInFlight = 2;

interface InFlight {
  /** Files the batch writes, or null if it holds anything but records (a barrier). */
  readonly keys: ReadonlySet<string> | null;
  done: Promise<void>;
}

function recordKeys(batch: readonly Pending[]): Set<string> | null {
  const keys = new Set<string>();
  for (const p of batch) {
    if (p.write.kind !== 'record') return null;
    keys.add(`${p.write.params[0] as string}\u0000${p.write.params[1] as string}`);
  }
  return keys;
}

class StatementFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super('a write of the batch failed', { cause: error });
  }
}

export class PgGroupCommitter {
  readonly #pool: pg.Pool;
  readonly #server: string;
  readonly #node: string;
  readonly #maxRows: number;
  readonly #maxDelayMs: number;
  readonly #onCommitted: CommittedHook;
  readonly #epoch: () => number;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<InFlight>();

  constructor(pool: pg.Pool, server: string, node: string, maxRows: number, maxDelayMs: number, epoch: () => number, onCommitted: CommittedHook) {
    this.#pool = pool;
    this.#server = server;
    this.#node = node;
    this.#maxRows = maxRows;
    this.#maxDelayMs = maxDelayMs;
    this.#epoch = epoch;
    this.#onCommitted = onCommitted;
  }

  /** Writes queued and not yet in a transaction. */
  get pending(): number {
    return this.#pending.length;
  }

  enqueue<T>(write: Write): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ write, resolve: resolve as (value: never) => void, reject });
      if (this.#pending.length >= this.#maxRows) this.#kick(false);
      else if (this.#timer === undefined && this.#inFlight.size === 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#kick(true);
        }, this.#maxDelayMs);
      }
    });
  }

  /** Resolves when every write queued before the call has settled. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#inFlight.size > 0) {
      this.#kick(true);
      await Promise.all([...this.#inFlight].map((f) => f.done));
    }
  }

  /** Starts batches while a slot is free; `partial` allows the first one to be less than full. */
  #kick(partial: boolean): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#pending.length > 0 && this.#inFlight.size < kMaxInFlight) {
      if (!partial && this.#pending.length < this.#maxRows) return;
      const batch = this.#pending.length <= this.#maxRows ? this.#pending : this.#pending.slice(0, this.#maxRows);
      const keys = recordKeys(batch);
      if (!this.#canStart(keys)) return;
      this.#pending = batch === this.#pending ? [] : this.#pending.slice(this.#maxRows);
      const entry: InFlight = { keys, done: Promise.resolve() };
      entry.done = this.#commit(batch).finally(() => {
        this.#inFlight.delete(entry);
        // Whatever queued meanwhile has waited at least one commit: send it now.
        if (this.#pending.length > 0) this.#kick(true);
      });
      this.#inFlight.add(entry);
      partial = false;
    }
  }

  #canStart(keys: ReadonlySet<string> | null): boolean {
    if (this.#inFlight.size === 0) return true;
    if (keys === null) return false;
    for (const f of this.#inFlight) {
      if (f.keys === null) return false;
      for (const k of keys) if (f.keys.has(k)) return false;
    }
    return true;
  }

  async #commit(batch: Pending[]): Promise<void> {
    let remaining = batch;
    let conflicts = 0;
    while (remaining.length > 0) {
      let client: pg.PoolClient;
      try {
        client = await checkout(this.#pool);
      } catch (err) {
        const coded = classifyPgError(err, this.#server);
        for (const p of remaining) p.reject(coded);
        return;
      }
      let committing = false;
      try {
        const epoch = this.#epoch();
        let results: unknown[];
        if (remaining.every((p) => p.write.kind === 'record')) {
          // Records only (the common batch): one atomic statement; if the connection breaks during it,
          // its outcome is as unknown as a cut COMMIT's.
          committing = true;
          await client.query(recordsStatement(this.#node, remaining.map((p) => p.write as RecordWrite)));
          results = new Array(remaining.length);
        } else {
          await client.query('BEGIN');
          results = await this.#apply(client, remaining);
          committing = true;
          await client.query('COMMIT');
        }
        checkin(client);
        this.#onCommitted(
          remaining.map((p) => p.write),
          epoch,
        );
        for (let i = 0; i < remaining.length; i++) remaining[i]!.resolve(results[i] as never);
        return;
      } catch (caught) {
        const failure = caught instanceof StatementFailure ? caught : undefined;
        const coded = classifyPgError(failure?.error ?? caught, this.#server);
        const connectionLost = coded.code === StorePgErrorCodes.UNAVAILABLE || coded.code === StorePgErrorCodes.TIMEOUT;
        if (connectionLost) {
          // A broken connection must not go back to the pool.
          checkin(client, caught instanceof Error ? caught : new Error(String(caught)));
          const final = committing
            ? new StorePgError(StorePgErrorCodes.COMMIT_UNKNOWN, `connection to PostgreSQL at ${this.#server} lost during COMMIT: the batch may or may not be committed`, { cause: caught, target: this.#server })
            : coded;
          for (const p of remaining) p.reject(final);
          return;
        }
        await client.query('ROLLBACK').catch(() => {});
        checkin(client);
        if (coded.code === StorePgErrorCodes.CONFLICT && conflicts++ < kMaxConflictRetries) continue;
        if (failure !== undefined && failure.index >= 0 && isOwnFault(coded)) {
          remaining[failure.index]!.reject(coded);
          remaining = remaining.filter((_, i) => i !== failure.index);
          continue;
        }
        for (const p of remaining) p.reject(coded);
        return;
      }
    }
  }

  /** Runs the batch inside the open transaction; returns each write's result in order. */
  async #apply(client: pg.ClientBase, batch: readonly Pending[]): Promise<unknown[]> {
    const results: unknown[] = new Array(batch.length);
    let i = 0;
    while (i < batch.length) {
      const w = batch[i]!.write;
      if (w.kind === 'statement') {
        try {
          results[i] = await w.run(client);
        } catch (err) {
          throw new StatementFailure(i, err);
        }
        i++;
        continue;
      }
      let end = i;
      while (end < batch.length && batch[end]!.write.kind === 'record') end++;
      try {
        await this.#applyRecords(client, batch.slice(i, end).map((p) => p.write as RecordWrite));
      } catch (err) {
        throw new StatementFailure(end - i === 1 ? i : -1, err);
      }
      i = end;
    }
    return results;
  }

  async #applyRecords(client: pg.ClientBase, records: readonly RecordWrite[]): Promise<void> {
    await client.query(recordsStatement(this.#node, records));
  }
}

// A checked-out pooled client has no 'error' listener (the pool removes its own until release): a
// server shutdown arriving between two statements would be an unhandled 'error' event and kill the
// process. The statement in progress fails anyway, which is how we learn of it.
const kIgnore = (): void => {};

export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  client.on('error', kIgnore);
  return client;
}

/** Returns a client to the pool; with `err` the pool destroys it (its connection is broken). */
export function checkin(client: pg.PoolClient, err?: Error): void {
  client.removeListener('error', kIgnore);
  client.release(err);
}

/** Errors caused by one write's own data: that write fails alone, the others are re-run. */
function isOwnFault(err: StorePgError): boolean {
  return err.code === StorePgErrorCodes.CONSTRAINT || err.code === StorePgErrorCodes.INVALID_ARGUMENT || err.code === StorePgErrorCodes.NOT_FOUND;
}

/**
 * One statement for a run of scan records: the multi-row upsert, the lock releases, and the cache
 * NOTIFYs, as data-modifying CTEs. Alone in a batch it needs no BEGIN/COMMIT (a statement is atomic):
 * one round trip for the whole batch.
 */
export function recordsStatement(node: string, records: readonly RecordWrite[]): pg.QueryConfig {
  // Last write per file wins (an upsert replaces every column); one statement cannot touch a row twice.
  const last = new Map<string, RecordWrite>();
  for (const r of records) last.set(`${r.params[0] as string}\u0000${r.params[1] as string}`, r);
  const rows = [...last.values()];
  const cols: unknown[][] = Array.from({ length: 10 }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const p = rows[r]!.params;
    for (let c = 0; c < 8; c++) cols[c]![r] = p[c];
    cols[8]![r] = p[8] === 1;
    cols[9]![r] = p[9];
  }
  const releases = records.filter((r) => r.release !== undefined);
  const stale = records.filter((r) => r.notify).map((r) => [r.params[0] as string, r.params[1] as string] as const);
  return {
    name: 'avscan_record_batch',
    text: `WITH up AS (
        INSERT INTO attributes (volume, file_id, path, scan_time, scan_result, threats, sig_timestamp, change_stamp, quarantined, sig_stamp, cache_gen)
        SELECT u.*, (SELECT value FROM meta WHERE key = 'cache_generation')
        FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::float8[], $8::text[], $9::bool[], $10::text[]) AS u
        ORDER BY 1, 2
        ON CONFLICT (volume, file_id) DO UPDATE SET
          path = excluded.path, scan_time = excluded.scan_time, scan_result = excluded.scan_result,
          threats = excluded.threats, sig_timestamp = excluded.sig_timestamp, sig_stamp = excluded.sig_stamp, change_stamp = excluded.change_stamp,
          quarantined = excluded.quarantined, cache_gen = excluded.cache_gen
        RETURNING 1),
      released AS (
        DELETE FROM locks l USING unnest($11::text[], $12::text[], $13::text[], $14::text[]) AS r (volume, file_id, owner, scan_id)
        WHERE l.volume = r.volume AND l.file_id = r.file_id AND l.node = $15 AND l.owner = r.owner AND l.scan_id = r.scan_id
        RETURNING 1)
      SELECT (SELECT count(*) FROM up) AS upserted, (SELECT count(*) FROM released) AS released,
        (SELECT count(*) FROM (SELECT pg_notify('avscan_cache', payload) FROM unnest($16::text[]) AS payload) AS sent) AS notified`,
    values: [
      ...cols,
      releases.map((r) => r.params[0]),
      releases.map((r) => r.params[1]),
      releases.map((r) => r.release![0]),
      releases.map((r) => r.release![1]),
      node,
      keyPayloads(stale),
    ],
  };
}

// NOTIFY payloads are limited to 8000 bytes: send keys in chunks well below it.
const kNotifyChunkBytes = 6000;

/** `{ k: [[volume, fileId], …] }` payloads, each below the NOTIFY size limit. */
function keyPayloads(keys: ReadonlyArray<readonly [string, string]>): string[] {
  const payloads: string[] = [];
  let chunk: Array<readonly [string, string]> = [];
  let bytes = 0;
  for (const key of keys) {
    const size = Buffer.byteLength(key[0]) + Buffer.byteLength(key[1]) + 8;
    if (bytes + size > kNotifyChunkBytes && chunk.length > 0) {
      payloads.push(JSON.stringify({ k: chunk }));
      chunk = [];
      bytes = 0;
    }
    chunk.push(key);
    bytes += size;
  }
  if (chunk.length > 0) payloads.push(JSON.stringify({ k: chunk }));
  return payloads;
}

/** Tells every node (at commit) that the cached attributes of these files are stale. */
export async function notifyKeys(client: pg.ClientBase, keys: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const payload of keyPayloads(keys)) await client.query("SELECT pg_notify('avscan_cache', $1)", [payload]);
}
