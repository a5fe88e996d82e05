// The seam the data path, watcher and clamd front door plug into: an extension's routes live inside
// the authenticated scope with ONTAP's error shape; its service starts after the server listens and
// is closed before the runtime.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilerExtension, FilerRuntime } from '../src/index.js';
import { FilerError, FilerErrorCodes } from '../src/index.js';
import { expectOntapError, startTestFiler, type TestFiler } from './helpers/filer.js';

const log: string[] = [];
let seen: FilerRuntime | undefined;
const ext: FilerExtension = {
  name: 'probe',
  async routes(app, rt) {
    app.get('/data/:svm/probe', async (req) => {
      const svm = (req.params as { svm: string }).svm;
      if (rt.svm(svm) === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no svm \`${svm}\``, 'svm');
      return { svm, volumes: rt.volumes(svm).map((v) => v.name) };
    });
  },
  async start(rt) {
    seen = rt;
    log.push('start');
    return { close: async () => void log.push(`close (store open: ${(await rt.store.countAttributes()) >= 0})`) };
  },
};

let t: TestFiler;
beforeAll(async () => {
  t = await startTestFiler({ extensions: [ext] });
});
afterAll(async () => {
  await t?.close();
});

describe('extensions', () => {
  it('routes answer behind Basic auth; FilerErrors become ONTAP errors', async () => {
    expect((await t.api.get('/data/vs1/probe')).body).toEqual({ svm: 'vs1', volumes: ['vol1', 'vol_ro'] });
    expectOntapError(await t.api.raw('GET', '/data/vs1/probe', { auth: null }), 401, '6');
    expectOntapError(await t.api.get('/data/vs9/probe'), 404, '4');
  });

  it('the service got the runtime and is closed before the runtime', async () => {
    expect(seen).toBe(t.filer.runtime);
    expect(log).toEqual(['start']);
    await t.filer.close();
    expect(log).toEqual(['start', 'close (store open: true)']);
  });
});
