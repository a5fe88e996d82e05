// Starts a private PostgreSQL 15 (Debian's) for tests and benchmarks: initdb into a temp dir, the
// server listening only on a unix socket in that dir (no TCP), started with pg_ctl and stopped by the
// postmaster's PID (read from postmaster.pid). The server refuses to run as root, so when we are root
// every server command runs as the unprivileged `postgres` user (runuser) and the temp dir is theirs.
// Shared by bench/ and the @avscan/store-pg tests (which re-export it).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** Debian's server binaries: 15 (bookworm) preferred, else the newest installed major; AVSCAN_PG_BIN overrides. */
export const kPgBinDir = process.env['AVSCAN_PG_BIN'] ?? findBinDir();

function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(path.join(root, '15', 'bin', 'initdb')) || !existsSync(root)) return path.join(root, '15', 'bin');
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d) && existsSync(path.join(root, d, 'bin', 'initdb')));
  majors.sort((a, b) => Number(b) - Number(a));
  return path.join(root, majors[0] ?? '15', 'bin');
}

export function postgresAvailable(): boolean {
  return existsSync(path.join(kPgBinDir, 'initdb')) && existsSync(path.join(kPgBinDir, 'pg_ctl'));
}

export interface PostgresOptions {
  /** `-c name=value` server settings added to the defaults (e.g. `{ fsync: 'off' }`). */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface PostgresHandle {
  readonly dir: string;
  /** The unix socket directory (pg's `host`). */
  readonly socketDir: string;
  /** The postmaster's PID while running, else 0. */
  readonly pid: number;
  /** A pg PoolConfig for `database`. */
  config(database: string): { host: string; user: string; database: string };
  /** A connection string for `database` (socket dir in the `host` query parameter). */
  url(database: string): string;
  /** Creates a fresh database and returns its name. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops the server (`fast`: SIGINT, clients disconnected; `immediate`: SIGQUIT, crash-like) and waits for the PID to exit. */
  stopServer(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same data directory (after stopServer). */
  startServer(): void;
  /** Stops the server and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  log(): string;
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

const asRoot = process.getuid?.() === 0;

function runServerCommand(args: string[]): void {
  const [cmd, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  const r = spawnSync(cmd!, rest, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`postgres: \`${args.map((a) => path.basename(a)).join(' ')}\` failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let counter = 0;

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-pg-'));
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  runServerCommand([path.join(kPgBinDir, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
  const settings: Record<string, string> = {
    listen_addresses: "''",
    unix_socket_directories: `'${dir}'`,
    max_connections: '300',
    shared_buffers: '64MB',
    ...opts.settings,
  };
  const serverArgs = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  let pid = 0;
  const startServer = (): void => {
    runServerCommand([path.join(kPgBinDir, 'pg_ctl'), '-D', data, '-l', logFile, '-w', '-t', '60', '-o', serverArgs, 'start']);
    pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  };
  const stopServer = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (pid === 0) return;
    const target = pid;
    pid = 0;
    try {
      process.kill(target, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    } catch {
      return;
    }
    const deadline = Date.now() + 30_000;
    while (alive(target)) {
      if (Date.now() > deadline) {
        process.kill(target, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  startServer();
  const config = (database: string) => ({ host: dir, user: 'postgres', database });
  let stopped = false;
  return {
    dir,
    socketDir: dir,
    get pid() {
      return pid;
    },
    config,
    url: (database) => `postgresql://postgres@/${database}?host=${encodeURIComponent(dir)}`,
    async createDatabase(prefix = 'avscan') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      const admin = new pg.Client(config('postgres'));
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      return name;
    },
    stopServer,
    startServer,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer('fast');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}
