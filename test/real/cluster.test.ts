// Issue 13's multi-node cases: three gateway nodes, each a real process (test/fixtures/cluster-node.mjs:
// engine + PgStore + dispatcher), on one real PostgreSQL 15 (private, unix socket) and one real clamd,
// each node talking to clamd through its own counting proxy (test/support/clamd-proxy.ts), so the
// test sees every scanner request per node and can hold a scan in progress.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Answer, FileAccess } from '@avscan/engine';
import { changeStampOf } from '@avscan/store';
import { openPgStore } from '@avscan/store-pg';
import { postgresAvailable, startPostgres, type PostgresHandle } from '../../bench/lib/postgres.js';
import { startClamdProxy, type ClamdProxy } from '../support/clamd-proxy.js';
import { requireBinary, startClamd, type ClamdHandle } from '../support/index.js';

function requirePostgres(): boolean {
  if (postgresAvailable()) return true;
  if (process.env['CI'] === 'true') throw new Error('cluster: PostgreSQL 15 is required in CI');
  console.warn(`\n${'!'.repeat(78)}\n!!! CLUSTER TESTS SKIPPED: PostgreSQL 15 not installed\n${'!'.repeat(78)}\n`);
  return false;
}

const available = requireBinary('clamd') && requirePostgres();
const kNode = path.join(import.meta.dirname, '..', 'fixtures', 'cluster-node.mjs');
const kMandatory = { name: 'mandatory', scope: {}, mandatory: true };

interface Ack {
  readonly volume: string;
  readonly fileId: string;
  readonly scanResult: string;
}

