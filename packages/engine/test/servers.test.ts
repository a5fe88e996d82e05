// Scanner server state changes land in the store's events and server-status tables (and survive a
// restart), including why a server is down.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher } from '@avscan/dispatch';
import { defaultSignaturesPath } from '@avscan/scanner';
import { openStore } from '@avscan/store';
import { createEngine } from '../src/index.js';
import { kPolicy, makeRig, until, type Rig } from './harness.js';

let rig: Rig | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('server state in the store', () => {
  it('connect, disconnect (with disconnected_reason) and signature updates are events and server-status rows, readable after a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-servers-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    rig = await makeRig({ dir, dispatcher: { health_check_interval: 0.05, session_setup_timeout: 0.2, max_session_setup_retries: 1 } });
    const { store, dispatcher } = rig;
    const server = dispatcher.serverStatus()[0]!.server;
    await until(() => store.queryEvents({ type: 'scanner.connected' }).numRecords === 1);
    expect(store.queryEvents({ type: 'scanner.connected' }).records[0]).toMatchObject({ server, svm: 'vs1', node: 'node1' });
    await until(() => store.queryServerStatus().numRecords === 1);
    expect(store.queryServerStatus().records[0]).toMatchObject({ ip: server, state: 'connected', type: 'primary', vendor: 'ClamAV' });

    // A signature reload is seen by the next health check.
    const text = (await readFile(defaultSignaturesPath, 'utf8')).replace(/version=\S+/, 'version=avscan-test-9');
    await writeFile(path.join(dir, 'newer.sigs'), text);
    await rig.scanEngine.reload(path.join(dir, 'newer.sigs'));
    await until(() => store.queryEvents({ type: 'scanner.signatures_updated' }).numRecords === 1);
    expect(store.queryEvents({ type: 'scanner.signatures_updated' }).records[0]!.details).toMatchObject({ to: 'ClamAV 1.4.6/avscan-test-9' });
    await until(() => store.queryServerStatus().records[0]?.signature === 'ClamAV 1.4.6/avscan-test-9');

    // The server goes away: the health check disconnects it.
    await rig.server.close();
    await until(() => store.queryEvents({ type: 'scanner.disconnected' }).numRecords >= 1, 10_000);
    const down = store.queryEvents({ type: 'scanner.disconnected' }).records[0]!;
    expect(down).toMatchObject({ server, reason: 'remote_closed' });
    await until(() => store.queryServerStatus().records[0]?.state === 'disconnected');
    await rig.engine.drain();
    await store.close();

    // After a restart the database still shows them.
    const again = openStore(path.join(dir, 'isi_avscan.db'), { nodeId: 'node1' });
    cleanups.push(() => again.close());
    expect(again.queryServerStatus().records[0]).toMatchObject({ ip: server, state: 'disconnected', disconnectedReason: 'remote_closed', signature: 'ClamAV 1.4.6/avscan-test-9' });
    expect(again.queryEvents({ server }).records.map((e) => e.type)).toEqual(['scanner.connected', 'scanner.signatures_updated', 'scanner.disconnected']);
  });

  it('a builtin: server that cannot start says why: session_uninitialized, and the missing signature file named', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-builtin-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const missing = path.join(dir, 'no-such.sigs');
    const store = openStore(path.join(dir, 'isi_avscan.db'));
    cleanups.push(() => store.close());
    const dispatcher = createDispatcher({
      scanner_pools: [{ name: 'p', servers: ['builtin:'] }], builtin_signatures: missing,
      session_setup_timeout: 1, session_retry_interval: 0.01, max_session_setup_retries: 2,
    });
    cleanups.push(() => dispatcher.close());
    await dispatcher.ready();
    const [status] = dispatcher.serverStatus();
    expect(status).toMatchObject({ state: 'disconnected', disconnected_reason: 'session_uninitialized' });
    expect(status!.message).toContain('no-such.sigs');
    const engine = createEngine({ store, dispatcher, policy: kPolicy });
    cleanups.push(() => engine.shutdown());
    await until(() => store.queryServerStatus().numRecords === 1);
    expect(store.queryServerStatus().records[0]).toMatchObject({ state: 'disconnected', disconnectedReason: 'session_uninitialized' });
    expect(store.queryServerStatus().records[0]!.message).toContain('no-such.sigs');
    await until(() => store.queryEvents({ type: 'scanner.disconnected' }).numRecords === 1);
    expect(store.queryEvents({ type: 'scanner.disconnected' }).records[0]).toMatchObject({ reason: 'session_uninitialized' });
  });
});
