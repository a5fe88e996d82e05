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

export type RecordedResult = (typeof kScanResults)[number];

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
  readonly scanResult: RecordedResult;
  readonly threats: readonly string[];
  /** Signature version of the scanner that produced the result (epoch ms or any increasing number; 0 when it reports none). */
  readonly sigTimestamp: number;
  /** Signature stamp of that scanner (ICAP ISTag, clamd `ClamAV x/db/date`), `null` when unknown. */
  readonly sigStamp: string | null;
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

/** What the healthy active scanner servers report about their signatures now. */
export interface SignatureState {
  /** Newest signature time among them, epoch ms (0 when none reports one). */
  readonly timestamp: number;
  /** Current signature stamps of those that report no signature time (ICAP ISTags). */
  readonly stamps: ReadonlySet<string>;
}

/**
 * SPEC §4: current ⇔ last result clean AND live change stamp equals the stored one AND the
 * signatures it was scanned with are still current. Those are judged by the kind of server that
 * scanned it: one that reports a signature time (clamd, built-in) by time — not older than the
 * watermark; one that reports only a stamp (ICAP ISTag) by OneFS's rule — the stored stamp is one of
 * the healthy active servers' current stamps. A bare number is a watermark time. A quarantined file,
 * a file never scanned (`undefined`) and a file whose cache was cleared are never current.
 */
export function isScanCurrent(attrs: Attributes | undefined, liveChangeStamp: string, signatures: number | SignatureState): boolean {
  if (
    attrs === undefined ||
    attrs.scanResult !== 'clean' ||
    attrs.quarantined ||
    !attrs.cacheValid ||
    attrs.changeStamp !== liveChangeStamp
  ) return false;
  if (typeof signatures === 'number') return attrs.sigTimestamp >= signatures;
  if (attrs.sigTimestamp === 0 && attrs.sigStamp !== null) return signatures.stamps.has(attrs.sigStamp);
  return attrs.sigTimestamp >= signatures.timestamp;
}

export type ScanStatus = 'current' | 'not_current';

/** OneFS `scan_status` of a file. */
export function scanStatus(attrs: Attributes | undefined, liveChangeStamp: string, signatures: number | SignatureState): ScanStatus {
  return isScanCurrent(attrs, liveChangeStamp, signatures) ? 'current' : 'not_current';
}
