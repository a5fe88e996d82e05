// The data path end to end over real HTTPS: a fastify server with the data-path extension on a static
// runtime (built-in scanner), requests sent by undici as a client would.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanEngine, startScannerServer, type ScannerServer } from '@avscan/scanner';
import { dataPathExtension, FilerErrorCodes } from '../../src/index.js';
import { kEicar, startTestServer, type TestServer } from '../support/https.js';

const kPolicy = { name: 'p1', mandatory: true, scope: { exclude_extensions: ['tmp'], exclude_paths: ['\\vol1\\scratch\\'] } };
let srv: TestServer;
let scanEngine: ScanEngine;
let scanner: ScannerServer;
let socket: string;

beforeAll(async () => {
  scanEngine = await ScanEngine.create({ workers: 1 });
  socket = path.join((await import('node:os')).tmpdir(), `avscan-filer-dp-${process.pid}.sock`);
  scanner = await startScannerServer({ engine: scanEngine, unix: socket, log: () => {} });
  const down = { scanner_pools: [{ name: 'p', servers: [`clamd+unix://${socket}`] }], dispatcher: { request_timeout: 2, scan_queue_timeout: 1 } };
  srv = await startTestServer([
    {
      name: 'vs1', volumes: [{ name: 'vol1' }, { name: 'vol_ro', readonly: true }, { name: 'vol_worm', worm: true }],
      shares: [{ name: 'vol1', volume: 'vol1' }, { name: 'vol_ro', volume: 'vol_ro' }, { name: 'vol_worm', volume: 'vol_worm' }, { name: 'strict', volume: 'vol1', dir: 'st', profile: 'strict' }],
      scanner_pools: [{ name: 'p1', servers: ['builtin:'] }], policy: kPolicy,
    },
    { name: 'vs2', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }], policy: { name: 'x', scope: { only_execute_access: true } } },
    { name: 'vs3', volumes: [{ name: 'vol1' }], ...down, policy: { name: 'm', mandatory: true } },
    { name: 'vs4', volumes: [{ name: 'vol1' }], ...down, policy: { name: 'o', mandatory: false } },
  ], [dataPathExtension()]);
});
afterAll(async () => {
  await srv?.close();
  await scanner?.close();
  await scanEngine?.close();
});

