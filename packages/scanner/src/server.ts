// A scanner server speaking the clamd protocol subset over TCP and/or a unix socket.
// Memory is bounded the clamd way: at most `maxConnections` connections are served at once (clamd's
// MaxThreads); later ones wait, unread, in a FIFO queue of at most `maxWaitingConnections` (clamd's
// listen queue), so their bytes stay in the kernel; and an INSTREAM larger than `streamSpoolThreshold`
// is written to a private temporary file (clamd's TemporaryDirectory) and scanned from there. Each
// served connection is one ClientConnection (connection.ts).
import { mkdtempSync, lstatSync, rmSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientConnection, type ConnectionContext, type Counters, type FaultOptions } from './connection.js';
import { ScanEngine } from './engine.js';
import { ScannerError, ScannerErrorCodes } from './errors.js';

export type { FaultOptions } from './connection.js';

export interface ScannerServerOptions {
  /** Engine to scan with; when omitted one is created (default options) and closed with the server. */
  readonly engine?: ScanEngine;
  /** TCP address; port 0 picks a free port. Loopback only unless `listenAny`. */
  readonly tcp?: { readonly host: string; readonly port: number };
  /** Unix socket path; a stale socket file there is replaced. */
  readonly unix?: string;
  /** Largest INSTREAM accepted, bytes (clamd StreamMaxLength). @default 26214400 (25 MiB) */
  readonly streamMaxLength?: number;
  /** Allow non-loopback TCP hosts. @default false */
  readonly listenAny?: boolean;
  /** Initial fault injection. @default {} */
  readonly faults?: FaultOptions;
  /** Idle time before a connection that has not sent a complete command is closed, ms. @default 30000 */
  readonly readTimeoutMs?: number;
  /** Where the one-line-per-connection-error log goes. @default writes to stderr */
  readonly log?: (line: string) => void;
  /** Connections served at once (clamd MaxThreads); later ones wait unread. @default 64 */
  readonly maxConnections?: number;
  /** Connections allowed to wait for a slot; beyond it a new connection is closed at once. @default 1024 */
  readonly maxWaitingConnections?: number;
  /** An INSTREAM larger than this many bytes is spooled to a temporary file. @default 1048576 (1 MiB) */
  readonly streamSpoolThreshold?: number;
  /** Parent of the server's private spool directory. @default os.tmpdir() */
  readonly spoolDirectory?: string;
}

export interface ScannerServerStats {
  /** Connections accepted since start (including refused ones). */
  readonly connections: number;
  /** Connections being served now (≤ maxConnections). */
  readonly activeConnections: number;
  /** Connections waiting, unread, for a slot. */
  readonly waitingConnections: number;
  readonly commands: number;
  readonly scans: number;
  readonly clean: number;
  readonly infected: number;
  readonly errors: number;
  /** Connections reset by the `refuse` fault or closed because the wait queue was full. */
  readonly refused: number;
  readonly connectionErrors: number;
  /** INSTREAM payload bytes received. */
  readonly streamBytes: number;
  /** INSTREAMs that were spooled to a temporary file and scanned from it. */
  readonly spooledStreams: number;
}

export interface ScannerServer {
  readonly tcp?: { readonly host: string; readonly port: number };
  readonly unixPath?: string;
  readonly engine: ScanEngine;
  setFaults(f: FaultOptions): void;
  stats(): ScannerServerStats;
  close(): Promise<void>;
}

const kDefaultStreamMax = 25 * 1024 * 1024;
const kDefaultMaxConnections = 64;
const kDefaultMaxWaiting = 1024;
const kDefaultSpoolThreshold = 1024 * 1024;
const kServerOptionKeys = new Set([
  'engine', 'tcp', 'unix', 'streamMaxLength', 'listenAny', 'faults', 'readTimeoutMs', 'log',
  'maxConnections', 'maxWaitingConnections', 'streamSpoolThreshold', 'spoolDirectory',
]);
const kFaultKeys = new Set(['latencyMs', 'commandLatencyMs', 'hang', 'dropMidReply', 'refuse']);

function invalid(message: string): ScannerError {
  return new ScannerError(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION, message);
}

function intOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`option \`${name}\` must be an integer in ${min}..${max}, got \`${String(value)}\``);
  }
  return value;
}

