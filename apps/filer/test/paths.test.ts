// Path confinement: nothing a client sends can name a file outside its volume.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accessOf, FilerErrorCodes, pathComponents, resolveInVolume, type VolumeModel } from '../src/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-paths-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const root = path.join(tmp, 'vol1');
mkdirSync(path.join(root, 'docs'), { recursive: true });
writeFileSync(path.join(root, 'docs', 'a.txt'), 'hello');
writeFileSync(path.join(tmp, 'secret.txt'), 'outside');
symlinkSync(path.join(tmp, 'secret.txt'), path.join(root, 'link-out'));
symlinkSync(tmp, path.join(root, 'dir-out'));
symlinkSync(path.join(tmp, 'nowhere'), path.join(root, 'dangling-out'));
symlinkSync(path.join(root, 'docs', 'a.txt'), path.join(root, 'link-in'));
const vol: VolumeModel = { name: 'vol1', svm: 'vs1', root, readonly: false, worm: false, storeKey: 'vs1/vol1' };

describe('pathComponents (SPEC §3 normalisation)', () => {
  it.each([
    ['docs/a.txt', ['docs', 'a.txt']],
    ['\\docs\\a.txt', ['docs', 'a.txt']],
    ['//docs///a.txt', null],
    ['docs/./x/../a.txt', ['docs', 'a.txt']],
    ['docs/a.txt:Zone.Identifier', ['docs', 'a.txt']],
    ['docs/evil.exe. . ', ['docs', 'evil.exe']],
    ['', []],
  ])('%j → %j', (raw, want) => {
    if (want === null) expect(() => pathComponents(raw)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_PATH }));
    else expect(pathComponents(raw)).toEqual(want);
  });

  it.each([
    ['../etc/passwd', 'climbs'],
    ['docs/../../x', 'climbs'],
    ['a\0b', 'NUL'],
    ['C:\\Windows\\x', 'drive'],
    ['\\\\?\\C:\\x', 'drive'],
    ['docs:s/a.txt', 'stream'],
    ['docs/...', 'empty name'],
    ['docs/:s', 'empty name'],
    [`${'n'.repeat(256)}`, 'longer than 255'],
    [`${'d/'.repeat(1600)}`, 'longer than 3072'],
  ])('refuses %j (%s)', (raw, why) => {
    expect(() => pathComponents(raw)).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_PATH, message: expect.stringContaining(why) }));
  });

  it('a 255-character name is fine', () => {
    expect(pathComponents('n'.repeat(255))).toEqual(['n'.repeat(255)]);
  });
});

describe('resolveInVolume', () => {
  it('resolves inside the volume, with the SVM path ONTAP policies judge', () => {
    const r = resolveInVolume(vol, 'a.txt', 'docs');
    expect(r.file).toBe(path.join(root, 'docs', 'a.txt'));
    expect(r.svmPath).toBe('\\vol1\\docs\\a.txt');
    expect(resolveInVolume(vol, 'new/file.bin').file).toBe(path.join(root, 'new', 'file.bin'));
    expect(resolveInVolume(vol, '').svmPath).toBe('\\vol1');
  });

  it.each(['link-out', 'dir-out/secret.txt', 'dir-out/new.txt', 'dangling-out'])('refuses %j: a symlink leading outside', (rel) => {
    expect(() => resolveInVolume(vol, rel)).toThrow(expect.objectContaining({ code: FilerErrorCodes.PATH_ESCAPES }));
  });

  it('follows a symlink that stays inside', () => {
    expect(resolveInVolume(vol, 'link-in').file).toBe(path.join(root, 'link-in'));
  });
});

describe('accessOf', () => {
  it('builds the engine access from the live file', () => {
    const a = accessOf(resolveInVolume(vol, 'docs/a.txt'), { profile: 'strict', execute: true });
    expect(a).toMatchObject({ volume: 'vs1/vol1', path: '\\vol1\\docs\\a.txt', size: 5, profile: 'strict', execute: true, readonlyVolume: false });
    expect(a.changeStamp).toMatch(/^5:\d+:\d+:\d+$/);
  });

  it('a missing file or a folder is ERR_FILER_NOT_FOUND', () => {
    expect(() => accessOf(resolveInVolume(vol, 'docs/none.txt'))).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
    expect(() => accessOf(resolveInVolume(vol, 'docs'))).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
  });
});

