// The ONTAP REST routes: /api/cluster, /api/svm/svms and /api/protocols/vscan/... with ONTAP's
// conventions (query.ts), shapes (records.ts) and semantics (vscan/ops.ts). Every change goes through
// `runtime.mutate`, so it is saved and reaches the SVM's engine and dispatcher before the answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ManagedRuntime } from '../runtime/managed.js';
import type { SvmModel } from '../model.js';
import { OntapCodes, OntapError, badField, notFound } from '../server/ontap-error.js';
import type { Outcome, SvmContext } from '../vscan/ops.js';
import * as ops from '../vscan/ops.js';
import type { OaPolicyDoc, PoolDoc, VscanDoc } from '../vscan/model.js';
import { collect, fieldsOf, parseListQuery, parseMutationQuery, project, type FieldSet, type Query } from './query.js';
import {
  kApi, kOaFields, kOdFields, kPoolFields, kVscanFields, oaRecords, odRecord, poolRecord, vscanRecord, type Rec,
} from './records.js';
import * as S from './schemas.js';
import { registerObservability } from './observe.js';
import { svmOf } from './svm.js';

export const kClusterVersion = Object.freeze({ full: 'NetApp Release 9.14.1: avscan filer emulator', generation: 9, major: 14, minor: 1 });

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query; Body: unknown }>;

function selfHref(req: FastifyRequest): string {
  return req.url;
}

function list(req: Req, records: Rec[], set: FieldSet): unknown {
  return collect(records, parseListQuery(req.query, set), selfHref(req));
}

function one(req: Req, record: Rec | undefined, set: FieldSet, what: string): Rec {
  if (record === undefined) throw notFound(`no ${what} \`${String(req.params['name']).slice(0, 80)}\``, 'name');
  const q = parseListQuery(req.query, set);
  if (q.filters.length > 0) throw badField('a single record takes no filters', q.filters[0]![0]);
  // A single GET returns every field unless `fields` narrows it.
  return req.query['fields'] === undefined ? record : project(record, q.fields);
}

async function created(rt: ManagedRuntime, reply: FastifyReply, req: Req, svm: string, change: Parameters<ManagedRuntime['mutate']>[1], location: () => string, record: () => Rec): Promise<unknown> {
  const { returnRecords } = parseMutationQuery(req.query, ['svm.name', 'svm.uuid']);
  const outcome = await rt.mutate(svm, change);
  if (outcome.error !== undefined) throw outcome.error;
  void reply.status(201).header('location', location());
  return returnRecords ? { num_records: 1, records: [record()] } : {};
}

async function changed(rt: ManagedRuntime, req: Req, svm: string, change: Parameters<ManagedRuntime['mutate']>[1], extra?: { cacheClear?: boolean }): Promise<unknown> {
  parseMutationQuery(req.query, ['svm.name', 'svm.uuid']);
  const outcome = await rt.mutate(svm, change, extra);
  if (outcome.error !== undefined) throw outcome.error;
  return {};
}

/** A child of POST /protocols/vscan failed: ONTAP names it in 10027259 (or 10027260 when it exists). */
function child<T>(what: string, name: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof OntapError) {
      if (err.code === OntapCodes.DUPLICATE) throw new OntapError(409, OntapCodes.CHILD_EXISTS, `${what} \`${name}\` already exists`, err.target);
      throw new OntapError(err.status === 409 ? 409 : 400, OntapCodes.CHILD_FAILED, `failed to create ${what} \`${name}\`: ${err.message} (error ${err.code})`, err.target);
    }
    throw err;
  }
}

function outcomeDoc(o: Outcome): VscanDoc {
  if (o.error !== undefined) throw o.error;
  return o.doc;
}

const kSvmFields: FieldSet = {
  all: fieldsOf({ uuid: '', name: '', state: '', subtype: '', language: '', cifs: { enabled: true }, nfs: { enabled: true } }),
  keys: ['uuid', 'name'],
};
const kClusterFields: FieldSet = {
  all: fieldsOf({ name: '', uuid: '', version: { full: '', generation: 0, major: 0, minor: 0 } }),
  keys: ['name', 'uuid', 'version'],
};

