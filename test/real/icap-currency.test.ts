// ICAP scan currency by ISTag (SPEC §7, ONTAP-API §3.2, OneFS's rule): a file scanned through real
// c-icap stores the ISTag; when c-icap comes back with another ISTag (its engine's signatures were
// updated, it restarted) the file is no longer current and is rescanned on its next access.
// c-icap's clamd_mod engine talks to our clamd-protocol server (over TCP: zSCAN of c-icap's temp
// file) here, because its VERSION reply carries a signature version we can change (a real clamd
// without .cvd databases reports none, so its ISTag never changes).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher } from '@avscan/dispatch';
import { createEngine, type FileAccess } from '@avscan/engine';
import { defaultSignaturesPath, ScanEngine, startScannerServer } from '@avscan/scanner';
import { changeStampOf, openStore } from '@avscan/store';
import { requireBinary, startCicap, type CicapHandle } from '../support/index.js';

const available = requireBinary('c-icap');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A signature file whose version clamd_mod can parse (a number, like a ClamAV daily version). */
function signatures(dir: string, version: number): string {
  const file = path.join(dir, `v${version}.sigs`);
  writeFileSync(file, readFileSync(defaultSignaturesPath, 'utf8').replace(/version=\S+/, `version=${version}`));
  return file;
}

describe.skipIf(!available)('engine → real c-icap: ISTag currency', () => {
  it('a new ISTag makes scanned files stale: rescanned, the new ISTag stored', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-istag-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const scanEngine = await ScanEngine.create({ workers: 1, signatures: signatures(dir, 27001) });
    cleanups.push(() => scanEngine.close());
    const scanner = await startScannerServer({ engine: scanEngine, tcp: { host: '127.0.0.1', port: 0 }, log: () => {} });
    cleanups.push(() => scanner.close());
    let icap: CicapHandle = await startCicap({ clamdTcp: scanner.tcp! });
    cleanups.push(() => icap.stop());
    const store = openStore(path.join(dir, 'isi_avscan.db'));
    cleanups.push(() => store.close());
    const dispatcher = createDispatcher({
      scanner_pools: [{ name: 'icap', servers: [icap.url] }],
      request_timeout: 10, health_check_interval: 0.1, session_retry_interval: 0.05, session_setup_timeout: 2, max_session_setup_retries: 50,
    });
    cleanups.push(() => dispatcher.close());
    await dispatcher.ready();
    const engine = createEngine({ store, dispatcher, policy: { name: 'p1', scope: {} }, watermarkRefreshMs: 1 });
    cleanups.push(() => engine.shutdown());

    const full = path.join(dir, 'report.docx');
    writeFileSync(full, `quarterly numbers ${Date.now()}`);
    const st = await stat(full, { bigint: true });
    const a: FileAccess = {
      volume: 'vol1', fileId: String(st.ino), path: '\\vol1\\report.docx', size: Number(st.size), file: full,
      changeStamp: changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }),
    };
    const first = dispatcher.serverStatus()[0]!.signature!;
    expect(first).toMatch(/^"?CI0001-/);
    expect(await engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
    await engine.drain();
    expect(store.getAttributes({ volume: 'vol1', fileId: a.fileId })).toMatchObject({ scanResult: 'clean', sigTimestamp: 0, sigStamp: first });
    expect(await engine.open(a)).toMatchObject({ reason: 'scan-current' });
    const scansBefore = scanner.stats().scans;

    // Definitions update: the engine behind c-icap gets new signatures and c-icap restarts with them.
    await scanEngine.reload(signatures(dir, 27002));
    const port = icap.port;
    await icap.stop();
    icap = await startCicap({ clamdTcp: scanner.tcp!, port });
    await until(() => {
      const s = dispatcher.serverStatus()[0]!;
      return s.state === 'connected' && s.signature !== null && s.signature !== first;
    });
    const second = dispatcher.serverStatus()[0]!.signature!;

    expect(await engine.open(a)).toMatchObject({ allow: true, reason: 'clean' });
    expect(scanner.stats().scans).toBeGreaterThan(scansBefore);
    await engine.drain();
    expect(store.getAttributes({ volume: 'vol1', fileId: a.fileId })?.sigStamp).toBe(second);
    expect(await engine.open(a)).toMatchObject({ reason: 'scan-current' });
    expect(store.queryEvents({ type: 'scanner.signatures_updated' }).records.at(-1)?.details).toMatchObject({ from: first, to: second });
  }, 60_000);
});
