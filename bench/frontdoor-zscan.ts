// frontdoor-zscan: the front door alone, without Samba. A client that asks as vfs_virusfilter does
// (new connection per file, `zSCAN <path>`, wait for close; bench/lib/zscan-client.ts) times
// (a) avscan front door → engine → clamd (`?scan=path`) against (b) the same client straight to the
// same clamd, on unique unscanned 1 KiB files, in the same run (rounds alternate the order). The ratio
// is the front door's share of samba-frontdoor's pass-1 gap, with smbd's own cost taken out; the
// extra ms per file is what the front door adds per open. The client runs in a child process, as
// smbd does (CLIENT=in-process puts it in this process, as before 2026-11-28 11:00: then it shares the
// front door's event loop and its CPU is counted as the front door's). `--cpu-prof`-friendly: run with
// `node --cpu-prof bench/dist/frontdoor-zscan.js` to see where the front door's time goes.
// (m) is the floor: the same client against the cheapest Node server possible in this process
// (bench/lib/zscan-floor.ts: reply `<path>: OK` and destroy, no engine), interleaved with (a) and (b);
// (a) − (m) − (e) is what the front door costs over Node's per-connection floor and the engine's open.
// (n) is that floor server awaiting the engine's open (resolve + accessOf + engine.open, as (e)) before
// its reply: the front door without its own code, so (a) − (n) is the front door's own code and
// (n) − (m) − (e) what the same engine work costs between socket events and another process's turns
// rather than in (e)'s tight loop.
// clamd runs with DisableCache yes. FILES (default 500) and ROUNDS (default 5) override the sizes;
// SIZE (bytes, default 1024) the file size (65536: samba-frontdoor's 64 KiB set without smbd);
// BENCH_BATCH_DELAY_MS the store's group-commit delay (default 1 ms: a scan longer than that has its
// deferred lock written instead of elided — printed per file for (a) and (e)).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accessOf, createStaticRuntime, resolveInVolume, startFrontdoor } from '@avscan/filer';
import { clamdAvailable, startClamd } from './lib/clamd.js';
import { cpuWindow, profiled } from './lib/cpu.js';
import { costTable } from './lib/cpuprofile.js';
import { header, median, result, table } from './lib/harness.js';
import { startFloorServer } from './lib/zscan-floor.js';
import { compareZscan, zscanAll, zscanAllInChild, type ZscanComparison } from './lib/zscan-client.js';

header('frontdoor-zscan');
if (!clamdAvailable()) {
  console.log('clamd is not installed: run `bash scripts/real-scanners.sh install`');
  process.exit(0);
}
const kFiles = Number(process.env['FILES'] ?? 500);
const kRounds = Number(process.env['ROUNDS'] ?? 5);
// PROFILE=<file.cpuprofile>: after the measured rounds, one more round of (a) under V8's profiler.
const kProfile = process.env['PROFILE'];
const kClient = process.env['CLIENT'] === 'in-process' ? 'in-process' : 'child';
const kSize = Number(process.env['SIZE'] ?? 1024);
const kBatchDelay = process.env['BENCH_BATCH_DELAY_MS'];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-bench-fdz-'));
const clamd = await startClamd({ maxThreads: 16, disableCache: true, streamMaxLength: '4M', maxFileSize: '4M' });
const rt = await createStaticRuntime({
  stateDir: path.join(tmp, 'state'),
  ...(kBatchDelay !== undefined ? { store: { batchMaxDelayMs: Number(kBatchDelay) } } : {}),
  svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p', servers: [`clamd+unix://${clamd.socketPath}?scan=path`] }] }],
});
const fd = await startFrontdoor(rt, { stateDir: path.join(tmp, 'state'), env: {} });
const floor = await startFloorServer(path.join(tmp, 'floor.sock'));
const volume = rt.volume('vs1', 'vol1')!.root;
const engineFloor = await startFloorServer(path.join(tmp, 'engine-floor.sock'), async (p) => {
  const answer = await rt.engine('vs1').open(accessOf(resolveInVolume(rt.volume('vs1', 'vol1')!, path.relative(volume, p))));
  return answer.allow;
});

function files(dir: string): string[] {
  mkdirSync(path.join(volume, dir));
  const out: string[] = [];
  for (let k = 0; k < kFiles; k++) {
    const f = path.join(volume, dir, `f${k}.bin`);
    writeFileSync(f, randomBytes(kSize));
    out.push(f);
  }
  // The buffers written here are garbage for a timed window to collect (`npm run bench` runs with --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  return out;
}

/** Deferred scan locks written so far (not elided by a release while queued); 0 on a store without them. */
function locksWritten(): number {
  const s = (rt.store as { deferredLockStats?: { requested: number; elided: number } }).deferredLockStats;
  return s === undefined ? 0 : s.requested - s.elided;
}
const locks = { a: 0, e: 0 };

