// Stage 5, record: write the verdict to the attributes with the change stamp read at scan start (so a
// file modified during its scan is not current afterwards), append events, and apply the configured
// action to infected files.
import { mkdir, rename as fsRename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Attributes, ScanRecord, RecordedResult } from '@avscan/store';
import type { FileAccess } from './access.js';
import { storePath } from './access.js';
import type { Verdict } from './answer.js';
import { EngineError, EngineErrorCodes } from './errors.js';
import type { InfectedAction } from './options.js';

export interface RecordInput {
  readonly access: FileAccess;
  readonly verdict: Verdict;
  readonly sigTimestamp: number;
  /** Signature stamp of the server that answered (ICAP ISTag), when it reports one. */
  readonly sigStamp: string | null;
  readonly scanTime: number;
  /** Change stamp read when the scan started. */
  readonly changeStamp: string;
  /** Attributes before the scan, to keep a clean history across a failed scan. */
  readonly prior: Attributes | undefined;
}

/**
 * The scan record for a verdict, or `undefined` when nothing is to be written. A failed scan records
 * `unscanned` (never clean) — except over a clean record of the same content, which is kept: it is
 * already not current (else no scan would have run), and keeping it lets `allow-if-previously-clean`
 * still see the file's clean history.
 */
export function recordFor(input: RecordInput): ScanRecord | undefined {
  const { access, verdict, prior } = input;
  let scanResult: RecordedResult;
  if (verdict.result === 'failure') {
    if (prior !== undefined && prior.scanResult === 'clean' && prior.changeStamp === input.changeStamp) return undefined;
    scanResult = 'unscanned';
  } else {
    scanResult = verdict.result;
  }
  return {
    volume: access.volume,
    fileId: access.fileId,
    path: storePath(access.path),
    scanResult,
    changeStamp: input.changeStamp,
    sigTimestamp: input.sigTimestamp,
    sigStamp: input.sigStamp,
    threats: verdict.result === 'infected' ? verdict.threats : [],
    scanTime: input.scanTime,
    quarantined: scanResult === 'infected',
  };
}

/** The attributes the store will hold once `record` is committed (for the engine's cache). */
export function attributesOf(record: ScanRecord): Attributes {
  return {
    volume: record.volume,
    fileId: record.fileId,
    path: record.path,
    scanTime: record.scanTime ?? Date.now(),
    scanResult: record.scanResult,
    threats: record.threats ?? [],
    sigTimestamp: record.sigTimestamp,
    sigStamp: record.sigStamp ?? null,
    changeStamp: record.changeStamp,
    quarantined: record.quarantined ?? record.scanResult === 'infected',
    cacheValid: true,
  };
}

/** What was done to an infected file (reported on the event and in reports). */
export type Response = 'deny-only' | 'quarantined' | 'moved' | 'deleted';

/**
 * Applies the infected-file action. WORM volumes allow neither move nor delete: the file is only
 * denied (`deny-only`). The quarantine destination mirrors the volume tree below `quarantineDir` and
 * is checked to stay inside it, whatever the file's path holds.
 */
export async function applyInfectedAction(
  action: InfectedAction, access: FileAccess, quarantineDir: string | undefined,
): Promise<Response> {
  if (access.worm === true) return 'deny-only';
  if (action === 'none' || access.file === undefined) return 'quarantined';
  if (action === 'delete') {
    await unlink(access.file).catch((err: unknown) => {
      throw new EngineError(EngineErrorCodes.ACTION_FAILED, `cannot delete infected file \`${access.file}\``, 'infectedAction', { cause: err });
    });
    return 'deleted';
  }
  const root = path.resolve(quarantineDir!);
  const dest = quarantineDestination(root, access.volume, access.path);
  if (!dest.startsWith(root + path.sep)) {
    throw new EngineError(EngineErrorCodes.ACTION_FAILED, `quarantine destination \`${dest}\` is outside \`${root}\``, 'quarantineDir');
  }
  try {
    await mkdir(path.dirname(dest), { recursive: true });
    await fsRename(access.file, dest);
  } catch (err) {
    throw new EngineError(EngineErrorCodes.ACTION_FAILED, `cannot move infected file \`${access.file}\` to \`${dest}\``, 'quarantineDir', { cause: err });
  }
  return 'moved';
}

/** Where `quarantine-move` puts a file: `<root>/<volume>/<path below the SVM root>`, every segment made safe. */
export function quarantineDestination(root: string, volume: string, svmPath: string): string {
  return path.resolve(root, safeSegment(volume), ...storePath(svmPath).split('/').filter(Boolean).map(safeSegment));
}

// `..` and `.` segments would climb out of the quarantine folder; they are renamed, not resolved.
function safeSegment(s: string): string {
  return s === '..' || s === '.' ? `_${s}_` : s.replace(/[\\/:\0]/g, '_');
}
