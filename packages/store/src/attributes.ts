// The attributes table: scan results keyed by file identity, with the path kept for lookups and
// renames. Methods here are synchronous and run inside a group-commit transaction (writes) or alone
// (reads); the Store facade decides which.
//
// Cache clearing: `meta.cache_generation` is a counter; each row stores the generation it was recorded
// under (`cache_gen`), and a row's scan mark is valid only while the two are equal. `clearCache()`
// bumps the counter: O(1), keeps every row's history (result, threats, stamps), and other processes
// sharing the file see it on their next read. Clearing one volume sets that volume's rows to
// generation 0, which is never current (the counter starts at 1).
import type Database from 'better-sqlite3';
import type { Attributes, FileKey, RecordedResult } from './current.js';
import { kScanResults } from './current.js';
import { badArgument, checkNumber, checkPath, checkString, checkStringArray } from './validate.js';

/** What the engine records after a scan (or a failed attempt). */
export interface ScanRecord {
  readonly volume: string;
  readonly fileId: string;
  readonly path: string;
  readonly scanResult: RecordedResult;
  /** Change stamp read at scan start ({@link changeStampOf}). */
  readonly changeStamp: string;
  /** Signature version of the scanner that answered (0 when it reports none). */
  readonly sigTimestamp: number;
  /** Signature stamp of the scanner that answered (ICAP ISTag). @default null */
  readonly sigStamp?: string | null;
  /** @default [] */
  readonly threats?: readonly string[];
  /** Scan start, epoch ms. @default the store clock */
  readonly scanTime?: number;
  /** @default scanResult === 'infected' (SPEC §8: an infected file is quarantined) */
  readonly quarantined?: boolean;
}

export interface AttributeRow {
  volume: string;
  file_id: string;
  path: string;
  scan_time: number;
  scan_result: RecordedResult;
  threats: string;
  sig_timestamp: number;
  change_stamp: string;
  quarantined: number;
  cache_valid: number;
  sig_stamp: string | null;
}

const kNoThreats: readonly string[] = Object.freeze([]);
const kResultSet: ReadonlySet<string> = new Set(kScanResults);
const kColumns = `volume, file_id, path, scan_time, scan_result, threats, sig_timestamp, sig_stamp, change_stamp, quarantined,
  cache_gen = (SELECT value FROM meta WHERE key = 'cache_generation') AS cache_valid`;

export function toAttributes(row: AttributeRow): Attributes {
  // Same property order for every object: one hidden class on the lookup hot path.
  return {
    volume: row.volume,
    fileId: row.file_id,
    path: row.path,
    scanTime: row.scan_time,
    scanResult: row.scan_result,
    threats: row.threats === '[]' ? kNoThreats : (JSON.parse(row.threats) as string[]),
    sigTimestamp: row.sig_timestamp,
    sigStamp: row.sig_stamp,
    changeStamp: row.change_stamp,
    quarantined: row.quarantined === 1,
    cacheValid: row.cache_valid === 1,
  };
}

/** The row of `kColumns` as an array (`Statement.raw()`), in column order. */
type RawAttributeRow = [string, string, string, number, RecordedResult, string, number, string | null, string, number, number];

/**
 * {@link toAttributes} for a raw row: the lookup hot path (every access) skips building the
 * intermediate row object — better-sqlite3 creates an object with 11 named properties per row
 * otherwise, only to be copied into the Attributes object.
 */
function fromRaw(r: RawAttributeRow): Attributes {
  return {
    volume: r[0],
    fileId: r[1],
    path: r[2],
    scanTime: r[3],
    scanResult: r[4],
    threats: r[5] === '[]' ? kNoThreats : (JSON.parse(r[5]) as string[]),
    sigTimestamp: r[6],
    sigStamp: r[7],
    changeStamp: r[8],
    quarantined: r[9] === 1,
    cacheValid: r[10] === 1,
  };
}

/** Validates a rename of a file or folder on `volume` (not the root, not into or above itself). */
export function checkRename(volume: string, from: string, to: string): void {
  checkString('volume', volume, 1024);
  checkPath('from', from);
  checkPath('to', to);
  if (from === '/' || to === '/') throw badArgument(from === '/' ? 'from' : 'to', '/', 'a path below the volume root');
  if (to.startsWith(`${from}/`) || from.startsWith(`${to}/`)) {
    throw badArgument('to', to, `a path neither above nor below \`${from}\``);
  }
}

/** Validates the removal of a file or folder below the volume root. */
export function checkDeletePath(volume: string, path: string): void {
  checkString('volume', volume, 1024);
  checkPath('path', path);
  if (path === '/') throw badArgument('path', path, 'a path below the volume root');
}

export function checkFileKey(key: unknown): FileKey {
  if (key === null || typeof key !== 'object') throw badArgument('fileKey', key, 'an object `{ volume, fileId }`');
  const { volume, fileId } = key as FileKey;
  checkString('volume', volume, 1024);
  checkString('fileId', fileId, 1024);
  return key as FileKey;
}

