// A joined scan runs at its most urgent waiter's priority, and it is cancelled when its last waiter
// leaves (SPEC §6, §7). The scanner is the built-in clamd-protocol server made slow on purpose.
import { afterEach, describe, expect, it } from 'vitest';
import type { FileAccess } from '../src/index.js';
import { makeRig, until, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const kScanMs = 20;

describe('joined scans', () => {
  it('an interactive open joining a queued background revalidation is answered within about one scan, not after the queue drains', async () => {
    rig = await makeRig({
      faults: { commandLatencyMs: { INSTREAM: kScanMs } },
      dispatcher: { max_connections_per_server: 1, max_queue: 5000, scan_queue_timeout: 120, request_timeout: 10 },
    });
    const files: FileAccess[] = [];
    for (let i = 0; i < 1000; i++) files.push(await rig.file(`bulk/f${i}.docx`, `file ${i}`));
    const stop = new AbortController();
    const revalidating = rig.engine.revalidate(files, { concurrency: 1000, signal: stop.signal });
    const d = rig.dispatcher;
    await until(() => d.metrics().queued >= 990, 20_000);
    // The last file queued: at background priority it would wait for ~1,000 scans (~20 s).
    const t0 = performance.now();
    const answer = await rig.engine.open(files[999]!);
    const ms = performance.now() - t0;
    expect(answer).toMatchObject({ allow: true, reason: 'clean', joined: true });
    expect(ms).toBeLessThan(kScanMs * 25);
    stop.abort();
    const report = await revalidating;
    // The abandoned background scans never reached the scanner.
    expect(rig.server.stats().scans).toBeLessThan(200);
    expect(report).toMatchObject({ checked: 1000, failed: 0 });
    expect(report.cancelled).toBeGreaterThan(800);
    expect(d.metrics().queued).toBe(0);
  }, 60_000);

  it('an aborted open leaves; the other waiter still gets the verdict, which is recorded', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 150 } } });
    const a = await rig.file('two.docx', 'two waiters');
    const ac = new AbortController();
    const first = rig.engine.open({ ...a, signal: ac.signal });
    const second = rig.engine.open(a);
    await until(() => rig!.dispatcher.metrics().inFlight === 1);
    ac.abort();
    await expect(first).rejects.toMatchObject({ code: 'ERR_ENGINE_ABORTED' });
    expect(await second).toMatchObject({ allow: true, reason: 'clean', joined: true });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.scanResult).toBe('clean');
    expect(rig.server.stats().scans).toBe(1);
  });

  it('the last waiter leaving cancels the scanner request: lock released, nothing recorded', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 300 } } });
    const a = await rig.file('gone.docx', 'client went away');
    const ac = new AbortController();
    const opening = rig.engine.open({ ...a, signal: ac.signal });
    await until(() => rig!.dispatcher.metrics().inFlight === 1);
    ac.abort();
    await expect(opening).rejects.toMatchObject({ code: 'ERR_ENGINE_ABORTED' });
    await rig.engine.drain();
    expect(rig.dispatcher.metrics().inFlight).toBe(0);
    expect(rig.store.lockHolder({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
    // The next access scans it afresh.
    expect(await rig.engine.open(a)).toMatchObject({ reason: 'clean', joined: false });
  });

  it('an access whose signal already fired is refused before any scan', async () => {
    rig = await makeRig();
    const a = await rig.file('pre.docx', 'x');
    await expect(rig.engine.open({ ...a, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ENGINE_ABORTED' });
    expect(rig.engine.metrics().scansStarted).toBe(0);
  });
});
