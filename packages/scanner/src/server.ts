// A scanner server speaking the clamd protocol subset over TCP and/or a unix socket.
// Connection lifecycle: outside IDSESSION one command is served and the connection is closed after its
// reply (as clamd does). Inside IDSESSION every command gets a 1-based id, scans run concurrently and
// replies are written `<id>: <reply>` as each completes (so out of order); after END, or the peer's EOF,
// the connection closes once every pending reply is written. If the peer goes away, its scans abort.
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { ScanEngine } from './engine.js';
import { ScannerError, ScannerErrorCodes } from './errors.js';
import { CommandParser, type CommandName, type ProtocolEvent, type Terminator } from './protocol.js';
import type { ScanResult } from './types.js';

/** Test hooks that make the server misbehave like a sick scanner. All off by default. */
export interface FaultOptions {
  /** Delay every reply by this many ms. @default 0 */
  readonly latencyMs?: number;
  /** Extra delay per command name (e.g. `{ INSTREAM: 200 }`), added to latencyMs. @default {} */
  readonly commandLatencyMs?: Readonly<Partial<Record<CommandName, number>>>;
  /** Accept connections and read commands but never reply. @default false */
  readonly hang?: boolean;
  /** Write the first half of a reply, then destroy the connection. @default false */
  readonly dropMidReply?: boolean;
  /** Reset every new connection at once. @default false */
  readonly refuse?: boolean;
}

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
}

