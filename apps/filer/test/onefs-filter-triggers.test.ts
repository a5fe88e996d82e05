// The OneFS filter's triggers take effect: `scan_on_read/close/rename` are a zone-wide mask over each
// share's profile and `scan_profile: "strict"` raises the zone's shares to OneFS's strict triggers
// (src/vscan/zone-filter.ts). Real HTTPS to a managed filer, real files, a real clamd-protocol scanner
// server whose own counter says whether a scanner request was made; the volume watcher for changes
// made outside the emulator. Also: bad values change nothing, and the behaviour survives a restart.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startScannerServer, type ScannerServer } from '@avscan/scanner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminExtension, dataPathExtension, startFrontdoor, volumeWatcherExtension, type WatchEvent } from '../src/index.js';
import { zscan } from './frontdoor/wire.js';
import { expectPapiError, kEicar, startTestFiler, type Reply, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
let scanner: ScannerServer;
let dir: string;
const kConfig = (port: number): string => `lab_mode: true
builtin_servers: 0
svms:
  - name: z1
    volumes: [{ name: vol1 }]
    shares:
      - { name: std, volume: vol1, dir: std }
      - { name: st, volume: vol1, dir: st, profile: strict }
      - { name: cs, volume: vol1, dir: cs, profile: cava-standard }
      - { name: ns, volume: vol1, dir: ns, profile: no-scan }
    vscan:
      enabled: true
      scanner_pools: [{ name: p1, servers: ["127.0.0.1:${port}"], privileged_users: ["LAB\\\\av"] }]
`;

beforeAll(async () => {
  scanner = await startScannerServer({ tcp: { host: '127.0.0.1', port: 0 }, log: () => {} });
  dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-onefs-filter-'));
  // One zone, four shares of one volume, each with its own vscan-fileop-profile. No volume watcher
  // here: it would turn every file this test writes into a close after write (see scan_on_close).
  writeFileSync(path.join(dir, 'filer.yaml'), kConfig(scanner.tcp!.port));
  t = await startTestFiler({ config: path.join(dir, 'filer.yaml'), dir: path.join(dir, 'state'), extensions: [dataPathExtension(), adminExtension()] });
});
afterAll(async () => {
  await t?.close();
  await scanner?.close();
  rmSync(dir, { recursive: true, force: true });
});

const kFilter = '/platform/11/avscan/filters/z1';
const putFilter = (body: unknown): Promise<Reply> => t.api.raw('PUT', kFilter, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const filter = async (): Promise<Record<string, unknown>> => (await t.api.get(kFilter)).body.filters[0];
const scans = (): number => scanner.stats().scans;
let seq = 0;
/** A new file (never scanned: stale) in a share's folder, written behind the emulator's back. */
function fresh(share: string, content = `content ${++seq}\n`, ext = 'txt'): string {
  const name = `f${++seq}.${ext}`;
  const folder = path.join(t.filer.runtime.volume('z1', 'vol1')!.root, share);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, name), content);
  return name;
}
/** GET op=read: the open's reason and the read's (headers on success, the deny's reason otherwise). */
async function read(share: string, name: string): Promise<{ status: number; open: unknown; read: unknown }> {
  const r = await t.api.get(`/data/z1/${share}/${name}?op=read`);
  return { status: r.status, open: r.headers['x-avscan-reason'] ?? r.body?.error?.reason, read: r.headers['x-avscan-read-reason'] };
}
/** The ONTAP view: explain's profile and trigger for an operation on a path. */
async function explain(share: string, name: string, operation: string): Promise<{ profile: unknown; trigger: unknown }> {
  const r = await t.api.get(`/api/protocols/vscan/${t.uuid}/explain?path=${encodeURIComponent(`/vol1/${share}/${name}`)}&operation=${operation}&size=10`);
  expect(r.status).toBe(200);
  return { profile: r.body.profile, trigger: r.body.trigger };
}
const drain = (): Promise<void> => t.filer.runtime.engine('z1').drain();
const close = async (share: string, name: string, wrote: boolean): Promise<Reply> => t.api.post(`/data/z1/${share}/${name}?op=close&wrote=${wrote ? 1 : 0}`);
const rename = async (share: string, name: string): Promise<Reply> => t.api.post(`/data/z1/${share}/${name}?op=rename&to=${encodeURIComponent(`r-${name}`)}`);

