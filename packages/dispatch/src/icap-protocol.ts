// ICAP (RFC 3507) as pure functions: request builders and an incremental response parser. The verdict
// comes from `X-Infection-Found` / `X-Violations-Found` / `X-Virus-ID`, never from the status code:
// c-icap's plain virus_scan answers a clean body with `200 OK` and the body echoed (REAL-SCANNERS §2.5).
import { stripUnofficial } from './clamd-protocol.js';
import { DispatchError, DispatchErrorCodes, quote } from './errors.js';

export interface IcapResponse {
  readonly status: number;
  readonly reason: string;
  /** Header names lower-cased; folded continuation lines joined with `\n`. */
  readonly headers: ReadonlyMap<string, string>;
  /** Encapsulated HTTP header block, if any. */
  readonly httpHead: string;
  /** De-chunked encapsulated body length (the bytes themselves are not kept). */
  readonly bodyLength: number;
}

export type IcapVerdict =
  | { readonly kind: 'clean' }
  | { readonly kind: 'infected'; readonly threats: readonly string[] }
  | { readonly kind: 'error'; readonly message: string; readonly retryable: boolean };

const kMaxHead = 64 * 1024;
const kMaxBody = 64 * 1024 * 1024;
const kCrlf2 = Buffer.from('\r\n\r\n');
const kCrlf = Buffer.from('\r\n');

function protocolError(message: string): DispatchError {
  return new DispatchError(DispatchErrorCodes.PROTOCOL, message);
}

export function optionsRequest(host: string, port: number, service: string): Buffer {
  return Buffer.from(`OPTIONS icap://${host}:${port}/${service} ICAP/1.0\r\nHost: ${host}:${port}\r\nEncapsulated: null-body=0\r\n\r\n`);
}

/**
 * The head of a RESPMOD request (ICAP head + encapsulated HTTP request and response heads), to be
 * followed by the body in chunks (`chunk()`), then `kLastChunk`. No preview: the whole object is sent.
 */
export function respmodHead(host: string, port: number, service: string, name: string, length: number): Buffer {
  const reqHdr = `GET /${encodeURI(name).replace(/^\/+/, '')} HTTP/1.1\r\nHost: avscan\r\n\r\n`;
  const resHdr = `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;
  const icap =
    `RESPMOD icap://${host}:${port}/${service} ICAP/1.0\r\nHost: ${host}:${port}\r\nAllow: 204\r\n` +
    `Encapsulated: req-hdr=0, res-hdr=${Buffer.byteLength(reqHdr)}, res-body=${Buffer.byteLength(reqHdr) + Buffer.byteLength(resHdr)}\r\n\r\n`;
  return Buffer.from(icap + reqHdr + resHdr);
}

export function chunkPrefix(length: number): Buffer {
  return Buffer.from(`${length.toString(16)}\r\n`);
}
export const kChunkSuffix = kCrlf;
export const kLastChunk = Buffer.from('0\r\n\r\n');

