// Each trigger of each profile (SPEC §5), through the real engine: a sync trigger scans before it
// answers, an async one answers `scan-queued` and scans in the background, none does not scan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, triggerFor, type Operation } from '../src/index.js';
import { makeRig, type Rig } from './harness.js';

let rig: Rig;
beforeAll(async () => {
  rig = await makeRig();
});
afterAll(async () => {
  await rig.close();
});

const ops: Operation[] = ['open', 'read', 'close-after-write', 'close-no-write', 'rename'];
let n = 0;

describe('every profile × operation through the engine', () => {
  for (const profile of PROFILES) {
    for (const op of ops) {
      const expected = triggerFor(profile, op);
      it(`${profile} / ${op}: ${expected}`, async () => {
        rig.engine.setProfile(profile);
        const name = `p${n++}.docx`;
        const a = await rig.file(name, `content ${name}`);
        const before = rig.server.stats().scans;
        let answer;
        switch (op) {
          case 'open': answer = await rig.engine.open(a); break;
          case 'read': answer = await rig.engine.read(a); break;
          case 'close-after-write': answer = await rig.engine.close(a, { wrote: true }); break;
          case 'close-no-write': answer = await rig.engine.close(a, { wrote: false }); break;
          case 'rename': answer = await rig.engine.rename({ ...a, path: `\\vol1\\renamed-${name}` }, { from: a.path }); break;
        }
        expect(answer.trigger).toBe(expected);
        if (expected === 'sync') {
          expect(answer.reason).toBe('clean');
          expect(rig.server.stats().scans).toBe(before + 1);
        } else if (expected === 'async') {
          expect(answer).toMatchObject({ allow: true, reason: 'scan-queued' });
          await rig.engine.drain();
          expect(rig.server.stats().scans).toBe(before + 1);
        } else {
          expect(answer).toMatchObject({ allow: true, reason: 'not-triggered' });
          await rig.engine.drain();
          expect(rig.server.stats().scans).toBe(before);
        }
      });
    }
  }

  it("an access's own profile (its share's) overrides the engine's", async () => {
    rig.engine.setProfile('standard');
    const a = await rig.file('share-profile.docx', 'content of a file on a no-scan share');
    const before = rig.server.stats().scans;
    expect(await rig.engine.open({ ...a, profile: 'no-scan' })).toMatchObject({ allow: true, reason: 'not-triggered', trigger: 'none' });
    expect(await rig.engine.close({ ...a, profile: 'writes-only' }, { wrote: false })).toMatchObject({ reason: 'not-triggered' });
    expect(rig.server.stats().scans).toBe(before);
    rig.engine.setProfile('no-scan');
    expect(await rig.engine.open({ ...a, profile: 'strict' })).toMatchObject({ allow: true, reason: 'clean', trigger: 'sync' });
    expect(rig.engine.explain({ ...a, profile: 'no-scan' }, 'open').trigger).toBe('none');
    expect(() => rig.engine.explain({ ...a, profile: 'paranoid' as never }, 'open')).toThrow(/access.profile/);
    rig.engine.setProfile('standard');
  });

  it('an execute open under only_execute_access scans; a plain open does not', async () => {
    rig.engine.setProfile('standard');
    await rig.engine.setPolicy({ name: 'exec', scope: { only_execute_access: true } });
    const a = await rig.file('tool.exe', 'binary');
    expect(await rig.engine.open(a)).toMatchObject({ allow: true, reason: 'not-execute-access' });
    expect(await rig.engine.open({ ...a, execute: true })).toMatchObject({ allow: true, reason: 'clean' });
  });
});
