// PostgreSQL for the store-pg tests: the launcher is bench/lib/postgres.ts (shared with bench/cluster).
// `requirePostgres()` mirrors test/real's requireBinary: in CI a missing server fails the suite (it must
// never silently pass); locally it prints a loud warning and the suite is skipped.
import { kPgBinDir, postgresAvailable } from '../../../../bench/lib/postgres.js';

export { kPgBinDir, postgresAvailable, startPostgres } from '../../../../bench/lib/postgres.js';
export type { PostgresHandle } from '../../../../bench/lib/postgres.js';

export function requirePostgres(): boolean {
  if (postgresAvailable()) return true;
  const msg = `PostgreSQL 15 not found in ${kPgBinDir}: install Debian's \`postgresql\` (apt-get install postgresql) or set AVSCAN_PG_BIN`;
  if (process.env['CI'] === 'true') throw new Error(`store-pg: ${msg} (required in CI)`);
  console.warn(`\n${'!'.repeat(78)}\n!!! POSTGRESQL TESTS SKIPPED: ${msg}\n${'!'.repeat(78)}\n`);
  return false;
}

/** initdb + start (or a shutdown) on a loaded 2-core machine can exceed vitest's 60 s hook default. */
export const kServerHookMs = 180_000;
