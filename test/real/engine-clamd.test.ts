// End to end: the on-access engine with real clamd processes as its scanner servers. Real files,
// real SQLite, real dispatcher; faults are real signals sent to clamd.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher } from '@avscan/dispatch';
import { createEngine, type FileAccess } from '@avscan/engine';
import { changeStampOf, openStore } from '@avscan/store';
import { kEicar, kMarker, requireBinary, startClamd, type ClamdHandle } from '../support/index.js';

const available = requireBinary('clamd');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(servers: number, policy: object = { name: 'p1', scope: {} }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const clamds: ClamdHandle[] = await Promise.all(Array.from({ length: servers }, () => startClamd()));
  for (const c of clamds) cleanups.push(() => c.stop());
  const store = openStore(path.join(dir, 'isi_avscan.db'));
  cleanups.push(() => store.close());
  const dispatcher = createDispatcher({
    scanner_pools: [{ name: 'pool1', servers: clamds.map((c) => `clamd+unix://${c.socketPath}`) }],
    request_timeout: 1, scan_queue_timeout: 2, session_setup_timeout: 1, session_retry_interval: 0.05, max_session_setup_retries: 2,
  });
  cleanups.push(() => dispatcher.close());
  await dispatcher.ready(5000);
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
    clamds[1]!.signal('SIGSTOP');
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
