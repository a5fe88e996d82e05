// One client connection of the scanner server, from the moment the server admits it (see server.ts for
// the connection limit) until its socket closes.
// Lifecycle: outside IDSESSION one command is served and the connection is closed after its reply (as
// clamd does). Inside IDSESSION every command gets a 1-based id, scans run concurrently and replies are
// written `<id>: <reply>` as each completes (so out of order); after END, or the peer's EOF, the
// connection closes once every pending reply is written. If the peer goes away, its scans abort.
import type net from 'node:net';
import { rmSync } from 'node:fs';
import type { ScanEngine } from './engine.js';
import { ScannerError, ScannerErrorCodes } from './errors.js';
import { CommandParser, type CommandName, type ProtocolEvent, type Terminator } from './protocol.js';
import { StreamSpool } from './spool.js';
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

/** Server counters; connections update them in place. */
export interface Counters {
  connections: number;
  activeConnections: number;
  waitingConnections: number;
  commands: number;
  scans: number;
  clean: number;
  infected: number;
  errors: number;
  refused: number;
  connectionErrors: number;
  streamBytes: number;
  spooledStreams: number;
}

/** What a connection needs from its server (shared by every connection). */
export interface ConnectionContext {
  readonly engine: ScanEngine;
  readonly streamMaxLength: number;
  readonly readTimeoutMs: number;
  readonly spoolThreshold: number;
  /** A new path for a spool file in the server's private directory. */
  spoolPath(): string;
  /** The fault set in force now (the server may replace it at any time). */
  faults(): FaultOptions;
  readonly counters: Counters;
  statsText(): string;
  log(line: string): void;
}

const kClamavVersion = 'ClamAV 1.4.6';

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

function protocolErrorText(code: string, message: string): string {
  if (code === ScannerErrorCodes.ERR_SCANNER_STREAM_TOO_LONG) return 'INSTREAM size limit exceeded. ERROR';
  if (code === ScannerErrorCodes.ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND) return 'UNKNOWN COMMAND';
  if (code === ScannerErrorCodes.ERR_SCANNER_PROTOCOL_TRUNCATED) return '';
  return `${message}. ERROR`;
}

export class ClientConnection {
  readonly #socket: net.Socket;
  readonly #ctx: ConnectionContext;
  readonly #parser: CommandParser;
  readonly #abort = new AbortController();
  #session = false;
  #nextId = 0;
  /** Replies owed: scans running plus replies waiting out an injected latency. */
  #pending = 0;
  /** No more commands will be served (END, a served single command, EOF or a protocol error). */
  #finished = false;
  /** The INSTREAM being received, if any. */
  #stream: { spool: StreamSpool; id: number; term: Terminator } | undefined;

