// ONTAP's error object (`{"error":{"message","code","target"}}`) and the HTTP status that goes with
// it. Every refusal of the REST API is an `OntapError`; the server's error handler turns anything
// else (a FilerError, a fastify validation error, a bug) into one, so a client never sees another shape.
import { FilerError, FilerErrorCodes, kFilerHttpStatus } from '../errors.js';

/** ONTAP's generic codes (interpret_api_response.adoc) and the Vscan codes this API uses. */
export const OntapCodes = Object.freeze({
  DUPLICATE: '1',
  BAD_FIELD: '2',
  UNSUPPORTED: '3',
  NOT_FOUND: '4',
  NOT_AUTHORIZED: '6',
  IN_USE: '8',
  INTERNAL: '5',
  BAD_SVM_NAME: '2621462',
  BAD_SVM_UUID: '2621706',
  ALREADY_ENABLED: '10027009',
  ALREADY_DISABLED: '10027010',
  NO_CIFS_SERVER: '10027011',
  NO_ACTIVE_POOL: '10027015',
  NO_ENABLED_POLICY: '10027023',
  CLUSTER_POLICY_SCOPE: '10027033',
  CLUSTER_POLICY_DELETE: '10027034',
  ENABLED_POLICY_DELETE: '10027040',
  TOO_MANY_OA_POLICIES: '10027043',
  LAST_ACTIVE_POOL: '10027070',
  TOO_MANY_POOLS: '10027076',
  SIZE_OUT_OF_RANGE: '10027101',
  EMPTY_LIST: '10027107',
  BAD_USER: '10027108',
  BAD_PATH: '10027109',
  BAD_USER_CHARS: '10027119',
  OD_SCAN_PATH: '10027168',
  TOO_MANY_OD_POLICIES: '10027173',
  OD_EXCLUDE_PATH: '10027174',
  OD_LOG_PATH: '10027176',
  OD_BAD_NAME: '10027178',
  OTHER_POLICY_ENABLED: '10027249',
  ENABLE_FAILED: '10027250',
  TOO_MANY_PATHS: '10027253',
  TOO_MANY_EXTENSIONS: '10027254',
  CHILD_FAILED: '10027259',
  CHILD_EXISTS: '10027260',
  LOOPBACK_V4: '10027261',
  LOOPBACK_V6: '10027262',
} as const);

export class OntapError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  constructor(status: number, code: string, message: string, target?: string) {
    super(message);
    this.name = 'OntapError';
    this.status = status;
    this.code = code;
    this.target = target;
  }

  toJSON(): { error: { message: string; code: string; target?: string } } {
    return { error: { message: this.message, code: this.code, ...(this.target === undefined ? {} : { target: this.target }) } };
  }
}

export const badField = (message: string, target?: string): OntapError => new OntapError(400, OntapCodes.BAD_FIELD, message, target);
export const notFound = (message: string, target?: string): OntapError => new OntapError(404, OntapCodes.NOT_FOUND, message, target);

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: readonly { instancePath?: string; params?: Record<string, unknown>; message?: string }[];
  validationContext?: string;
}

/** Any error thrown while answering a request → the ONTAP error it is. */
export function toOntapError(err: unknown): OntapError {
  if (err instanceof OntapError) return err;
  if (err instanceof FilerError) {
    // Errors that carry ONTAP's own number (audit seed codes, 10027255, …) answer with it.
    if (err.ontapCode !== undefined) return new OntapError(kFilerHttpStatus[err.code], String(err.ontapCode), err.message, err.target);
    if (err.code === FilerErrorCodes.NOT_FOUND) return notFound(err.message, err.target);
    if (err.code === FilerErrorCodes.JOB_STATE) return new OntapError(409, OntapCodes.BAD_FIELD, err.message, err.target);
    return badField(err.message, err.target);
  }
  const e = err as FastifyLikeError;
  if (e !== null && typeof e === 'object' && Array.isArray(e.validation)) {
    const first = e.validation[0];
    const extra = first?.params?.['additionalProperty'];
    const where = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const target = typeof extra === 'string' ? (where ? `${where}.${extra}` : extra) : where || undefined;
    const message = typeof extra === 'string'
      ? `unexpected ${e.validationContext === 'querystring' ? 'query parameter' : 'field'} \`${target}\``
      : `invalid ${e.validationContext === 'querystring' ? 'query parameter' : 'field'} \`${target ?? e.validationContext}\`: ${first?.message ?? 'invalid'}`;
    return badField(message, target);
  }
  if (e !== null && typeof e === 'object' && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // fastify's own 4xx: malformed JSON, wrong content type, body too large, …
    const code = e.statusCode === 404 ? OntapCodes.NOT_FOUND : e.statusCode === 405 ? OntapCodes.UNSUPPORTED : OntapCodes.BAD_FIELD;
    return new OntapError(e.statusCode === 415 || e.statusCode === 413 ? e.statusCode : e.statusCode === 404 ? 404 : 400, code, String(e.message).replace(/^Body cannot be empty.*$/, 'body cannot be empty'));
  }
  return new OntapError(500, OntapCodes.INTERNAL, 'internal error');
}
