// Dispatcher configuration in ONTAP shapes: scanner pools (`name`, `servers`, `privileged_users`,
// `role`) and the pool timeouts with ONTAP's names and defaults (seconds, fractions allowed so that
// tests can use short timeouts). Validated eagerly; the result is deeply frozen.
import { parseAddress, type ServerAddress } from './address.js';
import { DispatchError, DispatchErrorCodes, quote } from './errors.js';

export type PoolRole = 'primary' | 'secondary' | 'idle';

/** One ONTAP `scanner_pool`. */
export interface ScannerPool {
  readonly name: string;
  /** Server addresses (see README "Addresses"). 1–64 entries, unique within the pool. */
  readonly servers: readonly string[];
  /** Kept for ONTAP fidelity (`DOMAIN\user`); not used to authenticate the scanner protocols. @default [] */
  readonly privileged_users?: readonly string[];
  /** @default 'primary' (ONTAP REST default) */
  readonly role?: PoolRole;
}

export interface DispatcherOptions {
  /** 1–20 pools (ONTAP's per-SVM limit). */
  readonly scanner_pools: readonly ScannerPool[];
  /** Seconds a scan may take on one server before it is retried elsewhere. @default 30 */
  readonly request_timeout?: number;
  /** Seconds a request may wait for a free active server before it fails `unavailable`. @default 20 */
  readonly scan_queue_timeout?: number;
  /** Seconds one connection attempt or health probe may take. @default 10 */
  readonly session_setup_timeout?: number;
  /** Seconds `close()` waits for requests in flight before cutting their connections. @default 10 */
  readonly session_teardown_timeout?: number;
  /** Consecutive failed setups before a server is reported `disconnected`. @default 5 */
  readonly max_session_setup_retries?: number;
  /** Requests in flight per server (CAVA). @default 20 */
  readonly max_connections_per_server?: number;
  /** This node's index in the cluster: node n starts from server n. @default 0 */
  readonly node_index?: number;
  /** Servers one node uses at most (CAVA sizing). @default 4 */
  readonly max_servers_per_node?: number;
  /**
   * Requests waiting at most; a request finding the queue full fails `unavailable`.
   * @default (max_connections_per_server × max_servers_per_node)², i.e. 6400, after piscina's maxThreads²
   */
  readonly max_queue?: number;
  /** Seconds between health probes (PING/VERSION, ICAP OPTIONS) of each server. @default 5 */
  readonly health_check_interval?: number;
  /** Seconds between session setup retries. @default 1 */
  readonly session_retry_interval?: number;
  /** Signature file for `builtin:` servers, passed to `ScanEngine.create`. @default undefined (the engine's own set) */
  readonly builtin_signatures?: string;
  /**
   * Seconds (0–1) a background request's verdict may be held so that it is settled together with the
   * verdicts of the other background requests still running or waiting: an on-demand job then does
   * its per-file work (records, next files and their requests) in bursts, not one wake-up per file
   * (bench/RESULTS.md, "Background verdicts in batches"). Never held: a failure, a verdict with no
   * other background request under way, anything while an interactive or async request waits in the
   * queue; `raise` and `close()` hand held verdicts over at once. A held verdict frees its connection
   * slot when it comes. 0 holds nothing. @default 0.003
   */
  readonly background_settle_delay?: number;
}

export interface ResolvedPool {
  readonly name: string;
  readonly role: PoolRole;
  readonly privileged_users: readonly string[];
  readonly servers: readonly ServerAddress[];
}

/** The validated options, with defaults filled in and durations in milliseconds. */
export interface ResolvedConfig {
  readonly pools: readonly ResolvedPool[];
  readonly requestTimeoutMs: number;
  readonly scanQueueTimeoutMs: number;
  readonly sessionSetupTimeoutMs: number;
  readonly sessionTeardownTimeoutMs: number;
  readonly maxSessionSetupRetries: number;
  readonly maxConnectionsPerServer: number;
  readonly nodeIndex: number;
  readonly maxServersPerNode: number;
  readonly maxQueue: number;
  readonly healthCheckIntervalMs: number;
  readonly sessionRetryIntervalMs: number;
  readonly builtinSignatures: string | undefined;
  readonly backgroundSettleDelayMs: number;
}

export const kDefaults = Object.freeze({
  request_timeout: 30,
  scan_queue_timeout: 20,
  session_setup_timeout: 10,
  session_teardown_timeout: 10,
  max_session_setup_retries: 5,
  max_connections_per_server: 20,
  node_index: 0,
  max_servers_per_node: 4,
  health_check_interval: 5,
  session_retry_interval: 1,
});

const kOptionKeys = new Set<string>([...Object.keys(kDefaults), 'scanner_pools', 'max_queue', 'builtin_signatures', 'background_settle_delay']);
const kDefaultSettleDelay = 0.003;
const kPoolKeys = new Set(['name', 'servers', 'privileged_users', 'role']);
const kNameRe = /^[A-Za-z0-9_.-]{1,256}$/;
const kMaxTimeoutSeconds = 3600;

function fail(target: string, message: string): never {
  throw new DispatchError(DispatchErrorCodes.INVALID_CONFIG, message, { target });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function seconds(o: Record<string, unknown>, key: keyof typeof kDefaults, min: number): number {
  const v = o[key] ?? kDefaults[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > kMaxTimeoutSeconds) {
    fail(key, `\`${key}\` must be a number of seconds in ${min}–${kMaxTimeoutSeconds}, got ${quote(v)}`);
  }
  return Math.round(v * 1000);
}

function integer(o: Record<string, unknown>, key: string, min: number, max: number, dflt: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(key, `\`${key}\` must be an integer in ${min}–${max}, got ${quote(v)}`);
  }
  return v;
}

