// Reading OneFS PAPI request bodies: a JSON object with only the named fields, each of its JSON type
// and range. A refusal is the filer's one error (400, ONTAP code 2), answered in PAPI's shape by the
// server (`AEC_BAD_REQUEST` with `field`).
import { badField } from '../server/ontap-error.js';

export type Body = Record<string, unknown>;

export function objectOf(body: unknown, allowed: readonly string[]): Body {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badField('the body must be a JSON object');
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badField(`unexpected field \`${k.slice(0, 80)}\``, k);
  return body as Body;
}

export function boolOf(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v !== undefined && typeof v !== 'boolean') throw badField(`\`${name}\` must be a boolean`, name);
  return v;
}

export function intOf(b: Body, name: string, min: number, max: number): number | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw badField(`\`${name}\` must be an integer from ${min} to ${max}`, name);
  return v;
}

export function strOf(b: Body, name: string, min: number, max: number): string | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length < min || v.length > max || v.includes('\0')) throw badField(`\`${name}\` must be a string of ${min}–${max} characters`, name);
  return v;
}

export function listOf(b: Body, name: string, maxItems: number, maxLength = 255): string[] | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > maxItems || v.some((x) => typeof x !== 'string' || x.length === 0 || x.length > maxLength || x.includes('\0'))) {
    throw badField(`\`${name}\` must be a list of at most ${maxItems} strings of 1–${maxLength} characters`, name);
  }
  return [...(v as string[])];
}

export function oneOf<T extends string>(b: Body, name: string, values: readonly T[]): T | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw badField(`\`${name}\` must be one of ${values.join(', ')}`, name);
  return v as T;
}
