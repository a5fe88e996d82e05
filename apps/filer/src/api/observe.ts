// What the filer tells about itself: server status, events, the "why" of a decision, per-file scan
// attributes, and Prometheus metrics. Events page from SQLite (keyset cursor in `_links.next`), so a
// client listing 100k events never holds the engine up.
import { existsSync, statSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { compilePolicy } from '@avscan/policy';
import { scanStatus, Store, type Attributes } from '@avscan/store';
import type { FileAccess, Operation } from '@avscan/engine';
import type { ShareModel } from '../model.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { accessOf, resolveInVolume, type ResolvedPath } from '../paths.js';
import { badField, notFound } from '../server/ontap-error.js';
import { enabledPolicy, fullScope, kDefaultPolicyName } from '../vscan/model.js';
import { collect, fieldsOf, parseListQuery, parseMutationQuery, project, withParam, type FieldSet, type Query } from './query.js';
import { kApi, type Rec } from './records.js';
import { eventRecord, serverStatusRecords } from './server-status.js';
import { svmOf } from './svm.js';
import * as S from './schemas.js';
import { createMetrics } from './metrics.js';

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query; Body: unknown }>;

const kStatusFields: FieldSet = {
  all: fieldsOf({
    svm: { name: '', uuid: '' }, node: { name: '', uuid: '' }, ip: '', state: '', type: '', update_time: '', vendor: '', version: '',
    disconnected_reason: '', server: '', pool: '', role: '', in_flight: 0, signature: '',
  }),
  keys: ['svm.name', 'svm.uuid', 'node.name', 'ip'],
};

const kEventFields: FieldSet = {
  all: fieldsOf({ id: 0, time: '', type: '', svm: { name: '', uuid: '' }, node: { name: '' }, server: '', file_path: '', reason: '', details: {} }),
  keys: ['id', 'time', 'type'],
};
const kEventFilters = new Set(['type', 'server', 'node.name', 'reason', 'file_path', 'time']);
const kPageDefault = 10_000;

function oneString(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw badField(`query parameter \`${name}\` is given more than once`, name);
  return v as string | undefined;
}

function timeBound(expr: string): { since?: number; until?: number } {
  const m = /^(>=|<=|>|<)(.+)$/.exec(expr);
  const t = Date.parse(m === null ? expr : m[2]!);
  if (Number.isNaN(t)) throw badField(`\`time\` must be an ISO 8601 time, optionally after <, <=, > or >=, got \`${expr.slice(0, 80)}\``, 'time');
  if (m === null) return { since: t, until: t };
  switch (m[1]) {
    case '>': return { since: t + 1 };
    case '>=': return { since: t };
    case '<': return { until: t - 1 };
    default: return { until: t };
  }
}

/** The share-relative path of an SVM path (`\vol1\dir\f` or `/vol1/dir/f`): its volume and the rest. */
export function resolveSvmPath(rt: ManagedRuntime, svm: string, p: string): ResolvedPath {
  const parts = p.split(/[\\/]+/).filter((x) => x !== '');
  const vol = parts[0] === undefined ? undefined : rt.volume(svm, parts[0]);
  if (vol === undefined) throw notFound(`no volume \`${(parts[0] ?? '').slice(0, 80)}\` on SVM \`${svm}\` (paths start with the volume: \`\\vol1\\dir\\file\`)`, 'path');
  return resolveInVolume(vol, parts.slice(1).join('/'));
}

/** A file's scan attributes as the `files` endpoint (and OneFS `quarantine/{path}`) show them. */
/** explain's `operation` values: `close` is a close after a write (the one that changes content). */
const kExplainOperation: Readonly<Record<string, Operation>> = Object.freeze({ open: 'open', read: 'read', close: 'close-after-write', rename: 'rename' });

/** The deepest share of the path's volume whose folder holds it (shares may nest). */
function shareOf(rt: ManagedRuntime, resolved: ResolvedPath): ShareModel | undefined {
  let best: ShareModel | undefined;
  let depth = -1;
  for (const share of rt.shares(resolved.volume.svm)) {
    const dir = share.dir.split('/').filter((c) => c.length > 0);
    if (share.volume !== resolved.volume.name || dir.length <= depth || dir.length > resolved.components.length) continue;
    if (dir.every((c, i) => c === resolved.components[i])) [best, depth] = [share, dir.length];
  }
  return best;
}

