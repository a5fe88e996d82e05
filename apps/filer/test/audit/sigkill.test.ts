// Exactly once, for real: a child process appends audit events under load while its log rotates by
// size and on demand, and is SIGKILLed — at a random moment, right after a batch is written but before
// its cursor moved, and right after a rotation's rename. After each kill a fresh service on the same
// state writes what is left: every committed audit event appears in the log files exactly once.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it, vi } from 'vitest';
import { createAuditService, createStaticRuntime, kActiveLog, listArchives } from '../../src/index.js';

const child = new URL('../fixtures/audit-child.mjs', import.meta.url).pathname;
const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-audit-kill-'));
const uuid = '11111111-2222-3333-4444-555555555555';
const logDir = path.join(dir, 'volumes', 'vs1', 'vol1', 'audit');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runtime() {
  return createStaticRuntime({
    stateDir: dir,
    store: { nodeId: 'node1' },
    svms: [{ name: 'vs1', uuid, volumes: [{ name: 'vol1', root: path.join(dir, 'volumes', 'vs1', 'vol1') }], scanner_pools: [{ name: 'p', servers: ['builtin:'] }] }],
  });
}

function loggedIds(): number[] {
  const names = readdirSync(logDir);
  const files = [...listArchives(logDir, 'vs1').map((a) => a.name), ...(names.includes(kActiveLog) ? [kActiveLog] : [])];
  return files.flatMap((f) => readFileSync(path.join(logDir, f), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => (JSON.parse(l) as { id: number }).id));
}

async function killChild(mode: string): Promise<void> {
  const proc = spawn(process.execPath, [child, dir, mode], { cwd: path.dirname(child), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_code, signal) => r(signal)));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('READY')) resolve(); });
    void exited.then(() => reject(new Error('child exited before READY')));
  });
  if (mode === 'parent') {
    // Let it write a few archives' worth under load, then kill it wherever it is.
    await vi.waitFor(() => expect(listArchives(logDir, 'vs1').length).toBeGreaterThan(3), { timeout: 60_000, interval: 20 });
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 50)));
    proc.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
}

it('every committed audit event is written exactly once across SIGKILLs during writes and rotations under load', { timeout: 180_000 }, async () => {
  mkdirSync(logDir, { recursive: true });
  {
    const rt = await runtime();
    const a = createAuditService(rt);
    a.create(uuid, { log_path: '/vol1/audit', events: { data: true, management: true }, log: { rotation: { size: 1024 * 1024 } } });
    await a.close();
    await rt.close();
  }
  for (const mode of ['parent', 'after-write:40', 'after-rename:5', 'parent']) {
    await killChild(mode);
    const rt = await runtime();
    const a = createAuditService(rt, { pollMs: 60_000 }).start();
    await a.flush();
    await a.close();
    await rt.close();
    const db = new Database(path.join(dir, 'isi_avscan.db'), { readonly: true });
    const committed = (db.prepare("SELECT id FROM events WHERE svm = 'vs1' AND type LIKE 'audit.%' ORDER BY id").all() as Array<{ id: number }>).map((r) => r.id);
    db.close();
    const ids = loggedIds();
    expect(committed.length, mode).toBeGreaterThan(0);
    expect(new Set(ids).size, `${mode}: no line twice`).toBe(ids.length);
    expect(ids, `${mode}: every committed event, in order`).toEqual(committed);
  }
});
