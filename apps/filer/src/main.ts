// The filer as a program: configuration (file, environment, flags), built-in scanner servers on
// loopback, the managed runtime, the HTTPS management server with its extensions, and the printed
// "try this". SIGINT/SIGTERM shut down gracefully (scans in flight end or fail per policy, the
// database is closed); a second signal exits at once.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { startScannerServer, type ScannerServer } from '@avscan/scanner';
import { StoreError } from '@avscan/store';
import { StorePgError } from '@avscan/store-pg';
import { FilerError } from './errors.js';
import type { FilerExtension } from './model.js';
import { loadConfig, type FilerConfig, type Overrides } from './config/config.js';
import { createManagedRuntime, type ManagedRuntime, type ManagedSvm } from './runtime/managed.js';
import { startServer, type FilerServer } from './server/server.js';
import { loadOrCreateTls } from './server/tls.js';
import { builtInExtensions } from './extensions.js';
import type { VscanDoc } from './vscan/model.js';

export interface RunningFiler {
  readonly config: FilerConfig;
  readonly runtime: ManagedRuntime;
  readonly server: FilerServer;
  readonly url: string;
  /** The credentials in use (generated passwords filled in). */
  readonly users: readonly { readonly name: string; readonly password: string }[];
  readonly scanners: readonly ScannerServer[];
  close(): Promise<void>;
}

export interface StartOptions {
  readonly extensions?: readonly FilerExtension[];
  readonly logger?: boolean | Record<string, unknown>;
}

const kLabUser = 'LAB\\avscan';

/** Users without a password get one generated once and kept (mode 600) in `<state>/credentials.json`. */
function resolveUsers(config: FilerConfig): { name: string; password: string }[] {
  const file = path.join(config.stateDir, 'credentials.json');
  let saved: Record<string, string> = {};
  if (existsSync(file)) saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  let dirty = false;
  const users = config.users.map((u) => {
    if (u.password !== undefined) return { name: u.name, password: u.password };
    if (saved[u.name] === undefined) {
      saved[u.name] = randomBytes(12).toString('base64url');
      dirty = true;
    }
    return { name: u.name, password: saved[u.name]! };
  });
  if (dirty) writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  return users;
}

/**
 * Built-in clamd-protocol servers on loopback. Their ports are kept in `<state>/scanners.json`, so
 * the pools saved in the database keep pointing at them after a restart; a port taken meanwhile is
 * replaced by a free one and reported in `moved` (old address → new).
 */
async function startBuiltinScanners(config: FilerConfig): Promise<{ servers: ScannerServer[]; addresses: string[]; moved: Map<string, string> }> {
  const file = path.join(config.stateDir, 'scanners.json');
  const saved: readonly number[] = config.builtinPorts ?? (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { ports: number[] }).ports : []);
  const servers: ScannerServer[] = [];
  const moved = new Map<string, string>();
  try {
    for (let i = 0; i < config.builtinServers; i++) {
      let s: ScannerServer;
      try {
        s = await startScannerServer({ tcp: { host: '127.0.0.1', port: saved[i] ?? 0 }, log: () => {} });
      } catch (err) {
        // Fixed ports from the configuration are the user's to free; only remembered ones move.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || config.builtinPorts !== undefined) throw err;
        s = await startScannerServer({ tcp: { host: '127.0.0.1', port: 0 }, log: () => {} });
        moved.set(`127.0.0.1:${saved[i]}`, `127.0.0.1:${s.tcp!.port}`);
      }
      servers.push(s);
    }
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()));
    throw err;
  }
  const ports = servers.map((s) => s.tcp!.port);
  writeFileSync(file, `${JSON.stringify({ ports })}\n`);
  return { servers, addresses: ports.map((p) => `127.0.0.1:${p}`), moved };
}

