// OneFS CAVA servers (`/platform/11/avscan/servers[/{name}]`). CAVA servers are cluster-wide; here a
// server is an address in the scanner pool `onefs_cava` of every zone (each zone has its own
// dispatcher), and its name and `enabled` flag live in the app database. A disabled server leaves the
// pools; the pool goes away with its last enabled server. `server_uri` "host:port/path" (CEE's form)
// is the clamd server host:port (the path is CEE's and is not used); a URI with a scheme
// (`clamd://`, `icap://…/svc`, `builtin:`) is used as is. A change reaches every zone or none
// (onefs-apply), so a refused one changes nothing.
import type Database from 'better-sqlite3';
import type { ManagedRuntime } from '../runtime/managed.js';
import { OntapCodes, OntapError, badField, notFound } from '../server/ontap-error.js';
import { kOnefsPoolName, setOnefsPool } from '../vscan/onefs.js';
import { changeZones } from './onefs-apply.js';
import { boolOf, objectOf, strOf } from './onefs-body.js';

export interface OnefsServer {
  readonly name: string;
  readonly uri: string;
  readonly enabled: boolean;
}

/** The pool address of a `server_uri`. */
export function addressOfUri(uri: string): string {
  if (uri === 'builtin:' || /^[a-z][a-z0-9+]*:\/\//i.test(uri)) return uri;
  return uri.split('/')[0]!;
}

export function listServers(db: Database.Database): OnefsServer[] {
  return (db.prepare('SELECT name, uri, enabled FROM onefs_servers ORDER BY created, name').all() as Array<{ name: string; uri: string; enabled: number }>)
    .map((r) => ({ name: r.name, uri: r.uri, enabled: r.enabled === 1 }));
}

export function serverRecord(s: OnefsServer): Record<string, unknown> {
  return { id: s.name, server_name: s.name, server_uri: s.uri, server_type: 'CAVA', enabled: s.enabled };
}

/** Every server of every zone's pools other than the OneFS pool (configured through ONTAP). */
export function ontapServerRecords(rt: ManagedRuntime): Array<Record<string, unknown>> {
  return rt.svms().flatMap((s) => rt.vscan(s.name).scanner_pools.filter((p) => p.name !== kOnefsPoolName).flatMap((p) => p.servers.map((uri) => ({
    id: `${s.name}:${uri}`, server_name: uri, server_uri: uri, server_type: 'CAVA', enabled: true, zone: s.name, pool: p.name,
  }))));
}

/** Makes the zones' OneFS pools hold `servers`' enabled addresses, then saves `servers`. */
async function commit(rt: ManagedRuntime, db: Database.Database, servers: readonly OnefsServer[]): Promise<void> {
  const addresses = [...new Set(servers.filter((s) => s.enabled).map((s) => addressOfUri(s.uri)))];
  await changeZones(rt, rt.svms().map((s) => s.name), (doc, ctx) => setOnefsPool(doc, addresses, ctx));
  const now = Date.now();
  db.transaction(() => {
    const created = new Map((db.prepare('SELECT name, created FROM onefs_servers').all() as Array<{ name: string; created: number }>).map((r) => [r.name, r.created]));
    db.prepare('DELETE FROM onefs_servers').run();
    const ins = db.prepare('INSERT INTO onefs_servers (name, uri, enabled, created) VALUES (?, ?, ?, ?)');
    servers.forEach((s, i) => ins.run(s.name, s.uri, s.enabled ? 1 : 0, created.get(s.name) ?? now + i));
  })();
}

const need = (servers: readonly OnefsServer[], name: string): OnefsServer => {
  const s = servers.find((x) => x.name === name);
  if (s === undefined) throw notFound(`no CAVA server \`${name.slice(0, 80)}\``, 'id');
  return s;
};

export async function createServer(rt: ManagedRuntime, db: Database.Database, body: unknown): Promise<string> {
  const b = objectOf(body, ['server_name', 'server_uri', 'enabled']);
  const name = strOf(b, 'server_name', 1, 255);
  const uri = strOf(b, 'server_uri', 1, 256);
  if (name === undefined) throw badField('`server_name` is required', 'server_name');
  if (uri === undefined) throw badField('`server_uri` is required', 'server_uri');
  const enabled = boolOf(b, 'enabled') ?? true;
  const all = listServers(db);
  if (all.some((s) => s.name === name)) throw new OntapError(409, OntapCodes.DUPLICATE, `CAVA server \`${name.slice(0, 80)}\` already exists`, 'server_name');
  if (all.some((s) => addressOfUri(s.uri) === addressOfUri(uri))) throw new OntapError(409, OntapCodes.DUPLICATE, `a CAVA server already has the address \`${addressOfUri(uri).slice(0, 80)}\``, 'server_uri');
  await commit(rt, db, [...all, { name, uri, enabled }]);
  return name;
}

export async function modifyServer(rt: ManagedRuntime, db: Database.Database, id: string, body: unknown): Promise<void> {
  const b = objectOf(body, ['enabled', 'new_name', 'server_uri']);
  const all = listServers(db);
  const cur = need(all, id);
  const newName = strOf(b, 'new_name', 1, 255);
  const uri = strOf(b, 'server_uri', 1, 256);
  const enabled = boolOf(b, 'enabled');
  if (newName !== undefined && newName !== id && all.some((s) => s.name === newName)) throw new OntapError(409, OntapCodes.DUPLICATE, `CAVA server \`${newName.slice(0, 80)}\` already exists`, 'new_name');
  if (uri !== undefined && all.some((s) => s.name !== id && addressOfUri(s.uri) === addressOfUri(uri))) {
    throw new OntapError(409, OntapCodes.DUPLICATE, `a CAVA server already has the address \`${addressOfUri(uri).slice(0, 80)}\``, 'server_uri');
  }
  const next: OnefsServer = { name: newName ?? cur.name, uri: uri ?? cur.uri, enabled: enabled ?? cur.enabled };
  await commit(rt, db, all.map((s) => (s.name === id ? next : s)));
}

export async function deleteServers(rt: ManagedRuntime, db: Database.Database, id?: string): Promise<void> {
  const all = listServers(db);
  if (id !== undefined) need(all, id);
  await commit(rt, db, id === undefined ? [] : all.filter((s) => s.name !== id));
}

export function getServer(db: Database.Database, id: string): OnefsServer {
  return need(listServers(db), id);
}
