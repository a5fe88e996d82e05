// The data path over HTTP: what an SMB client does to share files, each operation through the SVM's
// engine with the share's profile under its zone's OneFS filter (src/vscan/zone-filter.ts). One route
// per method on `/data/:svm/:share/*`, the operation in `op`; a deny is answered as SMB would (403
// STATUS_ACCESS_DENIED, with the reason).
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Answer, Operation, Profile } from '@avscan/engine';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerExtension, FilerRuntime } from '../model.js';
import { accessOf, pathComponents } from '../paths.js';
import { deletePath, kindOf, listDir, renameFile, writeFileFrom } from './files.js';
import { answerJson, denyJson, errorReply, type AnswerJson, type DenyJson } from './reply.js';
import { assertWritable, storePathOf, targetOf, type ShareTarget } from './target.js';

interface Params {
  readonly svm: string;
  readonly share: string;
  readonly '*'?: string;
}

const kParams = {
  type: 'object',
  properties: { svm: { type: 'string', minLength: 1 }, share: { type: 'string', minLength: 1 }, '*': { type: 'string' } },
  required: ['svm', 'share'],
} as const;

const kGetQuery = {
  type: 'object',
  properties: { op: { enum: ['open', 'read', 'list'] }, mode: { enum: ['read', 'write', 'execute'], default: 'read' } },
  required: ['op'],
} as const;

const kPostQuery = {
  type: 'object',
  properties: { op: { enum: ['close', 'rename', 'scan'] }, wrote: { enum: ['0', '1', 'true', 'false'], default: '0' }, to: { type: 'string', minLength: 1 } },
  required: ['op'],
} as const;

type Mode = 'read' | 'write' | 'execute';

function target(runtime: FilerRuntime, req: FastifyRequest<{ Params: Params }>): ShareTarget {
  return targetOf(runtime, req.params.svm, req.params.share, req.params['*'] ?? '');
}

/** An abort signal that fires when the client goes away before the answer, so its scan is cancelled. */
function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** The body to return from the handler (fastify serializes it), with 403 set on a deny. */
function sendAnswer(reply: FastifyReply, t: ShareTarget, a: Answer): AnswerJson | DenyJson {
  if (a.allow) return answerJson(t.resolved.svmPath, a);
  reply.code(403);
  return denyJson(t.resolved.svmPath, a);
}

/** The share's profile under its zone's OneFS filter triggers, for this operation (src/vscan/zone-filter.ts). */
function profileOf(runtime: FilerRuntime, t: ShareTarget, op: Operation): Profile {
  return runtime.profileFor(t.share.svm, t.share.profile, op) ?? t.share.profile;
}

async function open(runtime: FilerRuntime, t: ShareTarget, mode: Mode, signal: AbortSignal): Promise<Answer> {
  if (mode === 'write') assertWritable(t.volume, 'write');
  const engine = runtime.engine(t.share.svm);
  return engine.open(accessOf(t.resolved, { profile: profileOf(runtime, t, 'open'), execute: mode === 'execute', signal }));
}

export interface DataPathOptions {
  /** URL prefix of the routes. @default '/data' */
  readonly prefix?: string;
}

