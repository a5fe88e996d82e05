// The zone filter over a share's profile (src/vscan/zone-filter.ts), exhaustively: every profile,
// operation and filter (2 profiles × 8 flag combinations).
import { describe, expect, it } from 'vitest';
import { PROFILES, triggerFor, type Operation, type Profile } from '@avscan/engine';
import { kZoneFilterDefaults, zoneProfile, type ZoneFilterFlags } from '../src/vscan/zone-filter.js';

const kOps: readonly Operation[] = ['open', 'read', 'close-after-write', 'close-no-write', 'rename'];
const filters: ZoneFilterFlags[] = (['standard', 'strict'] as const).flatMap((scan_profile) =>
  [0, 1, 2, 3, 4, 5, 6, 7].map((m) => ({ ...kZoneFilterDefaults, scan_profile, scan_on_read: (m & 1) === 0, scan_on_close: (m & 2) === 0, scan_on_rename: (m & 4) === 0 })));
const flagOf = (op: Operation): 'scan_on_read' | 'scan_on_close' | 'scan_on_rename' =>
  op === 'open' || op === 'read' ? 'scan_on_read' : op === 'rename' ? 'scan_on_rename' : 'scan_on_close';
const rank = { none: 0, async: 1, sync: 2 } as const;

describe('zoneProfile', () => {
  it('no filter, or the defaults: the share\'s own profile', () => {
    for (const p of PROFILES) for (const op of kOps) {
      expect(zoneProfile(undefined, p, op)).toBe(p);
      expect(zoneProfile(kZoneFilterDefaults, p, op)).toBe(p);
    }
    expect(zoneProfile(kZoneFilterDefaults, undefined, 'open')).toBeUndefined();
  });

  it('a flag off: that operation never scans; on: it keeps (standard) or raises (strict) the share\'s trigger', () => {
    for (const f of filters) for (const p of PROFILES) for (const op of kOps) {
      const got = zoneProfile(f, p, op)!;
      const trigger = triggerFor(got, op);
      if (!f[flagOf(op)]) {
        expect(got, `${JSON.stringify(f)} ${p} ${op}`).toBe('no-scan');
        continue;
      }
      if (f.scan_profile === 'standard' || p === 'no-scan') {
        expect(got).toBe(p);
        continue;
      }
      // strict: never weaker than the share's own trigger; OneFS strict's read, close and rename always scan
      expect(rank[trigger]).toBeGreaterThanOrEqual(rank[triggerFor(p, op)]);
      if (op !== 'open') expect(trigger, `${p} ${op}`).not.toBe('none');
    }
  });

  it('strict maps each profile to a strict one of its family', () => {
    const strict = { ...kZoneFilterDefaults, scan_profile: 'strict' as const };
    const map = Object.fromEntries(PROFILES.map((p) => [p, zoneProfile(strict, p, 'read')]));
    expect(map).toEqual({ 'no-scan': 'no-scan', standard: 'strict', strict: 'strict', 'writes-only': 'cava-strict', 'cava-standard': 'cava-strict', 'cava-strict': 'cava-strict' } satisfies Record<Profile, Profile>);
    // the engine's own profile (no share) is masked, not raised
    expect(zoneProfile(strict, undefined, 'read')).toBeUndefined();
    expect(zoneProfile({ ...strict, scan_on_read: false }, undefined, 'read')).toBe('no-scan');
  });
});
