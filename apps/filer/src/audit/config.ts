// The audit log configuration of an SVM, modelled on ONTAP's `/protocols/audit/{svm.uuid}/object-store`
// (seed `ontap-s3-audit-rest-api.txt`): fields, POST defaults and the seed's error codes. Validation
// is pure except for `log_path`, which is checked against the SVM's volumes on disk (exists, is a
// directory, no symlink on the way, not on a read-only or WORM volume).
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime } from '../model.js';
import { cronOfFields, type CronFields } from '../schedule/parse.js';

/** The seed's `rotation.schedule`: the same fields as a cron schedule. */
export type AuditSchedule = CronFields;

export interface AuditConfig {
  readonly svm: { readonly uuid: string; readonly name: string };
  readonly enabled: boolean;
  readonly events: { readonly data: boolean; readonly management: boolean };
  readonly log: {
    readonly format: 'json';
    readonly rotation: { readonly size?: number; readonly schedule?: AuditSchedule };
    readonly retention: { readonly count: number; readonly duration: string };
  };
  /** UNIX path in the SVM's namespace: `/<volume>/<folder>`. */
  readonly log_path: string;
}

/** The seed's POST defaults. */
export const kAuditDefaults = Object.freeze({
  enabled: true,
  events: Object.freeze({ data: true, management: false }),
  format: 'json' as const,
  rotationSize: 100 * 1024 * 1024,
  retentionCount: 0,
  retentionDuration: 'PT0S',
});

/** Smallest rotation size: 1024 KB (140902460). */
export const kMinRotationSize = 1024 * 1024;
/** Longest `log_path` accepted (140902470; ONTAP's number is not published). */
export const kMaxLogPathLength = 1024;

/** The seed's numeric codes, by what went wrong. */
export const AuditCodes = Object.freeze({
  CREATE_FAILED: 140902401,
  EXISTS: 140902402,
  NO_CONFIG_TO_MODIFY: 140902415,
  MODIFY_FAILED: 140902416,
  DELETE_WHILE_ENABLED: 140902421,
  LOG_PATH_MISSING: 140902456,
  LOG_PATH_NOT_DIR: 140902457,
  LOG_PATH_NOT_CANONICAL: 140902458,
  LOG_PATH_EMPTY: 140902459,
  ROTATE_SIZE_TOO_SMALL: 140902460,
  LOG_PATH_SYMLINK: 140902461,
  LOG_PATH_TOO_LONG: 140902470,
  LOG_PATH_READONLY: 140902471,
  LOG_PATH_NOT_VALID: 140902472,
  LOG_PATH_SNAPLOCK: 140902474,
  NO_CONFIG_TO_ROTATE: 140902490,
  ROTATE_DISABLED: 140902492,
  SVM_LOOKUP_FAILED: 9699340,
  EXTRA_FIELDS: 9699407,
  NOT_FOUND: 4,
} as const);

export function auditError(code: (typeof FilerErrorCodes)[keyof typeof FilerErrorCodes], ontapCode: number, message: string, target?: string): FilerError {
  return new FilerError(code, message, target, { ontapCode });
}

const invalidField = (ontapCode: number, message: string, target: string): FilerError => auditError(FilerErrorCodes.AUDIT_INVALID, ontapCode, message, target);

/** ONTAP bodies may use dotted keys (`"log.rotation.size": 2048000`): fold them into objects. */
export function unflatten(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const parts = k.split('.');
    let o = out;
    for (const p of parts.slice(0, -1)) {
      if (o[p] === undefined || typeof o[p] !== 'object' || o[p] === null) o[p] = {};
      o = o[p] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof o[last] === 'object' && o[last] !== null) {
      o[last] = { ...(o[last] as object), ...unflatten(v as Record<string, unknown>) };
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) o[last] = unflatten(v as Record<string, unknown>);
    else o[last] = v;
  }
  return out;
}

const kAllowed: Readonly<Record<string, readonly string[]>> = {
  '': ['svm', 'enabled', 'events', 'log', 'log_path'],
  svm: ['uuid', 'name'],
  events: ['data', 'management'],
  log: ['format', 'rotation', 'retention'],
  'log.rotation': ['size', 'schedule', 'now'],
  'log.rotation.schedule': ['months', 'days', 'hours', 'minutes', 'weekdays'],
  'log.retention': ['count', 'duration'],
};

function checkKeys(o: Record<string, unknown>, at: string): void {
  const allowed = kAllowed[at] ?? [];
  for (const [k, v] of Object.entries(o)) {
    const name = at === '' ? k : `${at}.${k}`;
    if (!allowed.includes(k)) throw invalidField(AuditCodes.EXTRA_FIELDS, `field ${show(name)} is not an audit configuration field`, name);
    if (Object.hasOwn(kAllowed, name)) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalidField(AuditCodes.EXTRA_FIELDS, `field ${show(name)} must be an object`, name);
      checkKeys(v as Record<string, unknown>, name);
    }
  }
}

