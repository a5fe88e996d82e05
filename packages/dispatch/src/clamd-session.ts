// IDSESSION: many commands over one kept clamd connection. clamd answers `<id>: <reply>` and,
// because it scans on several threads, OUT OF ORDER (REAL-SCANNERS §1.6), so replies are matched to
// requests by id, never by position. The public `scanBuffer`/`ping` pipeline freely; `request()` is
// what the dispatcher's session pool uses: one streamed request at a time, abortable.
import type net from 'node:net';
import type { Endpoint } from './address.js';
import {
  chunkHeader, clamdVerdict, kEndCommand, kIdSessionCommand, kInstreamCommand, kInstreamEnd, kPingCommand, parseClamdReply,
  parseSessionReply, replyEnd, scanCommand,
} from './clamd-protocol.js';
import type { Sender } from './clamd-instream.js';
import { connect, socketError, type ScannerVerdict } from './client.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';

/**
 * Called once per request: with the reply body (`reply` a string), or with the error that ended it
 * (`reply` null). Called synchronously from the socket's 'data' handler, so a caller can settle its
 * own promise there without a chain of awaits in between.
 */
export type ReplyCallback = (err: unknown, reply: string | null) => void;

/** A request sent and not yet answered. `onAbort` is null for the unabortable `scanBuffer`/`ping`. */
/** Bytes one socket read can deliver; a longer reply arrives over several reads. */
const kReadBuffer = 4096;

interface Pending {
  readonly cb: ReplyCallback;
  readonly signal: AbortSignal | null;
  readonly onAbort: (() => void) | null;
}

export class ClamdSession {
  readonly #sock: net.Socket;
  readonly #target: string;
  /** Requests sent and not yet answered, by their 1-based session id (clamd numbers them in arrival order). */
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #buf: Buffer | null = null;
  #connected = false;
  #failed: DispatchError | null = null;
  readonly #ready: Promise<void>;
  /** performance.now() when the session last became idle (set by the pool). */
  idleSince = 0;
  /** Called once when the session can no longer be used (closed, died, or failed). */
  onDead: ((s: ClamdSession) => void) | null = null;

