// Process lifecycle: on Node 24, better-sqlite3 12 aborted (SIGABRT in a statement destructor's
// environment cleanup hook) when a process exited after using a store. Each of 50 real child processes
// opens a store with its checkpointer worker, writes, locks, reads, appends an event, closes and exits
// on its own; every one must exit 0, and the database must hold every child's writes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDbFile } from './helpers.js';

const kChild = path.join(import.meta.dirname, 'fixtures', 'lifecycle-child.mjs');
const kChildren = 50;
const kParallel = 5;

function runChild(file: string, index: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kChild, file, String(index)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, out, err });
    });
  });
}

describe(`store lifecycle in ${kChildren} child processes (Node ${process.versions.node})`, () => {
  it('every process opens, uses, closes its store and exits 0', async () => {
    const file = tempDbFile();
    const failures: string[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < kChildren) {
        const i = next++;
        const r = await runChild(file, i);
        if (r.code !== 0 || !r.out.includes('CLOSED')) failures.push(`child ${i}: code ${r.code} signal ${r.signal} ${r.err.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: kParallel }, lane));
    expect(failures).toEqual([]);

    const store = openStore(file, { nodeId: 'checker' });
    try {
      for (let i = 0; i < kChildren; i++) expect(store.getAttributes({ volume: 'vol1', fileId: `${i}-19` })?.scanResult).toBe('clean');
      expect(store.queryEvents({ type: 'lifecycle.test', maxRecords: 1000 }).numRecords).toBe(kChildren);
    } finally {
      await store.close();
    }
  }, 120_000);
});
