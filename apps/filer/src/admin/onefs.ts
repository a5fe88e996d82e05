// The OneFS antivirus PAPI (ONTAP-API.md §3) over the same data model as the ONTAP routes: an SVM is
// an access zone based at `/ifs/<svm>`, a file is `/ifs/<svm>/<volume>/<path>`. Here: the
// individual-file scan, reports and threats (the store's reports in OneFS's shapes:
// toOnefsScanReport / toOnefsThreats), the per-file view, the node status; settings, filters,
// servers and jobs are in onefs-config-routes. Routes throw the filer's one error class; the server
// answers it in PAPI's `{"errors": [...]}` (papi-error.ts).
import type { FastifyInstance } from 'fastify';
import { fileRecord, resolveSvmPath } from '../api/observe.js';
import { fileJob } from '../jobs/spec.js';
import { accessOf, pathComponents } from '../paths.js';
import { listReports, listThreats, getReport, toOnefsScanReport, toOnefsThreats } from '../reports/query.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { badField, notFound } from '../server/ontap-error.js';
import { serverAddress } from '../vscan/validate.js';
import { registerOnefsConfigRoutes } from './onefs-config-routes.js';
import { allow, int, str, type Req } from './onefs-query.js';
import { addressOfUri, listServers } from './onefs-servers.js';
import type { AdminServices } from './services.js';

const kPageMax = 10_000;

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
    let rows = (await listReports(rt.store, { maxRecords: kPageMax })).records.map(toOnefsScanReport)
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
    const r = await getReport(rt.store, req.params['id']!);
    if (r === undefined) throw notFound(`no scan report \`${String(req.params['id']).slice(0, 80)}\``, 'id');
    return { reports: [toOnefsScanReport(r)] };
  });
  app.get('/platform/3/antivirus/reports/threats', async (req: Req) => {
    allow(req.query, ['scan_id', 'file', 'remediation', 'limit', 'offset']);
    const scan = str(req.query, 'scan_id');
    const file = str(req.query, 'file');
    const remediation = str(req.query, 'remediation');
    const page = await listThreats(rt.store, {
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
    const r = await fileRecord(rt, zone, resolved);
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

  // This node's status: the dispatchers' servers and counters (one node: lnn 1).
  app.get('/platform/11/avscan/nodes/:lnn/status', async (req: Req) => {
    allow(req.query, []);
    if (req.params['lnn'] !== '1') throw notFound(`no node \`${String(req.params['lnn']).slice(0, 20)}\` (the emulator is node 1)`, 'lnn');
    const metrics = rt.svms().map((s) => rt.dispatcher(s.name)?.metrics()).filter((m) => m !== undefined);
    const servers = metrics.flatMap((m) => m.servers);
    const up = servers.some((v) => v.state === 'connected');
    const sum = (f: (v: (typeof servers)[number]) => number): number => servers.reduce((a, v) => a + f(v), 0);
    const requests = sum((v) => v.clean + v.infected + v.failure + v.timeout);
    const names = new Map(listServers(services().db).map((x) => [serverAddress(addressOfUri(x.uri)), x.name]));
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

  registerOnefsConfigRoutes(app, rt, () => services().db);
}