export async function registerApi(app: FastifyInstance, rt: ManagedRuntime): Promise<void> {
  const r = rt;
  const tag = (t: string, summary: string): Record<string, unknown> => ({ tags: [t], summary });

  // --- cluster and SVMs ------------------------------------------------------------------------------
  const clusterUuid = rt.svms()[0]?.uuid.replace(/^.{8}/, '0c1c0000') ?? '0c1c0000-0000-0000-0000-000000000000';
  app.get('/api/cluster', { schema: { ...tag('cluster', 'The cluster and its ONTAP version'), querystring: S.listQuery } }, async (req) => {
    const rec: Rec = { name: 'avscan-emulator', uuid: clusterUuid, version: { ...kClusterVersion }, _links: { self: { href: '/api/cluster' } } };
    const q = parseListQuery((req as Req).query, kClusterFields);
    return (req as Req).query['fields'] === undefined ? rec : project(rec, q.fields);
  });
  const svmRecord = (s: SvmModel): Rec => ({
    uuid: s.uuid, name: s.name, state: 'running', subtype: 'default', language: 'c.utf_8',
    cifs: { enabled: s.cifsServer }, nfs: { enabled: false }, _links: { self: { href: `/api/svm/svms/${s.uuid}` } },
  });
  app.get('/api/svm/svms', { schema: { ...tag('svm', 'SVMs'), querystring: S.listQuery } }, async (req) => list(req as Req, r.svms().map(svmRecord), kSvmFields));
  app.get('/api/svm/svms/:svm_uuid', { schema: { ...tag('svm', 'One SVM'), params: S.svmParams, querystring: S.listQuery } }, async (req) => {
    const rq = req as Req;
    return one({ ...rq, params: { ...rq.params, name: rq.params['svm_uuid']! } } as Req, r.svmByUuid(rq.params['svm_uuid']!) && svmRecord(r.svmByUuid(rq.params['svm_uuid']!)!), kSvmFields, 'SVM');
  });

  // --- /protocols/vscan ---------------------------------------------------------------------------------
  app.get(kApi, { schema: { ...tag('vscan', 'Vscan configuration of every SVM'), querystring: S.listQuery } }, async (req) =>
    list(req as Req, r.svms().map((s) => vscanRecord(s, r.vscan(s.name))), kVscanFields));

  app.post(kApi, { schema: { ...tag('vscan', 'Create the Vscan configuration of an SVM (pools, policies, on/off)'), body: S.vscanPost, querystring: S.mutationQuery } }, async (req, reply) => {
    const rq = req as Req;
    const body = rq.body as { svm: { name?: string; uuid?: string }; enabled?: boolean; scanner_pools?: PoolDoc[]; on_access_policies?: (OaPolicyDoc & { svm?: unknown })[]; on_demand_policies?: ops.OdInput[] };
    let svm: SvmModel | undefined;
    if (body.svm.uuid !== undefined) {
      svm = r.svmByUuid(body.svm.uuid);
      if (svm === undefined) throw new OntapError(400, OntapCodes.BAD_SVM_UUID, `no SVM with uuid \`${body.svm.uuid.slice(0, 80)}\``, 'svm.uuid');
      if (body.svm.name !== undefined && body.svm.name !== svm.name) throw new OntapError(400, OntapCodes.BAD_SVM_NAME, `SVM \`${body.svm.name.slice(0, 80)}\` does not have uuid \`${svm.uuid}\``, 'svm.name');
    } else if (body.svm.name !== undefined) {
      svm = r.svm(body.svm.name);
      if (svm === undefined) throw new OntapError(400, OntapCodes.BAD_SVM_NAME, `no SVM \`${body.svm.name.slice(0, 80)}\``, 'svm.name');
    } else throw badField('`svm.name` or `svm.uuid` is required', 'svm');
    const s = svm;
    return created(r, reply, rq, s.name, (doc, ctx) => {
      let d = doc;
      for (const p of body.scanner_pools ?? []) d = child('scanner pool', p.name, () => ops.createPool(d, strip(p), ctx));
      for (const p of body.on_access_policies ?? []) d = child('on-access policy', p.name, () => outcomeDoc(ops.createOaPolicy(d, strip(p), ctx, false)));
      for (const p of body.on_demand_policies ?? []) d = child('on-demand policy', p.name ?? '', () => ops.createOdPolicy(d, strip(p), ctx));
      const enabled = body.enabled ?? true;
      if (enabled !== d.enabled) d = ops.setVscanEnabled(d, enabled, ctx);
      return d;
    }, () => `${kApi}/${s.uuid}`, () => vscanRecord(s, r.vscan(s.name)));
  });

  app.get(`${kApi}/:svm_uuid`, { schema: { ...tag('vscan', 'Vscan configuration of one SVM'), params: S.svmParams, querystring: S.listQuery } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(r, rq);
    return one({ ...rq, params: { ...rq.params, name: svm.name } } as Req, vscanRecord(svm, r.vscan(svm.name)), kVscanFields, 'SVM');
  });

  app.patch(`${kApi}/:svm_uuid`, { schema: { ...tag('vscan', 'Enable or disable Vscan, clear its cache, add or change pools and policies'), params: S.svmParams, body: S.vscanPatch, querystring: S.mutationQuery } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(r, rq);
    const body = (rq.body ?? {}) as { enabled?: boolean; cache_clear?: boolean; scanner_pools?: PoolDoc[]; on_access_policies?: (OaPolicyDoc & { svm?: unknown })[] };
    return changed(r, rq, svm.name, (doc, ctx) => {
      let d = doc;
      if (body.enabled === false) d = ops.setVscanEnabled(d, false, ctx);
      for (const p of body.scanner_pools ?? []) {
        const { name, ...rest } = strip(p);
        d = d.scanner_pools.some((x) => x.name === name) ? ops.modifyPool(d, name, rest, ctx) : ops.createPool(d, { name, ...rest }, ctx);
      }
      for (const p of body.on_access_policies ?? []) {
        const { name, ...rest } = strip(p);
        const exists = name === 'default_CIFS' || d.on_access_policies.some((x) => x.name === name);
        d = outcomeDoc(exists ? ops.modifyOaPolicy(d, name, rest, ctx) : ops.createOaPolicy(d, { name, ...rest }, ctx, false));
      }
      if (body.enabled === true) d = ops.setVscanEnabled(d, true, ctx);
      return d;
    }, { cacheClear: body.cache_clear === true });
  });

  app.delete(`${kApi}/:svm_uuid`, { schema: { ...tag('vscan', 'Disable Vscan and delete every pool and policy of the SVM'), params: S.svmParams, querystring: S.mutationQuery } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(r, rq);
    return changed(r, rq, svm.name, (doc, ctx) => ops.deleteVscan(doc, ctx));
  });

  // --- scanner pools, on-access and on-demand policies: one collection shape -------------------------
  registerCollection(app, r, {
    segment: 'scanner-pools', tag: 'scanner-pools', what: 'scanner pool', fields: kPoolFields, post: S.poolPost, patch: S.poolPatch,
    records: (svm, doc) => doc.scanner_pools.map((p) => poolRecord(svm, p)),
    create: (doc, body, ctx) => ops.createPool(doc, body as unknown as PoolDoc, ctx),
    modify: (doc, name, body, ctx) => ops.modifyPool(doc, name, body as Partial<PoolDoc>, ctx),
    remove: (doc, name, ctx) => ops.deletePool(doc, name, ctx),
  });
  registerCollection(app, r, {
    segment: 'on-access-policies', tag: 'on-access-policies', what: 'on-access policy', fields: kOaFields, post: S.oaPost, patch: S.oaPatch,
    records: oaRecords,
    create: (doc, body, ctx) => ops.createOaPolicy(doc, body as unknown as ops.OaInput, ctx),
    modify: (doc, name, body, ctx) => ops.modifyOaPolicy(doc, name, body as Omit<ops.OaInput, 'name'>, ctx),
    remove: (doc, name, ctx) => ops.deleteOaPolicy(doc, name, ctx),
  });
  // On-demand *runs* are a later issue; their configuration lives here.
  registerCollection(app, r, {
    segment: 'on-demand-policies', tag: 'on-demand-policies', what: 'on-demand policy', fields: kOdFields, post: S.odPost, patch: S.odPatch,
    records: (svm, doc) => doc.on_demand_policies.map((p) => odRecord(svm, p)),
    create: (doc, body, ctx) => ops.createOdPolicy(doc, body as ops.OdInput, ctx),
    modify: (doc, name, body, ctx) => ops.modifyOdPolicy(doc, name, body as ops.OdInput, ctx),
    remove: (doc, name, ctx) => ops.deleteOdPolicy(doc, name, ctx),
  });

  await registerObservability(app, rt);
}