export async function startFiler(config: FilerConfig, options: StartOptions = {}): Promise<RunningFiler> {
  mkdirSync(config.stateDir, { recursive: true });
  const users = resolveUsers(config);
  const builtin = await startBuiltinScanners(config);
  let runtime: ManagedRuntime | undefined;
  try {
    // The embedded default's pool holds the built-in servers (seeded on first start only).
    const svms: ManagedSvm[] = config.embedded
      ? config.svms.map((s) => ({ ...s, vscan: { ...s.vscan, scanner_pools: [{ name: 'pool1', servers: builtin.addresses, privileged_users: [kLabUser], role: 'primary' }] } }))
      : [...config.svms];
    runtime = await createManagedRuntime({
      stateDir: config.stateDir, svms: svms.map((s) => ({ ...s, dispatcher: { node_index: config.nodeIndex, ...s.dispatcher } })), labMode: config.labMode,
      storeUrl: config.storeUrl, nodeId: config.nodeId,
    });
    if (builtin.moved.size > 0) {
      for (const s of runtime.svms()) {
        const doc = runtime.vscan(s.name);
        if (!doc.scanner_pools.some((p) => p.servers.some((x) => builtin.moved.has(x)))) continue;
        await runtime.mutate(s.name, (d: VscanDoc) => ({
          ...d, scanner_pools: d.scanner_pools.map((p) => ({ ...p, servers: p.servers.map((x) => builtin.moved.get(x) ?? x) })),
        }));
      }
    }
    const tls = await loadOrCreateTls(config.stateDir, config.tls);
    const server = await startServer({
      runtime, tls, users, host: config.host, port: config.port, portAttempts: config.portAttempts,
      extensions: options.extensions ?? builtInExtensions(config), logger: options.logger ?? false,
    });
    const rt = runtime;
    let closing: Promise<void> | undefined;
    return {
      config, runtime: rt, server, url: server.url, users, scanners: builtin.servers,
      close() {
        closing ??= (async () => {
          await server.close();
          await rt.close();
          await Promise.allSettled(builtin.servers.map((s) => s.close()));
        })();
        return closing;
      },
    };
  } catch (err) {
    await runtime?.close();
    await Promise.allSettled(builtin.servers.map((s) => s.close()));
    throw err;
  }
}

/** The short "try this" printed at start: every command works as printed. */
export function tryThis(f: RunningFiler): string {
  const u = f.users[0]!;
  const svm = f.runtime.svms()[0]!;
  const vol = f.runtime.volumes(svm.name).find((v) => !v.readonly) ?? f.runtime.volumes(svm.name)[0]!;
  const share = f.runtime.shares(svm.name).find((s) => s.volume === vol.name && s.dir === '')?.name ?? vol.name;
  const rel = (p: string): string => {
    const r = path.relative(process.cwd(), p);
    return r.startsWith('..') ? p : r;
  };
  const curl = `curl -sk -u '${u.name}:${u.password}'`;
  const api = `${f.url}/api/protocols/vscan/${svm.uuid}`;
  const data = `${f.url}/data/${svm.name}/${share}`;
  return [
    `avscan filer emulator: ${f.url}  (user ${u.name}, password ${u.password}; self-signed certificate, hence -k)`,
    `state: ${rel(f.config.stateDir)}   SVM ${svm.name} (uuid ${svm.uuid}), volumes ${f.runtime.volumes(svm.name).map((v) => `${v.name}${v.readonly ? ' (ro)' : ''}`).join(', ')}`,
    // The URL may hold a password: name the database only.
    ...(f.config.storeUrl === undefined ? [] : [`store: PostgreSQL (shared by the cluster), this node: ${f.config.nodeId}`]),
    `API reference: ${f.url}/docs/api   metrics: ${f.url}/metrics`,
    '',
    'Try this:',
    `  # 1. drop the EICAR test file into share ${share}`,
    `  printf '%s' 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > ${rel(path.join(vol.root, 'eicar.com'))}`,
    '  # 2. open it: denied (403 STATUS_ACCESS_DENIED, reason infected)',
    `  ${curl} '${data}/eicar.com?op=open&mode=read'`,
    '  # 3. the event',
    `  ${curl} '${api}/events?type=file.infected&order_by=time%20desc&max_records=1&fields=*'`,
    '  # 4. a clean file opens',
    `  echo 'quarterly numbers' > ${rel(path.join(vol.root, 'report.txt'))}`,
    `  ${curl} '${data}/report.txt?op=open&mode=read'`,
    '  # 5. why: the decision and every rule consulted',
    `  ${curl} '${api}/explain?path=/${vol.name}/eicar.com'`,
    '',
  ].join('\n');
}

