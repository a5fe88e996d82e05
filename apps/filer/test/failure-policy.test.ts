// Scanner servers killed → the failure policy, changed through the API: a mandatory policy denies,
// `mandatory: false` allows. Built-in servers on fixed ports named by the configuration's pool.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, resolveInVolume } from '../src/index.js';
import { freePort, startTestFiler, type TestFiler } from './helpers/filer.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-failure-'));
let t: TestFiler;

beforeAll(async () => {
  const ports = [await freePort(), await freePort()];
  const config = path.join(tmp, 'filer.yaml');
  writeFileSync(config, [
    'lab_mode: true',
    `builtin_servers: [${ports.join(', ')}]`,
    'svms:',
    '  - name: vs1',
    '    volumes: [{ name: vol1 }]',
    '    dispatcher: { scan_queue_timeout: 0.5, request_timeout: 1, session_setup_timeout: 0.3, max_session_setup_retries: 1, health_check_interval: 0.2, session_retry_interval: 0.2 }',
    '    vscan:',
    `      scanner_pools: [{ name: local, servers: ["127.0.0.1:${ports[0]}", "127.0.0.1:${ports[1]}"], privileged_users: ['LAB\\avscan'] }]`,
    '      default_cifs_enabled: false',
    '      on_access_policies: [{ name: strict, enabled: true, mandatory: true }]',
  ].join('\n'));
  t = await startTestFiler({ config, dir: path.join(tmp, 'state') });
  await t.filer.runtime.dispatcher('vs1')!.ready();
});
afterAll(async () => {
  await t?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('failure policy', () => {
  it('servers up: clean allowed; all killed: mandatory denies; mandatory false through the API: allowed', async () => {
    const rt = t.filer.runtime;
    const vol = rt.volume('vs1', 'vol1')!;
    const open = (name: string) => {
      writeFileSync(path.join(vol.root, name), `content of ${name}`);
      return rt.engine('vs1').open(accessOf(resolveInVolume(vol, name)));
    };
    expect(await open('a.txt')).toMatchObject({ allow: true, reason: 'clean' });
    for (const s of t.filer.scanners) await s.close();
    await expect.poll(() => rt.dispatcher('vs1')!.serverStatus().every((s) => s.state !== 'connected'), { timeout: 10_000, interval: 50 }).toBe(true);
    expect(await open('b.txt')).toMatchObject({ allow: false, reason: 'failure-deny' });
    const base = `/api/protocols/vscan/${t.uuid}`;
    expect((await t.api.patch(`${base}/on-access-policies/strict`, { mandatory: false })).status).toBe(200);
    expect(await open('c.txt')).toMatchObject({ allow: true, reason: 'failure-allow' });
    const failures = await t.api.get(`${base}/events?type=scan.unavailable`);
    expect(failures.body.num_records).toBeGreaterThanOrEqual(1);
  });
});
