// The clamd-protocol front door: Samba's vfs_virusfilter (scanner = clamav), clamdscan or any clamd
// client asks `zSCAN <absolute path>`; the path is mapped to its SVM, volume and share, the SVM's
// engine decides an open with the share's profile (policy, scan-current attributes, lock and
// coalescing, pools, retries, on_failure), and the answer goes back in clamd's words. One connection
// is served by connection.ts, one SCAN judged by scan.ts; here are the listeners, the idle sweep and
// the stats.
import net from 'node:net';
import type { FilerRuntime } from '../model.js';
import { Connection, type Door } from './connection.js';
import { resolveFrontdoorOptions, type FrontdoorOptions } from './options.js';
import type { ReplyKind } from './reply.js';
import { listenUnix } from './socket.js';

export interface FrontdoorStats {
  readonly connections: number;
  readonly activeConnections: number;
  /** SCAN / nSCAN / zSCAN requests received. */
  readonly scans: number;
  readonly replies: Readonly<Record<ReplyKind, number>>;
}

export interface Frontdoor {
  /** Absolute path of the unix socket, `null` when there is none. */
  readonly socketPath: string | null;
  readonly tcp: { readonly host: string; readonly port: number } | null;
  stats(): FrontdoorStats;
  /** Stops listening and drops open connections (their scans finish and are recorded); removes the socket file. */
  close(): Promise<void>;
}

const kIdleSweeps = 8;
/** setInterval's longest period (a longer one fires after 1 ms). */
const kMaxTimerMs = 2 ** 31 - 1;

export async function startFrontdoor(runtime: FilerRuntime, options: FrontdoorOptions): Promise<Frontdoor> {
  const o = resolveFrontdoorOptions(options);
  const door: Door = {
    runtime,
    version: o.version,
    counts: { connections: 0, scans: 0, replies: { OK: 0, FOUND: 0, ERROR: 0 } },
    connections: new Set(),
  };
  const serve = (socket: net.Socket): void => void new Connection(socket, door);
  // One timer for every connection, where socket.setTimeout would arm one per connection at accept,
  // re-arm it at every read and write and clear it at close (Samba connects once per file): every
  // readTimeoutMs/8 each connection counts a sweep, a read or a reply resets its count, and one that
  // has no scan in flight and has counted more than 8 (idle for readTimeoutMs, at most 1/8 more) is cut.
  const sweep = setInterval(() => {
    for (const c of door.connections) if (++c.idleSweeps > kIdleSweeps && !c.busy) c.socket.destroy();
  }, Math.min(o.readTimeoutMs / kIdleSweeps, kMaxTimerMs));
  sweep.unref();

  const servers: net.Server[] = [];
  let socketPath: string | null = null;
  let tcp: Frontdoor['tcp'] = null;
  try {
    if (o.socket !== null) {
      const unix = net.createServer({ allowHalfOpen: true }, serve);
      await listenUnix(unix, o.socket, o.gid);
      servers.push(unix);
      socketPath = o.socket;
    }
    if (o.tcp !== null) {
      const t = net.createServer({ allowHalfOpen: true }, serve);
      await new Promise<void>((resolve, reject) => {
        t.once('error', reject);
        t.listen(o.tcp!.port, o.tcp!.host, () => {
          t.off('error', reject);
          resolve();
        });
      });
      servers.push(t);
      const addr = t.address() as net.AddressInfo;
      tcp = { host: addr.address, port: addr.port };
    }
  } catch (err) {
    clearInterval(sweep);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }

  return {
    socketPath,
    tcp,
    stats: () => ({ connections: door.counts.connections, activeConnections: door.connections.size, scans: door.counts.scans, replies: { ...door.counts.replies } }),
    async close() {
      clearInterval(sweep);
      const closed = servers.map((s) => new Promise((r) => s.close(r)));
      for (const c of door.connections) c.socket.destroy();
      await Promise.all(closed);
    },
  };
}
