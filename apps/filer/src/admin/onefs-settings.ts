// OneFS CAVA settings (`/platform/11/avscan/settings`, ONTAP-API.md §3.1) over the one data model.
// Cluster-wide values OneFS has and ONTAP lacks (scan_zones, ip_pool, scan_cloudpool_timeout,
// report_expiry) are kept in the app database; the others are views of the zones' ONTAP documents:
//   service_enabled   ↔ Vscan on/off of every zone in scope (scan_zones, or all zones when empty)
//   scan_size_maximum ↔ max_file_size of each zone's enabled on-access policy (kB; 0 = the 1 TB cap)
//   scan_timeout      ↔ each zone's dispatcher request_timeout (s; the dispatcher caps it at 3600)
// A PUT changes every zone in scope or none (onefs-apply): bad input changes nothing.
import type Database from 'better-sqlite3';
import type { ManagedRuntime } from '../runtime/managed.js';
import { sweepExpiredReports } from '../reports/expiry.js';
import { badField } from '../server/ontap-error.js';
import { cloneVscan, enabledPolicy, kOaScopeDefaults, type VscanDoc } from '../vscan/model.js';
import { editOwnPolicy } from '../vscan/onefs.js';
import { setVscanEnabled, type SvmContext } from '../vscan/ops.js';
import { kLimits } from '../vscan/validate.js';
import { changeZones } from './onefs-apply.js';
import { boolOf, intOf, listOf, objectOf, strOf } from './onefs-body.js';

export interface StoredSettings {
  readonly scan_zones: readonly string[];
  readonly ip_pool: string | null;
  /** As given (s); null until set (then the zones' dispatchers say). */
  readonly scan_timeout: number | null;
  readonly scan_cloudpool_timeout: number;
  /** As given (kB); null until set (then the zones' policies say). */
  readonly scan_size_maximum: number | null;
  readonly report_expiry: number;
}

/** Defaults where OneFS publishes none (inferred): cloud timeout 60 s, reports kept one year. */
export const kSettingsDefaults: StoredSettings = Object.freeze({
  scan_zones: [], ip_pool: null, scan_timeout: null, scan_cloudpool_timeout: 60, scan_size_maximum: null, report_expiry: 31_536_000,
});

const kUint32 = 4_294_967_295;
/** OneFS's documented maximum of scan_size_maximum, kB (16 TiB). */
const kMaxSizeKb = 17_179_869_184;
/** The dispatcher's longest request timeout, s. */
const kMaxRequestTimeout = 3600;
const kDispatcherDefaultTimeout = 30;

export function readSettings(db: Database.Database): StoredSettings {
  const row = db.prepare('SELECT doc FROM onefs_settings WHERE id = 1').get() as { doc: string } | undefined;
  return row === undefined ? kSettingsDefaults : { ...kSettingsDefaults, ...(JSON.parse(row.doc) as Partial<StoredSettings>) };
}

function writeSettings(db: Database.Database, s: StoredSettings): void {
  db.prepare('INSERT INTO onefs_settings (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc').run(JSON.stringify(s));
}

/** The zones the settings apply to: scan_zones, or every zone when it is empty. */
export function zonesInScope(rt: ManagedRuntime, s: StoredSettings): string[] {
  return s.scan_zones.length > 0 ? s.scan_zones.filter((z) => rt.svm(z) !== undefined) : rt.svms().map((z) => z.name);
}

/** kB (0 = no limit) → the policy's max_file_size: ONTAP's range is 1 KB–1 TB, so larger is 1 TB. */
export function sizeOfKb(kb: number): number {
  return kb === 0 ? kLimits.maxFileSize : Math.min(kLimits.maxFileSize, Math.max(kLimits.minFileSize, kb * 1024));
}

const requestTimeoutOf = (rt: ManagedRuntime, zone: string): number => {
  const d = rt.dispatcher(zone);
  return d === null ? (rt.vscan(zone).request_timeout ?? kDispatcherDefaultTimeout) : d.config.requestTimeoutMs / 1000;
};

