import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Target = { port: number; host: string } | { path: string };

/** Sends `data`, collects everything until the server closes (or `timeoutMs`). */
export function exchange(target: Target, data: Uint8Array | string, timeoutMs = 5000): Promise<{ text: string; closed: boolean; error?: string }> {
  return new Promise((resolve) => {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    const out: Buffer[] = [];
    let error: string | undefined;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ text: Buffer.concat(out).toString('utf8'), closed: false, ...(error ? { error } : {}) });
    }, timeoutMs);
    sock.on('data', (d) => out.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(out).toString('utf8'), closed: true, ...(error ? { error } : {}) });
    });
    sock.write(data);
  });
}

/** INSTREAM framing: 4-byte big-endian length per chunk, then a zero-length chunk. */
export function instream(payload: Uint8Array, chunkSize = 8192, prefix = 'z'): Buffer {
  const parts: Buffer[] = [Buffer.from(`${prefix}INSTREAM${prefix === 'z' ? '\0' : '\n'}`)];
  for (let i = 0; i < payload.length; i += chunkSize) {
    const chunk = payload.subarray(i, i + chunkSize);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(chunk.length);
    parts.push(len, Buffer.from(chunk));
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'avscan-scanner-'));
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function randomBytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