  /** Takes over an admitted socket; `onClose` runs once when it has closed. */
  constructor(socket: net.Socket, ctx: ConnectionContext, onClose: () => void) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#parser = new CommandParser(ctx.streamMaxLength);
    socket.setTimeout(ctx.readTimeoutMs, () => this.#onTimeout());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      ctx.counters.connectionErrors++;
      ctx.log(`scanner: connection error ${err.code ?? err.message}`);
    });
    socket.on('close', () => {
      this.#stream?.spool.discard();
      this.#stream = undefined;
      this.#abort.abort(new Error('client closed the connection'));
      onClose();
    });
    socket.on('data', (data: Buffer) => {
      for (const ev of this.#parser.push(data)) this.#onEvent(ev);
    });
    socket.on('end', () => {
      for (const ev of this.#parser.end()) this.#onEvent(ev);
      this.#finished = true;
      this.#maybeEnd();
    });
    socket.resume(); // admitted sockets arrive paused (see the server's pauseOnConnect)
  }

  #onTimeout(): void {
    if (this.#pending === 0 && !this.#ctx.faults().hang) {
      this.#socket.end('COMMAND READ TIMED OUT\n');
      this.#ctx.log(`scanner: connection timed out after ${this.#ctx.readTimeoutMs} ms`);
    }
  }

  #maybeEnd(): void {
    if (this.#finished && this.#pending === 0 && !this.#socket.destroyed) this.#socket.end();
  }

  #reply(id: number, text: string, term: Terminator, command: CommandName | undefined): void {
    this.#pending++;
    const faults = this.#ctx.faults();
    if (faults.hang) return; // never answered; the peer has to time out
    const delay = (faults.latencyMs ?? 0) + (command ? (faults.commandLatencyMs?.[command] ?? 0) : 0);
    const send = () => {
      this.#pending--;
      const socket = this.#socket;
      if (socket.destroyed) return;
      const bytes = Buffer.from(`${this.#session && id > 0 ? `${id}: ` : ''}${text}${term}`, 'utf8');
      if (faults.dropMidReply) {
        socket.write(bytes.subarray(0, bytes.length >> 1));
        socket.destroy();
        return;
      }
      socket.write(bytes);
      this.#maybeEnd();
    };
    if (delay > 0) setTimeout(send, delay).unref();
    else send();
  }

  #scanReply(id: number, term: Terminator, command: CommandName, subject: string, scan: () => Promise<ScanResult>): void {
    this.#pending++; // hold the connection open while the scan runs
    const counters = this.#ctx.counters;
    void scan()
      .catch((err: unknown): ScanResult => {
        const code = err instanceof ScannerError ? err.code : ScannerErrorCodes.ERR_SCANNER_WORKER_FAILED;
        return { status: 'error', code, message: (err as Error).message };
      })
      .then((r) => {
        counters.scans++;
        counters[r.status === 'error' ? 'errors' : r.status]++;
        this.#pending--;
        if (!this.#abort.signal.aborted) this.#reply(id, verdictText(subject, r), term, command);
      });
  }

  /** Scans a finished INSTREAM from memory or from its spool file (removed afterwards). */
  async #scanStream(spool: StreamSpool): Promise<ScanResult> {
    const signal = this.#abort.signal;
    const engine = this.#ctx.engine;
    const s = await spool.finish();
    if (s.kind === 'memory') return engine.scanBuffer(s.data, signal);
    this.#ctx.counters.spooledStreams++;
    try {
      return await engine.scanFile(s.path, signal);
    } finally {
      rmSync(s.path, { force: true });
    }
  }

  #onChunk(data: Uint8Array): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    this.#ctx.counters.streamBytes += data.length;
    if (stream.spool.write(data)) return;
    // The spool file is behind: stop reading until it catches up, so bytes wait in the kernel, not here.
    this.#socket.pause();
    stream.spool.onDrain(() => {
      if (!this.#socket.destroyed) this.#socket.resume();
    });
  }

  #onEvent(ev: ProtocolEvent): void {
    if (ev.type === 'chunk') {
      this.#onChunk(ev.data);
      return;
    }
    if (ev.type === 'stream-end') {
      const s = this.#stream!;
      this.#stream = undefined;
      this.#scanReply(s.id, s.term, 'INSTREAM', 'stream', () => this.#scanStream(s.spool));
      return;
    }
    if (ev.type === 'error') {
      this.#ctx.counters.commands++;
      // An error inside an INSTREAM answers that request, under the id it was given (as clamd does).
      const id = this.#stream !== undefined ? this.#stream.id : this.#session ? ++this.#nextId : 0;
      const text = protocolErrorText(ev.code, ev.message);
      this.#stream?.spool.discard();
      this.#stream = undefined;
      this.#finished = true;
      if (text !== '') this.#reply(id, text, ev.term, undefined);
      else this.#maybeEnd();
      return;
    }
    if (this.#finished) return;
    this.#command(ev.name, ev.arg, ev.term);
  }

  #command(name: CommandName, arg: string, term: Terminator): void {
    const ctx = this.#ctx;
    ctx.counters.commands++;
    if (name === 'IDSESSION') {
      if (this.#session) this.#reply(++this.#nextId, 'Command invalid inside IDSESSION. ERROR', term, name);
      this.#session = true;
      return;
    }
    if (name === 'END') {
      this.#finished = true;
      this.#maybeEnd();
      return;
    }
    const id = this.#session ? ++this.#nextId : 0;
    if (!this.#session) this.#finished = true;
    const engine = ctx.engine;
    switch (name) {
      case 'PING':
        this.#reply(id, 'PONG', term, name);
        break;
      case 'VERSION':
        this.#reply(id, `${kClamavVersion}/${engine.signatureVersion}/${asctime(engine.signatureTimestamp)}`, term, name);
        break;
      case 'STATS':
        this.#reply(id, ctx.statsText(), term, name);
        break;
      case 'SCAN':
        this.#scanReply(id, term, name, arg, () => engine.scanFile(arg, this.#abort.signal));
        break;
      case 'INSTREAM':
        this.#stream = { spool: new StreamSpool(ctx.spoolThreshold, () => ctx.spoolPath()), id, term };
        break;
    }
  }
}
