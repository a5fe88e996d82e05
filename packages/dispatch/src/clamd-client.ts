// clamd client: zINSTREAM of a buffer or a file, or (scan-by-path mode) zSCAN of a file's path, over a
// kept IDSESSION connection from a per-server pool (default) or a fresh connection per request; zPING +
// zVERSION on a fresh connection as the probe (it proves the server still accepts). Replies are parsed by clamd-protocol.ts,
// requests framed by clamd-instream.ts.
import type { Endpoint } from './address.js';
import { FileSource, instreamBuffer, instreamFile, type Sender } from './clamd-instream.js';
import { SessionPool } from './clamd-pool.js';
import {
  clamdVerdict, kPingCommand, kVersionCommand, parseClamdReply, parsePing, parseVersion, pathRefused, pathSendable, replyEnd, scanCommand,
} from './clamd-protocol.js';
import type { ClamdSession } from './clamd-session.js';
import { connect, socketError, throwIfAborted, type ProbeResult, type ScanInput, type ScannerClient, type ScannerVerdict } from './client.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';

const kMaxReply = 64 * 1024;

/**
 * One request on a fresh connection: `send` writes the request, the first terminated reply wins and
 * the connection is closed. A reply that arrives while we are still writing (clamd's
 * `INSTREAM size limit exceeded`) is kept, whatever write errors follow.
 */
export function clamdExchange(ep: Endpoint, target: string, signal: AbortSignal, send: Sender): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    throwIfAborted(signal);
    const sock = connect(ep);
    let buf: Buffer | null = null;
    let connected = false;
    let settled = false;
    let lastError: NodeJS.ErrnoException | undefined;
    const onAbort = (): void => finish(signal.reason, '');
    const finish = (err: unknown, reply: string): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err !== null) reject(err);
      else resolve(reply);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('connect', () => {
      connected = true;
      try {
        const p = send(sock, () => settled);
        // Socket write failures surface as 'error'/'close'; a rejection here is the file failing to read.
        if (p) p.catch((e: unknown) => finish(e, ''));
      } catch (e) {
        finish(e, '');
      }
    });
    sock.on('data', (d: Buffer) => {
      const from = buf === null ? 0 : buf.length;
      buf = buf === null ? d : Buffer.concat([buf, d]);
      const end = replyEnd(buf, from);
      if (end !== -1) finish(null, buf.toString('utf8', 0, end));
      else if (buf.length > kMaxReply) finish(new DispatchError(DispatchErrorCodes.PROTOCOL, `clamd reply from ${target} longer than ${kMaxReply} bytes`, { target }), '');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => { lastError = e; });
    // Checked first: building an error (stack capture) for every normally closed socket is costly.
    sock.on('close', () => { if (!settled) finish(socketError(lastError, connected, target), ''); });
  });
}


/** A request ready to write, and the file it holds open (if any) to dispose after it. */
interface Prepared { readonly sender: Sender; readonly src: FileSource | null }

/**
 * zSCAN replies other than verdicts after which clamd keeps the IDSESSION usable (checked with clamd
 * 1.4.6). Any other error drops the session — e.g. a special file, for which clamd sends a second
 * reply with the same id (`… Not supported file type ERROR`, then `… OK`).
 */
const kKeepAfterErrorRe = /: (?:(?:Access denied|File path check failure)[^\0]* ERROR|Excluded)$/;

/**
 * After a reply: clamd closes the connection after an INSTREAM error reply (size limit), so only
 * verdicts keep the session — and a zSCAN's path refusal, after which clamd keeps it going (verified).
 */
function keepOrDrop(pool: SessionPool, s: ClamdSession, reply: string): void {
  if (reply.endsWith(': OK') || reply.endsWith(' FOUND') || kKeepAfterErrorRe.test(reply)) pool.release(s);
  else s.destroy();
}

export interface ClamdClientOptions {
  /**
   * Send `zSCAN <path>` for files instead of streaming them: clamd reads the file itself. Paths clamd
   * cannot take (relative, NUL, newline) and paths clamd says it cannot read go by INSTREAM. @default false
   */
  readonly scanByPath?: boolean;
  /** Stream over kept IDSESSION connections instead of a new connection per request. @default true */
  readonly sessions?: boolean;
  /** Idle sessions kept (the dispatcher passes max_connections_per_server). @default 20 */
  readonly maxSessions?: number;
  /** An idle session older than this (ms) is closed, well before clamd's IdleTimeout (30 s default). @default 10000 */
  readonly sessionIdleMs?: number;
}

