// Crash test with a real process and a real kill: a child writes attributes under load through group
// commit and prints each acknowledged write; we SIGKILL it at random moments, reopen, and require
// every acknowledged write to be present, `PRAGMA integrity_check` = ok, and the killed process's
// locks to be released when a store with the same nodeId opens.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { kDist, tempDbFile } from './helpers.js';

const kChild = path.join(import.meta.dirname, 'fixtures', 'crash-child.mjs');
const kRounds = 20;

interface ChildRun {
  acked: string[];
  locks: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runAndKill(file: string, first: number, nodeId: string, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kChild, file, String(first), nodeId], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (timer === undefined && out.includes('READY\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer !== undefined) clearTimeout(timer);
      // Only complete lines count: the kill can cut the last one.
      const lines = out.split('\n').slice(0, -1);
      resolve({
        acked: lines.filter((l) => l.startsWith('ACK ')).map((l) => l.slice(4)),
        locks: lines.filter((l) => l.startsWith('LOCK ')).map((l) => l.slice(5)),
        code,
        signal,
        stderr,
      });
    });
  });
}

describe('crash safety (SIGKILL under group-commit load)', () => {
  it('keeps every acknowledged write and recovers locks, over 20 random kills', async () => {
    expect(fs.existsSync(kDist), 'build the package first (npm test does: tsc -b)').toBe(true);
    const file = tempDbFile();
    openStore(file).close(); // create and migrate once, so children race on writes, not on the schema
    let first = 0;
    let totalAcked = 0;
    for (let round = 0; round < kRounds; round++) {
      const killAfter = 10 + Math.floor(Math.random() * 200);
      const run = await runAndKill(file, first, 'crash-node', killAfter);
      expect(run.stderr).toBe('');
      expect(run.signal).toBe('SIGKILL');
      expect(run.locks).toEqual([`lock-${first}`]);

      // Another node still sees the dead process's lock (its lease is an hour long) ...
      const observer = openStore(file, { nodeId: 'observer' });
      try {
        expect(observer.lockHolder({ volume: 'vol1', fileId: `lock-${first}` })?.node).toBe('crash-node');
        expect(observer.integrityCheck()).toBe('ok');
        for (const id of run.acked) {
          const a = observer.getAttributes({ volume: 'vol1', fileId: id });
          if (a === undefined) throw new Error(`acknowledged write ${id} lost after kill in round ${round}`);
        }
      } finally {
        await observer.close();
      }
      // ... until the same nodeId reopens the store.
      const reopened = openStore(file, { nodeId: 'crash-node' });
      try {
        expect(reopened.lockHolder({ volume: 'vol1', fileId: `lock-${first}` })).toBeUndefined();
      } finally {
        await reopened.close();
      }
      totalAcked += run.acked.length;
      first += 1_000_000;
    }
    // The kills must have landed under load, not before the first commit every time.
    expect(totalAcked).toBeGreaterThan(kRounds * 100);
  }, 90_000);
});
