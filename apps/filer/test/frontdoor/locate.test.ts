// locate() keeps an index of volume roots and share folders per runtime: it must still see a volume or
// share added or removed at run time on the very next call, and keep the deepest-share rule.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRuntimeFixture } from '../helpers/builtin-runtime.js';
import { FilerErrorCodes, locate, type FilerRuntime, type ShareModel, type VolumeModel } from '../../src/index.js';

const fixture = builtinRuntimeFixture('avscan-locate-');
const tmp = fixture.tmp;

/** A runtime whose volumes and shares the test changes, as the management side may. */
function live(volumes: VolumeModel[], shares: ShareModel[]): FilerRuntime & { volumes: () => readonly VolumeModel[]; shares: () => readonly ShareModel[] } {
  return { ...fixture.rt, volumes: () => volumes, shares: () => shares };
}

function file(root: string, rel: string): string {
  const f = path.join(root, rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, 'x');
  return f;
}

describe('locate', () => {
  it('sees volumes and shares added or removed at once, whether the runtime replaces its arrays or changes them', () => {
    const vol1 = fixture.rt.volume('vs1', 'vol1')!;
    const root2 = path.join(tmp, 'elsewhere', 'vol2');
    const vol2: VolumeModel = { ...vol1, name: 'vol2', root: root2, storeKey: 'vs1/vol2' };
    const f = file(root2, 'pub/deep/a.txt');
    const volumes: VolumeModel[] = [vol1];
    const shares: ShareModel[] = [];
    let r = live(volumes, shares);
    expect(() => locate(r, f)).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
    volumes.push(vol2); // changed in place: another length
    expect(locate(r, f).resolved.volume.name).toBe('vol2');
    expect(locate(r, f).share).toBeUndefined();
    const pub: ShareModel = { name: 'pub', svm: 'vs1', volume: 'vol2', dir: 'pub', profile: 'no-scan' };
    const deep: ShareModel = { name: 'deep', svm: 'vs1', volume: 'vol2', dir: 'pub/deep/', profile: 'standard' };
    r = live(volumes, [pub]); // replaced
    expect(locate(r, f).share?.name).toBe('pub');
    r = live(volumes, [pub, deep]);
    expect(locate(r, f).share?.name).toBe('deep');
    expect(locate(r, file(root2, 'pub/b.txt')).share?.name).toBe('pub');
    // Another SVM's share on a volume of the same name does not count.
    r = live(volumes, [{ ...deep, svm: 'vs2' }]);
    expect(locate(r, f).share).toBeUndefined();
    r = live([vol1], []);
    expect(() => locate(r, f)).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
  });

  it('matches a volume by its configured root and by its realpath, the longest root first', () => {
    const vol1 = fixture.rt.volume('vs1', 'vol1')!;
    const real = path.join(tmp, 'real-vol3');
    mkdirSync(real, { recursive: true });
    const link = path.join(tmp, 'link-vol3');
    symlinkSync(real, link);
    const vol3: VolumeModel = { ...vol1, name: 'vol3', root: `${link}/`, storeKey: 'vs1/vol3' };
    // A volume nested in vol3's folder: the longer root wins for its files.
    const inner: VolumeModel = { ...vol1, name: 'inner', root: path.join(real, 'inner'), storeKey: 'vs1/inner' };
    const r = live([vol3, inner], []);
    const f = file(real, 'a.txt');
    expect(locate(r, f).resolved.volume.name).toBe('vol3');
    expect(locate(r, path.join(link, 'a.txt')).resolved.volume.name).toBe('vol3');
    expect(locate(r, file(real, 'inner/b.txt')).resolved.volume.name).toBe('inner');
    expect(locate(r, link).resolved.components).toEqual([]);
    expect(() => locate(r, `${real}x/a.txt`)).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
  });
});
