// One static runtime per test file, on a temp state dir, with the built-in scanner as its only pool
// (vs1/vol1): created before the file's tests, closed and removed after them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createStaticRuntime, type StaticRuntime } from '../../src/index.js';

export interface RuntimeFixture {
  /** The state dir (exists from the moment the fixture is made). */
  readonly tmp: string;
  /** The runtime; valid inside tests (after beforeAll). */
  readonly rt: StaticRuntime;
}

export function builtinRuntimeFixture(prefix: string): RuntimeFixture {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  let rt: StaticRuntime | undefined;
  beforeAll(async () => {
    rt = await createStaticRuntime({ stateDir: tmp, svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] }] });
  });
  afterAll(async () => {
    await rt?.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  return {
    tmp,
    get rt(): StaticRuntime {
      if (rt === undefined) throw new Error('the runtime fixture is only ready inside tests');
      return rt;
    },
  };
}
