// One client connection of the front door, served as clamd serves one. Outside IDSESSION one command is
// answered and the connection is closed after the reply — Samba's reader waits for the peer to close
// (REAL-SCANNERS §3.3 #4). Inside IDSESSION commands get 1-based ids and replies `<id>: <reply>` come
// back as each finishes. A client that goes away gets no reply; its scan finishes and is recorded like
// any other. Its access carries an abort signal, for an engine that can cancel a wait, that fires when
// the connection closes with a scan still in flight (a reset, or the front door closing; a client's
// plain FIN leaves the connection half-open, allowHalfOpen, until the reply is written).
//
// Samba connects once per open, so everything here is paid per file: the first chunk, when it is one
// whole SCAN (the usual case), skips the parser (quick.ts); the parser and the abort controller are
// made only when needed; the idle timeout is one shared sweep (server.ts), not a timer per socket.
import type net from 'node:net';
import { CommandParser, type ProtocolEvent, type Terminator } from '@avscan/scanner';
import type { FilerRuntime } from '../model.js';
import { quickScan } from './quick.js';
import type { ReplyKind } from './reply.js';
import { scanReply } from './scan.js';

/** What the connections of one front door share. */
export interface Door {
  readonly runtime: FilerRuntime;
  /** Reply to VERSION. */
  readonly version: string;
  readonly counts: { connections: number; scans: number; readonly replies: Record<ReplyKind, number> };
  /** Open connections (for the idle sweep, the stats and close). */
  readonly connections: Set<Connection>;
}

export class Connection {
  readonly socket: net.Socket;
  /** Idle sweeps since this connection last read or wrote (server.ts cuts it after enough of them). */
  idleSweeps = 0;
  readonly #door: Door;
  #parser: CommandParser | undefined;
  #cancel: AbortController | undefined;
  #session = false;
  #nextId = 1;
  #pending = 0;
  #ending = false;

  constructor(socket: net.Socket, door: Door) {
    this.socket = socket;
    this.#door = door;
    door.counts.connections++;
    door.connections.add(this);
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('end', () => this.#end());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#closed());
  }

  /** A scan is in flight: its reply is coming, so the connection is not idle. */
  get busy(): boolean {
    return this.#pending > 0;
  }

  #data(chunk: Buffer): void {
    this.idleSweeps = 0;
    if (this.#ending) return;
    if (this.#parser === undefined) {
      // A fresh connection is at a command boundary, where a chunk holding exactly one SCAN reads the
      // same with or without the parser.
      const quick = quickScan(chunk);
      if (quick !== undefined) {
        this.#scan(null, quick.path, quick.term);
        return;
      }
      this.#parser = new CommandParser(0);
    }
    for (const ev of this.#parser.push(chunk)) this.#event(ev);
  }

  #end(): void {
    if (this.#parser !== undefined) for (const ev of this.#parser.end()) this.#event(ev);
    if (!this.#ending) this.#finish();
  }

  #closed(): void {
    this.#door.connections.delete(this);
    // Only a scan still in flight has anyone to tell; abort() builds a DOMException with a stack
    // trace, a cost every connection would otherwise pay after its reply.
    if (this.#pending > 0) this.#cancel?.abort();
  }

  #write(line: string, term: Terminator): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    socket.write(line + term);
    this.idleSweeps = 0;
  }

  // Closes as clamd does after its last reply (shutdown + close at once, not waiting for the client's
  // FIN): a reply already handed to the kernel is read by the client before its EOF, and the front door
  // pays no half-close, no wait for the peer's FIN and no 'end' event per connection. A reply still
  // queued in the socket is flushed first.
  #finish(): void {
    this.#ending = true;
    if (this.#pending > 0) return;
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.socket.destroySoon();
  }

  #scan(id: number | null, path: string, term: Terminator): void {
    const door = this.#door;
    door.counts.scans++;
    this.#pending++;
    this.#cancel ??= new AbortController();
    void scanReply(door.runtime, path, this.#cancel.signal).then((r) => {
      this.#pending--;
      door.counts.replies[r.kind]++;
      if (this.socket.destroyed) return; // the client left: nobody to tell
      this.#write(id === null ? `${path}: ${r.text}` : `${id}: ${path}: ${r.text}`, term);
      if (!this.#session || this.#ending) this.#finish();
    });
  }

  #event(ev: ProtocolEvent): void {
    if (this.#ending) return;
    if (ev.type === 'error') {
      this.#write(ev.code === 'ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND' ? 'UNKNOWN COMMAND' : `${ev.message} ERROR`, ev.term);
      this.#finish();
      return;
    }
    if (ev.type !== 'command') return; // INSTREAM data: refused below before any arrives
    const id = this.#session ? this.#nextId++ : null;
    const prefix = id === null ? '' : `${id}: `;
    switch (ev.name) {
      case 'PING':
        this.#write(`${prefix}PONG`, ev.term);
        break;
      case 'VERSION':
        this.#write(`${prefix}${this.#door.version}`, ev.term);
        break;
      case 'IDSESSION':
        if (this.#session) {
          this.#write(`${prefix}Command invalid inside IDSESSION. ERROR`, ev.term);
          this.#finish();
          return;
        }
        this.#session = true;
        return;
      case 'END':
        this.#finish();
        return;
      case 'SCAN':
        this.#scan(id, ev.arg, ev.term);
        return;
      default:
        // INSTREAM and STATS: a stream has no file identity (no attributes, no lock, no share), so
        // the engine cannot judge it; the front door only speaks for files on its volumes.
        this.#write(`${prefix}${ev.name} is not supported by the avscan front door, use SCAN. ERROR`, ev.term);
        this.#finish();
        return;
    }
    if (!this.#session) this.#finish();
  }
}
