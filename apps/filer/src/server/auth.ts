// HTTP Basic authentication, as ONTAP's REST API takes it. Compared in constant time; every route
// (API, data path, /docs/api, /metrics) needs it.
import { timingSafeEqual, createHash } from 'node:crypto';
import { OntapCodes, OntapError } from './ontap-error.js';

export interface User {
  readonly name: string;
  readonly password: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Accepted headers kept so a keep-alive client (the data path's hot loop) skips the hashing. */
const kAcceptedCacheSize = 64;

export function makeAuthenticator(users: readonly User[]): (header: string | undefined) => string {
  const known = users.map((u) => ({ name: u.name, hash: digest(`${u.name}:${u.password}`) }));
  // A hash-map hit reveals nothing about how close a wrong header is, unlike a string compare.
  const accepted = new Map<string, string>();
  return (header) => {
    const hit = header === undefined ? undefined : accepted.get(header);
    if (hit !== undefined) return hit;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (m !== null) {
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const h = digest(decoded);
      let who: string | undefined;
      for (const u of known) if (timingSafeEqual(u.hash, h)) who = u.name;
      if (who !== undefined) {
        if (accepted.size >= kAcceptedCacheSize) accepted.delete(accepted.keys().next().value!);
        accepted.set(header!, who);
        return who;
      }
    }
    throw new OntapError(401, OntapCodes.NOT_AUTHORIZED, header === undefined ? 'authentication required' : 'invalid user name or password');
  };
}
