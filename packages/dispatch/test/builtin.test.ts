// Real sockets against the team's own clamd-protocol server (@avscan/scanner), and `builtin:` in-process.
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, ScanEngine, startScannerServer, type ScannerServer } from '@avscan/scanner';
import { createDispatcher, type ServerEvent } from '../src/index.js';
import { ClamdSession } from '../src/internal.js';

describe('against @avscan/scanner', () => {
  let engine: ScanEngine;
  let a: ScannerServer;
  let b: ScannerServer;
  beforeAll(async () => {
    engine = await ScanEngine.create({ workers: 1 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dispatch-builtin-'));
    a = await startScannerServer({ engine, unix: path.join(dir, 'a.sock') });
    b = await startScannerServer({ engine, unix: path.join(dir, 'b.sock'), streamMaxLength: 1024 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await engine?.close();
  });

  it('scans through the clamd-protocol server, retries after dropMidReply, reports too-large', async () => {
    const d = createDispatcher({ scanner_pools: [{ name: 'p', servers: [`clamd+unix://${a.unixPath}`, `clamd+unix://${b.unixPath}`] }], request_timeout: 2, health_check_interval: 60 });
    const events: ServerEvent[] = [];
    d.on('server', (e: ServerEvent) => events.push(e));
    const end = Date.now() + 3000;
    while (d.serverStatus().some((s) => s.state !== 'connected') && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(await d.scan({ data: EICAR })).toMatchObject({ result: 'infected', server: `clamd+unix://${a.unixPath}` });
    expect((await d.scan({ data: EICAR })).result).toBe('infected');
    a.setFaults({ dropMidReply: true });
    const o = await d.scan({ data: Buffer.from('small clean') });
    expect(o).toMatchObject({ result: 'clean', server: `clamd+unix://${b.unixPath}`, attempts: 2 });
    a.setFaults({});
    expect(await d.scan({ data: Buffer.alloc(4096, 1) })).toMatchObject({ result: 'failure', kind: 'too-large' });
    expect(events.some((e) => e.to === 'disconnected' && e.disconnected_reason === 'remote_closed')).toBe(true);
    await d.close();
  });

  it('pipelines an IDSESSION and matches replies by id', async () => {
    const s = await ClamdSession.open({ path: a.unixPath! }, 'a');
    const inputs = Array.from({ length: 10 }, (_, i) => (i % 2 ? EICAR : Buffer.from(`clean ${i}`)));
    const [, ...rs] = await Promise.all([s.ping(), ...inputs.map((x) => s.scanBuffer(x))]);
    rs.forEach((r, i) => expect(r.kind).toBe(i % 2 ? 'infected' : 'clean'));
    expect(s.pending).toBe(0);
    await s.close();
    await expect(s.ping()).rejects.toMatchObject({ code: 'ERR_DISPATCH_CLOSED' });
  });

  it('uses the in-process engine for `builtin:`', async () => {
    const d = createDispatcher({ scanner_pools: [{ name: 'b', servers: ['builtin:'] }] });
    await d.ready();
    expect(d.serverStatus()[0]).toMatchObject({ state: 'connected', vendor: 'avscan', ip: 'builtin' });
    expect(await d.scan({ data: EICAR })).toMatchObject({ result: 'infected', server: 'builtin:' });
    expect(await d.scan({ data: Buffer.from('fine') })).toMatchObject({ result: 'clean' });
    expect(d.signatureWatermark()?.stamps.length).toBe(1);
    await d.close();
  });
});
