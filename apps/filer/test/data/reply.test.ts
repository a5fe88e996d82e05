// How data-path errors become HTTP answers: coded errors keep their code, nothing internal leaks.
import { describe, expect, it } from 'vitest';
import { errorReply } from '../../src/data/reply.js';
import { FilerError, FilerErrorCodes } from '../../src/index.js';

describe('errorReply', () => {
  it.each([
    [FilerErrorCodes.INVALID_PATH, 400], [FilerErrorCodes.INVALID_REQUEST, 400], [FilerErrorCodes.PATH_ESCAPES, 403],
    [FilerErrorCodes.READONLY_VOLUME, 403], [FilerErrorCodes.NOT_FOUND, 404], [FilerErrorCodes.EXISTS, 409], [FilerErrorCodes.WRONG_TYPE, 409],
  ] as const)('%s → %i with code, message and target', (code, status) => {
    expect(errorReply(new FilerError(code, 'm', 'path'))).toEqual({ status, body: { error: { code, message: 'm', target: 'path' } } });
  });

  it('maps schema validation to 400, a cancelled scan to 499, a closed engine to 503, anything else to a bare 500', () => {
    expect(errorReply(Object.assign(new Error('querystring/op must be equal to one of the allowed values'), { validation: [] })).body.error.code).toBe(FilerErrorCodes.INVALID_REQUEST);
    expect(errorReply(Object.assign(new Error('the access was cancelled'), { code: 'ERR_ENGINE_ABORTED' })).status).toBe(499);
    expect(errorReply(Object.assign(new Error('closed'), { code: 'ERR_ENGINE_CLOSED' })).status).toBe(503);
    expect(errorReply(new Error('/secret/path: EIO'))).toEqual({ status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'internal error (see the server log)' } } });
  });
});