/** One node process; `call` sends an op over IPC and resolves with its value (rejects on an error reply or exit). */
class ClusterNode {
  readonly child: ChildProcess;
  readonly acks: Ack[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  #seq = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #stderr = '';

  constructor(config: object) {
    this.child = fork(kNode, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#stderr += d));
    let ready!: () => void;
    this.ready = new Promise((r) => (ready = r));
    this.child.on('message', (m: { id?: number; ok?: boolean; value?: unknown; error?: string; ack?: Ack; ready?: string }) => {
      if (m.ready !== undefined) return ready();
      if (m.ack !== undefined) return void this.acks.push(m.ack);
      const p = this.#pending.get(m.id!);
      this.#pending.delete(m.id!);
      if (m.ok === true) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
    });
    this.exited = new Promise((resolve) => this.child.on('exit', () => {
      for (const p of this.#pending.values()) p.reject(new Error(`node exited; stderr: ${this.#stderr.slice(0, 800)}`));
      this.#pending.clear();
      resolve();
    }));
  }

  call<T>(op: string, extra: object = {}): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, ...extra });
    });
  }

  open(access: FileAccess): Promise<Answer> {
    return this.call<Answer>('open', { access });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!available)('three engine processes on one PostgreSQL and real clamd', () => {
  let pg: PostgresHandle;
  let clamd: ClamdHandle;
  let dir: string;
  const cleanups: Array<() => Promise<unknown>> = [];
  let fileSeq = 0;

  beforeAll(async () => {
    [pg, clamd] = await Promise.all([startPostgres(), startClamd({ logClean: true })]);
    dir = await mkdtemp(path.join(os.tmpdir(), 'avscan-cluster-'));
    await mkdir(path.join(dir, 'vol1'));
  }, 180_000);
  afterAll(async () => {
    await clamd?.stop();
    await pg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 180_000);
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  }, 60_000);

  async function cluster(name: string, n = 3, options: { policy?: object; leaseMs?: number } = {}) {
    const db = await pg.createDatabase(name);
    const checker = await openPgStore(pg.config(db), { nodeId: 'checker' });
    cleanups.push(() => checker.close());
    const proxies: ClamdProxy[] = [];
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= n; i++) {
      const proxy = await startClamdProxy(clamd.socketPath!, path.join(dir, `${name}-n${i}.sock`));
      cleanups.push(() => proxy.close());
      proxies.push(proxy);
      const node = new ClusterNode({
        pg: pg.config(db), nodeId: `n${i}`, socket: proxy.socketPath, policy: options.policy ?? kMandatory, leaseMs: options.leaseMs ?? 2000,
      });
      cleanups.push(async () => {
        node.kill();
        await node.exited;
      });
      nodes.push(node);
    }
    await Promise.all(nodes.map((x) => x.ready));
    const requests = (): number => proxies.reduce((s, p) => s + p.requests, 0);
    return { db, checker, proxies, nodes, requests };
  }

  async function file(content?: string): Promise<FileAccess> {
    const name = `f${++fileSeq}.txt`;
    const full = path.join(dir, 'vol1', name);
    await writeFile(full, content ?? `harmless ${name} ${Date.now()}`);
    const st = await stat(full, { bigint: true });
    return {
      volume: 'vol1', fileId: String(st.ino), path: `\\vol1\\${name}`, size: Number(st.size), file: full,
      changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
    };
  }

  it('a file scanned on node 1 is scan current on nodes 2 and 3: no scanner request there', async () => {
    const { nodes: [n1, n2, n3], proxies: [p1, p2, p3] } = await cluster('current');
    const f = await file();
    expect(await n1!.open(f)).toMatchObject({ allow: true, reason: 'clean' });
    await n1!.call('drain');
    expect(await n2!.open(f)).toMatchObject({ allow: true, reason: 'scan-current' });
    expect(await n3!.open(f)).toMatchObject({ allow: true, reason: 'scan-current' });
    expect([p1!.requests, p2!.requests, p3!.requests]).toEqual([1, 0, 0]);
  });

  it('3 × 30 concurrent opens of one new file across the three nodes: exactly one scanner request', async () => {
    const { nodes, proxies, requests, checker } = await cluster('joined');
    for (const p of proxies) p.delayMs = 300; // the scan outlasts the other nodes' arrival
    const f = await file();
    const answers = await Promise.all(nodes.flatMap((n) => Array.from({ length: 30 }, () => n.open(f))));
    expect(answers.filter((a) => !a.allow)).toEqual([]);
    expect(requests()).toBe(1);
    await Promise.all(nodes.map((n) => n.call('drain')));
    expect(await checker.lockHolder({ volume: 'vol1', fileId: f.fileId })).toBeUndefined();
    expect((await checker.getAttributes({ volume: 'vol1', fileId: f.fileId }))?.scanResult).toBe('clean');
  }, 30_000);

  it('node 1 SIGKILLed mid-scan: node 2 takes the file over after the lease; nothing stays locked', async () => {
    const { nodes: [n1, n2], proxies: [p1, p2], checker } = await cluster('takeover', 2, { leaseMs: 2000 });
    p1!.delayMs = 60_000; // node 1's scan never returns before it dies
    const f = await file();
    const key = { volume: 'vol1', fileId: f.fileId };
    void n1!.open(f).catch(() => {}); // rejected when the node dies
    await until(async () => p1!.requests === 1 && (await checker.lockHolder(key))?.node === 'n1', 15_000, 'node 1 scanning with the lock');
    const held = (await checker.lockHolder(key))!;
    n1!.kill();
    await n1!.exited;
    const answer = await n2!.open(f);
    const answeredAt = Date.now();
    expect(answer).toMatchObject({ allow: true, reason: 'clean' });
    // Taken over only when the dead node's lease ended (its renewals stopped with it).
    expect(answeredAt).toBeGreaterThanOrEqual(held.expiresAt - 50);
    expect(p2!.requests).toBe(1);
    await n2!.call('drain');
    expect(await checker.lockHolder(key)).toBeUndefined();
  }, 40_000);

  it('a signature update reported on node 3: the file is rescanned on its next open on node 1', async () => {
    const { nodes: [n1, , n3], proxies: [p1] } = await cluster('signatures');
    const f = await file();
    expect((await n1!.open(f)).reason).toBe('clean');
    await n1!.call('drain');
    expect((await n1!.open(f)).reason).toBe('scan-current');
    expect(p1!.requests).toBe(1);
    await n3!.call('sigs', { timestamp: 2_000 });
    await until(async () => (await n1!.call<{ watermark: number }>('metrics')).watermark === 2_000, 10_000, 'node 1 hearing the watermark');
    await new Promise((r) => setTimeout(r, 20)); // node 1's engine re-reads the watermark every 5 ms
    expect(await n1!.open(f)).toMatchObject({ allow: true, reason: 'clean' });
    expect(p1!.requests).toBe(2);
  });

  it('quarantine released on node 2: node 1 stops denying the file', async () => {
    const { nodes: [n1, n2], proxies: [p1], checker } = await cluster('release');
    const f = await file();
    // A false positive recorded earlier (e.g. by older signatures): the file is quarantined.
    await checker.recordScan({ volume: 'vol1', fileId: f.fileId, path: `/${path.basename(f.file!)}`, scanResult: 'infected', threats: ['FalsePositive.Test'], changeStamp: f.changeStamp, sigTimestamp: 1_000 });
    expect(await n1!.open(f)).toMatchObject({ allow: false, reason: 'quarantined' });
    expect(p1!.requests).toBe(0);
    expect(await n2!.call('release', { volume: 'vol1', fileId: f.fileId })).toBe(true);
    await until(async () => (await n1!.call<string>('lookup', { access: f })) !== 'quarantined', 10_000, 'node 1 hearing the release');
    expect(await n1!.open(f)).toMatchObject({ allow: true, reason: 'clean' });
    expect(p1!.requests).toBe(1);
  });

  it('PostgreSQL stopped and started under load: failure policy meanwhile, recovery after, every acknowledged record present', async () => {
    const { nodes, checker } = await cluster('outage');
    const answers: Array<{ phase: string; answer: Answer }> = [];
    let phase = 'before';
    let stop = false;
    const errors: string[] = [];
    // Each node opens new files one after the other until told to stop.
    const load = nodes.map(async (n) => {
      for (let i = 0; i < 2_000 && !stop; i++) {
        const f = await file();
        const at = phase;
        try {
          answers.push({ phase: at, answer: await n.open(f) });
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    });
    await until(() => answers.filter((a) => a.answer.reason === 'clean').length >= 15, 20_000, 'answers before the outage');
    phase = 'down';
    await pg.stopServer('immediate');
    await until(() => answers.filter((a) => a.phase === 'down').length >= 15, 20_000, 'answers during the outage');
    phase = 'restarting';
    pg.startServer();
    await until(() => answers.filter((a) => a.phase === 'restarting' && a.answer.reason === 'clean').length >= 15, 40_000, 'clean answers after the restart');
    stop = true;
    await Promise.all(load);
    await Promise.all(nodes.map((n) => n.call('drain')));

    expect(errors).toEqual([]); // every access was answered, none rejected
    const down = answers.filter((a) => a.phase === 'down');
    // Mandatory policy: while the database is down an access is denied (a scan already past its lock may still answer clean).
    expect(down.filter((a) => a.answer.reason !== 'failure-deny' && a.answer.reason !== 'clean')).toEqual([]);
    expect(down.some((a) => a.answer.reason === 'failure-deny')).toBe(true);
    const acks = nodes.flatMap((n) => n.acks);
    expect(acks.length).toBeGreaterThan(15);
    const missing: Ack[] = [];
    for (const a of acks) {
      const row = await checker.getAttributes({ volume: a.volume, fileId: a.fileId });
      if (row?.scanResult !== a.scanResult) missing.push(a);
    }
    expect(missing).toEqual([]);
  }, 120_000);
});
