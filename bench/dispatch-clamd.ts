// dispatch-clamd: the dispatcher in front of one real clamd vs the best raw INSTREAM client at the
// same concurrency (a new unix-socket connection per file, one write per request, nothing else).
// Unique payloads (a counter stamped into the first bytes) so clamd's hash cache never answers.
// Target: dispatcher throughput ≥ 0.95× raw.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { createDispatcher } from '@avscan/dispatch';
import { startClamd } from './lib/clamd.js';
import { header, median, result, table } from './lib/harness.js';

const kEnd = Buffer.alloc(4);
let counter = 0;

function payload(base: Buffer): Buffer {
  const b = Buffer.from(base);
  b.writeUInt32BE(counter++ >>> 0, 0);
  b.writeUInt32BE(process.pid, 4);
  return b;
}

function rawInstream(path: string, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(data.length, 0);
    const sock = net.createConnection(path);
    let out = '';
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from('zINSTREAM\0'), len, data, kEnd])));
    sock.on('data', (d) => {
      out += d.toString();
      if (out.includes('\0')) { sock.destroy(); resolve(out); }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('closed without reply')));
  });
}

const cpu: Record<'raw' | 'disp', number[]> = { raw: [], disp: [] };

/**
 * Runs `total` requests with `concurrency` workers; returns files/s and records this process's CPU µs
 * per request (the client-side cost, much less noisy than throughput on a shared machine).
 */
async function run(total: number, concurrency: number, one: () => Promise<unknown>, who?: 'raw' | 'disp'): Promise<number> {
  let left = total;
  const u0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await one();
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
await d.ready();
const rows: Array<Record<string, string | number>> = [];
const ratios: number[] = [];
try {
  for (const size of [1024, 64 * 1024]) {
    const base = randomBytes(size);
    for (const concurrency of [4, 16]) {
      const total = size === 1024 ? 1500 : 400;
      const raw: number[] = [];
      const disp: number[] = [];
      const rawOne = () => rawInstream(sock, payload(base)).then((r) => { if (!r.startsWith('stream: OK')) throw new Error(r); });
      const dispOne = () => d.scan({ data: payload(base) }).then((o) => { if (o.result !== 'clean') throw new Error(JSON.stringify(o)); });
      await run(total / 4, concurrency, rawOne); // warm-up
      await run(total / 4, concurrency, dispOne);
      // Alternate raw and dispatcher rounds, and which goes first, so drift hits both alike.
      for (let r = 0; r < 6; r++) {
        if (r % 2 === 0) {
          raw.push(await run(total, concurrency, rawOne, 'raw'));
          disp.push(await run(total, concurrency, dispOne, 'disp'));
        } else {
          disp.push(await run(total, concurrency, dispOne, 'disp'));
          raw.push(await run(total, concurrency, rawOne, 'raw'));
        }
      }
      const ratio = median(disp) / median(raw);
      ratios.push(ratio);
      rows.push({
        size: size === 1024 ? '1 KiB' : '64 KiB', concurrency: String(concurrency), 'raw files/s': median(raw), 'dispatcher files/s': median(disp), ratio,
        'raw cpu µs/req': median(cpu.raw), 'dispatcher cpu µs/req': median(cpu.disp),
      });
      cpu.raw.length = 0;
      cpu.disp.length = 0;
    }
  }
} finally {
  await d.close();
  await clamd.stop();
}
console.log(table(rows));
for (const r of rows) result('dispatch-clamd', `ratio_${String(r['size']).replace(' ', '')}_c${String(r['concurrency'])}`, r['ratio'] as number, '>=', 0.95);
result('dispatch-clamd', 'ratio_min', Math.min(...ratios), '>=', 0.95);
