// background_settle_delay: a background verdict waits for the verdicts of the other background
// requests under way and is handed back with them, never longer than the delay, and never while a
// client's request waits. Timings use a long delay (1 s) against replies of tens of ms, so a
// held verdict and one handed back at once are far apart even on a loaded machine.
import { describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher, type ScanOutcome } from '../src/index.js';
import { fakeClamdRig, until } from './rig.js';

const rig = fakeClamdRig();
const data = Buffer.from('hello world');

/** Resolves with the outcome and the ms it took from `t0`; pushes `name` to `order` when it ends. */
function timed(p: Promise<ScanOutcome>, name: string, order: string[], t0: number): Promise<{ o: ScanOutcome; ms: number }> {
  return p.then((o) => {
    order.push(name);
    return { o, ms: performance.now() - t0 };
  });
}

/** Two servers, one pool: the first request goes to `fast`, the second to `slow` (fewest in flight). */
async function twoServers(slow: { delayMs: number } | 'hang', settle: number): Promise<Dispatcher> {
  const fast = await rig.fake({ delayMs: 10 });
  const other = await rig.fake(slow);
  const { d } = await rig.dispatcher({ background_settle_delay: settle, request_timeout: 3, session_teardown_timeout: 0.05, scanner_pools: [{ name: 'p', servers: [fast.address, other.address] }] });
  return d;
}

/** One server, one connection (max_connections_per_server 1), a 1 s settle delay. */
async function oneConnection(delayMs: number): Promise<{ fake: Awaited<ReturnType<typeof rig.fake>>; d: Dispatcher }> {
  const fake = await rig.fake({ delayMs });
  const { d } = await rig.dispatcher({ background_settle_delay: 1, max_connections_per_server: 1, request_timeout: 5, scan_queue_timeout: 5, scanner_pools: [{ name: 'p', servers: [fake.address] }] });
  return { fake, d };
}

/** Background requests `a` then `b`, timed from now; `order` gets their names as they end. */
function twoBackground(d: Dispatcher) {
  const order: string[] = [];
  const t0 = performance.now();
  const a = timed(d.scan({ data, priority: 'background' }), 'a', order, t0);
  const b = timed(d.scan({ data, priority: 'background' }), 'b', order, t0);
  return { a, b, order, t0 };
}

