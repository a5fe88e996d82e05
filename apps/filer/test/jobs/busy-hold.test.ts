// While clients are served, a job holds back files larger than busyMaxFileSize (a client's scan
// beside a big background scan at the same scanner is several times slower) and sends them when the
// clients are quiet or the walk ends. Real files, the built-in scanner, real client opens.
import diagnostics_channel from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { accessOf, createJobManager, FilerErrorCodes, ontapJob, resolveInVolume, type JobManagerOptions } from '../../src/index.js';
import { makeRig, openedPerTest, type Rig } from './helpers.js';

const t = openedPerTest();
const kWindowMs = 300;
const kBig = 'a/000-big.bin';

/** Background dispatches of vol1, in order: SVM paths (`\vol1\a\…`). */
function backgroundDispatches(): { readonly paths: string[]; stop(): void } {
  const paths: string[] = [];
  const on = (m: unknown): void => {
    const { access, priority } = m as { access: { path: string }; priority: string };
    if (priority === 'background' && access.path.startsWith('\\vol1\\')) paths.push(access.path);
  };
  diagnostics_channel.subscribe('avscan:engine:dispatched', on);
  return { paths, stop: () => diagnostics_channel.unsubscribe('avscan:engine:dispatched', on) };
}

/** A client opening a fresh file of vol2 every few ms until stopped: the SVM is serving clients. */
function client(rig: Rig): { stop(): Promise<void> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const name = `client${String(n++)}.txt`;
      rig.put('vol2', name, `client file ${String(n)}`);
      const answer = await rig.rt.engine('vs1').open(accessOf(resolveInVolume(rig.rt.volume('vs1', 'vol2')!, name)));
      expect(answer.reason).toBe('clean');
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { stop: async () => { running = false; await loop; } };
}

function tree(rig: Rig, small: number): void {
  rig.put('vol1', kBig, Buffer.alloc(300 * 1024, 7));
  for (let i = 1; i <= small; i++) rig.put('vol1', `a/${String(i).padStart(4, '0')}.txt`, `small ${String(i)}`);
}

/** The big file as the engine names it (SVM path). */
const bigPath = `\\vol1\\${kBig.replaceAll('/', '\\')}`;

/** Waits for a client scan dispatched from now on: a manager created before it has seen the SVM busy. */
function clientSeen(): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if ((m as { priority: string }).priority === 'background') return;
      diagnostics_channel.unsubscribe('avscan:engine:dispatched', on);
      resolve();
    };
    diagnostics_channel.subscribe('avscan:engine:dispatched', on);
  });
}

/**
 * A rig with the big file first and `small` small files behind it, a client being served all along,
 * and `t.jobs` created with `options` once it has seen a client scan; `body` gets the background
 * dispatches so far and a way to stop the client.
 */
async function whileServed(small: number, options: JobManagerOptions, body: (seen: readonly string[], stopClient: () => Promise<void>) => Promise<void>): Promise<void> {
  t.rig = await makeRig();
  tree(t.rig, small);
  const seen = backgroundDispatches();
  const c = client(t.rig);
  try {
    t.jobs = createJobManager(t.rig.rt, options);
    await clientSeen();
    await body(seen.paths, c.stop);
  } finally {
    await c.stop();
    seen.stop();
  }
}

