// The OneFS antivirus PAPI (ONTAP-API.md §3) over the same data model as the ONTAP routes: an SVM is
// an access zone based at `/ifs/<svm>`, a file is `/ifs/<svm>/<volume>/<path>`. A zone's CAVA job
// list is a view of the SVM's ONTAP on-demand policies (a policy's `scan_paths` `/vol1/dir/` are
// the job's `paths_to_include` `/ifs/<svm>/vol1/dir/`); reports and threats are the store's reports,
// in OneFS's shapes (toOnefsScanReport / toOnefsThreats). Writes (settings, filters, servers, jobs)
// change the same documents (onefs-settings, onefs-filters, onefs-servers, onefs-jobs). Routes throw
// the filer's one error class; the server answers it in PAPI's `{"errors": [...]}` (papi-error.ts).
import type Database from 'better-sqlite3';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Query } from '../api/query.js';
import { fileRecord, resolveSvmPath } from '../api/observe.js';
import { fileJob } from '../jobs/spec.js';
import { accessOf, pathComponents } from '../paths.js';
import { listReports, listThreats, getReport, toOnefsScanReport, toOnefsThreats } from '../reports/query.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { OntapCodes, OntapError, badField, notFound } from '../server/ontap-error.js';
import type { OdPolicyDoc } from '../vscan/model.js';
import { deleteOdPolicy } from '../vscan/ops.js';
import { serverAddress } from '../vscan/validate.js';
import { filterView, putFilter } from './onefs-filters.js';
import { createOnefsJob, modifyOnefsJob, onefsJobRecord } from './onefs-jobs.js';
import { deleteOnefsJob, getOnefsJob, listOnefsJobs, type StoredOnefsJob } from './onefs-jobs-store.js';
import { addressOfUri, createServer, deleteServers, getServer, listServers, modifyServer, ontapServerRecords, serverRecord } from './onefs-servers.js';
import { putSettings, settingsView } from './onefs-settings.js';
import type { AdminServices } from './services.js';

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query; Body: unknown }>;

const kPageMax = 10_000;

function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badField(`query parameter \`${name}\` is given more than once`, name);
  return v;
}

function int(q: Query, name: string, fallback: number): number {
  const v = str(q, name);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v)) throw badField(`query parameter \`${name}\` must be a non-negative integer`, name);
  return Number(v);
}

/** Only these query parameters: anything else is a typo the client should hear about. */
function allow(q: Query, names: readonly string[]): void {
  for (const k of Object.keys(q)) if (!names.includes(k)) throw badField(`unexpected query parameter \`${k.slice(0, 80)}\``, k);
}

/** An ONTAP on-demand policy seen as a OneFS CAVA job of the zone. */
export function onefsJobView(svm: string, p: OdPolicyDoc): Record<string, unknown> {
  const ifs = (unix: string): string => `/ifs/${svm}${unix.startsWith('/') ? '' : '/'}${unix}`;
  const s = p.scope ?? {};
  const include = s.include_extensions ?? ['*'];
  return {
    id: p.name,
    job_name: p.name,
    enabled: true,
    paths_to_include: p.scan_paths.map(ifs),
    paths_to_exclude: (s.exclude_paths ?? []).map((x) => ifs(x.replace(/\\/g, '/'))),
    file_extensions: include.includes('*') ? (s.exclude_extensions ?? []) : include,
    file_extension_action: include.includes('*') && (s.exclude_extensions ?? []).length > 0 ? 'exclude' : 'include',
    scan_if_no_extension: s.scan_without_extension ?? true,
    ignore_previous_scan_status: false,
    schedule: p.schedule?.name ?? null,
  };
}

