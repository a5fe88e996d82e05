// OneFS PAPI's error body, `{"errors":[{"code":"AEC_NOT_FOUND","message":"…","field":"…"}]}`, for
// every answer under /platform/ and /session/ (isilon_sdk's `Error` model: code, field, message).
// The routes keep throwing the filer's one error class (OntapError); the translation happens once,
// at the server's boundary, from the HTTP status (and ONTAP's "duplicate" code 1 → AEC_EXISTS).
import { OntapCodes, type OntapError } from './ontap-error.js';

export const PapiCodes = Object.freeze({
  BAD_REQUEST: 'AEC_BAD_REQUEST',
  UNAUTHORIZED: 'AEC_UNAUTHORIZED',
  FORBIDDEN: 'AEC_FORBIDDEN',
  NOT_FOUND: 'AEC_NOT_FOUND',
  CONFLICT: 'AEC_CONFLICT',
  EXISTS: 'AEC_EXISTS',
  /** Inferred: OneFS names no code for an internal error in public sources. */
  INTERNAL: 'AEC_SYSTEM_INTERNAL_ERROR',
} as const);

export type PapiCode = (typeof PapiCodes)[keyof typeof PapiCodes];

export interface PapiErrorBody {
  readonly errors: readonly [{ readonly code: PapiCode; readonly message: string; readonly field?: string }];
}

/** Whether a request path is answered in PAPI's shape (the OneFS platform API and its session login). */
export function isPapiPath(url: string): boolean {
  const p = url.split('?')[0]!;
  return p.startsWith('/platform/') || p === '/platform' || p.startsWith('/session/');
}

/** The PAPI code of an error, by its HTTP status (405, 413 and 415 are bad requests to PAPI). */
export function papiCode(e: OntapError): PapiCode {
  if (e.status === 401) return PapiCodes.UNAUTHORIZED;
  if (e.status === 403) return PapiCodes.FORBIDDEN;
  if (e.status === 404) return PapiCodes.NOT_FOUND;
  if (e.status === 409) return e.code === OntapCodes.DUPLICATE ? PapiCodes.EXISTS : PapiCodes.CONFLICT;
  if (e.status >= 500) return PapiCodes.INTERNAL;
  return PapiCodes.BAD_REQUEST;
}

export function toPapiBody(e: OntapError): PapiErrorBody {
  return { errors: [{ code: papiCode(e), message: e.message, ...(e.target === undefined ? {} : { field: e.target }) }] };
}

/** The error body a request's path calls for: PAPI's under /platform/ and /session/, ONTAP's elsewhere. */
export function errorBodyFor(url: string, e: OntapError): unknown {
  return isPapiPath(url) ? toPapiBody(e) : e.toJSON();
}