  private constructor(ep: Endpoint, target: string) {
    this.#target = target;
    // Replies are read into one buffer per session, handed to #onData straight from the socket's read
    // callback: no Buffer per read and none of the stream's 'data' machinery on every file's path.
    const readBuffer = Buffer.allocUnsafe(kReadBuffer);
    this.#sock = connect(ep, { buffer: readBuffer, callback: (n) => {
      this.#onData(readBuffer.subarray(0, n));
      return true; // keep reading
    } });
    let lastError: NodeJS.ErrnoException | undefined;
    this.#sock.on('error', (e: NodeJS.ErrnoException) => { lastError = e; });
    // Registered before #ready's listener, so a failed connect rejects with the coded error, not null.
    this.#sock.on('close', () => this.#fail(socketError(lastError, this.#connected, target)));
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#sock.once('connect', () => { this.#connected = true; this.#sock.write(kIdSessionCommand); resolve(); });
      this.#sock.once('close', () => reject(this.#failed));
    });
    this.#ready.catch(() => {});
  }

  /**
   * Opens a session; rejects with `ERR_DISPATCH_CONNECT` / `ERR_DISPATCH_SERVER_BUSY`, or with the
   * signal's reason (the connection is then dropped).
   */
  static async open(ep: Endpoint, target: string, signal?: AbortSignal): Promise<ClamdSession> {
    const s = new ClamdSession(ep, target);
    if (signal === undefined) {
      await s.#ready;
      return s;
    }
    if (signal.aborted) {
      s.destroy();
      throw signal.reason;
    }
    const onAbort = (): void => s.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await s.#ready;
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) {
      s.destroy();
      throw signal.reason;
    }
    return s;
  }

  /** Requests in flight on this session. */
  get pending(): number {
    return this.#pending.size;
  }

  get alive(): boolean {
    return this.#failed === null;
  }

  ping(): Promise<void> {
    return this.#send(kPingCommand).then((r) => {
      if (r !== 'PONG') throw new DispatchError(DispatchErrorCodes.PROTOCOL, `expected PONG in session, got \`${r}\``, { target: this.#target });
    });
  }

  async scanBuffer(data: Uint8Array): Promise<ScannerVerdict> {
    const msg = Buffer.concat([kInstreamCommand, chunkHeader(data.length), data, kInstreamEnd]);
    return clamdVerdict(parseClamdReply(await this.#send(msg)), this.#target);
  }

  async scanPath(path: string): Promise<ScannerVerdict> {
    return clamdVerdict(parseClamdReply(await this.#send(scanCommand(path)), path), this.#target);
  }

  /**
   * One request written by `send` (which may stream), answered by its id. Callers must not overlap
   * streamed requests (their chunks would interleave): the pool gives a session to one request at a
   * time. `signal` aborting destroys the session, because clamd cannot cancel a command: the reply
   * would come later and the session would stay busy on the server side.
   */
  request(send: Sender, signal: AbortSignal): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.requestWith(send, signal, (err, reply) => {
        if (reply !== null) resolve(reply);
        else reject(err);
      });
    });
  }

  /** `request()` with a callback instead of a promise (see ReplyCallback); `cb` may run before this returns. */
  requestWith(send: Sender, signal: AbortSignal, cb: ReplyCallback): void {
    if (this.#failed !== null) return cb(this.#failed, null);
    if (signal.aborted) return cb(signal.reason, null);
    const id = this.#nextId++;
    const onAbort = (): void => {
      if (!this.#pending.delete(id)) return;
      cb(signal.reason, null);
      this.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.#pending.set(id, { cb, signal, onAbort });
    // A request is settled once it has left #pending (answered, aborted, failed, or its send failed).
    const cut = (e: unknown): void => {
      const p = this.#pending.get(id);
      if (p === undefined) return;
      this.#pending.delete(id);
      signal.removeEventListener('abort', onAbort);
      cb(e, null);
      this.destroy();
    };
    try {
      const p = send(this.#sock, () => !this.#pending.has(id) || this.#failed !== null);
      if (p) p.catch(cut);
    } catch (e) {
      cut(e);
    }
  }

  /** Sends zEND and closes; requests still pending are rejected. */
  async close(): Promise<void> {
    if (this.#failed === null) {
      this.#sock.end(kEndCommand);
      this.#fail(new DispatchError(DispatchErrorCodes.CLOSED, 'clamd session closed', { target: this.#target }));
    }
    this.#sock.destroy();
  }

  /** Drops the connection at once (no zEND); pending requests are rejected as closed. */
  destroy(): void {
    this.#fail(new DispatchError(DispatchErrorCodes.CLOSED, 'clamd session closed', { target: this.#target }));
    this.#sock.destroy();
  }

  #send(msg: Buffer): Promise<string> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      this.#pending.set(id, { cb: (err, reply) => (reply !== null ? resolve(reply) : reject(err)), signal: null, onAbort: null });
      this.#sock.write(msg);
    });
  }

  /** `d` is a view of the session's read buffer, valid only during this call. */
  #onData(d: Buffer): void {
    let buf = this.#buf === null ? d : Buffer.concat([this.#buf, d]);
    for (;;) {
      const end = replyEnd(buf);
      if (end === -1) break;
      const text = buf.toString('utf8', 0, end);
      buf = buf.subarray(end);
      let reply: { id: number; body: string };
      try {
        reply = parseSessionReply(text);
      } catch (e) {
        this.#protocolFailure(e as DispatchError);
        return;
      }
      const p = this.#pending.get(reply.id);
      if (p === undefined) {
        this.#protocolFailure(new DispatchError(DispatchErrorCodes.PROTOCOL, `clamd session reply for unknown request ${reply.id}`, { target: this.#target }));
        return;
      }
      this.#pending.delete(reply.id);
      settle(p, null, reply.body);
      // The callback may have dropped the session (a reply after which clamd closes it).
      if (this.#failed !== null) {
        this.#buf = null;
        return;
      }
    }
    // A partial reply is kept as a copy: the read buffer is overwritten by the next read.
    this.#buf = buf.length === 0 ? null : Buffer.from(buf);
  }

  #protocolFailure(err: DispatchError): void {
    this.#fail(err);
    this.#sock.destroy();
  }

  #fail(err: DispatchError): void {
    if (this.#failed !== null) return;
    this.#failed = err;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) settle(p, err, null);
    const cb = this.onDead;
    this.onDead = null;
    cb?.(this);
  }
}

/** Ends a request that has just left #pending: its abort listener goes, its callback runs. */
function settle(p: Pending, err: unknown, reply: string | null): void {
  if (p.onAbort !== null) p.signal!.removeEventListener('abort', p.onAbort);
  p.cb(err, reply);
}