/** The data path as a filer extension: `routes()` registers `/data/...` in its own encapsulated scope. */
export function dataPathExtension(options: DataPathOptions = {}): FilerExtension {
  const prefix = options.prefix ?? '/data';
  return {
    name: 'data-path',
    async routes(app: FastifyInstance, runtime: FilerRuntime): Promise<void> {
      await app.register(async (scope) => {
        // Bodies are file contents: streamed to the file, never parsed or buffered.
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
        scope.setErrorHandler((err, req, reply) => {
          const { status, body } = errorReply(err);
          if (status >= 500) req.log.error({ err }, 'data path');
          if (status === 401) void reply.header('www-authenticate', 'Basic realm="avscan"');
          return reply.code(status).send(body);
        });

        const get = async (req: FastifyRequest<{ Params: Params; Querystring: { op: 'open' | 'read' | 'list'; mode: Mode } }>, reply: FastifyReply) => {
          const t = target(runtime, req);
          const { op, mode } = req.query;
          if (op === 'list') {
            const records = await listDir(t.resolved);
            return reply.send({ path: t.resolved.svmPath, records, num_records: records.length });
          }
          if (op === 'open') return sendAnswer(reply, t, await open(runtime, t, mode, clientGone(reply)));
          // A read comes on an open handle: the open's decision, then the read's (strict profiles scan on read).
          const signal = clientGone(reply);
          const opened = await open(runtime, t, 'read', signal);
          if (!opened.allow) return sendAnswer(reply, t, opened);
          const read = await runtime.engine(t.share.svm).read(accessOf(t.resolved, { profile: profileOf(runtime, t, 'read'), signal }));
          if (!read.allow) return sendAnswer(reply, t, read);
          return reply
            .header('x-avscan-decision-id', opened.decisionId)
            .header('x-avscan-reason', opened.reason)
            .header('x-avscan-read-reason', read.reason)
            .type('application/octet-stream')
            .send(createReadStream(t.resolved.file));
        };
        const getOpts = { schema: { params: kParams, querystring: kGetQuery } };
        scope.get(`${prefix}/:svm/:share/*`, getOpts, get);
        scope.get(`${prefix}/:svm/:share`, getOpts, get);

        scope.put(`${prefix}/:svm/:share/*`, { schema: { params: kParams } }, async (req: FastifyRequest<{ Params: Params }>, reply) => {
          const t = target(runtime, req);
          assertWritable(t.volume, 'write');
          // A write waits while the file is being scanned, then goes ahead (a new file has no scan).
          if ((await kindOf(t.resolved.file)) === 'file') await runtime.engine(t.share.svm).write(accessOf(t.resolved, { profile: t.share.profile }));
          const body = (req.body as Readable | undefined) ?? req.raw;
          const { bytes, created } = await writeFileFrom(t.resolved, body);
          return reply.code(created ? 201 : 200).send({ path: t.resolved.svmPath, bytes, created });
        });

        scope.post(`${prefix}/:svm/:share/*`, { schema: { params: kParams, querystring: kPostQuery } }, async (
          req: FastifyRequest<{ Params: Params; Querystring: { op: 'close' | 'rename' | 'scan'; wrote: string; to?: string } }>, reply,
        ) => {
          const t = target(runtime, req);
          const engine = runtime.engine(t.share.svm);
          const { op } = req.query;
          if (op === 'close') {
            const wrote = req.query.wrote === '1' || req.query.wrote === 'true';
            return sendAnswer(reply, t, await engine.close(accessOf(t.resolved, { profile: profileOf(runtime, t, wrote ? 'close-after-write' : 'close-no-write') }), { wrote }));
          }
          if (op === 'scan') {
            // The individual-file scan answers with the scan's result; an infected file is a result, not a denied request.
            const a = await engine.scan(accessOf(t.resolved, { profile: t.share.profile }));
            const result = a.verdict?.result ?? 'skipped_per_settings';
            return reply.send({ ...answerJson(t.resolved.svmPath, a), result });
          }
          if (req.query.to === undefined) throw new FilerError(FilerErrorCodes.INVALID_REQUEST, 'op `rename` needs `to`', 'to');
          assertWritable(t.volume, 'rename');
          const kind = await kindOf(t.resolved.file);
          if (kind === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no file ${show(t.resolved.svmPath)}`, 'path');
          const to = targetOf(runtime, req.params.svm, req.params.share, req.query.to);
          await renameFile(t.resolved, to.resolved);
          if (kind !== 'file') {
            // A folder has no scan of its own: its files' attributes move with it.
            await runtime.store.rename(t.volume.storeKey, storePathOf(t.resolved), storePathOf(to.resolved));
            return reply.send({ path: to.resolved.svmPath, from: t.resolved.svmPath, allow: true, reason: 'not-triggered' });
          }
          // The engine is told after the fact (its contract): it moves the attributes, then applies the
          // profile's rename trigger to the new name, which may deny (the file stays renamed, as on SMB).
          const a = await engine.rename(accessOf(to.resolved, { profile: profileOf(runtime, t, 'rename'), signal: clientGone(reply) }), { from: t.resolved.svmPath });
          return a.allow ? reply.send({ ...answerJson(to.resolved.svmPath, a), from: t.resolved.svmPath }) : sendAnswer(reply, to, a);
        });

        scope.delete(`${prefix}/:svm/:share/*`, { schema: { params: kParams } }, async (req: FastifyRequest<{ Params: Params }>, reply) => {
          const t = target(runtime, req);
          assertWritable(t.volume, 'delete');
          const kind = await kindOf(t.resolved.file);
          if (kind === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no file ${show(t.resolved.svmPath)}`, 'path');
          if (t.resolved.components.length === pathComponents(t.share.dir).length) {
            throw new FilerError(FilerErrorCodes.INVALID_REQUEST, 'the share root cannot be deleted', 'path');
          }
          if (kind === 'file') {
            // Waits for a scan in flight, forgets the attributes, then the file goes.
            await runtime.engine(t.share.svm).delete(accessOf(t.resolved, { profile: t.share.profile }));
            await deletePath(t.resolved, kind);
          } else {
            await deletePath(t.resolved, kind);
            await runtime.store.deletePath(t.volume.storeKey, storePathOf(t.resolved));
          }
          return reply.send({ path: t.resolved.svmPath, deleted: true });
        });
      });
    },
  };
}
