// End to end: the on-access engine with real clamd processes as its scanner servers. Real files,
// real SQLite, real dispatcher; faults are real signals sent to clamd.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, type DispatcherOptions } from '@avscan/dispatch';
import { createEngine, type FileAccess } from '@avscan/engine';
import { changeStampOf, openStore } from '@avscan/store';
import { kEicar, kMarker, requireBinary, startClamd, type ClamdHandle } from '../support/index.js';

const available = requireBinary('clamd');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(servers: number, policy: object = { name: 'p1', scope: {} }, extra: Partial<DispatcherOptions> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const clamds: ClamdHandle[] = await Promise.all(Array.from({ length: servers }, () => startClamd({ logClean: true })));
  for (const c of clamds) cleanups.push(() => c.stop());
  const store = openStore(path.join(dir, 'isi_avscan.db'));
  cleanups.push(() => store.close());
  const dispatcher = createDispatcher({
    scanner_pools: [{ name: 'pool1', servers: clamds.map((c) => `clamd+unix://${c.socketPath}`) }],
    request_timeout: 1, scan_queue_timeout: 2, session_setup_timeout: 1, session_retry_interval: 0.05, max_session_setup_retries: 2,
    ...extra,
  });
  cleanups.push(() => dispatcher.close());
  await dispatcher.ready(5000);
  // ready() resolves once ONE server is connected: a test that kills one of two needs the other up
  // too (under CI's load the second could still be connecting, and the failover found no alternative).
  await until(() => dispatcher.metrics().servers.every((s) => s.state === 'connected'), 5000);
  const engine = createEngine({ store, dispatcher, policy });
  cleanups.push(() => engine.shutdown());
  async function file(name: string, content: string | Buffer): Promise<FileAccess> {
    const full = path.join(dir, name);
    await writeFile(full, content);
    const st = await stat(full, { bigint: true });
    return {
      volume: 'vol1', fileId: String(st.ino), path: `\\vol1\\${name}`, size: Number(st.size), file: full,
      changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
    };
  }
  return { dir, clamds, store, dispatcher, engine, file };
}

describe.skipIf(!available)('engine → real clamd', () => {
  it('clean files are allowed and cached, EICAR and the marker are denied and quarantined', async () => {
    const { engine, store, file } = await setup(1);
    const clean = await file('clean.docx', `harmless ${Date.now()}`);
    expect(await engine.open(clean)).toMatchObject({ allow: true, reason: 'clean' });
    expect(await engine.open(clean)).toMatchObject({ allow: true, reason: 'scan-current' });
    const eicar = await file('eicar.com', kEicar);
    const denied = await engine.open(eicar);
    expect(denied).toMatchObject({ allow: false, reason: 'infected' });
    expect(denied.verdict).toMatchObject({ result: 'infected' });
    if (denied.verdict?.result === 'infected') {
      expect(denied.verdict.threats.join(',')).toMatch(/eicar/i);
      expect(denied.verdict.threats.join(',')).not.toMatch(/UNOFFICIAL/);
    }
    const marked = await file('marked.txt', `xx ${kMarker} yy`);
    expect((await engine.open(marked)).reason).toBe('infected');
    await engine.drain();
    expect(store.getAttributes({ volume: 'vol1', fileId: eicar.fileId })).toMatchObject({ scanResult: 'infected', quarantined: true });
    expect(await engine.open(eicar)).toMatchObject({ allow: false, reason: 'quarantined' });
  });

  it('clamd killed: the other server answers; all clamds hung (SIGSTOP): mandatory denies, other files unaffected after SIGCONT', async () => {
    const { engine, clamds, file } = await setup(2);
    clamds[0]!.signal('SIGKILL');
    const a = await file('a.docx', `a ${Date.now()}`);
    expect((await engine.open(a)).reason).toBe('clean');
    await clamds[1]!.freeze();
    const b = await file('b.docx', `b ${Date.now()}`);
    const answer = await engine.open(b);
    expect(answer.allow).toBe(false);
    expect(answer.verdict).toMatchObject({ result: 'failure' });
    clamds[1]!.signal('SIGCONT');
    const c = await file('c.docx', `c ${Date.now()}`);
    expect((await engine.open(c)).reason).toBe('clean');
  });

  it('open-on-fail policy allows when every clamd is down, recording unscanned', async () => {
    const { engine, store, clamds, file } = await setup(1, { name: 'p1', mandatory: false, scope: {} });
    clamds[0]!.signal('SIGKILL');
    const a = await file('a.docx', 'x');
    expect(await engine.open(a)).toMatchObject({ allow: true, reason: 'failure-allow' });
    await engine.drain();
    expect(store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.scanResult).toBe('unscanned');
  });
});

