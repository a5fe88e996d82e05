// clamd client: one connection per request (zINSTREAM from a buffer or a file, zSCAN of a path,
// zPING + zVERSION as the probe). A kept connection with pipelining is `ClamdSession`
// (clamd-session.ts). Replies are parsed by clamd-protocol.ts.
import { open } from 'node:fs/promises';
import type { Endpoint } from './address.js';
import {
  chunkHeader, kInstreamCommand, kInstreamEnd, kPingCommand, kVersionCommand, parseClamdReply, parsePing,
  parseVersion, replyEnd, scanCommand, type ClamdVerdict,
} from './clamd-protocol.js';
import { connect, socketError, throwIfAborted, type ProbeResult, type ScanInput, type ScannerClient, type Verdict } from './client.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';
import type net from 'node:net';

/** Bytes per INSTREAM chunk read from a file (clamd's own clients use similar sizes). */
const kFileChunk = 64 * 1024;
const kMaxReply = 64 * 1024;

type Sender = (sock: net.Socket, stopped: () => boolean) => void | Promise<void>;

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
        if (p) p.catch((e: unknown) => finish(readError(e, target), ''));
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

function readError(e: unknown, target: string): DispatchError {
  if (e instanceof DispatchError) return e;
  const err = e as NodeJS.ErrnoException;
  return new DispatchError(DispatchErrorCodes.INVALID_REQUEST, `cannot read the file to scan (${err?.code ?? String(e)})`, { target, cause: e });
}

/** Writes `chunk` and waits for the socket to drain if its buffer is full. */
function write(sock: net.Socket, chunk: Uint8Array): Promise<void> | null {
  if (sock.write(chunk)) return null;
  return new Promise((resolve) => {
    const done = (): void => { sock.off('drain', done); sock.off('close', done); resolve(); };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/** The INSTREAM framing of a buffer: one write for small objects (most files on a share). */
export function instreamBuffer(data: Uint8Array): Sender {
  return (sock) => {
    if (data.length <= 256 * 1024) {
      sock.write(Buffer.concat([kInstreamCommand, chunkHeader(data.length), data, kInstreamEnd]));
      return;
    }
    sock.cork();
    sock.write(kInstreamCommand);
    for (let off = 0; off < data.length; off += 1024 * 1024) {
      const part = data.subarray(off, Math.min(data.length, off + 1024 * 1024));
      sock.write(chunkHeader(part.length));
      sock.write(part);
    }
    sock.write(kInstreamEnd);
    sock.uncork();
  };
}

/** The INSTREAM framing of a file, read in 64 KiB chunks with backpressure; stops when a reply came. */
export function instreamFile(path: string): Sender {
  return async (sock, stopped) => {
    const fh = await open(path, 'r');
    try {
      sock.write(kInstreamCommand);
      for (;;) {
        if (stopped() || sock.destroyed) return;
        const chunk = Buffer.allocUnsafe(kFileChunk);
        const { bytesRead } = await fh.read(chunk, 0, kFileChunk, null);
        if (bytesRead === 0) break;
        sock.write(chunkHeader(bytesRead));
        const wait = write(sock, chunk.subarray(0, bytesRead));
        if (wait) await wait;
      }
      if (!stopped() && !sock.destroyed) sock.write(kInstreamEnd);
    } finally {
      await fh.close();
    }
  };
}

/** Turns a parsed clamd reply into a verdict or a coded error. */
export function clamdVerdict(v: ClamdVerdict, target: string): Verdict {
  switch (v.kind) {
    case 'clean':
    case 'infected':
      return v;
    case 'too-large':
      throw new DispatchError(DispatchErrorCodes.TOO_LARGE, `object too large for scanner ${target}: ${v.message}`, { target });
    case 'error':
      throw new DispatchError(DispatchErrorCodes.SCANNER_ERROR, `scanner ${target} reported an error: ${v.message}`, { target });
  }
}

export interface ClamdClientOptions {
  /** Send `zSCAN <path>` for files instead of streaming them (clamd must be able to read the path). @default false */
  readonly scanByPath?: boolean;
}

export class ClamdClient implements ScannerClient {
  readonly #ep: Endpoint;
  readonly #target: string;
  readonly #byPath: boolean;

  constructor(endpoint: Endpoint, target: string, options: ClamdClientOptions = {}) {
    this.#ep = endpoint;
    this.#target = target;
    this.#byPath = options.scanByPath ?? false;
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    parsePing(await clamdExchange(this.#ep, this.#target, signal, (s) => void s.write(kPingCommand)));
    const v = parseVersion(await clamdExchange(this.#ep, this.#target, signal, (s) => void s.write(kVersionCommand)));
    return { vendor: v.vendor, version: v.version, stamp: v.stamp, timestamp: v.dbTime };
  }

  async scan(input: ScanInput, signal: AbortSignal): Promise<Verdict> {
    if (input.file !== undefined && this.#byPath) {
      const cmd = scanCommand(input.file);
      return clamdVerdict(parseClamdReply(await clamdExchange(this.#ep, this.#target, signal, (s) => void s.write(cmd)), input.file), this.#target);
    }
    const sender = input.data !== undefined ? instreamBuffer(input.data) : instreamFile(input.file!);
    let reply: string;
    try {
      reply = await clamdExchange(this.#ep, this.#target, signal, sender);
    } catch (e) {
      throw await this.#explainUploadReset(e, signal);
    }
    return clamdVerdict(parseClamdReply(reply), this.#target);
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

  async close(): Promise<void> {}
}
