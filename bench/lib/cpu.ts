// CPU time of this process and of another one (clamd) over a measured window: on a shared 2-core
// machine wall-clock ratios swing with the neighbours' load, CPU per file much less. A scanner in
// front of clamd costs its own CPU per file on the same cores clamd needs, so this is the number the
// front door and the job runner have to cut.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const kTicks = 100; // USER_HZ on Linux

/** User + system CPU ms of process `pid` (all its threads), from /proc; 0 when it cannot be read. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    return ((Number(f[11]) + Number(f[12])) * 1000) / kTicks;
  } catch {
    return 0;
  }
}

/** CPU ms of this process's waited-for children (cutime + cstime), e.g. a finished clamdscan. */
export function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / kTicks;
  } catch {
    return 0;
  }
}

export interface CpuWindow {
  /** CPU ms of this process (all threads) and of `other` since the window opened. */
  stop(): { selfMs: number; otherMs: number; childrenMs: number };
}

export function cpuWindow(otherPid: number): CpuWindow {
  const self0 = process.cpuUsage();
  const other0 = procCpuMs(otherPid);
  const children0 = childrenCpuMs();
  return {
    stop() {
      const d = process.cpuUsage(self0);
      return { selfMs: (d.user + d.system) / 1000, otherMs: procCpuMs(otherPid) - other0, childrenMs: childrenCpuMs() - children0 };
    },
  };
}

/** Runs `body` under V8's CPU profiler (as `--cpu-prof`, set-up left out) when `out` is given; writes the profile there. */
export async function profiled<T>(out: string | undefined, body: () => Promise<T>): Promise<T> {
  if (out === undefined) return body();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await body();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(out, JSON.stringify(profile));
    session.disconnect();
  }
}