describe('big files while clients are served', () => {
  it('are held while a client is served and sent once the clients are quiet, before the walk ends', async () => {
    await whileServed(3000, { concurrency: 4, interactiveWindowMs: kWindowMs }, async (seen, stopClient) => {
      const { id, done } = t.jobs!.start(ontapJob(t.rig!.rt, 'vs1', { name: 'hold', scan_paths: ['/vol1/'] }));
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(100), { timeout: 20_000, interval: 5 });
      expect(seen).not.toContain(bigPath); // walked first, still held
      await stopClient();
      const status = await done;
      const at = seen.indexOf(bigPath);
      expect(at).toBeGreaterThanOrEqual(100); // after files that follow it in walk order…
      expect(at).toBeLessThan(seen.length - 1); // …but sent once the clients were quiet, not at the walk's end
      expect(status).toMatchObject({ state: 'completed', checked: 3001, scanned: 3001, failed: 0 });
      expect(t.jobs!.get(id)!.bytes).toBe(300 * 1024 + [...Array(3000).keys()].reduce((n, i) => n + `small ${String(i + 1)}`.length, 0));
    });
  });

  it('are sent when the walk ends, even while clients are still served', async () => {
    await whileServed(30, { interactiveWindowMs: 60_000 }, async (seen) => {
      const status = await t.jobs!.start(ontapJob(t.rig!.rt, 'vs1', { name: 'end', scan_paths: ['/vol1/'] })).done;
      expect(seen.at(-1)).toBe(bigPath);
      expect(status).toMatchObject({ state: 'completed', checked: 31, scanned: 31 });
    });
  });

  it('with busyMaxFileSize Infinity, go in walk order', async () => {
    await whileServed(30, { interactiveWindowMs: 60_000, busyMaxFileSize: Infinity }, async (seen) => {
      await t.jobs!.start(ontapJob(t.rig!.rt, 'vs1', { name: 'order', scan_paths: ['/vol1/'] })).done;
      expect(seen[0]).toBe(bigPath);
    });
  });

  it('a cancelled job does not scan a held file, and counts the files done after it', async () => {
    await whileServed(3000, { concurrency: 2, interactiveWindowMs: 60_000 }, async (seen) => {
      const { id } = t.jobs!.start(ontapJob(t.rig!.rt, 'vs1', { name: 'cancel', scan_paths: ['/vol1/'] }));
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(100), { timeout: 20_000, interval: 5 });
      const end = await t.jobs!.cancel(id);
      expect(end.state).toBe('cancelled');
      expect(seen).not.toContain(bigPath);
      expect(end.scanned).toBe(seen.length); // every file sent is counted, though the held one before them never finished
      expect(end.checked).toBe(end.scanned);
      expect(t.rig!.rt.store.getReport(id)).toMatchObject({ state: 'cancelled', filesScanned: end.scanned });
    });
  });

  it('a job closed while it holds a file resumes before it: the held file is scanned and every file counted once', async () => {
    await whileServed(1000, { concurrency: 2, checkpointEvery: 10, interactiveWindowMs: 60_000 }, async (seen, stopClient) => {
      const { id } = t.jobs!.start(ontapJob(t.rig!.rt, 'vs1', { name: 'close', scan_paths: ['/vol1/'] }));
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(100), { timeout: 20_000, interval: 5 });
      await t.jobs!.close();
      await stopClient();
      const paused = createJobManager(t.rig!.rt);
      // The checkpoint stays before the held file, the first of the walk: nothing is folded yet.
      expect(paused.get(id)).toMatchObject({ state: 'running', checked: 0 });
      await paused.close();

      t.jobs = createJobManager(t.rig!.rt, { concurrency: 2 });
      expect(t.jobs!.recover()).toEqual([id]);
      await vi.waitFor(() => expect(t.jobs!.get(id)!.state).toBe('completed'), { timeout: 20_000, interval: 20 });
      expect(seen).toContain(bigPath);
      // Files scanned before the close are current on the second visit: counted once, as current.
      expect(t.jobs!.get(id)).toMatchObject({ checked: 1001 });
      const end = t.jobs!.get(id)!;
      expect(end.scanned + end.current).toBe(1001);
    });
  });

  it('busyMaxFileSize must be a byte count or Infinity', async () => {
    t.rig = await makeRig();
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => createJobManager(t.rig!.rt, { busyMaxFileSize: bad })).toThrow(expect.objectContaining({ code: FilerErrorCodes.INVALID_CONFIG, target: 'busyMaxFileSize' }));
    }
    const zero = createJobManager(t.rig.rt, { busyMaxFileSize: 0 });
    await zero.close();
  });
});
