// HTTP Basic authentication, as ONTAP's REST API takes it. Compared in constant time; every route
// (API, data path, /docs/api, /metrics) needs it.
import { timingSafeEqual, createHash } from 'node:crypto';
import { OntapCodes, OntapError } from './ontap-error.js';

export interface User {
  readonly name: string;
  readonly password: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function makeAuthenticator(users: readonly User[]): (header: string | undefined) => string {
  const known = users.map((u) => ({ name: u.name, hash: digest(`${u.name}:${u.password}`) }));
  return (header) => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (m !== null) {
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const h = digest(decoded);
      let who: string | undefined;
      for (const u of known) if (timingSafeEqual(u.hash, h)) who = u.name;
      if (who !== undefined) return who;
    }
    throw new OntapError(401, OntapCodes.NOT_AUTHORIZED, header === undefined ? 'authentication required' : 'invalid user name or password');
  };
}
