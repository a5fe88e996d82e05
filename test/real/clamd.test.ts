// Real clamd (hand-written signature DB) behind the dispatcher and the raw clients.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher } from '@avscan/dispatch';
import { ClamdSession } from '@avscan/dispatch/internal';
import { kEicar, kLogicalParts, kMarker, requireBinary, startClamd, type ClamdHandle } from '../support/index.js';

const available = requireBinary('clamd');

describe.skipIf(!available)('real clamd', () => {
  let clamd: ClamdHandle;
  let d: Dispatcher;
  let dir: string;

  beforeAll(async () => {
    clamd = await startClamd({ unix: true, tcp: true, streamMaxLength: '1M' });
    d = createDispatcher({ scanner_pools: [{ name: 'lab', servers: [`clamd+unix://${clamd.socketPath}`], privileged_users: [] }], request_timeout: 10 });
    await d.ready();
    dir = mkdtempSync(path.join(os.tmpdir(), 'real-clamd-'));
  });
  afterAll(async () => {
    await d?.close();
    await clamd?.stop();
  });

  it('reports version and signature stamp in server status', () => {
    const [s] = d.serverStatus();
    expect(s).toMatchObject({ state: 'connected', vendor: 'ClamAV', type: 'primary' });
    expect(s!.signature).toMatch(/^ClamAV \d+\.\d+/);
  });

  it('detects EICAR, the marker and the logical signature without .UNOFFICIAL; clean passes', async () => {
    const unique = (s: string): Buffer => Buffer.from(`${s}\n${randomBytes(8).toString('hex')}`);
    expect(await d.scan({ data: Buffer.from(kEicar) })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(await d.scan({ data: unique(`hello ${kMarker} world`) })).toMatchObject({ result: 'infected', threats: ['Test.Seed.Marker'] });
    expect(await d.scan({ data: unique(`${kLogicalParts[1]} .. ${kLogicalParts[0]}`) })).toMatchObject({ result: 'infected', threats: ['Test.Seed.Logical'] });
    expect(await d.scan({ data: unique(kLogicalParts[0]) })).toMatchObject({ result: 'clean' });
    expect(await d.scan({ data: randomBytes(4096) })).toMatchObject({ result: 'clean', attempts: 1 });
  });

  it('streams files from disk', async () => {
    writeFileSync(path.join(dir, 'eicar.com'), kEicar);
    writeFileSync(path.join(dir, 'clean.bin'), randomBytes(300_000));
    expect(await d.scan({ file: path.join(dir, 'eicar.com') })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(await d.scan({ file: path.join(dir, 'clean.bin') })).toMatchObject({ result: 'clean' });
  });

  it('reports an oversize stream as too-large (StreamMaxLength 1M)', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x41);
    expect(await d.scan({ data: big })).toMatchObject({ result: 'failure', kind: 'too-large', code: 'ERR_DISPATCH_TOO_LARGE' });
    writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 0x42));
    expect(await d.scan({ file: path.join(dir, 'big.bin') })).toMatchObject({ result: 'failure', kind: 'too-large' });
    expect(await d.scan({ data: Buffer.alloc(1024 * 1024, 0x41) })).toMatchObject({ result: 'clean' });
  });

  it('matches IDSESSION replies by id, whatever their order', async () => {
    const s = await ClamdSession.open({ path: clamd.socketPath! }, 'clamd');
    const payloads = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? Buffer.from(kEicar) : i % 3 === 1 ? Buffer.from(`${kMarker}${i}`) : randomBytes(20_000 + i)));
    const results = await Promise.all([s.ping(), ...payloads.map((p) => s.scanBuffer(p))]);
    results.slice(1).forEach((r, i) => {
      if (i % 3 === 0) expect(r).toEqual({ kind: 'infected', threats: ['Eicar-Test-Signature'] });
      else if (i % 3 === 1) expect(r).toEqual({ kind: 'infected', threats: ['Test.Seed.Marker'] });
      else expect(r).toEqual({ kind: 'clean' });
    });
    await s.close();
  });

  it('talks to the same clamd over TCP', async () => {
    const t = createDispatcher({ scanner_pools: [{ name: 'tcp', servers: [`clamd://127.0.0.1:${clamd.tcp!.port}`] }] });
    await t.ready();
    expect(await t.scan({ data: Buffer.from(kEicar) })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
    await t.close();
  });
});
