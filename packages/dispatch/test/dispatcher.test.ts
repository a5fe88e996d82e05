import { afterEach, describe, expect, it } from 'vitest';
import type { Dispatcher, DispatcherOptions } from '../src/index.js';
import { testDispatcher, until } from './rig.js';
import { startFakeClamd, type FakeClamd } from './fake-clamd.js';

const open: Array<Dispatcher | FakeClamd> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function fakes(...bs: Parameters<typeof startFakeClamd>[0][]): Promise<FakeClamd[]> {
  const out: FakeClamd[] = [];
  for (const b of bs) {
    const f = await startFakeClamd(b);
    open.push(f);
    out.push(f);
  }
  return out;
}


const dispatcher = (opts: Partial<DispatcherOptions> & Pick<DispatcherOptions, 'scanner_pools'>) => testDispatcher(open, opts, 'settled');

const data = Buffer.from('hello world');


describe('dispatcher with a fake clamd', () => {
  it('returns clean and infected verdicts with server and signature stamp', async () => {
    const [a] = await fakes('clean');
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'clean', server: a!.address, stamp: 'ClamAV 1.4.6/27000', attempts: 1 });
    expect(o.sigTimestamp).toBe(Date.UTC(2024, 0, 1, 10));
    a!.behaviour = 'infected';
    expect(await d.scan({ data })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(a!.sizes).toEqual([data.length, data.length]);
    expect(d.metrics().results).toMatchObject({ clean: 1, infected: 1 });
    expect(d.signatureWatermark()).toEqual({ timestamp: Date.UTC(2024, 0, 1, 10), stamps: ['ClamAV 1.4.6/27000'] });
  });

  it('reports too-large without retrying', async () => {
    const [a, b] = await fakes('too-large', 'clean');
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address, b!.address] }] });
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'failure', kind: 'too-large', code: 'ERR_DISPATCH_TOO_LARGE', attempts: 1 });
    expect(b!.scans).toBe(0);
  });

  it('reports a stream reset by a live server as too-large, by a dying one as error', async () => {
    const [a] = await fakes('reset-upload');
    const { d } = await dispatcher({ request_timeout: 2, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const big = Buffer.alloc(4 * 1024 * 1024, 1);
    expect(await d.scan({ data: big })).toMatchObject({ result: 'failure', kind: 'too-large', code: 'ERR_DISPATCH_TOO_LARGE' });
    a!.probeFails = true;
    expect(await d.scan({ data: big })).toMatchObject({ result: 'failure', kind: 'error', code: 'ERR_DISPATCH_SERVER_DIED' });
  });

  it('retries once on another server after a request timeout', async () => {
    const [a, b] = await fakes('hang', 'clean');
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address, b!.address] }] });
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'clean', server: b!.address, attempts: 2 });
    expect(o.latencyMs).toBeGreaterThanOrEqual(290);
    expect(d.metrics().servers[0]).toMatchObject({ timeout: 1, retried: 1 });
  });

  it('gives a timeout failure when the retry also times out', async () => {
    const [a, b] = await fakes('hang', 'hang');
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address, b!.address] }] });
    expect(await d.scan({ data })).toMatchObject({ result: 'failure', kind: 'timeout', attempts: 2 });
  });

  it('one shared deadline timer: each request gets its own full request_timeout, whatever ran before it', async () => {
    const [a] = await fakes('clean');
    const { d } = await dispatcher({ max_connections_per_server: 4, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    // A quick request arms the timer for ITS deadline; a hang sent 100 ms later must not fire with it.
    expect(await d.scan({ data })).toMatchObject({ result: 'clean' });
    await new Promise((r) => setTimeout(r, 100));
    a!.behaviour = 'hang';
    const t0 = performance.now();
    const first = d.scan({ data }).then((o) => ({ o, at: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 150));
    const second = d.scan({ data }).then((o) => ({ o, at: performance.now() - t0 }));
    const [x, y] = await Promise.all([first, second]);
    for (const r of [x, y]) {
      expect(r.o).toMatchObject({ result: 'failure', kind: 'timeout', code: 'ERR_DISPATCH_TIMEOUT', attempts: 1 });
      expect(r.o.latencyMs).toBeGreaterThanOrEqual(299);
      expect(r.o.latencyMs).toBeLessThan(1000);
    }
    // Staggered starts, staggered expiries: the second is not cut when the first is.
    expect(y.at - x.at).toBeGreaterThanOrEqual(100);
    a!.behaviour = 'clean';
    expect(await d.scan({ data })).toMatchObject({ result: 'clean', attempts: 1 });
  });

  it('retries elsewhere when the server dies mid-request and marks it disconnected', async () => {
    const [a, b] = await fakes('drop', 'clean');
    const { d, events } = await dispatcher({ request_timeout: 1, max_session_setup_retries: 1, scanner_pools: [{ name: 'p', servers: [a!.address, b!.address] }] });
    await until(() => d.serverStatus().every((s) => s.state === 'connected'));
    a!.probeFails = true; // it stays down for the reconnect attempt
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'clean', server: b!.address, attempts: 2 });
    const down = events.find((e) => e.server === a!.address && e.to === 'disconnected');
    expect(down?.disconnected_reason).toBe('remote_closed');
    expect(down?.from).toBe('connected');
  });

  it('marks a server that answers garbage as invalid_protocol_msg and retries', async () => {
    const [a, b] = await fakes('garbage', 'clean');
    const { d, events } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address, b!.address] }] });
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'clean', server: b!.address });
    expect(events.find((e) => e.server === a!.address && e.to === 'disconnected')?.disconnected_reason).toBe('invalid_protocol_msg');
  });

  it('serves interactive before async before background once a slot frees', async () => {
    const [a] = await fakes({ delayMs: 30 });
    const { d } = await dispatcher({ max_connections_per_server: 1, scan_queue_timeout: 5, request_timeout: 5, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const order: string[] = [];
    const first = d.scan({ data, priority: 'background' }).then(() => order.push('first'));
    const ps = (['background', 'async', 'interactive', 'async'] as const).map((p, i) => d.scan({ data, priority: p }).then(() => order.push(`${p}${i}`)));
    expect(d.metrics().queued).toBe(4);
    await Promise.all([first, ...ps]);
    expect(order).toEqual(['first', 'interactive2', 'async1', 'async3', 'background0']);
  });

  it('fails unavailable when the queue is full, and emits saturated then drain', async () => {
    const [a] = await fakes({ delayMs: 40 });
    const { d } = await dispatcher({ max_connections_per_server: 1, max_queue: 2, scan_queue_timeout: 5, request_timeout: 5, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const seen: string[] = [];
    d.on('saturated', () => seen.push('saturated'));
    d.on('drain', () => seen.push('drain'));
    const running = [d.scan({ data }), d.scan({ data }), d.scan({ data })];
    expect(d.saturated).toBe(true);
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'failure', kind: 'unavailable', code: 'ERR_DISPATCH_QUEUE_FULL', attempts: 0 });
    expect((await Promise.all(running)).map((r) => r.result)).toEqual(['clean', 'clean', 'clean']);
    expect(seen).toEqual(['saturated', 'drain']);
  });

  it('onQueueBelow lets producers wait for room', async () => {
    const [a] = await fakes({ delayMs: 20 });
    const { d } = await dispatcher({ max_connections_per_server: 1, scan_queue_timeout: 5, request_timeout: 5, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const all = Array.from({ length: 4 }, () => d.scan({ data }));
    expect(d.metrics().queued).toBe(3);
    expect(d.queued).toBe(3);
    await d.onQueueBelow(2);
    expect(d.metrics().queued).toBeLessThan(2);
    expect(d.queued).toBe(d.metrics().queued);
    await d.onQueueBelow(1);
    expect(d.metrics().queued).toBe(0);
    expect(d.queued).toBe(0);
    await Promise.all(all);
  });

  it('fails unavailable after scan_queue_timeout when no server is free', async () => {
    const [a] = await fakes('hang');
    const { d } = await dispatcher({ max_connections_per_server: 1, request_timeout: 5, scan_queue_timeout: 0.1, session_teardown_timeout: 0.05, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const blocker = d.scan({ data });
    const t0 = performance.now();
    const o = await d.scan({ data });
    expect(o).toMatchObject({ result: 'failure', kind: 'unavailable', code: 'ERR_DISPATCH_QUEUE_TIMEOUT' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    await d.close();
    expect(await blocker).toMatchObject({ result: 'failure', kind: 'unavailable', code: 'ERR_DISPATCH_CLOSED' });
  });

  it('raise() moves a waiting request to a more urgent class, in its arrival order there', async () => {
    const [a] = await fakes('clean');
    const { d } = await dispatcher({ max_connections_per_server: 1, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const order: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => order.push(name));
    const first = track('first', d.scan({ data })); // takes the only connection
    const bg1 = d.submit({ data, priority: 'background' });
    const bg2 = d.submit({ data, priority: 'background' });
    const as1 = d.submit({ data, priority: 'async' });
    const i1 = d.submit({ data, priority: 'interactive' });
    expect(d.metrics().queued).toBe(4);
    bg2.raise('interactive'); // arrived before i1: runs ahead of it
    as1.raise('background'); // never lowered
    await Promise.all([first, track('bg1', bg1.outcome), track('bg2', bg2.outcome), track('as1', as1.outcome), track('i1', i1.outcome)]);
    expect(order).toEqual(['first', 'bg2', 'i1', 'as1', 'bg1']);
  });

  it('fails unavailable when no server is connected at all', async () => {
    const { d, events } = await dispatcher({ scan_queue_timeout: 0.1, scanner_pools: [{ name: 'p', servers: ['clamd+unix:///nonexistent/x.sock'] }] });
    expect(await d.scan({ data })).toMatchObject({ result: 'failure', kind: 'unavailable' });
    expect(events.map((e) => e.to)).toEqual(['disconnected']);
    expect(d.serverStatus()[0]).toMatchObject({ state: 'disconnected', disconnected_reason: 'remote_closed', type: 'primary', ip: '/nonexistent/x.sock' });
    expect(d.signatureWatermark()).toBeNull();
  });

  it('aborting a queued request removes it; aborting a running one closes its connection', async () => {
    const [a] = await fakes('hang');
    const { d } = await dispatcher({ max_connections_per_server: 1, request_timeout: 5, scan_queue_timeout: 5, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const ac1 = new AbortController();
    const ac2 = new AbortController();
    const running = d.scan({ data, signal: ac1.signal });
    const queued = d.scan({ data, signal: ac2.signal });
    expect(d.metrics()).toMatchObject({ inFlight: 1, queued: 1 });
    ac2.abort(new Error('client went away'));
    await expect(queued).rejects.toMatchObject({ code: 'ERR_DISPATCH_ABORTED', name: 'AbortError' });
    expect(d.metrics().queued).toBe(0);
    ac1.abort();
    await expect(running).rejects.toMatchObject({ code: 'ERR_DISPATCH_ABORTED' });
    expect(d.metrics().inFlight).toBe(0);
    await expect(d.scan({ data, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_DISPATCH_ABORTED' });
  });

  it('uses the secondary pool only while no primary is connected, never the idle pool', async () => {
    const [p, s, i] = await fakes('clean', 'clean', 'clean');
    p!.probeFails = true;
    const { d, events } = await dispatcher({
      scanner_pools: [
        { name: 'prim', servers: [p!.address], role: 'primary' },
        { name: 'sec', servers: [s!.address], role: 'secondary' },
        { name: 'idle', servers: [i!.address], role: 'idle' },
      ],
    });
    await until(() => events.some((e) => e.server === p!.address && e.to === 'disconnected'));
    expect(await d.scan({ data })).toMatchObject({ result: 'clean', server: s!.address });
    expect(i!.scans).toBe(0);
    expect(events.some((e) => e.server === p!.address && e.to === 'disconnected')).toBe(true);
    expect(d.serverStatus().map((x) => x.type)).toEqual(['primary', 'backup', 'backup']);
  });

  it('health checks disconnect a server that stops answering and reconnect it when it is back', async () => {
    const [a] = await fakes('clean');
    const { d, events } = await dispatcher({ health_check_interval: 0.05, scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const dc = await import('node:diagnostics_channel');
    const published: unknown[] = [];
    const onMsg = (m: unknown): void => void published.push(m);
    dc.subscribe('avscan:dispatch:server', onMsg);
    try {
      a!.probeFails = true;
      await until(() => d.serverStatus()[0]!.state === 'disconnected');
      expect(d.serverStatus()[0]!.disconnected_reason).toBe('remote_closed');
      a!.probeFails = false;
      await until(() => d.serverStatus()[0]!.state === 'connected');
      expect(events.map((e) => e.to)).toEqual(expect.arrayContaining(['connected', 'disconnected', 'connecting']));
      expect(published.length).toBeGreaterThanOrEqual(3);
      expect(published[published.length - 1]).toMatchObject({ server: a!.address, to: 'connected' });
    } finally {
      dc.unsubscribe('avscan:dispatch:server', onMsg);
    }
  });

  it('records per-server latency histograms and outcome counts', async () => {
    const [a] = await fakes({ delayMs: 5 });
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    for (let i = 0; i < 5; i++) await d.scan({ data });
    const m = d.metrics();
    expect(m).toMatchObject({ inFlight: 0, queued: 0, saturated: false, results: { clean: 5, infected: 0, unavailable: 0 } });
    expect(m.servers[0]!.clean).toBe(5);
    expect(m.servers[0]!.p50).toBeGreaterThanOrEqual(4);
    expect(m.servers[0]!.p99).toBeGreaterThanOrEqual(m.servers[0]!.p50);
  });

  it('rejects malformed requests with a coded error', async () => {
    const [a] = await fakes('clean');
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    await expect(d.scan({})).rejects.toMatchObject({ code: 'ERR_DISPATCH_INVALID_REQUEST' });
    await expect(d.scan({ file: 'relative.txt' })).rejects.toMatchObject({ code: 'ERR_DISPATCH_INVALID_REQUEST' });
    await expect(d.scan({ data, priority: 'urgent' as never })).rejects.toMatchObject({ code: 'ERR_DISPATCH_INVALID_REQUEST' });
    await d.close();
    await expect(d.scan({ data })).rejects.toMatchObject({ code: 'ERR_DISPATCH_CLOSED' });
  });

  it('streams a file and reports an unreadable one as error', async () => {
    const [a] = await fakes('clean');
    const { d } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [a!.address] }] });
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/dispatch-file-');
    writeFileSync(`${dir}/f.bin`, Buffer.alloc(200_000, 7));
    expect(await d.scan({ file: `${dir}/f.bin` })).toMatchObject({ result: 'clean' });
    expect(a!.sizes).toEqual([200_000]);
    expect(await d.scan({ file: `${dir}/missing` })).toMatchObject({ result: 'failure', kind: 'error', code: 'ERR_DISPATCH_INVALID_REQUEST' });
  });
});