function validateFaults(f: unknown): FaultOptions {
  if (f === null || typeof f !== 'object') throw invalid('option `faults` must be an object');
  for (const [k, v] of Object.entries(f)) {
    if (!kFaultKeys.has(k)) throw invalid(`unknown fault option \`${k}\``);
    if (v === undefined) continue;
    if (k === 'latencyMs' && (typeof v !== 'number' || !(v >= 0))) throw invalid(`fault option \`latencyMs\` must be a number >= 0, got \`${String(v)}\``);
    if (k === 'commandLatencyMs' && (v === null || typeof v !== 'object')) throw invalid('fault option `commandLatencyMs` must be an object');
    if ((k === 'hang' || k === 'dropMidReply' || k === 'refuse') && typeof v !== 'boolean') throw invalid(`fault option \`${k}\` must be a boolean`);
  }
  return Object.freeze({ ...(f as FaultOptions) });
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export async function startScannerServer(options: ScannerServerOptions): Promise<ScannerServer> {
  // Phase 1: validate eagerly, before anything listens.
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  for (const k of Object.keys(options)) if (!kServerOptionKeys.has(k)) throw invalid(`unknown option \`${k}\``);
  if (options.tcp === undefined && options.unix === undefined) throw invalid('one of `tcp` or `unix` is required');
  const streamMax = options.streamMaxLength ?? kDefaultStreamMax;
  if (!Number.isInteger(streamMax) || streamMax < 1 || streamMax > 0xffffffff) throw invalid(`option \`streamMaxLength\` must be an integer in 1..4294967295, got \`${String(streamMax)}\``);
  const readTimeoutMs = options.readTimeoutMs ?? 30_000;
  if (typeof readTimeoutMs !== 'number' || !(readTimeoutMs > 0)) throw invalid('option `readTimeoutMs` must be a number > 0');
  if (options.tcp !== undefined) {
    const { host, port } = options.tcp;
    if (typeof host !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535) throw invalid('option `tcp` must be `{ host: string, port: 0..65535 }`');
    if (!isLoopbackHost(host) && options.listenAny !== true) {
      throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_NON_LOOPBACK, `refusing to listen on non-loopback host \`${host}\` without listenAny`);
    }
  }
  if (options.unix !== undefined && (typeof options.unix !== 'string' || options.unix === '')) throw invalid('option `unix` must be a non-empty path');
  const maxConnections = intOption(options.maxConnections, 'maxConnections', kDefaultMaxConnections, 1, 1_000_000);
  const maxWaiting = intOption(options.maxWaitingConnections, 'maxWaitingConnections', kDefaultMaxWaiting, 0, 1_000_000);
  const spoolThreshold = intOption(options.streamSpoolThreshold, 'streamSpoolThreshold', kDefaultSpoolThreshold, 0, 0xffffffff);
  const spoolParent = options.spoolDirectory ?? tmpdir();
  if (typeof spoolParent !== 'string' || spoolParent === '') throw invalid('option `spoolDirectory` must be a non-empty path');
  let faults = validateFaults(options.faults ?? {});
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  // Phase 2: the engine (owned only when we created it) and the private spool directory.
  let spoolDir: string;
  try {
    spoolDir = mkdtempSync(join(spoolParent, 'avscan-spool-'));
  } catch (err) {
    throw invalid(`option \`spoolDirectory\`: cannot create a directory in \`${spoolParent}\`: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const ownsEngine = options.engine === undefined;
  let engine: ScanEngine;
  try {
    engine = options.engine ?? (await ScanEngine.create());
  } catch (err) {
    rmSync(spoolDir, { recursive: true, force: true });
    throw err;
  }

  const counters: Counters = {
    connections: 0, activeConnections: 0, waitingConnections: 0, commands: 0, scans: 0, clean: 0, infected: 0, errors: 0,
    refused: 0, connectionErrors: 0, streamBytes: 0, spooledStreams: 0,
  };
  const sockets = new Set<net.Socket>();
  // Invariant: sockets accepted while maxConnections were served, paused, in arrival order.
  const waiting: net.Socket[] = [];
  let spoolFiles = 0;

  const context: ConnectionContext = {
    engine,
    streamMaxLength: streamMax,
    readTimeoutMs,
    spoolThreshold,
    spoolPath: () => join(spoolDir, `stream-${++spoolFiles}`),
    faults: () => faults,
    counters,
    statsText() {
      const w = engine.workers;
      const busy = Math.min(w, engine.pending);
      return ['POOLS: 1', '', 'STATE: VALID PRIMARY', `THREADS: live ${w}  idle ${w - busy} max ${w} idle-timeout 30`, `QUEUE: ${Math.max(0, engine.pending - w)} items`,
        `CONNECTIONS: active ${counters.activeConnections} waiting ${counters.waitingConnections} total ${counters.connections}`,
        'MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used N/A pools_total N/A', 'END'].join('\n');
    },
    log,
  };

  const serve = (socket: net.Socket): void => {
    counters.activeConnections++;
    new ClientConnection(socket, context, () => {
      counters.activeConnections--;
      sockets.delete(socket);
      admitWaiting();
    });
  };

  const admitWaiting = (): void => {
    while (counters.activeConnections < maxConnections && waiting.length > 0) {
      const next = waiting.shift()!;
      counters.waitingConnections--;
      if (!next.destroyed) serve(next);
    }
  };

  const accept = (socket: net.Socket): void => {
    counters.connections++;
    if (faults.refuse) {
      counters.refused++;
      if (typeof socket.resetAndDestroy === 'function' && socket.remoteAddress !== undefined) socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    if (counters.activeConnections < maxConnections) {
      sockets.add(socket);
      serve(socket);
      return;
    }
    if (waiting.length >= maxWaiting) {
      counters.refused++;
      log(`scanner: ${maxConnections} connections served and ${maxWaiting} waiting, closing a new one`);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    waiting.push(socket);
    counters.waitingConnections++;
    socket.on('error', () => {}); // reported once served; a waiting socket that fails is skipped then
    socket.once('close', () => {
      const i = waiting.indexOf(socket);
      if (i >= 0) {
        waiting.splice(i, 1);
        counters.waitingConnections--;
        sockets.delete(socket);
      }
    });
  };

  // Phase 3: listen.
  const servers: net.Server[] = [];
  const listen = (srv: net.Server, arg: net.ListenOptions) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ScannerError(ScannerErrorCodes.ERR_SCANNER_LISTEN, `cannot listen on \`${arg.path ?? `${arg.host}:${arg.port}`}\`: ${err.code ?? err.message}`, { cause: err })));
      srv.listen(arg, () => {
        srv.on('error', (err) => log(`scanner: server error ${err.message}`));
        resolve();
      });
    });
  const makeServer = () => {
    // Paused until served: a waiting connection's bytes stay in the kernel (TCP backpressure).
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, accept);
    servers.push(srv);
    return srv;
  };
  let tcp: { host: string; port: number } | undefined;
  let unixPath: string | undefined;
  try {
    if (options.tcp) {
      const srv = makeServer();
      await listen(srv, { host: options.tcp.host, port: options.tcp.port });
      const addr = srv.address() as net.AddressInfo;
      tcp = { host: options.tcp.host, port: addr.port };
    }
    if (options.unix !== undefined) {
      await claimUnixPath(options.unix);
      await listen(makeServer(), { path: options.unix });
      unixPath = options.unix;
    }
  } catch (err) {
    for (const s of servers) s.close();
    rmSync(spoolDir, { recursive: true, force: true });
    if (ownsEngine) await engine.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  const server: ScannerServer = {
    ...(tcp ? { tcp } : {}),
    ...(unixPath !== undefined ? { unixPath } : {}),
    engine,
    setFaults(f: FaultOptions) {
      faults = validateFaults(f);
    },
    stats: () => ({ ...counters }),
    close() {
      closing ??= (async () => {
        const closed = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
        for (const s of sockets) s.destroy();
        await Promise.all(closed);
        if (unixPath !== undefined) removeStaleSocket(unixPath);
        if (ownsEngine) await engine.close();
        rmSync(spoolDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
  return server;
}

/** Removes a leftover socket file (never a regular file) so listen() does not fail with EADDRINUSE. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent: nothing to remove
  }
}

/** Like clamd's FixStaleSocket: a socket file nobody answers on is removed; a live one is an error. */
async function claimUnixPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // absent
  }
  if (!isSocket) return; // listen() reports EADDRINUSE; never delete a regular file
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_LISTEN, `cannot listen on \`${path}\`: another server is accepting connections there`);
  removeStaleSocket(path);
}