interface CollectionSpec {
  /** Path segment below `/api/protocols/vscan/{svm.uuid}/`. */
  readonly segment: string;
  readonly tag: string;
  /** What one record is, in messages. */
  readonly what: string;
  readonly fields: FieldSet;
  readonly post: Record<string, unknown>;
  readonly patch: Record<string, unknown>;
  records(svm: SvmModel, doc: VscanDoc): Rec[];
  create(doc: VscanDoc, body: Record<string, unknown> & { name: string }, ctx: SvmContext): Outcome | VscanDoc;
  modify(doc: VscanDoc, name: string, body: Record<string, unknown>, ctx: SvmContext): Outcome | VscanDoc;
  remove(doc: VscanDoc, name: string, ctx: SvmContext): VscanDoc;
}

/** GET list, POST; GET, PATCH, DELETE by name — the shape pools and both kinds of policies share. */
function registerCollection(app: FastifyInstance, r: ManagedRuntime, c: CollectionSpec): void {
  const coll = `${kApi}/:svm_uuid/${c.segment}`;
  const tags = [c.tag];
  const recordOf = (svm: SvmModel, name: string): Rec | undefined => c.records(svm, r.vscan(svm.name)).find((x) => x['name'] === name);
  app.get(coll, { schema: { tags, summary: `Every ${c.what} of an SVM`, params: S.svmParams, querystring: S.listQuery } }, async (req) => {
    const svm = svmOf(r, req as Req);
    return list(req as Req, c.records(svm, r.vscan(svm.name)), c.fields);
  });
  app.post(coll, { schema: { tags, summary: `Create a ${c.what}`, params: S.svmParams, body: c.post, querystring: S.mutationQuery } }, async (req, reply) => {
    const rq = req as Req;
    const svm = svmOf(r, rq);
    const body = strip(rq.body as Record<string, unknown>) as Record<string, unknown> & { name: string };
    return created(r, reply, rq, svm.name, (doc, ctx) => c.create(doc, body, ctx),
      () => `${kApi}/${svm.uuid}/${c.segment}/${encodeURIComponent(body.name)}`, () => recordOf(svm, body.name)!);
  });
  app.get(`${coll}/:name`, { schema: { tags, summary: `One ${c.what}`, params: S.namedParams, querystring: S.listQuery } }, async (req) => {
    const rq = req as Req;
    return one(rq, recordOf(svmOf(r, rq), rq.params['name']!), c.fields, c.what);
  });
  app.patch(`${coll}/:name`, { schema: { tags, summary: `Change a ${c.what}; lists replace whole lists`, params: S.namedParams, body: c.patch, querystring: S.mutationQuery } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(r, rq);
    return changed(r, rq, svm.name, (doc, ctx) => c.modify(doc, rq.params['name']!, (rq.body ?? {}) as Record<string, unknown>, ctx));
  });
  app.delete(`${coll}/:name`, { schema: { tags, summary: `Delete a ${c.what}`, params: S.namedParams, querystring: S.mutationQuery } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(r, rq);
    return changed(r, rq, svm.name, (doc, ctx) => c.remove(doc, rq.params['name']!, ctx));
  });
}

/** A nested `svm` in a child body names the SVM of the path; it is not stored. */
function strip<T extends object>(body: T): Omit<T, 'svm'> {
  const { svm: _svm, ...rest } = body as T & { svm?: unknown };
  void _svm;
  return rest as Omit<T, 'svm'>;
}
