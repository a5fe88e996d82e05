// The OneFS PAPI's configuration routes: settings, filters, servers and jobs, each a view of the one
// data model with its writes (onefs-settings, onefs-filters, onefs-servers, onefs-jobs). A zone's
// CAVA job list also shows its ONTAP on-demand policies (a policy's `scan_paths` `/vol1/dir/` are the
// job's `paths_to_include` `/ifs/<svm>/vol1/dir/`).
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { ManagedRuntime } from '../runtime/managed.js';
import { OntapCodes, OntapError, notFound } from '../server/ontap-error.js';
import type { OdPolicyDoc } from '../vscan/model.js';
import { deleteOdPolicy } from '../vscan/ops.js';
import { filterView, putFilter } from './onefs-filters.js';
import { createOnefsJob, modifyOnefsJob, onefsJobRecord } from './onefs-jobs.js';
import { deleteOnefsJob, getOnefsJob, listOnefsJobs, type StoredOnefsJob } from './onefs-jobs-store.js';
import { allow, str, type Req } from './onefs-query.js';
import { createServer, deleteServers, getServer, listServers, modifyServer, ontapServerRecords, serverRecord } from './onefs-servers.js';
import { putSettings, settingsView } from './onefs-settings.js';

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

export function registerOnefsConfigRoutes(app: FastifyInstance, rt: ManagedRuntime, db: () => Database.Database): void {
  // Each zone's CAVA filter: the view of its Vscan state and enabled on-access policy (onefs-filters).
  const zoneOf = (req: Req): string => {
    const zone = req.params['id']!;
    if (rt.svm(zone) === undefined) throw notFound(`no filter \`${zone.slice(0, 80)}\``, 'id');
    return zone;
  };
  app.get('/platform/11/avscan/filters', async (req: Req) => {
    allow(req.query, ['limit', 'resume', 'sort', 'dir']);
    const filters = rt.svms().map((s) => filterView(rt, s.name, false));
    return { filters, resume: null, total: filters.length };
  });
  app.get('/platform/11/avscan/filters/:id', async (req: Req) => {
    allow(req.query, []);
    return { filters: [filterView(rt, zoneOf(req), true)] };
  });
  app.put('/platform/11/avscan/filters/:id', async (req: Req, reply) => {
    allow(req.query, []);
    await putFilter(rt, zoneOf(req), req.body);
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
