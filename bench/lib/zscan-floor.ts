// The floor under the front door: the cheapest clamd-protocol server Node can be. It answers every
// connection's first chunk with `<path>: OK\0` and destroys the socket — no parser, no engine, no
// file lookup, no timers, only the listeners Node needs to not crash. A client that asks it as
// vfs_virusfilter does (one connection per file) measures Node's own per-connection cost: accept,
// the Socket object, one read, one write, close. The front door can approach it, not beat it.
// With `judge`, the same server awaits `judge(path)` before replying (`OK` when it resolves true):
// given the engine's open, it is the front door without the front door's own code.
import { rmSync } from 'node:fs';
import net from 'node:net';

export interface FloorServer {
  readonly socketPath: string;
  /** Connections answered so far. */
  readonly answered: () => number;
  close(): Promise<void>;
}

/** Listens on `socketPath` (replaced if present) in this process. */
export async function startFloorServer(socketPath: string, judge?: (path: string) => Promise<boolean>): Promise<FloorServer> {
  rmSync(socketPath, { force: true });
  let answered = 0;
  const reply = (socket: net.Socket, path: string, ok: boolean): void => {
    socket.write(`${path}: ${ok ? 'OK' : 'Denied ERROR'}\0`);
    socket.destroy();
    answered++;
  };
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      // `zSCAN <path>\0`: the path is bytes 6 .. length − 1.
      const path = chunk.toString('utf8', 6, chunk.length - 1);
      if (judge === undefined) reply(socket, path, true);
      else void judge(path).then((ok) => reply(socket, path, ok), () => reply(socket, path, false));
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: socketPath, backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    socketPath,
    answered: () => answered,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
