// The audit configuration API as functions: the seed's fields, POST defaults, and every seed error
// code this emulator can produce.
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditCodes, createAuditService, FilerErrorCodes, parseIsoDuration, type AuditService } from '../../src/index.js';
import { makeRig, openedPerTest, type Rig } from '../jobs/helpers.js';

const t = openedPerTest();

async function setup(): Promise<{ r: Rig; a: AuditService; uuid: string }> {
  t.rig = await makeRig({ svm: { volumes: [{ name: 'vol1' }, { name: 'vol_ro', readonly: true }, { name: 'vol_worm', worm: true }] } });
  t.rig.put('vol1', 'audit/.keep', '');
  t.rig.put('vol1', 'afile', 'x');
  mkdirSync(path.join(t.rig.rt.volume('vs1', 'vol1')!.root, 'real'), { recursive: true });
  symlinkSync(path.join(t.rig.rt.volume('vs1', 'vol1')!.root, 'real'), path.join(t.rig.rt.volume('vs1', 'vol1')!.root, 'link'));
  t.audit = createAuditService(t.rig.rt);
  return { r: t.rig, a: t.audit, uuid: t.rig.rt.svm('vs1')!.uuid };
}

const code = (ontapCode: number, extra: object = {}) => expect.objectContaining({ ontapCode, ...extra });

describe('audit configuration', () => {
  it('POST applies the seed defaults and GET returns the object; dotted keys are accepted', async () => {
    const { a, uuid } = await setup();
    const c = a.create(uuid, { log_path: '/vol1/audit' });
    expect(c).toEqual({
      svm: { uuid, name: 'vs1' },
      enabled: true,
      events: { data: true, management: false },
      log: { format: 'json', rotation: { size: 104857600 }, retention: { count: 0, duration: 'PT0S' } },
      log_path: '/vol1/audit',
    });
    expect(a.get(uuid)).toEqual(c);
    const p = a.patch(uuid, { 'events.management': true, 'log.retention.count': 10, 'log.rotation.size': 2048000 });
    expect(p).toMatchObject({ events: { data: true, management: true }, log: { rotation: { size: 2048000 }, retention: { count: 10, duration: 'PT0S' } } });
    // The seed's second example: a schedule and a duration.
    const q = a.patch(uuid, { log: { rotation: { schedule: { minutes: [10, 15, 30, 45, 59], hours: [0, 1, 6, 12, 18, 23], weekdays: [0, 2, 5], days: [1, 5, 10, 15], months: [0] } }, retention: { count: 0, duration: 'P4DT12H30M5S' } } });
    expect(q.log.retention).toEqual({ count: 0, duration: 'P4DT12H30M5S' });
    expect(q.log.rotation.schedule).toMatchObject({ months: [0] });
    expect(a.list({ 'events.management': true }).map((x) => x.svm.name)).toEqual(['vs1']);
    expect(a.list({ enabled: false })).toEqual([]);
    expect(parseIsoDuration('P4DT12H30M5S')).toBe(((4 * 24 + 12) * 3600 + 30 * 60 + 5) * 1000);
    a.patch(uuid, { enabled: false });
    a.delete(uuid);
    expect(() => a.get(uuid)).toThrow(code(AuditCodes.NOT_FOUND, { code: FilerErrorCodes.AUDIT_NOT_FOUND }));
  });

  it('answers every applicable seed error code', async () => {
    const { a, uuid } = await setup();
    const post = (body: object) => () => a.create(uuid, body);
    const bad = FilerErrorCodes.AUDIT_INVALID;
    expect(post({})).toThrow(code(140902459, { code: bad, target: 'log_path' }));
    expect(post({ log_path: '' })).toThrow(code(140902459));
    expect(post({ log_path: '/vol1/nope' })).toThrow(code(140902456));
    expect(post({ log_path: '/nosuchvol/x' })).toThrow(code(140902456));
    expect(post({ log_path: '/vol1/afile' })).toThrow(code(140902457));
    expect(post({ log_path: 'vol1/audit' })).toThrow(code(140902458));
    expect(post({ log_path: '/vol1/../vol1/audit' })).toThrow(code(140902458));
    expect(post({ log_path: '/vol1//audit' })).toThrow(code(140902458));
    expect(post({ log_path: '/vol1/audit', log: { rotation: { size: 1024 * 1024 - 1 } } })).toThrow(code(140902460, { target: 'log.rotation.size' }));
    expect(post({ log_path: '/vol1/link' })).toThrow(code(140902461));
    expect(post({ log_path: `/vol1/${'a'.repeat(1100)}` })).toThrow(code(140902470));
    expect(post({ log_path: '/vol_ro' })).toThrow(code(140902471));
    expect(post({ log_path: '/' })).toThrow(code(140902472));
    expect(post({ log_path: '/vol_worm' })).toThrow(code(140902474));
    expect(post({ log_path: '/vol1/audit', bogus: 1 })).toThrow(code(9699407, { target: 'bogus' }));
    expect(post({ log_path: '/vol1/audit', log: { rotation: { now: true } } })).toThrow(code(9699407));
    expect(post({ log_path: '/vol1/audit', log: { retention: { count: 3, duration: 'P1D' } } })).toThrow(code(140902401, { target: 'log.retention' }));
    expect(post({ log_path: '/vol1/audit', log: { retention: { duration: 'one day' } } })).toThrow(code(140902401));
    expect(post({ log_path: '/vol1/audit', log: { rotation: { schedule: { hours: [1] } } } })).toThrow(code(140902401));
    expect(post({ log_path: '/vol1/audit', log: { rotation: { schedule: { minutes: [61] } } } })).toThrow(code(140902401));
    expect(post({ log_path: '/vol1/audit', log: { format: 'xml' } })).toThrow(code(140902401));
    expect(post({ log_path: '/vol1/audit', enabled: 'yes' })).toThrow(code(140902401));
    expect(post({ log_path: '/vol1/audit', svm: { uuid: 'other' } })).toThrow(code(9699340));
    expect(() => a.create('no-such-uuid', { log_path: '/vol1/audit' })).toThrow(code(9699340, { code: FilerErrorCodes.NOT_FOUND }));
    expect(() => a.patch(uuid, { enabled: false })).toThrow(code(140902415, { code: FilerErrorCodes.AUDIT_NOT_FOUND }));
    expect(() => a.rotate(uuid)).toThrow(code(140902490, { code: FilerErrorCodes.AUDIT_NOT_FOUND }));
    expect(() => a.delete(uuid)).toThrow(code(4));

    a.create(uuid, { log_path: '/vol1/audit' });
    expect(post({ log_path: '/vol1/audit' })).toThrow(code(140902402, { code: FilerErrorCodes.AUDIT_EXISTS }));
    expect(() => a.patch(uuid, { log: { rotation: { size: 10 } } })).toThrow(code(140902460));
    expect(() => a.patch(uuid, { log: { retention: { count: -1 } } })).toThrow(code(140902416));
    expect(() => a.delete(uuid)).toThrow(code(140902421, { code: FilerErrorCodes.AUDIT_STATE }));
    a.patch(uuid, { enabled: false });
    expect(() => a.rotate(uuid)).toThrow(code(140902492, { code: FilerErrorCodes.AUDIT_STATE }));
    expect(() => a.patch(uuid, { log: { rotation: { now: true } } })).toThrow(code(140902492));
    a.patch(uuid, { enabled: true });
    expect(() => a.delete(uuid, { force: true })).not.toThrow();
  });
});
