// Scanner server addresses. One string per server, as in ONTAP's `servers` list, with a scheme that
// says which protocol to speak:
//   clamd://127.0.0.1:3310          clamd over TCP
//   clamd+unix:///run/clamd.sock     clamd over a unix socket
//   ...?session=0&scan=path          clamd query options, in any order (see parseClamdQuery)
//   icap://127.0.0.1:1344/avscan     ICAP RESPMOD to that service
//   builtin:                         the in-process @avscan/scanner engine
import { DispatchError, DispatchErrorCodes, quote } from './errors.js';

export type ServerType = 'clamd' | 'icap' | 'builtin';

/** Where a socket connects: TCP host and port, or a unix socket path. */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

export interface ServerAddress {
  /** The address exactly as configured; the key of the server everywhere (events, status, metrics). */
  readonly raw: string;
  readonly type: ServerType;
  /** `null` only for `builtin:`. */
  readonly endpoint: Endpoint | null;
  /** ICAP service name (path without the leading `/`); empty for other types. */
  readonly service: string;
  /** What `serverStatus()` reports as `ip`: host, socket path, or `builtin`. */
  readonly ip: string;
  /** clamd only: scan over kept IDSESSION connections (`?session=0` turns it off). @default true for clamd */
  readonly session: boolean;
  /**
   * clamd only: send `zSCAN <path>` for requests that carry a host file path (`?scan=path`), so
   * clamd reads the file itself; `false` (`?scan=instream`, the default) streams every object.
   */
  readonly scanByPath: boolean;
}

const kHostRe = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

function bad(raw: string, why: string): DispatchError {
  return new DispatchError(DispatchErrorCodes.INVALID_ADDRESS, `invalid scanner address ${quote(raw)}: ${why}`, { target: raw });
}

function hostPort(raw: string, rest: string, defaultPort: number): { host: string; port: number; tail: string } {
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const tail = slash === -1 ? '' : rest.slice(slash);
  let host = authority;
  let port = defaultPort;
  const m = /^(.*):(\d{1,5})$/.exec(authority);
  if (m) {
    host = m[1]!;
    port = Number(m[2]);
  } else if (authority.includes(':') && !authority.startsWith('[')) {
    throw bad(raw, 'port must be a number');
  }
  if (!kHostRe.test(host)) throw bad(raw, 'host is missing or malformed');
  if (port < 1 || port > 65535) throw bad(raw, 'port must be 1–65535');
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port, tail };
}

/** The clamd address options: `session=0|1` (default 1), `scan=instream|path` (default instream). */
const kQueryKeys: Readonly<Record<string, readonly string[]>> = { session: ['0', '1'], scan: ['instream', 'path'] };
/** `key=value` pairs joined by `&`: what makes a trailing `?…` a query rather than part of a socket path. */
const kQueryShapeRe = /^[A-Za-z_]+=[^&]*(?:&[A-Za-z_]+=[^&]*)*$/;

interface ClamdQuery { readonly rest: string; readonly session: boolean; readonly scanByPath: boolean }

/**
 * Splits the query off a clamd address and checks it: keys in any order, each at most once, only
 * the known keys and values (anything else is a typo that would silently change behaviour). For a
 * unix socket the query is what follows the LAST `?`, and only when it has the `key=value&…` shape —
 * a `?` elsewhere in a socket path stays part of the path. TCP addresses cannot contain `?`, so
 * there the first `?` starts the query whatever follows.
 */
function parseClamdQuery(raw: string, rest: string, unix: boolean): ClamdQuery {
  const q = unix ? rest.lastIndexOf('?') : rest.indexOf('?');
  if (q === -1) return { rest, session: true, scanByPath: false };
  const query = rest.slice(q + 1);
  if (!kQueryShapeRe.test(query)) {
    if (unix) return { rest, session: true, scanByPath: false };
    throw bad(raw, 'the query must be `key=value` pairs joined by `&`');
  }
  const seen = new Map<string, string>();
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const allowed = Object.hasOwn(kQueryKeys, key) ? kQueryKeys[key]! : null;
    if (allowed === null) throw bad(raw, `unknown option \`${key}\` (clamd addresses take ${Object.keys(kQueryKeys).join(', ')})`);
    if (seen.has(key)) throw bad(raw, `option \`${key}\` given twice`);
    if (!allowed.includes(value)) throw bad(raw, `option \`${key}\` must be ${allowed.join(' or ')}`);
    seen.set(key, value);
  }
  return { rest: rest.slice(0, q), session: seen.get('session') !== '0', scanByPath: seen.get('scan') === 'path' };
}

/** Parses one server address; throws `ERR_DISPATCH_INVALID_ADDRESS`. */
export function parseAddress(raw: unknown): ServerAddress {
  if (typeof raw !== 'string') throw bad(String(raw), 'must be a string');
  if (raw.length === 0 || raw.length > 1024) throw bad(raw, 'must be 1–1024 characters');
  if (raw === 'builtin:') return { raw, type: 'builtin', endpoint: null, service: '', ip: 'builtin', session: false, scanByPath: false };
  if (raw.startsWith('clamd+unix://')) {
    const { rest: path, session, scanByPath } = parseClamdQuery(raw, raw.slice('clamd+unix://'.length), true);
    if (!path.startsWith('/') || path.includes('\0')) throw bad(raw, 'unix socket path must be absolute');
    return { raw, type: 'clamd', endpoint: { path }, service: '', ip: path, session, scanByPath };
  }
  if (raw.startsWith('clamd://')) {
    const { rest, session, scanByPath } = parseClamdQuery(raw, raw.slice('clamd://'.length), false);
    const { host, port, tail } = hostPort(raw, rest, 3310);
    if (tail !== '' && tail !== '/') throw bad(raw, 'clamd addresses take no path');
    return { raw, type: 'clamd', endpoint: { host, port }, service: '', ip: host, session, scanByPath };
  }
  if (raw.startsWith('icap://')) {
    const { host, port, tail } = hostPort(raw, raw.slice('icap://'.length), 1344);
    const service = tail.slice(1);
    if (!/^[A-Za-z0-9_.~!$&'()*+,;=:@%?/-]+$/.test(service)) throw bad(raw, 'icap addresses need a service path, e.g. `/avscan`');
    return { raw, type: 'icap', endpoint: { host, port }, service, ip: host, session: false, scanByPath: false };
  }
  throw bad(raw, 'scheme must be clamd://, clamd+unix://, icap:// or builtin:');
}
