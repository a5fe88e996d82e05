// ONTAP collection conventions, shared by every GET list: `fields` (comma list, `*`/`**` = all,
// dotted names pick nested fields, empty items ignored), filters on any field in ONTAP query syntax
// (`a|b` or, `!x` not, `<n` `>n` `<=n` `>=n`, `*` wildcard, case-insensitive), `order_by`
// (`field [asc|desc]`, comma list), `max_records` + `_links.next` paging, `return_records`,
// `return_timeout` (0–120, accepted; answers are synchronous).
import { badField } from '../server/ontap-error.js';

export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A resource's field layout: every selectable field (dotted), and the ones always returned. */
export interface FieldSet {
  /** Dotted names of every field (objects and their leaves: `scope`, `scope.max_file_size`). */
  readonly all: readonly string[];
  /** Fields a list returns when no `fields` is given (ONTAP returns the keys). */
  readonly keys: readonly string[];
}

export interface ListQuery {
  /** `null` = all fields. */
  readonly fields: readonly string[] | null;
  readonly filters: readonly (readonly [string, string])[];
  readonly orderBy: readonly { readonly field: string; readonly desc: boolean }[];
  readonly maxRecords: number | undefined;
  readonly offset: number;
  readonly returnRecords: boolean;
}

/** Query parameters every route accepts besides filters. */
export const kControlParams = new Set(['fields', 'max_records', 'return_records', 'return_timeout', 'order_by', 'start.offset']);

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw badField(`query parameter \`${name}\` is given more than once`, name);
    return v[0];
  }
  return v as string | undefined;
}

function nonNegInt(q: Query, name: string, max: number): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v) || Number(v) > max) throw badField(`\`${name}\` must be an integer in 0–${max}, got \`${v.slice(0, 40)}\``, name);
  return Number(v);
}

function bool(q: Query, name: string, dflt: boolean): boolean {
  const v = one(q, name);
  if (v === undefined) return dflt;
  if (v !== 'true' && v !== 'false') throw badField(`\`${name}\` must be true or false, got \`${v.slice(0, 40)}\``, name);
  return v === 'true';
}

/** `return_timeout` and `return_records` of a POST/PATCH/DELETE. */
export function parseMutationQuery(q: Query, allowedFilters: readonly string[] = []): { returnRecords: boolean } {
  for (const k of Object.keys(q)) {
    if (k !== 'return_timeout' && k !== 'return_records' && !allowedFilters.includes(k)) throw badField(`unexpected query parameter \`${k.slice(0, 80)}\``, k);
  }
  nonNegInt(q, 'return_timeout', 120);
  return { returnRecords: bool(q, 'return_records', false) };
}

/** Checks a GET's query against a resource's fields. */
export function parseListQuery(q: Query, set: FieldSet, returnRecordsDefault = true): ListQuery {
  const known = new Set(set.all);
  const filters: [string, string][] = [];
  for (const [k, v] of Object.entries(q)) {
    if (kControlParams.has(k) || v === undefined) continue;
    if (!known.has(k)) throw badField(`unexpected query parameter \`${k.slice(0, 80)}\``, k);
    for (const item of Array.isArray(v) ? v : [v as string]) filters.push([k, item]);
  }
  const rawFields = one(q, 'fields');
  let fields: string[] | null = [...set.keys];
  if (rawFields !== undefined) {
    const items = rawFields.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.includes('*') || items.includes('**')) fields = null;
    else {
      for (const f of items) {
        if (!known.has(f)) throw badField(`unknown field \`${f.slice(0, 80)}\` in \`fields\``, 'fields');
        fields.push(f);
      }
    }
  }
  // ONTAP returns the fields a query filtered on.
  if (fields !== null) for (const [k] of filters) fields.push(k);
  const orderBy: { field: string; desc: boolean }[] = [];
  const rawOrder = one(q, 'order_by');
  if (rawOrder !== undefined) {
    for (const item of rawOrder.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const m = /^(\S+)(?:\s+(asc|desc))?$/.exec(item);
      if (m === null || !known.has(m[1]!)) throw badField(`invalid \`order_by\` item \`${item.slice(0, 80)}\``, 'order_by');
      orderBy.push({ field: m[1]!, desc: m[2] === 'desc' });
    }
  }
  nonNegInt(q, 'return_timeout', 120);
  const maxRecords = nonNegInt(q, 'max_records', 2 ** 31);
  return {
    fields, filters, orderBy,
    maxRecords: maxRecords === 0 ? undefined : maxRecords,
    offset: nonNegInt(q, 'start.offset', Number.MAX_SAFE_INTEGER) ?? 0,
    returnRecords: bool(q, 'return_records', returnRecordsDefault),
  };
}

