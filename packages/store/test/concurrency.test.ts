// Two processes (two connections) race for the same locks: each round exactly one wins.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { kDist, tempDbFile } from './helpers.js';

const kRacer = path.join(import.meta.dirname, 'fixtures', 'lock-racer.mjs');
const kRounds = 300;

function start(file: string, nodeId: string): { child: ChildProcessWithoutNullStreams; ready: Promise<void>; done: Promise<number[]> } {
  const child = spawn(process.execPath, [kRacer, file, nodeId, String(kRounds)]);
  let out = '';
  let err = '';
  let markReady: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.includes('READY\n')) markReady();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<number[]>((resolve, reject) => {
    child.on('close', (code) => {
      if (code !== 0 || !out.includes('DONE\n')) reject(new Error(`racer ${nodeId} exited ${code}: ${err}`));
      else resolve(out.split('\n').filter((l) => l.startsWith('WIN ')).map((l) => Number(l.slice(4))));
    });
  });
  return { child, ready, done };
}

describe('lock race across processes', () => {
  it('exactly one of two processes wins each round', async () => {
    expect(fs.existsSync(kDist), 'build the package first (npm test does: tsc -b)').toBe(true);
    const file = tempDbFile();
    await openStore(file).close();
    const a = start(file, 'node-a');
    const b = start(file, 'node-b');
    await Promise.all([a.ready, b.ready]);
    const go = `go ${Date.now() + 300}\n`;
    a.child.stdin.end(go);
    b.child.stdin.end(go);
    const [winsA, winsB] = await Promise.all([a.done, b.done]);
    const all = [...winsA, ...winsB].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: kRounds }, (_, i) => i));
    // Both processes won some rounds: the race was real, not one process running alone.
    expect(winsA.length).toBeGreaterThan(0);
    expect(winsB.length).toBeGreaterThan(0);
    // The database agrees with the processes about every winner.
    const check = openStore(file, { nodeId: 'checker' });
    try {
      for (const r of winsA) expect(check.lockHolder({ volume: 'vol1', fileId: `r${r}` })!.node).toBe('node-a');
      for (const r of winsB) expect(check.lockHolder({ volume: 'vol1', fileId: `r${r}` })!.node).toBe('node-b');
    } finally {
      await check.close();
    }
  }, 30_000);
});
