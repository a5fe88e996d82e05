// ondemand-clamdscan: one tree (20,000 files of 1–64 KiB, 50 of 1 MiB, a few EICARs) scanned by an
// on-demand job of the filer (walk → job scope → engine.scanOnDemand → dispatcher → real clamd)
// against `clamdscan --multiscan --fdpass` on the same tree and the same clamd, in the same run.
// Targets (issue 11): first pass ≥ 0.9× clamdscan's files/s with the same infected list; second pass
// over the unchanged tree ≥ 20× faster than clamdscan's rescan (the job skips scan-current files).
// The RESULT rows use avscan with `?scan=path` (clamd reads each file itself, as clamdscan --fdpass
// lets it: the like-for-like comparison); a job whose pool streams files (INSTREAM, the default) runs
// on its own store in the same run and is printed for reference.
// Then: interactive opens of unscanned files while a forced 20,000-file job runs, p99 ≤ 2× idle p99.
// clamd runs with `DisableCache yes`: with its hash cache on, whichever scanner went second would be
// answered from the cache, and the first-pass comparison would measure the cache, not the scanners.
// Both targets are measured in alternating rounds (first pass: BENCH_ONDEMAND_ROUNDS pairs, default 3,
// median ratio; opens: three idle and three busy windows, pooled), because this VM's speed halves for
// seconds at a time and a single pair measured that, not the job.
// Needs clamd and clamdscan (bash scripts/real-scanners.sh install). Knobs: BENCH_ONDEMAND_FILES (20000),
// BENCH_ONDEMAND_ROUNDS (3), BENCH_ONDEMAND_WARM (5000 warm-up files), BENCH_ONDEMAND_CONCURRENCY (the
// job manager's default, 32), BENCH_ONDEMAND_SETTLE (the dispatcher's background_settle_delay, 0.003 s),
// BENCH_ONDEMAND_PROFILE / BENCH_ONDEMAND_BUSY_PROFILE (CPU profiles).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { accessOf, createJobManager, createStaticRuntime, ontapJob, resolveInVolume, type JobStatus } from '@avscan/filer';
import { clamdAvailable, kEicar, startClamd } from './lib/clamd.js';
import { cpuWindow, profiled } from './lib/cpu.js';
import { costTable } from './lib/cpuprofile.js';
import { stallTable } from './lib/stalls.js';
import { formatNumber, header, percentile, result, table } from './lib/harness.js';

header('ondemand-clamdscan');
if (!clamdAvailable()) {
  console.log('clamd is not installed: run `bash scripts/real-scanners.sh install`');
  process.exit(0);
}
const kFiles = Number(process.env.BENCH_ONDEMAND_FILES ?? 20_000);
const kBig = 50;
const kEicars = 5;
// BENCH_ONDEMAND_CONCURRENCY: the jobs' scans in flight; the job manager's default (32) when unset.
const kJobOptions = process.env.BENCH_ONDEMAND_CONCURRENCY === undefined ? {} : { concurrency: Number(process.env.BENCH_ONDEMAND_CONCURRENCY) };
// BENCH_ONDEMAND_PROFILE=<file.cpuprofile>: profile the scan=path job's first pass and print where node's CPU goes.
const kProfile = process.env.BENCH_ONDEMAND_PROFILE;
// BENCH_ONDEMAND_BUSY_PROFILE=<file.cpuprofile>: profile the forced job that runs beside the interactive
// opens and print what node's busy spans of 2 ms or more were made of (the stalls those opens wait behind).
const kBusyProfile = process.env.BENCH_ONDEMAND_BUSY_PROFILE;
/** CPU ms of the client (node for a job, clamdscan for clamdscan) and of clamd over one run. */
interface Cpu { readonly clientMs: number; readonly clamdMs: number }

const work = mkdtempSync(path.join(os.tmpdir(), 'avscan-od-bench-'));
const tree = path.join(work, 'vol1');
const extra = path.join(work, 'vol2');
mkdirSync(tree);
mkdirSync(extra);

// The tree: 100 folders, unique random content so no scanner cache can answer.
let bytes = 0;
for (let i = 0; i < kFiles; i++) {
  const dir = path.join(tree, `d${String(i % 100).padStart(3, '0')}`);
  if (i < 100) mkdirSync(dir);
  const size = 1024 + Math.floor(Math.random() * 63 * 1024);
  writeFileSync(path.join(dir, `f${String(i).padStart(6, '0')}.dat`), randomBytes(size));
  bytes += size;
}
for (let i = 0; i < kBig; i++) {
  writeFileSync(path.join(tree, `d${String(i).padStart(3, '0')}`, `big${String(i)}.bin`), randomBytes(1024 * 1024));
  bytes += 1024 * 1024;
}
const eicars: string[] = [];
for (let i = 0; i < kEicars; i++) {
  const rel = `d${String(i * 17).padStart(3, '0')}/eicar${String(i)}.com`;
  writeFileSync(path.join(tree, rel), kEicar);
  eicars.push(rel);
}
const total = kFiles + kBig + kEicars;
console.log(`tree: ${total} files, ${formatNumber(bytes / 1048576)} MiB in ${tree}`);

