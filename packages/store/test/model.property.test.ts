// Property: any sequence of record / rename / delete / clear operations leaves the store equal to a
// simple in-memory model (a Map keyed by file identity).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openStore, type Attributes, type RecordedResult } from '../src/index.js';
import { tempDbFile } from './helpers.js';

type Op =
  | { kind: 'record'; volume: string; fileId: string; path: string; result: RecordedResult; stamp: string; sig: number }
  | { kind: 'rename'; volume: string; from: string; to: string }
  | { kind: 'deleteFile'; volume: string; fileId: string }
  | { kind: 'deletePath'; volume: string; path: string }
  | { kind: 'clear'; volume: string | undefined }
  | { kind: 'quarantine'; volume: string; fileId: string; value: boolean };

const volume = fc.constantFrom('v1', 'v2');
const fileId = fc.constantFrom('1', '2', '3', '4', '5');
// Small path alphabet so renames and prefixes collide often (including `/a` vs `/ab`).
const segment = fc.constantFrom('a', 'ab', 'b', 'a-');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`);
const result = fc.constantFrom<RecordedResult>('clean', 'infected', 'error', 'unscanned');

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('record' as const), volume, fileId, path, result, stamp: fc.constantFrom('s1', 's2'), sig: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), volume, from: path, to: path }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteFile' as const), volume, fileId }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deletePath' as const), volume, path }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), volume: fc.option(volume, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('quarantine' as const), volume, fileId, value: fc.boolean() }) },
);

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/** The model: what each operation means, written as plainly as possible. */
function applyModel(model: Map<string, Attributes>, o: Op, now: number): void {
  const k = (v: string, f: string) => `${v}\0${f}`;
  switch (o.kind) {
    case 'record':
      model.set(k(o.volume, o.fileId), {
        volume: o.volume, fileId: o.fileId, path: o.path, scanTime: now, scanResult: o.result, threats: [],
        sigTimestamp: o.sig, sigStamp: null, changeStamp: o.stamp, quarantined: o.result === 'infected', cacheValid: true,
      });
      return;
    case 'rename': {
      if (o.from === o.to || under(o.to, o.from) || under(o.from, o.to)) return; // rejected / no-op
      for (const [key, a] of model) if (a.volume === o.volume && under(a.path, o.to)) model.delete(key);
      for (const [key, a] of model) {
        if (a.volume === o.volume && under(a.path, o.from)) model.set(key, { ...a, path: o.to + a.path.slice(o.from.length) });
      }
      return;
    }
    case 'deleteFile':
      model.delete(k(o.volume, o.fileId));
      return;
    case 'deletePath':
      for (const [key, a] of model) if (a.volume === o.volume && under(a.path, o.path)) model.delete(key);
      return;
    case 'clear':
      for (const [key, a] of model) if (o.volume === undefined || a.volume === o.volume) model.set(key, { ...a, cacheValid: false });
      return;
    case 'quarantine': {
      const a = model.get(k(o.volume, o.fileId));
      if (a !== undefined) model.set(k(o.volume, o.fileId), { ...a, quarantined: o.value });
      return;
    }
  }
}

describe('store equals an in-memory model', () => {
  it('after any sequence of record / rename / delete / clear / quarantine', async () => {
    const file = tempDbFile();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const now = 1_000 + run++;
        // One database file for all runs; each run works in its own volume namespace so runs cannot mix.
        const ns = `r${run}-`;
        const store = openStore(file, { clock: () => now, batchMaxRows: 8 });
        const model = new Map<string, Attributes>();
        try {
          const pending: Array<Promise<unknown>> = [];
          for (const o of ops) {
            const v = (x: string) => ns + x;
            switch (o.kind) {
              case 'record':
                pending.push(store.recordScan({ volume: v(o.volume), fileId: o.fileId, path: o.path, scanResult: o.result, changeStamp: o.stamp, sigTimestamp: o.sig }));
                break;
              case 'rename':
                pending.push(store.rename(v(o.volume), o.from, o.to).catch((e: { code?: string }) => {
                  if (e.code !== 'ERR_STORE_INVALID_ARGUMENT') throw e;
                }));
                break;
              case 'deleteFile':
                pending.push(store.deleteFile({ volume: v(o.volume), fileId: o.fileId }));
                break;
              case 'deletePath':
                pending.push(store.deletePath(v(o.volume), o.path));
                break;
              case 'clear':
                // A global clear would touch other runs' namespaces: clear both of this run's volumes instead.
                if (o.volume === undefined) pending.push(store.clearCache(v('v1')), store.clearCache(v('v2')));
                else pending.push(store.clearCache(v(o.volume)));
                break;
              case 'quarantine':
                pending.push(store.setQuarantined({ volume: v(o.volume), fileId: o.fileId }, o.value));
                break;
            }
            applyModel(model, o, now);
          }
          await Promise.all(pending);
          const actual = [...store.listAttributes(ns + 'v1'), ...store.listAttributes(ns + 'v2')]
            .map((a) => ({ ...a, volume: a.volume.slice(ns.length) }))
            .sort((x, y) => (x.volume + x.fileId < y.volume + y.fileId ? -1 : 1));
          const expected = [...model.values()].sort((x, y) => (x.volume + x.fileId < y.volume + y.fileId ? -1 : 1));
          expect(actual).toEqual(expected);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150, interruptAfterTimeLimit: 8_000 },
    );
  }, 30_000);
});