let cmp: ZscanComparison;
const eSecs: number[] = [];
const eCpu = { node: 0, clamd: 0 };
let notAllowed = 0;
try {
  const locks0 = locksWritten();
  cmp = await compareZscan({
    fdSocket: fd.socketPath!,
    clamdSocket: clamd.socketPath!,
    extra: { m: floor.socketPath, n: engineFloor.socketPath },
    clamdPid: clamd.pid,
    files,
    rounds: kRounds,
    between: () => rt.engine('vs1').drain(),
    client: kClient,
  });
  // Only (a) and (n) reach the engine in compareZscan (warm-up rounds included).
  locks.a = (locksWritten() - locks0) / (2 * kFiles * (kRounds + 1));
  // (e) the engine alone, in this process: the same files resolved and opened as the front door
  // does, without sockets or parsing; (a) − (e) is the front door's own cost.
  const vol = rt.volume('vs1', 'vol1')!;
  const engine = rt.engine('vs1');
  for (let round = 0; round < kRounds; round++) {
    const set = files(`r${round}-e`);
    const l0 = locksWritten();
    const w = cpuWindow(clamd.pid);
    const t0 = process.hrtime.bigint();
    for (const f of set) {
      const answer = await engine.open(accessOf(resolveInVolume(vol, path.relative(volume, f))));
      if (!answer.allow) notAllowed++;
    }
    eSecs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const used = w.stop();
    eCpu.node += used.selfMs;
    eCpu.clamd += used.otherMs;
    await engine.drain();
    locks.e += (locksWritten() - l0) / (kFiles * kRounds);
  }
  if (kProfile !== undefined) {
    const set = files('profiled');
    await profiled(kProfile, () => (kClient === 'child' ? zscanAllInChild(fd.socketPath!, set) : zscanAll(fd.socketPath!, set)));
  }
} finally {
  await floor.close();
  await engineFloor.close();
  await fd.close();
  await rt.close();
  await clamd.stop();
  rmSync(tmp, { recursive: true, force: true });
}
const { a, b } = cmp.secs;
const m = cmp.secs.m!;
const mCpu = cmp.cpu.m!;
const n = cmp.secs.n!;
const nCpu = cmp.cpu.n!;
const eNode = (eCpu.node * 1000) / (kFiles * kRounds);
const e = median(eSecs);
console.log(table([
  { path: '(a) client → avscan front door → clamd (scan=path)', 'files/s': kFiles / a, 'ms/file': (a * 1000) / kFiles, 'node CPU µs/file': cmp.cpu.a.node, 'client CPU µs/file': cmp.cpu.a.client, 'clamd CPU µs/file': cmp.cpu.a.clamd },
  { path: '(e) engine.open in-process (no socket, no parse)', 'files/s': kFiles / median(eSecs), 'ms/file': (median(eSecs) * 1000) / kFiles, 'node CPU µs/file': eNode, 'client CPU µs/file': 0, 'clamd CPU µs/file': (eCpu.clamd * 1000) / (kFiles * kRounds) },
  { path: '(b) client → clamd directly', 'files/s': kFiles / b, 'ms/file': (b * 1000) / kFiles, 'node CPU µs/file': cmp.cpu.b.node, 'client CPU µs/file': cmp.cpu.b.client, 'clamd CPU µs/file': cmp.cpu.b.clamd },
  { path: '(m) client → minimal node server (the floor)', 'files/s': kFiles / m, 'ms/file': (m * 1000) / kFiles, 'node CPU µs/file': mCpu.node, 'client CPU µs/file': mCpu.client, 'clamd CPU µs/file': mCpu.clamd },
  { path: '(n) client → minimal server + engine.open → clamd', 'files/s': kFiles / n, 'ms/file': (n * 1000) / kFiles, 'node CPU µs/file': nCpu.node, 'client CPU µs/file': nCpu.client, 'clamd CPU µs/file': nCpu.clamd },
]));
const fdCpu = cmp.cpu.a.node - cmp.cpu.b.node;
console.log(`client: ${cmp.client === 'child' ? 'child process (node CPU is the front door\'s process only)' : 'in this process (node CPU includes the client)'}`);
console.log(`front door CPU (node (a) − node (b)): ${fdCpu.toFixed(0)} µs per file`);
console.log(`of which the engine (e): ${eNode.toFixed(0)} µs per file; sockets, parsing, locating and replying: ${(fdCpu - eNode).toFixed(0)} µs per file${notAllowed > 0 ? `; ${notAllowed} engine opens NOT allowed` : ''}`);
for (const l of cmp.notOk.slice(0, 5)) console.log(`NOT OK ${l}`);
console.log(`median of ${kRounds} rounds × ${kFiles} unique ${kSize >= 1024 ? `${kSize / 1024} KiB` : `${kSize} B`} files, one connection per file, sequential; clamd cache off${kBatchDelay !== undefined ? `; store batchMaxDelayMs ${kBatchDelay}` : ''}`);
console.log(`deferred scan locks written (not elided) per file: (a) and (n) ${locks.a.toFixed(2)}, (e) ${locks.e.toFixed(2)}`);
console.log(`front door adds ${(((a - b) * 1000) / kFiles).toFixed(3)} ms per file over clamd direct`);
console.log(`front door over the floor ((a) − (m) − (e)): ${(cmp.cpu.a.node - mCpu.node - eNode).toFixed(0)} µs CPU, ${(((a - m - e) * 1000) / kFiles).toFixed(3)} ms wall per file`);
console.log(`  of which the front door's own code ((a) − (n)): ${(cmp.cpu.a.node - nCpu.node).toFixed(0)} µs CPU, ${(((a - n) * 1000) / kFiles).toFixed(3)} ms wall; the engine in a server, not a loop ((n) − (m) − (e)): ${(nCpu.node - mCpu.node - eNode).toFixed(0)} µs CPU, ${(((n - m - e) * 1000) / kFiles).toFixed(3)} ms wall`);
if (kProfile !== undefined) {
  console.log(`node CPU of the front door by function, one round of (a) (profile ${kProfile}):`);
  for (const r of costTable(kProfile, kFiles, true).slice(0, 20)) console.log(`  ${r.usPerUnit.toFixed(1).padStart(7)} µs/file ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.where}`);
}
result('frontdoor-zscan', 'a_vs_b', b / a, '>=', 0.9, 'x');