const clamd = await startClamd({ maxThreads: 8, disableCache: true, streamMaxLength: '4M', maxFileSize: '4M', startTimeoutMs: 60_000 });
const sock = clamd.socketPath!;

/** clamdscan over the tree: files/s and the infected files (relative paths). */
async function clamdscan(): Promise<{ secs: number; infected: string[]; cpu: Cpu }> {
  const cpu = cpuWindow(clamd.pid);
  const t0 = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('clamdscan', [`--config-file=${path.join(clamd.dir, 'clamd.conf')}`, '--multiscan', '--fdpass', '--infected', '--no-summary', tree], { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    p.stdout.on('data', (d: Buffer) => { s += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { s += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 || code === 1 ? resolve(s) : reject(new Error(`clamdscan exited ${String(code)}: ${s.slice(-500)}`))));
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = cpu.stop();
  const infected = out.split('\n').filter((l) => l.endsWith(' FOUND')).map((l) => path.relative(tree, l.slice(0, l.indexOf(': '))));
  return { secs, infected: infected.sort(), cpu: { clientMs: c.childrenMs, clamdMs: c.otherMs } };
}

/** A runtime on its own store (`state`), over the same tree, whose pool is the one clamd at `server`. */
async function runtime(state: string, server: string): Promise<Awaited<ReturnType<typeof createStaticRuntime>>> {
  mkdirSync(path.join(work, state));
  return createStaticRuntime({
    stateDir: path.join(work, state),
    ...(process.env.BENCH_BATCH_DELAY_MS !== undefined ? { store: { batchMaxDelayMs: Number(process.env.BENCH_BATCH_DELAY_MS) } } : {}),
    svms: [{
      name: 'vs1',
      volumes: [{ name: 'vol1', root: tree }, { name: 'vol2', root: extra }],
      scanner_pools: [{ name: 'clamd', servers: [server] }],
      // BENCH_ONDEMAND_SETTLE: the dispatcher's background_settle_delay (seconds; its default when unset).
      dispatcher: { request_timeout: 60, ...(process.env.BENCH_ONDEMAND_SETTLE === undefined ? {} : { background_settle_delay: Number(process.env.BENCH_ONDEMAND_SETTLE) }) },
    }],
  });
}
const rt = await runtime('state-path', `clamd+unix://${sock}?scan=path`);
const jobs = createJobManager(rt, kJobOptions);
const kConcurrency = jobs.concurrency;
const rtStream = await runtime('state-instream', `clamd+unix://${sock}`);
const jobsStream = createJobManager(rtStream, kJobOptions);

/** Event-loop stalls over a run (ms): what an interactive open waiting on node's one thread would see on top of its scan. */
interface Stalls { readonly p99: number; readonly max: number }

interface JobRunOptions {
  readonly force?: boolean;
  readonly manager?: typeof jobs;
  readonly on?: typeof rt;
  /** Write a CPU profile of the run here. */
  readonly profile?: string | undefined;
  /** Called with the job's id once it started (to cancel it). */
  readonly onStart?: (id: string) => void;
  /** @default '/vol1/' */
  readonly scanPath?: string;
  /**
   * How often the event-loop delay is sampled, ms. Every 1 ms costs the process ~20 ms of CPU per
   * second when idle (1,000 timer wake-ups; measured), a cost clamdscan's side does not carry, so the
   * timed first-pass rounds sample every 10 ms and only the windows beside interactive opens every 1 ms.
   * @default 1
   */
  readonly loopMs?: number;
}

async function job(o: JobRunOptions = {}): Promise<{ secs: number; status: JobStatus; infected: string[]; cpu: Cpu; stalls: Stalls }> {
  const { force = false, manager = jobs, on = rt, profile, onStart, scanPath = '/vol1/', loopMs = 1 } = o;
  const spec = { ...ontapJob(on, 'vs1', { name: 'bench', scan_paths: [scanPath] }), force };
  const loop = monitorEventLoopDelay({ resolution: loopMs });
  loop.enable();
  const cpu = cpuWindow(clamd.pid);
  const t0 = process.hrtime.bigint();
  const { id, done } = manager.start(spec);
  onStart?.(id);
  const status = await profiled(profile, () => done);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = cpu.stop();
  loop.disable();
  const infected = manager.infections(id).map((i) => i.filePath.slice('\\vol1\\'.length).replace(/\\/g, '/')).sort();
  return { secs, status, infected, cpu: { clientMs: c.selfMs, clamdMs: c.otherMs }, stalls: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 } };
}

/** Every file of the tree, as the job would find it (listed before the timed window). */
function treeFiles(dir: string, rel: string[] = []): string[][] {
  const out: string[][] = [];
  for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (d.isDirectory()) out.push(...treeFiles(path.join(dir, d.name), [...rel, d.name]));
    else if (d.isFile()) out.push([...rel, d.name]);
  }
  return out;
}

async function engineOnly(on: Awaited<ReturnType<typeof runtime>>): Promise<{ secs: number; scanned: number; infected: number; cpu: Cpu }> {
  const files = treeFiles(tree);
  const volume = on.volume('vs1', 'vol1')!;
  const engine = on.engine('vs1');
  let next = 0;
  let scanned = 0;
  let infected = 0;
  const cpu = cpuWindow(clamd.pid);
  const t0 = process.hrtime.bigint();
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const rel = files[next++]!;
      const out = await engine.scanOnDemand(accessOf(resolveInVolume(volume, rel.join('/'))));
      scanned++;
      if (out.verdict?.result === 'infected') infected++;
    }
  };
  await Promise.all(Array.from({ length: kConcurrency }, lane));
  await engine.drain();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = cpu.stop();
  return { secs, scanned, infected, cpu: { clientMs: c.selfMs, clamdMs: c.otherMs } };
}