/**
 * The signal policy: the first signal closes gracefully and exits 0 (1 if closing failed); a second
 * one, while closing, exits 130 at once.
 */
export function shutdownOnSignals(close: () => Promise<void>, exit: (code: number) => void, log: (line: string) => void): (signal: string) => void {
  let signals = 0;
  return (sig) => {
    if (++signals > 1) {
      log(`avscan-filer: second ${sig}, exiting now`);
      exit(130);
      return;
    }
    log(`avscan-filer: ${sig}, shutting down (again to exit at once)`);
    close().then(() => exit(0), (err: unknown) => {
      log(`avscan-filer: shutdown failed: ${String(err)}`);
      exit(1);
    });
  };
}

/** `npm start`: parse flags, start, print, wait for a signal. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const program = new Command('avscan-filer')
    .description('storage filer emulator with the avscan engine on its data path and the ONTAP Vscan REST API')
    .option('-c, --config <file>', 'YAML or JSON configuration file (default: the embedded default)')
    .option('--state-dir <dir>', 'state folder (database, volumes, certificate) [env AVSCAN_STATE_DIR, default ./var]')
    .option('-p, --port <port>', 'REST port [env AVSCAN_PORT, default 8443 or the next free one]')
    .option('--host <host>', 'REST address [env AVSCAN_HOST, default 127.0.0.1]')
    .option('-u, --user <name>', 'REST user [env AVSCAN_USER, default admin]')
    .option('--password <password>', 'REST password [env AVSCAN_PASSWORD, default generated and kept in <state>/credentials.json]')
    .option('--store <url>', 'engine state in a PostgreSQL database shared by a cluster of nodes (postgres://…) [env AVSCAN_STORE_URL, default SQLite <state>/isi_avscan.db]')
    .option('--node <id>', "this node's name in the store, unique among live nodes [env AVSCAN_NODE_ID, default node1 on SQLite, <hostname>-<hash of the state dir> on PostgreSQL]")
    .option('--node-index <n>', "CAVA: this node's index, where its scanner server selection starts [env AVSCAN_NODE_INDEX, default 0]")
    .option('--no-watch-volumes', 'do not watch the volume folders for changes made behind the data path (cluster: one node watches) [config watch_volumes, default on]')
    .option('--log', 'log every request (fastify / pino, JSON on stdout)')
    .showHelpAfterError();
  program.parse([...argv]);
  const o = program.opts<Overrides & { log?: boolean }>();
  let filer: RunningFiler;
  try {
    filer = await startFiler(loadConfig(o), { logger: o.log === true });
  } catch (err) {
    // A bad configuration, or a store that refuses to open (PostgreSQL unreachable, unknown database…):
    // one line with the coded error, nothing left running.
    if (err instanceof FilerError || err instanceof StorePgError || err instanceof StoreError) {
      const target = err instanceof FilerError ? err.target : undefined;
      process.stderr.write(`avscan-filer: ${err.message}${target ? ` (${target})` : ''} [${err.code}]\n`);
      process.exit(2);
    }
    throw err;
  }
  process.stdout.write(`${tryThis(filer)}\n`);
  const stop = shutdownOnSignals(() => filer.close(), (code) => process.exit(code), (line) => process.stderr.write(`${line}\n`));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
