// A unix-socket proxy in front of a real clamd: counts scanner requests (`INSTREAM` commands sent to
// clamd) and scan replies (`stream: …`), and can hold those replies back (`delayMs`), so a test sees how many scans reached the
// scanner and can keep a scan in progress long enough to kill its node. PING/VERSION replies pass at
// once (the dispatcher's probes must not time out). Bytes are forwarded unchanged.
import { rm } from 'node:fs/promises';
import net from 'node:net';

export interface ClamdProxy {
  readonly socketPath: string;
  /** Scan requests (INSTREAM commands) sent to clamd so far. */
  readonly requests: number;
  /** Scan replies forwarded so far. */
  readonly scans: number;
  /** Scan replies are forwarded this many ms after clamd sent them. @default 0 */
  delayMs: number;
  close(): Promise<void>;
}

const kScanReply = /stream: /g;
const kScanRequest = /INSTREAM/g;

export async function startClamdProxy(target: string, socketPath: string): Promise<ClamdProxy> {
  const sockets = new Set<net.Socket>();
  let scans = 0;
  let requests = 0;
  const proxy = {
    socketPath,
    get requests() {
      return requests;
    },
    get scans() {
      return scans;
    },
    delayMs: 0,
    async close(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (d) => {
      requests += d.toString('latin1').match(kScanRequest)?.length ?? 0;
      upstream.write(d);
    });
    // Replies keep their order: a held scan reply holds what follows it on the connection.
    let chain = Promise.resolve();
    upstream.on('data', (d) => {
      const n = d.toString('latin1').match(kScanReply)?.length ?? 0;
      const delay = n > 0 ? proxy.delayMs : 0;
      chain = chain.then(async () => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        scans += n;
        if (!client.destroyed) client.write(d);
      });
    });
  });
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, () => resolve()));
  return proxy;
}
