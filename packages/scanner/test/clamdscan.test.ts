// Compatibility with the real clamd client: clamdscan --stream against our server must give exit code
// 1 for EICAR and 0 for a clean file. Needs the Debian `clamdscan` package; mandatory in CI.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, startScannerServer, type ScannerServer } from '../dist/index.js';
import { tempDir } from './helpers.js';

const kClamdscan = ['/usr/bin/clamdscan', '/usr/local/bin/clamdscan'].find((p) => existsSync(p));
const missing = kClamdscan === undefined && process.env['CI'] !== 'true';
if (missing) {
  console.warn('\n!!!!!!!! WARNING: clamdscan not found: the real-clamd client compatibility test is SKIPPED (install the Debian package `clamdscan`; CI runs it) !!!!!!!!\n');
}

function clamdscan(conf: string, files: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(kClamdscan ?? 'clamdscan', ['--stream', '--no-summary', `--config-file=${conf}`, ...files], { timeout: 15_000 }, (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout });
    });
  });
}

describe.skipIf(missing)('clamdscan against the built-in scanner server', () => {
  const dir = tempDir();
  let server: ScannerServer;
  const eicar = join(dir, 'eicar.com');
  const clean = join(dir, 'clean.txt');

  beforeAll(async () => {
    writeFileSync(eicar, EICAR);
    writeFileSync(clean, 'nothing to see here\n');
    server = await startScannerServer({ tcp: { host: '127.0.0.1', port: 0 }, unix: join(dir, 'clamd.sock'), log: () => {} });
    writeFileSync(join(dir, 'unix.conf'), `LocalSocket ${server.unixPath!}\n`);
    writeFileSync(join(dir, 'tcp.conf'), `TCPSocket ${server.tcp!.port}\nTCPAddr 127.0.0.1\n`);
  });
  afterAll(() => server.close());

  for (const transport of ['unix', 'tcp']) {
    it(`exit 1 with the threat name for EICAR, 0 for a clean file (${transport})`, async () => {
      const conf = join(dir, `${transport}.conf`);
      const infected = await clamdscan(conf, [eicar]);
      expect(infected.code).toBe(1);
      expect(infected.stdout).toContain(`${eicar}: Eicar-Test-Signature FOUND`);
      const ok = await clamdscan(conf, [clean]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(`${clean}: OK`);
    });
  }
});
