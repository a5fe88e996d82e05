// The volume watcher: changes made outside the emulator, seen through chokidar (inotify), reach the engine.
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, createStaticRuntime, resolveInVolume, watchVolumes, type StaticRuntime, type WatchEvent, type WatcherHandle } from '../../src/index.js';
import { kEicar } from '../support/https.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-watch-'));
let rt: StaticRuntime;
let watcher: WatcherHandle;
const events: WatchEvent[] = [];
const waiters: Array<{ pred: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void }> = [];
const errors: unknown[] = [];

/** Resolves with the first event from index `since` on (already seen or to come) that matches. */
function nextEvent(pred: (e: WatchEvent) => boolean, since = 0): Promise<WatchEvent> {
  const seen = events.slice(since).find(pred);
  if (seen !== undefined) return Promise.resolve(seen);
  return new Promise((resolve) => waiters.push({ pred, resolve }));
}

beforeAll(async () => {
  rt = await createStaticRuntime({
    stateDir: dir,
    svms: [{
      name: 'vs1', volumes: [{ name: 'vol1' }],
      shares: [{ name: 'vol1', volume: 'vol1' }, { name: 'drop', volume: 'vol1', dir: 'drop', profile: 'writes-only' }, { name: 'raw', volume: 'vol1', dir: 'raw', profile: 'no-scan' }],
      scanner_pools: [{ name: 'p1', servers: ['builtin:'] }],
    }, {
      name: 'vs2', volumes: [{ name: 'vol1' }], shares: [{ name: 'sub', volume: 'vol1', dir: 'shared' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }],
    }],
  });
  watcher = await watchVolumes(rt, {
    settleMs: 20, renameWindowMs: 300,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) {
        if (!w.pred(e)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    },
    onError: (err) => errors.push(err),
  });
});
afterAll(async () => {
  await watcher?.close();
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

const vol = (svm = 'vs1') => rt.volume(svm, 'vol1')!;
const file = (rel: string, svm = 'vs1') => path.join(vol(svm).root, rel);
const access = (rel: string, svm = 'vs1') => accessOf(resolveInVolume(vol(svm), rel), { profile: 'standard' });

describe('volume watcher', () => {
  it('an out-of-band rewrite makes a scan-current file non-current and queues its scan (close after write)', async () => {
    writeFileSync(file('doc.txt'), 'clean words');
    expect(await rt.engine('vs1').open(access('doc.txt'))).toMatchObject({ reason: 'clean' });
    await rt.engine('vs1').drain();
    expect(await rt.engine('vs1').open(access('doc.txt'))).toMatchObject({ reason: 'scan-current' });
    const since = events.length;
    writeFileSync(file('doc.txt'), kEicar); // same inode: the file keeps its identity
    const e = await nextEvent((x) => x.path === '\\vol1\\doc.txt' && x.kind === 'changed', since);
    expect(e.answer).toMatchObject({ allow: true, reason: 'scan-queued', trigger: 'async' });
    await rt.engine('vs1').drain();
    const a = access('doc.txt');
    expect(rt.store.getAttributes({ volume: 'vs1/vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'infected', quarantined: true });
    expect(await rt.engine('vs1').open(a)).toMatchObject({ allow: false, reason: 'quarantined' });
  });

  it('uses the profile of the share exposing the file: writes-only scans, no-scan does not', async () => {
    mkdirSync(file('drop'), { recursive: true });
    mkdirSync(file('raw'), { recursive: true });
    writeFileSync(file('drop/in.exe'), kEicar);
    writeFileSync(file('raw/in.exe'), kEicar);
    expect((await nextEvent((x) => x.path === '\\vol1\\drop\\in.exe')).answer).toMatchObject({ reason: 'scan-queued' });
    expect((await nextEvent((x) => x.path === '\\vol1\\raw\\in.exe')).answer).toMatchObject({ reason: 'not-triggered' });
    await rt.engine('vs1').drain();
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/drop/in.exe')).toMatchObject({ scanResult: 'infected' });
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/raw/in.exe')).toBeUndefined();
  });

  it('a file no share exposes is seen but not scanned; each SVM watches its own volumes', async () => {
    writeFileSync(file('hidden.exe', 'vs2'), kEicar);
    const e = await nextEvent((x) => x.svm === 'vs2' && x.path === '\\vol1\\hidden.exe');
    expect(e).toMatchObject({ kind: 'changed', volume: 'vol1' });
    expect(e.answer).toBeUndefined();
  });

  it('a delete forgets the attributes', async () => {
    writeFileSync(file('tmp1.doc'), 'x');
    await rt.engine('vs1').open(access('tmp1.doc'));
    await rt.engine('vs1').drain();
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/tmp1.doc')).toBeDefined();
    unlinkSync(file('tmp1.doc'));
    await nextEvent((x) => x.kind === 'deleted' && x.path === '\\vol1\\tmp1.doc');
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/tmp1.doc')).toBeUndefined();
  });

  it('a rename moves the attributes to the new name (quarantine follows the file)', async () => {
    writeFileSync(file('bad.com'), kEicar);
    expect(await rt.engine('vs1').open(access('bad.com'))).toMatchObject({ reason: 'infected' });
    await rt.engine('vs1').drain();
    const before = (await rt.store.getAttributesByPath('vs1/vol1', '/vol1/bad.com'))!;
    mkdirSync(file('moved'), { recursive: true });
    renameSync(file('bad.com'), file('moved/renamed.com'));
    const e = await nextEvent((x) => x.kind === 'renamed' && x.path === '\\vol1\\moved\\renamed.com');
    expect(e.from).toBe('\\vol1\\bad.com');
    // Denied either way: from the quarantine flag, or (engines that treat a changed stamp as new content;
    // rename(2) moves the ctime) by the rename trigger's scan.
    expect(e.answer).toMatchObject({ allow: false, reason: expect.stringMatching(/^(quarantined|infected)$/) });
    await rt.engine('vs1').drain();
    expect(await rt.store.getAttributesByPath('vs1/vol1', '/vol1/moved/renamed.com')).toMatchObject({ fileId: before.fileId, quarantined: true });
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/bad.com')).toBeUndefined();
    expect(events.some((x) => x.kind === 'deleted' && x.path === '\\vol1\\bad.com')).toBe(false);
  });

  it('a folder rename moves every row below it, without rescanning its files', async () => {
    mkdirSync(file('proj/sub'), { recursive: true });
    writeFileSync(file('proj/sub/a.doc'), 'a');
    writeFileSync(file('proj/b.doc'), 'b');
    for (const rel of ['proj/sub/a.doc', 'proj/b.doc']) expect(await rt.engine('vs1').open(access(rel))).toMatchObject({ reason: 'clean' });
    await rt.engine('vs1').drain();
    const scans = rt.engine('vs1').metrics().scansStarted;
    const since = events.length;
    renameSync(file('proj'), file('proj2'));
    const e = await nextEvent((x) => x.kind === 'renamed' && x.path === '\\vol1\\proj2', since);
    expect(e.from).toBe('\\vol1\\proj');
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/proj2/sub/a.doc')).toMatchObject({ scanResult: 'clean' });
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/proj2/b.doc')).toMatchObject({ scanResult: 'clean' });
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/proj/b.doc')).toBeUndefined();
    // Each file is then handled as changed: still scan current, so nothing is scanned again.
    expect((await nextEvent((x) => x.path === '\\vol1\\proj2\\sub\\a.doc', since)).answer).toMatchObject({ reason: 'scan-current' });
    expect(rt.engine('vs1').metrics().scansStarted).toBe(scans);
  });

  it('files in a folder moved in from outside the volume are seen', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-outside-'));
    mkdirSync(path.join(outside, 'pkg'));
    writeFileSync(path.join(outside, 'pkg', 'payload.exe'), kEicar);
    const since = events.length;
    renameSync(path.join(outside, 'pkg'), file('drop/pkg'));
    expect((await nextEvent((x) => x.path === '\\vol1\\drop\\pkg\\payload.exe', since)).answer).toMatchObject({ reason: 'scan-queued' });
    await rt.engine('vs1').drain();
    expect(rt.store.getAttributesByPath('vs1/vol1', '/vol1/drop/pkg/payload.exe')).toMatchObject({ scanResult: 'infected' });
    rmSync(outside, { recursive: true, force: true });
    expect(errors).toEqual([]);
  });
});
