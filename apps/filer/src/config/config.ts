// The filer's configuration: a YAML or JSON file (optional), then the environment (AVSCAN_*), then
// command-line flags, each overriding the one before. Without a file the embedded default applies:
// SVM vs1 with vol1 (rw) and vol_ro (ro), default_CIFS, one primary pool of two built-in scanner
// servers on loopback, lab mode. Every refusal is ERR_FILER_INVALID_CONFIG naming the field.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROFILES, type Profile } from '@avscan/engine';
import { kDefaultStoreOptions } from '@avscan/store';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { ManagedSvm } from '../runtime/managed.js';
import type { VscanDoc } from '../vscan/model.js';

export interface FilerConfig {
  readonly stateDir: string;
  readonly host: string;
  readonly port: number;
  /** Try the next ports when `port` is taken (only when the port was not chosen explicitly). */
  readonly portAttempts: number;
  /** A user without a password gets a generated one, kept in `<state>/credentials.json`. */
  readonly users: readonly { readonly name: string; readonly password?: string }[];
  readonly labMode: boolean;
  readonly nodeIndex: number;
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Built-in clamd-protocol scanner servers the app starts on loopback. */
  readonly builtinServers: number;
  /** Their fixed ports, when the file gives them (pools then name `127.0.0.1:<port>`). */
  readonly builtinPorts?: readonly number[];
  readonly svms: readonly ManagedSvm[];
  /** The embedded default is in use (no configuration file). */
  readonly embedded: boolean;
  /**
   * Where the engine state lives: `undefined` = this node's SQLite `<state>/isi_avscan.db` (the
   * default); a `postgres://` URL = a PostgreSQL database shared by every node of a cluster.
   */
  readonly storeUrl?: string;
  /**
   * Watch the volume folders for changes made behind the data path (a file written straight into the
   * folder is rescanned). In a cluster sharing the folders, one node watching is enough. @default true
   */
  readonly watchVolumes: boolean;
  /**
   * This node's name in the store (lock owner, events' `node`, jobs). Unique among live nodes.
   * @default the store's `node1` on SQLite; `<hostname>-<hash of the state folder>` on PostgreSQL
   */
  readonly nodeId: string;
}

export interface Overrides {
  readonly config?: string;
  readonly stateDir?: string;
  readonly port?: string | number;
  readonly host?: string;
  readonly user?: string;
  readonly password?: string;
  readonly store?: string;
  readonly node?: string;
  readonly nodeIndex?: string | number;
  /** `--no-watch-volumes` gives false. */
  readonly watchVolumes?: boolean;
}

const bad = (target: string, message: string): FilerError => new FilerError(FilerErrorCodes.INVALID_CONFIG, message, target);

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
function keys(o: Obj, at: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(at ? `${at}.${k}` : k, `unknown field ${show(at ? `${at}.${k}` : k)}`);
}
function str(o: Obj, k: string, at: string, dflt?: string): string {
  const v = o[k] ?? dflt;
  if (typeof v !== 'string' || v === '') throw bad(`${at}${k}`, `${show(at + k)} must be a non-empty string, got ${show(v)}`);
  return v;
}
function optStr(o: Obj, k: string, at: string): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, at);
}
function bool(o: Obj, k: string, at: string, dflt: boolean): boolean {
  const v = o[k] ?? dflt;
  if (typeof v !== 'boolean') throw bad(`${at}${k}`, `${show(at + k)} must be true or false, got ${show(v)}`);
  return v;
}
function int(v: unknown, target: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) throw bad(target, `${show(target)} must be an integer in ${min}–${max}, got ${show(v)}`);
  return n;
}
function arr(o: Obj, k: string, at: string): unknown[] {
  const v = o[k] ?? [];
  if (!Array.isArray(v)) throw bad(`${at}${k}`, `${show(at + k)} must be a list`);
  return v;
}
const kName = /^[A-Za-z0-9_.-]{1,256}$/;
function name(o: Obj, at: string): string {
  const n = str(o, 'name', at);
  if (!kName.test(n)) throw bad(`${at}name`, `${show(at + 'name')} must be 1–256 characters of A–Z, a–z, 0–9, _ . -, got ${show(n)}`);
  return n;
}

