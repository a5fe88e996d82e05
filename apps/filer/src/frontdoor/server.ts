// The clamd-protocol front door: Samba's vfs_virusfilter (scanner = clamav), clamdscan or any clamd
// client asks `zSCAN <absolute path>`; the path is mapped to its SVM, volume and share, the SVM's
// engine decides an open with the share's profile (policy, scan-current attributes, lock and
// coalescing, pools, retries, on_failure), and the answer goes back in clamd's words.
//
// Connection lifecycle, as clamd: outside IDSESSION one command is answered and the connection is
// closed after the reply — Samba's reader waits for the peer to close (REAL-SCANNERS §3.3 #4).
// Inside IDSESSION commands get 1-based ids and replies `<id>: <reply>` come back as each finishes.
// A client that goes away gets no reply; its scan finishes and is recorded like any other. Its access
// carries an abort signal, for an engine that can cancel a wait, that fires when the connection closes
// with a scan still in flight (a reset, or the front door closing; a client's plain FIN leaves the
// connection half-open, allowHalfOpen, until the reply is written).
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { FileAccess } from '@avscan/engine';
import { CommandParser, type ProtocolEvent, type Terminator } from '@avscan/scanner';
import { FilerError, FilerErrorCodes } from '../errors.js';
import type { FilerRuntime } from '../model.js';
import { accessOf } from '../paths.js';
import { locate, type Located } from './locate.js';
import { resolveFrontdoorOptions, type FrontdoorOptions } from './options.js';
import { errorReply, replyOf, type Reply, type ReplyKind } from './reply.js';
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

const kNoSuchFile = 'File path check failure: No such file or directory.';

function failed(err: unknown): Reply {
  return errorReply(`Scan failed: ${(err as Error)?.message ?? String(err)}`);
}

/** The file a SCAN names, as the engine sees it, or the ERROR reply saying why there is none. */
function prepare(runtime: FilerRuntime, raw: string, signal: AbortSignal): Reply | { located: Located; access: FileAccess } {
  let located: Located | undefined;
  try {
    located = locate(runtime, raw);
    const profile = runtime.profileFor(located.resolved.volume.svm, located.share?.profile, 'open');
    const access = accessOf(located.resolved, profile === undefined ? { signal } : { profile, signal });
    return { located, access };
  } catch (err) {
    if (!(err instanceof FilerError)) return failed(err);
    // A missing file is told in clamd's words, which clients and Samba's logs already know.
    if (err.code === FilerErrorCodes.NOT_FOUND && located !== undefined && !existsSync(located.resolved.file)) return errorReply(kNoSuchFile);
    return errorReply(`Access denied: ${err.message}`);
  }
}

/** Judges one SCAN: never throws; every failure is an ERROR reply naming its cause. */
async function scanReply(runtime: FilerRuntime, raw: string, signal: AbortSignal): Promise<Reply> {
  const prepared = prepare(runtime, raw, signal);
  if ('kind' in prepared) return prepared;
  const { located, access } = prepared;
  try {
    const engine = runtime.engine(located.resolved.volume.svm);
    const answer = await engine.open(access);
    if (answer.reason !== 'quarantined') return replyOf(answer);
    // The verdict that quarantined the file may still be in the engine's group commit (an access
    // right after the scan is answered from the engine's cache): wait for it to be durable, so the
    // reply names the threat.
    const key = { volume: access.volume, fileId: access.fileId };
    let threats = (await runtime.store.getAttributes(key))?.threats;
    if (threats === undefined || threats.length === 0) {
      await engine.drain();
      threats = (await runtime.store.getAttributes(key))?.threats;
    }
    return replyOf(answer, threats);
  } catch (err) {
    return failed(err);
  }
}

export async function startFrontdoor(runtime: FilerRuntime, options: FrontdoorOptions): Promise<Frontdoor> {
  const o = resolveFrontdoorOptions(options);
  const sockets = new Set<net.Socket>();
  const counts = { connections: 0, scans: 0, replies: { OK: 0, FOUND: 0, ERROR: 0 } as Record<ReplyKind, number> };

  const serve = (socket: net.Socket): void => {
    counts.connections++;
    sockets.add(socket);
    const parser = new CommandParser(0);
    const cancel = new AbortController();
    let session = false;
    let nextId = 1;
    let pending = 0;
    let ending = false;

    const write = (line: string, term: Terminator): void => {
      if (!socket.destroyed && socket.writable) socket.write(line + term);
    };
    // Closes as clamd does after its last reply (shutdown + close at once, not waiting for the
    // client's FIN): a reply already handed to the kernel is read by the client before its EOF, and
    // the front door pays no half-close, no wait for the peer's FIN and no 'end' event per connection
    // (Samba connects once per open). A reply still queued in the socket is flushed first.
    const finish = (): void => {
      ending = true;
      if (pending > 0) return;
      if (socket.writableLength === 0) socket.destroy();
      else socket.destroySoon();
    };
    const answer = (id: number | null, term: Terminator, work: () => Promise<string>): void => {
      pending++;
      void work().then((text) => {
        pending--;
        if (cancel.signal.aborted) return;
        write(id === null ? text : `${id}: ${text}`, term);
        if (!session || ending) finish();
      });
    };
    const onEvent = (ev: ProtocolEvent): void => {
      if (ending) return;
      if (ev.type === 'error') {
        write(ev.code === 'ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND' ? 'UNKNOWN COMMAND' : `${ev.message} ERROR`, ev.term);
        finish();
        return;
      }
      if (ev.type !== 'command') return; // INSTREAM data: refused below before any arrives
      const id = session ? nextId++ : null;
      const prefix = id === null ? '' : `${id}: `;
      switch (ev.name) {
        case 'PING':
          write(`${prefix}PONG`, ev.term);
          break;
        case 'VERSION':
          write(`${prefix}${o.version}`, ev.term);
          break;
        case 'IDSESSION':
          if (session) {
            write(`${prefix}Command invalid inside IDSESSION. ERROR`, ev.term);
            finish();
            return;
          }
          session = true;
          return;
        case 'END':
          finish();
          return;
        case 'SCAN': {
          counts.scans++;
          answer(id, ev.term, async () => {
            const r = await scanReply(runtime, ev.arg, cancel.signal);
            counts.replies[r.kind]++;
            return `${ev.arg}: ${r.text}`;
          });
          return;
        }
        default:
          // INSTREAM and STATS: a stream has no file identity (no attributes, no lock, no share), so
          // the engine cannot judge it; the front door only speaks for files on its volumes.
          write(`${prefix}${ev.name} is not supported by the avscan front door, use SCAN. ERROR`, ev.term);
          finish();
          return;
      }
      if (!session) finish();
    };

    socket.setTimeout(o.readTimeoutMs, () => {
      // Only an idle client is cut: a scan in flight keeps the connection (its reply is coming).
      if (pending === 0) socket.destroy();
    });
    socket.on('data', (chunk) => {
      for (const ev of parser.push(chunk)) onEvent(ev);
    });
    socket.on('end', () => {
      for (const ev of parser.end()) onEvent(ev);
      if (!ending) finish();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      // Only a scan still in flight has anyone to tell; abort() builds a DOMException with a stack
      // trace, a cost every connection would otherwise pay after its reply (Samba: one per file).
      if (pending > 0) cancel.abort();
    });
  };

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
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }

  return {
    socketPath,
    tcp,
    stats: () => ({ connections: counts.connections, activeConnections: sockets.size, scans: counts.scans, replies: { ...counts.replies } }),
    async close() {
      const closed = servers.map((s) => new Promise((r) => s.close(r)));
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
  };
}
