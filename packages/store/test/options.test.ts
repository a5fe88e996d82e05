import { describe, expect, it } from 'vitest';
import { kDefaultStoreOptions, openStore } from '../src/index.js';
import { freshStore, tempDbFile } from './helpers.js';

describe('options', () => {
  it('defaults are frozen and applied', () => {
    expect(Object.isFrozen(kDefaultStoreOptions)).toBe(true);
    const s = freshStore();
    expect(s.options).toMatchObject({ nodeId: 'node1', batchMaxRows: 512, batchMaxDelayMs: 1, readonly: false, synchronous: 'normal' });
    expect(Object.isFrozen(s.options)).toBe(true);
    expect(s.nodeId).toBe('node1');
  });

  it.each([
    [{ batchMaxRows: 0 }, 'batchMaxRows'],
    [{ batchMaxRows: 1.5 }, 'batchMaxRows'],
    [{ batchMaxDelayMs: -1 }, 'batchMaxDelayMs'],
    [{ busyTimeoutMs: '5' }, 'busyTimeoutMs'],
    [{ nodeId: '' }, 'nodeId'],
    [{ nodeId: 7 }, 'nodeId'],
    [{ readonly: 'yes' }, 'readonly'],
    [{ synchronous: 'extra' }, 'synchronous'],
    [{ cacheSizeKiB: 1 }, 'cacheSizeKiB'],
    [{ clock: 5 }, 'clock'],
  ])('rejects %o naming the option', (opts, target) => {
    expect(() => openStore(tempDbFile(), opts as never)).toThrow(expect.objectContaining({ code: 'ERR_STORE_INVALID_OPTION', target }));
  });

  it('rejects unknown and misspelled options', () => {
    expect(() => openStore(tempDbFile(), { batchMaxRow: 5 } as never)).toThrow(expect.objectContaining({ code: 'ERR_STORE_UNKNOWN_OPTION', target: 'batchMaxRow' }));
  });

  it('ignores polluted prototypes and rejects __proto__ keys', () => {
    const polluted = Object.create({ batchMaxRows: -5 }) as object;
    expect(freshStore(polluted).options.batchMaxRows).toBe(512);
    const proto = JSON.parse('{"__proto__": {"readonly": true}}') as object;
    expect(() => openStore(tempDbFile(), proto)).toThrow(expect.objectContaining({ code: 'ERR_STORE_UNKNOWN_OPTION' }));
  });

  it('rejects non-object options', () => {
    expect(() => openStore(tempDbFile(), 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_STORE_INVALID_OPTION' }));
  });

  it("synchronous: 'full' opens a working store", () => {
    const s = freshStore({ synchronous: 'full' });
    expect(s.options.synchronous).toBe('full');
    expect(s.acquireLock({ volume: 'v', fileId: '1' }, 'o', 's', 10).acquired).toBe(true);
  });
});
