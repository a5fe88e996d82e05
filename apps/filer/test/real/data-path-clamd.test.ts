// The data path with a real clamd as the SVM's scanner server: HTTPS requests, the engine, real files,
// and the failure policy when clamd is killed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPathExtension } from '../../src/index.js';
import { kEicar, kMarker, requireBinary, startClamd, type ClamdHandle } from '../../../../test/support/index.js';
import { startTestServer, type TestServer } from '../support/https.js';

const available = requireBinary('clamd');
let clamd: ClamdHandle;
let srv: TestServer;

describe.skipIf(!available)('data path → real clamd', () => {
  beforeAll(async () => {
    clamd = await startClamd();
    srv = await startTestServer([{
      name: 'vs1', volumes: [{ name: 'vol1' }], policy: { name: 'p1', mandatory: true },
      scanner_pools: [{ name: 'p1', servers: [`clamd+unix://${clamd.socketPath}`] }],
      dispatcher: { request_timeout: 2, scan_queue_timeout: 2, session_setup_timeout: 1, session_retry_interval: 0.05, max_session_setup_retries: 1 },
    }], [dataPathExtension()]);
  });
  afterAll(async () => {
    await srv?.close();
    await clamd?.stop();
  });

  it('denies EICAR written through the share, allows a clean file, scans on request, denies when clamd is gone', async () => {
    expect((await srv.call('PUT', '/data/vs1/vol1/in/eicar.com', kEicar)).status).toBe(201);
    expect((await srv.call('POST', '/data/vs1/vol1/in/eicar.com?op=close&wrote=1')).json.reason).toBe('scan-queued');
    await srv.rt.engine('vs1').drain();
    const denied = await srv.call('GET', '/data/vs1/vol1/in/eicar.com?op=open');
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'STATUS_ACCESS_DENIED', reason: 'quarantined' });
    expect((await srv.rt.store.queryEvents({ type: 'file.infected' })).records[0]?.details).toMatchObject({ threats: [expect.stringMatching(/eicar/i)] });

    await srv.call('PUT', '/data/vs1/vol1/docs/clean.txt', `harmless ${Date.now()}`);
    expect((await srv.call('GET', '/data/vs1/vol1/docs/clean.txt?op=open')).json).toMatchObject({ allow: true, reason: 'clean' });
    await srv.call('PUT', '/data/vs1/vol1/docs/marked.txt', `x ${kMarker} y`);
    const scan = await srv.call('POST', '/data/vs1/vol1/docs/marked.txt?op=scan');
    expect(scan.json).toMatchObject({ result: 'infected', allow: false });

    await clamd.stop();
    await srv.call('PUT', '/data/vs1/vol1/docs/late.txt', 'late');
    const failed = await srv.call('GET', '/data/vs1/vol1/docs/late.txt?op=open');
    expect(failed.status).toBe(403);
    expect(failed.json.error.reason).toBe('failure-deny');
  });
});
