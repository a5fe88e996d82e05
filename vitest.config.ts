import { defineConfig } from 'vitest/config';

// Three projects, so each kind of test can be run alone (`npm test -- --project unit`):
// - unit: beside each package (packages/*/test), no external processes except the private PostgreSQL
//   the @avscan/store-pg suites start (skipped loudly when it is not installed, failing under CI=true);
// - cross: the root test/ folder (end to end, crash and fault tests across packages);
// - real-scanners: tests against real clamd / c-icap started by the tests themselves (test/real);
// - filer: the filer emulator app (apps/*/test), its REST API over real HTTPS, data path, CLI;
// - real-clients: real clients driving the app (Ansible's netapp.ontap, smbclient + Samba, Chromium)
//   from apps/*/test/real, one file at a time.
export default defineConfig({
  test: {
    reporters: ['default', './scripts/count-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'cross', include: ['test/**/*.test.ts'], exclude: ['test/real/**', '**/node_modules/**'] } },
      { extends: true, test: { name: 'real-scanners', include: ['test/real/**/*.test.ts'], fileParallelism: false } },
      { extends: true, test: { name: 'filer', include: ['apps/*/test/**/*.test.ts'], exclude: ['apps/*/test/real/**', '**/node_modules/**'] } },
      { extends: true, test: { name: 'real-clients', include: ['apps/*/test/real/**/*.test.ts'], fileParallelism: false } },
    ],
  },
});