export class ClamdClient implements ScannerClient {
  readonly #ep: Endpoint;
  readonly #target: string;
  readonly #byPath: boolean;
  /** `null` when sessions are off: one connection per request. */
  readonly #pool: SessionPool | null;
  #pathFallbacks = 0;

  constructor(endpoint: Endpoint, target: string, options: ClamdClientOptions = {}) {
    this.#ep = endpoint;
    this.#target = target;
    this.#byPath = options.scanByPath ?? false;
    this.#pool = (options.sessions ?? true)
      ? new SessionPool(endpoint, target, { maxIdle: options.maxSessions ?? 20, idleMs: options.sessionIdleMs ?? 10_000 })
      : null;
  }

  /** Kept sessions (open now, idle now); zeros when sessions are off. */
  get sessions(): { open: number; idle: number } {
    return { open: this.#pool?.size ?? 0, idle: this.#pool?.idle ?? 0 };
  }

  /** Path-mode requests that clamd could not read and that were streamed instead. */
  get pathFallbacks(): number {
    return this.#pathFallbacks;
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    parsePing(await clamdExchange(this.#ep, this.#target, signal, (s) => void s.write(kPingCommand)));
    const v = parseVersion(await clamdExchange(this.#ep, this.#target, signal, (s) => void s.write(kVersionCommand)));
    return { vendor: v.vendor, version: v.version, stamp: v.stamp, timestamp: v.dbTime };
  }

  scan(input: ScanInput, signal: AbortSignal): Promise<ScannerVerdict> {
    const file = input.file;
    const pool = this.#pool;
    const byPath = this.#byPath && file !== undefined && pathSendable(file);
    if (pool !== null) {
      const kept = pool.take();
      if (kept !== null) return byPath ? this.#pathOnKept(pool, kept, file, input, signal) : this.#streamOnKept(pool, kept, input, signal);
    }
    return this.#scan(input, signal, false);
  }

  /**
   * The INSTREAM hot path on a kept session, like #pathOnKept: the reply callback settles the one
   * promise. Failures take the same turns as #stream → #onSession → #request did.
   */
  #streamOnKept(pool: SessionPool, s: ClamdSession, input: ScanInput, signal: AbortSignal): Promise<ScannerVerdict> {
    let prepared: Prepared;
    try {
      prepared = this.#prepare(input);
    } catch (e) {
      pool.release(s);
      return this.#failStream(e, signal);
    }
    return new Promise<ScannerVerdict>((resolve, reject) => {
      s.requestWith(prepared.sender, signal, (err, reply) => {
        prepared.src?.dispose();
        if (reply === null) {
          if (signal.aborted || !(err instanceof DispatchError) || err.code !== DispatchErrorCodes.SERVER_DIED) resolve(this.#failStream(err, signal));
          else resolve(this.#stream(input, signal, true));
          return;
        }
        keepOrDrop(pool, s, reply);
        try {
          resolve(clamdVerdict(parseClamdReply(reply), this.#target));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  async #failStream(e: unknown, signal: AbortSignal): Promise<never> {
    throw await this.#explainUploadReset(e, signal);
  }

  /**
   * The hot path, scan-by-path on a kept session: one promise, settled from the session's reply
   * callback, with no async frames between clamd's reply and the dispatcher. Anything unusual leaves
   * for the general path exactly where #onSession would.
   */
  #pathOnKept(pool: SessionPool, s: ClamdSession, file: string, input: ScanInput, signal: AbortSignal): Promise<ScannerVerdict> {
    const cmd = scanCommand(file);
    return new Promise<ScannerVerdict>((resolve, reject) => {
      const sender: Sender = (sock) => void sock.write(cmd);
      s.requestWith(sender, signal, (err, reply) => {
        if (reply === null) {
          if (signal.aborted || !(err instanceof DispatchError) || err.code !== DispatchErrorCodes.SERVER_DIED) reject(err);
          else resolve(this.#scan(input, signal, true));
          return;
        }
        keepOrDrop(pool, s, reply);
        try {
          const v = parseClamdReply(reply, file);
          if (!pathRefused(v)) return resolve(clamdVerdict(v, this.#target));
        } catch (e) {
          return reject(e);
        }
        this.#pathFallbacks++;
        resolve(this.#stream(input, signal, false));
      });
    });
  }

  /** The general path; `fresh`: a kept session just died under this path request, so use a new one. */
  async #scan(input: ScanInput, signal: AbortSignal, fresh: boolean): Promise<ScannerVerdict> {
    if (this.#byPath && input.file !== undefined && pathSendable(input.file)) {
      const v = parseClamdReply(await this.#scanPath(input.file, signal, fresh), input.file);
      if (!pathRefused(v)) return clamdVerdict(v, this.#target);
      // clamd cannot read it (permissions, another mount namespace): the node may; stream it once.
      this.#pathFallbacks++;
    }
    return this.#stream(input, signal, false);
  }

  /** `fresh`: a kept session just died under this stream, so use a new one. */
  async #stream(input: ScanInput, signal: AbortSignal, fresh: boolean): Promise<ScannerVerdict> {
    let reply: string;
    try {
      reply = this.#pool === null ? await this.#oneShot(input, signal) : await this.#onSession(this.#pool, () => this.#prepare(input), signal, fresh);
    } catch (e) {
      throw await this.#explainUploadReset(e, signal);
    }
    return clamdVerdict(parseClamdReply(reply), this.#target);
  }

  /** Closes idle kept sessions: the server was seen dead, so they are too. */
  reset(): void {
    this.#pool?.reset();
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }

  #prepare(input: ScanInput): Prepared {
    if (input.data !== undefined) return { sender: instreamBuffer(input.data), src: null };
    const src = FileSource.open(input.file!, this.#target);
    return { sender: instreamFile(src, this.#target), src };
  }

  #scanPath(path: string, signal: AbortSignal, fresh: boolean): Promise<string> {
    const cmd = scanCommand(path);
    const sender: Sender = (sock) => void sock.write(cmd);
    if (this.#pool === null) return clamdExchange(this.#ep, this.#target, signal, sender);
    return this.#onSession(this.#pool, () => ({ sender, src: null }), signal, fresh);
  }

  async #oneShot(input: ScanInput, signal: AbortSignal): Promise<string> {
    const { sender, src } = this.#prepare(input);
    try {
      return await clamdExchange(this.#ep, this.#target, signal, sender);
    } finally {
      src?.dispose();
    }
  }

  /**
   * A request on a kept session. A reused session can die under us for a harmless reason (clamd's
   * IdleTimeout closed it as we wrote): when it ends with no reply, the request is sent once more on
   * a NEW session, so only a server that also fails a fresh connection is reported dead.
   */
  async #onSession(pool: SessionPool, prepare: () => Prepared, signal: AbortSignal, fresh: boolean): Promise<string> {
    const kept = fresh ? null : pool.take();
    if (kept !== null) {
      try {
        return await this.#request(pool, kept, prepare, signal);
      } catch (e) {
        if (signal.aborted || !(e instanceof DispatchError) || e.code !== DispatchErrorCodes.SERVER_DIED) throw e;
      }
    }
    const { sender, src } = prepare();
    try {
      return await this.#send(pool, await pool.open(signal), sender, signal);
    } finally {
      src?.dispose();
    }
  }

  async #request(pool: SessionPool, s: ClamdSession, prepare: () => Prepared, signal: AbortSignal): Promise<string> {
    let prepared: Prepared;
    try {
      prepared = prepare();
    } catch (e) {
      pool.release(s);
      throw e;
    }
    try {
      return await this.#send(pool, s, prepared.sender, signal);
    } finally {
      prepared.src?.dispose();
    }
  }

  async #send(pool: SessionPool, s: ClamdSession, sender: Sender, signal: AbortSignal): Promise<string> {
    const reply = await s.request(sender, signal);
    keepOrDrop(pool, s, reply);
    return reply;
  }

  /**
   * clamd answers an over-long stream with `INSTREAM size limit exceeded` and closes at once; our
   * next write then fails with EPIPE/ECONNRESET and Node drops the socket, sometimes before the reply
   * was read (REAL-SCANNERS §1.7). If the server still answers PING, it is alive and refused the
   * stream: report too-large instead of a dead server.
   */
  async #explainUploadReset(e: unknown, signal: AbortSignal): Promise<unknown> {
    if (!(e instanceof DispatchError) || e.code !== DispatchErrorCodes.SERVER_DIED) return e;
    const cause = (e.cause as NodeJS.ErrnoException | undefined)?.code;
    if (cause !== 'EPIPE' && cause !== 'ECONNRESET') return e;
    try {
      parsePing(await clamdExchange(this.#ep, this.#target, signal, (s) => void s.write(kPingCommand)));
    } catch {
      return e;
    }
    return new DispatchError(DispatchErrorCodes.TOO_LARGE, `scanner ${this.#target} closed the stream mid-upload while alive (StreamMaxLength exceeded)`, { target: this.#target, cause: e });
  }
}
