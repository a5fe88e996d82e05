// The per-server IDSESSION pool behind clamd addresses: reuse, server death with requests in flight,
// a hung request closing only its own session, clamd closing an idle session, and `?session=0`.
import { describe, expect, it } from 'vitest';
import { ClamdClient } from '../src/internal.js';
import { fakeClamdRig, until } from './rig.js';

const { fake, dispatcher } = fakeClamdRig();

const data = Buffer.from('hello world');

describe('clamd session pool', () => {
  it('reuses one kept connection across sequential requests', async () => {
    const a = await fake();
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a.address] }] });
    const before = a.connections;
    for (let i = 0; i < 5; i++) expect(await d.scan({ data })).toMatchObject({ result: 'clean', attempts: 1 });
    a.behaviour = 'infected';
    expect(await d.scan({ data })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(a.connections - before).toBe(1);
    expect(a.sizes).toEqual(Array(6).fill(data.length));
  });

  it('opens up to one session per concurrent request and keeps them for the next burst', async () => {
    const a = await fake({ delayMs: 20 });
    const { d } = await dispatcher({ max_connections_per_server: 4, scanner_pools: [{ name: 'p', servers: [a.address] }] });
    const before = a.connections;
    const burst = (): Promise<unknown[]> => Promise.all(Array.from({ length: 4 }, () => d.scan({ data })));
    await burst();
    expect(a.connections - before).toBe(4);
    await burst();
    expect(a.connections - before).toBe(4);
  });

  it('with `?session=0` opens a new connection per request', async () => {
    const a = await fake();
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [`${a.address}?session=0`] }] });
    const before = a.connections;
    for (let i = 0; i < 3; i++) expect(await d.scan({ data })).toMatchObject({ result: 'clean' });
    expect(a.connections - before).toBe(3);
  });

  it('a server killed with requests in flight on kept sessions: they are retried elsewhere', async () => {
    const [a, b] = [await fake(), await fake()];
    const { d, events } = await dispatcher({ request_timeout: 5, scanner_pools: [{ name: 'p', servers: [a.address, b.address] }] });
    await Promise.all([d.scan({ data }), d.scan({ data })]); // one kept session on each server
    a.behaviour = 'hang';
    const bBefore = b.scans;
    const pending = [d.scan({ data }), d.scan({ data }), d.scan({ data })];
    await until(() => a.scans + b.scans - bBefore >= 4); // 3 requests + the warm-up on a
    const onA = a.scans - 1;
    expect(onA).toBeGreaterThan(0);
    await a.close(); // the listener and every connection go away: sessions die mid-request, reconnects fail
    const outs = await Promise.all(pending);
    for (const o of outs) expect(o).toMatchObject({ result: 'clean', server: b.address });
    expect(outs.filter((o) => o.attempts === 2).length).toBe(onA);
    expect(b.scans - bBefore).toBe(3);
    expect(events.find((e) => e.server === a.address && e.to === 'disconnected')?.disconnected_reason).toBe('remote_closed');
  });

  it('a hung request times out and closes only its own session', async () => {
    const a = await fake('hang');
    const { d } = await dispatcher({ max_connections_per_server: 4, scanner_pools: [{ name: 'p', servers: [a.address] }] });
    const hung = d.scan({ data });
    await until(() => a.scans === 1);
    a.behaviour = 'clean';
    expect(await d.scan({ data })).toMatchObject({ result: 'clean' });
    expect(a.open).toBe(2); // the hung session and the kept one
    expect(await hung).toMatchObject({ result: 'failure', kind: 'timeout', code: 'ERR_DISPATCH_TIMEOUT' });
    await until(() => a.open === 1);
    const before = a.connections;
    expect(await d.scan({ data })).toMatchObject({ result: 'clean' });
    expect(a.connections).toBe(before); // the healthy session was kept and reused
    expect(d.serverStatus()[0]!.state).toBe('connected');
  });

  it('an idle session closed by clamd (IdleTimeout) is replaced without marking the server dead', async () => {
    const a = await fake();
    const { d, events } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a.address] }] });
    expect(await d.scan({ data })).toMatchObject({ result: 'clean' });
    const before = a.connections;
    a.dropAll();
    // Sent before the client has seen the close: the request goes out on the dying kept session.
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'clean', attempts: 1 });
    expect(a.connections - before).toBe(1);
    expect(events.some((e) => e.to === 'disconnected')).toBe(false);
  });

  it('ClamdClient: abort closes the session; close() ends kept sessions', async () => {
    const a = await fake('hang');
    const c = new ClamdClient({ path: a.socketPath }, a.address);
    const ac = new AbortController();
    const p = c.scan({ data }, ac.signal);
    await until(() => a.scans === 1);
    expect(c.sessions.open).toBe(1);
    ac.abort(new Error('gone'));
    await expect(p).rejects.toThrow('gone');
    await until(() => a.open === 0);
    expect(c.sessions).toEqual({ open: 0, idle: 0 });
    a.behaviour = 'clean';
    expect(await c.scan({ data }, new AbortController().signal)).toEqual({ kind: 'clean' });
    expect(c.sessions).toEqual({ open: 1, idle: 1 });
    await c.close();
    await until(() => a.open === 0);
    expect(c.sessions).toEqual({ open: 0, idle: 0 });
  });

  it('streams a file larger than one chunk over a session, and a small one in one write', async () => {
    const a = await fake();
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a.address] }] });
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/dispatch-pool-');
    writeFileSync(`${dir}/big.bin`, Buffer.alloc(200_000, 7));
    writeFileSync(`${dir}/exact.bin`, Buffer.alloc(64 * 1024, 8));
    writeFileSync(`${dir}/small.bin`, Buffer.alloc(1000, 9));
    writeFileSync(`${dir}/empty.bin`, Buffer.alloc(0));
    for (const f of ['big', 'exact', 'small', 'empty']) expect(await d.scan({ file: `${dir}/${f}.bin` })).toMatchObject({ result: 'clean' });
    expect(a.sizes).toEqual([200_000, 64 * 1024, 1000, 0]);
  });
});
