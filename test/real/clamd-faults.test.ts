// Faults with real clamd processes: SIGKILL mid-scan, SIGSTOP (hung), SIGTERM, primaries down →
// secondary, everything down → unavailable.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher, type DispatcherOptions, type ServerEvent } from '@avscan/dispatch';
import { kEicar, requireBinary, startClamd, type ClamdHandle } from '../support/index.js';

const available = requireBinary('clamd');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function clamds(n: number): Promise<ClamdHandle[]> {
  const out = await Promise.all(Array.from({ length: n }, () => startClamd()));
  for (const c of out) cleanups.push(() => c.stop());
  return out;
}

async function dispatcher(opts: Partial<DispatcherOptions> & Pick<DispatcherOptions, 'scanner_pools'>): Promise<{ d: Dispatcher; events: ServerEvent[] }> {
  const d = createDispatcher({ request_timeout: 5, scan_queue_timeout: 2, session_setup_timeout: 1, session_retry_interval: 0.05, max_session_setup_retries: 2, health_check_interval: 60, ...opts });
  const events: ServerEvent[] = [];
  d.on('server', (e: ServerEvent) => events.push(e));
  cleanups.push(() => d.close());
  const end = Date.now() + 5000;
  while (d.serverStatus().some((s) => s.role !== 'idle' && s.state !== 'connected') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return { d, events };
}

const addr = (c: ClamdHandle): string => `clamd+unix://${c.socketPath}`;

describe.skipIf(!available)('real clamd faults', () => {
  it('SIGKILL mid-scan: the request is retried on the other server and gets its verdict', async () => {
    const [a, b] = await clamds(2);
    const { d, events } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [addr(a!), addr(b!)] }] });
    await a!.freeze(); // holds the scan on a so the kill lands mid-request
    const pending = d.scan({ data: Buffer.from(kEicar) });
    await new Promise((r) => setTimeout(r, 150));
    expect(d.serverStatus()[0]!.in_flight).toBe(1);
    a!.signal('SIGKILL');
    const o = await pending;
    expect(o).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'], server: addr(b!), attempts: 2 });
    expect(events.find((e) => e.server === addr(a!) && e.to === 'disconnected')?.disconnected_reason).toBe('remote_closed');
  });

  it('SIGSTOP: requests on the hung server time out and are retried; others are unaffected; SIGCONT recovers', async () => {
    const [a, b] = await clamds(2);
    const { d } = await dispatcher({ request_timeout: 0.5, scanner_pools: [{ name: 'p', servers: [addr(a!), addr(b!)] }] });
    await a!.freeze();
    const t0 = performance.now();
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => d.scan({ data: i % 2 ? Buffer.from(kEicar) : randomBytes(2048) })));
    const took = performance.now() - t0;
    outs.forEach((o, i) => expect(o.result).toBe(i % 2 ? 'infected' : 'clean'));
    const retried = outs.filter((o) => o.attempts === 2);
    expect(retried.length).toBeGreaterThan(0);
    for (const o of outs) expect(o.server).toBe(addr(b!));
    expect(outs.filter((o) => o.attempts === 1).every((o) => o.latencyMs < 450)).toBe(true);
    expect(took).toBeLessThan(2500);
    expect(d.metrics().servers[0]!.timeout).toBe(retried.length);
    a!.signal('SIGCONT');
    // a's connection state never changed (no health check ran): it serves again at once
    const again = await Promise.all([d.scan({ data: randomBytes(100) }), d.scan({ data: randomBytes(100) })]);
    expect(again.map((o) => o.result)).toEqual(['clean', 'clean']);
    expect(again.some((o) => o.server === addr(a!))).toBe(true);
  });

  it('a full unix backlog (EAGAIN) is busy, not down: requests go elsewhere without using their retry', async () => {
    const a = await startClamd({ maxConnectionQueueLength: 1 });
    cleanups.push(() => a.stop());
    const [b] = await clamds(1);
    const { d, events } = await dispatcher({ request_timeout: 1, scanner_pools: [{ name: 'p', servers: [addr(a), addr(b!)] }] });
    await a.freeze();
    const outs = await Promise.all(Array.from({ length: 12 }, (_, i) => d.scan({ data: i % 2 ? Buffer.from(kEicar) : randomBytes(512) })));
    outs.forEach((o, i) => expect(o).toMatchObject({ result: i % 2 ? 'infected' : 'clean', server: addr(b!) }));
    // a few connects landed in a's backlog and timed out (retried); the rest met EAGAIN and moved on at once
    expect(outs.filter((o) => o.attempts === 1).length).toBeGreaterThan(0);
    expect(events.some((e) => e.server === addr(a) && e.to === 'disconnected')).toBe(false);
    const ma = d.metrics().servers[0]!;
    // freeze() waited for clamd's accept thread to stop: only the backlog (Linux queues backlog + 1 = 2)
    // held connections that timed out; every other failure is EAGAIN (busy)
    expect(ma.timeout).toBeLessThanOrEqual(2);
    expect(ma.failure).toBeGreaterThan(ma.timeout);
    a.signal('SIGCONT');
  });

  it('SIGTERM: the stopped server is disconnected and requests go to the other one', async () => {
    const [a, b] = await clamds(2);
    const { d, events } = await dispatcher({ scanner_pools: [{ name: 'p', servers: [addr(a!), addr(b!)] }] });
    const gone = new Promise((r) => a!.process.once('exit', r));
    a!.signal('SIGTERM');
    await gone;
    const outs = await Promise.all([d.scan({ data: Buffer.from(kEicar) }), d.scan({ data: randomBytes(10) })]);
    expect(outs.map((o) => [o.result, o.server])).toEqual([['infected', addr(b!)], ['clean', addr(b!)]]);
    expect(events.some((e) => e.server === addr(a!) && e.to === 'disconnected' && e.disconnected_reason === 'remote_closed')).toBe(true);
  });

  it('all primaries down → the secondary pool takes over; everything down → unavailable', async () => {
    const [p1, p2, s1] = await clamds(3);
    const { d, events } = await dispatcher({
      scan_queue_timeout: 0.3,
      scanner_pools: [
        { name: 'prim', servers: [addr(p1!), addr(p2!)], role: 'primary' },
        { name: 'sec', servers: [addr(s1!)], role: 'secondary' },
      ],
    });
    expect(await d.scan({ data: randomBytes(10) })).toMatchObject({ result: 'clean', server: addr(p1!) });
    p1!.signal('SIGKILL');
    p2!.signal('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    const o1 = await d.scan({ data: Buffer.from(kEicar) });
    const o2 = await d.scan({ data: Buffer.from(kEicar) });
    expect([o1, o2].some((o) => o.server === addr(s1!))).toBe(true);
    expect(o2).toMatchObject({ result: 'infected', server: addr(s1!) });
    const downs = events.filter((e) => e.to === 'disconnected').map((e) => e.server);
    expect(downs).toEqual(expect.arrayContaining([addr(p1!), addr(p2!)]));
    expect(d.signatureWatermark()?.stamps[0]).toMatch(/^ClamAV/);
    s1!.signal('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    const o3 = await d.scan({ data: randomBytes(10) });
    expect(o3).toMatchObject({ result: 'failure', kind: 'unavailable' });
    const o4 = await d.scan({ data: randomBytes(10) });
    expect(o4).toMatchObject({ result: 'failure', kind: 'unavailable' });
    expect(d.signatureWatermark()).toBeNull();
  });
});