export async function fileRecord(rt: ManagedRuntime, svmName: string, resolved: ResolvedPath): Promise<Rec> {
  const access = accessOf(resolved);
  const attrs: Attributes | undefined = await rt.store.getAttributes({ volume: access.volume, fileId: access.fileId });
  // On a shared store the cluster's watermark counts too: another node may have seen newer signatures.
  const shared = rt.store instanceof Store ? 0 : rt.store.signatureWatermark;
  const watermark = Math.max(rt.dispatcher(svmName)?.signatureWatermark()?.timestamp ?? 0, shared);
  return {
    path: resolved.svmPath, volume: resolved.volume.name, size: access.size,
    scan_status: scanStatus(attrs, access.changeStamp, watermark),
    scan_result: attrs === undefined ? 'never_scanned' : attrs.scanResult,
    quarantined: attrs?.quarantined ?? false,
    ...(attrs === undefined ? {} : {
      scan_time: new Date(attrs.scanTime).toISOString(), threats: attrs.threats, signature_timestamp: attrs.sigTimestamp,
      cache_valid: attrs.cacheValid, modified_since_scan: attrs.changeStamp !== access.changeStamp,
    }),
  };
}

export async function registerObservability(app: FastifyInstance, rt: ManagedRuntime): Promise<void> {
  const nodeName = `${rt.store.nodeId}`;
  app.get(`${kApi}/server-status`, { schema: { tags: ['server-status'], summary: 'State of every scanner server, per SVM', querystring: S.listQuery } }, async (req) =>
    collect(serverStatusRecords(rt, nodeName), parseListQuery((req as Req).query, kStatusFields), req.url));

  app.get(`${kApi}/:svm_uuid/events`, {
    schema: { tags: ['events'], summary: 'Events of an SVM (scanner state, infected files, policy changes), paged from the database', params: S.svmParams, querystring: S.listQuery },
  }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(rt, rq);
    const q = rq.query;
    const filters: Record<string, string> = {};
    let since: number | undefined;
    let until: number | undefined;
    for (const k of Object.keys(q)) {
      if (['fields', 'max_records', 'order_by', 'return_records', 'return_timeout', 'start.cursor', 'svm.name', 'svm.uuid'].includes(k)) continue;
      if (!kEventFilters.has(k)) throw badField(`unexpected query parameter \`${k.slice(0, 80)}\``, k);
      const v = oneString(q, k)!;
      if (k === 'time') ({ since = since, until = until } = timeBound(v));
      else filters[k] = v;
    }
    const order = oneString(q, 'order_by') ?? 'time asc';
    if (order !== 'time asc' && order !== 'time desc' && order !== 'time') throw badField('events are ordered by `time asc` or `time desc`', 'order_by');
    const maxRaw = oneString(q, 'max_records');
    if (maxRaw !== undefined && (!/^\d{1,9}$/.test(maxRaw) || Number(maxRaw) < 1)) throw badField('`max_records` must be a positive integer', 'max_records');
    const returnRecords = parseMutationQuery({ return_records: q['return_records'] }).returnRecords || q['return_records'] === undefined;
    const page = await rt.store.queryEvents({
      svm: svm.name,
      ...(filters['type'] ? { type: filters['type'] } : {}),
      ...(filters['server'] ? { server: filters['server'] } : {}),
      ...(filters['node.name'] ? { node: filters['node.name'] } : {}),
      ...(filters['reason'] ? { reason: filters['reason'] } : {}),
      ...(filters['file_path'] ? { filePath: filters['file_path'] } : {}),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      orderBy: order === 'time desc' ? 'time desc' : 'time asc',
      maxRecords: maxRaw === undefined ? kPageDefault : Number(maxRaw),
      ...(oneString(q, 'start.cursor') === undefined ? {} : { cursor: oneString(q, 'start.cursor')! }),
    });
    const out: Rec = { num_records: page.records.length, _links: { self: { href: req.url }, ...(page.next === undefined ? {} : { next: { href: withParam(req.url, 'start.cursor', page.next) } }) } };
    // Events are small: every field unless `fields` narrows them.
    const fields = oneString(q, 'fields') === undefined ? null : parseListQuery({ fields: q['fields'] }, kEventFields).fields;
    if (returnRecords) out['records'] = page.records.map((e) => project(eventRecord(svm, e), fields));
    return out;
  });

  app.get(`${kApi}/:svm_uuid/explain`, {
    schema: {
      tags: ['explain'], summary: 'Why a path would be scanned or skipped: the decision and every rule consulted', params: S.svmParams,
      querystring: {
        type: 'object', additionalProperties: false, required: ['path'],
        properties: { path: { type: 'string' }, size: { type: 'string', pattern: '^\\d{1,16}$' }, execute: { type: 'string', enum: ['true', 'false'] }, policy: { type: 'string' }, operation: { type: 'string', enum: ['open', 'read', 'close', 'rename'] } },
      },
    },
  }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(rt, rq);
    const q = rq.query as Record<string, string>;
    const resolved = resolveSvmPath(rt, svm.name, q['path']!);
    const exists = existsSync(resolved.file) && statSync(resolved.file).isFile();
    if (!exists && q['size'] === undefined) throw badField(`\`${q['path']!.slice(0, 80)}\` is not a file; give its \`size\` to explain a file that does not exist yet`, 'size');
    const base: FileAccess = exists
      ? accessOf(resolved, { execute: q['execute'] === 'true' })
      : { volume: resolved.volume.storeKey, fileId: 'explain', path: resolved.svmPath, size: 0, changeStamp: 'explain', file: resolved.file, readonlyVolume: resolved.volume.readonly, worm: resolved.volume.worm, execute: q['execute'] === 'true' };
    // The trigger is the one an access through the path's share would get: the share's profile under
    // the zone's OneFS filter (no share: the engine's own profile, still masked by the filter).
    const operation = kExplainOperation[q['operation'] ?? 'open'] ?? 'open';
    const profile = rt.profileFor(svm.name, shareOf(rt, resolved)?.profile, operation);
    const sized: FileAccess = q['size'] === undefined ? base : { ...base, size: Number(q['size']) };
    const access: FileAccess = profile === undefined ? sized : { ...sized, profile };
    const doc = rt.vscan(svm.name);
    let policyName = enabledPolicy(doc)?.name;
    let result: Rec;
    if (q['policy'] !== undefined && q['policy'] !== policyName) {
      const p = q['policy'] === kDefaultPolicyName ? { name: kDefaultPolicyName, enabled: true, mandatory: true, scope: fullScope(undefined) } : doc.on_access_policies.find((x) => x.name === q['policy']);
      if (p === undefined) throw notFound(`no on-access policy \`${q['policy'].slice(0, 80)}\` on SVM \`${svm.name}\``, 'policy');
      // A disabled policy is tried as if it were enabled.
      const explained = compilePolicy({ ...p, enabled: true, scope: fullScope(p.scope) }).explain(access);
      policyName = p.name;
      result = { ...explained.decision, steps: explained.steps, tried: true };
    } else {
      const e = rt.engine(svm.name).explain(access, operation);
      result = {
        ...e.policy.decision, steps: e.policy.steps, vscan_enabled: e.enabled, operation: e.operation, ...(profile === undefined ? {} : { profile }), trigger: e.trigger,
        ...(e.lookup === undefined ? {} : { lookup: e.lookup }), would_scan: e.wouldScan, policy_revision: e.policyRevision,
      };
    }
    return { svm: { name: svm.name, uuid: svm.uuid }, path: resolved.svmPath, size: access.size, execute: access.execute === true, policy: policyName ?? null, ...result };
  });

  const fileQuery = { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string' }, return_timeout: { type: 'string' } } } as const;
  app.get(`${kApi}/:svm_uuid/files`, { schema: { tags: ['files'], summary: 'Scan attributes of one file: result, time, signature stamp, current or not, quarantined', params: S.svmParams, querystring: fileQuery } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(rt, rq);
    return { svm: { name: svm.name, uuid: svm.uuid }, ...(await fileRecord(rt, svm.name, resolveSvmPath(rt, svm.name, String(rq.query['path'])))) };
  });
  app.patch(`${kApi}/:svm_uuid/files`, { schema: { tags: ['files'], summary: 'Release a quarantined file (`quarantined: false`)', params: S.svmParams, querystring: fileQuery, body: S.filePatch } }, async (req) => {
    const rq = req as Req;
    const svm = svmOf(rt, rq);
    const resolved = resolveSvmPath(rt, svm.name, String(rq.query['path']));
    if ((rq.body as { quarantined: boolean }).quarantined) throw badField('files are quarantined by a scan verdict; only `quarantined: false` (release) is accepted', 'quarantined');
    const access = accessOf(resolved);
    await rt.engine(svm.name).releaseQuarantine(access.volume, access.fileId);
    return {};
  });

  const metrics = createMetrics(rt);
  app.addHook('onClose', async () => metrics.close());
  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