function volume(v: unknown, at: string, base: string): ManagedSvm['volumes'][number] {
  if (!isObj(v)) throw bad(at, `${show(at)} must be an object`);
  keys(v, at, ['name', 'path', 'readonly', 'worm']);
  const p = optStr(v, 'path', `${at}.`);
  return { name: name(v, `${at}.`), readonly: bool(v, 'readonly', `${at}.`, false), worm: bool(v, 'worm', `${at}.`, false), ...(p === undefined ? {} : { root: path.resolve(base, p) }) };
}

function share(s: unknown, at: string): NonNullable<ManagedSvm['shares']>[number] {
  if (!isObj(s)) throw bad(at, `${show(at)} must be an object`);
  keys(s, at, ['name', 'volume', 'dir', 'profile']);
  const profile = (s['profile'] ?? 'standard') as Profile;
  if (!(PROFILES as readonly string[]).includes(profile)) throw bad(`${at}.profile`, `${show(`${at}.profile`)} must be one of ${PROFILES.join(', ')}, got ${show(profile)}`);
  return { name: name(s, `${at}.`), volume: str(s, 'volume', `${at}.`), dir: typeof s['dir'] === 'string' ? s['dir'] : '', profile };
}

function svm(s: unknown, at: string, base: string): ManagedSvm {
  if (!isObj(s)) throw bad(at, `${show(at)} must be an object`);
  keys(s, at, ['name', 'uuid', 'cifs_server', 'volumes', 'shares', 'vscan', 'dispatcher']);
  const volumes = arr(s, 'volumes', `${at}.`).map((v, i) => volume(v, `${at}.volumes[${i}]`, base));
  if (volumes.length === 0) throw bad(`${at}.volumes`, `${show(`${at}.volumes`)} needs at least one volume`);
  const shares = s['shares'] === undefined ? undefined : arr(s, 'shares', `${at}.`).map((x, i) => share(x, `${at}.shares[${i}]`));
  let vscan: Partial<VscanDoc> | undefined;
  if (s['vscan'] !== undefined) {
    const v = s['vscan'];
    if (!isObj(v)) throw bad(`${at}.vscan`, `${show(`${at}.vscan`)} must be an object`);
    keys(v, `${at}.vscan`, ['enabled', 'default_cifs_enabled', 'scanner_pools', 'on_access_policies', 'on_demand_policies']);
    // The pools' and policies' own rules are ONTAP's: the runtime checks them as the API would.
    vscan = v as Partial<VscanDoc>;
  }
  if (s['dispatcher'] !== undefined && !isObj(s['dispatcher'])) throw bad(`${at}.dispatcher`, `${show(`${at}.dispatcher`)} must be an object`);
  return {
    name: name(s, `${at}.`),
    ...(s['uuid'] === undefined ? {} : { uuid: str(s, 'uuid', `${at}.`) }),
    cifsServer: bool(s, 'cifs_server', `${at}.`, true),
    volumes,
    ...(shares === undefined ? {} : { shares }),
    ...(vscan === undefined ? {} : { vscan }),
    ...(s['dispatcher'] === undefined ? {} : { dispatcher: s['dispatcher'] as NonNullable<ManagedSvm['dispatcher']> }),
  };
}

/** `builtin_servers`: a count (ports chosen once, kept in `<state>/scanners.json`) or a list of fixed ports. */
function builtin(v: unknown, embedded: boolean): { builtinServers: number; builtinPorts?: number[] } {
  if (v === undefined) return { builtinServers: embedded ? 2 : 0 };
  if (Array.isArray(v)) {
    if (v.length > 16) throw bad('builtin_servers', '`builtin_servers` lists at most 16 ports');
    const ports = v.map((p, i) => int(p, `builtin_servers[${i}]`, 1, 65535));
    return { builtinServers: ports.length, builtinPorts: ports };
  }
  return { builtinServers: int(v, 'builtin_servers', 0, 16) };
}

