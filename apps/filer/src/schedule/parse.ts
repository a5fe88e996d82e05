// Schedules as the two vendors write them, turned into one cron pattern (croner, 5 fields:
// minute hour day-of-month month day-of-week, Sunday = 0; day-of-month and day-of-week OR-ed as in
// classic cron when both are restricted).
//
// ONTAP: a schedule named by an on-demand policy is a cluster job schedule. The built-in ones are
// `5min`, `8hour`, `daily`, `hourly` and `weekly` with ONTAP's default times (`job schedule cron
// show`: daily @0:10, hourly @:05, weekly Sun@0:15, 8hour @2:15,10:15,18:15); a 5-field cron string
// and ONTAP's REST cron object (`{minutes, hours, days, weekdays, months}`, months 1-12) also work.
// OneFS: the job engine's schedule text, e.g. `every Thursday at 01:00`, `every day at 2:30 PM`,
// `every weekday at 22:00`, `every Monday and Friday at 1:00`, `every 4 hours`, `every 15 minutes`,
// `every month on the 1st at 03:00` (the grammar we accept; anything else is refused).
import { Cron } from 'croner';
import { FilerError, FilerErrorCodes, show } from '../errors.js';

/** ONTAP's built-in job schedules. */
export const kOntapSchedules: Readonly<Record<string, string>> = Object.freeze({
  '5min': '*/5 * * * *',
  '8hour': '15 2,10,18 * * *',
  daily: '10 0 * * *',
  hourly: '5 * * * *',
  weekly: '15 0 * * 0',
});

/** ONTAP's REST cron object: an empty or absent list means "all". */
export interface CronFields {
  readonly minutes?: readonly number[];
  readonly hours?: readonly number[];
  readonly days?: readonly number[];
  readonly weekdays?: readonly number[];
  readonly months?: readonly number[];
}

export type ScheduleInput = string | { readonly name: string } | { readonly cron: CronFields };

function invalid(what: unknown, why: string, target = 'schedule'): FilerError {
  return new FilerError(FilerErrorCodes.SCHEDULE_INVALID, `schedule ${show(what)} ${why}`, target);
}

/** Checks a pattern with croner (which knows cron's ranges) and returns it. */
function checked(pattern: string, source: unknown): string {
  try {
    new Cron(pattern, { paused: true, legacyMode: true }).stop();
  } catch (err) {
    throw invalid(source, `is not a valid cron pattern (${(err as Error).message})`);
  }
  return pattern;
}

function field(values: readonly number[] | undefined, min: number, max: number, name: string, source: unknown, offset = 0): string {
  if (values === undefined || values.length === 0) return '*';
  if (!Array.isArray(values)) throw invalid(source, `has a \`${name}\` that is not a list`, name);
  for (const v of values) if (!Number.isInteger(v) || v < min || v > max) throw invalid(source, `has \`${name}\` ${show(v)} outside ${min}-${max}`, name);
  return [...new Set(values.map((v) => v + offset))].sort((a, b) => a - b).join(',');
}

/**
 * A cron object → pattern. `monthBase` is what January is: ONTAP's cluster schedules count months
 * 1-12; the audit log's rotation schedule (seed 001 example `"months": [0]`) counts them from 0.
 */
export function cronOfFields(c: CronFields, monthBase: 0 | 1 = 1): string {
  if (c === null || typeof c !== 'object') throw invalid(c, 'is not a cron object');
  if (c.minutes === undefined || c.minutes.length === 0) throw invalid(c, 'needs `minutes`', 'minutes');
  const pattern = [
    field(c.minutes, 0, 59, 'minutes', c),
    field(c.hours, 0, 23, 'hours', c),
    field(c.days, 1, 31, 'days', c),
    field(c.months, monthBase, 11 + monthBase, 'months', c, 1 - monthBase),
    field(c.weekdays, 0, 6, 'weekdays', c),
  ].join(' ');
  return checked(pattern, c);
}

const kDays = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function dayIndex(word: string): number {
  const w = word.toLowerCase().replace(/s$/, '');
  const i = kDays.findIndex((d) => d === w || d.slice(0, 3) === w);
  return i;
}