describe('resolveInVolume: paths already proven', () => {
  it('a folder swapped for a symlink out after a path was proven is refused again', () => {
    mkdirSync(path.join(root, 'swap'), { recursive: true });
    writeFileSync(path.join(root, 'swap', 'secret.txt'), 'inside');
    const first = resolveInVolume(vol, 'swap/secret.txt');
    expect(accessOf(first).size).toBe(6);
    expect(resolveInVolume(vol, 'swap/secret.txt').stat?.ino).toBe(first.stat?.ino); // proven: no new walk needed
    renameSync(path.join(root, 'swap'), path.join(root, 'swap-old'));
    symlinkSync(tmp, path.join(root, 'swap')); // tmp/secret.txt exists outside the volume
    expect(() => resolveInVolume(vol, 'swap/secret.txt')).toThrow(expect.objectContaining({ code: FilerErrorCodes.PATH_ESCAPES }));
  });

  it('a new file in a proven folder: a symlink name, or the folder swapped or moved out, is refused', () => {
    mkdirSync(path.join(root, 'fold'), { recursive: true });
    writeFileSync(path.join(root, 'fold', 'one.txt'), '1');
    writeFileSync(path.join(root, 'fold', 'two.txt'), '22');
    expect(resolveInVolume(vol, 'fold/one.txt').stat?.size).toBe(1n); // walks, proves the folder
    expect(resolveInVolume(vol, 'fold/two.txt').stat?.size).toBe(2n); // a new name in the proven folder
    // A symlink name in the folder (pointing out) is never taken for the file it names.
    symlinkSync(path.join(tmp, 'secret.txt'), path.join(root, 'fold', 'three.txt'));
    expect(() => resolveInVolume(vol, 'fold/three.txt')).toThrow(expect.objectContaining({ code: FilerErrorCodes.PATH_ESCAPES }));
    expect(resolveInVolume(vol, 'fold/two.txt').stat?.size).toBe(2n);
    // The folder moved out of the volume (its ctime changes) and a symlink left at its path: a name
    // not resolved before is walked again and refused. (Names already proven keep their file identity
    // through a move of their folder — the file cache's known limit, same as before the folder cache.)
    renameSync(path.join(root, 'fold'), path.join(tmp, 'fold-out'));
    writeFileSync(path.join(tmp, 'fold-out', 'four.txt'), '4444');
    symlinkSync(path.join(tmp, 'fold-out'), path.join(root, 'fold'));
    expect(() => resolveInVolume(vol, 'fold/four.txt')).toThrow(expect.objectContaining({ code: FilerErrorCodes.PATH_ESCAPES }));
  });

  it('a proven folder swapped for a symlink to another folder outside: its names are refused', () => {
    mkdirSync(path.join(root, 'fold2'), { recursive: true });
    writeFileSync(path.join(root, 'fold2', 'a.txt'), 'a');
    expect(resolveInVolume(vol, 'fold2/a.txt').stat?.size).toBe(1n);
    mkdirSync(path.join(tmp, 'elsewhere'), { recursive: true });
    writeFileSync(path.join(tmp, 'elsewhere', 'b.txt'), 'bb');
    renameSync(path.join(root, 'fold2'), path.join(root, 'fold2-old'));
    symlinkSync(path.join(tmp, 'elsewhere'), path.join(root, 'fold2'));
    expect(() => resolveInVolume(vol, 'fold2/b.txt')).toThrow(expect.objectContaining({ code: FilerErrorCodes.PATH_ESCAPES }));
  });

  it('the access is built from the stat read while resolving', () => {
    writeFileSync(path.join(root, 'docs', 'b.txt'), 'abc');
    const r = resolveInVolume(vol, 'docs/b.txt');
    expect(accessOf(r)).toMatchObject({ size: 3, fileId: String(r.stat?.ino) });
  });
});