/**
 * A PostgreSQL connection URL as the `pg` driver takes it: `postgres://` or `postgresql://`, a database
 * name, and a host (in the authority or, for a unix socket, as `?host=/socket/dir`). Checked here so
 * a typo refuses to start instead of surfacing as a connection error later.
 */
export function storeUrl(v: unknown, target: string): string {
  if (typeof v !== 'string' || v === '') throw bad(target, `${show(target)} must be a postgres:// URL, got ${show(v)}`);
  const scheme = /^(postgres|postgresql):\/\//i.exec(v);
  if (scheme === null) throw bad(target, `${show(target)} must be a postgres:// or postgresql:// URL (SQLite, the default, needs no URL), got ${show(v.slice(0, 80))}`);
  let u: URL;
  try {
    // WHATWG URL refuses credentials without a host (`postgresql://user@/db?host=/dir`), which pg accepts for a unix socket.
    u = new URL(v.replace(/^([a-z]+:\/\/[^/@?#]*@)\//i, '$1socket/'));
  } catch {
    throw bad(target, `${show(target)} is not a valid URL: ${show(v.slice(0, 80))}`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw bad(target, `${show(target)} must name a database (\`postgresql://host/avscan\`), got ${show(v.slice(0, 80))}`);
  if (u.hostname === '' && (u.searchParams.get('host') ?? '') === '') throw bad(target, `${show(target)} needs a host, or \`?host=/socket/dir\` for a unix socket`);
  return v;
}

const kNodeId = /^[A-Za-z0-9_.:@-]{1,128}$/;

/**
 * Default node id: the host name plus a short hash of the state folder, so it is stable across restarts
 * (a restart must release this node's own locks and resume its own jobs) and differs between two
 * nodes on one machine, which need two state folders anyway.
 */
export function defaultNodeId(stateDir: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'node';
  return `${host}-${createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 8)}`;
}

/** The embedded default's SVM; its pool is filled with the built-in servers' addresses at start. */
export function embeddedSvms(): ManagedSvm[] {
  return [{
    name: 'vs1', cifsServer: true,
    volumes: [{ name: 'vol1' }, { name: 'vol_ro', readonly: true }],
    vscan: { enabled: true, default_cifs_enabled: true },
  }];
}

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `cannot read configuration file ${show(file)}: ${(err as Error).message}`, 'config', { cause: err });
  }
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `configuration file ${show(file)} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`, 'config', { cause: err });
  }
}

/** File (when `--config`), then environment, then flags. */
export function loadConfig(flags: Overrides = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): FilerConfig {
  const file = flags.config;
  const raw = file === undefined ? {} : readConfigFile(path.resolve(cwd, file));
  if (!isObj(raw)) throw bad('config', 'the configuration must be an object');
  keys(raw, '', ['state_dir', 'rest', 'users', 'lab_mode', 'node', 'node_index', 'store', 'watch_volumes', 'builtin_servers', 'svms']);
  const base = file === undefined ? cwd : path.dirname(path.resolve(cwd, file));
  const rest = raw['rest'] ?? {};
  if (!isObj(rest)) throw bad('rest', '`rest` must be an object');
  keys(rest, 'rest', ['host', 'port', 'tls']);
  let tls: FilerConfig['tls'];
  if (rest['tls'] !== undefined) {
    const t = rest['tls'];
    if (!isObj(t)) throw bad('rest.tls', '`rest.tls` must be an object with `key` and `cert`');
    keys(t, 'rest.tls', ['key', 'cert']);
    tls = { key: path.resolve(base, str(t, 'key', 'rest.tls.')), cert: path.resolve(base, str(t, 'cert', 'rest.tls.')) };
  }
  const users = arr(raw, 'users', '').map((u, i) => {
    if (!isObj(u)) throw bad(`users[${i}]`, `\`users[${i}]\` must be an object`);
    keys(u, `users[${i}]`, ['name', 'password']);
    return { name: str(u, 'name', `users[${i}].`), password: str(u, 'password', `users[${i}].`) };
  });
  const svms = file === undefined ? embeddedSvms() : arr(raw, 'svms', '').map((s, i) => svm(s, `svms[${i}]`, base));
  if (svms.length === 0) throw bad('svms', '`svms` needs at least one SVM');

  const portGiven = flags.port ?? env['AVSCAN_PORT'] ?? rest['port'];
  const port = portGiven === undefined ? 8443 : int(portGiven, flags.port !== undefined ? '--port' : env['AVSCAN_PORT'] !== undefined ? 'AVSCAN_PORT' : 'rest.port', 0, 65535);
  const host = flags.host ?? env['AVSCAN_HOST'] ?? (typeof rest['host'] === 'string' ? rest['host'] : '127.0.0.1');
  const stateDir = path.resolve(cwd, flags.stateDir ?? env['AVSCAN_STATE_DIR'] ?? (typeof raw['state_dir'] === 'string' ? path.resolve(base, raw['state_dir']) : './var'));
  const envUser = flags.user ?? env['AVSCAN_USER'];
  const envPassword = flags.password ?? env['AVSCAN_PASSWORD'];
  const admin = envUser ?? 'admin';
  const allUsers: { name: string; password?: string }[] = envUser !== undefined || envPassword !== undefined || users.length === 0
    ? [{ name: admin, ...(envPassword === undefined ? {} : { password: envPassword }) }, ...users.filter((u) => u.name !== admin)]
    : users;
  const [urlGiven, urlAt] = flags.store !== undefined ? [flags.store, '--store'] : env['AVSCAN_STORE_URL'] !== undefined ? [env['AVSCAN_STORE_URL'], 'AVSCAN_STORE_URL'] : [raw['store'], 'store'];
  const url = urlGiven === undefined ? undefined : storeUrl(urlGiven, urlAt);
  const [nodeGiven, nodeAt] = flags.node !== undefined ? [flags.node, '--node'] : env['AVSCAN_NODE_ID'] !== undefined ? [env['AVSCAN_NODE_ID'], 'AVSCAN_NODE_ID'] : [raw['node'], 'node'];
  if (nodeGiven !== undefined && (typeof nodeGiven !== 'string' || !kNodeId.test(nodeGiven))) {
    throw bad(nodeAt, `${show(nodeAt)} must be 1–128 characters of A–Z, a–z, 0–9, _ . : @ -, got ${show(nodeGiven)}`);
  }
  const [indexGiven, indexAt] = flags.nodeIndex !== undefined ? [flags.nodeIndex, '--node-index'] : env['AVSCAN_NODE_INDEX'] !== undefined ? [env['AVSCAN_NODE_INDEX'], 'AVSCAN_NODE_INDEX'] : [raw['node_index'], 'node_index'];
  return {
    stateDir, host, port, portAttempts: portGiven === undefined ? 20 : 0,
    users: allUsers,
    labMode: file === undefined ? true : bool(raw, 'lab_mode', '', false),
    nodeIndex: indexGiven === undefined ? 0 : int(indexGiven, indexAt, 0, 63),
    ...(tls === undefined ? {} : { tls }),
    ...builtin(raw['builtin_servers'], file === undefined),
    svms, embedded: file === undefined,
    ...(url === undefined ? {} : { storeUrl: url }),
    watchVolumes: flags.watchVolumes === false ? false : bool(raw, 'watch_volumes', '', true),
    // One SQLite node keeps the store's own default (its jobs and events name it); a cluster node needs a distinct one.
    nodeId: (nodeGiven as string | undefined) ?? (url === undefined ? kDefaultStoreOptions.nodeId : defaultNodeId(stateDir)),
  };
}
