// `requireBinary(name)`: real-scanner suites need clamd / c-icap. In CI a missing binary fails the
// suite (it must never silently pass); locally it prints a loud warning and the suite is skipped
// with `describe.skipIf(!available)`.
import { existsSync } from 'node:fs';

const kPaths: Record<string, string> = {
  clamd: '/usr/sbin/clamd',
  'c-icap': '/usr/bin/c-icap',
  smbd: '/usr/sbin/smbd',
  smbclient: '/usr/bin/smbclient',
  'virusfilter.so': '/usr/lib/x86_64-linux-gnu/samba/vfs/virusfilter.so',
  // The dashboard test's browser (Debian's chromium package).
  chromium: '/usr/bin/chromium',
};

export function binaryPath(name: string): string {
  return kPaths[name] ?? name;
}

export function requireBinary(name: string): boolean {
  const p = binaryPath(name);
  if (existsSync(p)) return true;
  const msg = `${name} not found at ${p}: install with \`bash scripts/real-scanners.sh install\``;
  if (process.env['CI'] === 'true') throw new Error(`real-scanners: ${msg} (required in CI)`);
  console.warn(`\n${'!'.repeat(78)}\n!!! REAL-SCANNER TESTS SKIPPED: ${msg}\n${'!'.repeat(78)}\n`);
  return false;
}