/** ISO-8601 duration (`P4DT12H30M5S`, `PT0S`, `P1Y2M`, `P2W`) → milliseconds (months 30 days, years 365). */
export function parseIsoDuration(text: string): number {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (m === null || text === 'P' || text.endsWith('T')) throw new RangeError(`not an ISO-8601 duration: ${text}`);
  const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const day = 86_400_000;
  return n(1) * 365 * day + n(2) * 30 * day + n(3) * 7 * day + n(4) * day + n(5) * 3_600_000 + n(6) * 60_000 + n(7) * 1000;
}

function bool(v: unknown, name: string, code: number): boolean {
  if (typeof v !== 'boolean') throw invalidField(code, `field ${show(name)} must be a boolean, got ${show(v)}`, name);
  return v;
}

export interface LogPathTarget {
  readonly volume: string;
  readonly components: readonly string[];
  /** Absolute host folder. */
  readonly dir: string;
}

/** Resolves and checks a `log_path` against the SVM's volumes (seed codes 140902456-140902474). */
export function resolveLogPath(runtime: FilerRuntime, svm: string, raw: unknown): LogPathTarget {
  if (raw === undefined || raw === null || raw === '') throw invalidField(AuditCodes.LOG_PATH_EMPTY, 'the log_path cannot be empty', 'log_path');
  if (typeof raw !== 'string') throw invalidField(AuditCodes.LOG_PATH_NOT_CANONICAL, `log_path must be a string, got ${show(raw)}`, 'log_path');
  if (raw.length > kMaxLogPathLength) throw invalidField(AuditCodes.LOG_PATH_TOO_LONG, `the log_path exceeds ${kMaxLogPathLength} characters`, 'log_path');
  const parts = raw.split('/');
  // Canonical: absolute, `/` separated, no empty, `.` or `..` component (a trailing `/` is tolerated).
  if (!raw.startsWith('/') || raw.includes('\\') || raw.includes('\0') || parts.slice(1, raw.endsWith('/') ? -1 : undefined).some((p) => p === '' || p === '.' || p === '..')) {
    throw invalidField(AuditCodes.LOG_PATH_NOT_CANONICAL, `the log_path ${show(raw)} must be a canonical path in the SVM's namespace`, 'log_path');
  }
  const [volumeName, ...components] = parts.filter((p) => p.length > 0);
  if (volumeName === undefined) throw invalidField(AuditCodes.LOG_PATH_NOT_VALID, `the log_path ${show(raw)} is not a valid destination for the SVM: name a folder inside a volume`, 'log_path');
  const volume = runtime.volume(svm, volumeName);
  if (volume === undefined) throw invalidField(AuditCodes.LOG_PATH_MISSING, `the specified log_path ${show(raw)} does not exist (no volume ${show(volumeName)})`, 'log_path');
  if (volume.worm) throw invalidField(AuditCodes.LOG_PATH_SNAPLOCK, `the log_path ${show(raw)} is on a WORM (SnapLock) volume`, 'log_path');
  if (volume.readonly) throw invalidField(AuditCodes.LOG_PATH_READONLY, `the log_path ${show(raw)} is on a read-only volume`, 'log_path');
  let dir = volume.root;
  for (const c of components) {
    dir = path.join(dir, c);
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      throw invalidField(AuditCodes.LOG_PATH_MISSING, `the specified log_path ${show(raw)} does not exist`, 'log_path');
    }
    if (st.isSymbolicLink()) throw invalidField(AuditCodes.LOG_PATH_SYMLINK, `the log_path ${show(raw)} must not contain a symbolic link`, 'log_path');
    if (!st.isDirectory()) throw invalidField(AuditCodes.LOG_PATH_NOT_DIR, `the log_path ${show(raw)} must be a directory`, 'log_path');
  }
  return { volume: volumeName, components, dir };
}

/**
 * Validates a POST body (`prior` undefined) or a PATCH body merged onto `prior`, and returns the
 * complete configuration. Throws ERR_FILER_AUDIT_INVALID with the seed's `ontapCode`.
 */
