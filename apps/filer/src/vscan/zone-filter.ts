// A zone's OneFS CAVA filter triggers (`scan_profile`, `scan_on_read/close/rename`) combined with the
// profile of the share an access came through (ONTAP's `vscan-fileop-profile`). One rule, so the REST
// data path, the volume watcher, the clamd front door and explain agree:
//   1. `scan_profile: "strict"` raises every share that scans at all to OneFS's strict triggers (read,
//      close with or without a write, rename — seed onefs-cava-antivirus: "Strict profile: Captures an
//      SMB read, close, and rename"), on top of what its own profile does: `standard` → `strict`,
//      `cava-standard` and `writes-only` → `cava-strict`; `strict` and `cava-strict` stay. A `no-scan`
//      share stays no-scan: the administrator exempted it. `"standard"` (the default) keeps the share's own.
//   2. The flags are a zone-wide mask over the result: `scan_on_read: false` → no scan on open or read
//      (OneFS has no open trigger; its read is the client getting the data, which is what an ONTAP open
//      scan guards), `scan_on_close: false` → none on close (with or without a write, so the watcher's
//      outside changes too), `scan_on_rename: false` → none on rename. A masked access is `no-scan` for
//      that one operation: allowed as `not-triggered`, no scanner request; the rename still moves the
//      file's attributes.
// The defaults mask nothing, so a zone nobody configured through OneFS scans by its shares' profiles.
import type { Operation, Profile } from '@avscan/engine';

export interface ZoneFilterFlags {
  scan_profile: 'standard' | 'strict';
  scan_on_read: boolean;
  scan_on_close: boolean;
  scan_on_rename: boolean;
  /** Stored and shown: the emulator has no CloudPools. */
  scan_cloudpool_files: boolean;
}

export const kZoneFilterDefaults: Readonly<ZoneFilterFlags> = Object.freeze({
  scan_profile: 'standard', scan_on_read: true, scan_on_close: true, scan_on_rename: true, scan_cloudpool_files: false,
});

const kStrict: Readonly<Record<Profile, Profile>> = Object.freeze({
  'no-scan': 'no-scan', standard: 'strict', strict: 'strict', 'writes-only': 'cava-strict', 'cava-standard': 'cava-strict', 'cava-strict': 'cava-strict',
});

function allowed(f: Readonly<Partial<ZoneFilterFlags>>, op: Operation): boolean {
  switch (op) {
    case 'open':
    case 'read': return f.scan_on_read ?? true;
    case 'close-after-write':
    case 'close-no-write': return f.scan_on_close ?? true;
    case 'rename': return f.scan_on_rename ?? true;
  }
}

/**
 * The profile an access runs with for `op`: `own` is the share's profile (`undefined` = the engine's
 * own, which the strict raise cannot see, so it is only masked). `undefined` in, nothing masked → `undefined` out.
 */
export function zoneProfile(f: Readonly<Partial<ZoneFilterFlags>> | undefined, own: Profile | undefined, op: Operation): Profile | undefined {
  if (f === undefined) return own;
  if (!allowed(f, op)) return 'no-scan';
  return f.scan_profile === 'strict' && own !== undefined ? kStrict[own] : own;
}
