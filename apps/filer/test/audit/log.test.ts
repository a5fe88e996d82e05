// The audit log: which accesses become data events, management events, JSON lines written from the
// committed events, rotation by size, by schedule (fake clock) and now, retention by count and age,
// recovery of a torn last line.
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessOf, createAuditService, kActiveLog, listArchives, openAppDb, resolveInVolume, AuditLogWriter, type AuditService } from '../../src/index.js';
import { kEicar, makeRig, openedPerTest, type Rig } from '../jobs/helpers.js';

const t = openedPerTest();
afterEach(() => {
  vi.useRealTimers();
});

function lines(dir: string): Array<Record<string, unknown>> {
  const files = [...listArchives(dir, 'vs1').map((a) => a.name), kActiveLog].filter((f) => readdirSync(dir).includes(f));
  return files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>));
}

async function setup(policy?: unknown): Promise<{ r: Rig; a: AuditService; uuid: string; dir: string }> {
  t.rig = await makeRig(policy === undefined ? {} : { svm: { policy } });
  t.rig.put('vol2', 'audit/.keep', '');
  t.audit = createAuditService(t.rig.rt, { pollMs: 60_000 }).start();
  return { r: t.rig, a: t.audit, uuid: t.rig.rt.svm('vs1')!.uuid, dir: path.join(t.rig.rt.volume('vs1', 'vol2')!.root, 'audit') };
}

describe('events', () => {
  it('records denies, infected verdicts and unscanned-allowed accesses with decision id and policy revision; not clean opens', async () => {
    const { r, a, uuid, dir } = await setup({ name: 'p', scope: { max_file_size: 1024 } });
    a.create(uuid, { log_path: '/vol2/audit', events: { data: true, management: true } });
    const vol = r.rt.volume('vs1', 'vol1')!;
    r.put('vol1', 'clean.txt', 'fine');
    r.put('vol1', 'evil.com', kEicar);
    r.put('vol1', 'big.bin', Buffer.alloc(4096));
    const eng = r.rt.engine('vs1');
    const open = (f: string) => eng.open(accessOf(resolveInVolume(vol, f)));
    expect((await open('clean.txt')).allow).toBe(true);
    const infected = await open('evil.com');
    const again = await open('evil.com'); // quarantined: denied without a scan
    const big = await open('big.bin'); // too large: allowed unscanned
    expect(big).toMatchObject({ allow: true, reason: 'too-large' });
    await a.recordManagement('vs1', { api: 'ontap', method: 'PATCH', path: '/api/protocols/vscan/x/on-access-policies/p', user: 'admin', body: { enabled: true }, result: 200 });
    await a.recordManagement('vs2', { api: 'ontap', method: 'PATCH', path: '/x' }); // no such config: nothing
    await a.flush();
    const got = lines(dir);
    expect(got.map((l) => [l.category, l.path ?? l.reason, l.reason])).toEqual([
      ['data', '\\vol1\\evil.com', 'infected'],
      ['data', '\\vol1\\evil.com', 'quarantined'],
      ['data', '\\vol1\\big.bin', 'too-large'],
      ['management', 'PATCH /api/protocols/vscan/x/on-access-policies/p', 'PATCH /api/protocols/vscan/x/on-access-policies/p'],
    ]);
    expect(got[0]).toMatchObject({ svm: 'vs1', operation: 'open', allow: false, decision_id: infected.decisionId, policy_revision: infected.policyRevision, verdict: 'infected', threats: [expect.stringMatching(/eicar/i)] });
    expect(got[1]).toMatchObject({ decision_id: again.decisionId });
    expect(got[3]).toMatchObject({ api: 'ontap', method: 'PATCH', user: 'admin', body: { enabled: true }, result: 200 });
    const ids = got.map((l) => l.id as number);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(typeof got[0]!.time).toBe('string');

    // Data off: no more data events; management off: none of those either.
    a.patch(uuid, { events: { data: false, management: false } });
    await open('evil.com');
    expect(await a.recordManagement('vs1', { api: 'onefs', method: 'PUT', path: '/platform/11/avscan/settings' })).toBeUndefined();
    await a.flush();
    expect(lines(dir)).toHaveLength(4);
  });
});

