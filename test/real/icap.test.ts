// Real c-icap with the virus_scan service (clamd_mod engine → a private clamd).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher } from '@avscan/dispatch';
import { kEicar, kMarker, requireBinary, startCicap, startClamd, type CicapHandle, type ClamdHandle } from '../support/index.js';

const available = requireBinary('clamd') && requireBinary('c-icap');

describe.skipIf(!available)('real c-icap (virus_scan)', () => {
  let clamd: ClamdHandle;
  let icap: CicapHandle;
  let d: Dispatcher;

  beforeAll(async () => {
    clamd = await startClamd();
    icap = await startCicap({ clamdSocket: clamd.socketPath! });
    d = createDispatcher({ scanner_pools: [{ name: 'icap', servers: [icap.url] }], request_timeout: 10 });
    await d.ready();
  });
  afterAll(async () => {
    await d?.close();
    await icap?.stop();
    await clamd?.stop();
  });

  it('is connected with the ISTag as signature stamp', () => {
    const [s] = d.serverStatus();
    expect(s).toMatchObject({ state: 'connected', vendor: 'C-ICAP' });
    expect(s!.signature).toMatch(/\S/);
  });

  it('detects EICAR and the marker; clean passes (also on a reused connection)', async () => {
    expect(await d.scan({ data: Buffer.from(kEicar) })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(await d.scan({ data: Buffer.from(`x ${kMarker} ${randomBytes(4).toString('hex')}`) })).toMatchObject({ result: 'infected', threats: ['Test.Seed.Marker'] });
    for (let i = 0; i < 3; i++) expect(await d.scan({ data: randomBytes(70_000) })).toMatchObject({ result: 'clean' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'real-icap-'));
    writeFileSync(path.join(dir, 'eicar.com'), kEicar);
    writeFileSync(path.join(dir, 'clean.bin'), randomBytes(200_000));
    expect(await d.scan({ file: path.join(dir, 'eicar.com') })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(await d.scan({ file: path.join(dir, 'clean.bin') })).toMatchObject({ result: 'clean' });
    const o = await d.scan({ data: Buffer.from(kEicar) });
    expect(o).toMatchObject({ result: 'infected', stamp: d.serverStatus()[0]!.signature });
  });
});
