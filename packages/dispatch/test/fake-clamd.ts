// A tiny clamd-protocol server for fault injection: each connection's command is answered by
// `behaviour`, which can reply, delay, hang, send garbage or drop the connection.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';

export type Behaviour = 'clean' | 'infected' | 'hang' | 'garbage' | 'drop' | 'too-large' | 'reset-upload' | { delayMs: number; then?: Behaviour };

export interface FakeClamd {
  readonly address: string;
  readonly socketPath: string;
  behaviour: Behaviour;
  /** Scan requests received (INSTREAM/SCAN), not probes. */
  scans: number;
  /** Bytes of INSTREAM data per request, in arrival order. */
  readonly sizes: number[];
  /** Make probes fail too (the server looks down to health checks). */
  probeFails: boolean;
  close(): Promise<void>;
}

export async function startFakeClamd(behaviour: Behaviour = 'clean'): Promise<FakeClamd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-clamd-'));
  const socketPath = path.join(dir, 's.sock');
  const sockets = new Set<net.Socket>();
  const fake: FakeClamd = {
    address: `clamd+unix://${socketPath}`, socketPath, behaviour, scans: 0, sizes: [], probeFails: false,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => { rmSync(dir, { recursive: true, force: true }); r(); });
    }),
  };
  const respond = (sock: net.Socket, b: Behaviour): void => {
    if (typeof b === 'object') {
      setTimeout(() => respond(sock, b.then ?? 'clean'), b.delayMs);
      return;
    }
    switch (b) {
      case 'clean': sock.end('stream: OK\0'); break;
      case 'infected': sock.end('stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0'); break;
      case 'too-large': sock.end('INSTREAM size limit exceeded. ERROR\0'); break;
      case 'garbage': sock.end('HTTP/1.1 400 what\0'); break;
      case 'drop': sock.destroy(); break;
      case 'hang': break;
    }
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let cmd: string | null = null;
    let size = 0;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (cmd === null) {
        const z = buf.indexOf(0);
        if (z === -1) return;
        cmd = buf.toString('latin1', 1, z);
        buf = buf.subarray(z + 1);
        if (cmd === 'PING' || cmd === 'VERSION') {
          if (fake.probeFails) { sock.destroy(); return; }
          sock.end(cmd === 'PING' ? 'PONG\0' : 'ClamAV 1.4.6/27000/Mon Jan  1 10:00:00 2024\0');
          return;
        }
        fake.scans++;
        if (cmd.startsWith('SCAN ')) { respond(sock, fake.behaviour); return; }
      }
      if (cmd === 'INSTREAM') {
        while (buf.length >= 4) {
          const n = buf.readUInt32BE(0);
          if (n === 0) { fake.sizes.push(size); cmd = 'done'; respond(sock, fake.behaviour); return; }
          if (fake.behaviour === 'reset-upload' && size + buf.length > 64 * 1024) {
            // clamd past StreamMaxLength, with its reply lost: the connection just goes away mid-upload
            sock.destroy();
            return;
          }
          if (buf.length < 4 + n) return;
          size += n;
          buf = buf.subarray(4 + n);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return fake;
}
