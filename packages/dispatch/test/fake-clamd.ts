// A tiny clamd-protocol server for fault injection: each command (one per connection, or many inside
// IDSESSION) is answered by `behaviour`, which can reply, delay, hang, send garbage or drop the connection.
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
  /** Paths asked for by zSCAN, in arrival order. */
  readonly paths: string[];
  /** Bytes of INSTREAM data per request, in arrival order. */
  readonly sizes: number[];
  /** Make probes fail too (the server looks down to health checks). */
  probeFails: boolean;
  /** Connections accepted (probes included). */
  connections: number;
  /** Connections open now. */
  readonly open: number;
  /** Destroys every open connection (a server restart as clients see it), keeps listening. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFakeClamd(behaviour: Behaviour = 'clean'): Promise<FakeClamd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-clamd-'));
  const socketPath = path.join(dir, 's.sock');
  const sockets = new Set<net.Socket>();
  const fake: FakeClamd = {
    address: `clamd+unix://${socketPath}`, socketPath, behaviour, scans: 0, paths: [], sizes: [], probeFails: false, connections: 0,
    dropAll: () => { for (const s of sockets) s.destroy(); },
    get open() { return sockets.size; },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => { rmSync(dir, { recursive: true, force: true }); r(); });
    }),
  };
  // `id` is the IDSESSION request number (0 outside a session): replies get `<id>: ` and the
  // connection stays open, as with real clamd; outside a session clamd closes after its reply.
  const reply = (sock: net.Socket, id: number, text: string, close: boolean): void => {
    if (id === 0 || close) sock.end(id === 0 ? text : `${id}: ${text}`);
    else sock.write(`${id}: ${text}`);
  };
  const respond = (sock: net.Socket, b: Behaviour, id: number): void => {
    if (typeof b === 'object') {
      setTimeout(() => { if (!sock.destroyed) respond(sock, b.then ?? 'clean', id); }, b.delayMs);
      return;
    }
    switch (b) {
      case 'clean': reply(sock, id, 'stream: OK\0', false); break;
      case 'infected': reply(sock, id, 'stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0', false); break;
      case 'too-large': reply(sock, id, 'INSTREAM size limit exceeded. ERROR\0', true); break;
      case 'garbage': sock.end('HTTP/1.1 400 what\0'); break;
      case 'drop': sock.destroy(); break;
      case 'hang': break;
    }
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    fake.connections++;
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let cmd: string | null = null;
    let size = 0;
    let session = false;
    let id = 0;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (cmd === null) {
          const z = buf.indexOf(0);
          if (z === -1) return;
          cmd = buf.toString('latin1', 1, z);
          buf = buf.subarray(z + 1);
          if (cmd === 'IDSESSION') { session = true; cmd = null; continue; }
          if (cmd === 'END') { sock.end(); return; }
          if (session) id++;
          if (cmd === 'PING' || cmd === 'VERSION') {
            if (fake.probeFails) { sock.destroy(); return; }
            reply(sock, id, cmd === 'PING' ? 'PONG\0' : 'ClamAV 1.4.6/27000/Mon Jan  1 10:00:00 2024\0', false);
            if (!session) return;
            cmd = null;
            continue;
          }
          fake.scans++;
          if (cmd.startsWith('SCAN ')) { fake.paths.push(cmd.slice(5)); respond(sock, fake.behaviour, id); if (!session) return; cmd = null; continue; }
          size = 0;
        }
        if (cmd !== 'INSTREAM') return;
        if (buf.length < 4) return;
        const n = buf.readUInt32BE(0);
        if (n === 0) {
          buf = buf.subarray(4);
          fake.sizes.push(size);
          respond(sock, fake.behaviour, id);
          if (!session) { cmd = 'done'; return; }
          cmd = null;
          continue;
        }
        if (fake.behaviour === 'reset-upload' && size + buf.length > 64 * 1024) {
          // clamd past StreamMaxLength, with its reply lost: the connection just goes away mid-upload
          sock.destroy();
          return;
        }
        if (buf.length < 4 + n) return;
        size += n;
        buf = buf.subarray(4 + n);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return fake;
}
