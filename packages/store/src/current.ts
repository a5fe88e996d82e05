// "Scan current" (SPEC §4) as pure functions: no I/O, so the engine can decide on the hot path from
// attributes it already holds, and the truth table is testable without a database.

/** Results a scan (or a failed attempt) can leave on a file. Only `clean` can ever be current. */
export const kScanResults = Object.freeze([
  'clean',
  'infected',
  'error',
  'timeout',
  'unavailable',
  'too-large-for-scanner',
  'unscanned',
] as const);

export type ScanResult = (typeof kScanResults)[number];

/** Identity of a file: stable across renames (volume + inode / file id). */
export interface FileKey {
  readonly volume: string;
  readonly fileId: string;
}

/** Scan attributes of one file, as stored. */
export interface Attributes {
  readonly volume: string;
  readonly fileId: string;
  /** Volume-relative path, `/`-separated (e.g. `/dir/a.doc`). */
  readonly path: string;
  /** When the scan started, epoch ms. */
  readonly scanTime: number;
  readonly scanResult: ScanResult;
  readonly threats: readonly string[];
  /** Signature version of the scanner that produced the result (epoch ms or any increasing number). */
  readonly sigTimestamp: number;
  /** The file's change stamp read at scan start ({@link changeStampOf}). */
  readonly changeStamp: string;
  readonly quarantined: boolean;
  /** False once `clearCache()` ran after this scan was recorded (ONTAP `cache_clear`). */
  readonly cacheValid: boolean;
}

export interface StatLike {
  readonly size: number | bigint;
  readonly mtimeNs: number | bigint;
  readonly ctimeNs: number | bigint;
  readonly ino: number | bigint | string;
}

/**
 * The change stamp of a file: size + mtime (ns) + ctime (ns) + inode. Any write, truncate, `touch` or
 * replacement of the file changes it. Pass values from `fs.stat(path, { bigint: true })` so nanoseconds
 * are not rounded away.
 */
export function changeStampOf(stats: StatLike): string {
  return `${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}:${stats.ino}`;
}

/**
 * SPEC §4: current ⇔ last result clean AND live change stamp equals the stored one AND the stored
 * signature timestamp is not older than the watermark. A quarantined file, a file never scanned
 * (`undefined`) and a file whose cache was cleared are never current.
 */
export function isScanCurrent(attrs: Attributes | undefined, liveChangeStamp: string, signatureWatermark: number): boolean {
  return (
    attrs !== undefined &&
    attrs.scanResult === 'clean' &&
    !attrs.quarantined &&
    attrs.cacheValid &&
    attrs.changeStamp === liveChangeStamp &&
    attrs.sigTimestamp >= signatureWatermark
  );
}

export type ScanStatus = 'current' | 'not_current';

/** OneFS `scan_status` of a file. */
export function scanStatus(attrs: Attributes | undefined, liveChangeStamp: string, signatureWatermark: number): ScanStatus {
  return isScanCurrent(attrs, liveChangeStamp, signatureWatermark) ? 'current' : 'not_current';
}
