// Query parameters of the OneFS PAPI routes: each at most once, of its type, and only the ones a
// route names (anything else is a typo the client should hear about: AEC_BAD_REQUEST).
import type { FastifyRequest } from 'fastify';
import type { Query } from '../api/query.js';
import { badField } from '../server/ontap-error.js';

export type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query; Body: unknown }>;

export function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badField(`query parameter \`${name}\` is given more than once`, name);
  return v;
}

export function int(q: Query, name: string, fallback: number): number {
  const v = str(q, name);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v)) throw badField(`query parameter \`${name}\` must be a non-negative integer`, name);
  return Number(v);
}

/** Only these query parameters: anything else is a typo the client should hear about. */
export function allow(q: Query, names: readonly string[]): void {
  for (const k of Object.keys(q)) if (!names.includes(k)) throw badField(`unexpected query parameter \`${k.slice(0, 80)}\``, k);
}
