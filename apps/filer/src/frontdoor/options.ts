// Front door options and where its socket goes. Precedence for the unix socket: the `socket` option
// (configuration file or flags), then AVSCAN_CLAMD_SOCKET, then `<stateDir>/clamd.sock`.
import path from 'node:path';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import { groupId } from './socket.js';

export interface FrontdoorOptions {
  /** The filer's state folder; the default socket is `<stateDir>/clamd.sock`. */
  readonly stateDir?: string;
  /** Unix socket path; `false` for none (TCP only). @default AVSCAN_CLAMD_SOCKET, else `<stateDir>/clamd.sock` */
  readonly socket?: string | false;
  /**
   * Let this group (name or gid) connect too: the socket becomes 0660 owned by it. @default none —
   * the socket is 0600, owner only (Samba's smbd connects as root, so it needs no group)
   */
  readonly socketGroup?: string | number;
  /** Also listen on TCP. `host` defaults to 127.0.0.1; a non-loopback host must be given explicitly. */
  readonly tcp?: { readonly port: number; readonly host?: string };
  /** Idle time allowed before a connection sends a complete command, ms. @default 30000 (clamd ReadTimeout) */
  readonly readTimeoutMs?: number;
  /** Reply to VERSION. @default `avscan <package version> (clamd protocol)` */
  readonly version?: string;
  /** Environment read for AVSCAN_CLAMD_SOCKET. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedFrontdoorOptions {
  readonly socket: string | null;
  readonly gid: number | undefined;
  readonly tcp: { readonly port: number; readonly host: string } | null;
  readonly readTimeoutMs: number;
  readonly version: string;
}

export const kFrontdoorVersion = 'avscan 0.1.0 (clamd protocol)';

function bad(field: string, value: unknown, expected: string): FilerError {
  return new FilerError(FilerErrorCodes.INVALID_CONFIG, `frontdoor.${field} must be ${expected}, got ${show(value)}`, `frontdoor.${field}`);
}

export function resolveFrontdoorOptions(o: FrontdoorOptions): ResolvedFrontdoorOptions {
  const env = o.env ?? process.env;
  let socket: string | null;
  if (o.socket === false) socket = null;
  else if (o.socket !== undefined) {
    if (typeof o.socket !== 'string' || o.socket.length === 0) throw bad('socket', o.socket, 'a path or false');
    socket = path.resolve(o.socket);
  } else if (env['AVSCAN_CLAMD_SOCKET']) socket = path.resolve(env['AVSCAN_CLAMD_SOCKET']);
  else if (o.stateDir !== undefined) socket = path.resolve(o.stateDir, 'clamd.sock');
  else throw bad('socket', undefined, 'given (or stateDir, or AVSCAN_CLAMD_SOCKET)');
  // sockaddr_un.sun_path is 108 bytes with its NUL: a longer path fails at bind with a vague EINVAL.
  if (socket !== null && Buffer.byteLength(socket) > 107) throw bad('socket', socket, 'at most 107 bytes long (unix socket limit)');

  let tcp: ResolvedFrontdoorOptions['tcp'] = null;
  if (o.tcp !== undefined) {
    const { port, host = '127.0.0.1' } = o.tcp;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad('tcp.port', port, 'an integer 0..65535');
    if (typeof host !== 'string' || host.length === 0) throw bad('tcp.host', host, 'a host name or address');
    tcp = { port, host };
  }
  if (socket === null && tcp === null) throw bad('socket', false, 'a path when there is no tcp listener');
  const readTimeoutMs = o.readTimeoutMs ?? 30_000;
  if (!Number.isFinite(readTimeoutMs) || readTimeoutMs <= 0) throw bad('readTimeoutMs', readTimeoutMs, 'a number of ms > 0');
  return {
    socket,
    gid: o.socketGroup === undefined ? undefined : groupId(o.socketGroup),
    tcp,
    readTimeoutMs,
    version: o.version ?? kFrontdoorVersion,
  };
}