/** Objects clamd scanned (it logs each with `LogClean yes`). */
function scannedByClamd(clamd: ClamdHandle): number {
  return clamd.log().split('\n').filter((l) => /: (OK|.+ FOUND)$/.test(l)).length;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!available)('engine → real clamd: cancellation (SPEC §7)', () => {
  // clamd is stopped (SIGSTOP) while requests are queued, so the queue holds them; the health check is
  // slowed down so the stop does not disconnect the server.
  const slowChecks = { max_connections_per_server: 1, max_queue: 1000, request_timeout: 20, scan_queue_timeout: 20, health_check_interval: 60 };

  it('100 queued opens aborted: 0 scanner requests for them, no locks, nothing recorded', async () => {
    const { engine, clamds, store, dispatcher, file } = await setup(1, undefined, slowChecks);
    const clamd = clamds[0]!;
    const first = await file('first.docx', `first ${Date.now()}`);
    const others: FileAccess[] = [];
    for (let i = 0; i < 100; i++) others.push(await file(`q${i}.docx`, `queued ${i} ${Date.now()}`));
    const before = scannedByClamd(clamd);
    await clamd.freeze();
    const firstAnswer = engine.open(first);
    await until(() => dispatcher.metrics().inFlight === 1);
    const controllers = others.map(() => new AbortController());
    const answers = others.map((a, i) => engine.open({ ...a, signal: controllers[i]!.signal }));
    await until(() => dispatcher.metrics().queued === 100);
    for (const c of controllers) c.abort();
    const settled = await Promise.allSettled(answers);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'ERR_ENGINE_ABORTED')).toBe(true);
    expect(dispatcher.metrics().queued).toBe(0);
    clamd.signal('SIGCONT');
    expect(await firstAnswer).toMatchObject({ allow: true, reason: 'clean' });
    await engine.drain();
    await until(() => scannedByClamd(clamd) >= before + 1);
    expect(scannedByClamd(clamd)).toBe(before + 1);
    for (const a of others) {
      expect(store.lockHolder({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
      expect(store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
    }
  }, 30_000);

  it('one of two waiters aborted while clamd holds the request: the other still gets the verdict', async () => {
    const { engine, clamds, store, dispatcher, file } = await setup(1, undefined, slowChecks);
    const clamd = clamds[0]!;
    const a = await file('shared.com', kEicar);
    await clamd.freeze();
    const ac = new AbortController();
    const leaving = engine.open({ ...a, signal: ac.signal });
    const staying = engine.open(a);
    await until(() => dispatcher.metrics().inFlight === 1);
    ac.abort();
    await expect(leaving).rejects.toMatchObject({ code: 'ERR_ENGINE_ABORTED' });
    clamd.signal('SIGCONT');
    expect(await staying).toMatchObject({ allow: false, reason: 'infected', joined: true });
    await engine.drain();
    expect(store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'infected', quarantined: true });
  }, 30_000);

  it('the only waiter aborted while clamd holds the request: the connection is cancelled, the lock released', async () => {
    const { engine, clamds, store, dispatcher, file } = await setup(1, undefined, slowChecks);
    const clamd = clamds[0]!;
    const a = await file('alone.docx', `alone ${Date.now()}`);
    await clamd.freeze();
    const ac = new AbortController();
    const opening = engine.open({ ...a, signal: ac.signal });
    await until(() => dispatcher.metrics().inFlight === 1);
    ac.abort();
    await expect(opening).rejects.toMatchObject({ code: 'ERR_ENGINE_ABORTED' });
    await engine.drain();
    expect(dispatcher.metrics().inFlight).toBe(0);
    expect(store.lockHolder({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
    expect(store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toBeUndefined();
    clamd.signal('SIGCONT');
    expect(await engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
  }, 30_000);
});
