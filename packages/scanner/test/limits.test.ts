// The server's memory bounds: the connection limit with its wait queue, and INSTREAM spooling.
import { readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EICAR, ScanEngine, ScannerErrorCodes, startScannerServer, type ScannerServer } from '../dist/index.js';
import { exchange, instream, randomBytes, tempDir } from './helpers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function server(options: Record<string, unknown>): Promise<{ server: ScannerServer; path: string; dir: string }> {
  const dir = tempDir();
  const path = join(dir, 's.sock');
  const engine = await ScanEngine.create({ workers: 1 });
  const s = await startScannerServer({ engine, unix: path, log: () => {}, ...options });
  closers.push(async () => {
    await s.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { server: s, path, dir };
}

function open(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path, () => resolve(s));
    s.once('error', reject);
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('connection limit', () => {
  it('serves maxConnections at once; the next waits unread and is served when one closes', async () => {
    const { server: s, path } = await server({ maxConnections: 1 });
    const first = await open(path);
    first.write('zIDSESSION\0');
    await until(() => s.stats().commands === 1);
    const second = exchange({ path }, 'zPING\0');
    await until(() => s.stats().waitingConnections === 1);
    expect(s.stats()).toMatchObject({ activeConnections: 1, waitingConnections: 1, commands: 1 });
    first.end('zEND\0');
    expect(await second).toEqual({ text: 'PONG\0', closed: true });
    expect(s.stats()).toMatchObject({ waitingConnections: 0, commands: 3 });
  });

  it('closes a new connection at once when the wait queue is full', async () => {
    const { server: s, path } = await server({ maxConnections: 1, maxWaitingConnections: 1 });
    const first = await open(path);
    first.write('zIDSESSION\0');
    await until(() => s.stats().commands === 1);
    const waiting = exchange({ path }, 'zPING\0');
    await until(() => s.stats().waitingConnections === 1);
    expect((await exchange({ path }, 'zPING\0')).text).toBe('');
    expect(s.stats().refused).toBe(1);
    first.end('zEND\0');
    expect((await waiting).text).toBe('PONG\0');
  });

  it('forgets a waiting connection whose client gives up', async () => {
    const { server: s, path } = await server({ maxConnections: 1 });
    const first = await open(path);
    first.write('zIDSESSION\0');
    await until(() => s.stats().commands === 1);
    const gone = await open(path);
    await until(() => s.stats().waitingConnections === 1);
    gone.destroy();
    first.end('zEND\0');
    await until(() => s.stats().activeConnections === 0 && s.stats().waitingConnections === 0);
    expect(await exchange({ path }, 'zPING\0')).toEqual({ text: 'PONG\0', closed: true });
  });
});

describe('INSTREAM spooling', () => {
  it('scans a stream above streamSpoolThreshold from a temporary file, then removes it', async () => {
    const spool = tempDir();
    closers.push(async () => rmSync(spool, { recursive: true, force: true }));
    const { server: s, path } = await server({ streamSpoolThreshold: 1000, spoolDirectory: spool });
    const infected = Buffer.concat([randomBytes(5000, 9), EICAR, randomBytes(3000, 2)]);
    expect((await exchange({ path }, instream(infected, 777))).text).toBe('stream: Eicar-Test-Signature FOUND\0');
    expect((await exchange({ path }, instream(randomBytes(9000, 3), 4096))).text).toBe('stream: OK\0');
    expect((await exchange({ path }, instream(randomBytes(1000, 3)))).text).toBe('stream: OK\0'); // at the threshold: memory
    expect(s.stats()).toMatchObject({ spooledStreams: 2, streamBytes: infected.length + 10_000 });
    const [own] = readdirSync(spool);
    expect(readdirSync(join(spool, own!))).toEqual([]);
    await s.close();
    expect(readdirSync(spool)).toEqual([]); // the private directory goes with the server
  });

  it('answers a stream it cannot spool with an error reply (ERR_SCANNER_SPOOL)', async () => {
    const spool = tempDir();
    closers.push(async () => rmSync(spool, { recursive: true, force: true }));
    const { path } = await server({ streamSpoolThreshold: 0, spoolDirectory: spool });
    rmSync(join(spool, readdirSync(spool)[0]!), { recursive: true });
    const { text } = await exchange({ path }, instream(randomBytes(100)));
    expect(text).toMatch(/^stream: cannot spool the stream to `.+`: ENOENT\. ERROR\0$/);
    expect(ScannerErrorCodes.ERR_SCANNER_SPOOL).toBe('ERR_SCANNER_SPOOL');
  });

  it('validates the new options', async () => {
    for (const bad of [{ maxConnections: 0 }, { maxWaitingConnections: -1 }, { streamSpoolThreshold: 1.5 }, { spoolDirectory: '' }, { spoolDirectory: '/nonexistent/x' }]) {
      await expect(startScannerServer({ unix: '/tmp/never.sock', ...bad })).rejects.toMatchObject({ code: 'ERR_SCANNER_INVALID_OPTION' });
    }
  });
});
