// A real SMB filer: smbd (private config, loopback port) with vfs_virusfilter (scanner = clamav)
// pointed at the avscan front door; the shares' paths are emulator volumes; real clamd instances are
// the SVMs' scanner pools; real smbclient sessions open files. REAL-SCANNERS §3.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticRuntime, startFrontdoor, type Frontdoor, type StaticRuntime } from '../../src/index.js';
import { kEicar, requireBinary, sambaAvailable, startClamd, startSmbd, type ClamdHandle, type SmbdHandle } from '../../../../test/support/index.js';

const available = requireBinary('clamd') && requireBinary('smbd') && requireBinary('smbclient') && requireBinary('virusfilter.so') && sambaAvailable() && asRoot();

/** smbd serves files as the users it authenticates and must run as root (REAL-SCANNERS §3.2). */
function asRoot(): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env['CI'] === 'true') throw new Error('real-clients: the Samba tests must run as root (smbd)');
  console.warn('\n!!! SAMBA TESTS SKIPPED: not root (smbd needs root)\n');
  return false;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-smb-'));
const local = path.join(tmp, 'client');
let main: ClamdHandle, doomed: ClamdHandle, primary: ClamdHandle, secondary: ClamdHandle;
let rt: StaticRuntime;
let fd: Frontdoor;
let smbd: SmbdHandle;

const root = (svm: string): string => rt.volume(svm, 'vol1')!.root;
const put = (svm: string, name: string, content: string | Buffer): string => {
  const f = path.join(root(svm), name);
  writeFileSync(f, content);
  return f;
};
/** Scanner requests answered by the SVM's pools so far (any outcome). */
function requests(svm: string): number {
  const r = rt.dispatcher(svm).metrics().results;
  return r.clean + r.infected + r.unavailable + r.timeout + r.error + r['too-large'];
}
const served = (server: string) => rt.dispatcher('failover').metrics().servers.find((s) => s.server.includes(server))!;

async function get(share: string, name: string): Promise<{ denied: boolean; content: string | null; out: string }> {
  const dest = path.join(local, `${share}-${Math.random().toString(36).slice(2)}`);
  const r = await smbd.smbclient(share, `get "${name}" "${dest}"`);
  const out = r.stdout + r.stderr;
  let content: string | null = null;
  try {
    content = readFileSync(dest, 'utf8');
  } catch {
    /* not served */
  }
  return { denied: out.includes('NT_STATUS_ACCESS_DENIED'), content, out };
}

beforeAll(async () => {
  if (!available) return;
  const { mkdirSync } = await import('node:fs');
  mkdirSync(local);
  [main, doomed, primary, secondary] = await Promise.all([startClamd(), startClamd(), startClamd(), startClamd()]);
  const pool = (h: ClamdHandle, name = 'p', role: 'primary' | 'secondary' = 'primary') => ({ name, role, servers: [`clamd+unix://${h.socketPath}`] });
  rt = await createStaticRuntime({
    stateDir: path.join(tmp, 'state'),
    svms: [
      { name: 'vs1', volumes: [{ name: 'vol1' }], scanner_pools: [pool(main)], policy: { name: 'p', scope: { exclude_extensions: ['tmp'] } } },
      { name: 'deny', volumes: [{ name: 'vol1' }], scanner_pools: [pool(doomed)], policy: { name: 'd', on_failure: 'deny' }, dispatcher: { scan_queue_timeout: 2 } },
      { name: 'allow', volumes: [{ name: 'vol1' }], scanner_pools: [pool(doomed)], policy: { name: 'a', on_failure: 'allow' }, dispatcher: { scan_queue_timeout: 2 } },
      { name: 'failover', volumes: [{ name: 'vol1' }], scanner_pools: [pool(primary, 'prim'), pool(secondary, 'sec', 'secondary')] },
    ],
  });
  fd = await startFrontdoor(rt, { stateDir: path.join(tmp, 'state'), env: {} });
  smbd = await startSmbd(['vs1', 'deny', 'allow', 'failover'].map((svm) => ({ name: svm, path: root(svm), virusfilter: { socket: fd.socketPath! } })));
});

