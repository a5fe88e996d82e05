// Synthetic scan records shared by the store benchmarks.
import type { ScanRecord } from '@avscan/store';

/**
 * The record of file `i` with directory-clustered keys: file ids allocated together (as the inodes of
 * one directory are), 1,000 files per directory.
 */
export function clusteredRecord(i: number): ScanRecord {
  return {
    volume: 'vol1',
    fileId: String(1_000_000_000 + i).padStart(12, '0'),
    path: `/share/dir${Math.floor(i / 1000)}/file${i}.docx`,
    scanResult: 'clean',
    changeStamp: `${4096 + (i & 1023)}:1700000000${i}:1700000000${i}:${i}`,
    sigTimestamp: 1_700_000_000_000,
    scanTime: 1_700_000_000_000 + i,
  };
}
