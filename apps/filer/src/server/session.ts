// OneFS PAPI session login (ONTAP-API.md §3.4, as isilon_sdk uses it): `POST /session/1/session`
// with `{username, password, services}` answers 201 with `isisessid` and `isicsrf` cookies; later
// requests carry `Cookie: isisessid=…` and, when they change something, `X-CSRF-Token: <isicsrf>`.
// Sessions live in memory (a restart logs everyone out, as a OneFS node reboot does) and expire after
// `inactiveS` without use or `absoluteS` after login.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { User } from './auth.js';
import { OntapCodes, OntapError } from './ontap-error.js';

export const kSessionPath = '/session/1/session';

interface Session {
  readonly user: string;
  readonly csrf: string;
  readonly created: number;
  used: number;
}

export interface Sessions {
  /** Checks the credentials and opens a session. */
  login(body: unknown): { readonly id: string; readonly csrf: string; readonly user: string; readonly timeoutAbsolute: number; readonly timeoutInactive: number };
  /** The user of the request's session cookie, or undefined when it carries none (or an expired one). */
  user(cookie: string | undefined, csrf: string | undefined, changes: boolean): string | undefined;
  logout(cookie: string | undefined): boolean;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function createSessions(users: readonly User[], options: { inactiveS?: number; absoluteS?: number; clock?: () => number } = {}): Sessions {
  const inactiveS = options.inactiveS ?? 900;
  const absoluteS = options.absoluteS ?? 14_400;
  const clock = options.clock ?? Date.now;
  const known = users.map((u) => ({ name: u.name, hash: digest(`${u.name}:${u.password}`) }));
  const sessions = new Map<string, Session>();
  const live = (id: string | undefined): Session | undefined => {
    const s = id === undefined ? undefined : sessions.get(id);
    if (s === undefined) return undefined;
    const now = clock();
    if (now - s.used > inactiveS * 1000 || now - s.created > absoluteS * 1000) {
      sessions.delete(id!);
      return undefined;
    }
    s.used = now;
    return s;
  };
  return {
    login(body) {
      const b = (body ?? {}) as { username?: unknown; password?: unknown };
      if (typeof b.username !== 'string' || typeof b.password !== 'string') {
        throw new OntapError(400, OntapCodes.BAD_FIELD, '`username` and `password` are required', typeof b.username === 'string' ? 'password' : 'username');
      }
      const h = digest(`${b.username}:${b.password}`);
      let who: string | undefined;
      for (const u of known) if (timingSafeEqual(u.hash, h)) who = u.name;
      if (who === undefined) throw new OntapError(401, OntapCodes.NOT_AUTHORIZED, 'invalid user name or password');
      const id = randomBytes(24).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      const now = clock();
      sessions.set(id, { user: who, csrf, created: now, used: now });
      return { id, csrf, user: who, timeoutAbsolute: absoluteS, timeoutInactive: inactiveS };
    },
    user(cookie, csrf, changes) {
      const s = live(cookieValue(cookie, 'isisessid'));
      if (s === undefined) return undefined;
      // A change needs the CSRF token too: a cookie alone is what a cross-site form would send.
      if (changes && (csrf === undefined || csrf.length !== s.csrf.length || !timingSafeEqual(Buffer.from(csrf), Buffer.from(s.csrf)))) {
        throw new OntapError(401, OntapCodes.NOT_AUTHORIZED, 'a session request that changes something needs the X-CSRF-Token header');
      }
      return s.user;
    },
    logout(cookie) {
      const id = cookieValue(cookie, 'isisessid');
      return id !== undefined && sessions.delete(id);
    },
  };
}
