import { afterEach, describe, expect, it } from 'vitest';
import { kPolicy, makeRig, until, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const withFailure = (on_failure: string) => ({ ...kPolicy, on_failure });

describe('failure policy against a hung scanner (SPEC §7)', () => {
  it('mandatory (deny): a hung scanner times out and the access is denied; recorded unscanned', async () => {
    rig = await makeRig({ dispatcher: { request_timeout: 0.3 } });
    const a = await rig.file('f.docx', 'x');
    rig.server.setFaults({ hang: true });
    const answer = await rig.engine.open(a);
    expect(answer).toMatchObject({ allow: false, reason: 'failure-deny', verdict: { result: 'failure', kind: 'timeout' } });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.scanResult).toBe('unscanned');
    expect(rig.store.queryEvents({ type: 'scan.timeout' }).records.length).toBe(1);
  });

  it('open-on-fail (allow): allowed, recorded unscanned (never clean), rescanned next time', async () => {
    rig = await makeRig({ dispatcher: { request_timeout: 0.3 }, engine: { policy: withFailure('allow') } });
    const a = await rig.file('f.docx', 'x');
    rig.server.setFaults({ hang: true });
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'failure-allow' });
    await rig.engine.drain();
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.scanResult).toBe('unscanned');
    rig.server.setFaults({});
    expect((await rig.engine.open(a)).reason).toBe('clean');
  });

  it('allow-if-previously-clean: allows an unmodified clean file, denies a never-scanned one', async () => {
    rig = await makeRig({ dispatcher: { request_timeout: 0.3 }, engine: { policy: withFailure('allow-if-previously-clean') } });
    const known = await rig.file('known.docx', 'x');
    expect((await rig.engine.open(known)).reason).toBe('clean');
    await rig.engine.clearCache(); // not current any more, but still previously clean
    const fresh = await rig.file('fresh.docx', 'y');
    rig.server.setFaults({ hang: true });
    expect(await rig.engine.open(known)).toMatchObject({ allow: true, reason: 'failure-allow-previously-clean' });
    expect(await rig.engine.open(fresh)).toMatchObject({ allow: false, reason: 'failure-deny-not-previously-clean' });
    // The clean history survives the failed scan, and is still not current.
    expect(rig.store.getAttributes({ volume: 'vol1', fileId: known.fileId })?.scanResult).toBe('clean');
  });

  it('no server at all: unavailable after scan_queue_timeout', async () => {
    rig = await makeRig({ dispatcher: { scan_queue_timeout: 0.3, health_check_interval: 0.05, session_setup_timeout: 0.2, max_session_setup_retries: 1 } });
    const a = await rig.file('f.docx', 'x');
    await rig.server.close();
    await until(() => rig!.dispatcher.serverStatus()[0]!.state === 'disconnected');
    const t0 = performance.now();
    const answer = await rig.engine.open(a);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(answer).toMatchObject({ allow: false, reason: 'failure-deny', verdict: { result: 'failure', kind: 'unavailable' } });
    expect(answer.verdict?.result === 'failure' && answer.verdict.message).toMatch(/scan_queue_timeout/);
  });
});

describe('policy and signatures', () => {
  it('a policy swap applies to new accesses; answers carry the revision they were made under', async () => {
    rig = await makeRig({ faults: { commandLatencyMs: { INSTREAM: 150 } } });
    const a = await rig.file('p.docx', 'x');
    const oldRev = rig.engine.policy.revision;
    const inflight = rig.engine.open(a);
    await until(() => rig!.dispatcher.metrics().inFlight === 1);
    const newRev = await rig.engine.setPolicy({ ...kPolicy, scope: { ...kPolicy.scope, exclude_extensions: ['docx'] } });
    expect(newRev).not.toBe(oldRev);
    expect(await inflight).toMatchObject({ reason: 'clean', policyRevision: oldRev });
    const b = await rig.file('q.docx', 'y');
    expect(await rig.engine.open(b)).toMatchObject({ reason: 'excluded-extension', policyRevision: newRev });
    expect(rig.store.queryEvents({ type: 'policy.changed' }).records).toHaveLength(1);
    await expect(rig.engine.setPolicy({ name: 'x', scope: { max_file_size: 1 } })).rejects.toMatchObject({ code: 'ERR_POLICY_BAD_SIZE' });
    expect(rig.engine.policy.revision).toBe(newRev);
  });

  it('a signature update makes clean files stale: they are rescanned on their next access', async () => {
    rig = await makeRig({ dispatcher: { health_check_interval: 0.05 } });
    const a = await rig.file('s.docx', 'x');
    expect((await rig.engine.open(a)).reason).toBe('clean');
    expect((await rig.engine.open(a)).reason).toBe('scan-current');
    const { writeFile, readFile } = await import('node:fs/promises');
    const { defaultSignaturesPath } = await import('@avscan/scanner');
    const text = (await readFile(defaultSignaturesPath, 'utf8')).replace(/timestamp=\S+/, 'timestamp=2030-01-01T00:00:00Z').replace(/version=\S+/, 'version=avscan-test-2');
    const newer = `${rig.dir}/newer.sigs`;
    await writeFile(newer, text);
    await rig.scanEngine.reload(newer);
    // wait for a health probe to report the newer signature time
    await until(() => (rig!.dispatcher.signatureWatermark()?.timestamp ?? 0) >= Date.parse('2030-01-01'));
    rig.engine.signaturesUpdated();
    expect((await rig.engine.open(a)).reason).toBe('clean');
    expect(rig.server.stats().scans).toBe(2);
    expect((await rig.engine.open(a)).reason).toBe('scan-current');
  });

  it('explain and dryRun report without scanning', async () => {
    rig = await makeRig();
    const a = await rig.file('e.docx', 'x');
    const ex = rig.engine.explain(a);
    expect(ex).toMatchObject({ trigger: 'sync', lookup: 'stale', wouldScan: true });
    expect(ex.policy.decision.action).toBe('scan');
    const report = rig.engine.dryRun({ ...kPolicy, scope: { exclude_extensions: ['docx'] } }, [a, { ...a, path: '\\vol1\\x.pdf' }]);
    expect(report).toMatchObject({ total: 2, changed: 1 });
    expect(report.changes[0]!.after.reason).toBe('excluded-extension');
    expect(rig.server.stats().scans).toBe(0);
  });
});

describe('background revalidation', () => {
  it('rescans stale files at background priority, leaves current and excluded ones alone, reports progress', async () => {
    rig = await makeRig();
    const files = [];
    for (let i = 0; i < 6; i++) files.push(await rig.file(`r${i}.docx`, `file ${i}`));
    const excluded = await rig.file('skip.tmp', 'x');
    const infected = await rig.file('bad.exe', (await import('./harness.js')).kEicar);
    await rig.engine.open(files[0]!); // current already
    const progress: number[] = [];
    const report = await rig.engine.revalidate([...files, excluded, infected], { concurrency: 2, onProgress: (r) => progress.push(r.checked) });
    expect(report).toEqual({ checked: 8, scanned: 6, current: 1, skipped: 1, infected: 1, failed: 0, cancelled: 0 });
    expect(progress.at(-1)).toBe(8);
    expect(rig.server.stats().scans).toBe(7);
    expect((await rig.engine.open(files[3]!)).reason).toBe('scan-current');
    await expect(rig.engine.revalidate([], { concurrency: 0 })).rejects.toMatchObject({ code: 'ERR_ENGINE_INVALID_OPTION' });
  });
});