const root = (svm: string, vol = 'vol1'): string => srv.rt.volume(svm, vol)!.root;
function put(svm: string, rel: string, content: string, vol = 'vol1'): void {
  const file = path.join(root(svm, vol), rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

describe('open', () => {
  it('denies EICAR as SMB would, then denies it again without a scan (quarantined)', async () => {
    put('vs1', 'eicar.com', kEicar);
    const r = await srv.call('GET', '/data/vs1/vol1/eicar.com?op=open&mode=read');
    expect(r.status).toBe(403);
    expect(r.json.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: 'infected' });
    expect(r.json.error.message).toContain('Eicar');
    await srv.rt.engine('vs1').drain();
    const again = await srv.call('GET', '/data/vs1/vol1/eicar.com?op=open');
    expect(again.json.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: 'quarantined' });
  });

  it('allows a clean file with the decision, then answers from the attributes (scan current)', async () => {
    put('vs1', 'docs/report.docx', 'quarterly numbers');
    const r = await srv.call('GET', '/data/vs1/vol1/docs/report.docx?op=open&mode=read');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ path: '\\vol1\\docs\\report.docx', allow: true, reason: 'clean', verdict: { result: 'clean' }, trigger: 'sync' });
    expect(r.json.decision_id).toEqual(expect.any(String));
    expect(r.json.policy_revision).toBe(srv.rt.engine('vs1').policy.revision);
    await srv.rt.engine('vs1').drain();
    expect((await srv.call('GET', '/data/vs1/vol1/docs/report.docx?op=open')).json.reason).toBe('scan-current');
  });

  it('skips excluded extensions and paths (EICAR inside is allowed unscanned)', async () => {
    put('vs1', 'setup.tmp', kEicar);
    put('vs1', 'scratch/x.exe', kEicar);
    expect((await srv.call('GET', '/data/vs1/vol1/setup.tmp?op=open')).json).toMatchObject({ allow: true, reason: 'excluded-extension', rule: 'tmp' });
    expect((await srv.call('GET', '/data/vs1/vol1/scratch/x.exe?op=open')).json).toMatchObject({ allow: true, reason: 'excluded-path' });
  });

  it('scans only execute opens under an execute-only policy', async () => {
    put('vs2', 'tool.exe', kEicar);
    expect((await srv.call('GET', '/data/vs2/vol1/tool.exe?op=open&mode=read')).json).toMatchObject({ allow: true, reason: 'not-execute-access' });
    const ex = await srv.call('GET', '/data/vs2/vol1/tool.exe?op=open&mode=execute');
    expect(ex.status).toBe(403);
    expect(ex.json.error.reason).toBe('infected');
  });

  it('answers per the failure policy when the scanner is down: mandatory denies, optional allows', async () => {
    put('vs3', 'a.doc', 'a');
    put('vs4', 'a.doc', 'a');
    await scanner.close();
    const denied = await srv.call('GET', '/data/vs3/vol1/a.doc?op=open');
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: 'failure-deny' });
    expect((await srv.call('GET', '/data/vs4/vol1/a.doc?op=open')).json).toMatchObject({ allow: true, reason: 'failure-allow', verdict: { result: 'failure' } });
  });

  it('refuses unknown SVMs, shares and files, and malformed requests, with coded errors', async () => {
    expect((await srv.call('GET', '/data/vs9/vol1/a?op=open')).json.error.code).toBe(FilerErrorCodes.NOT_FOUND);
    expect((await srv.call('GET', '/data/vs1/nope/a?op=open')).status).toBe(404);
    expect((await srv.call('GET', '/data/vs1/vol1/missing.txt?op=open')).json.error).toMatchObject({ code: FilerErrorCodes.NOT_FOUND, target: 'path' });
    const bad = await srv.call('GET', '/data/vs1/vol1/a?op=fly');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe(FilerErrorCodes.INVALID_REQUEST);
    expect((await srv.call('GET', '/data/vs1/vol1/a?op=open&mode=delete')).status).toBe(400);
    expect((await srv.call('POST', '/data/vs1/vol1/a?op=rename')).json.error).toMatchObject({ code: FilerErrorCodes.INVALID_REQUEST, target: 'to' });
  });
});

describe('confinement', () => {
  it('refuses `..` above the share, NUL, and drive paths', async () => {
    for (const p of ['%2E%2E%5C%2E%2E%5Cetc%5Cpasswd', 'a/..%2F..%2F..%2Fx', 'a%00b', 'C:/Windows/x', `${'n'.repeat(300)}.txt`, `${'d/'.repeat(1600)}x`]) {
      const r = await srv.call('GET', `/data/vs1/vol1/${p}?op=open`);
      expect(r.status, p).toBe(400);
      expect(r.json.error.code, p).toBe(FilerErrorCodes.INVALID_PATH);
    }
    // `..` inside a share that is a folder of its volume cannot climb out of the share either.
    put('vs1', 'outside-share.txt', 'x');
    expect((await srv.call('GET', '/data/vs1/strict/..%5Coutside-share.txt?op=open')).json.error.code).toBe(FilerErrorCodes.INVALID_PATH);
  });

  it('refuses a symlink that leads outside the volume, for open, read and write', async () => {
    symlinkSync('/etc', path.join(root('vs1'), 'etc-link'));
    symlinkSync('/etc/hostname', path.join(root('vs1'), 'host-link'));
    for (const [m, p] of [['GET', 'etc-link/hostname?op=open'], ['GET', 'host-link?op=read'], ['PUT', 'host-link'], ['PUT', 'etc-link/new']] as const) {
      const r = await srv.call(m, `/data/vs1/vol1/${p}`, m === 'PUT' ? 'x' : undefined);
      expect(r.status, p).toBe(403);
      expect(r.json.error.code, p).toBe(FilerErrorCodes.PATH_ESCAPES);
    }
  });

  it('judges a stream name as its file (SPEC §3): `eicar2.com:x` is `eicar2.com`', async () => {
    put('vs1', 'eicar2.com', kEicar);
    const r = await srv.call('GET', '/data/vs1/vol1/eicar2.com:zone.identifier?op=open');
    expect(r.status).toBe(403);
    expect(r.json.error.message).toContain('\\vol1\\eicar2.com`');
  });
});

