// Scan-by-path on kept IDSESSION connections: the hot path whose promise is settled straight from the
// session's reply callback (clamd-client `#pathOnKept`). Every way out of it is checked against a fake
// clamd: reuse, a kept session dying under the request, a hang (timeout), garbage, and an abort.
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClamdClient } from '../src/internal.js';
import { fakeClamdRig, until } from './rig.js';
import type { FakeClamd } from './fake-clamd.js';

const { open, fake, dispatcher } = fakeClamdRig();

const byPath = (f: FakeClamd): string => `${f.address}?scan=path`;

describe('scan-by-path on a kept session', () => {
  it('sends zSCAN on one kept session, clean and infected, never streaming', async () => {
    const a = await fake();
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [byPath(a)] }] });
    const before = a.connections;
    for (let i = 0; i < 5; i++) expect(await d.scan({ file: `/srv/f${i}` })).toMatchObject({ result: 'clean', attempts: 1 });
    a.behaviour = 'infected';
    expect(await d.scan({ file: '/srv/x: y' })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(a.connections - before).toBe(1);
    expect(a.paths).toEqual(['/srv/f0', '/srv/f1', '/srv/f2', '/srv/f3', '/srv/f4', '/srv/x: y']);
    expect(a.sizes).toEqual([]);
  });

  it('a kept session closed by clamd under the request: sent again on a new session, server not marked dead', async () => {
    const a = await fake();
    const { d, events } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [byPath(a)] }] });
    expect(await d.scan({ file: '/srv/a' })).toMatchObject({ result: 'clean' });
    const before = a.connections;
    a.dropAll();
    expect(await d.scan({ file: '/srv/b' })).toMatchObject({ result: 'clean', attempts: 1 });
    expect(a.connections - before).toBe(1);
    expect(events.some((e) => e.to === 'disconnected')).toBe(false);
  });

  it('a hang times out on the shared deadline timer and drops only that session', async () => {
    const a = await fake();
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [byPath(a)] }] });
    expect(await d.scan({ file: '/srv/warm' })).toMatchObject({ result: 'clean' });
    a.behaviour = 'hang';
    const hung = await d.scan({ file: '/srv/hung' });
    expect(hung).toMatchObject({ result: 'failure', kind: 'timeout', code: 'ERR_DISPATCH_TIMEOUT', attempts: 1 });
    expect(hung.latencyMs).toBeGreaterThanOrEqual(295);
    await until(() => a.open === 0);
    a.behaviour = 'clean';
    expect(await d.scan({ file: '/srv/after' })).toMatchObject({ result: 'clean', attempts: 1 });
  });

  it('garbage on a kept session is a protocol failure: retried on the other server', async () => {
    const [a, b] = [await fake(), await fake()];
    const { d, events } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [byPath(a), byPath(b)] }] });
    a.behaviour = 'garbage';
    expect(await d.scan({ file: '/srv/g' })).toMatchObject({ result: 'clean', server: byPath(b) });
    expect(events.find((e) => e.server === byPath(a) && e.to === 'disconnected')?.disconnected_reason).toBe('invalid_protocol_msg');
  });

  it('ClamdClient: abort of a path request closes its session and rejects with the reason; the next opens anew', async () => {
    const a = await fake('hang');
    const c = new ClamdClient({ path: a.socketPath }, a.address, { scanByPath: true });
    open.push(c);
    expect(a.behaviour).toBe('hang');
    a.behaviour = 'clean';
    expect(await c.scan({ file: '/srv/1' }, new AbortController().signal)).toEqual({ kind: 'clean' });
    expect(c.sessions).toEqual({ open: 1, idle: 1 });
    a.behaviour = 'hang';
    const ac = new AbortController();
    const p = c.scan({ file: '/srv/2' }, ac.signal);
    await until(() => a.scans === 2);
    expect(c.sessions).toEqual({ open: 1, idle: 0 });
    ac.abort(new Error('gone'));
    await expect(p).rejects.toThrow('gone');
    await until(() => a.open === 0);
    expect(c.sessions).toEqual({ open: 0, idle: 0 });
    a.behaviour = 'clean';
    expect(await c.scan({ file: '/srv/3' }, new AbortController().signal)).toEqual({ kind: 'clean' });
    expect(a.paths).toEqual(['/srv/1', '/srv/2', '/srv/3']);
  });

  it('a reply split across reads, and one longer than the session read buffer, are reassembled', async () => {
    // A server that echoes each zSCAN path back as clean, in pieces: 7 bytes, then the rest 20 ms later.
    const sockPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'avscan-split-')), 'c.sock');
    const server = net.createServer((sock) => {
      let buf = '';
      let id = 0;
      sock.on('error', () => {}); // the client's zEND + close may meet a late piece
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        for (let z = buf.indexOf('\0'); z !== -1; z = buf.indexOf('\0')) {
          const cmd = buf.slice(1, z);
          buf = buf.slice(z + 1);
          if (cmd === 'IDSESSION') continue;
          const reply = `${++id}: ${cmd.slice(5)}: OK\0`;
          sock.write(reply.slice(0, 7));
          setTimeout(() => { if (!sock.destroyed) sock.write(reply.slice(7)); }, 20);
        }
      });
    });
    await new Promise<void>((r) => server.listen(sockPath, r));
    open.push({ close: () => new Promise<void>((r) => { server.close(() => r()); }) });
    const c = new ClamdClient({ path: sockPath }, 'split', { scanByPath: true });
    open.push(c);
    const long = `/srv/${'x'.repeat(9000)}`;
    for (const f of ['/srv/a', long, '/srv/b']) expect(await c.scan({ file: f }, new AbortController().signal)).toEqual({ kind: 'clean' });
    expect(c.sessions).toEqual({ open: 1, idle: 1 });
  });
});