export function getPath(o: unknown, dotted: string): unknown {
  let cur = o;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function globRe(pattern: string): RegExp {
  const src = pattern.toLowerCase().replace(/[.+?^${}()[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${src}$`, 's');
}

function scalarMatches(value: unknown, term: string): boolean {
  const cmp = /^(<=|>=|<|>)(.*)$/.exec(term);
  if (cmp !== null) {
    const [, op, rhs] = cmp as unknown as [string, string, string];
    const a = typeof value === 'number' ? value : Number.NaN;
    const b = Number(rhs);
    const ok = Number.isFinite(a) && Number.isFinite(b)
      ? (op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b)
      : (() => { const s = String(value ?? ''); return op === '<' ? s < rhs : op === '>' ? s > rhs : op === '<=' ? s <= rhs : s >= rhs; })();
    return ok;
  }
  const s = value === undefined || value === null ? '' : String(value).toLowerCase();
  return term.includes('*') ? globRe(term).test(s) : s === term.toLowerCase();
}

/** ONTAP query syntax on one field value (arrays match when any element does). */
export function matches(value: unknown, expr: string): boolean {
  return expr.split('|').some((alt) => {
    const negate = alt.startsWith('!');
    const term = negate ? alt.slice(1) : alt;
    const values = Array.isArray(value) ? value : [value];
    const hit = values.some((v) => scalarMatches(v, term));
    return negate ? !hit : hit;
  });
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

function pick(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = getPath(record, f);
    if (v === undefined) continue;
    const parts = f.split('.');
    let cur = out;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts.at(-1)!] = v;
  }
  if (record['_links'] !== undefined) out['_links'] = record['_links'];
  return out;
}

/** Projects one record on the query's fields. */
export function project(record: Record<string, unknown>, fields: readonly string[] | null): Record<string, unknown> {
  return fields === null ? record : pick(record, fields);
}

export interface Collection {
  records?: Record<string, unknown>[];
  num_records: number;
  _links: { self: { href: string }; next?: { href: string } };
}

/** Filters, orders, pages and projects records already in memory. */
export function collect(records: readonly Record<string, unknown>[], q: ListQuery, selfHref: string): Collection {
  let rows = records.filter((r) => q.filters.every(([f, expr]) => matches(getPath(r, f), expr)));
  if (q.orderBy.length > 0) {
    rows = [...rows].sort((a, b) => {
      for (const o of q.orderBy) {
        const c = compare(getPath(a, o.field), getPath(b, o.field));
        if (c !== 0) return o.desc ? -c : c;
      }
      return 0;
    });
  }
  const end = q.maxRecords === undefined ? rows.length : q.offset + q.maxRecords;
  const page = rows.slice(q.offset, end);
  const out: Collection = { num_records: page.length, _links: { self: { href: selfHref } } };
  if (q.returnRecords) out.records = page.map((r) => project(r, q.fields));
  if (end < rows.length) out._links.next = { href: withParam(selfHref, 'start.offset', String(end)) };
  return out;
}

/** The same URL with one query parameter set (replaced when present). */
export function withParam(href: string, name: string, value: string): string {
  const u = new URL(href, 'https://x');
  u.searchParams.set(name, value);
  return `${u.pathname}${u.search}`;
}

/** Every dotted field of a sample record (objects and leaves; arrays are leaves). */
export function fieldsOf(sample: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(sample)) {
    if (k === '_links') continue;
    const name = prefix + k;
    out.push(name);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...fieldsOf(v as Record<string, unknown>, `${name}.`));
  }
  return out;
}