describe('background verdicts in batches (background_settle_delay)', () => {
  it('holds a background verdict while another background request runs and hands both back together, in order', async () => {
    const d = await twoServers({ delayMs: 150 }, 1);
    const { a, b, order } = twoBackground(d);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.o.result).toBe('clean');
    expect(rb.o.result).toBe('clean');
    expect(order).toEqual(['a', 'b']);
    // a's reply came after ~10 ms; it was handed back with b's (~150 ms), not after the 1 s delay
    expect(ra.ms).toBeGreaterThanOrEqual(120);
    expect(ra.ms).toBeLessThan(800);
    // the server's latency is to its reply, not to the hand-over
    expect(d.metrics().servers[0]!.p50).toBeLessThan(100);
  });

  it('hands a held verdict back when the delay runs out, while the other request still runs', async () => {
    const d = await twoServers('hang', 0.1);
    const t0 = performance.now();
    const a = d.scan({ data, priority: 'background' });
    const b = d.scan({ data, priority: 'background' });
    const o = await a;
    const ms = performance.now() - t0;
    expect(o.result).toBe('clean');
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(ms).toBeLessThan(1000);
    await d.close();
    expect((await b).result).toBe('failure');
  });

  it('does not hold a verdict when no other background request is under way', async () => {
    const fast = await rig.fake({ delayMs: 10 });
    const { d } = await rig.dispatcher({ background_settle_delay: 1, scanner_pools: [{ name: 'p', servers: [fast.address] }] });
    const t0 = performance.now();
    expect((await d.scan({ data, priority: 'background' })).result).toBe('clean');
    expect(performance.now() - t0).toBeLessThan(700);
  });

  it('holds nothing with background_settle_delay 0', async () => {
    const d = await twoServers('hang', 0);
    const t0 = performance.now();
    const a = d.scan({ data, priority: 'background' });
    void d.scan({ data, priority: 'background' });
    expect((await a).result).toBe('clean');
    expect(performance.now() - t0).toBeLessThan(700);
  });

  it('never holds a background verdict while a client request waits for a connection', async () => {
    const { d } = await oneConnection(40);
    const { a, b, order, t0 } = twoBackground(d);
    const i = timed(d.scan({ data, priority: 'interactive' }), 'i', order, t0); // queued behind a, ahead of b
    const [ra, , ri] = await Promise.all([a, b, i]);
    expect(order).toEqual(['a', 'i', 'b']);
    expect(ra.ms).toBeLessThan(700);
    expect(ri.ms).toBeLessThan(800);
  });

  it('a held verdict frees its connection: the requests behind it run during the hold', async () => {
    const { d } = await oneConnection(40);
    const { a, b, order, t0 } = twoBackground(d);
    const c = timed(d.scan({ data, priority: 'background' }), 'c', order, t0);
    const [ra, , rc] = await Promise.all([a, b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
    // a is handed back with b's verdict (~80 ms), and c runs next. Had a held verdict kept the only
    // connection, b and c would each have waited out the 1 s delay of the one before them.
    expect(ra.ms).toBeLessThan(700);
    expect(rc.ms).toBeLessThan(700);
    expect(d.metrics().inFlight).toBe(0);
  });

  it('a client request that has to queue takes the held verdicts back at once', async () => {
    const { fake, d } = await oneConnection(300);
    const { a, b, order, t0 } = twoBackground(d);
    await until(() => fake.scans === 2); // a answered and is held; b has the only connection
    expect(order).toEqual([]);
    expect(d.metrics().inFlight).toBe(1); // the held verdict is not in flight
    const i = timed(d.scan({ data, priority: 'interactive' }), 'i', order, t0); // queued behind b
    await new Promise((r) => setTimeout(r, 30));
    expect(order).toEqual(['a']);
    const [, , ri] = await Promise.all([a, b, i]);
    expect(order).toEqual(['a', 'b', 'i']);
    expect(ri.ms).toBeLessThan(1500);
  });

  it('raise() hands a held verdict over at once', async () => {
    const d = await twoServers('hang', 1);
    const t0 = performance.now();
    const a = d.submit({ data, priority: 'background' });
    void d.submit({ data, priority: 'background' }).outcome.catch(() => {});
    await new Promise((r) => setTimeout(r, 60)); // a answered after ~10 ms and is held
    a.raise('interactive');
    expect((await a.outcome).result).toBe('clean');
    expect(performance.now() - t0).toBeLessThan(700);
  });

  it('close() hands held verdicts over instead of failing them', async () => {
    const d = await twoServers('hang', 1);
    const a = d.scan({ data, priority: 'background' });
    const b = d.scan({ data, priority: 'background' });
    await new Promise((r) => setTimeout(r, 60));
    await d.close();
    expect((await a).result).toBe('clean');
    expect(await b).toMatchObject({ result: 'failure', code: 'ERR_DISPATCH_CLOSED' });
  });

  it('a verdict that came before the abort stands', async () => {
    const d = await twoServers('hang', 1);
    const ac = new AbortController();
    const a = d.scan({ data, priority: 'background', signal: ac.signal });
    void d.scan({ data, priority: 'background' });
    await new Promise((r) => setTimeout(r, 60));
    ac.abort();
    expect((await a).result).toBe('clean');
  });

  it('refuses a delay that is not a number of seconds in 0–1', () => {
    for (const bad of [-0.001, 1.5, Number.NaN, '0.003']) {
      expect(() => createDispatcher({ background_settle_delay: bad as number, scanner_pools: [{ name: 'p', servers: ['builtin:'] }] }))
        .toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_INVALID_CONFIG', target: 'background_settle_delay' }));
    }
  });
});
