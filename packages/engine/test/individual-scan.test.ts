// engine.scan: the individual-file scan (OneFS `isi antivirus scan`), which ignores "scan current".
import { afterEach, describe, expect, it } from 'vitest';
import { kEicar, makeRig, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('engine.scan (individual-file scan)', () => {
  it('scans a scan-current file again and records the new verdict', async () => {
    rig = await makeRig();
    const a = await rig.file('docs/a.txt', 'hello');
    expect(await rig.engine.open(a)).toMatchObject({ reason: 'clean' });
    await rig.engine.drain();
    expect(await rig.engine.open(a)).toMatchObject({ reason: 'scan-current' });
    const before = rig.server.stats().scans;
    const answer = await rig.engine.scan(a);
    expect(answer).toMatchObject({ allow: true, reason: 'clean', verdict: { result: 'clean' } });
    expect(rig.server.stats().scans).toBe(before + 1);
    await rig.engine.drain();
    expect(await rig.engine.open(a)).toMatchObject({ reason: 'scan-current' });
  });

  it('scans whatever the profile or Vscan state, reports infected files and quarantines them', async () => {
    rig = await makeRig({ engine: { profile: 'no-scan' } });
    const a = await rig.file('bad.exe', kEicar);
    expect(await rig.engine.open(a)).toMatchObject({ reason: 'not-triggered' });
    rig.engine.setEnabled(false);
    expect(await rig.engine.scan(a)).toMatchObject({ allow: false, reason: 'infected', verdict: { result: 'infected' } });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'infected', quarantined: true });
  });

  it('keeps to the policy scope: an excluded file is answered with the policy reason, unscanned', async () => {
    rig = await makeRig();
    const a = await rig.file('x.tmp', kEicar);
    expect(await rig.engine.scan(a)).toMatchObject({ allow: true, reason: 'excluded-extension', verdict: undefined });
    expect(rig.server.stats().scans).toBe(0);
  });

  it('answers a failed scan per the failure policy', async () => {
    rig = await makeRig();
    const a = await rig.file('c.txt', 'x');
    await rig.server.close();
    expect(await rig.engine.scan(a)).toMatchObject({ allow: false, reason: 'failure-deny', verdict: { result: 'failure' } });
  });
});
