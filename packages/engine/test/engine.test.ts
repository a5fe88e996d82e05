import { appendFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, EngineErrorCodes } from '../src/index.js';
import { kEicar, kPolicy, makeRig, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('engine pipeline (standard profile)', () => {
  it('scans an unscanned file on open, records it clean, then allows it without a scan', async () => {
    rig = await makeRig();
    const a = await rig.file('docs/report.docx', 'hello world');
    const first = await rig.engine.open(a);
    expect(first).toMatchObject({ allow: true, reason: 'clean', verdict: { result: 'clean' }, trigger: 'sync' });
    expect(first.policyRevision).toBe(rig.engine.policy.revision);
    await rig.engine.drain(); // the record is committed in the background, after the answer
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'clean', changeStamp: a.changeStamp });
    const second = await rig.engine.open(a);
    expect(second).toMatchObject({ allow: true, reason: 'scan-current' });
    expect(rig.server.stats().scans).toBe(1);
    expect(second.decisionId).not.toBe(first.decisionId);
  });

  it('denies an infected file, quarantines it, and denies later opens without a scan', async () => {
    rig = await makeRig();
    const a = await rig.file('bad.exe', kEicar);
    const first = await rig.engine.open(a);
    expect(first.allow).toBe(false);
    expect(first.reason).toBe('infected');
    expect(first.verdict).toMatchObject({ result: 'infected' });
    await rig.engine.drain();
    const attrs = rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId });
    expect(attrs).toMatchObject({ scanResult: 'infected', quarantined: true });
    const again = await rig.engine.open(a);
    expect(again).toMatchObject({ allow: false, reason: 'quarantined' });
    expect(rig.server.stats().scans).toBe(1);
    const events = rig.store.queryEvents({ type: 'file.infected' });
    expect(events.records).toHaveLength(1);
    expect(events.records[0]!.details).toMatchObject({ response: 'quarantined' });
    // An administrator releases it: the next open scans again (and finds it infected again).
    await rig.engine.releaseQuarantine('vol1', a.fileId);
    expect((await rig.engine.open(a)).reason).toBe('infected');
    expect(rig.server.stats().scans).toBe(2);
  });

  it('quarantine until replaced (SPEC §8): rewritten in place, the file is scanned again and released only if clean', async () => {
    rig = await makeRig({ dispatcher: { request_timeout: 0.3 } });
    const a = await rig.file('swap.exe', kEicar);
    expect((await rig.engine.open(a)).reason).toBe('infected');
    await rig.engine.drain();
    // Same content, still quarantined: denied without a scan, on every trigger that can deny.
    expect(await rig.engine.open(a)).toMatchObject({ allow: false, reason: 'quarantined' });
    expect(rig.server.stats().scans).toBe(1);

    // Rewritten in place with clean content: same file id, new change stamp.
    const cleaned = await rig.file('swap.exe', 'the vendor build, now clean');
    expect(cleaned.fileId).toBe(a.fileId);
    expect(cleaned.changeStamp).not.toBe(a.changeStamp);
    expect(await rig.engine.open(cleaned)).toMatchObject({ allow: true, reason: 'clean' });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'clean', quarantined: false, threats: [] });
    expect((await rig.engine.open(cleaned)).reason).toBe('scan-current');

    // Rewritten again with infected content: quarantined again.
    const reinfected = await rig.file('swap.exe', Buffer.concat([kEicar, Buffer.from('    ')]));
    expect((await rig.engine.open(reinfected)).reason).toBe('infected');
    await rig.engine.drain();
    expect(await rig.engine.open(reinfected)).toMatchObject({ allow: false, reason: 'quarantined' });

    // Rewritten while no verdict can be had: replaced content is judged as modified and never scanned,
    // not as quarantined; recorded unscanned (never clean), so the next access scans it again.
    const unknown = await rig.file('swap.exe', 'replaced while the scanner hangs');
    rig.server.setFaults({ hang: true });
    expect(await rig.engine.open(unknown)).toMatchObject({ allow: false, reason: 'failure-deny' });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'unscanned', quarantined: false });
    rig.server.setFaults({});
    expect((await rig.engine.open(unknown)).reason).toBe('clean');
  });

  it('applies the policy before anything else: excluded paths and extensions are allowed unscanned', async () => {
    rig = await makeRig();
    const tmp = await rig.file('x.tmp', kEicar);
    expect(await rig.engine.open(tmp)).toMatchObject({ allow: true, reason: 'excluded-extension', rule: 'tmp' });
    const scratch = await rig.file('scratch/y.exe', kEicar);
    expect(await rig.engine.open(scratch)).toMatchObject({ allow: true, reason: 'excluded-path' });
    const bad = await rig.file('ok.txt', 'x', { path: '\\vol1\\..\\..\\etc' });
    expect(await rig.engine.open(bad)).toMatchObject({ allow: false, reason: 'invalid-path' });
    expect(rig.server.stats().scans).toBe(0);
  });

  it('a file modified after its scan is not current and is rescanned', async () => {
    rig = await makeRig();
    const a = await rig.file('doc.txt', 'version 1');
    await rig.engine.open(a);
    await appendFile(a.file!, ' and more');
    const changed = await rig.describe('doc.txt');
    expect(changed.changeStamp).not.toBe(a.changeStamp);
    expect((await rig.engine.open(changed)).reason).toBe('clean');
    expect(rig.server.stats().scans).toBe(2);
  });

  it('cache clear makes every file non-current: the next open rescans', async () => {
    rig = await makeRig();
    const a = await rig.file('a.txt', 'aaa');
    await rig.engine.open(a);
    await rig.engine.clearCache();
    expect((await rig.engine.open(a)).reason).toBe('clean');
    expect(rig.server.stats().scans).toBe(2);
  });

  it('close after write is asynchronous: allowed at once, the scan records the attributes', async () => {
    rig = await makeRig();
    const a = await rig.file('w.bin', kEicar);
    const answer = await rig.engine.close(a, { wrote: true });
    expect(answer).toMatchObject({ allow: true, reason: 'scan-queued', trigger: 'async' });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'infected', quarantined: true });
    expect(await rig.engine.open(a)).toMatchObject({ allow: false, reason: 'quarantined' });
    // close without write does not trigger in the standard profile
    expect((await rig.engine.close(a, { wrote: false })).reason).toBe('not-triggered');
  });

  it('rename moves the attributes and scans under the new name (standard: sync on rename)', async () => {
    rig = await makeRig();
    const a = await rig.file('a.tmp', 'data');
    expect((await rig.engine.open(a)).reason).toBe('excluded-extension');
    const renamed = { ...a, path: '\\vol1\\a.exe' };
    const r = await rig.engine.rename(renamed, { from: a.path });
    expect(r).toMatchObject({ allow: true, reason: 'clean', trigger: 'sync' });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.path).toBe('/vol1/a.exe');
  });

  it('delete forgets the attributes', async () => {
    rig = await makeRig();
    const a = await rig.file('d.txt', 'x');
    await rig.engine.open(a);
    await rig.engine.delete(a);
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
  });

  it('vscan disabled and no-scan profile allow without a scan', async () => {
    rig = await makeRig();
    const a = await rig.file('v.exe', kEicar);
    rig.engine.setEnabled(false);
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'vscan-disabled' });
    rig.engine.setEnabled(true);
    rig.engine.setProfile('no-scan');
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'not-triggered' });
    expect(rig.server.stats().scans).toBe(0);
  });

  it('rejects malformed accesses and options with coded errors', async () => {
    rig = await makeRig();
    const a = await rig.file('e.txt', 'x');
    await expect(rig.engine.open({ ...a, size: -1 })).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ACCESS });
    expect(() => createEngine({ store: rig!.store, dispatcher: rig!.dispatcher, policy: kPolicy, bogus: 1 } as never)).toThrow(
      expect.objectContaining({ code: EngineErrorCodes.INVALID_OPTION }),
    );
    expect(() => createEngine({ store: rig!.store, dispatcher: rig!.dispatcher, policy: { name: 'bad name!' } })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_BAD_NAME' }),
    );
  });
});
