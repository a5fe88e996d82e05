// The dispatcher slot an SVM's engine holds: pools swap under a running engine, and the engine keeps
// seeing the servers' state changes (its server log writes them to the store).
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerEvent } from '@avscan/dispatch';
import { createEngine } from '@avscan/engine';
import { openStore } from '@avscan/store';
import { afterAll, describe, expect, it } from 'vitest';
import { DispatcherSlot } from '../src/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-slot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DispatcherSlot', () => {
  it('with no pool, a scan fails unavailable (the failure policy decides)', async () => {
    const slot = new DispatcherSlot();
    slot.replace(null);
    const p = slot.submit({ data: Buffer.from('x'), priority: 'interactive' });
    expect(await p.outcome).toMatchObject({ result: 'failure', kind: 'unavailable' });
    expect(slot.serverStatus()).toEqual([]);
    await slot.close();
  });

  it("re-emits the current dispatcher's server events, so an engine records a swapped-in pool's servers", async () => {
    const store = openStore(path.join(tmp, 'isi_avscan.db'));
    const slot = new DispatcherSlot();
    const engine = createEngine({ store, dispatcher: slot, policy: { name: 'p' }, svm: 'vs1' });
    const connected = once(slot, 'server', { signal: AbortSignal.timeout(10_000) }) as Promise<[ServerEvent]>;
    slot.replace({ scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] });
    const [e] = await connected;
    expect(e.server).toBe('builtin:');
    await slot.current!.ready();
    await expect.poll(() => store.queryEvents({ type: 'scanner.connected' }).numRecords, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await engine.open({ volume: 'v', fileId: '1', path: '\\v\\a.txt', size: 5, changeStamp: 's', data: Buffer.from('hello') })).reason).toBe('clean');
    await engine.shutdown();
    await slot.close();
    await store.close();
  });
});
