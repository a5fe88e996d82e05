// The profiled workload of engine-profile: `engine N out` opens N unique 1 KiB files one at a time
// through the engine to a private clamd; `idsession N out` sends the same files with the raw
// IDSESSION client. `engine-path` and `zscan` are the same in scan-by-path mode (the engine's pool has
// `?scan=path`; the raw client sends `zSCAN <path>` on its IDSESSION). Only the loop runs under V8's CPU profiler (the one `node --cpu-prof` uses,
// started through the inspector so set-up is left out); the profile is written to `out`.
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changeStampOf } from '@avscan/store';
import type { FileAccess } from '@avscan/engine';
import { RawIdSession, startClamd } from './clamd.js';
import { makeBenchRig } from './engine-rig.js';

const [who, n, out] = [process.argv[2], Number(process.argv[3]), process.argv[4]!];
const clamd = await startClamd({ maxThreads: 4 });
const rig = await makeBenchRig([`clamd+unix://${clamd.socketPath}${who === 'engine-path' ? '?scan=path' : ''}`]);
const dir = path.join(rig.dir, 'files');
mkdirSync(dir);
const files: FileAccess[] = [];
for (let i = 0; i < n; i++) {
  const full = path.join(dir, `f${i}.docx`);
  writeFileSync(full, randomBytes(1024));
  const st = statSync(full, { bigint: true });
  files.push({
    volume: 'vol1', fileId: String(st.ino), path: `\\vol1\\files\\f${i}.docx`, size: 1024, file: full,
    changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
  });
}
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
if (who === 'engine' || who === 'engine-path') {
  for (const a of files) {
    const answer = await rig.engine.open(a);
    if (answer.reason !== 'clean') throw new Error(answer.reason);
  }
} else if (who === 'zscan') {
  const s = await RawIdSession.open(clamd.socketPath!);
  for (const a of files) {
    const reply = await s.scanPath(a.file!);
    if (!reply.endsWith(': OK')) throw new Error(reply);
  }
  s.close();
} else {
  const s = await RawIdSession.open(clamd.socketPath!);
  for (const a of files) {
    const reply = await s.scan(readFileSync(a.file!));
    if (!reply.startsWith('stream: OK')) throw new Error(reply);
  }
  s.close();
}
const cpu = process.cpuUsage(cpu0);
const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
const { profile } = await session.post('Profiler.stop');
// One line the parent reads: this process's CPU (user + system, profiler overhead included) per file.
console.log(`PROFILE-CPU ${who} ${((cpu.user + cpu.system) / n).toFixed(1)} ${(wallUs / n).toFixed(1)}`);
// Deferred scan locks (engine modes): how many lock writes never reached the database.
if (who === 'engine' || who === 'engine-path') {
  await rig.engine.drain();
  await rig.store.flush();
  const locks = rig.store.deferredLockStats;
  console.log(`PROFILE-LOCKS ${who} ${locks.requested} ${locks.elided}`);
}
writeFileSync(out, JSON.stringify(profile));
session.disconnect();
await rig.close();
await clamd.stop();
