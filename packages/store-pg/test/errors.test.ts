// The error catalog: SQLSTATEs and socket failures map to stable codes, the README documents exactly
// the catalog, and options / connection problems are refused with coded errors.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError, StoreErrorCodes } from '@avscan/store';
import { classifyPgError, openPgStore, StorePgError, StorePgErrorCodes } from '../src/index.js';
import { resolvePgStoreOptions } from '../src/options.js';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('classifyPgError', () => {
  it.each([
    ['57P01', 'ERR_STOREPG_UNAVAILABLE', true], // admin shutdown
    ['57P03', 'ERR_STOREPG_UNAVAILABLE', true], // cannot connect now (starting up)
    ['08006', 'ERR_STOREPG_UNAVAILABLE', true],
    ['53300', 'ERR_STOREPG_UNAVAILABLE', true], // too many connections
    ['ECONNREFUSED', 'ERR_STOREPG_UNAVAILABLE', true],
    ['ENOENT', 'ERR_STOREPG_UNAVAILABLE', true], // unix socket gone
    ['EPIPE', 'ERR_STOREPG_UNAVAILABLE', true], // five capitals, like a SQLSTATE: seen when the server stops mid-write
    ['57014', 'ERR_STOREPG_TIMEOUT', true],
    ['40P01', 'ERR_STOREPG_CONFLICT', true],
    ['40001', 'ERR_STOREPG_CONFLICT', true],
    ['23505', 'ERR_STOREPG_CONSTRAINT', false],
    ['28P01', 'ERR_STOREPG_REJECTED', false],
    ['3D000', 'ERR_STOREPG_REJECTED', false],
    ['42P01', 'ERR_STOREPG_POSTGRES', false],
  ])('%s → %s (retryable %s)', (code, expected, retryable) => {
    const e = classifyPgError(pgError(code, 'line one.\nline two'), 'db.example:5432/avscan');
    expect(e).toBeInstanceOf(StorePgError);
    expect([e.code, e.retryable]).toEqual([expected, retryable]);
    expect(e.message).toContain('db.example:5432/avscan');
    expect(e.message).not.toMatch(/\n/);
  });

  it('recognises node-postgres messages for a dropped connection', () => {
    expect(classifyPgError(new Error('Connection terminated unexpectedly')).code).toBe('ERR_STOREPG_UNAVAILABLE');
    expect(classifyPgError(new Error('timeout exceeded when trying to connect')).code).toBe('ERR_STOREPG_UNAVAILABLE');
  });

  it('renames the shared validators’ StoreErrors into this catalog and passes its own through', () => {
    const bad = classifyPgError(new StoreError(StoreErrorCodes.INVALID_ARGUMENT, 'x', { target: 'path' }));
    expect(bad).toMatchObject({ code: 'ERR_STOREPG_INVALID_ARGUMENT', target: 'path' });
    const own = new StorePgError(StorePgErrorCodes.CLOSED, 'x');
    expect(classifyPgError(own)).toBe(own);
  });

  it('lists the same codes as the README Errors table', () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\| `(ERR_STOREPG_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.values(StorePgErrorCodes).sort());
  });

  it('codes are unique and well-formed, and the catalog is frozen', () => {
    const codes = Object.values(StorePgErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^ERR_STOREPG_[A-Z_]+$/);
    expect(Object.isFrozen(StorePgErrorCodes)).toBe(true);
  });
});

describe('options', () => {
  it('has documented defaults', () => {
    expect(resolvePgStoreOptions(undefined)).toMatchObject({ nodeId: 'node1', batchMaxRows: 1024, batchMaxDelayMs: 1, poolMax: 10, cacheMaxEntries: 100_000 });
  });

  it.each([
    [{ nodId: 'x' }, 'ERR_STOREPG_UNKNOWN_OPTION', 'nodId'],
    [{ nodeId: '' }, 'ERR_STOREPG_INVALID_OPTION', 'nodeId'],
    [{ batchMaxRows: 0 }, 'ERR_STOREPG_INVALID_OPTION', 'batchMaxRows'],
    [{ poolMax: 1 }, 'ERR_STOREPG_INVALID_OPTION', 'poolMax'],
    [{ cacheMaxEntries: -1 }, 'ERR_STOREPG_INVALID_OPTION', 'cacheMaxEntries'],
    [{ clock: 5 }, 'ERR_STOREPG_INVALID_OPTION', 'clock'],
  ])('%o → %s', async (options, code, target) => {
    await expect(openPgStore('postgresql://nowhere.invalid/x', options as never)).rejects.toMatchObject({ code, target });
  });

  it('refuses a bad connection argument', async () => {
    await expect(openPgStore('', {})).rejects.toMatchObject({ code: 'ERR_STOREPG_INVALID_ARGUMENT', target: 'connection' });
    await expect(openPgStore(42 as never, {})).rejects.toMatchObject({ code: 'ERR_STOREPG_INVALID_ARGUMENT' });
  });
});
