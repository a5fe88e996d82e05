// Where an INSTREAM's bytes wait until its terminating chunk: in memory while the stream is small, in a
// private temporary file once it grows past the threshold (as clamd spools every stream to its
// TemporaryDirectory). The file is then scanned by a worker in chunkSize reads, so a large stream never
// sits whole in the server's memory, however many connections send one at once.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { ScannerError, ScannerErrorCodes } from './errors.js';

/** A finished stream: its bytes in memory, or the temporary file holding them (the caller removes it). */
export type SpooledStream = { readonly kind: 'memory'; readonly data: Uint8Array } | { readonly kind: 'file'; readonly path: string };

export class StreamSpool {
  readonly #threshold: number;
  readonly #pathForFile: () => string;
  // Invariant: while #file is undefined every byte received is in #chunks (views of socket reads,
  // #bytes in total, ≤ #threshold); once #file exists #chunks is empty and every byte went to #file.
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #file: WriteStream | undefined;
  #path: string | undefined;
  #error: Error | undefined;

  /** `pathForFile` names a new file in a private directory; it is called at most once. */
  constructor(threshold: number, pathForFile: () => string) {
    this.#threshold = threshold;
    this.#pathForFile = pathForFile;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds a chunk. Returns false when the file's write buffer is full: the caller stops reading until
   * onDrain fires (socket backpressure instead of memory growth).
   */
  write(chunk: Uint8Array): boolean {
    this.#bytes += chunk.length;
    if (this.#file === undefined) {
      if (this.#bytes <= this.#threshold) {
        this.#chunks.push(chunk);
        return true;
      }
      this.#path = this.#pathForFile();
      const file = createWriteStream(this.#path, { flags: 'wx', mode: 0o600 });
      file.on('error', (err) => {
        this.#error ??= err;
      });
      this.#file = file;
      for (const c of this.#chunks) file.write(c);
      this.#chunks = [];
    }
    return this.#file.write(chunk);
  }

  /** Calls `listener` once the file's write buffer has drained. */
  onDrain(listener: () => void): void {
    if (this.#file === undefined || !this.#file.writableNeedDrain) listener();
    else this.#file.once('drain', listener);
  }

  /** All bytes have arrived: the stream in memory, or its file once every byte is on disk. */
  async finish(): Promise<SpooledStream> {
    if (this.#file === undefined) {
      const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [];
      return { kind: 'memory', data };
    }
    const file = this.#file;
    const path = this.#path!;
    file.end();
    try {
      await finished(file);
    } catch (err) {
      this.#error ??= err as Error;
    }
    if (this.#error !== undefined) {
      this.discard();
      const code = (this.#error as NodeJS.ErrnoException).code ?? this.#error.message;
      throw new ScannerError(ScannerErrorCodes.ERR_SCANNER_SPOOL, `cannot spool the stream to \`${path}\`: ${code}`, { cause: this.#error });
    }
    return { kind: 'file', path };
  }

  /** Drops whatever was received and removes the file, if any. Safe to call more than once. */
  discard(): void {
    this.#chunks = [];
    const path = this.#path;
    if (path === undefined) return;
    if (this.#file !== undefined) {
      // A stream destroyed before its open completes still creates the file: remove it after close too.
      this.#file.once('close', () => rmSync(path, { force: true }));
      this.#file.destroy();
      this.#file = undefined;
    }
    rmSync(path, { force: true });
  }
}
