// The node-local parts of the filer on a shared PostgreSQL store (docs/cluster.md): the audit log — two
// nodes on one database, each writing the audit events made through it (staged from PostgreSQL into
// its node.db, src/audit/stage.ts) exactly once and in id order, while every node's events are in the
// shared `events`; a restart neither loses nor repeats a line —, the daily on-access report, one per
// node, and on-demand jobs, which skip what another node scanned. Both nodes run in this process (the cross-process cluster is test/real/cluster.test.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { kServerHookMs, requirePostgres, startPostgres, type PostgresHandle } from '../../../packages/store-pg/test/support/postgres.js';
import { accessOf, buildDailyReport, createAuditService, createJobManager, ontapJob, dailyReportId, listReports, openAppDb, utcDay, createStaticRuntime, kActiveLog, resolveInVolume, type AuditService, type StaticRuntime } from '../src/index.js';
import { kEicar } from './jobs/helpers.js';

interface Node {
  readonly rt: StaticRuntime;
  audit: AuditService;
  readonly dir: string;
}

describe.skipIf(!requirePostgres())('node-local parts on a shared PostgreSQL store', () => {
  let pg: PostgresHandle | undefined;
  let url = '';
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-audit-pg-'));
  const open: Node[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    url = pg.url(await pg.createDatabase('filer_audit'));
  }, kServerHookMs);
  afterEach(async () => {
    for (const n of open.splice(0)) {
      await n.audit.close();
      await n.rt.close();
    }
  });
  afterAll(async () => {
    await pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }, kServerHookMs);

  async function node(id: string, vol1?: string): Promise<Node> {
    const dir = path.join(tmp, id);
    const rt = await createStaticRuntime({
      stateDir: dir, storeUrl: url, nodeId: id,
      svms: [{ name: 'vs1', volumes: [{ name: 'vol1', ...(vol1 === undefined ? {} : { root: vol1 }) }, { name: 'vol2' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] }],
    });
    mkdirSync(path.join(rt.volume('vs1', 'vol2')!.root, 'audit'), { recursive: true });
    const audit = createAuditService(rt, { pollMs: 60_000 }).start();
    const n = { rt, audit, dir: path.join(rt.volume('vs1', 'vol2')!.root, 'audit') };
    open.push(n);
    return n;
  }

  const lines = (n: Node): Array<Record<string, unknown>> =>
    readFileSync(path.join(n.dir, kActiveLog), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('each node writes its own audit events once, in id order; the shared events hold both nodes\'', async () => {
    const [n1, n2] = [await node('a1'), await node('a2')];
    // Node 2 without data events: both nodes live in this process and hear each other's engines' answers
    // (one diagnostics channel per process), which two real nodes do not.
    n1.audit.create(n1.rt.svm('vs1')!.uuid, { log_path: '/vol2/audit', events: { data: true, management: true } });
    n2.audit.create(n2.rt.svm('vs1')!.uuid, { log_path: '/vol2/audit', events: { data: false, management: true } });
    const vol = n1.rt.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'evil.com'), kEicar);
    const denied = await n1.rt.engine('vs1').open(accessOf(resolveInVolume(vol, 'evil.com')));
    expect(denied).toMatchObject({ allow: false, reason: 'infected' });
    // Interleaved management changes on both nodes: ids from one sequence, commits from two nodes.
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? n1 : n2).audit.recordManagement('vs1', { api: 'ontap', method: 'PATCH', path: `/p/${String(i)}` })));
    await n1.audit.flush();
    await n2.audit.flush();

    const l1 = lines(n1);
    const l2 = lines(n2);
    expect(l1.filter((l) => l.category === 'data').map((l) => [l.path, l.reason])).toEqual([['\\vol1\\evil.com', 'infected']]);
    expect(l1.filter((l) => l.category === 'management').map((l) => l.reason).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `PATCH /p/${String(i * 2)}`).sort());
    expect(l2.map((l) => l.reason).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `PATCH /p/${String(i * 2 + 1)}`).sort());
    for (const l of [l1, l2]) {
      const ids = l.map((x) => x.id as number);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    }
    const shared = await n2.rt.store.queryEvents({ svm: 'vs1', type: 'audit.management' });
    expect(new Set(shared.records.map((e) => e.node))).toEqual(new Set(['a1', 'a2']));
    expect(shared.records).toHaveLength(40);
  });

  it('a restarted audit service goes on from its cursor: no line lost or repeated', async () => {
    const n = await node('b1');
    n.audit.create(n.rt.svm('vs1')!.uuid, { log_path: '/vol2/audit', events: { data: false, management: true } });
    for (let i = 0; i < 5; i++) await n.audit.recordManagement('vs1', { api: 'ontap', method: 'POST', path: `/before/${String(i)}` });
    await n.audit.flush();
    await n.audit.close();
    n.audit = createAuditService(n.rt, { pollMs: 60_000 }).start();
    for (let i = 0; i < 5; i++) await n.audit.recordManagement('vs1', { api: 'ontap', method: 'POST', path: `/after/${String(i)}` });
    await n.audit.flush();
    expect(lines(n).map((l) => l.reason)).toEqual([...Array.from({ length: 5 }, (_, i) => `POST /before/${String(i)}`), ...Array.from({ length: 5 }, (_, i) => `POST /after/${String(i)}`)]);
  });

  it('the daily on-access report is per node: its id names the node, its infections are the node\'s', async () => {
    const [n1, n2] = [await node('c1'), await node('c2')];
    const vol = n1.rt.volume('vs1', 'vol1')!;
    writeFileSync(path.join(vol.root, 'bad.com'), kEicar);
    expect(await n1.rt.engine('vs1').open(accessOf(resolveInVolume(vol, 'bad.com')))).toMatchObject({ allow: false });
    await n1.rt.engine('vs1').drain();
    await n2.rt.store.appendEvent({ type: 'file.infected', svm: 'vs1', node: 'c2', filePath: '\\vol1\\other.com', details: { threats: ['Test.Other'], response: 'quarantined' } });
    const day = utcDay(Date.now());
    const reports = [];
    for (const n of [n1, n2]) {
      const db = openAppDb(n.rt.appDbFile);
      try {
        reports.push(await buildDailyReport(n.rt, db, { day }));
      } finally {
        db.close();
      }
    }
    expect(reports.map((r) => r.id)).toEqual([`${dailyReportId(day)}@c1`, `${dailyReportId(day)}@c2`]);
    expect(reports.map((r) => r.infections.map((i) => i.filePath))).toEqual([['\\vol1\\bad.com'], ['\\vol1\\other.com']]);
    // Both in the shared store (other tests of this file use other databases' nodes: filter by id).
    const listed = (await listReports(n1.rt.store, { kind: 'on-access-daily' })).records.map((r) => r.id);
    expect(listed).toEqual(expect.arrayContaining(reports.map((r) => r.id)));
  });

  it('an on-demand job on node 2 skips the files node 1 scanned (confirmed with the database, no scan)', async () => {
    const shared = path.join(tmp, 'shared-vol1');
    mkdirSync(path.join(shared, 'docs'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(path.join(shared, 'docs', `f${String(i)}.txt`), `file ${String(i)}`);
    const [n1, n2] = [await node('d1', shared), await node('d2', shared)];
    const first = createJobManager(n1.rt);
    const second = createJobManager(n2.rt);
    // The real store's reads, counted: node 1's job confirms each unscanned file with the database
    // once (its lookup, handed to the scan) and the lock stage reads it once more.
    const reads = vi.spyOn(n1.rt.store, 'getAttributes');
    try {
      expect(await first.start(ontapJob(n1.rt, 'vs1', { name: 'j1', scan_paths: ['/vol1/docs/'] })).done).toMatchObject({ state: 'completed', scanned: 20 });
      expect(reads).toHaveBeenCalledTimes(40);
      reads.mockRestore();
      const status = await second.start(ontapJob(n2.rt, 'vs1', { name: 'j2', scan_paths: ['/vol1/docs/'] })).done;
      expect(status).toMatchObject({ state: 'completed', checked: 20, scanned: 0 });
      expect(n2.rt.engine('vs1').metrics().scansStarted).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