function pool(p: unknown, i: number, seen: Set<string>): ResolvedPool {
  const at = `scanner_pools[${i}]`;
  if (!isPlainObject(p)) fail(at, `\`${at}\` must be an object, got ${quote(p)}`);
  for (const k of Object.keys(p)) if (!kPoolKeys.has(k)) fail(`${at}.${k}`, `unknown field \`${at}.${k}\``);
  const { name, servers, privileged_users: users = [], role = 'primary' } = p;
  if (typeof name !== 'string' || !kNameRe.test(name)) fail(`${at}.name`, `\`${at}.name\` must be 1–256 characters of [A-Za-z0-9_.-], got ${quote(name)}`);
  if (seen.has(name)) fail(`${at}.name`, `duplicate pool name ${quote(name)}`);
  seen.add(name);
  if (role !== 'primary' && role !== 'secondary' && role !== 'idle') fail(`${at}.role`, `\`${at}.role\` must be primary, secondary or idle, got ${quote(role)}`);
  if (!Array.isArray(servers) || servers.length === 0 || servers.length > 64) fail(`${at}.servers`, `\`${at}.servers\` must be a list of 1–64 addresses, got ${quote(servers)}`);
  if (!Array.isArray(users) || users.some((u) => typeof u !== 'string' || u.length === 0 || u.length > 256)) {
    fail(`${at}.privileged_users`, `\`${at}.privileged_users\` must be a list of 1–256 character strings, got ${quote(users)}`);
  }
  const addrs = servers.map((s: unknown) => parseAddress(s));
  if (new Set(addrs.map((a) => a.raw)).size !== addrs.length) fail(`${at}.servers`, `\`${at}.servers\` lists a server twice`);
  return Object.freeze({ name, role, privileged_users: Object.freeze([...(users as string[])]), servers: Object.freeze(addrs) });
}

/** Validates options eagerly; throws `ERR_DISPATCH_INVALID_CONFIG` / `ERR_DISPATCH_INVALID_ADDRESS`. */
/**
 * Checks dispatcher options without starting anything: throws ERR_DISPATCH_INVALID_CONFIG naming the
 * field, exactly as `createDispatcher` would. For a management API that must refuse a bad pool
 * before it saves it.
 */
export function validateDispatcherOptions(options: unknown): void {
  resolveConfig(options);
}

export function resolveConfig(options: unknown): ResolvedConfig {
  if (!isPlainObject(options)) fail('options', `options must be an object, got ${quote(options)}`);
  for (const k of Object.keys(options)) if (!kOptionKeys.has(k)) fail(k, `unknown option \`${k}\``);
  const pools = options['scanner_pools'];
  if (!Array.isArray(pools) || pools.length === 0 || pools.length > 20) fail('scanner_pools', `\`scanner_pools\` must be a list of 1–20 pools, got ${quote(pools)}`);
  const seen = new Set<string>();
  const resolved = pools.map((p, i) => pool(p, i, seen));
  const all = new Set<string>();
  for (const p of resolved) for (const s of p.servers) {
    if (all.has(s.raw)) fail('scanner_pools', `server ${quote(s.raw)} is in more than one pool`);
    all.add(s.raw);
  }
  const maxConn = integer(options, 'max_connections_per_server', 1, 1000, kDefaults.max_connections_per_server);
  const perNode = integer(options, 'max_servers_per_node', 1, 64, kDefaults.max_servers_per_node);
  const settle = options['background_settle_delay'] ?? kDefaultSettleDelay;
  if (typeof settle !== 'number' || !Number.isFinite(settle) || settle < 0 || settle > 1) {
    fail('background_settle_delay', `\`background_settle_delay\` must be a number of seconds in 0–1, got ${quote(settle)}`);
  }
  const sig = options['builtin_signatures'];
  if (sig !== undefined && typeof sig !== 'string') fail('builtin_signatures', `\`builtin_signatures\` must be a string, got ${quote(sig)}`);
  return Object.freeze({
    pools: Object.freeze(resolved),
    requestTimeoutMs: seconds(options, 'request_timeout', 0.001),
    scanQueueTimeoutMs: seconds(options, 'scan_queue_timeout', 0.001),
    sessionSetupTimeoutMs: seconds(options, 'session_setup_timeout', 0.001),
    sessionTeardownTimeoutMs: seconds(options, 'session_teardown_timeout', 0),
    maxSessionSetupRetries: integer(options, 'max_session_setup_retries', 1, 100, kDefaults.max_session_setup_retries),
    maxConnectionsPerServer: maxConn,
    nodeIndex: integer(options, 'node_index', 0, 1023, kDefaults.node_index),
    maxServersPerNode: perNode,
    maxQueue: integer(options, 'max_queue', 1, 1_000_000, (maxConn * perNode) ** 2),
    healthCheckIntervalMs: seconds(options, 'health_check_interval', 0.01),
    sessionRetryIntervalMs: seconds(options, 'session_retry_interval', 0.001),
    builtinSignatures: sig,
    backgroundSettleDelayMs: settle * 1000,
  });
}
