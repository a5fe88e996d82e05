// Stopping a daemon a test or benchmark started: by its PID only (never its group), SIGCONT first so a
// stopped (SIGSTOP) process can act on the SIGTERM, SIGKILL after a grace period, then its temp dir.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export async function stopDaemon(child: ChildProcess, dir: string, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }
  rmSync(dir, { recursive: true, force: true });
}
