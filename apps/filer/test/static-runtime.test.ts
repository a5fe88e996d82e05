// The static runtime: one store, one dispatcher and engine per SVM, real files, the built-in scanner.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, createStaticRuntime, FilerErrorCodes, resolveInVolume, type StaticRuntime } from '../src/index.js';

const kEicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-rt-'));
let rt: StaticRuntime;
beforeAll(async () => {
  rt = await createStaticRuntime({
    stateDir: tmp,
    svms: [
      { name: 'vs1', volumes: [{ name: 'vol1' }, { name: 'vol_ro', readonly: true }], shares: [{ name: 'Docs', volume: 'vol1', dir: 'docs', profile: 'strict' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] },
      { name: 'vs2', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }], policy: { name: 'p', scope: { exclude_extensions: ['exe'] } } },
    ],
  });
});
afterAll(async () => {
  await rt?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('createStaticRuntime', () => {
  it('lays volumes out under <state>/volumes/<svm>/<volume> and looks shares up case-insensitively', () => {
    expect(rt.volume('vs1', 'vol1')?.root).toBe(path.join(tmp, 'volumes', 'vs1', 'vol1'));
    expect(rt.volume('vs1', 'vol_ro')?.readonly).toBe(true);
    expect(rt.share('vs1', 'DOCS')).toMatchObject({ volume: 'vol1', dir: 'docs', profile: 'strict' });
    expect(rt.share('vs2', 'vol1')).toMatchObject({ dir: '', profile: 'standard' });
    expect(rt.svms().map((s) => s.name)).toEqual(['vs1', 'vs2']);
    expect(() => rt.engine('vs9')).toThrow(expect.objectContaining({ code: FilerErrorCodes.NOT_FOUND }));
  });

  it('each SVM scans with its own policy; same-named volumes of two SVMs keep apart', async () => {
    for (const svm of ['vs1', 'vs2']) writeFileSync(path.join(rt.volume(svm, 'vol1')!.root, 'setup.exe'), kEicar);
    const a1 = accessOf(resolveInVolume(rt.volume('vs1', 'vol1')!, 'setup.exe'));
    const a2 = accessOf(resolveInVolume(rt.volume('vs2', 'vol1')!, 'setup.exe'));
    expect(await rt.engine('vs1').open(a1)).toMatchObject({ allow: false, reason: 'infected' });
    expect(await rt.engine('vs2').open(a2)).toMatchObject({ allow: true, reason: 'excluded-extension' });
    await rt.engine('vs1').drain();
    expect((await rt.store.getAttributes({ volume: 'vs1/vol1', fileId: a1.fileId }))?.scanResult).toBe('infected');
    expect(rt.store.getAttributes({ volume: 'vs2/vol1', fileId: a2.fileId })).toBeUndefined();
  });

  it('refuses a duplicate SVM or a share on an unknown volume', async () => {
    const base = { volumes: [{ name: 'v' }], scanner_pools: [{ name: 'p', servers: ['builtin:'] }] };
    await expect(createStaticRuntime({ stateDir: path.join(tmp, 'x'), svms: [{ name: 'a', ...base }, { name: 'a', ...base }] })).rejects.toMatchObject({ code: FilerErrorCodes.INVALID_CONFIG });
    await expect(createStaticRuntime({ stateDir: path.join(tmp, 'y'), svms: [{ name: 'a', ...base, shares: [{ name: 's', volume: 'nope' }] }] })).rejects.toMatchObject({ code: FilerErrorCodes.INVALID_CONFIG, target: 'shares.volume' });
  });
});