// Warm-up, untimed: a job over 5,000 other files (BENCH_ONDEMAND_WARM), so the first timed round does
// not pay for the JIT (as engine-clamd warms every path before timing; a filer that has run for a
// while is warm). 1,000 were not enough: round 1's job still spent 164–183 µs of node CPU per file
// where rounds 2 and 3 spent 114–130 (RESULTS, 2026-11-28 16:14).
const kWarm = Number(process.env.BENCH_ONDEMAND_WARM ?? 5000);
mkdirSync(path.join(extra, 'warm'));
for (let i = 0; i < kWarm; i++) writeFileSync(path.join(extra, 'warm', `w${String(i)}.dat`), randomBytes(1024 + Math.floor(Math.random() * 63 * 1024)));
await job({ scanPath: '/vol2/warm/' });

const rows: Array<Record<string, string | number>> = [];
const cpuCols = (c: Cpu, files: number): Record<string, number> => ({ 'client CPU µs/file': (c.clientMs * 1000) / files, 'clamd CPU µs/file': (c.clamdMs * 1000) / files });
// First pass, in rounds: clamdscan and a job on a store of its own (the tree unscanned for it), the
// order swapped every round; the ratio is the median of the rounds' ratios. One pair per run swung
// 0.77–1.76× on this VM, whose speed halves for seconds at a time: a window that catches one side
// only decides a single pair, not the median of three.
const kRounds = Number(process.env.BENCH_ONDEMAND_ROUNDS ?? 3);
type JobRun = Awaited<ReturnType<typeof job>>;
const pairs: Array<{ c: Awaited<ReturnType<typeof clamdscan>>; j: JobRun; locks: string }> = [];
for (let round = 0; round < kRounds; round++) {
  const on = round === 0 ? rt : await runtime(`state-path-${String(round)}`, `clamd+unix://${sock}?scan=path`);
  const manager = round === 0 ? jobs : createJobManager(on, kJobOptions);
  const runJob = (): Promise<JobRun> => job({ manager, on, profile: round === 0 ? kProfile : undefined, loopMs: 10 });
  let c: Awaited<ReturnType<typeof clamdscan>>;
  let j: JobRun;
  if (round % 2 === 0) {
    c = await clamdscan();
    j = await runJob();
  } else {
    j = await runJob();
    c = await clamdscan();
  }
  const st = on.store as { deferredLockStats?: { requested: number; elided: number } };
  const locks = st.deferredLockStats === undefined ? 'n/a' : `${String(st.deferredLockStats.elided)} of ${String(st.deferredLockStats.requested)}`;
  pairs.push({ c, j, locks });
  rows.push({ run: `round ${String(round + 1)}: clamdscan --multiscan --fdpass, pass 1`, files: total, secs: c.secs, 'files/s': total / c.secs, infected: c.infected.length, ...cpuCols(c.cpu, total) });
  rows.push({ run: `round ${String(round + 1)}: on-demand job, scan=path (concurrency ${String(kConcurrency)}), pass 1`, files: j.status.scanned, secs: j.secs, 'files/s': total / j.secs, infected: j.infected.length, ...cpuCols(j.cpu, total) });
  if (round > 0) {
    await manager.close();
    await on.close();
  }
}
const ratios = pairs.map((p) => p.c.secs / p.j.secs);
const mid = [...pairs.keys()].sort((a, b) => ratios[a]! - ratios[b]!)[Math.floor(pairs.length / 2)]!;
const c1 = pairs[mid]!.c;
const j1 = pairs[mid]!.j;
const js = await job({ manager: jobsStream, on: rtStream, loopMs: 10 });
rows.push({ run: `on-demand job, INSTREAM (reference), pass 1`, files: js.status.scanned, secs: js.secs, 'files/s': total / js.secs, infected: js.infected.length, ...cpuCols(js.cpu, total) });
// (e) the engine alone on its own store: every tree file through engine.scanOnDemand, kConcurrency
// in flight, no job (no walk, scope, lookup, queue or checkpoints); job − engine CPU is the runner's own.
const rtEngine = await runtime('state-engine', `clamd+unix://${sock}?scan=path`);
const je = await engineOnly(rtEngine);
rows.push({ run: `engine.scanOnDemand alone (${kConcurrency} in flight), pass 1`, files: je.scanned, secs: je.secs, 'files/s': total / je.secs, infected: je.infected, ...cpuCols(je.cpu, total) });
await rtEngine.close();
const c2 = await clamdscan();
rows.push({ run: 'clamdscan, pass 2 (unchanged tree)', files: total, secs: c2.secs, 'files/s': total / c2.secs, infected: c2.infected.length, ...cpuCols(c2.cpu, total) });
const j2 = await job();
rows.push({ run: 'on-demand job, scan=path, pass 2 (unchanged tree)', files: j2.status.scanned, secs: j2.secs, 'files/s': total / j2.secs, infected: j2.infected.length, ...cpuCols(j2.cpu, total) });
console.log(table(rows));
const planted = JSON.stringify([...eicars].sort());
const sameInfected = pairs.every((p) => JSON.stringify(p.c.infected) === planted && JSON.stringify(p.j.infected) === planted);
console.log(`infected lists equal (clamdscan, job, planted): ${String(sameInfected)}; INSTREAM job's list equal too: ${String(JSON.stringify(js.infected) === JSON.stringify(j1.infected))}`);
console.log(`pass 1 vs clamdscan, by round: ${ratios.map((r) => `${formatNumber(r)}x`).join(', ')} (median: round ${String(mid + 1)}); deferred scan-lock writes elided: ${pairs.map((p) => p.locks).join(', ')}`);
// Both sides are CPU-bound on this machine's cores, so the ratio follows CPU per file (clamd's plus
// the client's): node's budget for 0.9x is what clamdscan's total allows beside the job's clamd.
const perFile = (cpu: Cpu): { clamd: number; client: number } => ({ clamd: (cpu.clamdMs * 1000) / total, client: (cpu.clientMs * 1000) / total });
console.log(`pass 1 CPU µs/file by round, clamdscan (clamd + client) / job (clamd + node) → CPU-bound ratio; node's budget for 0.9x: ${pairs.map((p) => {
  const c = perFile(p.c.cpu);
  const j = perFile(p.j.cpu);
  return `${c.clamd.toFixed(0)} + ${c.client.toFixed(0)} / ${j.clamd.toFixed(0)} + ${j.client.toFixed(0)} → ${formatNumber((c.clamd + c.client) / (j.clamd + j.client))}x; ${((c.clamd + c.client) / 0.9 - j.clamd).toFixed(0)} µs`;
}).join(' | ')}`);
console.log(`pass 1 vs clamdscan: scan=path ${formatNumber(c1.secs / j1.secs)}x (median round), INSTREAM ${formatNumber(c1.secs / js.secs)}x (reference); path fallbacks: ${String(rt.dispatcher('vs1').metrics().servers[0]?.pathFallbacks ?? 0)}`);
console.log(`event-loop delay during the scan=path job's pass 1 (median round, sampled every 10 ms): p99 ${formatNumber(j1.stalls.p99)} ms, max ${formatNumber(j1.stalls.max)} ms (checkpoint saves, group commits and GC stall node's one thread; interactive opens wait behind them)`);
console.log(`event-loop delay during pass 2 (files settled without a scan): p99 ${formatNumber(j2.stalls.p99)} ms, max ${formatNumber(j2.stalls.max)} ms`);
console.log(`node CPU per file, pass 1 (median round): job ${formatNumber((j1.cpu.clientMs * 1000) / total)} µs, engine alone ${formatNumber((je.cpu.clientMs * 1000) / total)} µs → the job's own (walk, scope, lookup, queue, checkpoints): ${formatNumber(((j1.cpu.clientMs - je.cpu.clientMs) * 1000) / total)} µs`);
if (kProfile !== undefined) {
  console.log(`node CPU of the scan=path job's pass 1 (round 1) by function (profile ${kProfile}):`);
  for (const r of costTable(kProfile, total, true).slice(0, 15)) console.log(`  ${r.usPerUnit.toFixed(1).padStart(7)} µs/file ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.where}`);
}
result('ondemand-clamdscan', 'first_pass_ratio', sameInfected ? c1.secs / j1.secs : 0, '>=', 0.9, 'x');
result('ondemand-clamdscan', 'second_pass_speedup', c2.secs / j2.secs, '>=', 20, 'x');

