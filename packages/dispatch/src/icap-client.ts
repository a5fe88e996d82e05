// ICAP RESPMOD client (RFC 3507) with kept-alive connections: OPTIONS is the probe (ISTag = signature
// stamp), RESPMOD carries the object as the encapsulated HTTP response body. One request at a time
// per connection; idle connections are reused.
import { open } from 'node:fs/promises';
import type net from 'node:net';
import { basename } from 'node:path';
import { connect, socketError, throwIfAborted, type ProbeResult, type ScanInput, type ScannerClient, type ScannerVerdict } from './client.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';
import {
  chunkPrefix, icapIsTag, icapVerdict, IcapResponseParser, kChunkSuffix, kLastChunk, optionsRequest, respmodHead,
  type IcapResponse,
} from './icap-protocol.js';

const kFileChunk = 64 * 1024;
/** Idle connections kept per server; more are closed after use. */
const kMaxIdle = 8;

export class IcapClient implements ScannerClient {
  readonly #host: string;
  readonly #port: number;
  readonly #service: string;
  readonly #target: string;
  /** Connected sockets with no request on them (LIFO: the warmest one is reused first). */
  readonly #idle: net.Socket[] = [];
  #stamp: string | null = null;

  constructor(host: string, port: number, service: string, target: string) {
    this.#host = host;
    this.#port = port;
    this.#service = service;
    this.#target = target;
  }

  /** The last ISTag seen (OPTIONS or RESPMOD). */
  get istag(): string | null {
    return this.#stamp;
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const r = await this.#exchange(signal, async (s) => void s.write(optionsRequest(this.#host, this.#port, this.#service)));
    if (r.status !== 200) throw new DispatchError(DispatchErrorCodes.PROTOCOL, `icap OPTIONS answered ${r.status} ${r.reason}`, { target: this.#target });
    // c-icap's OPTIONS carries `Service: C-ICAP/0.5.10 server - ...` and no Server header.
    const server = (r.headers.get('server') ?? r.headers.get('service') ?? 'ICAP').split(' ')[0]!;
    const slash = server.indexOf('/');
    return {
      vendor: slash === -1 ? server : server.slice(0, slash),
      version: slash === -1 ? '' : server.slice(slash + 1),
      stamp: this.#stamp ?? '',
      timestamp: null,
    };
  }

  async scan(input: ScanInput, signal: AbortSignal): Promise<ScannerVerdict> {
    let r: IcapResponse;
    if (input.data !== undefined) {
      const data = input.data;
      r = await this.#exchange(signal, async (s) => {
        const head = respmodHead(this.#host, this.#port, this.#service, 'object', data.length);
        s.write(data.length === 0 ? Buffer.concat([head, kLastChunk]) : Buffer.concat([head, chunkPrefix(data.length), data, kChunkSuffix, kLastChunk]));
      });
    } else {
      const path = input.file!;
      const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
        throw new DispatchError(DispatchErrorCodes.INVALID_REQUEST, `cannot read the file to scan (${e.code ?? String(e)})`, { target: this.#target, cause: e });
      });
      try {
        const { size } = await fh.stat();
        r = await this.#exchange(signal, async (s) => {
          s.write(respmodHead(this.#host, this.#port, this.#service, basename(path), size));
          for (;;) {
            if (s.destroyed) return;
            const chunk = Buffer.allocUnsafe(kFileChunk);
            const { bytesRead } = await fh.read(chunk, 0, kFileChunk, null);
            if (bytesRead === 0) break;
            s.write(chunkPrefix(bytesRead));
            if (!s.write(chunk.subarray(0, bytesRead))) await new Promise((res) => s.once('drain', res));
            s.write(kChunkSuffix);
          }
          s.write(kLastChunk);
        });
      } finally {
        await fh.close();
      }
    }
    const v = icapVerdict(r);
    if (v.kind === 'error') {
      // A 5xx (e.g. c-icap with its clamd down) is the server's trouble: retry elsewhere.
      throw new DispatchError(v.retryable ? DispatchErrorCodes.SERVER_DIED : DispatchErrorCodes.SCANNER_ERROR, `scanner ${this.#target}: ${v.message}`, { target: this.#target });
    }
    return v;
  }

  async close(): Promise<void> {
    for (const s of this.#idle.splice(0)) s.destroy();
  }

  #connect(): net.Socket {
    const sock = connect({ host: this.#host, port: this.#port });
    // Permanent listeners: an idle socket that errors or dies is dropped from the idle list.
    sock.on('error', () => {});
    sock.once('close', () => {
      const i = this.#idle.indexOf(sock);
      if (i !== -1) this.#idle.splice(i, 1);
    });
    return sock;
  }

  #exchange(signal: AbortSignal, send: (s: net.Socket) => Promise<void>): Promise<IcapResponse> {
    throwIfAborted(signal);
    const reused = this.#idle.pop();
    const sock = reused ?? this.#connect();
    return new Promise<IcapResponse>((resolve, reject) => {
      const parser = new IcapResponseParser();
      let connected = reused !== undefined;
      let settled = false;
      let lastError: NodeJS.ErrnoException | undefined;
      const cleanup = (): void => {
        signal.removeEventListener('abort', onAbort);
        sock.off('data', onData);
        sock.off('error', onError);
        sock.off('close', onClose);
        sock.off('connect', onConnect);
      };
      const finish = (err: unknown, r: IcapResponse | null): void => {
        if (settled) return;
        settled = true;
        cleanup();
        if (err !== null || r === null) {
          sock.destroy();
          reject(err);
          return;
        }
        const keep = (r.headers.get('connection') ?? '').toLowerCase() !== 'close' && parser.rest.length === 0 && !sock.destroyed;
        if (keep && this.#idle.length < kMaxIdle) {
          this.#idle.push(sock);
        } else sock.destroy();
        resolve(r);
      };
      const onAbort = (): void => finish(signal.reason, null);
      const onData = (d: Buffer): void => {
        try {
          const r = parser.feed(d);
          if (r !== null) {
            const tag = icapIsTag(r.headers);
            if (tag !== null) this.#stamp = tag;
            finish(null, r);
          }
        } catch (e) {
          finish(e, null);
        }
      };
      const onError = (e: NodeJS.ErrnoException): void => { lastError = e; };
      const onClose = (): void => finish(socketError(lastError, connected, this.#target), null);
      const onConnect = (): void => {
        connected = true;
        send(sock).catch((e: unknown) => finish(e, null));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      sock.on('data', onData);
      sock.on('error', onError);
      sock.on('close', onClose);
      if (reused) onConnect();
      else sock.once('connect', onConnect);
    });
  }
}
