// Schedules: ONTAP names, cron strings and objects, OneFS text → cron; firing with a fake clock;
// one scheduled on-demand policy per SVM; a scheduled job really running on the runtime.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkOneScheduledPerSvm, createJobManager, createScheduler, cronOfFields, cronOfOnefs, cronOfOntap, FilerErrorCodes, ontapJob, scheduleJob,
} from '../../src/index.js';
import { makeRig } from '../jobs/helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('parsing', () => {
  it('ONTAP built-in names, { name }, cron strings and REST cron objects', () => {
    expect(cronOfOntap('daily')).toBe('10 0 * * *');
    expect(cronOfOntap({ name: 'weekly' })).toBe('15 0 * * 0');
    expect(cronOfOntap('hourly')).toBe('5 * * * *');
    expect(cronOfOntap('8hour')).toBe('15 2,10,18 * * *');
    expect(cronOfOntap('30 3 * * 1-5')).toBe('30 3 * * 1-5');
    expect(cronOfOntap('nightly', { nightly: '0 1 * * *' })).toBe('0 1 * * *');
    expect(cronOfOntap({ cron: { minutes: [30, 0], hours: [2], weekdays: [6] } })).toBe('0,30 2 * * 6');
    expect(cronOfFields({ minutes: [10], months: [0, 11] }, 0)).toBe('10 * * 1,12 *');
    expect(() => cronOfOntap('never')).toThrow(expect.objectContaining({ code: FilerErrorCodes.SCHEDULE_INVALID, ontapCode: 10027167 }));
    expect(() => cronOfOntap('61 * * * *')).toThrow(expect.objectContaining({ code: FilerErrorCodes.SCHEDULE_INVALID }));
    expect(() => cronOfOntap({ cron: { minutes: [60] } })).toThrow(expect.objectContaining({ target: 'minutes' }));
    expect(() => cronOfOntap({ cron: { hours: [1] } })).toThrow(expect.objectContaining({ target: 'minutes' }));
  });

  it('OneFS schedule text', () => {
    expect(cronOfOnefs('every Thursday at 01:00')).toBe('0 1 * * 4');
    expect(cronOfOnefs('every day at 02:30')).toBe('30 2 * * *');
    expect(cronOfOnefs('Every day at 2:30 PM')).toBe('30 14 * * *');
    expect(cronOfOnefs('every weekday at 22:00')).toBe('0 22 * * 1-5');
    expect(cronOfOnefs('every Monday and Friday at 1 AM')).toBe('0 1 * * 1,5');
    expect(cronOfOnefs('every sat, sun at 12:00 am')).toBe('0 0 * * 0,6');
    expect(cronOfOnefs('every 4 hours')).toBe('0 */4 * * *');
    expect(cronOfOnefs('every 15 minutes')).toBe('*/15 * * * *');
    expect(cronOfOnefs('every month on the 1st at 03:00')).toBe('0 3 1 * *');
    for (const bad of ['', 'sometimes', 'every Funday at 01:00', 'every day at 25:00', 'every day at noon', 'every 0 hours', 'every month on the 32nd at 01:00']) {
      expect(() => cronOfOnefs(bad), bad).toThrow(expect.objectContaining({ code: FilerErrorCodes.SCHEDULE_INVALID }));
    }
  });
});

describe('firing', () => {
  it('runs entries at their time on a fake clock, and not again while a run is still going', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }); // a Thursday
    const s = createScheduler({ timezone: 'UTC' });
    const fired: string[] = [];
    s.set('vs1/daily', cronOfOntap('daily'), () => { fired.push(`daily ${new Date().toISOString()}`); });
    s.set('zone/thu', cronOfOnefs('every Thursday at 01:00'), () => { fired.push(`thu ${new Date().toISOString()}`); });
    expect(s.get('vs1/daily')!.next?.toISOString()).toBe('2026-01-01T00:10:00.000Z');
    await vi.advanceTimersByTimeAsync(2 * 60 * 60 * 1000);
    expect(fired).toEqual(['daily 2026-01-01T00:10:00.000Z', 'thu 2026-01-01T01:00:00.000Z']);
    expect(s.get('zone/thu')).toMatchObject({ runs: 1, next: new Date('2026-01-08T01:00:00Z') });
    await vi.advanceTimersByTimeAsync(7 * 24 * 60 * 60 * 1000);
    expect(fired.filter((f) => f.startsWith('daily'))).toHaveLength(8);
    expect(fired.filter((f) => f.startsWith('thu'))).toHaveLength(2);
    expect(s.remove('zone/thu')).toBe(true);
    expect(s.list().map((e) => e.key)).toEqual(['vs1/daily']);

    // A run that outlasts the interval is not started twice.
    let release!: () => void;
    let starts = 0;
    const jobs = { start: () => { starts++; return { id: String(starts), done: new Promise<void>((r) => { release = r; }) }; } };
    scheduleJob(s, jobs, 'vs1/5min', cronOfOntap('5min'), () => ({}));
    await vi.advanceTimersByTimeAsync(20 * 60 * 1000);
    expect(starts).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(5 * 60 * 1000);
    expect(starts).toBe(2);
    s.stop();
    expect(s.list()).toEqual([]);
  });

  it('one scheduled on-demand policy per SVM (10027255)', () => {
    const existing = [{ svm: 'vs1', name: 'a', schedule: { name: 'daily' } }, { svm: 'vs1', name: 'b' }, { svm: 'vs2', name: 'c', schedule: 'weekly' }];
    expect(() => checkOneScheduledPerSvm(existing, { svm: 'vs1', name: 'b', schedule: 'weekly' })).toThrow(expect.objectContaining({ code: FilerErrorCodes.SCHEDULE_CONFLICT, ontapCode: 10027255 }));
    expect(() => checkOneScheduledPerSvm(existing, { svm: 'vs1', name: 'a', schedule: 'weekly' })).not.toThrow();
    expect(() => checkOneScheduledPerSvm(existing, { svm: 'vs1', name: 'b' })).not.toThrow();
    expect(() => checkOneScheduledPerSvm(existing, { svm: 'vs3', name: 'd', schedule: 'daily' })).not.toThrow();
  });

  it('a scheduled on-demand policy runs its job on the runtime', async () => {
    const rig = await makeRig();
    const jobs = createJobManager(rig.rt);
    const s = createScheduler();
    try {
      rig.put('vol1', 'a.txt', 'a');
      const started: string[] = [];
      // croner's six-field form (seconds first) so the test waits a second, not a minute.
      scheduleJob(s, jobs, 'vs1/task', '* * * * * *', () => ontapJob(rig.rt, 'vs1', { name: 'task', scan_paths: ['/vol1/'] }), (id) => started.push(id));
      await vi.waitFor(() => expect(started.length).toBeGreaterThan(0), { timeout: 5000 });
      s.stop();
      await vi.waitFor(() => expect(jobs.get(started[0]!)?.state).toBe('completed'));
      expect(jobs.get(started[0]!)).toMatchObject({ name: 'task', checked: 1 });
    } finally {
      s.stop();
      await jobs.close();
      await rig.close();
    }
  });
});
