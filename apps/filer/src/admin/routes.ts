// The administrator's REST routes on the ONTAP side: run an on-demand policy now, scan one file,
// follow and cancel jobs, list and read reports, and the audit log configuration of seed 001
// (`/api/protocols/audit/{svm.uuid}/object-store`). Lists use ONTAP's collection conventions
// (fields, filters, order_by, max_records + `_links.next`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collect, parseListQuery, parseMutationQuery, project, type Query } from '../api/query.js';
import { kApi } from '../api/records.js';
import { svmOf } from '../api/svm.js';
import { fileJob } from '../jobs/spec.js';
import type { SvmModel } from '../model.js';
import { getReport, listReports } from '../reports/query.js';
import { buildDailyReport } from '../reports/daily.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { badField, notFound } from '../server/ontap-error.js';
import { jobHref, jobRecord, kJobFields, kReportFields, reportRecord } from './records.js';
import { policyJob, type AdminServices } from './services.js';

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query; Body: unknown }>;

/** Reports a list reads at most (the store pages; the ONTAP conventions then apply in memory). */
const kReportWindow = 10_000;

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badField('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function only(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badField(`unexpected field \`${k.slice(0, 80)}\``, k);
}

function flag(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v !== undefined && typeof v !== 'boolean') throw badField(`\`${name}\` must be a boolean`, name);
  return v;
}

function boolQuery(q: Query, name: string): boolean | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw badField(`query parameter \`${name}\` must be true or false`, name);
}