describe('read, write, close, rename, delete, list', () => {
  it('reads the bytes of an allowed file and refuses those of an infected one', async () => {
    put('vs1', 'notes.txt', 'some notes');
    const r = await srv.call('GET', '/data/vs1/vol1/notes.txt?op=read');
    expect(r.status).toBe(200);
    expect(r.text).toBe('some notes');
    expect(r.headers['x-avscan-reason']).toBe('clean');
    expect(r.headers['x-avscan-read-reason']).toBe('not-triggered'); // standard profiles scan on open, not on read
    put('vs1', 'bad-read.com', kEicar);
    expect((await srv.call('GET', '/data/vs1/vol1/bad-read.com?op=read')).status).toBe(403);
  });

  it('scans on read in a strict share', async () => {
    put('vs1', 'st/r.txt', 'hello');
    const r = await srv.call('GET', '/data/vs1/strict/r.txt?op=read');
    expect(r.status).toBe(200);
    expect(r.headers['x-avscan-reason']).toBe('clean');
    expect(r.headers['x-avscan-read-reason']).toBe('scan-current'); // the open scanned it; the read found it current
  });

  it('writes a new file, then a close after write queues its scan; the infected file is quarantined', async () => {
    const w = await srv.call('PUT', '/data/vs1/vol1/up/dropped.exe', kEicar);
    expect(w.status).toBe(201);
    expect(w.json).toMatchObject({ path: '\\vol1\\up\\dropped.exe', bytes: kEicar.length, created: true });
    const c = await srv.call('POST', '/data/vs1/vol1/up/dropped.exe?op=close&wrote=1');
    expect(c.json).toMatchObject({ allow: true, reason: 'scan-queued', trigger: 'async' });
    await srv.rt.engine('vs1').drain();
    expect((await srv.call('GET', '/data/vs1/vol1/up/dropped.exe?op=open')).json.error.reason).toBe('quarantined');
    // Replacing it (delete, create) clears it: the new file is scanned.
    expect((await srv.call('DELETE', '/data/vs1/vol1/up/dropped.exe')).status).toBe(200);
    expect((await srv.call('PUT', '/data/vs1/vol1/up/dropped.exe', 'fixed')).status).toBe(201);
    expect((await srv.call('GET', '/data/vs1/vol1/up/dropped.exe?op=open')).json.reason).toBe('clean');
    expect((await srv.call('POST', '/data/vs1/vol1/up/dropped.exe?op=close')).json.reason).toBe('not-triggered');
  });

  it('renames a file (attributes follow, the new name is scanned per profile) and refuses a collision', async () => {
    put('vs1', 'old.txt', 'content');
    expect((await srv.call('GET', '/data/vs1/vol1/old.txt?op=open')).json.reason).toBe('clean');
    await srv.rt.engine('vs1').drain();
    const r = await srv.call('POST', `/data/vs1/vol1/old.txt?op=rename&to=${encodeURIComponent('dir/new.txt')}`);
    expect(r.status).toBe(200);
    // rename(2) changes the ctime, so the change stamp: the new name is scanned again (standard: sync).
    expect(r.json).toMatchObject({ path: '\\vol1\\dir\\new.txt', from: '\\vol1\\old.txt', reason: 'clean', trigger: 'sync' });
    await srv.rt.engine('vs1').drain();
    expect(srv.rt.store.getAttributesByPath('vs1/vol1', '/vol1/dir/new.txt')).toMatchObject({ scanResult: 'clean' });
    expect(srv.rt.store.getAttributesByPath('vs1/vol1', '/vol1/old.txt')).toBeUndefined();
    put('vs1', 'other.txt', 'x');
    expect((await srv.call('POST', '/data/vs1/vol1/other.txt?op=rename&to=dir/new.txt')).json.error.code).toBe(FilerErrorCodes.EXISTS);
    expect((await srv.call('POST', '/data/vs1/vol1/other.txt?op=rename&to=../../x')).json.error.code).toBe(FilerErrorCodes.INVALID_PATH);
  });

  it('deletes a file and its attributes', async () => {
    put('vs1', 'gone.txt', 'bye');
    const opened = await srv.call('GET', '/data/vs1/vol1/gone.txt?op=open');
    expect(opened.json.reason).toBe('clean');
    await srv.rt.engine('vs1').drain();
    expect(srv.rt.store.getAttributesByPath('vs1/vol1', '/vol1/gone.txt')).toBeDefined();
    expect((await srv.call('DELETE', '/data/vs1/vol1/gone.txt')).json).toEqual({ path: '\\vol1\\gone.txt', deleted: true });
    expect(srv.rt.store.getAttributesByPath('vs1/vol1', '/vol1/gone.txt')).toBeUndefined();
    expect((await srv.call('DELETE', '/data/vs1/vol1/gone.txt')).status).toBe(404);
  });

  it('lists a folder (symlinks listed, not followed) and the share root', async () => {
    put('vs1', 'lst/b.txt', 'bb');
    put('vs1', 'lst/a/x', 'x');
    const r = await srv.call('GET', '/data/vs1/vol1/lst?op=list');
    expect(r.json).toMatchObject({ path: '\\vol1\\lst', num_records: 2 });
    expect(r.json.records.map((e: { name: string; type: string }) => [e.name, e.type])).toEqual([['a', 'directory'], ['b.txt', 'file']]);
    const top = await srv.call('GET', '/data/vs1/vol1?op=list');
    expect(top.json.records.map((e: { name: string }) => e.name)).toContain('lst');
    expect(top.json.records.find((e: { name: string }) => e.name === 'etc-link')?.type ?? 'symlink').toBe('symlink');
    expect((await srv.call('GET', '/data/vs1/vol1/lst/b.txt?op=list')).json.error.code).toBe(FilerErrorCodes.WRONG_TYPE);
  });

  it('refuses writes, renames and deletes on a read-only volume, and renames and deletes on a WORM one', async () => {
    put('vs1', 'ro.txt', kEicar, 'vol_ro');
    expect((await srv.call('GET', '/data/vs1/vol_ro/ro.txt?op=open')).json).toMatchObject({ allow: true, reason: 'readonly-volume' });
    for (const [m, p] of [['PUT', 'ro.txt'], ['PUT', 'new.txt'], ['DELETE', 'ro.txt'], ['POST', 'ro.txt?op=rename&to=r2.txt'], ['GET', 'ro.txt?op=open&mode=write']] as const) {
      const r = await srv.call(m, `/data/vs1/vol_ro/${p}`, m === 'PUT' ? 'x' : undefined);
      expect(r.status, `${m} ${p}`).toBe(403);
      expect(r.json.error.code, `${m} ${p}`).toBe(FilerErrorCodes.READONLY_VOLUME);
    }
    expect((await srv.call('PUT', '/data/vs1/vol_worm/w.txt', 'x')).status).toBe(201);
    expect((await srv.call('DELETE', '/data/vs1/vol_worm/w.txt')).json.error.code).toBe(FilerErrorCodes.READONLY_VOLUME);
  });

  it('scans one file now on request, even when it is scan current (individual-file scan)', async () => {
    put('vs1', 'again.txt', 'same');
    expect((await srv.call('GET', '/data/vs1/vol1/again.txt?op=open')).json.reason).toBe('clean');
    await srv.rt.engine('vs1').drain();
    const before = srv.rt.engine('vs1').metrics().scansStarted;
    const r = await srv.call('POST', '/data/vs1/vol1/again.txt?op=scan');
    expect(r.json).toMatchObject({ result: 'clean', reason: 'clean', allow: true });
    expect(srv.rt.engine('vs1').metrics().scansStarted).toBe(before + 1);
    put('vs1', 'skip.tmp', kEicar);
    expect((await srv.call('POST', '/data/vs1/vol1/skip.tmp?op=scan')).json).toMatchObject({ result: 'skipped_per_settings', reason: 'excluded-extension' });
    put('vs1', 'infected-now.com', kEicar);
    const inf = await srv.call('POST', '/data/vs1/vol1/infected-now.com?op=scan');
    expect(inf.status).toBe(200);
    expect(inf.json).toMatchObject({ result: 'infected', allow: false, verdict: { result: 'infected' } });
  });
});
