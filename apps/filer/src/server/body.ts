// Request bodies as ONTAP clients send them: nested objects or flat dotted keys
// (`{"scope.max_file_size": 1024}` from the netapp.ontap modules), merged into one nested object
// before the route schema validates it. The same field given both ways is refused.
import { badField } from './ontap-error.js';

const kForbidden = new Set(['__proto__', 'constructor', 'prototype']);

export function expandDotted(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: Record<string, unknown> = {};
  const entries = Object.entries(body as Record<string, unknown>);
  // Nested objects first, so a dotted key can be checked against them.
  for (const [k, v] of entries) {
    if (kForbidden.has(k)) throw badField(`unexpected field \`${k}\``, k);
    if (!k.includes('.')) out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? expandDotted(v) : v;
  }
  for (const [k, v] of entries) {
    if (!k.includes('.')) continue;
    const parts = k.split('.');
    if (parts.some((p) => p === '' || kForbidden.has(p))) throw badField(`unexpected field \`${k.slice(0, 80)}\``, k);
    let cur = out;
    for (const p of parts.slice(0, -1)) {
      const next = cur[p];
      if (next === undefined) cur = (cur[p] = {}) as Record<string, unknown>;
      else if (next !== null && typeof next === 'object' && !Array.isArray(next)) cur = next as Record<string, unknown>;
      else throw badField(`field \`${k.slice(0, 80)}\` conflicts with \`${p}\``, k);
    }
    const leaf = parts.at(-1)!;
    if (leaf in cur) throw badField(`field \`${k.slice(0, 80)}\` is given twice (nested and dotted)`, k);
    cur[leaf] = v;
  }
  return out;
}
