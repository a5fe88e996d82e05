// A raw clamd-protocol client for front door tests: sends bytes, collects everything until the server
// closes the connection (Samba's reader needs that close, so tests check it happens).
import net from 'node:net';

export function exchange(target: string | { host: string; port: number }, bytes: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = typeof target === 'string' ? net.createConnection(target) : net.createConnection(target.port, target.host);
    let out = '';
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(out)}`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => (out += d.toString()));
    sock.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

/** `zSCAN <path>` as Samba sends it; the reply without its NUL. */
export async function zscan(target: string | { host: string; port: number }, file: string): Promise<string> {
  const out = await exchange(target, `zSCAN ${file}\0`);
  if (!out.endsWith('\0')) throw new Error(`reply not NUL-terminated: ${JSON.stringify(out)}`);
  return out.slice(0, -1);
}
