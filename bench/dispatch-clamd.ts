// dispatch-clamd: the dispatcher in front of one real clamd vs the best raw INSTREAM client at the
// same concurrency (a new unix-socket connection per file, one write per request, nothing else).
// The dispatcher runs twice: with its default kept IDSESSION connections, and with `?session=0` (a new
// connection per request, like raw). Unique payloads (a counter stamped into the first bytes) so
// clamd's hash cache never answers. Target: dispatcher (default) throughput ≥ 0.95× raw.
import { randomBytes } from 'node:crypto';
import { createDispatcher } from '@avscan/dispatch';
import { rawInstream, startClamd } from './lib/clamd.js';
import { header, median, percentile, result, table } from './lib/harness.js';

let counter = 0;

function payload(base: Buffer): Buffer {
  const b = Buffer.from(base);
  b.writeUInt32BE(counter++ >>> 0, 0);
  b.writeUInt32BE(process.pid, 4);
  return b;
}


type Who = 'raw' | 'disp' | 'conn';
const cpu: Record<Who, number[]> = { raw: [], disp: [], conn: [] };
/** Per-request latencies (ms) of the measured rounds, for p50. */
const lat: Record<Who, number[]> = { raw: [], disp: [], conn: [] };

/**
 * Runs `total` requests with `concurrency` workers; returns files/s and records this process's CPU µs
 * per request (the client-side cost, much less noisy than throughput on a shared machine).
 */
async function run(total: number, concurrency: number, one: () => Promise<unknown>, who?: Who): Promise<number> {
  let left = total;
  const u0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const l = who ? lat[who] : null;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) {
      const t = performance.now();
      await one();
      l?.push(performance.now() - t);
    }
  }));
  const rate = total / (Number(process.hrtime.bigint() - t0) / 1e9);
  const u = process.cpuUsage(u0);
  if (who) cpu[who].push((u.user + u.system) / total);
  return rate;
}

header('dispatch-clamd');
const clamd = await startClamd({ maxThreads: 16 });
const sock = clamd.socketPath!;
const d = createDispatcher({ scanner_pools: [{ name: 'bench', servers: [`clamd+unix://${sock}`], privileged_users: [] }], max_connections_per_server: 20 });
const dc = createDispatcher({ scanner_pools: [{ name: 'bench', servers: [`clamd+unix://${sock}?session=0`], privileged_users: [] }], max_connections_per_server: 20 });
await Promise.all([d.ready(), dc.ready()]);
const rows: Array<Record<string, string | number>> = [];
const ratios: number[] = [];
try {
  for (const size of [1024, 64 * 1024]) {
    const base = randomBytes(size);
    for (const concurrency of [1, 4, 16]) {
      const total = (size === 1024 ? 1500 : 400) / (concurrency === 1 ? 3 : 1);
      const raw: number[] = [];
      const disp: number[] = [];
      const conn: number[] = [];
      const rawOne = () => rawInstream(sock, payload(base)).then((r) => { if (!r.startsWith('stream: OK')) throw new Error(r); });
      const check = (o: { result: string }): void => { if (o.result !== 'clean') throw new Error(JSON.stringify(o)); };
      const dispOne = () => d.scan({ data: payload(base) }).then(check);
      const connOne = () => dc.scan({ data: payload(base) }).then(check);
      await run(total / 4, concurrency, rawOne); // warm-up
      await run(total / 4, concurrency, dispOne);
      await run(total / 4, concurrency, connOne);
      // Rotate the order of raw / dispatcher / dispatcher ?session=0 so drift hits all alike.
      const order: Array<[Who, () => Promise<void>, number[]]> = [['raw', rawOne, raw], ['disp', dispOne, disp], ['conn', connOne, conn]];
      for (let r = 0; r < 6; r++) {
        for (let k = 0; k < 3; k++) {
          const [who, one, into] = order[(r + k) % 3]!;
          into.push(await run(total, concurrency, one, who));
        }
      }
      const ratio = median(disp) / median(raw);
      ratios.push(ratio);
      rows.push({
        size: size === 1024 ? '1 KiB' : '64 KiB', concurrency: String(concurrency),
        'raw files/s': median(raw), 'dispatcher files/s': median(disp), ratio, '?session=0 files/s': median(conn), 'ratio ?session=0': median(conn) / median(raw),
        'p50 ms raw/disp/?session=0': `${percentile(lat.raw, 50).toFixed(2)} / ${percentile(lat.disp, 50).toFixed(2)} / ${percentile(lat.conn, 50).toFixed(2)}`,
        'cpu µs/req raw/disp/?session=0': `${median(cpu.raw).toFixed(0)} / ${median(cpu.disp).toFixed(0)} / ${median(cpu.conn).toFixed(0)}`,
      });
      for (const w of ['raw', 'disp', 'conn'] as const) {
        cpu[w].length = 0;
        lat[w].length = 0;
      }
    }
  }
} finally {
  await d.close();
  await dc.close();
  await clamd.stop();
}
console.log(table(rows));
for (const r of rows) result('dispatch-clamd', `ratio_${String(r['size']).replace(' ', '')}_c${String(r['concurrency'])}`, r['ratio'] as number, '>=', 0.95);
result('dispatch-clamd', 'ratio_min', Math.min(...ratios), '>=', 0.95);
