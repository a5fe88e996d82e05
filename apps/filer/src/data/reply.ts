// How the data path answers: an engine answer as JSON (snake_case, like the REST API), a deny as SMB
// would give it (403 STATUS_ACCESS_DENIED with the reason), and coded errors as the API's error object.
import type { Answer } from '@avscan/engine';
import { FilerError, FilerErrorCodes, kFilerHttpStatus } from '../errors.js';
import { OntapError } from '../server/ontap-error.js';

export interface AnswerJson {
  readonly path: string;
  readonly allow: boolean;
  readonly reason: string;
  readonly rule?: string | undefined;
  readonly verdict?: Answer['verdict'] | undefined;
  readonly decision_id: string;
  readonly policy_revision: string | null;
  readonly trigger: string;
  readonly joined: boolean;
}

export function answerJson(svmPath: string, a: Answer): AnswerJson {
  return {
    path: svmPath, allow: a.allow, reason: a.reason, rule: a.rule, verdict: a.verdict,
    decision_id: a.decisionId, policy_revision: a.policyRevision, trigger: a.trigger, joined: a.joined,
  };
}

/** NTSTATUS an SMB server answers a denied open with. */
export const kAccessDenied = 'STATUS_ACCESS_DENIED';

export interface DenyJson {
  readonly error: { readonly code: typeof kAccessDenied; readonly message: string; readonly reason: string; readonly decision_id: string; readonly policy_revision: string | null };
}

export function denyJson(svmPath: string, a: Answer): DenyJson {
  const threats = a.verdict?.result === 'infected' ? ` (${a.verdict.threats.join(', ')})` : '';
  return {
    error: {
      code: kAccessDenied, message: `access to \`${svmPath}\` denied: ${a.reason}${threats}`, reason: a.reason,
      decision_id: a.decisionId, policy_revision: a.policyRevision,
    },
  };
}


export interface ErrorJson {
  readonly error: { readonly code: string; readonly message: string; readonly target?: string };
}

/**
 * Status and body for an error thrown by a data-path handler. Coded errors of any package keep their
 * code; fastify's own (schema validation, body parsing) carry `statusCode`; anything else is a 500
 * whose message is not leaked.
 */
export function errorReply(err: unknown): { status: number; body: ErrorJson } {
  // The server's own refusals reach here too (Basic auth runs in the root scope's onRequest hook).
  if (err instanceof OntapError) return { status: err.status, body: err.toJSON() };
  if (err instanceof FilerError) {
    return { status: kFilerHttpStatus[err.code], body: { error: { code: err.code, message: err.message, ...(err.target !== undefined ? { target: err.target } : {}) } } };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown };
  if (e !== null && typeof e === 'object' && e.validation !== undefined) {
    return { status: 400, body: { error: { code: FilerErrorCodes.INVALID_REQUEST, message: String(e.message) } } };
  }
  // The client went away during its scan (engines that cancel on `access.signal`): nobody reads this answer.
  if (e !== null && typeof e === 'object' && e.code === 'ERR_ENGINE_ABORTED') {
    return { status: 499, body: { error: { code: e.code, message: String(e.message) } } };
  }
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && e.code === 'ERR_ENGINE_CLOSED') {
    return { status: 503, body: { error: { code: e.code, message: String(e.message) } } };
  }
  if (e !== null && typeof e === 'object' && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: { code: typeof e.code === 'string' ? e.code : FilerErrorCodes.INVALID_REQUEST, message: String(e.message) } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'internal error (see the server log)' } } };
}