/** Validates and fills defaults; throws before anything is queued. */
export function normalizeScanRecord(rec: ScanRecord, now: number): unknown[] {
  if (rec === null || typeof rec !== 'object') throw badArgument('record', rec, 'a scan record object');
  checkString('volume', rec.volume, 1024);
  checkString('fileId', rec.fileId, 1024);
  checkPath('path', rec.path);
  if (!kResultSet.has(rec.scanResult)) throw badArgument('scanResult', rec.scanResult, `one of ${kScanResults.join(', ')}`);
  checkString('changeStamp', rec.changeStamp, 1024);
  checkNumber('sigTimestamp', rec.sigTimestamp);
  const sigStamp = rec.sigStamp === undefined || rec.sigStamp === null ? null : checkString('sigStamp', rec.sigStamp, 1024);
  const threats = rec.threats === undefined ? kNoThreats : checkStringArray('threats', rec.threats);
  const scanTime = rec.scanTime === undefined ? now : checkNumber('scanTime', rec.scanTime);
  const quarantined = rec.quarantined ?? rec.scanResult === 'infected';
  if (typeof quarantined !== 'boolean') throw badArgument('quarantined', quarantined, 'a boolean');
  return [
    rec.volume,
    rec.fileId,
    rec.path,
    scanTime,
    rec.scanResult,
    threats.length === 0 ? '[]' : JSON.stringify(threats),
    rec.sigTimestamp,
    rec.changeStamp,
    quarantined ? 1 : 0,
    sigStamp,
  ];
}

export class AttributeTable {
  readonly #upsert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #getByPath: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #deletePath: Database.Statement;
  readonly #deleteTree: Database.Statement;
  readonly #moveOne: Database.Statement;
  readonly #moveTree: Database.Statement;
  readonly #setQuarantined: Database.Statement;
  readonly #bumpGeneration: Database.Statement;
  readonly #clearVolume: Database.Statement;
  readonly #listAll: Database.Statement;
  readonly #listVolume: Database.Statement;
  readonly #count: Database.Statement;

  constructor(db: Database.Database) {
    this.#upsert = db.prepare(`
      INSERT INTO attributes (volume, file_id, path, scan_time, scan_result, threats, sig_timestamp, change_stamp, quarantined, sig_stamp, cache_gen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT value FROM meta WHERE key = 'cache_generation'))
      ON CONFLICT (volume, file_id) DO UPDATE SET
        path = excluded.path, scan_time = excluded.scan_time, scan_result = excluded.scan_result,
        threats = excluded.threats, sig_timestamp = excluded.sig_timestamp, sig_stamp = excluded.sig_stamp, change_stamp = excluded.change_stamp,
        quarantined = excluded.quarantined, cache_gen = excluded.cache_gen`);
    this.#get = db.prepare(`SELECT ${kColumns} FROM attributes WHERE volume = ? AND file_id = ?`).raw();
    this.#getByPath = db.prepare(`SELECT ${kColumns} FROM attributes WHERE volume = ? AND path = ? ORDER BY file_id LIMIT 1`).raw();
    this.#delete = db.prepare('DELETE FROM attributes WHERE volume = ? AND file_id = ?');
    this.#deletePath = db.prepare('DELETE FROM attributes WHERE volume = ? AND path = ?');
    // Rows strictly below folder `p` are exactly those with `p/` <= path < `p0` ('0' follows '/').
    this.#deleteTree = db.prepare(`DELETE FROM attributes WHERE volume = @volume AND path >= @path || '/' AND path < @path || '0'`);
    this.#moveOne = db.prepare('UPDATE attributes SET path = @to WHERE volume = @volume AND path = @from');
    this.#moveTree = db.prepare(`UPDATE attributes SET path = @to || substr(path, length(@from) + 1)
      WHERE volume = @volume AND path >= @from || '/' AND path < @from || '0'`);
    this.#setQuarantined = db.prepare('UPDATE attributes SET quarantined = ? WHERE volume = ? AND file_id = ?');
    this.#bumpGeneration = db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'cache_generation'");
    this.#clearVolume = db.prepare('UPDATE attributes SET cache_gen = 0 WHERE volume = ?');
    this.#listAll = db.prepare(`SELECT ${kColumns} FROM attributes ORDER BY volume, path, file_id`);
    this.#listVolume = db.prepare(`SELECT ${kColumns} FROM attributes WHERE volume = ? ORDER BY path, file_id`);
    this.#count = db.prepare('SELECT count(*) AS n FROM attributes');
  }

  upsert(params: unknown[]): void {
    this.#upsert.run(params);
  }

  get(volume: string, fileId: string): Attributes | undefined {
    const row = this.#get.get(volume, fileId) as RawAttributeRow | undefined;
    return row === undefined ? undefined : fromRaw(row);
  }

  getByPath(volume: string, path: string): Attributes | undefined {
    const row = this.#getByPath.get(volume, path) as RawAttributeRow | undefined;
    return row === undefined ? undefined : fromRaw(row);
  }

  delete(volume: string, fileId: string): boolean {
    return this.#delete.run(volume, fileId).changes > 0;
  }

  /** Deletes the file at `path` and, if it is a folder, everything below it. */
  deletePath(volume: string, path: string): number {
    return this.#deletePath.run(volume, path).changes + this.#deleteTree.run({ volume, path }).changes;
  }

  /**
   * Moves `from` (a file, or a folder and everything below it) to `to`. Whatever was at `to` is
   * replaced, as rename(2) replaces its target. Returns how many rows moved.
   */
  rename(volume: string, from: string, to: string): number {
    if (from === to) return 0;
    this.#deletePath.run(volume, to);
    this.#deleteTree.run({ volume, path: to });
    const params = { volume, from, to };
    return this.#moveOne.run(params).changes + this.#moveTree.run(params).changes;
  }

  setQuarantined(volume: string, fileId: string, quarantined: boolean): boolean {
    return this.#setQuarantined.run(quarantined ? 1 : 0, volume, fileId).changes > 0;
  }

  clearCache(volume: string | undefined): void {
    if (volume === undefined) this.#bumpGeneration.run();
    else this.#clearVolume.run(volume);
  }

  list(volume: string | undefined): Attributes[] {
    const rows = (volume === undefined ? this.#listAll.all() : this.#listVolume.all(volume)) as AttributeRow[];
    return rows.map(toAttributes);
  }

  count(): number {
    return (this.#count.get() as { n: number }).n;
  }
}