export function validateAuditConfig(
  runtime: FilerRuntime,
  svm: { uuid: string; name: string },
  rawBody: unknown,
  prior?: AuditConfig,
): { config: AuditConfig; rotateNow: boolean } {
  const failed = prior === undefined ? AuditCodes.CREATE_FAILED : AuditCodes.MODIFY_FAILED;
  if (rawBody === null || typeof rawBody !== 'object' || Array.isArray(rawBody)) throw invalidField(failed, 'the body must be a JSON object', 'body');
  const body = unflatten(rawBody as Record<string, unknown>);
  checkKeys(body, '');
  const get = (p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), body);
  if (get('svm') !== undefined) {
    const s = get('svm') as { uuid?: unknown; name?: unknown };
    if ((s.uuid !== undefined && s.uuid !== svm.uuid) || (s.name !== undefined && s.name !== svm.name)) {
      throw invalidField(AuditCodes.SVM_LOOKUP_FAILED, 'svm in the body does not match the svm of the path', 'svm');
    }
  }
  const now = get('log.rotation.now');
  if (now !== undefined && prior === undefined) throw invalidField(AuditCodes.EXTRA_FIELDS, 'log.rotation.now is only available in PATCH', 'log.rotation.now');
  const rotateNow = now === undefined ? false : bool(now, 'log.rotation.now', failed);

  const enabled = get('enabled') === undefined ? (prior?.enabled ?? kAuditDefaults.enabled) : bool(get('enabled'), 'enabled', failed);
  const data = get('events.data') === undefined ? (prior?.events.data ?? kAuditDefaults.events.data) : bool(get('events.data'), 'events.data', failed);
  const management = get('events.management') === undefined ? (prior?.events.management ?? kAuditDefaults.events.management) : bool(get('events.management'), 'events.management', failed);
  const format = get('log.format') ?? prior?.log.format ?? kAuditDefaults.format;
  if (format !== 'json') throw invalidField(failed, `log.format must be json, got ${show(format)}`, 'log.format');

  // Rotation: a size, a schedule, or both; a POST with neither gets the 100 MB default.
  const sizeRaw = get('log.rotation.size');
  const scheduleRaw = get('log.rotation.schedule');
  let size = prior?.log.rotation.size;
  let schedule = prior?.log.rotation.schedule;
  if (sizeRaw !== undefined) {
    if (!Number.isSafeInteger(sizeRaw)) throw invalidField(failed, `log.rotation.size must be an integer, got ${show(sizeRaw)}`, 'log.rotation.size');
    if ((sizeRaw as number) < kMinRotationSize) throw invalidField(AuditCodes.ROTATE_SIZE_TOO_SMALL, 'rotate size must be greater than or equal to 1024 KB', 'log.rotation.size');
    size = sizeRaw as number;
  }
  if (scheduleRaw !== undefined) {
    const sch = scheduleRaw as Record<string, unknown>;
    const fields: Record<string, number[]> = {};
    for (const k of ['months', 'days', 'hours', 'minutes', 'weekdays'] as const) {
      const v = sch[k];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x))) throw invalidField(failed, `log.rotation.schedule.${k} must be a list of integers`, `log.rotation.schedule.${k}`);
      fields[k] = v as number[];
    }
    try {
      cronOfFields(fields, 0);
    } catch (err) {
      throw invalidField(failed, `log.rotation.schedule: ${(err as Error).message}`, `log.rotation.schedule.${(err as FilerError).target ?? ''}`);
    }
    schedule = fields;
  }
  if (prior === undefined && size === undefined && schedule === undefined) size = kAuditDefaults.rotationSize;

  // Retention: count or duration, mutually exclusive (0 / PT0S = unset).
  const countRaw = get('log.retention.count');
  const durationRaw = get('log.retention.duration');
  let count = prior?.log.retention.count ?? kAuditDefaults.retentionCount;
  let duration = prior?.log.retention.duration ?? kAuditDefaults.retentionDuration;
  if (countRaw !== undefined) {
    if (!Number.isSafeInteger(countRaw) || (countRaw as number) < 0) throw invalidField(failed, `log.retention.count must be a non-negative integer, got ${show(countRaw)}`, 'log.retention.count');
    count = countRaw as number;
    if (durationRaw === undefined && count > 0) duration = kAuditDefaults.retentionDuration;
  }
  if (durationRaw !== undefined) {
    if (typeof durationRaw !== 'string') throw invalidField(failed, `log.retention.duration must be an ISO-8601 duration, got ${show(durationRaw)}`, 'log.retention.duration');
    try {
      parseIsoDuration(durationRaw === '0s' ? 'PT0S' : durationRaw);
    } catch {
      throw invalidField(failed, `log.retention.duration must be an ISO-8601 duration, got ${show(durationRaw)}`, 'log.retention.duration');
    }
    duration = durationRaw;
    if (countRaw === undefined && parseIsoDuration(duration === '0s' ? 'PT0S' : duration) > 0) count = 0;
  }
  if (count > 0 && parseIsoDuration(duration === '0s' ? 'PT0S' : duration) > 0) {
    throw invalidField(failed, 'log.retention.count and log.retention.duration are mutually exclusive', 'log.retention');
  }

  const logPathRaw = get('log_path') ?? prior?.log_path;
  resolveLogPath(runtime, svm.name, logPathRaw);
  const config: AuditConfig = {
    svm: { uuid: svm.uuid, name: svm.name },
    enabled,
    events: { data, management },
    log: {
      format: 'json',
      rotation: { ...(size !== undefined ? { size } : {}), ...(schedule !== undefined ? { schedule } : {}) },
      retention: { count, duration },
    },
    log_path: logPathRaw as string,
  };
  return { config, rotateNow };
}

/** Retention duration in ms (0 = keep by count or forever). */
export function retentionMs(c: AuditConfig): number {
  const d = c.log.retention.duration;
  return parseIsoDuration(d === '0s' ? 'PT0S' : d);
}
