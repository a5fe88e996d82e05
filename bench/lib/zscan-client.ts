// A clamd-protocol client that asks as Samba's vfs_virusfilter (clamav backend) does: one new unix
// connection per file, `zSCAN <path>\0`, read until the peer closes. Used by the front-door benches
// to time the front door alone against the same client straight to clamd, in the same run.
import net from 'node:net';

/** One zSCAN on a fresh connection: the reply without its NUL terminator. */
export function zscan(socketPath: string, file: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error(`zSCAN ${file}: no reply in ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.write(`zSCAN ${file}\0`));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8').replace(/\0$/, ''));
    });
  });
}

/** Seconds to zSCAN `files` one after another (as one smbd process does); replies not ending in OK are returned. */
export async function zscanAll(socketPath: string, files: readonly string[]): Promise<{ secs: number; notOk: string[] }> {
  const notOk: string[] = [];
  const t0 = process.hrtime.bigint();
  for (const f of files) {
    const r = await zscan(socketPath, f);
    if (!r.endsWith(': OK')) notOk.push(r);
  }
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, notOk };
}
