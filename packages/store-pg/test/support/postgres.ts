// PostgreSQL for the store-pg tests: the launcher is bench/lib/postgres.ts (shared with bench/cluster).
// `requirePostgres()` mirrors test/real's requireBinary: in CI a missing server fails the suite (it must
// never silently pass); locally it prints a loud warning and the suite is skipped.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { kPgBinDir, postgresAvailable, startPostgres, type PostgresHandle } from '../../../../bench/lib/postgres.js';
import { openPgStore, type PgStore, type PgStoreOptions } from '../../src/index.js';

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

/**
 * One private PostgreSQL for the calling suite: started before its tests, stopped after them; every
 * store opened through `open` is closed after each test. Use inside `describe.skipIf(!requirePostgres())`.
 */
export function usePostgres(): {
  readonly server: PostgresHandle;
  open(database: string, options?: PgStoreOptions): Promise<PgStore>;
} {
  let server: PostgresHandle | undefined;
  const stores: PgStore[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  }, kServerHookMs);
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(async () => {
    await server?.stop();
  }, kServerHookMs);
  return {
    get server() {
      return server!;
    },
    async open(database, options) {
      const s = await openPgStore(server!.config(database), options);
      stores.push(s);
      return s;
    },
  };
}
