// A clamd-protocol client that asks as Samba's vfs_virusfilter (clamav backend) does: one new unix
// connection per file, `zSCAN <path>\0`, read until the peer closes. Used by the front-door benches
// to time the front door alone against the same client straight to clamd, in the same run. The
// client runs in a child process by default (zscan-child.ts), as smbd does: a client in the front
// door's own process shares its event loop and its CPU count.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cpuWindow } from './cpu.js';
import { median } from './harness.js';

const run = promisify(execFile);

/** One zSCAN on a fresh connection: the reply without its NUL terminator. */
export function zscan(socketPath: string, file: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error(`zSCAN ${file}: no reply in ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.write(`zSCAN ${file}\0`));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8').replace(/\0$/, ''));
    });
  });
}

/** Seconds to zSCAN `files` one after another (as one smbd process does); replies not ending in OK are returned. */
export async function zscanAll(socketPath: string, files: readonly string[]): Promise<{ secs: number; notOk: string[] }> {
  const notOk: string[] = [];
  const t0 = process.hrtime.bigint();
  for (const f of files) {
    const r = await zscan(socketPath, f);
    if (!r.endsWith(': OK')) notOk.push(r);
  }
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, notOk };
}

/** As `zscanAll`, from a child process (the client's own CPU in `clientMs`); the spawn is not timed. */
export async function zscanAllInChild(socketPath: string, files: readonly string[]): Promise<{ secs: number; notOk: string[]; clientMs: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-zscan-'));
  try {
    const list = path.join(dir, 'files.json');
    writeFileSync(list, JSON.stringify(files));
    const child = new URL('./zscan-child.js', import.meta.url).pathname;
    const { stdout } = await run(process.execPath, [child, socketPath, list], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const r = JSON.parse(stdout) as { secs: number; notOk: string[]; cpuMs: number };
    return { secs: r.secs, notOk: r.notOk, clientMs: r.cpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Cpu = { readonly node: number; readonly client: number; readonly clamd: number };
/** Servers a comparison may add to (a) and (b), each in this process: the floor (m) and the floor with the engine's open (n). */
export type ExtraServer = 'm' | 'n';

export interface ZscanComparison {
  /** Median seconds per round: (a) through the front door, (b) straight to clamd, and each extra server given. */
  readonly secs: { readonly a: number; readonly b: number } & Partial<Record<ExtraServer, number>>;
  /**
   * CPU µs per file over all rounds: this process (the front door in (a), the extra server in (m) and
   * (n); with an in-process client, the client too), the client (0 when it runs in this process:
   * counted in `node`) and clamd.
   */
  readonly cpu: { readonly a: Cpu; readonly b: Cpu } & Partial<Record<ExtraServer, Cpu>>;
  /** Where the client ran. */
  readonly client: 'child' | 'in-process';
  readonly notOk: readonly string[];
}

/**
 * `rounds` rounds of `files()` (fresh unscanned files each call) through the front door at `fdSocket`
 * (a), straight to clamd at `clamdSocket` (b) and to each server of `extra` (bench/lib/zscan-floor.ts),
 * rotating which goes first, after one warm-up round of each. The front door and the extra servers
 * must run in this process for their CPU to be counted.
 */
export async function compareZscan(o: {
  readonly fdSocket: string;
  readonly clamdSocket: string;
  readonly extra?: Partial<Record<ExtraServer, string>>;
  readonly clamdPid: number;
  readonly files: (tag: string) => string[];
  readonly rounds: number;
  /** Called after each round (e.g. to drain the engine's group commit outside the timed window). */
  readonly between?: () => Promise<void>;
  /** Run the client in a child process (as smbd is) or in this one. @default 'child' */
  readonly client?: 'child' | 'in-process';
}): Promise<ZscanComparison> {
  const client = o.client ?? 'child';
  const all = async (socketPath: string, files: readonly string[]): Promise<{ secs: number; notOk: string[]; clientMs: number }> =>
    client === 'child' ? zscanAllInChild(socketPath, files) : { ...(await zscanAll(socketPath, files)), clientMs: 0 };
  type Config = 'a' | 'b' | ExtraServer;
  const socket: Partial<Record<Config, string>> = { a: o.fdSocket, b: o.clamdSocket, ...o.extra };
  const configs = (['a', 'b', 'm', 'n'] as const).filter((c) => socket[c] !== undefined);
  for (const c of configs) await all(socket[c]!, o.files(`warm-${c}`));
  const secs: Partial<Record<Config, number[]>> = {};
  const ms: Partial<Record<Config, { node: number; client: number; clamd: number }>> = {};
  const notOk: string[] = [];
  let n = 0;
  for (let round = 0; round < o.rounds; round++) {
    const sets = new Map(configs.map((c) => [c, o.files(`r${round}-${c}`)]));
    n += sets.get('a')!.length;
    // Rotated each round (ab, ba — or abm, bma, mab, …): no configuration always goes first.
    const order = configs.map((_, i) => configs[(i + round) % configs.length]!);
    for (const c of order) {
      const w = cpuWindow(o.clamdPid);
      const r = await all(socket[c]!, sets.get(c)!);
      const used = w.stop();
      const m = (ms[c] ??= { node: 0, client: 0, clamd: 0 });
      m.node += used.selfMs;
      m.client += r.clientMs;
      m.clamd += used.otherMs;
      (secs[c] ??= []).push(r.secs);
      notOk.push(...r.notOk.slice(0, 3));
    }
    await o.between?.();
  }
  const us = (v: number): number => (v * 1000) / n;
  const cpu = (c: Config): Cpu => ({ node: us(ms[c]!.node), client: us(ms[c]!.client), clamd: us(ms[c]!.clamd) });
  return {
    secs: Object.fromEntries(configs.map((c) => [c, median(secs[c]!)])) as ZscanComparison['secs'],
    cpu: Object.fromEntries(configs.map((c) => [c, cpu(c)])) as ZscanComparison['cpu'],
    client,
    notOk,
  };
}