// Interactive opens of unscanned files: idle, then while a forced job rescans the whole tree.
let seq = 0;
function fresh(): ReturnType<typeof accessOf> {
  const name = `open${String(seq++)}.docx`;
  writeFileSync(path.join(extra, name), randomBytes(4096));
  return accessOf(resolveInVolume(rt.volume('vs1', 'vol2')!, name));
}
async function opens(n: number, until?: () => boolean): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < n && (until === undefined || !until()); i++) {
    const a = fresh();
    const t = process.hrtime.bigint();
    const answer = await rt.engine('vs1').open(a);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (answer.reason !== 'clean') throw new Error(`open answered ${answer.reason}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return lat;
}
await opens(50); // warm-up
// Idle and busy windows alternate (three of each, 200 opens per window, pooled): a slow spell of the VM
// then lands in one window of each kind at most, not in the whole busy side. A busy window runs
// inside a forced job that has reached steady state and is cancelled when the window ends.
const idle: number[] = [];
const busy: number[] = [];
const busyStallRuns: Stalls[] = [];
// Three, not two: with 400 opens a side the p99 is the 4th-slowest open, and three runs of the same
// code gave 0.94×, 1.44× and 2.25× (an idle p99 of 0.91 ms in one, 1.4–2.5 in the others).
for (let round = 0; round < 3; round++) {
  idle.push(...(await opens(200)));
  let busyDone = false;
  let jobId: string | undefined;
  const busyJob = job({ force: true, profile: round === 0 ? kBusyProfile : undefined, onStart: (id) => { jobId = id; } })
    .then((r) => { busyStallRuns.push(r.stalls); })
    .finally(() => { busyDone = true; });
  await new Promise((r) => setTimeout(r, 500)); // let the job reach steady state
  busy.push(...(await opens(200, () => busyDone)));
  if (!busyDone && jobId !== undefined) await jobs.cancel(jobId);
  await busyJob;
}
const busyStalls: Stalls = { p99: Math.max(...busyStallRuns.map((x) => x.p99)), max: Math.max(...busyStallRuns.map((x) => x.max)) };
const idleP99 = percentile(idle, 99);
const busyP99 = percentile(busy, 99);
console.log(table([
  { opens: 'idle', n: idle.length, 'p50 ms': percentile(idle, 50), 'p99 ms': idleP99 },
  { opens: 'during a forced job over the tree', n: busy.length, 'p50 ms': percentile(busy, 50), 'p99 ms': busyP99 },
]));
console.log(`event-loop delay during the forced jobs (worst window): p99 ${formatNumber(busyStalls.p99)} ms, max ${formatNumber(busyStalls.max)} ms`);
if (kBusyProfile !== undefined) {
  const st = stallTable(kBusyProfile, 2);
  console.log(`node's busy spans ≥ 2 ms during the forced job (profile ${kBusyProfile}): ${String(st.spans)}, ${formatNumber(st.totalMs)} ms in all, longest ${formatNumber(st.maxMs)} ms; ${String(st.cpuSpans)} of them ≥ 2 ms on CPU alone; where their time went (on-CPU ms, wall ms, spans):`);
  for (const r of st.rows.slice(0, 25)) console.log(`  ${r.cpuMs.toFixed(1).padStart(8)} ${r.ms.toFixed(1).padStart(8)} ${String(r.spans).padStart(5)}  ${r.where}`);
}
result('ondemand-clamdscan', 'interactive_p99_ratio', busyP99 / idleP99, '<=', 2, 'x');

await jobsStream.close();
await rtStream.close();
await jobs.close();
await rt.close();
await clamd.stop();
rmSync(work, { recursive: true, force: true });