afterAll(async () => {
  await smbd?.stop();
  await fd?.close();
  await rt?.close();
  await Promise.all([main, doomed, primary, secondary].map((h) => h?.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!available)('Samba vfs_virusfilter → avscan front door → clamd', () => {
  it('EICAR is denied, a clean file is served, an excluded extension is served with no scanner request', async () => {
    put('vs1', 'eicar.com', kEicar);
    put('vs1', 'clean.txt', 'hello from the filer');
    put('vs1', 'notes.tmp', kEicar);
    const bad = await get('vs1', 'eicar.com');
    expect(bad.denied, bad.out).toBe(true);
    expect(bad.content).toBeNull();
    const good = await get('vs1', 'clean.txt');
    expect(good.content, good.out).toBe('hello from the filer');
    const n = requests('vs1');
    const scans = fd.stats().scans;
    const excluded = await get('vs1', 'notes.tmp');
    expect(excluded.content, excluded.out).toBe(kEicar);
    expect(fd.stats().scans).toBeGreaterThan(scans); // Samba asked ...
    expect(requests('vs1')).toBe(n); // ... and no scanner was
    await rt.engine('vs1').drain();
    const attrs = await rt.store.getAttributes({ volume: 'vs1/vol1', fileId: String(statSync(path.join(root('vs1'), 'eicar.com')).ino) });
    expect(attrs).toMatchObject({ scanResult: 'infected', quarantined: true });
    expect(attrs?.threats[0]).toMatch(/^Eicar-Test-Signature/);
  });

  it('a non-ASCII name round-trips: the reply echoes the path byte for byte, as Samba checks', async () => {
    put('vs1', 'résumé – 履歴書.txt', 'curriculum vitae, clean');
    const r = await get('vs1', 'résumé – 履歴書.txt');
    expect(r.content, r.out).toBe('curriculum vitae, clean');
    put('vs1', 'vírus €.com', kEicar);
    const found = fd.stats().replies.FOUND;
    expect((await get('vs1', 'vírus €.com')).denied).toBe(true);
    // Denied as infected (a reply Samba could not match to the path would also deny, as an error).
    expect(fd.stats().replies.FOUND).toBe(found + 1);
    expect(smbd.log()).toMatch(/Scan result: Infected: .*vírus €\.com: Eicar-Test-Signature/);
  });

  it('an unchanged file is served from its attributes once Samba forgot it; a new version is scanned again', async () => {
    put('vs1', 'report.txt', 'v1');
    expect((await get('vs1', 'report.txt')).content).toBe('v1');
    const n = requests('vs1');
    const scans = fd.stats().scans;
    // A new session is a new smbd process with an empty verdict cache: Samba asks the front door again.
    expect((await get('vs1', 'report.txt')).content).toBe('v1');
    expect(fd.stats().scans).toBeGreaterThan(scans);
    expect(requests('vs1')).toBe(n);
    writeFileSync(path.join(local, 'report-v2.txt'), 'version two');
    const up = await smbd.smbclient('vs1', 'put report-v2.txt report.txt', local);
    expect(up.stdout + up.stderr).toContain('putting file');
    expect((await get('vs1', 'report.txt')).content).toBe('version two');
    expect(requests('vs1')).toBe(n + 1);
  });

  it('an infected upload succeeds (Samba ignores the verdict on close) but is judged at once and denied on open', async () => {
    writeFileSync(path.join(local, 'upload.com'), kEicar);
    const n = requests('vs1');
    const up = await smbd.smbclient('vs1', 'put upload.com dropped.com', local);
    expect(up.stdout + up.stderr).toContain('putting file');
    await rt.engine('vs1').drain();
    const attrs = await rt.store.getAttributes({ volume: 'vs1/vol1', fileId: String(statSync(path.join(root('vs1'), 'dropped.com')).ino) });
    expect(attrs).toMatchObject({ scanResult: 'infected', quarantined: true });
    const d = await get('vs1', 'dropped.com');
    expect(d.denied, d.out).toBe(true);
    expect(requests('vs1')).toBe(n + 1); // scanned on close; the open is denied from the attributes
  });

  it('clamd killed: on_failure deny → access denied; allow → served and recorded unscanned', async () => {
    put('deny', 'f.txt', 'payload');
    put('allow', 'f.txt', 'payload');
    doomed.signal('SIGKILL');
    await new Promise<void>((r) => (doomed.process.exitCode !== null || doomed.process.signalCode !== null ? r() : doomed.process.once('exit', () => r())));
    const d = await get('deny', 'f.txt');
    expect(d.denied, d.out).toBe(true);
    const a = await get('allow', 'f.txt');
    expect(a.content, a.out).toBe('payload');
    await rt.engine('allow').drain();
    expect((await rt.store.getAttributes({ volume: 'allow/vol1', fileId: String(statSync(path.join(root('allow'), 'f.txt')).ino) }))?.scanResult).toBe('unscanned');
  });

  it('the secondary pool takes over when the primary dies', async () => {
    put('failover', 'a.txt', 'first');
    expect((await get('failover', 'a.txt')).content).toBe('first');
    expect(served(primary.socketPath!).clean).toBe(1);
    primary.signal('SIGKILL');
    await new Promise<void>((r) => (primary.process.signalCode !== null ? r() : primary.process.once('exit', () => r())));
    put('failover', 'b.txt', 'second');
    const b = await get('failover', 'b.txt');
    expect(b.content, b.out).toBe('second');
    expect(served(secondary.socketPath!).clean).toBe(1);
  });

  it('50 concurrent smbclient sessions opening one new file: one scanner request', async () => {
    put('vs1', 'popular.txt', 'everyone wants this');
    const n = requests('vs1');
    const scans = fd.stats().scans;
    const results = await Promise.all(Array.from({ length: 50 }, () => get('vs1', 'popular.txt')));
    expect(results.filter((r) => r.content === 'everyone wants this').length, results.find((r) => r.content === null)?.out).toBe(50);
    expect(fd.stats().scans - scans).toBeGreaterThanOrEqual(50);
    expect(requests('vs1')).toBe(n + 1);
  }, 120_000);
});