export async function registerAdminRoutes(app: FastifyInstance, rt: ManagedRuntime, services: () => AdminServices): Promise<void> {
  const accepted = (svm: SvmModel, id: string): unknown => ({ job: { uuid: id, _links: { self: { href: jobHref(svm, id) } } } });
  const jobOf = (svm: SvmModel, id: string) => {
    const s = services().jobs.get(id);
    if (s === undefined || s.svm !== svm.name) throw notFound(`no job \`${id.slice(0, 80)}\``, 'uuid');
    return s;
  };

  // --- run now ---------------------------------------------------------------------------------------
  app.post(`${kApi}/:svm_uuid/on-demand-policies/:name/run`, async (req: Req, reply) => {
    const svm = svmOf(rt, req);
    parseMutationQuery(req.query);
    only(objectBody(req.body), []);
    const policy = rt.vscan(svm.name).on_demand_policies.find((p) => p.name === req.params['name']);
    if (policy === undefined) throw notFound(`no on-demand policy \`${String(req.params['name']).slice(0, 80)}\``, 'name');
    const { id } = services().jobs.start(policyJob(rt, svm.name, policy));
    void reply.status(202).header('location', jobHref(svm, id));
    return accepted(svm, id);
  });

  // An individual file as a job of one file: `path` from the SVM root (`/vol1/dir/file`), rescanned
  // even when scan current unless `force` is false (OneFS's default for its individual-file scan).
  app.post(`${kApi}/:svm_uuid/scan`, async (req: Req, reply) => {
    const svm = svmOf(rt, req);
    parseMutationQuery(req.query);
    const body = objectBody(req.body);
    only(body, ['path', 'force']);
    const p = body['path'];
    if (typeof p !== 'string' || !p.startsWith('/')) throw badField('`path` must be a UNIX path from the SVM root: /<volume>/<path>', 'path');
    const [volume = '', ...rest] = p.split('/').filter((x) => x !== '');
    const force = flag(body, 'force');
    const { id } = services().jobs.start(fileJob(rt, svm.name, { volume, path: rest.join('/') }, force === undefined ? {} : { force }));
    void reply.status(202).header('location', jobHref(svm, id));
    return accepted(svm, id);
  });

  // --- jobs ------------------------------------------------------------------------------------------
  app.get(`${kApi}/:svm_uuid/jobs`, async (req: Req) => {
    const svm = svmOf(rt, req);
    const q = parseListQuery(req.query, kJobFields);
    const all = services().jobs.list({ svm: svm.name, maxRecords: kReportWindow });
    return collect(all.map((s) => jobRecord(svm, s)), q, req.url);
  });
  app.get(`${kApi}/:svm_uuid/jobs/:id`, async (req: Req) => {
    const svm = svmOf(rt, req);
    const q = parseListQuery(req.query, kJobFields);
    const rec = jobRecord(svm, jobOf(svm, req.params['id']!));
    return req.query['fields'] === undefined ? rec : project(rec, q.fields);
  });
  const cancel = async (req: Req): Promise<unknown> => {
    const svm = svmOf(rt, req);
    parseMutationQuery(req.query);
    const s = jobOf(svm, req.params['id']!);
    return { records: [jobRecord(svm, await services().jobs.cancel(s.id))], num_records: 1 };
  };
  app.delete(`${kApi}/:svm_uuid/jobs/:id`, cancel);
  app.patch(`${kApi}/:svm_uuid/jobs/:id`, async (req: Req) => {
    const body = objectBody(req.body);
    only(body, ['state']);
    if (body['state'] !== 'cancelled') throw badField('a job can only be PATCHed to `state: cancelled`', 'state');
    return cancel(req);
  });

  // --- reports (cluster-wide: the daily on-access report covers every SVM) ---------------------------
  const svmOfReport = (id: string): SvmModel | undefined => {
    const j = services().jobs.get(id);
    return j === undefined ? undefined : rt.svm(j.svm);
  };
  app.get(`${kApi}/reports`, async (req: Req) => {
    const q = parseListQuery(req.query, kReportFields);
    const page = await listReports(rt.store, { maxRecords: kReportWindow });
    // A list leaves out the infected files unless asked for (they are only read per report).
    const wantsFiles = q.fields?.some((f) => f.startsWith('infected_files')) === true || q.filters.some(([f]) => f.startsWith('infected_files'));
    const reports = await Promise.all(page.records.map(async (r) => (wantsFiles ? (await getReport(rt.store, r.id)) ?? r : r)));
    return collect(reports.map((r) => reportRecord(r, svmOfReport(r.id))), q, req.url);
  });
  app.get(`${kApi}/reports/:id`, async (req: Req) => {
    const q = parseListQuery(req.query, kReportFields);
    const r = await getReport(rt.store, req.params['id']!);
    if (r === undefined) throw notFound(`no report \`${String(req.params['id']).slice(0, 80)}\``, 'id');
    const rec = reportRecord(r, svmOfReport(r.id));
    return req.query['fields'] === undefined ? rec : project(rec, q.fields);
  });
  // The daily on-access report on demand: `day` (YYYY-MM-DD, UTC) @default yesterday.
  app.post(`${kApi}/reports/on-access`, async (req: Req, reply) => {
    parseMutationQuery(req.query);
    const body = objectBody(req.body);
    only(body, ['day']);
    const day = body['day'];
    if (day !== undefined && (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))) {
      throw badField('`day` must be a date, YYYY-MM-DD', 'day');
    }
    services().counter.flush();
    const r = await buildDailyReport(rt, services().db, day === undefined ? {} : { day });
    void reply.status(201).header('location', `${kApi}/reports/${encodeURIComponent(r.id)}`);
    return { num_records: 1, records: [reportRecord(r)] };
  });

  // --- audit log configuration (seed 001) -----------------------------------------------------------
  const kAudit = '/api/protocols/audit/:svm_uuid/object-store';
  app.post(kAudit, async (req: Req, reply) => {
    const { returnRecords } = parseMutationQuery(req.query);
    const c = services().audit.create(req.params['svm_uuid']!, req.body ?? {});
    // The seed answers 202 (ONTAP may run it as a job); here it is done before the answer.
    void reply.status(202);
    return returnRecords ? { num_records: 1, records: [c] } : {};
  });
  app.get(kAudit, async (req: Req) => {
    const uuid = req.params['svm_uuid']!;
    const q = req.query;
    if (uuid === '*') {
      for (const k of Object.keys(q)) {
        if (!['enabled', 'events.data', 'events.management', 'log_path', 'log.format', 'svm.name', 'fields', 'return_records', 'return_timeout'].includes(k)) {
          throw badField(`unexpected query parameter \`${k.slice(0, 80)}\``, k);
        }
      }
      const str = (k: string): string | undefined => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
      const filter = {
        ...(boolQuery(q, 'enabled') === undefined ? {} : { enabled: boolQuery(q, 'enabled')! }),
        ...(boolQuery(q, 'events.data') === undefined ? {} : { 'events.data': boolQuery(q, 'events.data')! }),
        ...(boolQuery(q, 'events.management') === undefined ? {} : { 'events.management': boolQuery(q, 'events.management')! }),
        ...(str('log_path') === undefined ? {} : { log_path: str('log_path')! }),
        ...(str('log.format') === undefined ? {} : { 'log.format': str('log.format')! }),
        ...(str('svm.name') === undefined ? {} : { 'svm.name': str('svm.name')! }),
      };
      const records = services().audit.list(filter);
      return { records, num_records: records.length };
    }
    return services().audit.get(uuid);
  });
  app.patch(kAudit, async (req: Req, reply) => {
    parseMutationQuery(req.query);
    services().audit.patch(req.params['svm_uuid']!, req.body ?? {});
    void reply.status(202);
    return {};
  });
  app.delete(kAudit, async (req: Req, reply) => {
    parseMutationQuery(req.query, ['force']);
    const force = boolQuery(req.query, 'force');
    services().audit.delete(req.params['svm_uuid']!, force === undefined ? {} : { force });
    void reply.status(202);
    return {};
  });
}
