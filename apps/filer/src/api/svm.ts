// The SVM a request's path names (`{svm.uuid}`), checked against an `svm.name`/`svm.uuid` query.
import type { FastifyRequest } from 'fastify';
import type { ManagedRuntime } from '../runtime/managed.js';
import type { SvmModel } from '../model.js';
import { notFound } from '../server/ontap-error.js';
import type { Query } from './query.js';

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query; Body: unknown }>;

export function svmOf(rt: ManagedRuntime, req: Req): SvmModel {
  const uuid = req.params['svm_uuid']!;
  const svm = rt.svmByUuid(uuid);
  if (svm === undefined) throw notFound(`no SVM with uuid \`${uuid.slice(0, 80)}\``, 'svm.uuid');
  // Clients may repeat the SVM as a query (na_ontap_vscan sends `svm.name` with its PATCH).
  const q = req.query;
  if ((q['svm.name'] !== undefined && q['svm.name'] !== svm.name) || (q['svm.uuid'] !== undefined && q['svm.uuid'] !== svm.uuid)) {
    throw notFound('the SVM in the query does not match the SVM in the path', 'svm');
  }
  return svm;
}

