// The management server over real HTTPS: version gate, SVMs, Basic auth on every route, ONTAP's error
// object for malformed input, unknown routes and fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOntapError, startTestFiler, type TestFiler } from './helpers/filer.js';

let t: TestFiler;
beforeAll(async () => {
  t = await startTestFiler();
});
afterAll(async () => {
  await t?.close();
});

describe('cluster and SVMs', () => {
  it('answers the version gate the netapp.ontap modules start with', async () => {
    const r = await t.api.get('/api/cluster?fields=version');
    expect(r.status).toBe(200);
    expect(r.body.version).toMatchObject({ generation: 9, major: 14, minor: 1 });
    expect(r.body.version.full).toMatch(/9\.14\.1/);
  });

  it('lists the SVMs with filters and fields; one SVM by uuid', async () => {
    const r = await t.api.get('/api/svm/svms?name=vs1&fields=uuid');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ num_records: 1, records: [{ name: 'vs1', uuid: t.uuid }] });
    expect((await t.api.get('/api/svm/svms?name=nope')).body.num_records).toBe(0);
    const one = await t.api.get(`/api/svm/svms/${t.uuid}`);
    expect(one.body).toMatchObject({ name: 'vs1', uuid: t.uuid, cifs: { enabled: true } });
    expectOntapError(await t.api.get('/api/svm/svms/00000000-0000-0000-0000-000000000000'), 404, '4');
  });
});

describe('authentication', () => {
  const routes = ['/api/cluster', '/api/svm/svms', '/api/protocols/vscan', '/metrics', '/docs/api', '/docs/api/json', '/nope', '/data/vs1/vol1/x?op=list'];
  it.each(routes)('401 without or with wrong credentials on %s', async (p) => {
    const none = await t.api.raw('GET', p, { auth: null });
    expectOntapError(none, 401, '6');
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    const wrong = await t.api.raw('GET', p, { auth: `Basic ${Buffer.from('admin:wrong').toString('base64')}` });
    expectOntapError(wrong, 401, '6');
    const garbage = await t.api.raw('GET', p, { auth: 'Bearer x' });
    expectOntapError(garbage, 401, '6');
  });
});

describe('errors', () => {
  it('malformed JSON, wrong types and unknown fields are 400 with code 2 and a target', async () => {
    const base = `/api/protocols/vscan/${t.uuid}/on-access-policies`;
    expectOntapError(await t.api.raw('POST', base, { body: '{"name":', headers: { 'content-type': 'application/json' } }), 400, '2');
    const wrongType = await t.api.post(base, { name: 'p', enabled: 'yes' });
    expectOntapError(wrongType, 400, '2');
    expect(wrongType.body.error.target).toBe('enabled');
    const unknown = await t.api.post(base, { name: 'p', colour: 'red' });
    expectOntapError(unknown, 400, '2');
    expect(unknown.body.error.target).toBe('colour');
    const unknownDotted = await t.api.post(base, { name: 'p', 'scope.colour': 1 });
    expectOntapError(unknownDotted, 400, '2');
    expect(unknownDotted.body.error.target).toBe('scope.colour');
    expectOntapError(await t.api.post(base, { name: 'p', scope: { max_file_size: 4096 }, 'scope.max_file_size': 4096 }), 400, '2');
    expectOntapError(await t.api.get(`${base}?colour=red`), 400, '2');
    expectOntapError(await t.api.get(`${base}?max_records=-1`), 400, '2');
    expect((await t.api.get(`${base}?fields=*`)).body.num_records).toBe(1);
  });

  it('a method a known path does not take is 405 code 3 with Allow', async () => {
    const r = await t.api.raw('PUT', '/api/cluster');
    expectOntapError(r, 405, '3');
    expect(r.headers['allow']).toBe('GET');
    const d = await t.api.del(`/api/protocols/vscan/${t.uuid}/on-access-policies`);
    expectOntapError(d, 405, '3');
    expect(String(d.headers['allow']).split(', ').sort()).toEqual(['GET', 'POST']);
    expectOntapError(await t.api.raw('PUT', '/api/cluster', { auth: null }), 401, '6');
  });

  it('unknown routes and SVMs are 404 code 4', async () => {
    expectOntapError(await t.api.get('/api/storage/volumes'), 404, '4');
    expectOntapError(await t.api.get('/api/protocols/vscan/not-a-uuid/scanner-pools'), 404, '4');
    expectOntapError(await t.api.get(`/api/protocols/vscan/${t.uuid}/scanner-pools/none`), 404, '4');
  });
});
