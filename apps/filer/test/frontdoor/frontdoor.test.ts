// The clamd front door over its unix socket, on a static runtime with the built-in scanner: what a
// clamd client (Samba's vfs_virusfilter) sends, what it gets back, and what the engine did.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStaticRuntime, startFrontdoor, type Frontdoor, type StaticRuntime } from '../../src/index.js';
import { exchange, zscan } from './wire.js';

const kEicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-fd-'));
let rt: StaticRuntime;
let fd: Frontdoor;
let sock: string;

const root = (svm: string, vol: string): string => rt.volume(svm, vol)!.root;
function put(svm: string, vol: string, rel: string, content: string | Buffer): string {
  const f = path.join(root(svm, vol), rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, content);
  return f;
}
async function attrsOf(svm: string, file: string) {
  return await rt.store.getAttributes({ volume: `${svm}/vol1`, fileId: String(statSync(file).ino) });
}
/** Scanner requests the SVM's dispatcher has answered so far (any outcome). */
function requests(svm: string): number {
  const r = rt.dispatcher(svm).metrics().results;
  return r.clean + r.infected + r.unavailable + r.timeout + r.error + r['too-large'];
}

beforeAll(async () => {
  const dead = `clamd+unix://${path.join(tmp, 'no-clamd.sock')}`;
  rt = await createStaticRuntime({
    stateDir: tmp,
    svms: [
      {
        name: 'vs1',
        volumes: [{ name: 'vol1' }],
        shares: [
          { name: 'vol1', volume: 'vol1' },
          { name: 'noscan', volume: 'vol1', dir: 'public', profile: 'no-scan' },
        ],
        scanner_pools: [{ name: 'p1', servers: ['builtin:'] }],
        policy: { name: 'p', scope: { exclude_extensions: ['tmp'], max_file_size: 4096, oversize_action: 'deny' } },
      },
      { name: 'qm', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }], engine: { infectedAction: 'quarantine-move', quarantineDir: path.join(tmp, 'quarantine') } },
      { name: 'deny', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p', servers: [dead] }], policy: { name: 'd', on_failure: 'deny' }, dispatcher: { scan_queue_timeout: 1 } },
      { name: 'allow', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p', servers: [dead] }], policy: { name: 'a', on_failure: 'allow' }, dispatcher: { scan_queue_timeout: 1 } },
      // A scan that waits 2 s for a scanner: a client can leave while it is in flight.
      { name: 'slow', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p', servers: [dead] }], policy: { name: 's', on_failure: 'deny' }, dispatcher: { scan_queue_timeout: 2 } },
    ],
  });
  fd = await startFrontdoor(rt, { stateDir: tmp, env: {} });
  sock = fd.socketPath!;
});
afterAll(async () => {
  await fd?.close();
  await rt?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('clamd front door: replies', () => {
  it('listens on <state>/clamd.sock, owner only', () => {
    expect(sock).toBe(path.join(tmp, 'clamd.sock'));
    const st = statSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('answers PING and VERSION with the terminator of the command form, then closes', async () => {
    expect(await exchange(sock, 'zPING\0')).toBe('PONG\0');
    expect(await exchange(sock, 'nPING\n')).toBe('PONG\n');
    expect(await exchange(sock, 'PING\n')).toBe('PONG\n');
    expect(await exchange(sock, 'zVERSION\0')).toMatch(/^avscan .*\0$/);
    expect(await exchange(sock, 'zBOGUS\0')).toBe('UNKNOWN COMMAND\0');
    expect(await exchange(sock, 'zINSTREAM\0')).toMatch(/^INSTREAM is not supported .* ERROR\0$/);
  });

  it('clean → `<path>: OK`, infected → `<path>: <Name> FOUND` recorded like any on-access scan', async () => {
    const clean = put('vs1', 'vol1', 'docs/clean.txt', 'hello');
    const bad = put('vs1', 'vol1', 'docs/eicar.com', kEicar);
    expect(await zscan(sock, clean)).toBe(`${clean}: OK`);
    expect(await exchange(sock, `nSCAN ${clean}\n`)).toBe(`${clean}: OK\n`);
    expect(await exchange(sock, `SCAN ${clean}\n`)).toBe(`${clean}: OK\n`);
    expect(await zscan(sock, bad)).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: Eicar\\S* FOUND$`));
    await rt.engine('vs1').drain();
    const attrs = await attrsOf('vs1', bad);
    expect(attrs).toMatchObject({ scanResult: 'infected', quarantined: true });
    // Quarantined: denied from the attributes, still with the threat's name, no new scanner request.
    const before = requests('vs1');
    expect(await zscan(sock, bad)).toMatch(/: Eicar\S* FOUND$/);
    expect(requests('vs1')).toBe(before);
  });

  it('scan-current and excluded files are OK without a scanner request; a changed file is scanned again', async () => {
    const f = put('vs1', 'vol1', 'cur.txt', 'v1');
    expect(await zscan(sock, f)).toBe(`${f}: OK`);
    const n = requests('vs1');
    expect(await zscan(sock, f)).toBe(`${f}: OK`);
    const tmpFile = put('vs1', 'vol1', 'scratch.tmp', kEicar);
    expect(await zscan(sock, tmpFile)).toBe(`${tmpFile}: OK`);
    expect(requests('vs1')).toBe(n);
    writeFileSync(f, 'version 2, longer'); // a change the filer did not make: the stamp differs
    expect(await zscan(sock, f)).toBe(`${f}: OK`);
    expect(requests('vs1')).toBe(n + 1);
  });

  it('a share with the no-scan profile answers OK for its folder only (the deepest share wins)', async () => {
    const pub = put('vs1', 'vol1', 'public/eicar.com', kEicar);
    const n = requests('vs1');
    expect(await zscan(sock, pub)).toBe(`${pub}: OK`);
    expect(requests('vs1')).toBe(n);
    const priv = put('vs1', 'vol1', 'publicity/eicar.com', kEicar);
    expect(await zscan(sock, priv)).toMatch(/FOUND$/);
  });

  it('a policy deny (too-large) is an ERROR, so Samba with `block access on error` denies', async () => {
    const big = put('vs1', 'vol1', 'big.bin', Buffer.alloc(8192, 1));
    expect(await zscan(sock, big)).toBe(`${big}: Access denied: file larger than the policy max_file_size ERROR`);
  });

  it('on_failure deny → ERROR; allow → OK recorded unscanned', async () => {
    const d = put('deny', 'vol1', 'f.txt', 'x');
    const a = put('allow', 'vol1', 'f.txt', 'x');
    expect(await zscan(sock, d)).toMatch(/: Access denied: no verdict and the policy is on_failure deny \(unavailable: .*\) ERROR$/);
    expect(await zscan(sock, a)).toBe(`${a}: OK`);
    await rt.engine('allow').drain();
    expect((await attrsOf('allow', a))?.scanResult).toBe('unscanned');
  });

  it('quarantine follows the engine\'s infected action: quarantine-move takes the file away', async () => {
    const bad = put('qm', 'vol1', 'in/bad.com', kEicar);
    expect(await zscan(sock, bad)).toMatch(/: Eicar\S* FOUND$/);
    await rt.engine('qm').drain();
    expect(existsSync(bad)).toBe(false);
    expect(await zscan(sock, bad)).toBe(`${bad}: File path check failure: No such file or directory. ERROR`);
  });

  it('never judges a file outside every volume: other paths, `..` climbs, symlinks out, relative paths', async () => {
    const outside = path.join(tmp, 'secret.txt');
    writeFileSync(outside, kEicar);
    const n = requests('vs1');
    expect(await zscan(sock, '/etc/passwd')).toBe('/etc/passwd: Access denied: path `/etc/passwd` is not inside any volume ERROR');
    const climb = `${root('vs1', 'vol1')}/../../../secret.txt`;
    expect(await zscan(sock, climb)).toMatch(/^.*: Access denied: path .* climbs above its root ERROR$/);
    symlinkSync(outside, path.join(root('vs1', 'vol1'), 'link.txt'));
    expect(await zscan(sock, path.join(root('vs1', 'vol1'), 'link.txt'))).toMatch(/leads outside volume `vol1` ERROR$/);
    expect(await zscan(sock, 'relative/x.txt')).toBe('relative/x.txt: Access denied: path `relative/x.txt` is not absolute ERROR');
    // A sibling folder whose name merely starts with the volume's is not inside it.
    expect(await zscan(sock, `${root('vs1', 'vol1')}x/f`)).toMatch(/is not inside any volume ERROR$/);
    expect(requests('vs1')).toBe(n);
  });

  it('a missing file or a folder is an ERROR in clamd words', async () => {
    const missing = path.join(root('vs1', 'vol1'), 'nope.txt');
    expect(await zscan(sock, missing)).toBe(`${missing}: File path check failure: No such file or directory. ERROR`);
    expect(await zscan(sock, path.join(root('vs1', 'vol1'), 'docs'))).toMatch(/is not a regular file ERROR$/);
  });

  it('IDSESSION: numbered replies on one connection, closed after END once every reply is written', async () => {
    const a = put('vs1', 'vol1', 's/a.txt', 'a');
    const b = put('vs1', 'vol1', 's/b.com', kEicar);
    const out = await exchange(sock, `zIDSESSION\0zPING\0zSCAN ${a}\0zSCAN ${b}\0zEND\0`);
    const replies = out.split('\0').filter((x) => x.length > 0).sort();
    expect(replies).toEqual([`1: PONG`, `2: ${a}: OK`, expect.stringMatching(new RegExp(`^3: ${b.replace(/[.]/g, '\\.')}: Eicar\\S* FOUND$`))]);
  });

  it('a client that goes away mid-scan: its scan still ends and is counted, and every connection closes', async () => {
    const f = put('slow', 'vol1', 'gone.txt', 'x');
    const errors = fd.stats().replies.ERROR;
    await new Promise<void>((resolve, reject) => {
      const s = net.createConnection(sock, () => {
        s.write(`zSCAN ${f}\0`);
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 200);
      });
      s.on('error', reject);
    });
    // The half-open connection (allowHalfOpen) is closed once its reply is written; nobody reads it.
    await vi.waitFor(() => expect(fd.stats().replies.ERROR).toBe(errors + 1), { timeout: 10_000, interval: 20 });
    await vi.waitFor(() => expect(fd.stats().activeConnections).toBe(0), { timeout: 2000, interval: 10 });
    // Connections that got their reply close without a cancellation to deliver: answers unchanged.
    const ok = put('vs1', 'vol1', 'stay.txt', 'ok');
    expect(await Promise.all([zscan(sock, ok), zscan(sock, ok)])).toEqual([`${ok}: OK`, `${ok}: OK`]);
    await vi.waitFor(() => expect(fd.stats().activeConnections).toBe(0), { timeout: 2000, interval: 10 });
  });

  it('closes right after the reply, as clamd does, without waiting for the client to close its side', async () => {
    const f = put('vs1', 'vol1', 'close-first.txt', 'clean');
    // A client that never ends its own side (allowHalfOpen): the front door's close is what ends it.
    const got = await new Promise<{ reply: string; serverOpen: number }>((resolve, reject) => {
      const s = net.createConnection({ path: sock, allowHalfOpen: true });
      let reply = '';
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`no EOF from the front door; got ${JSON.stringify(reply)}`));
      }, 10_000);
      s.on('connect', () => s.write(`zSCAN ${f}\0`));
      s.on('data', (d) => (reply += d.toString()));
      s.on('error', reject);
      s.on('end', () => {
        clearTimeout(t);
        // Read before this side closes: the front door's socket is already gone (or going).
        setImmediate(() => {
          resolve({ reply, serverOpen: fd.stats().activeConnections });
          s.destroy();
        });
      });
    });
    expect(got.reply).toBe(`${f}: OK\0`);
    expect(got.serverOpen).toBe(0);
  });

  it('a command split over several writes, or after another in one write, reads as one write does', async () => {
    const f = put('vs1', 'vol1', 'split/a.txt', 'clean');
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.createConnection(sock);
      let out = '';
      s.on('connect', () => {
        s.write(`zSCAN ${f.slice(0, 5)}`);
        setTimeout(() => s.write(`${f.slice(5)}\0`), 30);
      });
      s.on('data', (d) => (out += d.toString()));
      s.on('error', reject);
      s.on('close', () => resolve(out));
    });
    expect(got).toBe(`${f}: OK\0`);
    expect(await exchange(sock, `nSCAN ${f}\r\n`)).toBe(`${f}: OK\n`);
    expect(await exchange(sock, `zPING\0zSCAN ${f}\0`)).toBe('PONG\0');
    expect(await exchange(sock, 'zSCAN \0')).toMatch(/^UNKNOWN COMMAND\0$/);
  });

  it('readTimeoutMs cuts an idle connection, never one whose scan is in flight', async () => {
    const quick = await startFrontdoor(rt, { socket: path.join(tmp, 'quick-timeout.sock'), readTimeoutMs: 100, env: {} });
    try {
      // The 'slow' SVM's scan waits 2 s for a scanner that is not there: 20 × readTimeoutMs.
      const f = put('slow', 'vol1', 'waits.txt', 'x');
      const t0 = Date.now();
      expect(await zscan(quick.socketPath!, f)).toMatch(/ERROR$/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
      // A session idle after its reply is cut about readTimeoutMs later (a reply resets the count).
      const t1 = Date.now();
      expect(await exchange(quick.socketPath!, 'zIDSESSION\0zPING\0')).toBe('1: PONG\0');
      expect(Date.now() - t1).toBeGreaterThanOrEqual(90);
      expect(Date.now() - t1).toBeLessThan(2000);
    } finally {
      await quick.close();
    }
  });

  it('20 concurrent SCANs of one new file: one scanner request, the same verdict for all', async () => {
    const f = put('vs1', 'vol1', 'storm.com', `${kEicar}`);
    const n = requests('vs1');
    const replies = await Promise.all(Array.from({ length: 20 }, () => zscan(sock, f)));
    expect([...new Set(replies)]).toEqual([replies[0]]);
    expect(replies[0]).toMatch(/FOUND$/);
    expect(requests('vs1')).toBe(n + 1);
    expect(fd.stats().replies.FOUND).toBeGreaterThanOrEqual(20);
  });
});