export async function registerOnefsRoutes(app: FastifyInstance, rt: ManagedRuntime, services: () => AdminServices): Promise<void> {
  // Individual-file scan: a job of one file, answered when it ends.
  app.post('/platform/11/antivirus/scan', async (req: Req) => {
    allow(req.query, []);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw badField('the body must be a JSON object');
    for (const k of Object.keys(body)) if (!['file', 'policy', 'report_id', 'ignore_previous_scan_status'].includes(k)) throw badField(`unexpected field \`${k.slice(0, 80)}\``, k);
    const file = body['file'];
    const parts = typeof file === 'string' ? pathComponents(file) : [];
    if (parts[0] !== 'ifs' || parts[1] === undefined || rt.svm(parts[1]) === undefined) throw badField('`file` must be a path /ifs/<zone>/<volume>/<path> of a known zone', 'file');
    const force = body['ignore_previous_scan_status'];
    if (force !== undefined && typeof force !== 'boolean') throw badField('`ignore_previous_scan_status` must be a boolean', 'ignore_previous_scan_status');
    const policy = body['policy'];
    if (policy !== undefined && typeof policy !== 'string') throw badField('`policy` must be a string', 'policy');
    const { done } = services().jobs.start(fileJob(rt, parts[1], file as string, { force: force ?? true, name: policy ?? 'MANUAL' }));
    const s = await done;
    const result = s.infected > 0 ? 'infected' : s.failed > 0 ? 'failed' : s.skipped > 0 ? 'skipped_per_settings' : 'clean';
    return { result, report_id: s.reportId };
  });

  app.get('/platform/11/antivirus/reports/scans', async (req: Req) => {
    allow(req.query, ['policy_id', 'status', 'limit', 'offset', 'sort', 'dir']);
    const sort = str(req.query, 'sort') ?? 'start';
    const dir = str(req.query, 'dir') ?? 'DESC';
    if (dir !== 'ASC' && dir !== 'DESC') throw badField('`dir` must be ASC or DESC', 'dir');
    const policy = str(req.query, 'policy_id');
    const status = str(req.query, 'status');
    let rows = listReports(rt.store, { maxRecords: kPageMax }).records.map(toOnefsScanReport)
      .filter((r) => (policy === undefined || r['policy_id'] === policy) && (status === undefined || r['status'] === status));
    if (rows.length > 0 && !(sort in rows[0]!)) throw badField(`cannot sort by \`${sort.slice(0, 80)}\``, 'sort');
    rows = rows.sort((a, b) => {
      const x = a[sort] as number | string | null;
      const y = b[sort] as number | string | null;
      const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return dir === 'ASC' ? c : -c;
    });
    const offset = int(req.query, 'offset', 0);
    const limit = int(req.query, 'limit', 1000);
    return { reports: rows.slice(offset, offset + limit), resume: null, total: rows.length };
  });
  app.get('/platform/11/antivirus/reports/scans/:id', async (req: Req) => {
    allow(req.query, []);
    const r = getReport(rt.store, req.params['id']!);
    if (r === undefined) throw notFound(`no scan report \`${String(req.params['id']).slice(0, 80)}\``, 'id');
    return { reports: [toOnefsScanReport(r)] };
  });
  app.get('/platform/3/antivirus/reports/threats', async (req: Req) => {
    allow(req.query, ['scan_id', 'file', 'remediation', 'limit', 'offset']);
    const scan = str(req.query, 'scan_id');
    const file = str(req.query, 'file');
    const remediation = str(req.query, 'remediation');
    const page = listThreats(rt.store, {
      ...(scan === undefined ? {} : { reportId: scan }), ...(file === undefined ? {} : { filePath: file }), ...(remediation === undefined ? {} : { response: remediation }),
      maxRecords: int(req.query, 'limit', 1000), offset: int(req.query, 'offset', 0),
    });
    const reports = page.records.flatMap(toOnefsThreats);
    return { reports, resume: null, total: reports.length };
  });

  // The per-file view (§3.2): `/ifs/<zone>/<volume>/<path>` after the prefix.
  const fileOf = (req: Req): { zone: string; resolved: ReturnType<typeof resolveSvmPath>; ifs: string } => {
    const ifs = `/${String(req.params['*'] ?? '')}`;
    const parts = pathComponents(ifs);
    if (parts[0] !== 'ifs' || parts[1] === undefined || rt.svm(parts[1]) === undefined) throw notFound(`\`${ifs.slice(0, 120)}\` is not under /ifs/<zone>/ of a known zone`, 'path');
    return { zone: parts[1], resolved: resolveSvmPath(rt, parts[1], parts.slice(2).join('/')), ifs };
  };
  app.get('/platform/3/antivirus/quarantine/*', async (req: Req) => {
    allow(req.query, []);
    const { zone, resolved, ifs } = fileOf(req);
    const r = fileRecord(rt, zone, resolved);
    const scanTime = typeof r['scan_time'] === 'string' ? Math.floor(Date.parse(r['scan_time']) / 1000) : null;
    return {
      file: ifs, quarantined: r['quarantined'], last_scan: scanTime, last_istag: r['signature_timestamp'] ?? null,
      scan_result: r['scan_result'], scan_status: r['scan_status'] === 'current' ? 'current' : 'not_current',
    };
  });
  app.put('/platform/3/antivirus/quarantine/*', async (req: Req, reply) => {
    allow(req.query, []);
    const { zone, resolved } = fileOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(body)) if (k !== 'quarantined') throw badField(`unexpected field \`${k.slice(0, 80)}\``, k);
    if (typeof body['quarantined'] !== 'boolean') throw badField('`quarantined` must be a boolean', 'quarantined');
    // Quarantine comes from a scan verdict; the API only releases (as the ONTAP side's PATCH …/files).
    if (body['quarantined']) throw badField('files are quarantined by a scan verdict; only `quarantined: false` (release) is accepted', 'quarantined');
    const access = accessOf(resolved);
    await rt.engine(zone).releaseQuarantine(access.volume, access.fileId);
    void reply.status(204);
  });

  // Each zone's CAVA filter: the view of its Vscan state and enabled on-access policy (onefs-filters).
  const db = (): Database.Database => services().db;
  const zoneOf = (req: Req): string => {
    const zone = req.params['id']!;
    if (rt.svm(zone) === undefined) throw notFound(`no filter \`${zone.slice(0, 80)}\``, 'id');
    return zone;
  };
  app.get('/platform/11/avscan/filters', async (req: Req) => {
    allow(req.query, ['limit', 'resume', 'sort', 'dir']);
    const filters = rt.svms().map((s) => filterView(rt, db(), s.name, false));
    return { filters, resume: null, total: filters.length };
  });
  app.get('/platform/11/avscan/filters/:id', async (req: Req) => {
    allow(req.query, []);
    return { filters: [filterView(rt, db(), zoneOf(req), true)] };
  });
  app.put('/platform/11/avscan/filters/:id', async (req: Req, reply) => {
    allow(req.query, []);
    await putFilter(rt, db(), zoneOf(req), req.body);
    void reply.status(204);
  });

  // Cluster-wide settings (onefs-settings).
  app.get('/platform/11/avscan/settings', async (req: Req) => {
    allow(req.query, []);
    return settingsView(rt, db());
  });
  app.put('/platform/11/avscan/settings', async (req: Req, reply) => {
    allow(req.query, []);
    await putSettings(rt, db(), req.body);
    void reply.status(204);
  });

  // Scanner servers: the OneFS servers (onefs-servers), then the other pools' servers of each zone.
  app.get('/platform/11/avscan/servers', async (req: Req) => {
    allow(req.query, ['limit', 'resume', 'sort', 'dir']);
    const servers = [...listServers(db()).map(serverRecord), ...ontapServerRecords(rt)];
    return { servers, resume: null, total: servers.length };
  });
  app.post('/platform/11/avscan/servers', async (req: Req, reply) => {
    allow(req.query, []);
    const id = await createServer(rt, db(), req.body);
    void reply.status(201);
    return { id };
  });
  app.delete('/platform/11/avscan/servers', async (req: Req, reply) => {
    allow(req.query, []);
    await deleteServers(rt, db());
    void reply.status(204);
  });
  app.get('/platform/11/avscan/servers/:id', async (req: Req) => {
    allow(req.query, []);
    return { servers: [serverRecord(getServer(db(), req.params['id']!))] };
  });
  app.put('/platform/11/avscan/servers/:id', async (req: Req, reply) => {
    allow(req.query, []);
    await modifyServer(rt, db(), req.params['id']!, req.body);
    void reply.status(204);
  });
  app.delete('/platform/11/avscan/servers/:id', async (req: Req, reply) => {
    allow(req.query, []);
    await deleteServers(rt, db(), req.params['id']!);
    void reply.status(204);
  });

  // This node's status: the dispatchers' servers and counters (one node: lnn 1).
  app.get('/platform/11/avscan/nodes/:lnn/status', async (req: Req) => {
    allow(req.query, []);
    if (req.params['lnn'] !== '1') throw notFound(`no node \`${String(req.params['lnn']).slice(0, 20)}\` (the emulator is node 1)`, 'lnn');
    const metrics = rt.svms().map((s) => rt.dispatcher(s.name)?.metrics()).filter((m) => m !== undefined);
    const servers = metrics.flatMap((m) => m.servers);
    const up = servers.some((v) => v.state === 'connected');
    const sum = (f: (v: (typeof servers)[number]) => number): number => servers.reduce((a, v) => a + f(v), 0);
    const requests = sum((v) => v.clean + v.infected + v.failure + v.timeout);
    const names = new Map(listServers(db()).map((x) => [serverAddress(addressOfUri(x.uri)), x.name]));
    return {
      status: [{
        av_vendor: 'avscan', system_status: up ? 'RUNNING' : 'FAULTED', blocking_events: up ? [] : ['no scanner server connected'],
        server_status: servers.map((v) => ({
          // A server created through OneFS is shown by its OneFS name.
          server_name: names.get(v.server) ?? v.server, server_state: v.state, connections: v.inFlight, scan_requests: v.clean + v.infected + v.failure + v.timeout, scan_rtt: v.mean,
        })),
        system_stats: {
          all_scan_requests: requests, scan_fails: sum((v) => v.failure), scan_timeouts: sum((v) => v.timeout), cee_infected_count: sum((v) => v.infected),
          cee_success_count: sum((v) => v.clean), fast_file_queue_size: metrics.reduce((a, m) => a + m.queued, 0),
        },
      }],
    };
  });

  // Jobs: the OneFS jobs (onefs-jobs), then each zone's ONTAP on-demand policies seen as jobs.
  const policyJobs = (zone?: string): Array<Record<string, unknown>> =>
    (zone === undefined ? rt.svms() : [rt.svm(zone)!]).flatMap((s) => rt.vscan(s.name).on_demand_policies.map((p) => ({ ...onefsJobView(s.name, p), zone: s.name })));
  app.get('/platform/11/avscan/jobs', async (req: Req) => {
    allow(req.query, ['zone', 'limit', 'resume', 'sort', 'dir']);
    const zone = str(req.query, 'zone');
    if (zone !== undefined && rt.svm(zone) === undefined) throw notFound(`no access zone \`${zone.slice(0, 80)}\``, 'zone');
    const onefs = listOnefsJobs(db()).filter((j) => zone === undefined || j.zone === zone).map(onefsJobRecord);
    const jobs = [...onefs, ...policyJobs(zone)];
    return { jobs, resume: null, total: jobs.length };
  });
  app.post('/platform/11/avscan/jobs', async (req: Req, reply) => {
    allow(req.query, []);
    const id = createOnefsJob(rt, db(), req.body);
    void reply.status(201);
    return { id };
  });
  app.delete('/platform/11/avscan/jobs', async (req: Req, reply) => {
    allow(req.query, []);
    deleteOnefsJob(db());
    void reply.status(204);
  });
  /** A job by id: a OneFS job, or an ONTAP on-demand policy of some zone. */
  const jobOf = (req: Req): { onefs: StoredOnefsJob } | { zone: string; policy: OdPolicyDoc } => {
    const id = req.params['id']!;
    const j = getOnefsJob(db(), id);
    if (j !== undefined) return { onefs: j };
    for (const s of rt.svms()) {
      const p = rt.vscan(s.name).on_demand_policies.find((x) => x.name === id);
      if (p !== undefined) return { zone: s.name, policy: p };
    }
    throw notFound(`no job \`${id.slice(0, 80)}\``, 'id');
  };
  app.get('/platform/11/avscan/jobs/:id', async (req: Req) => {
    allow(req.query, []);
    const j = jobOf(req);
    return { jobs: ['onefs' in j ? onefsJobRecord(j.onefs) : { ...onefsJobView(j.zone, j.policy), zone: j.zone }] };
  });
  app.put('/platform/11/avscan/jobs/:id', async (req: Req, reply) => {
    allow(req.query, []);
    const j = jobOf(req);
    if (!('onefs' in j)) throw new OntapError(409, OntapCodes.IN_USE, `job \`${j.policy.name}\` is ONTAP on-demand policy of zone \`${j.zone}\`: change it through /api/protocols/vscan/{svm.uuid}/on-demand-policies`, 'id');
    modifyOnefsJob(rt, db(), j.onefs, req.body);
    void reply.status(204);
  });
  app.delete('/platform/11/avscan/jobs/:id', async (req: Req, reply) => {
    allow(req.query, []);
    const j = jobOf(req);
    if ('onefs' in j) deleteOnefsJob(db(), j.onefs.name);
    else await rt.mutate(j.zone, (doc, ctx) => deleteOdPolicy(doc, j.policy.name, ctx));
    void reply.status(204);
  });
}
