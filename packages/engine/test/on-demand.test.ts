// scanOnDemand: the on-demand job's per-file scan (its own scope, background priority, skip current).
import { afterEach, expect, it } from 'vitest';
import { kEicar, makeRig, type Rig } from './harness.js';

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
