// Validation of pools and policies with ONTAP's error codes and limits (ONTAP-API.md §1.2, §1.4).
// JSON types and unknown fields are the route schemas' job; these are the value rules.
import { compilePolicy, PolicyError } from '@avscan/policy';
import { parseAddress } from '@avscan/dispatch';
import { isIP } from 'node:net';
import { OntapCodes, OntapError, badField } from '../server/ontap-error.js';
import type { OaScope, OdScope, PoolDoc } from './model.js';

export const kLimits = Object.freeze({
  oaPolicies: 10,
  odPolicies: 10,
  pools: 20,
  minFileSize: 1024,
  maxFileSize: 1099511627776,
  /** Paths and extensions excluded per policy ("a maximum of one hundred"). */
  exclusions: 100,
  pathLength: 255,
  nameLength: 256,
});

const kNameRe = /^[A-Za-z0-9_.-]{1,256}$/;
const bad = (code: string, message: string, target: string): OntapError => new OntapError(400, code, message, target);

export function checkName(name: string, target = 'name', code: string = OntapCodes.BAD_FIELD): void {
  if (!kNameRe.test(name)) throw bad(code, `\`${name.slice(0, 80)}\` is not a valid name: 1–256 characters of A–Z, a–z, 0–9, \`_\`, \`.\`, \`-\``, target);
}

function checkSize(size: number | undefined, target: string): void {
  if (size === undefined) return;
  if (!Number.isSafeInteger(size) || size < kLimits.minFileSize || size > kLimits.maxFileSize) {
    throw bad(OntapCodes.SIZE_OUT_OF_RANGE, `max_file_size must be from 1024 (1KB) to 1099511627776 (1TB), got ${size}`, target);
  }
}

function checkCommon(scope: OaScope | OdScope | undefined): void {
  if (scope === undefined) return;
  checkSize(scope.max_file_size, 'scope.max_file_size');
  if (scope.include_extensions !== undefined && scope.include_extensions.length === 0) {
    throw bad(OntapCodes.EMPTY_LIST, 'the include extensions list cannot be empty', 'scope.include_extensions');
  }
  if ((scope.exclude_paths?.length ?? 0) > kLimits.exclusions) {
    throw bad(OntapCodes.TOO_MANY_PATHS, `at most ${kLimits.exclusions} paths can be excluded`, 'scope.exclude_paths');
  }
  if ((scope.exclude_extensions?.length ?? 0) + (scope.include_extensions?.length ?? 0) > kLimits.exclusions) {
    throw bad(OntapCodes.TOO_MANY_EXTENSIONS, `at most ${kLimits.exclusions} extensions can be configured`, 'scope.exclude_extensions');
  }
}

/** An on-access policy's scope: ONTAP's limits, then the policy compiler's own rules (extension syntax). */
export function checkOaScope(name: string, scope: OaScope | undefined): void {
  checkCommon(scope);
  for (const p of scope?.exclude_paths ?? []) {
    if (!p.startsWith('\\') || p.length > kLimits.pathLength || p.includes('/') || p.includes('\0') || /\\\\/.test(p)) {
      throw bad(OntapCodes.BAD_PATH, `exclude path \`${p.slice(0, 80)}\` is not a valid CIFS path: use \`\\dir1\\dir2\` or \`\\dir1\\dir2\\\`, at most 255 characters`, 'scope.exclude_paths');
    }
  }
  try {
    compilePolicy({ name, enabled: true, scope: scope ?? {} });
  } catch (err) {
    if (err instanceof PolicyError) throw badField(err.message, err.target === undefined ? 'scope' : `scope.${String(err.target).replace(/^scope\./, '')}`);
    throw err;
  }
}

