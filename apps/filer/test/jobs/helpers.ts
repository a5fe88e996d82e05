// Shared set-up of the jobs, reports and audit tests: a static runtime on a temp state folder with the
// built-in scanner, and a helper that writes real files into a volume.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createStaticRuntime, type AuditService, type JobManager, type StaticRuntime, type StaticSvm } from '../../src/index.js';

/** The EICAR test string, built here so the source file itself is not flagged by scanners. */
export const kEicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

export interface Rig {
  readonly dir: string;
  readonly rt: StaticRuntime;
  /** Writes `content` at `rel` inside volume `volume` of vs1. */
  put(volume: string, rel: string, content: string | Buffer): string;
  close(): Promise<void>;
}

export async function makeRig(options: { dir?: string; svm?: Partial<StaticSvm>; nodeId?: string } = {}): Promise<Rig> {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-od-'));
  const rt = await createStaticRuntime({
    stateDir: dir,
    ...(options.nodeId !== undefined ? { store: { nodeId: options.nodeId } } : {}),
    svms: [{ name: 'vs1', volumes: [{ name: 'vol1' }, { name: 'vol2' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }], ...options.svm }],
  });
  return {
    dir,
    rt,
    put(volume, rel, content) {
      const file = path.join(rt.volume('vs1', volume)!.root, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    async close() {
      await rt.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a test opened; closed after each test (services before the rig), then forgotten. */
export interface Opened {
  rig?: Rig | undefined;
  jobs?: JobManager | undefined;
  audit?: AuditService | undefined;
}

export function openedPerTest(): Opened {
  const o: Opened = {};
  afterEach(async () => {
    await o.jobs?.close();
    await o.audit?.close();
    await o.rig?.close();
    o.jobs = o.audit = o.rig = undefined;
  });
  return o;
}
