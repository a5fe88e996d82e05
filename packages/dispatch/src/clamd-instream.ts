// The zINSTREAM request as "senders": functions that write one whole request on a socket (a fresh
// connection or an IDSESSION), for a buffer or a file. Small objects go out in ONE write (command,
// chunk header, data, terminator), which is one syscall and one packet.
//
// Files: the first 64 KiB are read SYNCHRONOUSLY. Most files on a share are small, and for them the
// async path costs three libuv thread-pool round trips (open, read, close), each a hand-off to a worker
// thread and back through the event loop — tens to hundreds of µs apiece on a loaded 2-core machine —
// while `openSync` + `readSync` of ≤ 64 KiB from the page cache takes a few µs. The block is bounded
// by one 64 KiB read; a larger file continues with async reads and backpressure.
import { close, closeSync, openSync, read, readSync } from 'node:fs';
import type net from 'node:net';
import { chunkHeader, kInstreamCommand, kInstreamEnd } from './clamd-protocol.js';
import { DispatchError, DispatchErrorCodes } from './errors.js';

/** Writes one request; `stopped()` turns true once the reply came or the request was cut. */
export type Sender = (sock: net.Socket, stopped: () => boolean) => void | Promise<void>;

/** Bytes per INSTREAM chunk read from a file (clamd's own clients use similar sizes). */
export const kFileChunk = 64 * 1024;
/** Buffers up to this size are framed in one write; larger ones in 1 MiB chunks, corked. */
const kOneWrite = 256 * 1024;
const kCmdLen = kInstreamCommand.length;

/** `zINSTREAM\0` + one chunk + terminator, in one buffer (the first `n` bytes of `src`). */
function wholeMessage(src: Uint8Array, n: number): Buffer {
  const msg = Buffer.allocUnsafe(kCmdLen + 4 + n + 4);
  kInstreamCommand.copy(msg, 0);
  msg.writeUInt32BE(n, kCmdLen);
  msg.set(src.subarray(0, n), kCmdLen + 4);
  msg.writeUInt32BE(0, kCmdLen + 4 + n);
  return msg;
}

/** The INSTREAM framing of a buffer: one write for small objects (most files on a share). */
export function instreamBuffer(data: Uint8Array): Sender {
  return (sock) => {
    if (data.length <= kOneWrite) {
      sock.write(wholeMessage(data, data.length));
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

/** Reused by every synchronous first read; copied out at once, so never shared across requests. */
const scratch = Buffer.allocUnsafe(kFileChunk);

function readError(e: unknown, target: string): DispatchError {
  const err = e as NodeJS.ErrnoException;
  return new DispatchError(DispatchErrorCodes.INVALID_REQUEST, `cannot read the file to scan (${err?.code ?? String(e)})`, { target, cause: e });
}

/**
 * A file prepared for INSTREAM. A file shorter than one chunk is read and closed right away and its
 * whole request is `message`; a longer one keeps its descriptor and streams the rest (`rest`).
 * Invariant: `fd` is open only while `message` is the head of a longer file, and is closed exactly
 * once, never while a read on it is running (a closed number can be reused by another open).
 */
export class FileSource {
  /** The whole request (small file) or command + first chunk (longer file). */
  readonly message: Buffer;
  readonly complete: boolean;
  #fd: number | null;
  #pos: number;
  #reading = false;
  #closeWanted = false;

  private constructor(message: Buffer, fd: number | null, pos: number) {
    this.message = message;
    this.complete = fd === null;
    this.#fd = fd;
    this.#pos = pos;
  }

  /** Opens and reads the first chunk synchronously; throws `ERR_DISPATCH_INVALID_REQUEST`. */
  static open(path: string, target: string): FileSource {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw readError(e, target);
    }
    let n: number;
    try {
      n = readSync(fd, scratch, 0, kFileChunk, 0);
    } catch (e) {
      closeSync(fd);
      throw readError(e, target);
    }
    // A short read of a regular file is its end.
    if (n < kFileChunk) {
      closeSync(fd);
      return new FileSource(wholeMessage(scratch, n), null, n);
    }
    const head = Buffer.allocUnsafe(kCmdLen + 4 + n);
    kInstreamCommand.copy(head, 0);
    head.writeUInt32BE(n, kCmdLen);
    scratch.copy(head, kCmdLen + 4, 0, n);
    return new FileSource(head, fd, n);
  }

  /** The next chunk, or `null` at the end. */
  next(target: string): Promise<Buffer | null> {
    const fd = this.#fd;
    if (fd === null) return Promise.resolve(null);
    this.#reading = true;
    const chunk = Buffer.allocUnsafe(kFileChunk);
    return new Promise((resolve, reject) => {
      read(fd, chunk, 0, kFileChunk, this.#pos, (err, n) => {
        this.#reading = false;
        if (this.#closeWanted) this.dispose();
        if (err) reject(readError(err, target));
        else if (n === 0) resolve(null);
        else {
          this.#pos += n;
          resolve(chunk.subarray(0, n));
        }
      });
    });
  }

  /** Closes the descriptor (after the read in progress, if any). Idempotent. */
  dispose(): void {
    if (this.#fd === null) return;
    if (this.#reading) {
      this.#closeWanted = true;
      return;
    }
    close(this.#fd, () => {});
    this.#fd = null;
  }
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

/** The INSTREAM framing of a prepared file; stops streaming once a reply came. Disposes `src`. */
export function instreamFile(src: FileSource, target: string): Sender {
  return (sock, stopped) => {
    if (src.complete) {
      sock.write(src.message);
      return;
    }
    return streamRest(sock, stopped, src, target);
  };
}

async function streamRest(sock: net.Socket, stopped: () => boolean, src: FileSource, target: string): Promise<void> {
  try {
    const first = write(sock, src.message);
    if (first) await first;
    for (;;) {
      if (stopped() || sock.destroyed) return;
      const chunk = await src.next(target);
      if (chunk === null) break;
      sock.write(chunkHeader(chunk.length));
      const wait = write(sock, chunk);
      if (wait) await wait;
    }
    if (!stopped() && !sock.destroyed) sock.write(kInstreamEnd);
  } finally {
    src.dispose();
  }
}
