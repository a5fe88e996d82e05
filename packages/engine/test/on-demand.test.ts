// scanOnDemand: the on-demand job's per-file scan (its own scope, background priority, skip current).
import { afterEach, expect, it } from 'vitest';
import type { FileKey } from '@avscan/store';
import { createEngine, type EngineStore } from '../src/index.js';
import { kEicar, kPolicy, makeRig, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

it('scans a file the on-access policy excludes, then skips it as current unless forced', async () => {
  rig = await makeRig();
  // `.tmp` is excluded by the rig's on-access policy: an open would not scan it, a job does.
  const a = await rig.file('x.tmp', 'hello');
  expect((await rig.engine.open(a)).reason).toBe('excluded-extension');
  expect(rig.engine.lookup(a)).toBe('stale');
  const first = await rig.engine.scanOnDemand(a);
  expect(first).toEqual({ outcome: 'scanned', verdict: { result: 'clean' } });
  await rig.engine.drain();
  expect(await rig.engine.scanOnDemand(a)).toEqual({ outcome: 'current', verdict: undefined });
  expect(rig.engine.lookup(a)).toBe('current');
  const forced = await rig.engine.scanOnDemand(a, { force: true });
  expect(forced.outcome).toBe('scanned');
  expect(rig.engine.metrics().scansStarted).toBe(2);
});

it('reports infected files with their threats and records them like an access does', async () => {
  rig = await makeRig();
  const a = await rig.file('bad.com', kEicar);
  const r = await rig.engine.scanOnDemand(a);
  expect(r.outcome).toBe('scanned');
  expect(r.verdict?.result).toBe('infected');
  await rig.engine.drain();
  expect(rig.store.queryEvents({ type: 'file.infected' }).numRecords).toBe(1);
  // An infected file is quarantined: later opens deny it without a scan, and a job skips it.
  expect((await rig.engine.open(a)).reason).toBe('quarantined');
  expect((await rig.engine.scanOnDemand(a)).outcome).toBe('quarantined');
  expect(rig.engine.lookup(a)).toBe('quarantined');
  expect(rig.engine.infectedAction).toBe('none');
});

/** The rig's store with its attribute reads counted (every other call goes to the store itself). */
function countingReads(store: Rig['store']): { store: EngineStore; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'getAttributes') return (key: FileKey) => { reads++; return target.getAttributes(key); };
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: proxy, reads: () => reads };
}

it('reads the store once per unscanned file when scanOnDemand is given the lookup the job made', async () => {
  rig = await makeRig();
  const counted = countingReads(rig.store);
  const engine = createEngine({ store: counted.store, dispatcher: rig.dispatcher, policy: kPolicy, watermarkRefreshMs: 1 });
  try {
    const files = [];
    for (let i = 0; i < 5; i++) files.push(await rig.file(`d/f${i}.txt`, `file ${i}`));
    for (const a of files) {
      const lookup = engine.lookupFile(a);
      expect(lookup.state).toBe('stale');
      expect(await engine.scanOnDemand(a, { lookup })).toEqual({ outcome: 'scanned', verdict: { result: 'clean' } });
    }
    expect(counted.reads()).toBe(5);
    // Without the lookup, scanOnDemand reads the file again itself (a miss is not cached): two reads.
    const b = await rig.file('d/g.txt', 'another');
    engine.lookup(b);
    await engine.scanOnDemand(b);
    expect(counted.reads()).toBe(7);
    await engine.drain();
    // Pass 2: every file is answered from the cache, with no read at all.
    for (const a of files) expect(engine.lookupFile(a).state).toBe('current');
    expect(counted.reads()).toBe(7);
    expect(engine.metrics().scansStarted).toBe(6);
  } finally {
    await engine.shutdown();
  }
});

it('a kept lookup does not hide what the engine learned since, nor stand for another file or content', async () => {
  rig = await makeRig();
  const a = await rig.file('a.txt', 'aaa');
  const b = await rig.file('b.txt', 'bbb');
  const lookupA = rig.engine.lookupFile(a);
  expect(lookupA.state).toBe('stale');
  // An access scans `a` between the job's lookup and its scan: the job's scan is not repeated.
  expect((await rig.engine.open(a)).reason).toBe('clean');
  expect(await rig.engine.scanOnDemand(a, { lookup: lookupA })).toEqual({ outcome: 'current', verdict: undefined });
  expect(rig.engine.metrics().scansStarted).toBe(1);
  // `a`'s lookup handed in for `b`, or for `a` rewritten since: ignored, the store is read as without it.
  await rig.engine.scanOnDemand(a, { force: true });
  await rig.engine.drain();
  const current = rig.engine.lookupFile(a);
  expect(current.state).toBe('current');
  expect((await rig.engine.scanOnDemand(b, { lookup: current })).outcome).toBe('scanned');
  await new Promise((r) => setTimeout(r, 20));
  const rewritten = await rig.file('a.txt', 'aaa, rewritten');
  expect((await rig.engine.scanOnDemand(rewritten, { lookup: current })).outcome).toBe('scanned');
  // A lookup from the async variant works the same on a local store.
  const c = await rig.file('c.txt', 'ccc');
  const lookupC = await rig.engine.lookupFileAsync(c);
  expect(lookupC.state).toBe('stale');
  expect((await rig.engine.scanOnDemand(c, { lookup: lookupC })).outcome).toBe('scanned');
  expect(rig.engine.metrics().scansStarted).toBe(5);
});

it('a scan nobody can leave is sent without a signal; one an access can leave is sent with one', async () => {
  rig = await makeRig({ faults: { latencyMs: 150 } });
  const d = rig.dispatcher;
  const submit = d.submit.bind(d);
  const signals: Array<AbortSignal | undefined> = [];
  d.submit = (request) => {
    signals.push(request.signal);
    return submit(request);
  };
  // A job's file and a plain open: neither access has a signal, so the flight can never be abandoned.
  expect((await rig.engine.scanOnDemand(await rig.file('job.txt', 'a'))).outcome).toBe('scanned');
  expect((await rig.engine.open(await rig.file('open.txt', 'b'))).reason).toBe('clean');
  expect(signals).toEqual([undefined, undefined]);
  // An open with a signal can leave: its request carries the flight's signal, which fires when it does.
  const ac = new AbortController();
  const leaving = rig.engine.open(await rig.file('leave.txt', 'c', { signal: ac.signal }));
  for (let i = 0; i < 200 && signals.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
  expect(signals[2]).toBeInstanceOf(AbortSignal);
  expect(signals[2]!.aborted).toBe(false);
  ac.abort();
  await expect(leaving).rejects.toMatchObject({ code: 'ERR_ENGINE_ABORTED' });
  expect(signals[2]!.aborted).toBe(true);
});