/** `01:00`, `1:00`, `1:00 AM`, `2:30pm`, `1 AM` → [hour, minute]. */
function timeOf(text: string, source: string): [number, number] {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(text.trim());
  if (m === null) throw invalid(source, `has no time of day it understands in ${show(text)}`);
  let h = Number(m[1]);
  const min = m[2] === undefined ? 0 : Number(m[2]);
  const ampm = m[3]?.toLowerCase();
  if (m[2] === undefined && ampm === undefined) throw invalid(source, `has no time of day it understands in ${show(text)}`);
  if (ampm !== undefined) {
    if (h < 1 || h > 12) throw invalid(source, `has an hour ${h} outside 1-12 with AM/PM`);
    h = (h % 12) + (ampm === 'pm' ? 12 : 0);
  }
  if (h > 23 || min > 59) throw invalid(source, `has an impossible time ${show(text)}`);
  return [h, min];
}

/** OneFS job schedule text → cron pattern. */
export function cronOfOnefs(text: string): string {
  if (typeof text !== 'string' || text.trim().length === 0) throw invalid(text, 'is empty');
  const t = text.trim().replace(/\s+/g, ' ');
  let m = /^every (\d+ )?(minute|hour)s?$/i.exec(t);
  if (m) {
    const n = m[1] === undefined ? 1 : Number(m[1]);
    const unit = m[2]!.toLowerCase();
    const max = unit === 'minute' ? 59 : 23;
    if (n < 1 || n > max) throw invalid(text, `repeats every ${n} ${unit}s, outside 1-${max}`);
    return checked(unit === 'minute' ? `*/${n} * * * *` : `0 */${n} * * *`, text);
  }
  m = /^every month on the (\d{1,2})(?:st|nd|rd|th)?(?: day)? at (.+)$/i.exec(t);
  if (m) {
    const day = Number(m[1]);
    if (day < 1 || day > 31) throw invalid(text, `names day ${day} of the month`);
    const [h, min] = timeOf(m[2]!, text);
    return checked(`${min} ${h} ${day} * *`, text);
  }
  m = /^every (.+?) at (.+)$/i.exec(t);
  if (m) {
    const [h, min] = timeOf(m[2]!, text);
    const what = m[1]!.toLowerCase();
    let dow: string;
    if (what === 'day') dow = '*';
    else if (what === 'weekday') dow = '1-5';
    else if (what === 'weekend' || what === 'weekend day') dow = '0,6';
    else {
      const days = what.split(/\s*(?:,|\band\b)\s*/).filter((x) => x.length > 0).map((w) => {
        const i = dayIndex(w);
        if (i < 0) throw invalid(text, `names no day of the week in ${show(w)}`);
        return i;
      });
      dow = [...new Set(days)].sort((a, b) => a - b).join(',');
    }
    return checked(`${min} ${h} * * ${dow}`, text);
  }
  throw invalid(text, 'is not OneFS schedule text this emulator understands (e.g. `every Thursday at 01:00`, `every day at 02:30`, `every 4 hours`)');
}

/**
 * An ONTAP schedule (built-in name, `{ name }`, 5-field cron string or `{ cron }`) → cron pattern.
 * `named` adds the cluster's own schedules by name.
 */
export function cronOfOntap(s: ScheduleInput, named: Readonly<Record<string, string>> = {}): string {
  if (typeof s === 'object' && s !== null && 'cron' in s) return cronOfFields(s.cron, 1);
  const name = typeof s === 'object' && s !== null && 'name' in s ? s.name : s;
  if (typeof name !== 'string' || name.length === 0) throw invalid(s, 'must be a schedule name, a cron string or a cron object');
  const known = Object.hasOwn(named, name) ? named[name] : Object.hasOwn(kOntapSchedules, name) ? kOntapSchedules[name] : undefined;
  if (known !== undefined) return checked(known, name);
  if (name.trim().split(/\s+/).length === 5) return checked(name.trim(), name);
  // ONTAP 10027167: the schedule does not exist.
  throw new FilerError(FilerErrorCodes.SCHEDULE_INVALID, `schedule ${show(name)} does not exist`, 'schedule.name', { ontapCode: 10027167 });
}