/** GET: stored values, and the model's where the model holds them (a stored value that still matches is shown as given). */
export function settingsView(rt: ManagedRuntime, db: Database.Database): Record<string, unknown> {
  const s = readSettings(db);
  const zones = zonesInScope(rt, s);
  const sizes = zones.map((z) => enabledPolicy(rt.vscan(z))?.scope.max_file_size ?? kOaScopeDefaults.max_file_size);
  const maxSize = sizes.length === 0 ? kLimits.maxFileSize : Math.max(...sizes);
  const size = s.scan_size_maximum !== null && sizes.every((b) => b === sizeOfKb(s.scan_size_maximum!))
    ? s.scan_size_maximum
    : maxSize >= kLimits.maxFileSize ? 0 : Math.floor(maxSize / 1024);
  const timeouts = zones.map((z) => requestTimeoutOf(rt, z));
  const timeout = s.scan_timeout !== null && timeouts.every((t) => t === Math.min(s.scan_timeout!, kMaxRequestTimeout))
    ? s.scan_timeout
    : Math.ceil(timeouts.length === 0 ? kDispatcherDefaultTimeout : Math.max(...timeouts));
  return {
    settings: {
      service_enabled: zones.length > 0 && zones.every((z) => rt.vscan(z).enabled),
      scan_zones: [...s.scan_zones], ip_pool: s.ip_pool, scan_timeout: timeout, scan_cloudpool_timeout: s.scan_cloudpool_timeout,
      scan_size_maximum: size, report_expiry: s.report_expiry,
    },
  };
}

const kFields = ['service_enabled', 'scan_zones', 'ip_pool', 'scan_timeout', 'scan_cloudpool_timeout', 'scan_size_maximum', 'report_expiry'];

/** PUT (the flat settings object; absent fields stay as they are). */
export async function putSettings(rt: ManagedRuntime, db: Database.Database, body: unknown, now: number = Date.now()): Promise<void> {
  const b = objectOf(body, kFields);
  const service = boolOf(b, 'service_enabled');
  const zonesGiven = listOf(b, 'scan_zones', 1000);
  for (const z of zonesGiven ?? []) if (rt.svm(z) === undefined) throw badField(`\`scan_zones\` names no access zone \`${z.slice(0, 80)}\``, 'scan_zones');
  const ipPool = strOf(b, 'ip_pool', 1, 255);
  const timeout = intOf(b, 'scan_timeout', 1, kUint32);
  const cloud = intOf(b, 'scan_cloudpool_timeout', 1, kUint32);
  const sizeKb = intOf(b, 'scan_size_maximum', 0, kMaxSizeKb);
  const expiry = intOf(b, 'report_expiry', 1, kUint32);
  const cur = readSettings(db);
  const next: StoredSettings = {
    scan_zones: zonesGiven === undefined ? cur.scan_zones : [...new Set(zonesGiven)],
    ip_pool: ipPool ?? cur.ip_pool,
    scan_timeout: timeout ?? cur.scan_timeout,
    scan_cloudpool_timeout: cloud ?? cur.scan_cloudpool_timeout,
    scan_size_maximum: sizeKb ?? cur.scan_size_maximum,
    report_expiry: expiry ?? cur.report_expiry,
  };
  const change = (doc: VscanDoc, ctx: SvmContext): VscanDoc => {
    let d = doc;
    if (sizeKb !== undefined) d = editOwnPolicy(d, ctx, (p) => { p.scope.max_file_size = sizeOfKb(sizeKb); });
    if (timeout !== undefined) d = { ...cloneVscan(d), request_timeout: Math.min(timeout, kMaxRequestTimeout) };
    if (service !== undefined && d.enabled !== service) d = setVscanEnabled(d, service, ctx);
    return d;
  };
  // All zones or none: a refusal (no active pool, …) changes nothing.
  await changeZones(rt, zonesInScope(rt, next), change);
  writeSettings(db, next);
  if (expiry !== undefined) await sweepExpiredReports(rt.store, expiry, now);
}