export function checkOdScope(scope: OdScope | undefined): void {
  checkCommon(scope);
  for (const p of scope?.exclude_paths ?? []) {
    if (!p.startsWith('/') || p.length > kLimits.pathLength || p.includes('\\') || p.includes('\0')) {
      throw bad(OntapCodes.OD_EXCLUDE_PATH, `exclude path \`${p.slice(0, 80)}\` is not valid: use the UNIX form from the SVM root (\`/vol1/dir/\`), at most 255 characters`, 'scope.exclude_paths');
    }
  }
  try {
    compilePolicy({ name: 'od', enabled: true, scope: { ...scope, exclude_paths: [] } });
  } catch (err) {
    if (err instanceof PolicyError) throw badField(err.message, 'scope');
    throw err;
  }
}

/** A plain host (ONTAP's form) is a clamd server on its default port; URLs name their protocol. */
export function serverAddress(server: string): string {
  if (server === 'builtin:' || /^(?:clamd|clamd\+unix|icap):\/\//.test(server)) return server;
  return isIP(server) === 6 ? `clamd://[${server}]` : `clamd://${server}`;
}

function loopback(server: string, labMode: boolean): void {
  if (labMode) return;
  const addr = parseAddress(serverAddress(server));
  if (addr.endpoint === null || 'path' in addr.endpoint) {
    throw bad(OntapCodes.LOOPBACK_V4, `server \`${server}\` is local to the emulator (built-in or unix socket); such servers need lab mode`, 'servers');
  }
  const host = addr.endpoint.host.toLowerCase();
  const v = isIP(host);
  if (v === 4) {
    const [a, , , d] = host.split('.').map(Number) as [number, number, number, number];
    if (a === 127 || (a >= 224 && a <= 239) || host === '255.255.255.255' || host === '0.0.0.0' || (a === 255 && d === 255)) {
      throw bad(OntapCodes.LOOPBACK_V4, `server \`${server}\` is a multicast, loopback, broadcast or 0.0.0.0 address, which Vscan does not accept (enable lab mode for a local lab)`, 'servers');
    }
  } else if (v === 6) {
    if (host === '::1' || host === '::' || /^fe[89ab]/.test(host) || host.startsWith('ff') || host.startsWith('::ffff:') || /^::\d+\.\d+\.\d+\.\d+$/.test(host)) {
      throw bad(OntapCodes.LOOPBACK_V6, `server \`${server}\` is a link-local, multicast, IPv4-compatible, IPv4-mapped, loopback or unspecified IPv6 address, which Vscan does not accept (enable lab mode for a local lab)`, 'servers');
    }
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    throw bad(OntapCodes.LOOPBACK_V4, `server \`${server}\` names the loopback interface, which Vscan does not accept (enable lab mode for a local lab)`, 'servers');
  }
}

export function checkPool(p: PoolDoc, labMode: boolean): void {
  checkName(p.name);
  if (p.servers.length === 0) throw bad(OntapCodes.EMPTY_LIST, 'the servers list cannot be empty', 'servers');
  if (p.privileged_users.length === 0) throw bad(OntapCodes.EMPTY_LIST, 'the privileged users list cannot be empty', 'privileged_users');
  if (p.servers.length > 64) throw badField('a pool has at most 64 servers', 'servers');
  if (new Set(p.servers).size !== p.servers.length) throw badField('a server is listed twice', 'servers');
  for (const s of p.servers) {
    try {
      parseAddress(serverAddress(s));
    } catch (err) {
      throw badField(`invalid server \`${s.slice(0, 80)}\`: ${(err as Error).message}`, 'servers');
    }
    loopback(s, labMode);
  }
  for (const u of p.privileged_users) {
    if (u.length > 256 || !/^[^\\]+\\[^\\]+$/.test(u)) throw bad(OntapCodes.BAD_USER, `privileged user \`${u.slice(0, 80)}\` must be \`domain\\user\`, at most 256 characters`, 'privileged_users');
    // Control characters are exactly what this check refuses.
    // eslint-disable-next-line no-control-regex
    if (/[\0-\x1f"/[\]:|<>+=;,?*@]/.test(u)) throw bad(OntapCodes.BAD_USER_CHARS, `privileged user \`${u.slice(0, 80)}\` holds characters a Windows account name cannot`, 'privileged_users');
  }
}
