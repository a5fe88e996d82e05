// A pool changed through the REST API to a real clamd (Debian's): the live dispatcher is swapped,
// server-status reports clamd's vendor and version, EICAR opened through the engine is denied with
// clamd's signature name, and the file's attributes show it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary, startClamd, type ClamdHandle } from '../../../../test/support/index.js';
import { accessOf, resolveInVolume } from '../../src/index.js';
import { kEicar, startTestFiler, type TestFiler } from '../helpers/filer.js';

const available = requireBinary('clamd');

describe.skipIf(!available)('a pool of real clamd servers, configured over REST', () => {
  let clamd: ClamdHandle;
  let t: TestFiler;
  beforeAll(async () => {
    clamd = await startClamd({ unix: true, tcp: true });
    t = await startTestFiler();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await clamd?.stop();
  });

  it('swaps the live dispatcher to clamd and scans with it', async () => {
    const base = `/api/protocols/vscan/${t.uuid}`;
    const servers = [`127.0.0.1:${clamd.tcp!.port}`, `clamd+unix://${clamd.socketPath!}`];
    expect((await t.api.post(`${base}/scanner-pools`, { name: 'clamd', servers, privileged_users: ['LAB\\avscan'] })).status).toBe(201);
    expect((await t.api.patch(`${base}/scanner-pools/pool1`, { role: 'idle' })).status).toBe(200);
    await expect.poll(async () => {
      const r = await t.api.get('/api/protocols/vscan/server-status?fields=*&role=primary&state=connected');
      return r.body.records?.map((s: { vendor: string }) => s.vendor) ?? [];
    }, { timeout: 30_000, interval: 200 }).toEqual([expect.stringMatching(/clam/i), expect.stringMatching(/clam/i)]);

    const vol = t.filer.runtime.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'eicar.com'), kEicar);
    const answer = await t.filer.runtime.engine('vs1').open(accessOf(resolveInVolume(vol, 'eicar.com')));
    expect(answer).toMatchObject({ allow: false, reason: 'infected' });
    await t.filer.runtime.engine('vs1').drain();
    const file = await t.api.get(`${base}/files?path=/vol1/eicar.com`);
    expect(file.body).toMatchObject({ scan_result: 'infected', threats: [expect.stringMatching(/Eicar/i)] });
    const event = await t.api.get(`${base}/events?type=file.infected&fields=*`);
    // The event names the clamd that found it (either of the two addresses of the pool).
    expect(event.body.records[0].server).toMatch(/^clamd:\/\/127\.0\.0\.1:\d+$|^clamd\+unix:\/\//);
  }, 60_000);
});