describe('rotation and retention', () => {
  it('rotates by size (no file over the limit), keeps `count` archives, and rotates now on request', async () => {
    const { a, uuid, dir } = await setup();
    a.create(uuid, { log_path: '/vol2/audit', events: { data: false, management: true }, log: { rotation: { size: 1024 * 1024 }, retention: { count: 2 } } });
    const body = { note: 'x'.repeat(900) };
    await Promise.all(Array.from({ length: 3000 }, (_, i) => a.recordManagement('vs1', { api: 'ontap', method: 'POST', path: `/p/${String(i)}`, body })));
    await a.flush();
    const archives = listArchives(dir, 'vs1');
    expect(archives).toHaveLength(2);
    for (const f of [...archives.map((x) => x.name), kActiveLog]) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1024 * 1024);
    const active = lines(dir).slice(-1)[0]!;
    const name = a.rotate(uuid)!;
    expect(name).toMatch(new RegExp(`^audit_vs1_D\\d{4}-\\d{2}-\\d{2}-T\\d{2}-\\d{2}-\\d{2}-\\d{3}_${String(active.id).padStart(12, '0')}\\.json$`));
    expect(a.rotate(uuid)).toBeUndefined(); // nothing new to archive
    expect(listArchives(dir, 'vs1')).toHaveLength(2);
    // PATCH rotation.now does the same.
    await a.recordManagement('vs1', { api: 'ontap', method: 'DELETE', path: '/p/last' });
    await a.flush();
    a.patch(uuid, { log: { rotation: { now: true } } });
    expect(readdirSync(dir)).not.toContain(kActiveLog);
    expect(listArchives(dir, 'vs1').at(-1)!.lastId).toBeGreaterThan(active.id as number);
  });

  it('rotates on its schedule (fake clock) and deletes archives older than the retention duration', async () => {
    const { a, uuid, dir } = await setup();
    a.create(uuid, { log_path: '/vol2/audit', events: { data: false, management: true }, log: { rotation: { schedule: { minutes: [0, 30] } }, retention: { duration: 'PT1H' } } });
    expect(a.get(uuid).log.rotation).toEqual({ schedule: { minutes: [0, 30] } });
    await a.recordManagement('vs1', { api: 'ontap', method: 'POST', path: '/a' });
    await a.flush();
    expect(listArchives(dir, 'vs1')).toHaveLength(0);
    vi.useFakeTimers({ now: new Date('2026-03-01T10:20:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    // Re-saving the configuration re-arms its schedule under the fake clock.
    a.patch(uuid, { enabled: true });
    await vi.advanceTimersByTimeAsync(11 * 60 * 1000);
    expect(listArchives(dir, 'vs1').map((x) => new Date(x.rotatedAt).toISOString())).toEqual(['2026-03-01T10:30:00.000Z']);
    // Nothing new: no empty archives at 11:00; 61 min later the 10:30 archive is past its hour.
    await vi.advanceTimersByTimeAsync(30 * 60 * 1000);
    expect(listArchives(dir, 'vs1')).toHaveLength(1);
    vi.useRealTimers();
    await a.recordManagement('vs1', { api: 'ontap', method: 'POST', path: '/b' });
    await a.flush();
    vi.useFakeTimers({ now: new Date('2026-03-01T11:31:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    a.rotate(uuid);
    expect(listArchives(dir, 'vs1').map((x) => new Date(x.rotatedAt).toISOString())).toEqual(['2026-03-01T11:31:00.000Z']);
    // Without any rotation, the poll deletes an archive once it is past its hour.
    vi.useRealTimers();
    await a.close();
    t.audit = undefined;
    vi.useFakeTimers({ now: new Date('2026-03-01T12:32:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    t.audit = createAuditService(t.rig!.rt, { pollMs: 1000 }).start();
    await vi.advanceTimersByTimeAsync(1500);
    expect(listArchives(dir, 'vs1')).toEqual([]);
  });

  it('a writer starting after a crash cuts a torn last line and takes its cursor from the files', async () => {
    const { r, a, uuid, dir } = await setup();
    a.create(uuid, { log_path: '/vol2/audit', events: { data: false, management: true } });
    for (let i = 0; i < 5; i++) await a.recordManagement('vs1', { api: 'ontap', method: 'POST', path: `/x${String(i)}` });
    await a.flush();
    await a.close();
    t.audit = undefined;
    const before = lines(dir);
    appendFileSync(path.join(dir, kActiveLog), '{"id":99999,"torn'); // a write cut short
    const db = openAppDb(r.rt.appDbFile);
    db.prepare('UPDATE audit_cursor SET last_id = 0').run(); // the cursor commit was lost
    const w = new AuditLogWriter(db, { svm: 'vs1', dir });
    expect(w.cursor).toBe(before.at(-1)!.id);
    expect(w.pump()).toBe(0);
    expect(lines(dir)).toEqual(before);
    w.close();
    db.close();
  });
});