describe('defaults: nothing masked, each share scans by its own profile', () => {
  it('GET shows the effective values', async () => {
    expect(await filter()).toMatchObject({ scan_profile: 'standard', scan_on_read: true, scan_on_close: true, scan_on_rename: true, scan_cloudpool_files: false });
  });

  it('a read through a strict share scans; through a cava-standard share it does not', async () => {
    const before = scans();
    expect(await read('st', fresh('st'))).toEqual({ status: 200, open: 'clean', read: 'scan-current' });
    expect(scans()).toBe(before + 1);
    expect(await read('cs', fresh('cs'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    expect(scans()).toBe(before + 1);
  });
});

describe('scan_on_read', () => {
  it('false: opens and reads trigger no scan, even of EICAR; true again: they scan', async () => {
    expect((await putFilter({ scan_on_read: false })).status).toBe(204);
    expect(await filter()).toMatchObject({ scan_profile: 'standard', scan_on_read: false, scan_on_close: true, scan_on_rename: true });
    const before = scans();
    expect(await read('st', fresh('st'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    expect(await read('std', fresh('std', kEicar, 'com'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    expect((await t.api.get(`/data/z1/std/${fresh('std')}?op=open&mode=execute`)).body).toMatchObject({ allow: true, reason: 'not-triggered' });
    expect(scans()).toBe(before);
    // explain (the ONTAP view) says the same: the access runs as no-scan for reads, the close is untouched
    const f = fresh('st');
    expect(await explain('st', f, 'read')).toEqual({ profile: 'no-scan', trigger: 'none' });
    expect(await explain('st', f, 'open')).toEqual({ profile: 'no-scan', trigger: 'none' });
    expect(await explain('st', f, 'close')).toEqual({ profile: 'strict', trigger: 'async' });

    expect((await putFilter({ scan_on_read: true })).status).toBe(204);
    expect(await explain('st', f, 'read')).toEqual({ profile: 'strict', trigger: 'sync' });
    expect(await read('st', fresh('st'))).toEqual({ status: 200, open: 'clean', read: 'scan-current' });
    expect(await read('std', fresh('std', kEicar, 'com'))).toMatchObject({ status: 403, open: 'infected' });
    expect(scans()).toBe(before + 2);
  });
});

describe('the clamd front door (Samba vfs_virusfilter asks on open)', () => {
  it('scan_on_read false: SCAN answers OK without a scanner request, even for EICAR; true: it scans', async () => {
    mkdirSync(path.join(dir, 'fd'));
    const fd = await startFrontdoor(t.filer.runtime, { stateDir: path.join(dir, 'fd'), env: {} });
    try {
      const file = (share: string, name: string): string => path.join(t.filer.runtime.volume('z1', 'vol1')!.root, share, name);
      expect((await putFilter({ scan_on_read: false })).status).toBe(204);
      const before = scans();
      const a = fresh('std', kEicar, 'com');
      expect(await zscan(fd.socketPath!, file('std', a))).toBe(`${file('std', a)}: OK`);
      expect(scans()).toBe(before);
      expect((await putFilter({ scan_on_read: true })).status).toBe(204);
      expect(await zscan(fd.socketPath!, file('std', a))).toMatch(/: .*FOUND$/);
      expect(scans()).toBe(before + 1);
    } finally {
      await fd.close();
    }
  });
});

describe('scan_on_close', () => {
  it('false: a close after a write queues no scan; true again: it does', async () => {
    expect((await putFilter({ scan_on_close: false })).status).toBe(204);
    const before = scans();
    expect((await close('std', fresh('std'), true)).body).toMatchObject({ allow: true, reason: 'not-triggered' });
    await drain();
    expect(scans()).toBe(before);
    expect((await putFilter({ scan_on_close: true })).status).toBe(204);
    expect((await close('std', fresh('std'), true)).body).toMatchObject({ allow: true, reason: 'scan-queued' });
    await drain();
    expect(scans()).toBe(before + 1);
  });

  it('the volume watcher (a change made outside the emulator is a close after write) follows it too', async () => {
    const events: WatchEvent[] = [];
    const wdir = path.join(dir, 'watched');
    mkdirSync(wdir);
    writeFileSync(path.join(wdir, 'filer.yaml'), kConfig(scanner.tcp!.port));
    const w = await startTestFiler({ config: path.join(wdir, 'filer.yaml'), dir: path.join(wdir, 'state'), extensions: [adminExtension(), volumeWatcherExtension({ onEvent: (e) => events.push(e) })] });
    try {
      const folder = path.join(w.filer.runtime.volume('z1', 'vol1')!.root, 'std');
      mkdirSync(folder, { recursive: true });
      /** Writes a file and waits (bounded) for the watcher's answer to it. */
      const change = async (name: string): Promise<WatchEvent> => {
        writeFileSync(path.join(folder, name), `outside ${name}\n`);
        for (let i = 0; i < 1000; i++) {
          const e = events.find((x) => x.kind === 'changed' && x.path.endsWith(`\\${name}`) && x.answer !== undefined);
          if (e !== undefined) return e;
          await new Promise((res) => setTimeout(res, 10));
        }
        throw new Error(`the watcher did not report ${name}`);
      };
      const quiet = async (): Promise<void> => {
        let n = -1;
        for (let i = 0; i < 50 && n !== events.length; i++) {
          n = events.length;
          await new Promise((res) => setTimeout(res, 300));
        }
      };
      expect((await w.api.raw('PUT', kFilter, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scan_on_close: false }) })).status).toBe(204);
      const before = scans();
      expect((await change('a.txt')).answer).toMatchObject({ allow: true, reason: 'not-triggered' });
      // One write can reach the watcher as several inotify events (create, modify, close_write), some
      // after the first batch: wait until it is quiet, so none is answered after the filter flips.
      await quiet();
      expect(events.filter((e) => e.path.endsWith('\\a.txt')).map((e) => e.answer?.reason)).toEqual(expect.arrayContaining(['not-triggered']));
      expect(events.filter((e) => e.path.endsWith('\\a.txt') && e.answer?.reason !== 'not-triggered')).toEqual([]);
      await w.filer.runtime.engine('z1').drain();
      expect(scans()).toBe(before);
      expect((await w.api.raw('PUT', kFilter, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scan_on_close: true }) })).status).toBe(204);
      expect((await change('b.txt')).answer).toMatchObject({ allow: true, reason: 'scan-queued' });
      await quiet();
      await w.filer.runtime.engine('z1').drain();
      expect(scans()).toBe(before + 1);
    } finally {
      await w.close();
    }
  });
});

describe('scan_on_rename', () => {
  it('false: a rename triggers no scan (the file is renamed, allowed); true again: it scans the new name', async () => {
    expect((await putFilter({ scan_on_rename: false })).status).toBe(204);
    const before = scans();
    const a = fresh('std', kEicar, 'com');
    expect((await rename('std', a)).body).toMatchObject({ allow: true, reason: 'not-triggered', path: `\\vol1\\std\\r-${a}` });
    expect(scans()).toBe(before);

    expect((await putFilter({ scan_on_rename: true })).status).toBe(204);
    const b = fresh('std', kEicar, 'com');
    const r = await rename('std', b);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ reason: 'infected' });
    expect(scans()).toBe(before + 1);
  });
});

describe('scan_profile', () => {
  it('strict: shares are raised to OneFS strict (read, close with or without a write, rename); no-scan shares stay exempt; the flags still mask', async () => {
    expect((await putFilter({ scan_profile: 'strict' })).status).toBe(204);
    expect(await filter()).toMatchObject({ scan_profile: 'strict', scan_on_read: true, scan_on_close: true, scan_on_rename: true });
    const before = scans();
    // cava-standard → cava-strict: the read scans (no open trigger in OneFS's profiles)
    expect(await read('cs', fresh('cs'))).toEqual({ status: 200, open: 'not-triggered', read: 'clean' });
    // standard → strict: a close without a write queues a scan
    expect((await close('std', fresh('std'), false)).body).toMatchObject({ reason: 'scan-queued' });
    await drain();
    expect(scans()).toBe(before + 2);
    expect(await explain('cs', 'x.txt', 'read')).toEqual({ profile: 'cava-strict', trigger: 'sync' });
    expect(await explain('std', 'x.txt', 'open')).toEqual({ profile: 'strict', trigger: 'sync' });
    // no-scan stays no-scan
    expect(await explain('ns', 'x.txt', 'read')).toEqual({ profile: 'no-scan', trigger: 'none' });
    expect(await read('ns', fresh('ns', kEicar, 'com'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    expect((await close('ns', fresh('ns'), true)).body).toMatchObject({ reason: 'not-triggered' });
    // the mask applies over the raised profile
    expect((await putFilter({ scan_on_read: false })).status).toBe(204);
    expect(await read('cs', fresh('cs'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    await drain();
    expect(scans()).toBe(before + 2);

    // standard again: the shares' own profiles
    expect((await putFilter({ scan_profile: 'standard', scan_on_read: true })).status).toBe(204);
    expect(await read('cs', fresh('cs'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    expect((await close('std', fresh('std'), false)).body).toMatchObject({ reason: 'not-triggered' });
    await drain();
    expect(scans()).toBe(before + 2);
  });
});

describe('audit', () => {
  it('a filter PUT is a management event of the audit log (api onefs), as every OneFS write', async () => {
    mkdirSync(path.join(t.filer.runtime.volume('z1', 'vol1')!.root, 'audit'), { recursive: true });
    expect((await t.api.post(`/api/protocols/audit/${t.uuid}/object-store`, { log_path: '/vol1/audit', events: { management: true } })).status).toBe(202);
    expect((await putFilter({ scan_on_rename: true })).status).toBe(204);
    const rt = t.filer.runtime;
    let reasons: Array<string | null> = [];
    for (let i = 0; i < 200 && !reasons.includes(`PUT ${kFilter}`); i++) {
      await rt.store.flush();
      reasons = (await rt.store.queryEvents({ type: 'audit.management' })).records.filter((e) => (e.details as { api?: string }).api === 'onefs').map((e) => e.reason);
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(reasons).toContain(`PUT ${kFilter}`);
  });
});

describe('bad values', () => {
  it('PAPI AEC_BAD_REQUEST naming the field; nothing changes, in the view or on the data path', async () => {
    const before = JSON.stringify(await filter());
    const doc = JSON.stringify(t.filer.runtime.vscan('z1'));
    for (const [body, field] of [
      [{ scan_on_read: 'no' }, 'scan_on_read'], [{ scan_on_close: 0 }, 'scan_on_close'], [{ scan_on_rename: null }, 'scan_on_rename'],
      [{ scan_profile: 'paranoid' }, 'scan_profile'], [{ scan_profile: 'Strict' }, 'scan_profile'], [{ scan_cloudpool_files: 'true' }, 'scan_cloudpool_files'],
      // a valid field beside a bad one is not applied either
      [{ scan_on_read: false, scan_profile: 'custom' }, 'scan_profile'], [{ scan_on_close: false, open_on_fail: 'yes' }, 'open_on_fail'],
    ] as const) {
      const r = await putFilter(body);
      expectPapiError(r, 400, 'AEC_BAD_REQUEST');
      expect(r.body.errors[0].field).toBe(field);
    }
    expect(JSON.stringify(await filter())).toBe(before);
    expect(JSON.stringify(t.filer.runtime.vscan('z1'))).toBe(doc);
    const n = scans();
    expect(await read('st', fresh('st'))).toEqual({ status: 200, open: 'clean', read: 'scan-current' });
    expect(scans()).toBe(n + 1);
  });
});

describe('restart', () => {
  it('the filter is kept in the zone\'s document: after a restart the same view and the same behaviour', async () => {
    expect((await putFilter({ scan_on_read: false, scan_on_rename: false, scan_profile: 'strict', scan_cloudpool_files: true })).status).toBe(204);
    const view = await filter();
    t = await t.restart();
    expect(await filter()).toEqual(view);
    expect(view).toMatchObject({ scan_profile: 'strict', scan_on_read: false, scan_on_close: true, scan_on_rename: false, scan_cloudpool_files: true });
    const before = scans();
    expect(await read('st', fresh('st'))).toEqual({ status: 200, open: 'not-triggered', read: 'not-triggered' });
    expect((await rename('std', fresh('std'))).body).toMatchObject({ reason: 'not-triggered' });
    // strict still raises close without a write
    expect((await close('std', fresh('std'), false)).body).toMatchObject({ reason: 'scan-queued' });
    await drain();
    expect(scans()).toBe(before + 1);
  });
});
