// Incremental parser for the clamd command protocol (the subset we serve). Pure: bytes in, events out,
// no I/O, so it can be fuzzed. Framing rules (as measured on clamd 1.4.6):
//   zCMD[ arg]\0    reply ends in \0
//   nCMD[ arg]\n    reply ends in \n
//   CMD[ arg]\n     (bare, deprecated) reply ends in \n
// After INSTREAM the connection carries chunks: <uint32 BE length><length bytes> ..., then a zero length.
// Invariant: after an 'error' event the parser is terminal (every later push returns []), because clamd
// answers a framing error and closes the connection.
import { ScannerErrorCodes, type ScannerErrorCode } from './errors.js';

export const kCommands = Object.freeze(['PING', 'VERSION', 'INSTREAM', 'SCAN', 'IDSESSION', 'END', 'STATS'] as const);
export type CommandName = (typeof kCommands)[number];
export type Terminator = '\0' | '\n';

export type ProtocolEvent =
  | { readonly type: 'command'; readonly name: CommandName; readonly arg: string; readonly term: Terminator }
  | { readonly type: 'chunk'; readonly data: Uint8Array }
  | { readonly type: 'stream-end'; readonly length: number }
  | { readonly type: 'error'; readonly code: ScannerErrorCode; readonly message: string; readonly term: Terminator };

/** Longest accepted command line (SCAN carries a path; PATH_MAX is 4096). */
export const kMaxCommandLength = 8192;
const kCommandSet: ReadonlySet<string> = new Set(kCommands);

export class CommandParser {
  readonly #streamMaxLength: number;
  // 'command': collecting a command line in #line; 'header': collecting 4 length bytes in #header;
  // 'body': #remaining payload bytes of the current chunk still to come; 'failed': terminal.
  #mode: 'command' | 'header' | 'body' | 'failed' = 'command';
  #line: Buffer = Buffer.alloc(0);
  #header = Buffer.alloc(4);
  #headerFill = 0;
  #remaining = 0;
  #streamLength = 0;
  #term: Terminator = '\n';

  constructor(streamMaxLength: number) {
    this.#streamMaxLength = streamMaxLength;
  }

  /** True while the parser is in the middle of a command or a stream (EOF now would truncate). */
  get midMessage(): boolean {
    return this.#mode === 'header' || this.#mode === 'body' || (this.#mode === 'command' && this.#line.length > 0);
  }

  push(input: Uint8Array): ProtocolEvent[] {
    const events: ProtocolEvent[] = [];
    let i = 0;
    while (i < input.length && this.#mode !== 'failed') {
      if (this.#mode === 'command') i = this.#command(input, i, events);
      else if (this.#mode === 'header') i = this.#chunkHeader(input, i, events);
      else {
        const n = Math.min(this.#remaining, input.length - i);
        events.push({ type: 'chunk', data: input.subarray(i, i + n) });
        this.#remaining -= n;
        i += n;
        if (this.#remaining === 0) this.#mode = 'header';
      }
    }
    return events;
  }

  /** Call on EOF: a half-received message becomes a truncation error. */
  end(): ProtocolEvent[] {
    if (!this.midMessage) return [];
    return [this.#fail(ScannerErrorCodes.ERR_SCANNER_PROTOCOL_TRUNCATED, 'connection closed in the middle of a message')];
  }

  #fail(code: ScannerErrorCode, message: string): ProtocolEvent {
    this.#mode = 'failed';
    this.#line = Buffer.alloc(0);
    return { type: 'error', code, message, term: this.#term };
  }

  #command(input: Uint8Array, start: number, events: ProtocolEvent[]): number {
    if (this.#line.length === 0) {
      // The first byte of a command picks its terminator; bare commands keep the byte.
      const first = input[start];
      this.#term = first === 0x7a /* z */ ? '\0' : '\n';
    }
    const term = this.#term === '\0' ? 0 : 0x0a;
    let end = -1;
    for (let k = start; k < input.length; k++) {
      if (input[k] === term) {
        end = k;
        break;
      }
    }
    const take = end < 0 ? input.length : end;
    if (this.#line.length + (take - start) > kMaxCommandLength) {
      events.push(this.#fail(ScannerErrorCodes.ERR_SCANNER_PROTOCOL_COMMAND_TOO_LONG, `command longer than ${kMaxCommandLength} bytes`));
      return input.length;
    }
    this.#line = Buffer.concat([this.#line, input.subarray(start, take)]);
    if (end < 0) return input.length;
    const line = this.#line;
    this.#line = Buffer.alloc(0);
    events.push(this.#parseLine(line));
    return end + 1;
  }

  #parseLine(raw: Buffer): ProtocolEvent {
    // SCAN paths are bytes on the wire; decode as UTF-8 (command names are ASCII).
    let text = raw.toString('utf8');
    if (text.startsWith('z') || text.startsWith('n')) text = text.slice(1);
    if (this.#term === '\n' && text.endsWith('\r')) text = text.slice(0, -1);
    const space = text.indexOf(' ');
    const name = space < 0 ? text : text.slice(0, space);
    const arg = space < 0 ? '' : text.slice(space + 1);
    if (!kCommandSet.has(name)) {
      return this.#fail(ScannerErrorCodes.ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND, `unknown command \`${printable(name.slice(0, 40))}\``);
    }
    const takesArg = name === 'SCAN';
    if (takesArg ? arg === '' : arg !== '') {
      return this.#fail(ScannerErrorCodes.ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND, takesArg ? '`SCAN` needs a path' : `\`${name}\` takes no argument`);
    }
    if (name === 'INSTREAM') {
      this.#mode = 'header';
      this.#headerFill = 0;
      this.#streamLength = 0;
    }
    return { type: 'command', name: name as CommandName, arg, term: this.#term };
  }

  #chunkHeader(input: Uint8Array, start: number, events: ProtocolEvent[]): number {
    let i = start;
    while (this.#headerFill < 4 && i < input.length) this.#header[this.#headerFill++] = input[i++]!;
    if (this.#headerFill < 4) return i;
    this.#headerFill = 0;
    const length = this.#header.readUInt32BE(0);
    if (length === 0) {
      events.push({ type: 'stream-end', length: this.#streamLength });
      this.#mode = 'command';
      return i;
    }
    if (this.#streamLength + length > this.#streamMaxLength) {
      events.push(this.#fail(ScannerErrorCodes.ERR_SCANNER_STREAM_TOO_LONG, `stream longer than StreamMaxLength ${this.#streamMaxLength}`));
      return input.length;
    }
    this.#streamLength += length;
    this.#remaining = length;
    this.#mode = 'body';
    return i;
  }
}

/** Control bytes shown as `\xNN`: the message goes back on a line-framed reply, where a raw newline would end it. */
function printable(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return out;
}
