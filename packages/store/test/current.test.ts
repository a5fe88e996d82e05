import { describe, expect, it } from 'vitest';
import { changeStampOf, isScanCurrent, scanStatus, type Attributes, type RecordedResult } from '../src/index.js';

function attrs(over: Partial<Attributes> = {}): Attributes {
  return {
    volume: 'vol1',
    fileId: '42',
    path: '/a.doc',
    scanTime: 1,
    scanResult: 'clean',
    threats: [],
    sigTimestamp: 100,
    sigStamp: null,
    changeStamp: 'S',
    quarantined: false,
    cacheValid: true,
    ...over,
  };
}

describe('changeStampOf', () => {
  it('joins size, mtime ns, ctime ns and inode', () => {
    expect(changeStampOf({ size: 10, mtimeNs: 1700000000123456789n, ctimeNs: 5n, ino: 77n })).toBe('10:1700000000123456789:5:77');
  });
  it('changes when any component changes', () => {
    const base = { size: 1, mtimeNs: 2n, ctimeNs: 3n, ino: 4 };
    const s = changeStampOf(base);
    expect(changeStampOf({ ...base, size: 2 })).not.toBe(s);
    expect(changeStampOf({ ...base, mtimeNs: 3n })).not.toBe(s);
    expect(changeStampOf({ ...base, ctimeNs: 4n })).not.toBe(s);
    expect(changeStampOf({ ...base, ino: 5 })).not.toBe(s);
  });
});

describe('isScanCurrent truth table (result × change stamp × watermark × quarantined × cache)', () => {
  const results: RecordedResult[] = ['clean', 'infected', 'error', 'timeout', 'unavailable', 'too-large-for-scanner', 'unscanned'];
  const cases: Array<[RecordedResult, boolean, 'older' | 'equal' | 'newer', boolean, boolean]> = [];
  for (const r of results)
    for (const stampEqual of [true, false])
      for (const sig of ['older', 'equal', 'newer'] as const)
        for (const q of [false, true]) for (const valid of [true, false]) cases.push([r, stampEqual, sig, q, valid]);

  it.each(cases)('result=%s stampEqual=%s sig=%s quarantined=%s cacheValid=%s', (result, stampEqual, sig, quarantined, cacheValid) => {
    const watermark = 100;
    const sigTimestamp = sig === 'older' ? 99 : sig === 'equal' ? 100 : 101;
    const a = attrs({ scanResult: result, sigTimestamp, quarantined, cacheValid });
    const live = stampEqual ? 'S' : 'S2';
    const expected = result === 'clean' && stampEqual && sig !== 'older' && !quarantined && cacheValid;
    expect(isScanCurrent(a, live, watermark)).toBe(expected);
    expect(scanStatus(a, live, watermark)).toBe(expected ? 'current' : 'not_current');
  });

  it('a never-scanned file is not current', () => {
    expect(isScanCurrent(undefined, 'S', 0)).toBe(false);
    expect(scanStatus(undefined, 'S', 0)).toBe('not_current');
  });
});

describe('isScanCurrent with ICAP stamps (OneFS rule)', () => {
  const icap = (stamp: string) => attrs({ sigTimestamp: 0, sigStamp: stamp });
  const state = (timestamp: number, stamps: string[]) => ({ timestamp, stamps: new Set(stamps) });
  it('a file scanned by a stamp-only server is current while its stamp is one of the current ones', () => {
    expect(isScanCurrent(icap('CI0001-A'), 'S', state(0, ['CI0001-A', 'CI0001-B']))).toBe(true);
    expect(isScanCurrent(icap('CI0001-A'), 'S', state(0, ['CI0001-B']))).toBe(false);
    expect(scanStatus(icap('CI0001-A'), 'S', state(0, []))).toBe('not_current');
    // A newer clamd time elsewhere does not make an ICAP-scanned file stale, nor current.
    expect(isScanCurrent(icap('CI0001-A'), 'S', state(5000, ['CI0001-A']))).toBe(true);
  });
  it('a file scanned by a server reporting a signature time is judged by time, whatever the stamps', () => {
    const clamd = attrs({ sigTimestamp: 100, sigStamp: 'ClamAV 1.4/27000' });
    expect(isScanCurrent(clamd, 'S', state(100, []))).toBe(true);
    expect(isScanCurrent(clamd, 'S', state(101, ['ClamAV 1.4/27000']))).toBe(false);
    expect(isScanCurrent(clamd, 'S', 100)).toBe(true);
  });
  it('the other conditions still apply', () => {
    expect(isScanCurrent(icap('A'), 'other', state(0, ['A']))).toBe(false);
    expect(isScanCurrent({ ...icap('A'), quarantined: true }, 'S', state(0, ['A']))).toBe(false);
    expect(isScanCurrent({ ...icap('A'), scanResult: 'unscanned' }, 'S', state(0, ['A']))).toBe(false);
  });
});