export interface ScannerServerStats {
  readonly connections: number;
  readonly activeConnections: number;
  readonly commands: number;
  readonly scans: number;
  readonly clean: number;
  readonly infected: number;
  readonly errors: number;
  readonly refused: number;
  readonly connectionErrors: number;
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
const kServerOptionKeys = new Set(['engine', 'tcp', 'unix', 'streamMaxLength', 'listenAny', 'faults', 'readTimeoutMs', 'log']);
const kFaultKeys = new Set(['latencyMs', 'commandLatencyMs', 'hang', 'dropMidReply', 'refuse']);
const kClamavVersion = 'ClamAV 1.4.6';

function invalid(message: string): ScannerError {
  return new ScannerError(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION, message);
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

/** C asctime() layout in UTC, e.g. `Sun Jun  1 00:00:00 2025`, as clamd prints database dates. */
export function asctime(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]!} ${months[d.getUTCMonth()]!} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

function verdictText(subject: string, r: ScanResult): string {
  if (r.status === 'clean') return `${subject}: OK`;
  // clamd SCAN/INSTREAM report one name (the first match); ALLMATCHSCAN would list all.
  if (r.status === 'infected') return `${subject}: ${r.threats[0]!} FOUND`;
  if (r.code === ScannerErrorCodes.ERR_SCANNER_FILE_READ && r.message.endsWith('ENOENT')) {
    return `${subject}: File path check failure: No such file or directory. ERROR`;
  }
  return `${subject}: ${r.message}. ERROR`;
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
  let faults = validateFaults(options.faults ?? {});
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  // Phase 2: the engine (owned only when we created it).
  const ownsEngine = options.engine === undefined;
  const engine = options.engine ?? (await ScanEngine.create());

  const counters = { connections: 0, activeConnections: 0, commands: 0, scans: 0, clean: 0, infected: 0, errors: 0, refused: 0, connectionErrors: 0 };
  const sockets = new Set<net.Socket>();

  const statsText = (): string => {
    const w = engine.workers;
    const busy = Math.min(w, engine.pending);
    return ['POOLS: 1', '', 'STATE: VALID PRIMARY', `THREADS: live ${w}  idle ${w - busy} max ${w} idle-timeout 30`, `QUEUE: ${Math.max(0, engine.pending - w)} items`,
      `CONNECTIONS: active ${counters.activeConnections} total ${counters.connections}`,
      'MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used N/A pools_total N/A', 'END'].join('\n');
  };

  const count = (r: ScanResult): ScanResult => {
    counters.scans++;
    counters[r.status === 'error' ? 'errors' : r.status]++;
    return r;
  };

  function serve(socket: net.Socket): void {
    counters.connections++;
    if (faults.refuse) {
      counters.refused++;
      if (typeof socket.resetAndDestroy === 'function' && socket.remoteAddress !== undefined) socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    counters.activeConnections++;
    sockets.add(socket);
    const parser = new CommandParser(streamMax);
    const abort = new AbortController();
    let session = false;
    let nextId = 0;
    let pending = 0;
    let finished = false; // no more commands will be served (END, a served single command, or EOF)
    let stream: { chunks: Uint8Array[]; id: number; term: Terminator } | undefined;
    socket.setTimeout(readTimeoutMs, () => {
      if (pending === 0 && !faults.hang) {
        socket.end('COMMAND READ TIMED OUT\n');
        log(`scanner: connection timed out after ${readTimeoutMs} ms`);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      counters.connectionErrors++;
      log(`scanner: connection error ${err.code ?? err.message}`);
    });
    socket.on('close', () => {
      counters.activeConnections--;
      sockets.delete(socket);
      abort.abort(new Error('client closed the connection'));
    });
    const maybeEnd = () => {
      if (finished && pending === 0 && !socket.destroyed) socket.end();
    };

    const reply = (id: number, text: string, term: Terminator, command: CommandName | undefined) => {
      pending++;
      if (faults.hang) return; // never answered; the peer has to time out
      const delay = (faults.latencyMs ?? 0) + (command ? (faults.commandLatencyMs?.[command] ?? 0) : 0);
      const send = () => {
        pending--;
        if (socket.destroyed) return;
        const bytes = Buffer.from(`${session && id > 0 ? `${id}: ` : ''}${text}${term}`, 'utf8');
        if (faults.dropMidReply) {
          socket.write(bytes.subarray(0, bytes.length >> 1));
          socket.destroy();
          return;
        }
        socket.write(bytes);
        maybeEnd();
      };
      if (delay > 0) setTimeout(send, delay).unref();
      else send();
    };

    const scanReply = (id: number, term: Terminator, command: CommandName, subject: string, p: Promise<ScanResult>) => {
      pending++; // hold the connection open while the scan runs
      p.then(count, (err: unknown) => {
        const code = err instanceof ScannerError ? err.code : ScannerErrorCodes.ERR_SCANNER_WORKER_FAILED;
        return count({ status: 'error', code, message: (err as Error).message });
      }).then((r) => {
        pending--;
        if (!abort.signal.aborted) reply(id, verdictText(subject, r), term, command);
      });
    };

    const onEvent = (ev: ProtocolEvent) => {
      if (ev.type === 'chunk') {
        // A view, not a copy: net sockets hand out a fresh Buffer per read, so the bytes stay put.
        stream?.chunks.push(ev.data);
        return;
      }
      if (ev.type === 'stream-end') {
        const s = stream!;
        stream = undefined;
        scanReply(s.id, s.term, 'INSTREAM', 'stream', engine.scanBuffer(s.chunks.length === 1 ? s.chunks[0]! : Buffer.concat(s.chunks), abort.signal));
        return;
      }
      if (ev.type === 'error') {
        counters.commands++;
        // An error inside an INSTREAM answers that request, under the id it was given (as clamd does).
        const id = stream !== undefined ? stream.id : session ? ++nextId : 0;
        const text = ev.code === ScannerErrorCodes.ERR_SCANNER_STREAM_TOO_LONG ? 'INSTREAM size limit exceeded. ERROR'
          : ev.code === ScannerErrorCodes.ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND ? 'UNKNOWN COMMAND'
          : ev.code === ScannerErrorCodes.ERR_SCANNER_PROTOCOL_TRUNCATED ? ''
          : `${ev.message}. ERROR`;
        stream = undefined;
        finished = true;
        if (text !== '') reply(id, text, ev.term, undefined);
        else maybeEnd();
        return;
      }
      if (finished) return;
      counters.commands++;
      const { name, term } = ev;
      if (name === 'IDSESSION') {
        if (session) {
          reply(++nextId, 'Command invalid inside IDSESSION. ERROR', term, name);
          return;
        }
        session = true;
        return;
      }
      if (name === 'END') {
        finished = true;
        maybeEnd();
        return;
      }
      const id = session ? ++nextId : 0;
      if (!session) finished = true;
      switch (name) {
        case 'PING':
          reply(id, 'PONG', term, name);
          break;
        case 'VERSION':
          reply(id, `${kClamavVersion}/${engine.signatureVersion}/${asctime(engine.signatureTimestamp)}`, term, name);
          break;
        case 'STATS':
          reply(id, statsText(), term, name);
          break;
        case 'SCAN':
          scanReply(id, term, name, ev.arg, engine.scanFile(ev.arg, abort.signal));
          break;
        case 'INSTREAM':
          stream = { chunks: [], id, term };
          break;
      }
    };

    socket.on('data', (data: Buffer) => {
      for (const ev of parser.push(data)) onEvent(ev);
    });
    socket.on('end', () => {
      for (const ev of parser.end()) onEvent(ev);
      finished = true;
      maybeEnd();
    });
  }

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
    const srv = net.createServer({ allowHalfOpen: true }, serve);
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
  let isSocket = false;
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