/** Parses the ICAP status line and headers (without the final blank line). */
export function parseIcapHead(head: string): { status: number; reason: string; headers: Map<string, string> } {
  const lines = head.split('\r\n');
  const m = /^ICAP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) throw protocolError(`bad ICAP status line ${quote(lines[0] ?? '')}`);
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    if ((line[0] === '\t' || line[0] === ' ') && last !== null) {
      headers.set(last, `${headers.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw protocolError(`bad ICAP header line ${quote(line)}`);
    last = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(last, headers.has(last) ? `${headers.get(last)}, ${value}` : value);
  }
  return { status: Number(m[1]), reason: m[2] ?? '', headers };
}

/** Parses `Encapsulated: res-hdr=0, res-body=123` into ordered (section, offset) pairs. */
export function parseEncapsulated(value: string): Array<{ section: string; offset: number }> {
  const out: Array<{ section: string; offset: number }> = [];
  for (const part of value.split(',')) {
    const m = /^\s*(req-hdr|res-hdr|req-body|res-body|null-body|opt-body)=(\d{1,9})\s*$/.exec(part);
    if (!m) throw protocolError(`bad Encapsulated header ${quote(value)}`);
    const offset = Number(m[2]);
    if (out.length > 0 && offset < out[out.length - 1]!.offset) throw protocolError(`Encapsulated offsets go backwards in ${quote(value)}`);
    out.push({ section: m[1]!, offset });
  }
  if (out.length === 0) throw protocolError('empty Encapsulated header');
  return out;
}

/**
 * Incremental ICAP response parser. `feed(bytes)` returns the response once complete (and how many
 * bytes it consumed, so keep-alive leftovers are not lost), or `null` while more bytes are needed.
 * Throws `ERR_DISPATCH_PROTOCOL` on malformed input.
 */
export class IcapResponseParser {
  #buf: Buffer = Buffer.alloc(0);
  #head: ReturnType<typeof parseIcapHead> | null = null;
  #httpHeadLen = -1; // bytes of encapsulated HTTP head expected, -1 = not yet known
  #httpHead = '';
  #hasBody = false;
  #bodyLength = 0;
  #done = false;

  feed(bytes: Uint8Array): IcapResponse | null {
    if (this.#done) throw protocolError('ICAP response already complete');
    this.#buf = this.#buf.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.#buf, bytes]);
    return this.#step();
  }

  /** Unconsumed bytes after a complete response. */
  get rest(): Buffer {
    return this.#buf;
  }

  #step(): IcapResponse | null {
    if (this.#head === null) {
      const end = this.#buf.indexOf(kCrlf2);
      if (end === -1) {
        if (this.#buf.length > kMaxHead) throw protocolError(`ICAP head longer than ${kMaxHead} bytes`);
        return null;
      }
      this.#head = parseIcapHead(this.#buf.subarray(0, end).toString('latin1'));
      this.#buf = this.#buf.subarray(end + 4);
      const enc = this.#head.headers.get('encapsulated');
      if (enc === undefined) {
        // 204 and OPTIONS without Encapsulated carry nothing.
        this.#httpHeadLen = 0;
      } else {
        const parts = parseEncapsulated(enc);
        const last = parts[parts.length - 1]!;
        if (parts[0]!.offset !== 0) throw protocolError(`Encapsulated does not start at 0 in ${quote(enc)}`);
        this.#httpHeadLen = last.offset;
        this.#hasBody = last.section !== 'null-body';
        if (last.offset > kMaxHead) throw protocolError('encapsulated HTTP head too long');
      }
    }
    if (this.#httpHeadLen > 0) {
      if (this.#buf.length < this.#httpHeadLen) return null;
      this.#httpHead = this.#buf.subarray(0, this.#httpHeadLen).toString('latin1');
      this.#buf = this.#buf.subarray(this.#httpHeadLen);
      this.#httpHeadLen = 0;
    }
    while (this.#hasBody) {
      const eol = this.#buf.indexOf(kCrlf);
      if (eol === -1) {
        if (this.#buf.length > 64) throw protocolError('bad chunk size line');
        return null;
      }
      const sizeText = this.#buf.subarray(0, eol).toString('latin1').split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw protocolError(`bad chunk size ${quote(sizeText)}`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        // Last chunk, then an (empty) trailer ending in CRLF.
        const end = this.#buf.indexOf(kCrlf2, eol);
        if (end !== eol) {
          if (end === -1) return null;
          throw protocolError('ICAP trailers are not supported');
        }
        this.#buf = this.#buf.subarray(eol + 4);
        this.#hasBody = false;
        break;
      }
      if (this.#buf.length < eol + 2 + size + 2) return null;
      if (this.#buf[eol + 2 + size] !== 13 || this.#buf[eol + 3 + size] !== 10) throw protocolError('chunk not followed by CRLF');
      this.#bodyLength += size;
      if (this.#bodyLength > kMaxBody) throw protocolError('encapsulated body too large');
      this.#buf = this.#buf.subarray(eol + 4 + size);
    }
    this.#done = true;
    const h = this.#head;
    return { status: h.status, reason: h.reason, headers: h.headers, httpHead: this.#httpHead, bodyLength: this.#bodyLength };
  }
}

/** Parses a whole response at once (tests, OPTIONS); throws if incomplete. */
export function parseIcapResponse(bytes: Uint8Array): IcapResponse {
  const r = new IcapResponseParser().feed(bytes);
  if (r === null) throw protocolError('incomplete ICAP response');
  return r;
}

/** Threat names from the infection headers; empty when none is present. */
export function icapThreats(headers: ReadonlyMap<string, string>): string[] {
  const found = headers.get('x-infection-found');
  if (found !== undefined) {
    const names = [...found.matchAll(/Threat=([^;]+);?/g)].map((m) => stripUnofficial(m[1]!.trim())).filter((n) => n.length > 0);
    if (names.length > 0) return names;
  }
  const violations = headers.get('x-violations-found');
  if (violations !== undefined) {
    // Count line, then 4 lines per violation: file name, threat name, violation id, disposition.
    const lines = violations.split('\n').map((l) => l.trim());
    const names: string[] = [];
    for (let i = 2; i < lines.length; i += 4) if (lines[i]) names.push(stripUnofficial(lines[i]!));
    if (names.length > 0) return names;
    if (Number(lines[0]) > 0) return ['unknown-violation'];
  }
  const virusId = headers.get('x-virus-id');
  if (virusId !== undefined && virusId.length > 0) return virusId.split(',').map((n) => stripUnofficial(n.trim()));
  return [];
}

/** The verdict of a RESPMOD response. */
export function icapVerdict(r: IcapResponse): IcapVerdict {
  const threats = icapThreats(r.headers);
  if (threats.length > 0) return { kind: 'infected', threats };
  if (r.status === 200 || r.status === 204) return { kind: 'clean' };
  return { kind: 'error', message: `icap server answered ${r.status} ${r.reason}`.trim(), retryable: r.status >= 500 };
}

/** The ISTag without quotes, or `null`. */
export function icapIsTag(headers: ReadonlyMap<string, string>): string | null {
  const t = headers.get('istag');
  if (t === undefined) return null;
  return t.replace(/^"|"$/g, '');
}
