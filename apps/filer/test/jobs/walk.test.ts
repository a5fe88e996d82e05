// The job's tree walk: total order, lazy, resumes right after a checkpoint, no symlinks followed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { countFiles, walkBatches, walkFiles, type Position } from '../../src/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avscan-walk-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: string[]): string {
  const root = mkdtempSync(path.join(tmp, 't-'));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), f);
  }
  return root;
}

async function all(roots: { abs: string }[], after?: Position): Promise<string[]> {
  const out: string[] = [];
  for await (const it of walkFiles(roots, after)) out.push(`${it.root}:${it.rel.join('/')}`);
  return out;
}

it('visits files in sorted order per folder, depth first, roots in order', async () => {
  const a = tree(['b/2', 'b/1', 'a', 'c/d/e', 'B']);
  const b = tree(['z']);
  expect(await all([{ abs: a }, { abs: b }])).toEqual(['0:B', '0:a', '0:b/1', '0:b/2', '0:c/d/e', '1:z']);
  expect(await countFiles([{ abs: a }, { abs: b }])).toBe(6);
});

it('resumes right after any checkpoint, including one inside a folder or whose file was deleted', async () => {
  const a = tree(['a', 'b/1', 'b/2', 'c/d/e', 'c/f']);
  const full = await all([{ abs: a }]);
  for (let i = 0; i < full.length; i++) {
    const rel = full[i]!.slice(2).split('/');
    expect(await all([{ abs: a }], [0, ...rel])).toEqual(full.slice(i + 1));
  }
  // A checkpoint naming a file that is gone: the walk goes on with the next name in order.
  expect(await all([{ abs: a }], [0, 'b', '15'])).toEqual(['0:b/2', '0:c/d/e', '0:c/f']);
});

it('a root may be a single file; symlinks are neither followed nor listed', async () => {
  const a = tree(['x/real']);
  symlinkSync('/etc', path.join(a, 'x', 'etc-link'));
  symlinkSync(path.join(a, 'x', 'real'), path.join(a, 'x', 'file-link'));
  expect(await all([{ abs: a }])).toEqual(['0:x/real']);
  expect(await all([{ abs: path.join(a, 'x', 'real') }])).toEqual(['0:']);
  expect(await all([{ abs: path.join(a, 'x', 'real') }], [0])).toEqual([]);
  expect(await all([{ abs: path.join(a, 'missing') }])).toEqual([]);
});

it('countFiles counts exactly the files the walk lists: symlinks, a FIFO, a root with a trailing slash, a file root', async () => {
  const a = tree(['x/real', 'x/y/z/deep', 'top']);
  symlinkSync('/etc', path.join(a, 'x', 'etc-link'));
  symlinkSync(path.join(a, 'x', 'real'), path.join(a, 'x', 'y', 'file-link'));
  execFileSync('mkfifo', [path.join(a, 'x', 'fifo')]);
  const roots = [{ abs: a + '/' }, { abs: path.join(a, 'x', 'y') }, { abs: path.join(a, 'top') }, { abs: path.join(a, 'nothing') }];
  const listed = await all(roots);
  expect(listed).toEqual(['0:top', '0:x/real', '0:x/y/z/deep', '1:z/deep', '2:']);
  expect(await countFiles(roots)).toBe(listed.length);
  // The walk's paths are the joined paths, even under a root given with a trailing slash.
  for await (const it of walkFiles(roots)) expect(it.file).toBe(path.join(roots[it.root]!.abs, ...it.rel));
});

it('walkBatches hands over the same files in the same order, a folder at a time, at most 256 per batch, never empty', async () => {
  const files = [...Array.from({ length: 600 }, (_, i) => `big/f${String(i).padStart(3, '0')}`), 'a', 'big/sub/x', 'c/1', 'c/2'];
  const a = tree(files);
  const flat = await all([{ abs: a }]);
  const batches: string[][] = [];
  for await (const b of walkBatches([{ abs: a }])) batches.push(b.map((it) => `${it.root}:${it.rel.join('/')}`));
  expect(batches.flat()).toEqual(flat);
  for (const b of batches) {
    expect(b.length).toBeGreaterThan(0);
    expect(b.length).toBeLessThanOrEqual(256);
    // One folder's files each: the components before the name are the same.
    expect(new Set(b.map((f) => f.slice(0, f.lastIndexOf('/') + 1))).size).toBe(1);
  }
  // `big` holds 600 files and then a folder: its files come in three batches, before the folder's.
  expect(batches.map((b) => b.length)).toEqual([1, 256, 256, 88, 1, 2]);
  // A resumed walk starts mid-folder.
  const resumed: string[] = [];
  for await (const b of walkBatches([{ abs: a }], [0, 'big', 'f299'])) resumed.push(...b.map((it) => it.rel.join('/')));
  expect(resumed[0]).toBe('big/f300');
  expect(resumed).toHaveLength(300 + 3);
});
